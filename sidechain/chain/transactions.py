"""Ethereum transactions as wallets send them: legacy (EIP-155), EIP-2930 (type 1), EIP-1559 (type 2).

`decode_transaction(raw, chain_id)` turns the bytes of `eth_sendRawTransaction` into a
`Transaction` with its sender recovered, or raises the `InvalidTransaction` subclass of the first
rule it breaks; `decode_transactions` does a batch (a gossip message, a fetched block body).
Decoding happens once per node: the result keeps the raw bytes, the hash and the sender, so
nothing downstream re-encodes or re-recovers.

The parse and the recovery run natively (sidechain/evm/src/transactions.rs, the GIL released):
half the CPU of this module's Python (40 us against 78 per EIP-1559 transfer on one core of the
project's machine, recovery included). The native decoder accepts exactly what
the Python one here does and answers None for anything else, which the Python decoder then
rejects with the rule's name: the rules' wording lives here alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import rlp
from rlp.exceptions import DecodingError

from ..crypto import keccak256, recover_address
from ..evm import decode_transactions as _decode_natively
from .codec import encode_items, uint
from ..errors import (
    GasLimitExceeded,
    InitcodeTooLarge,
    IntrinsicGasTooLow,
    InvalidTransaction,
    MalformedTransaction,
    OversizedTransaction,
    TipAboveFeeCap,
    UnsupportedTransactionType,
    WrongChainId,
)

MAX_TX_SIZE = 128 * 1024
"""Largest encoded transaction accepted (go-ethereum's txMaxSize)."""

TX_GAS = 21_000
TX_CREATE_GAS = 32_000
"""What a contract-creation transaction pays on top of TX_GAS (EIP-2)."""
INITCODE_WORD_GAS = 2
MAX_INITCODE_SIZE = 2 * 24_576
"""EIP-3860: initcode is at most twice the EIP-170 code size limit, and costs 2 gas per word."""
TX_DATA_ZERO_GAS = 4
TX_DATA_NON_ZERO_GAS = 16
TX_ACCESS_LIST_ADDRESS_GAS = 2_400
TX_ACCESS_LIST_STORAGE_KEY_GAS = 1_900

LEGACY_TX = 0
ACCESS_LIST_TX = 1
DYNAMIC_FEE_TX = 2

_UINT256_MAX = 2**256 - 1
_UINT64_MAX = 2**64 - 1

AccessList = tuple[tuple[bytes, tuple[bytes, ...]], ...]


@dataclass(frozen=True, slots=True)
class Transaction:
    """A decoded, signature-checked transaction. Legacy and type-1 set both fee fields to gasPrice."""

    tx_type: int
    """0 legacy, 1 EIP-2930, 2 EIP-1559."""
    chain_id: int
    nonce: int
    max_priority_fee_per_gas: int
    """The tip cap; gasPrice for legacy and type-1 transactions."""
    max_fee_per_gas: int
    """The fee cap; gasPrice for legacy and type-1 transactions."""
    gas: int
    """The gas limit."""
    to: bytes | None
    """20-byte recipient; None creates a contract from `data` (the initcode)."""
    value: int
    data: bytes
    access_list: AccessList
    v: int
    """As signed: y-parity for typed transactions, chain_id * 2 + 35 + y-parity for legacy."""
    r: int
    s: int
    sender: bytes
    """20-byte address recovered from the signature."""
    hash: bytes
    """keccak256 of the canonical encoding (the transaction hash wallets show)."""
    raw: bytes
    """The canonical encoding: RLP for legacy, type byte + RLP payload for typed transactions."""

    @property
    def y_parity(self) -> int:
        if self.tx_type == LEGACY_TX:
            return self.v - 27 if self.v in (27, 28) else (self.v - 35) % 2
        return self.v

    @property
    def protected(self) -> bool:
        """Signed for one chain (EIP-155, or any typed transaction); False for a pre-EIP-155 legacy one."""
        return self.tx_type != LEGACY_TX or self.v >= 35

    @property
    def gas_price(self) -> int:
        """gasPrice as a legacy transaction states it (the fee cap for EIP-1559)."""
        return self.max_fee_per_gas

    @property
    def upfront_cost(self) -> int:
        """gas * maxFeePerGas + value: what the balance must cover before the transaction runs
        (go-ethereum's tx.Cost()); the pool admits and the proposer selects by it."""
        return self.gas * self.max_fee_per_gas + self.value

    def effective_tip(self, base_fee: int) -> int:
        """What the proposer earns per gas at this base fee (negative if the cap is below it)."""
        return min(self.max_priority_fee_per_gas, self.max_fee_per_gas - base_fee)

    def effective_gas_price(self, base_fee: int) -> int:
        """What the sender pays per gas at this base fee."""
        return base_fee + self.effective_tip(base_fee)


def intrinsic_gas(data: bytes, access_list: AccessList = (), *, create: bool = False) -> int:
    """Gas charged before execution: 21,000 + calldata + access list (Yellow Paper, EIP-2028,
    EIP-2930), and for a contract creation 32,000 + 2 per initcode word (EIP-2, EIP-3860)."""
    zeros = data.count(0)
    gas = TX_GAS + zeros * TX_DATA_ZERO_GAS + (len(data) - zeros) * TX_DATA_NON_ZERO_GAS
    if create:
        gas += TX_CREATE_GAS + INITCODE_WORD_GAS * ((len(data) + 31) // 32)
    for _, keys in access_list:
        gas += TX_ACCESS_LIST_ADDRESS_GAS + len(keys) * TX_ACCESS_LIST_STORAGE_KEY_GAS
    return gas


def create_address(sender: bytes, nonce: int) -> bytes:
    """Where a creation by `sender` at `nonce` deploys: keccak(rlp([sender, nonce]))[12:]."""
    return keccak256(encode_items([sender, uint(nonce)]))[12:]


def decode_transaction(
    raw: bytes, chain_id: int, block_gas_limit: int | None = None, *, sender: bytes | None = None
) -> Transaction:
    """Decode and check everything that does not depend on state; recover the sender.

    Raises the InvalidTransaction subclass of the first broken rule: size, encoding, type,
    chain id, initcode size, fee fields, gas limits, signature. `sender` is for bytes this node
    already verified (its own store): recovery, the costliest step, is then skipped.
    """
    if sender is None:
        fields = _decode_natively([raw], chain_id)[0]
        if fields is not None:
            tx = Transaction(*fields, raw)
            _check_fields(tx, block_gas_limit)
            return tx
    return _decode_in_python(raw, chain_id, block_gas_limit, sender)


def decode_transactions(raws: list[bytes], chain_id: int, block_gas_limit: int | None = None) -> Iterator[Transaction | InvalidTransaction]:
    """`decode_transaction` of each of `raws`, in order, from one native pass; in the place of a
    transaction that breaks a rule, the InvalidTransaction it raised. The Python decoder names a
    rule only when its transaction is reached, so a caller stopping at the first error pays once."""
    for raw, fields in zip(raws, _decode_natively(raws, chain_id)):
        try:
            if fields is None:
                yield _decode_in_python(raw, chain_id, block_gas_limit, None)
                continue
            tx = Transaction(*fields, raw)
            _check_fields(tx, block_gas_limit)
        except InvalidTransaction as exc:
            yield exc
            continue
        yield tx


def _decode_in_python(raw: bytes, chain_id: int, block_gas_limit: int | None, sender: bytes | None) -> Transaction:
    if len(raw) > MAX_TX_SIZE:
        raise OversizedTransaction(f"oversized data: transaction size {len(raw)}, limit {MAX_TX_SIZE}")
    if not raw:
        raise MalformedTransaction("malformed transaction: empty input")
    if raw[0] >= 0xC0:
        tx = _decode_legacy(raw, chain_id, sender)
    elif raw[0] in (ACCESS_LIST_TX, DYNAMIC_FEE_TX):
        tx = _decode_typed(raw, chain_id, sender)
    elif raw[0] <= 0x7F:
        raise UnsupportedTransactionType(f"transaction type not supported: 0x{raw[0]:02x} (supported: 0x0, 0x1, 0x2)")
    else:
        raise MalformedTransaction("malformed transaction: not an RLP list nor a typed envelope")
    _check_fields(tx, block_gas_limit)
    return tx


def _rlp_list(payload: bytes, verified: bool) -> list:
    try:
        items = rlp.decode(payload, strict=True)
    except (DecodingError, Exception) as exc:
        raise MalformedTransaction(f"malformed transaction: invalid RLP ({exc})") from None
    if not isinstance(items, list):
        raise MalformedTransaction("malformed transaction: RLP payload is not a list")
    if not verified and rlp.encode(items) != payload:
        # pyrlp lets an item inside a nested list run past that list's end; the signed payload is
        # then not what was sent (the native decoder refuses these too)
        raise MalformedTransaction("malformed transaction: invalid RLP (not canonical: an item overruns its list)")
    return items


def _uint(item: object, name: str, limit: int = _UINT256_MAX) -> int:
    if not isinstance(item, bytes):
        raise MalformedTransaction(f"malformed transaction: field {name} must be a byte string")
    if len(item) > 32 or (item[:1] == b"\x00"):
        raise MalformedTransaction(f"malformed transaction: field {name} is not a canonical integer")
    value = int.from_bytes(item, "big")
    if value > limit:
        raise MalformedTransaction(f"malformed transaction: field {name} is out of range")
    return value


def _bytes(item: object, name: str) -> bytes:
    if not isinstance(item, bytes):
        raise MalformedTransaction(f"malformed transaction: field {name} must be a byte string")
    return item


def _recipient(item: object) -> bytes | None:
    to = _bytes(item, "to")
    if to == b"":
        return None
    if len(to) != 20:
        raise MalformedTransaction(f"malformed transaction: field to must be 20 bytes, got {len(to)}")
    return to


def _access_list(item: object) -> AccessList:
    if not isinstance(item, list):
        raise MalformedTransaction("malformed transaction: access list must be a list")
    entries = []
    for entry in item:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
            raise MalformedTransaction("malformed transaction: access list entry must be [address, [keys]]")
        address = _bytes(entry[0], "accessList.address")
        keys = tuple(_bytes(k, "accessList.storageKey") for k in entry[1])
        if len(address) != 20 or any(len(k) != 32 for k in keys):
            raise MalformedTransaction("malformed transaction: access list holds a bad address or storage key")
        entries.append((address, keys))
    return tuple(entries)


def _decode_legacy(raw: bytes, chain_id: int, sender: bytes | None) -> Transaction:
    items = _rlp_list(raw, sender is not None)
    if len(items) != 9:
        raise MalformedTransaction(f"malformed transaction: legacy transaction has 9 fields, got {len(items)}")
    nonce = _uint(items[0], "nonce", _UINT64_MAX)
    gas_price = _uint(items[1], "gasPrice")
    gas = _uint(items[2], "gas", _UINT64_MAX)
    to = _recipient(items[3])
    value = _uint(items[4], "value")
    data = _bytes(items[5], "data")
    v, r, s = _uint(items[6], "v"), _uint(items[7], "r"), _uint(items[8], "s")
    if v in (27, 28):
        # Pre-EIP-155: valid on any chain (the deterministic deployment proxy's own deployment is
        # one); the RPC refuses them unless the operator allows them, as go-ethereum does.
        if sender is None:
            sender = recover_address(keccak256(encode_items(items[:6])), v - 27, r, s)
        return Transaction(LEGACY_TX, chain_id, nonce, gas_price, gas_price, gas, to, value, data, (), v, r, s,
                           sender, keccak256(raw), raw)
    if v < 35:
        raise MalformedTransaction(f"malformed transaction: invalid v value {v}")
    signed_chain_id = (v - 35) // 2
    if signed_chain_id != chain_id:
        raise WrongChainId.of(chain_id, signed_chain_id)
    if sender is None:
        unsigned = encode_items(items[:6] + [uint(chain_id), b"", b""])
        sender = recover_address(keccak256(unsigned), (v - 35) % 2, r, s)
    return Transaction(
        LEGACY_TX, chain_id, nonce, gas_price, gas_price, gas, to, value, data, (), v, r, s,
        sender, keccak256(raw), raw,
    )


def _decode_typed(raw: bytes, chain_id: int, sender: bytes | None) -> Transaction:
    tx_type = raw[0]
    items = _rlp_list(raw[1:], sender is not None)
    expected_fields = 11 if tx_type == ACCESS_LIST_TX else 12
    if len(items) != expected_fields:
        raise MalformedTransaction(
            f"malformed transaction: type {tx_type} transaction has {expected_fields} fields, got {len(items)}"
        )
    signed_chain_id = _uint(items[0], "chainId")
    if signed_chain_id != chain_id:
        raise WrongChainId.of(chain_id, signed_chain_id)
    nonce = _uint(items[1], "nonce", _UINT64_MAX)
    if tx_type == ACCESS_LIST_TX:
        tip = cap = _uint(items[2], "gasPrice")
        rest = items[3:]
    else:
        tip = _uint(items[2], "maxPriorityFeePerGas")
        cap = _uint(items[3], "maxFeePerGas")
        rest = items[4:]
    gas = _uint(rest[0], "gas", _UINT64_MAX)
    to = _recipient(rest[1])
    value = _uint(rest[2], "value")
    data = _bytes(rest[3], "data")
    access_list = _access_list(rest[4])
    y_parity, r, s = _uint(rest[5], "yParity"), _uint(rest[6], "r"), _uint(rest[7], "s")
    if sender is None:
        unsigned = bytes([tx_type]) + encode_items(items[:-3])
        sender = recover_address(keccak256(unsigned), y_parity, r, s)
    return Transaction(
        tx_type, chain_id, nonce, tip, cap, gas, to, value, data, access_list, y_parity, r, s,
        sender, keccak256(raw), raw,
    )


def _check_fields(tx: Transaction, block_gas_limit: int | None) -> None:
    if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
        raise TipAboveFeeCap.of(tx.sender, tx.max_priority_fee_per_gas, tx.max_fee_per_gas)
    if tx.to is None and len(tx.data) > MAX_INITCODE_SIZE:
        raise InitcodeTooLarge.of(len(tx.data), MAX_INITCODE_SIZE)
    needed = intrinsic_gas(tx.data, tx.access_list, create=tx.to is None)
    if tx.gas < needed:
        raise IntrinsicGasTooLow.of(tx.gas, needed)
    if block_gas_limit is not None and tx.gas > block_gas_limit:
        raise GasLimitExceeded(f"exceeds block gas limit: gas {tx.gas}, block gas limit {block_gas_limit}")
