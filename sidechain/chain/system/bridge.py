"""The bridge system contract: deposits affirmed by the validators are minted; withdrawals burn and
are recorded for the next checkpoint's withdrawal root.

    affirmDeposit(uint64 depositId, address l1Token, address recipient, uint256 amount,
                  string name, string symbol, uint8 decimals)             validators only
    withdraw(address l1Token, uint256 amount, address l1Recipient)  payable: ETH is sent as the value
    nextDepositId() -> uint64                the next deposit to mint (deposits mint in id order)
    hasAffirmed(uint64 depositId, address validator) -> bool
    tokenFor(address l1Token) -> address      the sidechain ledger of an L1 token (0 before its first deposit)
    nextWithdrawalId() -> uint64
    withdrawal(uint64 id) -> (address l1Token, address l1Recipient, uint256 amount, uint64 blockNumber)
    genesisSupply() -> uint256               the native coin allocated at genesis (locked in RootBridge on L1)

Deposits. Each validator's relayer affirms an L1 deposit once it has enough L1 confirmations. An
affirmation counts for its exact content (token, recipient, amount and the token's metadata); a
content is accepted once validators holding more than 2/3 of the current voting power affirmed it,
and minted as soon as every lower deposit id is minted: exactly once per id, in id order. ETH
(L1 token 0) becomes the native coin; a token's first deposit opens its ledger (tokens.py).

Withdrawals. `withdraw` burns the amount from the caller and records (id, L1 token, L1 recipient,
amount); the checkpoint whose range holds the block commits to the Merkle root of its withdrawals
(`checkpoint_withdrawals`), which RootBridge.exit on L1 checks the proof against. Every wei of the
native coin is backed by ETH locked on L1: the genesis allocations were locked in RootBridge at its
deployment (their sum is recorded here at genesis, `genesis_storage`) and deposits lock the rest, so
any holder may withdraw ETH, and in all at most minted + genesis supply ever leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode

from ...crypto import keccak256
from ..checkpoints import checkpoint_of_block
from ..codec import uint
from ..state import Account, StateReader
from ..validators import ValidatorSet
from . import tokens
from .base import (
    Call, Event, Function, Revert, as_int, function_table, read_record, read_uint, record_key, topic_address, topic_uint,
    write_record, write_uint,
)
from .validator_set import current_set, current_set_id

BRIDGE_ADDRESS = bytes.fromhex("0000000000000000000000000000000000b41d9e")
ETH = bytes(20)
"""The L1 "token" address of ether, as RootBridge names it."""

AFFIRM_GAS = 30_000
WITHDRAW_GAS = 40_000
VIEW_GAS = 2_600

EVENTS = (
    Event("DepositAffirmed", ("uint64 indexed depositId", "address indexed validator", "bytes32 contentHash")),
    Event("DepositMinted", ("uint64 indexed depositId", "address indexed l1Token", "address indexed recipient",
                            "uint256 amount")),
    Event("WithdrawalRecorded", ("uint64 indexed withdrawalId", "address indexed l1Token", "address indexed from",
                                 "address l1Recipient", "uint256 amount")),
)
DEPOSIT_AFFIRMED_TOPIC, DEPOSIT_MINTED_TOPIC, WITHDRAWAL_RECORDED_TOPIC = (e.topic for e in EVENTS)

_NEXT_MINT = record_key("bridge.next-deposit")
_NEXT_WITHDRAWAL = record_key("bridge.next-withdrawal")
_GENESIS_SUPPLY = record_key("bridge.genesis-supply")


@dataclass(frozen=True, slots=True)
class DepositContent:
    """What validators affirm about one L1 deposit."""

    deposit_id: int
    l1_token: bytes
    recipient: bytes
    amount: int
    name: str
    symbol: str
    decimals: int

    def content_hash(self) -> bytes:
        return keccak256(encode(["uint64", "address", "address", "uint256", "string", "string", "uint8"],
                                [self.deposit_id, self.l1_token, self.recipient, self.amount, self.name, self.symbol,
                                 self.decimals]))

    def encode_record(self) -> list:
        return [self.l1_token, self.recipient, self.amount.to_bytes(32, "big"), self.name.encode(), self.symbol.encode(),
                bytes([self.decimals])]

    @classmethod
    def from_record(cls, deposit_id: int, record: list) -> "DepositContent":
        token, recipient, amount, name, symbol, decimals = record
        return cls(deposit_id, token, recipient, as_int(amount), name.decode(), symbol.decode(), as_int(decimals))


@dataclass(frozen=True, slots=True)
class Withdrawal:
    withdrawal_id: int
    l1_token: bytes
    l1_recipient: bytes
    amount: int
    block_number: int
    sender: bytes


def _affirmation_key(deposit_id: int, validator: bytes) -> bytes:
    return record_key("bridge.affirmation", deposit_id, validator)


def _content_key(deposit_id: int, content_hash: bytes) -> bytes:
    return record_key("bridge.content", deposit_id, content_hash)


def _accepted_key(deposit_id: int) -> bytes:
    return record_key("bridge.accepted", deposit_id)


def _minted_key(deposit_id: int) -> bytes:
    return record_key("bridge.minted", deposit_id)


def _token_key(l1_token: bytes) -> bytes:
    return record_key("bridge.token", l1_token)


def _withdrawal_key(withdrawal_id: int) -> bytes:
    return record_key("bridge.withdrawal", withdrawal_id)


def _checkpoint_withdrawals_key(number: int) -> bytes:
    return record_key("bridge.checkpoint-withdrawals", number)


def _total_key(kind: str, l1_token: bytes) -> bytes:
    return record_key(f"bridge.total-{kind}", l1_token)


# --- reads for the RPC and the checkpoint builder ---------------------------------------------------


def next_deposit_id(state: StateReader) -> int:
    return read_uint(state, BRIDGE_ADDRESS, _NEXT_MINT) or 1


def next_withdrawal_id(state: StateReader) -> int:
    return read_uint(state, BRIDGE_ADDRESS, _NEXT_WITHDRAWAL) or 1


def sidechain_token(state: StateReader, l1_token: bytes) -> bytes | None:
    data = state.get_storage(BRIDGE_ADDRESS, _token_key(l1_token))
    return data or None


def affirmations(state: StateReader, deposit_id: int, validators: tuple[bytes, ...]) -> dict[bytes, bytes]:
    """validator -> the content hash it affirmed for `deposit_id`, for the given validators."""
    found = {}
    for validator in validators:
        content_hash = state.get_storage(BRIDGE_ADDRESS, _affirmation_key(deposit_id, validator))
        if content_hash:
            found[validator] = content_hash
    return found


def affirmed_content(state: StateReader, deposit_id: int, content_hash: bytes) -> tuple[DepositContent, list[bytes]] | None:
    record = read_record(state, BRIDGE_ADDRESS, _content_key(deposit_id, content_hash))
    if record is None:
        return None
    content, voters = record
    return DepositContent.from_record(deposit_id, content), list(voters)


def accepted(state: StateReader, deposit_id: int) -> bytes | None:
    """The content hash more than 2/3 affirmed for `deposit_id`, or None."""
    return state.get_storage(BRIDGE_ADDRESS, _accepted_key(deposit_id)) or None


def minted(state: StateReader, deposit_id: int) -> tuple[bytes, int] | None:
    """(content hash, block number) of a minted deposit, or None."""
    record = read_record(state, BRIDGE_ADDRESS, _minted_key(deposit_id))
    return None if record is None else (record[0], as_int(record[1]))


def withdrawal(state: StateReader, withdrawal_id: int) -> Withdrawal | None:
    record = read_record(state, BRIDGE_ADDRESS, _withdrawal_key(withdrawal_id))
    if record is None:
        return None
    token, recipient, amount, block, sender = record
    return Withdrawal(withdrawal_id, token, recipient, as_int(amount), as_int(block), sender)


def checkpoint_withdrawals(state: StateReader, number: int) -> list[Withdrawal]:
    """The withdrawals recorded in checkpoint `number`'s range, in id order."""
    record = read_record(state, BRIDGE_ADDRESS, _checkpoint_withdrawals_key(number))
    if record is None:
        return []
    first, count = as_int(record[0]), as_int(record[1])
    return [w for i in range(first, first + count) if (w := withdrawal(state, i)) is not None]


