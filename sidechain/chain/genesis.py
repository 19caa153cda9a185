"""The genesis configuration: parsed from JSON and validated, field by field, before anything runs.

Pure: JSON in, frozen dataclasses out. Building the genesis state (accounts, state root, block 0)
from a `GenesisConfig` happens elsewhere.

The JSON is camelCase (see `genesis/devnet.json`). Integers may be JSON numbers, decimal strings
or 0x-hex strings, because wei amounts exceed the 2**53 precision of JavaScript numbers. Every
error is a `GenesisError` whose message names the field by its path (`validators[1].address`) and
says what was expected and what was got. Unknown fields are rejected, so a typo cannot silently
fall back to a default.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import is_checksum_address, to_checksum_address

from ..crypto import keccak256
from ..errors import GenesisError, mismatch
from .blocks import ETHEREUM_MAX_EXTRA_DATA
from .system.bridge import BRIDGE_ADDRESS

MAX_INT64 = 2**63 - 1
MAX_UINT256 = 2**256 - 1
MAX_JSON_SAFE_INT = 2**53 - 1
"""Above this, `genesis_to_json` writes integers as decimal strings (JavaScript precision)."""

_BOUND_NAMES = {MAX_INT64: "2**63-1", MAX_UINT256: "2**256-1"}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL = re.compile(r"[0-9]+")
_HEX_INT = re.compile(r"0x[0-9a-fA-F]+")
_HEX_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


@dataclass(frozen=True, slots=True)
class ValidatorInfo:
    """A member of the genesis validator set."""

    address: bytes
    """20-byte address the validator signs votes and proposals with."""
    power: int
    """Voting power, >= 1."""


@dataclass(frozen=True, slots=True)
class GenesisConfig:
    """A validated genesis file. Build it with `parse_genesis` / `load_genesis`, which check it."""

    chain_id: int
    """EIP-155 chain id, 1..2**63-1; every signing domain includes it."""
    timestamp: int
    """Unix seconds of block 0, >= 0."""
    block_time_ms: int
    """Target block interval in milliseconds, 50..60000."""
    gas_limit: int
    """Block gas limit, 21000..2**63-1."""
    base_fee: int
    """Base fee of block 1 in wei, and the floor the base fee never drops below; >= 0."""
    validators: tuple[ValidatorInfo, ...]
    """The genesis validator set, non-empty, distinct addresses, in file order."""
    alloc: tuple[tuple[bytes, int], ...]
    """(address, balance in wei) pairs, distinct addresses, sorted by address."""
    checkpoint_interval: int
    """K: blocks between checkpoints submitted to L1, >= 1."""
    extra_data: bytes = b""
    """Free bytes for block 0's header, at most 32."""
    description: str = ""
    """Human note (e.g. "public dev keys"); not part of `hash()`, since it does not change the chain."""

    def hash(self) -> bytes:
        """keccak256 of `canonical_genesis_json(self)`: nodes compare it to know they share a genesis."""
        return keccak256(canonical_genesis_json(self))


# --- JSON in ------------------------------------------------------------------------------------

_KNOWN = (
    "description", "chainId", "timestamp", "blockTimeMs", "gasLimit", "baseFeePerGas", "checkpointInterval",
    "extraData", "validators", "alloc",
)
_REQUIRED = ("chainId", "blockTimeMs", "gasLimit", "baseFeePerGas", "checkpointInterval", "validators")
"""Optional: description (""), timestamp (0), extraData ("0x"), alloc ({})."""


def load_genesis(path: str | os.PathLike) -> GenesisConfig:
    """Read and validate a genesis JSON file; every error message starts with the file name."""
    where = f"genesis file {str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GenesisError(f"{where}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise GenesisError(f"{where}: not valid JSON (not UTF-8 text)") from None
    try:
        obj = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise GenesisError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except GenesisError as exc:
        raise GenesisError(f"{where}: {exc}") from None
    try:
        return parse_genesis(obj)
    except GenesisError as exc:
        raise GenesisError(f"{where}: {exc}") from None


