"""Hex at the edge: JSON-RPC parameters in, typed values out, and back.

Each parser takes one decoded JSON value and returns a typed value, or raises `BadParam` saying
what it expected and what it got; the dispatcher adds which argument it was. Quantities follow
Ethereum's JSON-RPC encoding (`0x`-prefixed, no leading zeros, `0x0` for zero); data is
`0x`-prefixed hex of whole bytes. Results go out the same way: `hex(n)` for quantities, `0x` +
lowercase hex for data and addresses (as go-ethereum does; clients checksum them).

A block identifier is `int` (a number), `str` (a tag) or `bytes` (a 32-byte block hash, from a
bare hash or an EIP-1898 `{"blockHash": ..}` object).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..chain.transactions import AccessList
from .errors import BadParam

TAGS = frozenset(("latest", "earliest", "pending", "safe", "finalized"))
"""Block tags. Committed blocks are final, so all but `earliest` mean the head."""

BlockId = int | str | bytes

MAX_TOPIC_POSITIONS = 4
MAX_PERCENTILES = 100

_UINT64_MAX = 2**64 - 1
_UINT256_MAX = 2**256 - 1


def _show(value: object) -> str:
    """A short rendering of a bad value for an error message (never echo a megabyte back)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expected(what: str, value: object) -> BadParam:
    return BadParam(f"expected {what}, got {_show(value)}")


# --- scalars ------------------------------------------------------------------------------------


def quantity(value: object, limit: int = _UINT256_MAX) -> int:
    """A `0x`-prefixed hex quantity without leading zeros."""
    if type(value) is not str or value[:2] not in ("0x", "0X"):
        raise _expected("a 0x-prefixed hex quantity", value)
    digits = value[2:]
    if not digits or (len(digits) > 1 and digits[0] == "0"):
        raise _expected("a hex quantity without leading zeros (0x0 for zero)", value)
    try:
        number = int(digits, 16)
    except ValueError:
        raise _expected("a hex quantity", value) from None
    if number > limit:
        raise _expected(f"a quantity at most {hex(limit)}", value)
    return number


def uint64(value: object) -> int:
    return quantity(value, _UINT64_MAX)


def count(value: object) -> int:
    """A count given as a hex quantity, a decimal string or a JSON integer (go-ethereum's
    HexOrDecimal64, which eth_feeHistory's blockCount uses)."""
    if type(value) is int and 0 <= value <= _UINT64_MAX:
        return value
    if type(value) is str and value.isdecimal():
        return int(value)
    try:
        return uint64(value)
    except BadParam:
        raise _expected("a block count (hex quantity or integer)", value) from None


def data(value: object) -> bytes:
    """`0x`-prefixed hex of any number of whole bytes."""
    if type(value) is not str or value[:2] not in ("0x", "0X"):
        raise _expected("0x-prefixed hex data", value)
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise _expected("0x-prefixed hex data of whole bytes", value) from None


def fixed_data(width: int, what: str):
    """A parser for data of exactly `width` bytes."""

    def parse(value: object) -> bytes:
        try:
            raw = data(value)
        except BadParam:
            raise _expected(what, value) from None
        if len(raw) != width:
            raise _expected(what, value)
        return raw

    parse.__name__ = what
    return parse


address = fixed_data(20, "a 20-byte address as 0x-prefixed hex")
hash32 = fixed_data(32, "a 32-byte hash as 0x-prefixed hex")


def storage_key(value: object) -> bytes:
    """A storage slot: hex of at most 32 bytes (odd length allowed), returned left-padded to 32."""
    if type(value) is not str or value[:2] not in ("0x", "0X") or not 2 < len(value) <= 66:
        raise _expected("a storage key of at most 32 bytes as 0x-prefixed hex", value)
    try:
        return int(value[2:], 16).to_bytes(32, "big")
    except ValueError:
        raise _expected("a storage key as 0x-prefixed hex", value) from None


def boolean(value: object) -> bool:
    if type(value) is not bool:
        raise _expected("true or false", value)
    return value


def string(value: object) -> str:
    if type(value) is not str:
        raise _expected("a string", value)
    return value


def anything(value: object) -> object:
    return value


def list_of(parse, what: str):
    """A parser for a JSON array whose every item `parse` accepts."""

    def parse_list(value: object) -> tuple:
        if type(value) is not list:
            raise _expected(f"an array of {what}", value)
        return tuple(parse(item) for item in value)

    return parse_list


# --- block identifiers --------------------------------------------------------------------------


def block_number(value: object) -> int | str:
    """A block number or tag (no hash): eth_getBlockByNumber and friends."""
    if type(value) is str and value in TAGS:
        return value
    try:
        return uint64(value)
    except BadParam:
        raise _expected("a block number (hex quantity) or one of latest, earliest, pending, safe, finalized", value) from None


def block_id(value: object) -> BlockId:
    """A block number, tag, 32-byte block hash, or EIP-1898 object."""
    if type(value) is dict:
        return _block_object(value)
    if type(value) is str and len(value) == 66:
        return hash32(value)
    return block_number(value)


def _block_object(value: dict) -> BlockId:
    if "blockHash" in value and "blockNumber" in value:
        raise _expected("an EIP-1898 object with blockHash or blockNumber, not both", value)
    if "blockHash" in value:
        canonical = value.get("requireCanonical", False)
        if type(canonical) is not bool:
            raise _expected("requireCanonical as true or false", value)
        # Every stored block is final and canonical, so requireCanonical needs no further check.
        return hash32(value["blockHash"])
    if "blockNumber" in value:
        return block_number(value["blockNumber"])
    raise _expected('an EIP-1898 object {"blockHash": ..} or {"blockNumber": ..}', value)


