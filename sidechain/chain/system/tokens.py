"""Bridged ERC-20 ledgers: each L1 token gets a sidechain contract at a deterministic address that
standard tools use through the ERC-20 ABI.

    name() symbol() decimals() totalSupply() balanceOf(address) allowance(address,address)
    transfer(address,uint256) approve(address,uint256) transferFrom(address,address,uint256)
    l1Token() -> address    the L1 token this ledger mirrors

Storage follows Solidity's layout of OpenZeppelin's ERC20 (balances: mapping at slot 0,
allowances: slot 1, totalSupply: slot 2), so eth_getStorageAt reads it as it would on Ethereum.
Only the bridge mints (a deposit affirmed by the validators) and burns (a withdrawal).
"""

from __future__ import annotations

from dataclasses import replace

import rlp

from ...crypto import keccak256
from ..state import StateOverlay, StateReader
from .base import (
    SYSTEM_ACCOUNT, SYSTEM_CODE_HASH, Call, Event, Function, Revert, as_int, function_table, mapping_key, read_record, read_uint, record_key,
    topic_address, write_record, write_uint,
)

TOKEN_ADDRESS_DOMAIN = b"sidechain/bridged-token/v1"
EVENTS = (
    Event("Transfer", ("address indexed from", "address indexed to", "uint256 value")),
    Event("Approval", ("address indexed owner", "address indexed spender", "uint256 value")),
)
TRANSFER_TOPIC, APPROVAL_TOPIC = (e.topic for e in EVENTS)
MAX_UINT256 = 2**256 - 1
_TOTAL_SUPPLY = (2).to_bytes(32, "big")
_METADATA = record_key("token.metadata")

TRANSFER_GAS = 30_000
APPROVE_GAS = 24_000
TRANSFER_FROM_GAS = 36_000
VIEW_GAS = 2_600


def token_address(l1_token: bytes) -> bytes:
    """The sidechain address of the ledger for `l1_token`: anyone can compute it from the L1 address."""
    return keccak256(TOKEN_ADDRESS_DOMAIN + l1_token)[12:]


def _balance_key(owner: bytes) -> bytes:
    return mapping_key(owner, 0)


def _allowance_key(owner: bytes, spender: bytes) -> bytes:
    return keccak256(spender.rjust(32, b"\x00") + mapping_key(owner, 1))


def balance_of(state: StateReader, token: bytes, owner: bytes) -> int:
    return read_uint(state, token, _balance_key(owner))


def total_supply(state: StateReader, token: bytes) -> int:
    return read_uint(state, token, _TOTAL_SUPPLY)


def metadata(state: StateReader, token: bytes) -> tuple[bytes, str, str, int] | None:
    """(L1 token, name, symbol, decimals) of the ledger at `token`, or None if there is none."""
    record = read_record(state, token, _METADATA)
    if record is None:
        return None
    l1_token, name, symbol, decimals = record
    return l1_token, name.decode(), symbol.decode(), as_int(decimals)


def is_ledger(state: StateReader, address: bytes) -> bool:
    """Whether `address` holds the ledger the bridge opened for the L1 token it records.

    The address must derive from that L1 token: an EVM contract can deploy SYSTEM_CODE and write
    any storage, but it cannot land at such an address, so it is never taken for a ledger.
    """
    data = state.get_storage(address, _METADATA)
    try:
        record = rlp.decode(data) if data else None
    except rlp.DecodingError:
        return False
    if not (isinstance(record, list) and len(record) == 4 and isinstance(record[0], bytes)):
        return False
    return token_address(record[0]) == address


def create(state: StateOverlay, l1_token: bytes, name: str, symbol: str, decimals: int) -> bytes:
    """Open the ledger of `l1_token` (its first deposit) and return its address."""
    token = token_address(l1_token)
    # The address is public before the ledger exists; ether already sent there must not vanish.
    state.set_account(token, replace(SYSTEM_ACCOUNT, balance=state.get_account(token).balance))
    write_record(state, token, _METADATA, [l1_token, name.encode(), symbol.encode(), decimals.to_bytes(1, "big")])
    return token


def mint(call: Call, token: bytes, to: bytes, amount: int) -> None:
    state = call.state
    write_uint(state, token, _balance_key(to), balance_of(state, token, to) + amount)
    write_uint(state, token, _TOTAL_SUPPLY, total_supply(state, token) + amount)
    call.emit(token, (TRANSFER_TOPIC, topic_address(b""), topic_address(to)), amount.to_bytes(32, "big"))