def parse_genesis(obj: dict) -> GenesisConfig:
    """Validate a decoded genesis JSON object; raises GenesisError naming the first bad field."""
    if not isinstance(obj, dict):
        raise GenesisError(mismatch("genesis", expected="a JSON object", got=_type_name(obj)))
    _check_keys(obj, "", _KNOWN, _REQUIRED)
    description = obj.get("description", "")
    if not isinstance(description, str):
        raise _bad("description", "a string", description)
    extra_data = _parse_bytes(obj.get("extraData", "0x"), "extraData", ETHEREUM_MAX_EXTRA_DATA)
    return GenesisConfig(
        chain_id=_parse_int(obj["chainId"], "chainId", 1, MAX_INT64),
        timestamp=_parse_int(obj.get("timestamp", 0), "timestamp", 0, MAX_INT64),
        block_time_ms=_parse_int(obj["blockTimeMs"], "blockTimeMs", 50, 60_000),
        gas_limit=_parse_int(obj["gasLimit"], "gasLimit", 21_000, MAX_INT64),
        base_fee=_parse_int(obj["baseFeePerGas"], "baseFeePerGas", 0, MAX_UINT256),
        validators=_parse_validators(obj["validators"]),
        alloc=_parse_alloc(obj.get("alloc", {})),
        checkpoint_interval=_parse_int(obj["checkpointInterval"], "checkpointInterval", 1, MAX_INT64),
        extra_data=extra_data,
        description=description,
    )


def _parse_validators(value: Any) -> tuple[ValidatorInfo, ...]:
    if not isinstance(value, list) or not value:
        raise _bad("validators", "a non-empty list of {address, power} objects", value)
    seen: dict[bytes, int] = {}
    validators = []
    for i, entry in enumerate(value):
        path = f"validators[{i}]"
        if not isinstance(entry, dict):
            raise _bad(path, "an object with 'address' and 'power'", entry)
        _check_keys(entry, f"{path}.", ("address", "power"), ("address", "power"))
        address = _parse_address(entry["address"], f"{path}.address")
        if address in seen:
            expected = f"an address not already listed (validators[{seen[address]}])"
            raise _bad(f"{path}.address", expected, entry["address"])
        seen[address] = i
        validators.append(ValidatorInfo(address, _parse_int(entry["power"], f"{path}.power", 1, MAX_INT64)))
    total = sum(v.power for v in validators)
    if total > MAX_INT64:
        raise GenesisError(mismatch("genesis field 'validators'", expected="a total power <= 2**63-1", got=total))
    return tuple(validators)


def _parse_alloc(value: Any) -> tuple[tuple[bytes, int], ...]:
    if not isinstance(value, dict):
        raise _bad("alloc", "an object mapping addresses to {balance}", value)
    balances: dict[bytes, int] = {}
    spelled: dict[bytes, str] = {}
    for key, entry in value.items():
        path = f"alloc[{key}]"
        address = _parse_address(key, path)
        if address in balances:
            raise _bad(path, f"an address not already listed (same as alloc[{spelled[address]}])", key)
        if address == BRIDGE_ADDRESS:
            raise _bad(path, "an address other than the bridge contract's (it holds the native coin's reserve)", key)
        if not isinstance(entry, dict):
            raise _bad(path, "an object with 'balance'", entry)
        _check_keys(entry, f"{path}.", ("balance",), ("balance",))
        balances[address] = _parse_int(entry["balance"], f"{path}.balance", 0, MAX_UINT256)
        spelled[address] = key
    total = sum(balances.values())
    if total > MAX_UINT256:
        raise GenesisError(mismatch("genesis field 'alloc'", expected="a total balance <= 2**256-1", got=total))
    return tuple(sorted(balances.items()))


