"""What every system contract is made of: ABI functions with a fixed gas cost, a call context,
reverts with a reason, and typed access to the contract's storage.

A system contract is a Python object at a fixed address (or, for bridged tokens, at any address
whose account carries SYSTEM_CODE). Its functions take the decoded ABI arguments and return the
values to ABI-encode; a `Revert` undoes the call's writes and reaches the caller as Solidity's
`Error(string)`, so web3.py and ethers show "execution reverted: <reason>".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import rlp
from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError

from ...crypto import keccak256
from ..blocks import Log
from ..codec import uint
from ..state import Account, StateOverlay, StateReader

SYSTEM_CODE = b"\xfe"
"""The code a system contract's account shows (EIP-141's designated invalid opcode): eth_getCode
reports a contract, and nothing could ever run it as EVM code."""
SYSTEM_CODE_HASH = keccak256(SYSTEM_CODE)
SYSTEM_ACCOUNT = Account(nonce=1, code_hash=SYSTEM_CODE_HASH)
"""A fixed system contract's account at genesis (EIP-161: contracts start at nonce 1)."""
ERROR_SELECTOR = keccak256(b"Error(string)")[:4]


class Revert(Exception):
    """A system call that breaks a rule: its writes are dropped, its gas is paid, its status is 0."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def data(self) -> bytes:
        """The revert data a Solidity `require(..., reason)` returns: Error(string)."""
        return ERROR_SELECTOR + encode(["string"], [self.reason])


@dataclass(frozen=True, slots=True)
class CallContext:
    """A call as the contract sees it."""

    sender: bytes
    to: bytes
    value: int
    data: bytes
    block_number: int
    checkpoint_interval: int
    read_only: bool = False
    """eth_call: views only are meaningful; writes are dropped afterwards anyway."""


@dataclass(slots=True)
class Call:
    """One running call: its context, the state it writes into and the logs it emits."""

    ctx: CallContext
    state: StateOverlay
    logs: list[Log] = field(default_factory=list)

    def emit(self, address: bytes, topics: tuple[bytes, ...], data: bytes = b"") -> None:
        self.logs.append(Log(address, topics, data))


def _split(params: tuple[str, ...]) -> list[tuple[str, str, bool]]:
    """("uint64 indexed depositId", "address to", "bool") -> [(type, name, indexed), ...]."""
    split = []
    for param in params:
        words = param.split()
        split.append((words[0], words[-1] if len(words) > 1 else "", "indexed" in words[1:-1]))
    return split


@dataclass(frozen=True, slots=True)
class Function:
    """One ABI function of a system contract; parameters are written "type name" as in Solidity."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    gas: int
    """Execution gas on top of the intrinsic gas, charged whether the call succeeds or reverts."""
    handler: Callable[..., tuple]
    payable: bool = False
    view: bool = False

    @property
    def input_types(self) -> list[str]:
        return [t for t, _, _ in _split(self.inputs)]

    @property
    def output_types(self) -> list[str]:
        return [t for t, _, _ in _split(self.outputs)]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.input_types)})"

    @property
    def selector(self) -> bytes:
        return keccak256(self.signature.encode())[:4]

    def abi(self) -> dict:
        mutability = "view" if self.view else "payable" if self.payable else "nonpayable"
        return {"type": "function", "name": self.name, "stateMutability": mutability,
                "inputs": [{"name": n, "type": t} for t, n, _ in _split(self.inputs)],
                "outputs": [{"name": n, "type": t} for t, n, _ in _split(self.outputs)]}

    def decode_inputs(self, data: bytes) -> tuple:
        try:
            return tuple(decode(self.input_types, data))
        except (DecodingError, ValueError, TypeError, OverflowError) as exc:
            raise Revert(f"malformed arguments for {self.signature}: {exc}") from None

    def encode_outputs(self, values: tuple) -> bytes:
        try:
            return encode(self.output_types, list(values))
        except (EncodingError, ValueError, TypeError) as exc:  # a bug, not an input error
            raise AssertionError(f"{self.signature} returned {values!r}: {exc}") from exc


def function_table(*functions: Function) -> dict[bytes, Function]:
    return {f.selector: f for f in functions}


@dataclass(frozen=True, slots=True)
class Event:
    """One ABI event; parameters are written "type [indexed] name" as in Solidity."""

    name: str
    inputs: tuple[str, ...]

    @property
    def topic(self) -> bytes:
        return keccak256(f"{self.name}({','.join(t for t, _, _ in _split(self.inputs))})".encode())

    def abi(self) -> dict:
        return {"type": "event", "name": self.name, "anonymous": False,
                "inputs": [{"name": n, "type": t, "indexed": i} for t, n, i in _split(self.inputs)]}


def contract_abi(functions: dict[bytes, Function], events: tuple[Event, ...] = ()) -> list[dict]:
    """The JSON ABI of a system contract, for web3.py, ethers or any other tool."""
    return [f.abi() for f in functions.values()] + [e.abi() for e in events]


def topic_address(address: bytes) -> bytes:
    return address.rjust(32, b"\x00")


def topic_uint(n: int) -> bytes:
    return n.to_bytes(32, "big")


# --- storage ------------------------------------------------------------------------------------


def record_key(tag: str, *parts: bytes | int) -> bytes:
    """A storage key for a named record: keccak256 of the tag and its parts (ints as 32 bytes)."""
    raw = tag.encode() + b"".join(p if isinstance(p, bytes) else p.to_bytes(32, "big") for p in parts)
    return keccak256(raw)


def mapping_key(key: bytes, index: int) -> bytes:
    """Solidity's slot of `mapping[key]` for a mapping at slot `index` (key: a word, left-padded)."""
    return keccak256(key.rjust(32, b"\x00") + index.to_bytes(32, "big"))


def read_uint(state: StateReader, address: bytes, key: bytes) -> int:
    return int.from_bytes(state.get_storage(address, key), "big")


def write_uint(state: StateOverlay, address: bytes, key: bytes, value: int) -> None:
    if value < 0:
        raise AssertionError(f"negative storage value {value} at 0x{key.hex()}")
    state.set_storage(address, key, uint(value))


def read_record(state: StateReader, address: bytes, key: bytes) -> list | None:
    data = state.get_storage(address, key)
    return rlp.decode(data) if data else None


def write_record(state: StateOverlay, address: bytes, key: bytes, items: list | None) -> None:
    state.set_storage(address, key, rlp.encode(items) if items is not None else b"")


def as_int(item: bytes) -> int:
    return int.from_bytes(item, "big")
