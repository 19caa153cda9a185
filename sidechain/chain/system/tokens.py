"""Bridged ERC-20s: each L1 token gets an OpenZeppelin ERC-20 contract on the sidechain
(contracts/BridgedToken.sol) at an address anyone derives from the L1 token, run by the EVM like
any contract, so wallets and other contracts hold, transfer and `transferFrom` it as on Ethereum.

Only the bridge mints (a deposit the validators affirmed) and burns (a withdrawal). The bridge is
still a built-in contract in Python, so it opens a token by writing the contract's code and storage
and mints and burns by writing exactly what OpenZeppelin's `_mint` and `_burn` write (balances:
mapping at slot 0, total supply: slot 2) and emitting the same Transfer log. Name and symbol sit
at slots 3 and 4 as Solidity stores strings; the L1 token and the decimals are packed in slot 5.
"""

from __future__ import annotations

from ...crypto import keccak256
from ..codec import uint
from ..contracts import abi, runtime_code
from ..state import Account, StateOverlay, StateReader
from .base import Call, Revert, mapping_key, read_uint, topic_address

TOKEN_ADDRESS_DOMAIN = b"sidechain/bridged-token/v1"
TRANSFER_TOPIC = keccak256(b"Transfer(address,address,uint256)")
MAX_UINT256 = 2**256 - 1
_TOTAL_SUPPLY = (2).to_bytes(32, "big")
_NAME_SLOT, _SYMBOL_SLOT, _METADATA_SLOT = 3, 4, 5
_ADDRESS_BITS = 160


def token_address(l1_token: bytes) -> bytes:
    """The sidechain address of the token for `l1_token`: anyone can compute it from the L1 address."""
    return keccak256(TOKEN_ADDRESS_DOMAIN + l1_token)[12:]


def token_abi() -> list[dict]:
    """The JSON ABI of every bridged token (BridgedToken.sol)."""
    return abi("BridgedToken")


def _slot(index: int) -> bytes:
    return index.to_bytes(32, "big")


def _balance_key(owner: bytes) -> bytes:
    return mapping_key(owner, 0)


def balance_of(state: StateReader, token: bytes, owner: bytes) -> int:
    return read_uint(state, token, _balance_key(owner))


def total_supply(state: StateReader, token: bytes) -> int:
    return read_uint(state, token, _TOTAL_SUPPLY)


def _write_string(state: StateOverlay, address: bytes, index: int, value: bytes) -> None:
    """`value` at slot `index` as Solidity stores a string: shorter than 32 bytes, in the slot itself
    with its length * 2 in the last byte; otherwise length * 2 + 1 there and the bytes from
    slot keccak(index) on."""
    if len(value) < 32:
        word = value.ljust(31, b"\x00") + bytes([len(value) * 2])
        state.set_storage(address, _slot(index), uint(int.from_bytes(word, "big")))
        return
    state.set_storage(address, _slot(index), uint(len(value) * 2 + 1))
    first = int.from_bytes(keccak256(_slot(index)), "big")
    for i in range(0, len(value), 32):
        chunk = value[i:i + 32].ljust(32, b"\x00")
        state.set_storage(address, _slot(first + i // 32), uint(int.from_bytes(chunk, "big")))


def _read_string(state: StateReader, address: bytes, index: int) -> bytes:
    word = int.from_bytes(state.get_storage(address, _slot(index)), "big")
    if word & 1 == 0:
        length = (word & 0xFF) // 2
        return word.to_bytes(32, "big")[:length]
    length = (word - 1) // 2
    first = int.from_bytes(keccak256(_slot(index)), "big")
    data = b"".join(read_uint(state, address, _slot(first + i)).to_bytes(32, "big") for i in range((length + 31) // 32))
    return data[:length]


def metadata(state: StateReader, token: bytes) -> tuple[bytes, str, str, int] | None:
    """(L1 token, name, symbol, decimals) of the bridged token at `token`, or None if there is none."""
    packed = read_uint(state, token, _slot(_METADATA_SLOT))
    if packed == 0:
        return None
    l1_token = (packed & (2**_ADDRESS_BITS - 1)).to_bytes(20, "big")
    decimals = packed >> _ADDRESS_BITS
    name = _read_string(state, token, _NAME_SLOT).decode("utf-8", "replace")
    symbol = _read_string(state, token, _SYMBOL_SLOT).decode("utf-8", "replace")
    return l1_token, name, symbol, decimals


def create(state: StateOverlay, l1_token: bytes, name: str, symbol: str, decimals: int) -> bytes:
    """Open the token of `l1_token` (its first deposit) and return its address."""
    token = token_address(l1_token)
    code = runtime_code("BridgedToken")
    code_hash = keccak256(code)
    # The address is public before the token exists; ether already sent there must not vanish.
    before = state.get_account(token)
    state.set_account(token, Account(1, before.balance, before.storage_root, code_hash))
    state.set_code(code_hash, code)
    _write_string(state, token, _NAME_SLOT, name.encode())
    _write_string(state, token, _SYMBOL_SLOT, symbol.encode())
    state.set_storage(token, _slot(_METADATA_SLOT), uint((decimals << _ADDRESS_BITS) | int.from_bytes(l1_token, "big")))
    return token


def mint(call: Call, token: bytes, to: bytes, amount: int) -> None:
    """OpenZeppelin's `_mint(to, amount)`, as the bridge's own write."""
    state = call.state
    state.set_storage(token, _balance_key(to), uint(balance_of(state, token, to) + amount))
    state.set_storage(token, _TOTAL_SUPPLY, uint(total_supply(state, token) + amount))
    call.emit(token, (TRANSFER_TOPIC, topic_address(b""), topic_address(to)), amount.to_bytes(32, "big"))


def burn(call: Call, token: bytes, owner: bytes, amount: int) -> None:
    """OpenZeppelin's `_burn(owner, amount)`, as the bridge's own write."""
    state = call.state
    balance = balance_of(state, token, owner)
    if balance < amount:
        raise Revert(f"withdrawal above the balance: 0x{owner.hex()} holds {balance}, wants to withdraw {amount}")
    state.set_storage(token, _balance_key(owner), uint(balance - amount))
    state.set_storage(token, _TOTAL_SUPPLY, uint(total_supply(state, token) - amount))
    call.emit(token, (TRANSFER_TOPIC, topic_address(owner), topic_address(b"")), amount.to_bytes(32, "big"))