def burn(call: Call, token: bytes, owner: bytes, amount: int) -> None:
    state = call.state
    balance = balance_of(state, token, owner)
    if balance < amount:
        raise Revert(f"withdrawal above the balance: 0x{owner.hex()} holds {balance}, wants to withdraw {amount}")
    write_uint(state, token, _balance_key(owner), balance - amount)
    write_uint(state, token, _TOTAL_SUPPLY, total_supply(state, token) - amount)
    call.emit(token, (TRANSFER_TOPIC, topic_address(owner), topic_address(b"")), amount.to_bytes(32, "big"))


def _move(call: Call, sender: bytes, recipient: bytes, amount: int) -> None:
    if recipient == bytes(20):
        raise Revert("ERC20: transfer to the zero address (burn by withdrawing through the bridge)")
    if call.state.get_account(recipient).code_hash == SYSTEM_CODE_HASH:
        raise Revert(f"ERC20: transfer to the system contract 0x{recipient.hex()} would lock the tokens for good "
                     "(to move them to L1, call withdraw on the bridge)")
    token, state = call.ctx.to, call.state
    have = balance_of(state, token, sender)
    if have < amount:
        raise Revert(f"ERC20: transfer amount exceeds balance: 0x{sender.hex()} holds {have}, sends {amount}")
    write_uint(state, token, _balance_key(sender), have - amount)
    write_uint(state, token, _balance_key(recipient), balance_of(state, token, recipient) + amount)
    call.emit(token, (TRANSFER_TOPIC, topic_address(sender), topic_address(recipient)), amount.to_bytes(32, "big"))


def _addr(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _transfer(call: Call, to: str, amount: int) -> tuple:
    _move(call, call.ctx.sender, _addr(to), amount)
    return (True,)


def _approve(call: Call, spender: str, amount: int) -> tuple:
    owner, token = call.ctx.sender, call.ctx.to
    if _addr(spender) == bytes(20):
        raise Revert("ERC20: approve to the zero address")
    write_uint(call.state, token, _allowance_key(owner, _addr(spender)), amount)
    call.emit(token, (APPROVAL_TOPIC, topic_address(owner), topic_address(_addr(spender))), amount.to_bytes(32, "big"))
    return (True,)


def _transfer_from(call: Call, owner: str, to: str, amount: int) -> tuple:
    spender, token = call.ctx.sender, call.ctx.to
    key = _allowance_key(_addr(owner), spender)
    allowed = read_uint(call.state, token, key)
    if allowed < amount:
        raise Revert(f"ERC20: insufficient allowance: 0x{spender.hex()} may spend {allowed}, wants {amount}")
    if allowed != MAX_UINT256:  # an unlimited approval stays unlimited, as in OpenZeppelin
        write_uint(call.state, token, key, allowed - amount)
    _move(call, _addr(owner), _addr(to), amount)
    return (True,)


def _meta(call: Call) -> tuple[bytes, str, str, int]:
    found = metadata(call.state, call.ctx.to)
    if found is None:  # unreachable: only ledgers carry the system code
        raise Revert(f"0x{call.ctx.to.hex()} is not a bridged token")
    return found


FUNCTIONS = function_table(
    Function("name", (), ("string",), VIEW_GAS, lambda call: (_meta(call)[1],), view=True),
    Function("symbol", (), ("string",), VIEW_GAS, lambda call: (_meta(call)[2],), view=True),
    Function("decimals", (), ("uint8",), VIEW_GAS, lambda call: (_meta(call)[3],), view=True),
    Function("l1Token", (), ("address",), VIEW_GAS, lambda call: ("0x" + _meta(call)[0].hex(),), view=True),
    Function("totalSupply", (), ("uint256",), VIEW_GAS, lambda call: (total_supply(call.state, call.ctx.to),), view=True),
    Function("balanceOf", ("address account",), ("uint256",), VIEW_GAS,
             lambda call, owner: (balance_of(call.state, call.ctx.to, _addr(owner)),), view=True),
    Function("allowance", ("address owner", "address spender"), ("uint256",), VIEW_GAS,
             lambda call, owner, spender: (read_uint(call.state, call.ctx.to, _allowance_key(_addr(owner), _addr(spender))),),
             view=True),
    Function("transfer", ("address to", "uint256 value"), ("bool",), TRANSFER_GAS, _transfer),
    Function("approve", ("address spender", "uint256 value"), ("bool",), APPROVE_GAS, _approve),
    Function("transferFrom", ("address from", "address to", "uint256 value"), ("bool",), TRANSFER_FROM_GAS, _transfer_from),
)