# --- composite objects --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallArgs:
    """The transaction-shaped object of eth_call and eth_estimateGas."""

    sender: bytes | None = None
    to: bytes | None = None
    gas: int | None = None
    gas_price: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    value: int = 0
    data: bytes = b""
    access_list: AccessList = ()
    nonce: int | None = None


def access_list(value: object) -> AccessList:
    if type(value) is not list:
        raise _expected("an access list (array of {address, storageKeys})", value)
    entries = []
    for entry in value:
        if type(entry) is not dict or "address" not in entry:
            raise _expected("an access list entry {address, storageKeys}", entry)
        keys = entry.get("storageKeys") or []
        if type(keys) is not list:
            raise _expected("storageKeys as an array", keys)
        entries.append((address(entry["address"]), tuple(hash32(k) for k in keys)))
    return tuple(entries)


def call_args(value: object) -> CallArgs:
    """Known fields are checked; unknown ones (chainId, type, ...) are ignored, as go-ethereum does."""
    if type(value) is not dict:
        raise _expected("a transaction call object", value)

    def field(name: str, parse):
        raw = value.get(name)
        if raw is None:
            return None
        try:
            return parse(raw)
        except BadParam as exc:
            raise BadParam(f"field {name}: {exc}") from None

    payload = field("input", data)
    legacy_payload = field("data", data)
    if payload is not None and legacy_payload is not None and payload != legacy_payload:
        raise BadParam('both "data" and "input" are set and not equal; use "input"')
    return CallArgs(
        sender=field("from", address),
        to=field("to", address),
        gas=field("gas", uint64),
        gas_price=field("gasPrice", quantity),
        max_fee_per_gas=field("maxFeePerGas", quantity),
        max_priority_fee_per_gas=field("maxPriorityFeePerGas", quantity),
        value=field("value", quantity) or 0,
        data=payload if payload is not None else (legacy_payload or b""),
        access_list=field("accessList", access_list) or (),
        nonce=field("nonce", uint64),
    )


def percentiles(value: object) -> tuple[float, ...]:
    """eth_feeHistory's rewardPercentiles: numbers in [0, 100], non-decreasing."""
    if type(value) is not list or len(value) > MAX_PERCENTILES:
        raise _expected(f"an array of at most {MAX_PERCENTILES} percentiles", value)
    result: list[float] = []
    for p in value:
        if type(p) not in (int, float) or not 0 <= p <= 100:
            raise _expected("percentiles between 0 and 100", value)
        if result and p < result[-1]:
            raise _expected("percentiles in non-decreasing order", value)
        result.append(float(p))
    return tuple(result)


def addresses(value: object) -> frozenset[bytes] | None:
    """A log filter's address: one address or an array of them (None: any)."""
    if value is None:
        return None
    if type(value) is list:
        return frozenset(address(a) for a in value)
    return frozenset((address(value),))


def topics(value: object) -> tuple[frozenset[bytes] | None, ...]:
    """A log filter's topics: per position null (any), a topic, or an array of topics (any of)."""
    if value is None:
        return ()
    if type(value) is not list or len(value) > MAX_TOPIC_POSITIONS:
        raise _expected(f"topics as an array of at most {MAX_TOPIC_POSITIONS} positions", value)
    positions: list[frozenset[bytes] | None] = []
    for position in value:
        if position is None:
            positions.append(None)
        elif type(position) is list:
            # A null inside an OR-list makes the position a wildcard (go-ethereum's reading).
            positions.append(None if None in position else frozenset(hash32(t) for t in position))
        else:
            positions.append(frozenset((hash32(position),)))
    while positions and positions[-1] is None:
        positions.pop()
    return tuple(positions)


@dataclass(frozen=True, slots=True)
class LogQuery:
    """eth_getLogs' filter object: a range (or one block hash), addresses and topics."""

    from_block: int | str = "latest"
    to_block: int | str = "latest"
    block_hash: bytes | None = None
    addresses: frozenset[bytes] | None = None
    topics: tuple[frozenset[bytes] | None, ...] = ()


def log_query(value: object) -> LogQuery:
    if type(value) is not dict:
        raise _expected("a filter object {fromBlock, toBlock, blockHash, address, topics}", value)
    block_hash = value.get("blockHash")
    if block_hash is not None and (value.get("fromBlock") is not None or value.get("toBlock") is not None):
        raise BadParam("cannot specify both blockHash and fromBlock/toBlock, choose one or the other")
    try:
        return LogQuery(
            from_block=block_number(value["fromBlock"]) if value.get("fromBlock") is not None else "latest",
            to_block=block_number(value["toBlock"]) if value.get("toBlock") is not None else "latest",
            block_hash=hash32(block_hash) if block_hash is not None else None,
            addresses=addresses(value.get("address")),
            topics=topics(value.get("topics")),
        )
    except BadParam as exc:
        raise BadParam(f"filter: {exc}") from None


# --- results ------------------------------------------------------------------------------------


def hex_data(value: bytes) -> str:
    return "0x" + value.hex()


hex_quantity = hex
"""`hex(n)` is already Ethereum's quantity encoding: minimal digits, `0x0` for zero."""
