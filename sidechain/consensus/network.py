"""What the consensus driver needs around it: where its messages go, and how long rounds wait."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..chain.blocks import Block
from ..chain.validation import MAX_BLOCK_TX_BYTES
from .messages import Proposal, Step, Vote


class ConsensusNetwork(Protocol):
    def broadcast_proposal(self, proposal: Proposal, block: Block) -> None: ...
    def broadcast_vote(self, vote: Vote) -> None: ...
    def broadcast_evidence(self, evidence) -> None:
        """Equivocation evidence this node detected (consensus.evidence)."""


class NoNetwork:
    """A one-validator network: nobody to tell."""

    def broadcast_proposal(self, proposal: Proposal, block: Block) -> None:
        pass

    def broadcast_vote(self, vote: Vote) -> None:
        pass

    def broadcast_evidence(self, evidence) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Round timeouts grow linearly with the round and are capped (never Besu's doubling to hours)."""

    propose: float = 1.0
    vote: float = 0.5
    delta: float = 0.5
    cap: float = 30.0
    rebroadcast: float = 2.0
    """Seconds without a change of height, round or step before our own messages are sent again."""

    def duration(self, step: Step, round_: int) -> float:
        base = self.propose if step == Step.PROPOSE else self.vote
        return min(base + self.delta * round_, self.cap)


def fit_size(candidates: list) -> list:
    """The longest prefix whose raw bytes fit a block (MAX_BLOCK_TX_BYTES)."""
    size = 0
    for i, tx in enumerate(candidates):
        size += len(tx.raw)
        if size > MAX_BLOCK_TX_BYTES:
            return candidates[:i]
    return candidates
