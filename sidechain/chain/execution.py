"""The rules of the state transition that hold whatever runs a transaction.

The block environment, the result of a block's execution, EIP-1559's base fee, and the path of a
call to a built-in system contract (chain/system), which runs here in Python: it pays its gas at
its effective gas price, the base fee is burned (EIP-1559) and the tip goes to the block's
proposer, exactly as a transaction the EVM runs (sidechain/execution). After the transactions,
the system's end-of-block step runs (the validator set switches at a checkpoint boundary).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import FeeCapTooLow, GasLimitExceeded, InsufficientFunds, InvalidTransaction, NonceTooHigh, NonceTooLow
from .blocks import Header, Log, Receipt
from .state import Account, StateOverlay
from .system import CallContext, Function, run_call
from .transactions import Transaction, intrinsic_gas

BASE_FEE_MAX_CHANGE_DENOMINATOR = 8
ELASTICITY_MULTIPLIER = 2


@dataclass(frozen=True, slots=True)
class BlockEnv:
    """What a transaction can see of the block it runs in."""

    chain_id: int
    number: int
    timestamp: int
    proposer: bytes
    base_fee: int
    gas_limit: int
    checkpoint_interval: int = 0
    block_hash: Callable[[int], bytes] | None = None
    """The hash of an earlier block by number (the EVM's BLOCKHASH); None: every hash reads as zero."""


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
    code: dict[bytes, bytes] | None = None
    """Code the block deployed, by its keccak hash."""
    contract_addresses: tuple[bytes | None, ...] = ()
    """Per receipt: the address a contract creation deployed to (None for calls or failed creations)."""


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


def apply_system_transaction(state: StateOverlay, tx: Transaction, env: BlockEnv, gas_left: int,
                             functions: dict[bytes, Function]) -> tuple[int, tuple[Log, ...], int]:
    """Apply one transaction to a system contract; returns (gas used, logs, status). Raises
    InvalidTransaction and changes nothing if the transaction cannot be included in this block."""
    if tx.gas > gas_left:
        raise GasLimitExceeded.block_full(tx.gas, gas_left)
    if tx.max_fee_per_gas < env.base_fee:
        raise FeeCapTooLow.of(tx.sender, tx.max_fee_per_gas, env.base_fee)
    sender = state.get_account(tx.sender)
    if tx.nonce < sender.nonce:
        raise NonceTooLow.of(sender.nonce, tx.nonce)
    if tx.nonce > sender.nonce:
        raise NonceTooHigh.of(sender.nonce, tx.nonce)
    upfront = tx.gas * tx.max_fee_per_gas + tx.value
    if sender.balance < upfront:
        raise InsufficientFunds.of(tx.sender, sender.balance, upfront)
    gas_used = intrinsic_gas(tx.data, tx.access_list)
    ctx = CallContext(tx.sender, tx.to, tx.value, tx.data, env.number, env.checkpoint_interval)
    outcome = run_call(state, ctx, functions, tx.gas - gas_used)
    gas_used += outcome.gas
    sender = state.get_account(tx.sender)  # the call moved the value, if it succeeded
    tip = tx.effective_tip(env.base_fee)
    fee = gas_used * (env.base_fee + tip)
    state.set_account(tx.sender, Account(sender.nonce + 1, sender.balance - fee, sender.storage_root, sender.code_hash))
    if tip:
        proposer = state.get_account(env.proposer)
        state.set_account(env.proposer, Account(proposer.nonce, proposer.balance + gas_used * tip, proposer.storage_root, proposer.code_hash))
    return gas_used, outcome.logs, int(outcome.success)
