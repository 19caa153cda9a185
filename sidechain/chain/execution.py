"""The state transition: a pure, deterministic function of (state, block environment, transactions).

No EVM: a transaction is a value transfer or a call to a system contract (chain/system). It pays
its gas at its effective gas price; the base fee is burned (EIP-1559) and the tip goes to the
block's proposer. After the transactions, the system's end-of-block step runs (the validator set
switches at a checkpoint boundary).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import FeeCapTooLow, GasLimitExceeded, InsufficientFunds, InvalidTransaction, NonceTooHigh, NonceTooLow
from .blocks import Header, Log, Receipt
from .bloom import EMPTY_BLOOM, merge_blooms
from .state import Account, StateOverlay, StateReader
from .system import CallContext, end_block, functions_at, run_call
from .transactions import Transaction, intrinsic_gas

BASE_FEE_MAX_CHANGE_DENOMINATOR = 8
ELASTICITY_MULTIPLIER = 2


@dataclass(frozen=True, slots=True)
class BlockEnv:
    """What a transaction can see of the block it runs in."""

    number: int
    timestamp: int
    proposer: bytes
    base_fee: int
    gas_limit: int
    checkpoint_interval: int = 0


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """The outcome of running a block's transactions against a parent state."""

    transactions: tuple[Transaction, ...]
    """What was executed; when proposing, the candidates minus those skipped as invalid."""
    receipts: tuple[Receipt, ...]
    gas_used: int
    logs_bloom: bytes
    changes: dict[bytes, Account]
    """Every account the block touched, with its value after the block."""
    storage: dict[bytes, dict[bytes, bytes]]
    """Every storage word the block wrote, per contract address (b"" = deleted)."""
    rejected: tuple[tuple[Transaction, InvalidTransaction], ...] = ()
    """Candidates left out while proposing, with the reason."""


def next_base_fee(parent: Header, floor: int) -> int:
    """EIP-1559's base fee for the child of `parent`, never below `floor` (the genesis base fee).

    The floor keeps a quiet sidechain from pricing block space at zero.
    """
    target = parent.gas_limit // ELASTICITY_MULTIPLIER
    if parent.gas_used == target or target == 0:
        fee = parent.base_fee
    elif parent.gas_used > target:
        delta = parent.base_fee * (parent.gas_used - target) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
        fee = parent.base_fee + max(delta, 1)
    else:
        delta = parent.base_fee * (target - parent.gas_used) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
        fee = parent.base_fee - delta
    return max(fee, floor)


def apply_transaction(state: StateOverlay, tx: Transaction, env: BlockEnv, gas_left: int) -> tuple[int, tuple[Log, ...], int]:
    """Apply one transaction; returns (gas used, logs, status). Raises InvalidTransaction and changes
    nothing if the transaction cannot be included in this block."""
    if tx.gas > gas_left:
        raise GasLimitExceeded(f"gas limit reached: transaction gas {tx.gas}, block gas left {gas_left}")
    if tx.max_fee_per_gas < env.base_fee:
        raise FeeCapTooLow(
            f"max fee per gas less than block base fee: address 0x{tx.sender.hex()}, "
            f"maxFeePerGas: {tx.max_fee_per_gas}, baseFee: {env.base_fee}"
        )
    sender = state.get_account(tx.sender)
    if tx.nonce < sender.nonce:
        raise NonceTooLow(f"nonce too low: next nonce {sender.nonce}, tx nonce {tx.nonce}")
    if tx.nonce > sender.nonce:
        raise NonceTooHigh(f"nonce too high: next nonce {sender.nonce}, tx nonce {tx.nonce}")
    upfront = tx.gas * tx.max_fee_per_gas + tx.value
    if sender.balance < upfront:
        raise InsufficientFunds(
            f"insufficient funds for gas * price + value: address 0x{tx.sender.hex()} "
            f"have {sender.balance} want {upfront}"
        )
    gas_used = intrinsic_gas(tx.data, tx.access_list)
    logs: tuple[Log, ...] = ()
    status = 1
    functions = functions_at(state, tx.to) if tx.to is not None else None
    if functions is not None:
        ctx = CallContext(tx.sender, tx.to, tx.value, tx.data, env.number, env.checkpoint_interval)
        outcome = run_call(state, ctx, functions, tx.gas - gas_used)
        gas_used += outcome.gas
        logs, status = outcome.logs, int(outcome.success)
        sender = state.get_account(tx.sender)  # the call moved the value, if it succeeded
    tip = tx.effective_tip(env.base_fee)
    fee = gas_used * (env.base_fee + tip)
    spent = fee + (tx.value if functions is None else 0)
    state.set_account(tx.sender, Account(sender.nonce + 1, sender.balance - spent, sender.storage_root, sender.code_hash))
    if tx.value and functions is None:
        recipient = state.get_account(tx.to)
        state.set_account(tx.to, Account(recipient.nonce, recipient.balance + tx.value, recipient.storage_root, recipient.code_hash))
    if tip:
        proposer = state.get_account(env.proposer)
        state.set_account(env.proposer, Account(proposer.nonce, proposer.balance + gas_used * tip, proposer.storage_root, proposer.code_hash))
    return gas_used, logs, status


def execute_transactions(
    parent_state: StateReader, env: BlockEnv, transactions: Iterable[Transaction], *, skip_invalid: bool
) -> ExecutionResult:
    """Run `transactions` in order on top of `parent_state`.

    skip_invalid=True (building a proposal): an invalid candidate is left out and reported in
    `rejected`. skip_invalid=False (checking a received block): the first invalid one raises.
    """
    state = StateOverlay(parent_state)
    included: list[Transaction] = []
    receipts: list[Receipt] = []
    rejected: list[tuple[Transaction, InvalidTransaction]] = []
    cumulative = 0
    for tx in transactions:
        try:
            gas_used, logs, status = apply_transaction(state, tx, env, env.gas_limit - cumulative)
        except InvalidTransaction as exc:
            if not skip_invalid:
                raise
            rejected.append((tx, exc))
            continue
        cumulative += gas_used
        included.append(tx)
        receipts.append(Receipt(tx.tx_type, status, cumulative, logs, gas_used, tx.effective_gas_price(env.base_fee)))
    end_block(state, env.number, env.checkpoint_interval)
    bloom = merge_blooms(r.bloom for r in receipts if r.logs) if any(r.logs for r in receipts) else EMPTY_BLOOM
    return ExecutionResult(tuple(included), tuple(receipts), cumulative, bloom, state.changes, state.storage_by_address(),
                           tuple(rejected))
