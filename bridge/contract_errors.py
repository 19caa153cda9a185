"""Custom errors of the L1 contracts, decoded from revert data with the contract's ABI.

A revert with `error NotAValidator(address signer)` returns 4 bytes of selector followed by the ABI
encoded arguments; `decode_error` turns it back into ("NotAValidator", {"signer": "0x..."}).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address


@dataclass(frozen=True, slots=True)
class DecodedError:
    """A custom error a contract reverted with."""

    name: str
    """The error's name in the ABI, e.g. "InsufficientVotingPower"."""
    args: dict
    """Its arguments by name (addresses checksummed, bytes as bytes)."""


def _signature(entry: dict) -> str:
    return f"{entry['name']}({','.join(_canonical_type(i) for i in entry['inputs'])})"


def _canonical_type(item: dict) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_canonical_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


def error_selectors(abi: list[dict]) -> dict[bytes, dict]:
    """4-byte selector -> the ABI entry of every custom error in `abi`."""
    return {function_signature_to_4byte_selector(_signature(e)): e for e in abi if e["type"] == "error"}


def decode_error(abi: list[dict], data: bytes | str) -> DecodedError:
    """The custom error that revert `data` (bytes or 0x-hex) encodes; ValueError if `abi` has none matching."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    entry = error_selectors(abi).get(bytes(data[:4]))
    if entry is None:
        raise ValueError(f"revert data 0x{bytes(data).hex()} matches no custom error of the ABI")
    values = decode([_canonical_type(i) for i in entry["inputs"]], bytes(data[4:]))
    args = {}
    for item, value in zip(entry["inputs"], values):
        args[item["name"]] = to_checksum_address(value) if item["type"] == "address" else value
    return DecodedError(entry["name"], args)