def genesis_storage(genesis_supply: int) -> dict[bytes, bytes]:
    """The contract's storage at genesis: the genesis supply, the sum of the genesis alloc's balances."""
    return {_GENESIS_SUPPLY: uint(genesis_supply)} if genesis_supply else {}


def genesis_supply(state: StateReader) -> int:
    """The native coin allocated at genesis, which RootBridge locked on L1 at its deployment."""
    return read_uint(state, BRIDGE_ADDRESS, _GENESIS_SUPPLY)


def totals(state: StateReader, l1_token: bytes) -> tuple[int, int]:
    """(minted, burned) over the chain's life for `l1_token`: the supply invariant's sidechain side."""
    return (read_uint(state, BRIDGE_ADDRESS, _total_key("minted", l1_token)),
            read_uint(state, BRIDGE_ADDRESS, _total_key("burned", l1_token)))


# --- deposits --------------------------------------------------------------------------------------


def _affirm(call: Call, deposit_id: int, l1_token: str, recipient: str, amount: int, name: str, symbol: str,
            decimals: int) -> tuple:
    state, validator = call.state, call.ctx.sender
    validators = current_set(state)
    if not validators.power_of(validator):
        raise Revert(f"only a validator may affirm deposits: 0x{validator.hex()} is not in validator set "
                     f"{current_set_id(state)}")
    content = DepositContent(deposit_id, bytes.fromhex(l1_token[2:]), bytes.fromhex(recipient[2:]), amount, name, symbol,
                             decimals)
    if deposit_id < 1:
        raise Revert("deposit ids start at 1")
    if amount == 0:
        raise Revert(f"deposit {deposit_id} is a deposit of zero")
    if content.recipient == bytes(20):
        raise Revert(f"deposit {deposit_id} has no recipient")
    if deposit_id < next_deposit_id(state):
        raise Revert(f"deposit {deposit_id} is already minted")
    content_hash = content.content_hash()
    accepted = state.get_storage(BRIDGE_ADDRESS, _accepted_key(deposit_id))
    if accepted and accepted != content_hash:
        raise Revert(f"affirmation disagrees with deposit {deposit_id} as accepted: content 0x{accepted.hex()}, "
                     f"affirmed 0x{content_hash.hex()}")
    previous = state.get_storage(BRIDGE_ADDRESS, _affirmation_key(deposit_id, validator))
    if previous == content_hash and not accepted:
        # Acceptance is checked only when an affirmation arrives; after a validator-set change the
        # earlier affirmers may hold a quorum of the new set with no one left to affirm. Repeating
        # the same affirmation re-checks it (it still counts once).
        known = affirmed_content(state, deposit_id, content_hash)
        if known is not None and _accept_if_quorum(call, validators, deposit_id, content_hash, known[1]):
            return ()
    if previous == content_hash:
        raise Revert(f"0x{validator.hex()} already affirmed deposit {deposit_id}")
    if previous:
        # A deposit not accepted yet may be re-affirmed with other content (say, after an L1
        # reorg deeper than the relayer's confirmations): the validator's vote moves, so a split
        # can heal instead of stalling every later deposit.
        old = affirmed_content(state, deposit_id, previous)
        if old is not None:
            remaining = [v for v in old[1] if v != validator]
            write_record(state, BRIDGE_ADDRESS, _content_key(deposit_id, previous),
                         [old[0].encode_record(), remaining] if remaining else None)
    state.set_storage(BRIDGE_ADDRESS, _affirmation_key(deposit_id, validator), content_hash)
    known = affirmed_content(state, deposit_id, content_hash)
    voters = (known[1] if known else []) + [validator]
    write_record(state, BRIDGE_ADDRESS, _content_key(deposit_id, content_hash), [content.encode_record(), voters])
    call.emit(BRIDGE_ADDRESS, (DEPOSIT_AFFIRMED_TOPIC, topic_uint(deposit_id), topic_address(validator)), content_hash)
    if not accepted:
        _accept_if_quorum(call, validators, deposit_id, content_hash, voters)
    return ()


