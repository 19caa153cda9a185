"""Bridged ERC-20s: each L1 token gets an OpenZeppelin ERC-20 contract on the sidechain
(contracts/BridgedToken.sol) that the bridge opens with CREATE2 on the token's first deposit, run
by the EVM like any contract, so wallets and other contracts hold, transfer and `transferFrom` it
as on Ethereum. Only the bridge mints (a deposit the validators affirmed) and burns (a withdrawal).

This module reads a token's storage as OpenZeppelin lays it out (balances: mapping at slot 0,
total supply: slot 2, name and symbol: slots 3 and 4, the L1 token and the decimals packed in slot 5).
"""

from __future__ import annotations

from functools import cache

from ...crypto import keccak256
from ..contracts import abi, creation_code
from ..state import StateReader
from .bridge import BRIDGE_ADDRESS
from .layout import mapping_slot, read_bytes, read_word, word_address

TRANSFER_TOPIC = keccak256(b"Transfer(address,address,uint256)")
_BALANCES, _TOTAL_SUPPLY, _NAME, _SYMBOL, _METADATA = 0, 2, 3, 4, 5


@cache
def _initcode_hash() -> bytes:
    return keccak256(creation_code("BridgedToken"))


def token_address(l1_token: bytes) -> bytes:
    """The sidechain address of the token for `l1_token`: the bridge's CREATE2 with the L1 token's
    address as the salt, so anyone can compute it before the token exists."""
    return keccak256(b"\xff" + BRIDGE_ADDRESS + l1_token.rjust(32, b"\x00") + _initcode_hash())[12:]


def token_abi() -> list[dict]:
    """The JSON ABI of every bridged token (BridgedToken.sol)."""
    return abi("BridgedToken")


def balance_of(state: StateReader, token: bytes, owner: bytes) -> int:
    return read_word(state, token, mapping_slot(_BALANCES, owner))


def total_supply(state: StateReader, token: bytes) -> int:
    return read_word(state, token, _TOTAL_SUPPLY)


def metadata(state: StateReader, token: bytes) -> tuple[bytes, str, str, int] | None:
    """(L1 token, name, symbol, decimals) of the bridged token at `token`, or None if there is none."""
    packed = read_word(state, token, _METADATA)
    if packed == 0:
        return None
    name = read_bytes(state, token, _NAME).decode("utf-8", "replace")
    symbol = read_bytes(state, token, _SYMBOL).decode("utf-8", "replace")
    return word_address(packed), name, symbol, packed >> 160
