"""The rules of the state transition that hold whatever runs a transaction.

The block environment, the result of a block's execution and EIP-1559's base fee; the EVM that
runs the transactions is sidechain/execution's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidTransaction
from .blocks import Header, Receipt
from .state import Account
from .transactions import Transaction

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

    def hash_of(self, number: int) -> bytes:
        """BLOCKHASH of block `number`: zero when the environment has no block hashes."""
        return bytes(32) if self.block_hash is None else self.block_hash(number)


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