def _accept_if_quorum(call: Call, validators: ValidatorSet, deposit_id: int, content_hash: bytes, voters: list[bytes]) -> bool:
    """Accept `content_hash` for the deposit (and mint what is ready) if `voters` hold more than
    2/3 of the current voting power."""
    if not validators.has_quorum(sum(validators.power_of(v) for v in voters)):
        return False
    call.state.set_storage(BRIDGE_ADDRESS, _accepted_key(deposit_id), content_hash)
    _mint_ready(call)
    return True


def _mint_ready(call: Call) -> None:
    """Mint every accepted deposit from the next id on, stopping at the first not accepted yet."""
    state = call.state
    deposit_id = next_deposit_id(state)
    while content_hash := state.get_storage(BRIDGE_ADDRESS, _accepted_key(deposit_id)):
        content, _ = affirmed_content(state, deposit_id, content_hash)
        _mint(call, content)
        write_record(state, BRIDGE_ADDRESS, _minted_key(deposit_id), [content_hash, call.ctx.block_number])
        deposit_id += 1
        write_uint(state, BRIDGE_ADDRESS, _NEXT_MINT, deposit_id)


def _mint(call: Call, content: DepositContent) -> None:
    state = call.state
    if content.l1_token == ETH:
        account = state.get_account(content.recipient)
        state.set_account(content.recipient, Account(account.nonce, account.balance + content.amount, account.storage_root,
                                                     account.code_hash))
    else:
        token = sidechain_token(state, content.l1_token)
        if token is None:
            token = tokens.create(state, content.l1_token, content.name, content.symbol, content.decimals)
            state.set_storage(BRIDGE_ADDRESS, _token_key(content.l1_token), token)
        tokens.mint(call, token, content.recipient, content.amount)
    key = _total_key("minted", content.l1_token)
    write_uint(state, BRIDGE_ADDRESS, key, read_uint(state, BRIDGE_ADDRESS, key) + content.amount)
    call.emit(BRIDGE_ADDRESS, (DEPOSIT_MINTED_TOPIC, topic_uint(content.deposit_id), topic_address(content.l1_token),
                               topic_address(content.recipient)), content.amount.to_bytes(32, "big"))