def _check_keys(obj: dict, prefix: str, known: tuple[str, ...], required: tuple[str, ...]) -> None:
    """Reject unknown keys (suggesting the nearest known one) and name the first missing key."""
    for key in obj:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise GenesisError(f"genesis field '{prefix}{key}': unknown field (known: {', '.join(known)}){hint}")
    for key in required:
        if key not in obj:
            raise GenesisError(f"genesis field '{prefix}{key}': required field is missing")


def _parse_int(value: Any, path: str, low: int, high: int) -> int:
    """A JSON number, a decimal string or a 0x-hex string, within [low, high]."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and (_DECIMAL.fullmatch(value) or _HEX_INT.fullmatch(value)):
        try:
            number = int(value, 0) if value.startswith("0x") else int(value, 10)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            raise _bad(path, f"an integer {_range(low, high)}", value) from None
    else:
        raise _bad(path, f"an integer {_range(low, high)} (a JSON number, decimal string or 0x-hex string)", value)
    if number < low:
        raise _bad(path, f"an integer >= {_bound(low)}", value)
    if number > high:
        raise _bad(path, f"an integer <= {_bound(high)}", value)
    return number


def _parse_address(value: Any, path: str) -> bytes:
    """Any case; a mixed-case address must carry a valid EIP-55 checksum."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise _bad(path, "a 0x-prefixed 20-byte hex address", value)
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(value):
        raise _bad(path, "a mixed-case address with a valid EIP-55 checksum (or all one case)", value)
    return bytes.fromhex(digits)


def _parse_bytes(value: Any, path: str, max_len: int) -> bytes:
    if not isinstance(value, str) or not _HEX_BYTES.fullmatch(value):
        raise _bad(path, f"0x-prefixed hex of at most {max_len} bytes", value)
    data = bytes.fromhex(value[2:])
    if len(data) > max_len:
        raise GenesisError(
            mismatch(f"genesis field '{path}'", expected=f"at most {max_len} bytes", got=f"{len(data)} bytes")
        )
    return data


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    """json.loads keeps the last of two equal keys silently; in a genesis file that hides a mistake."""
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise GenesisError(f"duplicate JSON key {key!r}")
        obj[key] = value
    return obj


def _bad(path: str, expected: str, got: Any) -> GenesisError:
    return GenesisError(mismatch(f"genesis field '{path}'", expected=expected, got=_show(got)))


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value)
    elif value is None:
        text = "null"
    else:
        text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _range(low: int, high: int) -> str:
    return f">= {_bound(low)}" if high in _BOUND_NAMES else f"in {_bound(low)}..{_bound(high)}"


def _bound(n: int) -> str:
    return _BOUND_NAMES.get(n, str(n))


# --- JSON out -----------------------------------------------------------------------------------


def genesis_to_json(cfg: GenesisConfig) -> dict:
    """The inverse of `parse_genesis`: checksummed addresses, wei amounts as decimal strings."""
    out: dict[str, Any] = {}
    if cfg.description:
        out["description"] = cfg.description
    out |= {
        "chainId": _json_int(cfg.chain_id),
        "timestamp": _json_int(cfg.timestamp),
        "blockTimeMs": _json_int(cfg.block_time_ms),
        "gasLimit": _json_int(cfg.gas_limit),
        "baseFeePerGas": str(cfg.base_fee),
        "checkpointInterval": _json_int(cfg.checkpoint_interval),
        "extraData": "0x" + cfg.extra_data.hex(),
        "validators": [
            {"address": to_checksum_address(v.address), "power": _json_int(v.power)} for v in cfg.validators
        ],
        "alloc": {to_checksum_address(address): {"balance": str(balance)} for address, balance in cfg.alloc},
    }
    return out


def canonical_genesis_json(cfg: GenesisConfig) -> bytes:
    """The bytes `GenesisConfig.hash` covers: `genesis_to_json` without "description", keys sorted,
    no whitespace, ASCII (json.dumps(sort_keys=True, separators=(",", ":")))."""
    obj = genesis_to_json(cfg)
    obj.pop("description", None)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _json_int(n: int) -> int | str:
    return n if n <= MAX_JSON_SAFE_INT else str(n)
