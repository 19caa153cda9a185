"""Where the consensus driver's own messages go: the gossip network, or nowhere for one validator."""

from __future__ import annotations

from typing import Protocol

from ..chain.blocks import Block
from .evidence import Evidence
from .messages import Proposal, Vote


class ConsensusNetwork(Protocol):
    def broadcast_proposal(self, proposal: Proposal, block: Block) -> None: ...
    def broadcast_vote(self, vote: Vote) -> None: ...
    def broadcast_evidence(self, evidence: Evidence) -> None:
        """Equivocation evidence this node detected (consensus.evidence)."""


class NoNetwork:
    """A one-validator network: nobody to tell."""

    def broadcast_proposal(self, proposal: Proposal, block: Block) -> None:
        pass

    def broadcast_vote(self, vote: Vote) -> None:
        pass

    def broadcast_evidence(self, evidence: Evidence) -> None:
        pass