# --- withdrawals -----------------------------------------------------------------------------------


def _withdraw(call: Call, l1_token: str, amount: int, l1_recipient: str) -> tuple:
    ctx, state = call.ctx, call.state
    token, recipient = bytes.fromhex(l1_token[2:]), bytes.fromhex(l1_recipient[2:])
    if amount == 0:
        raise Revert("a withdrawal of zero")
    if recipient == bytes(20):
        raise Revert("a withdrawal needs an L1 recipient")
    if token == ETH:
        if ctx.value != amount:
            raise Revert(f"an ETH withdrawal sends its amount as the call's value: value {ctx.value}, amount {amount}")
        minted, burned = totals(state, ETH)
        locked = minted + genesis_supply(state)  # what RootBridge holds for the native coin, exits aside
        if burned + amount > locked:
            raise Revert(f"withdrawal above the ETH locked on L1: {locked - burned} wei can still exit, "
                         f"asked for {amount}")
        bridge = state.get_account(BRIDGE_ADDRESS)  # run_call moved the value here; burn it
        state.set_account(BRIDGE_ADDRESS, Account(bridge.nonce, bridge.balance - amount, bridge.storage_root,
                                                  bridge.code_hash))
    else:
        if ctx.value:
            raise Revert(f"a token withdrawal sends no ETH, got value {ctx.value}")
        ledger = sidechain_token(state, token)
        if ledger is None:
            raise Revert(f"no token bridged from L1 token 0x{token.hex()}")
        tokens.burn(call, ledger, ctx.sender, amount)
    withdrawal_id = next_withdrawal_id(state)
    write_uint(state, BRIDGE_ADDRESS, _NEXT_WITHDRAWAL, withdrawal_id + 1)
    write_record(state, BRIDGE_ADDRESS, _withdrawal_key(withdrawal_id),
                 [token, recipient, amount.to_bytes(32, "big"), ctx.block_number.to_bytes(8, "big"), ctx.sender])
    if ctx.checkpoint_interval > 0:
        number = checkpoint_of_block(ctx.block_number, ctx.checkpoint_interval)
        key = _checkpoint_withdrawals_key(number)
        record = read_record(state, BRIDGE_ADDRESS, key)
        first, count = (as_int(record[0]), as_int(record[1])) if record else (withdrawal_id, 0)
        write_record(state, BRIDGE_ADDRESS, key, [first.to_bytes(8, "big"), (count + 1).to_bytes(8, "big")])
    key = _total_key("burned", token)
    write_uint(state, BRIDGE_ADDRESS, key, read_uint(state, BRIDGE_ADDRESS, key) + amount)
    call.emit(BRIDGE_ADDRESS, (WITHDRAWAL_RECORDED_TOPIC, topic_uint(withdrawal_id), topic_address(token),
                               topic_address(ctx.sender)), encode(["address", "uint256"], [recipient, amount]))
    return (withdrawal_id,)


