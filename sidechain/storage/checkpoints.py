"""Checkpoints of the committed chain: the content validators sign for a final range, read from
the store (block hashes) and the state (withdrawals, the validator sets).

- blockRoot: the range's block hashes (chain/checkpoints.py).
- withdrawalRoot: the withdrawals recorded in the range, OpenZeppelin leaves in id order, so
  RootBridge.exit verifies the proof from `withdrawal_proof`.
- nextValidatorSetHash: the set that took over after the range's last block, if it changed there.
- signers: the set in force during the range, which CheckpointManager on L1 still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..chain import ozmerkle
from ..chain.genesis import GenesisConfig
from ..chain.checkpoints import NO_VALIDATOR_SET_CHANGE, Checkpoint, checkpoint_bounds, checkpoint_content, checkpoint_of_block
from ..chain.system.bridge import Withdrawal, withdrawal, withdrawals_between
from ..chain.system.validator_set import checkpoint_set, set_after_checkpoint
from ..chain.state import StateReader
from ..chain.validators import ValidatorSet
from ..errors import UnknownBlock


class FinalChain(Protocol):
    """What a checkpoint is read from: the live chain or a snapshot of it."""

    genesis: GenesisConfig

    @property
    def height(self) -> int: ...

    def canonical_hash(self, number: int) -> bytes | None: ...

    def state(self, number: int | None = None) -> StateReader: ...


@dataclass(frozen=True, slots=True)
class FinalCheckpoint:
    content: Checkpoint
    block_hashes: tuple[bytes, ...]
    withdrawals: tuple[Withdrawal, ...]
    signers: ValidatorSet
    """The set that signs it (the one CheckpointManager holds when it is submitted)."""
    next_validators: ValidatorSet | None
    """The set handed to L1 with it, or None when the set did not change after its range."""


def _leaf(w: Withdrawal) -> bytes:
    return ozmerkle.withdrawal_leaf(w.withdrawal_id, w.l1_token, w.l1_recipient, w.amount)


def final_checkpoint(chain: FinalChain, number: int) -> FinalCheckpoint:
    """Checkpoint `number`; UnknownBlock until the last block of its range is final."""
    interval = chain.genesis.checkpoint_interval
    start, end = checkpoint_bounds(number, interval)
    if end > chain.height:
        raise UnknownBlock(f"checkpoint {number} ends at block {end}; the last final block is {chain.height}")
    hashes = [chain.canonical_hash(n) for n in range(start, end + 1)]
    state = chain.state()  # the records read here are written once and never change
    withdrawals = tuple(withdrawals_between(state, start, end))
    signers = checkpoint_set(state, number)
    if signers is None:  # unreachable once the range's last block ran
        raise UnknownBlock(f"no validator set recorded for checkpoint {number}")
    next_validators = set_after_checkpoint(state, number)
    content = checkpoint_content(
        chain.genesis.chain_id, number, interval, hashes,
        withdrawal_root=ozmerkle.merkle_root([_leaf(w) for w in withdrawals]),
        next_validator_set_hash=next_validators.l1_hash() if next_validators is not None else NO_VALIDATOR_SET_CHANGE,
    )
    return FinalCheckpoint(content, tuple(hashes), withdrawals, signers, next_validators)


def withdrawal_proof(chain: FinalChain, withdrawal_id: int) -> tuple[Withdrawal, int, list[bytes]]:
    """(withdrawal, checkpoint number, Merkle proof against that checkpoint's withdrawalRoot).

    UnknownBlock if there is no such withdrawal, or its checkpoint's range is not final yet.
    """
    found = withdrawal(chain.state(), withdrawal_id)
    if found is None:
        raise UnknownBlock(f"no withdrawal {withdrawal_id} on this chain")
    number = checkpoint_of_block(found.block_number, chain.genesis.checkpoint_interval)
    checkpoint = final_checkpoint(chain, number)
    leaves = [_leaf(w) for w in checkpoint.withdrawals]
    index = [w.withdrawal_id for w in checkpoint.withdrawals].index(withdrawal_id)
    return found, number, ozmerkle.merkle_proof(leaves, index)
