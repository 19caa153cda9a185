"""What the consensus driver reports about itself (sidechain_consensusStatus formats it, rpc/backend.py)."""

from __future__ import annotations

from dataclasses import dataclass

from .messages import Step


@dataclass(frozen=True, slots=True)
class ConsensusStatus:
    """The height being decided and where its rounds stand."""

    height: int
    """The height being decided (the next one, between a commit and its start)."""
    round: int
    step: Step
    locked_round: int
    """-1: not locked."""
    valid_round: int
    """-1: no valid value seen."""
    proposer: bytes
    """The proposer of this height and round."""
    validators: tuple[bytes, ...]
    """The addresses voting on this height."""
    is_validator: bool
    """Whether this node's key is among them."""
    pending_evidence: int
    """Equivocation evidence waiting for a block."""
    last_commit_seconds: float
    """From the start of the last decided height to its commit."""