def _withdrawal_view(call: Call, withdrawal_id: int) -> tuple:
    found = withdrawal(call.state, withdrawal_id)
    if found is None:
        raise Revert(f"no withdrawal {withdrawal_id}")
    return "0x" + found.l1_token.hex(), "0x" + found.l1_recipient.hex(), found.amount, found.block_number


FUNCTIONS = function_table(
    Function("affirmDeposit", ("uint64 depositId", "address l1Token", "address recipient", "uint256 amount",
                               "string name", "string symbol", "uint8 decimals"), (), AFFIRM_GAS, _affirm),
    Function("withdraw", ("address l1Token", "uint256 amount", "address l1Recipient"), ("uint64 withdrawalId",),
             WITHDRAW_GAS, _withdraw, payable=True),
    Function("nextDepositId", (), ("uint64",), VIEW_GAS, lambda call: (next_deposit_id(call.state),), view=True),
    Function("hasAffirmed", ("uint64 depositId", "address validator"), ("bool",), VIEW_GAS,
             lambda call, deposit_id, validator: (bool(call.state.get_storage(
                 BRIDGE_ADDRESS, _affirmation_key(deposit_id, bytes.fromhex(validator[2:])))),), view=True),
    Function("tokenFor", ("address l1Token",), ("address",), VIEW_GAS,
             lambda call, l1_token: ("0x" + (sidechain_token(call.state, bytes.fromhex(l1_token[2:])) or bytes(20)).hex(),),
             view=True),
    Function("nextWithdrawalId", (), ("uint64",), VIEW_GAS, lambda call: (next_withdrawal_id(call.state),), view=True),
    Function("withdrawal", ("uint64 withdrawalId",),
             ("address l1Token", "address l1Recipient", "uint256 amount", "uint64 blockNumber"), VIEW_GAS, _withdrawal_view,
             view=True),
    Function("genesisSupply", (), ("uint256",), VIEW_GAS, lambda call: (genesis_supply(call.state),), view=True),
)
