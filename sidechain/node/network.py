"""The node's consensus gossip: proposals, votes and evidence over the P2PService.

Validation (ACCEPT / IGNORE / REJECT, sidechain.consensus.gossip) runs before a message is
relayed; what it decoded is handed to the consensus driver, so nothing is decoded or verified twice.
Everything the gossip needs comes in explicitly: the driver as a `ConsensusInbox`, the validator
sets and pooled senders as functions, and what the node does about a verdict (metrics, waking the
syncer) as callbacks. Transactions have their own topic on the mempool side (mempool/gossip.py).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from ..chain.blocks import Block
from ..chain.transactions import Transaction
from ..consensus.evidence import Evidence
from ..consensus.gossip import (
    MISSING_TRANSACTIONS, ROUND_TAKEN, TOPIC_EVIDENCE, TOPIC_PROPOSALS, TOPIC_VOTES, UNKNOWN_VALIDATOR_SET, PendingProposal,
    ValidatorsAt, check_evidence, check_proposal, check_vote, encode_proposal,
)
from ..consensus.messages import Proposal, Vote
from ..p2p import ValidationResult
from ..verdicts import Checked, Verdict

log = logging.getLogger("sidechain.gossip")

MAX_CHECKED = 4096
"""Checked messages waiting for their handler; the oldest is forgotten beyond it."""
BATCH_WAIT = 0.15
"""Seconds a proposal lacking transactions waits for the batch checks in progress, before asking
peers (mempool/fetch.py: three peers at 0.6 s each also fit gossip validation's 2 s)."""
TRANSACTIONS_UNAVAILABLE = "transactions-unavailable"
"""A compact proposal whose missing transactions no peer gave (or that may not ask for them)."""


class ConsensusInbox(Protocol):
    """What gossip reads of, and hands messages to, the consensus driver."""

    @property
    def height(self) -> int:
        """The height being decided."""
        ...

    @property
    def height_started(self) -> float:
        """When it started (wall clock), for the vote-latency metric."""
        ...

    def refusal(self, height: int, round_: int, signer: bytes, size: int, *, proposal: bool = False) -> str | None: ...
    def receive_proposal(self, proposal: Proposal, block: Block, *, verified: bool = False) -> None: ...
    def receive_vote(self, vote: Vote, *, verified: bool = False) -> None: ...
    def receive_duplicate_proposal(self, proposal: Proposal) -> None: ...
    def receive_evidence(self, evidence: Evidence) -> None: ...

    def knows_evidence(self, offence: bytes) -> bool:
        """Whether evidence of this offence is pending here or in a final block."""
        ...


def _nothing(*args) -> None:
    return None


class GossipNetwork:
    """Publishes this node's proposals, votes and evidence; admits peers' and routes them to `serve`'s inbox.

    `validators_at(height)`: the set voting there, None if not known yet; `known(tx_hash)`: a
    transaction verified here already (decoded, its sender recovered), if any; `saw(transactions)`:
    those an accepted proposal's block brought; `fetch(hashes, origin)`: the transactions a compact
    proposal names and this node lacks, from its peers (mempool/fetch.py; none without it);
    `batches_checked(timeout)`: waits for the transaction batches being checked here (a proposal's
    transactions usually travel just ahead of it in one); `before_proposal()`: publish what the
    node's transaction gossip holds, so this node's proposal follows its transactions;
    `on_rejected(topic, reason, verdict)`: a message not ACCEPTed; `on_behind()`: a message of a
    later height (the node syncs); `on_vote_delay(s)`: seconds from the start of the height to a
    peer's vote arriving.
    """

    def __init__(self, p2p, *, chain_id: int, validators_at: ValidatorsAt,
                 known: Callable[[bytes], Transaction | None] = lambda tx_hash: None,
                 saw: Callable[[tuple[Transaction, ...]], None] = _nothing,
                 fetch: Callable[[list[bytes], str], Awaitable[dict[bytes, Transaction]]] | None = None,
                 batches_checked: Callable[[float], Awaitable[None]] | None = None,
                 before_proposal: Callable[[], None] = _nothing,
                 on_rejected: Callable[[str, str, str], None] = _nothing, on_behind: Callable[[], None] = _nothing,
                 on_vote_delay: Callable[[float], None] = _nothing) -> None:
        self.p2p, self.chain_id, self.validators_at, self.known, self.saw = p2p, chain_id, validators_at, known, saw
        self.fetch, self.batches_checked, self.before_proposal = fetch, batches_checked, before_proposal
        self.on_rejected, self.on_behind, self.on_vote_delay = on_rejected, on_behind, on_vote_delay
        self.consensus: ConsensusInbox | None = None
        self._checked: dict[bytes, object] = {}

    def serve(self, consensus: ConsensusInbox) -> None:
        """Take the consensus topics in and route them to `consensus` (the driver, which in turn
        broadcasts through this object: hence two steps)."""
        self.consensus = consensus
        self.p2p.subscribe(TOPIC_PROPOSALS, self._validate_proposal, self._on_proposal)
        self.p2p.subscribe(TOPIC_VOTES, self._validate_vote, self._on_vote)
        self.p2p.subscribe(TOPIC_EVIDENCE, self._validate_evidence, self._on_evidence)

    # --- outgoing ---------------------------------------------------------------------------------

    def broadcast_proposal(self, proposal: Proposal, block: Block) -> None:
        try:
            self.before_proposal()
        except Exception:  # noqa: BLE001 - the proposal goes out regardless; peers fetch what they lack
            log.exception("flushing transaction gossip before a proposal failed")
        self.p2p.publish(TOPIC_PROPOSALS, encode_proposal(proposal, block))

    def broadcast_vote(self, vote: Vote) -> None:
        self.p2p.publish(TOPIC_VOTES, vote.encode())

    def broadcast_evidence(self, evidence: Evidence) -> None:
        self.p2p.publish(TOPIC_EVIDENCE, evidence.encode())

    # --- incoming ---------------------------------------------------------------------------------

    def _verdict(self, topic: str, data: bytes, checked: Checked) -> ValidationResult:
        consensus = self.consensus
        if checked.verdict is Verdict.ACCEPT:
            self._checked[data] = checked.value
            if len(self._checked) > MAX_CHECKED:
                self._checked.pop(next(iter(self._checked)))
        else:
            self.on_rejected(topic, checked.reason, checked.verdict.value)
            if checked.reason == "future-height":
                self.on_behind()
            elif checked.reason == ROUND_TAKEN and checked.value is not None:
                consensus.receive_duplicate_proposal(checked.value)  # not executed: evidence if it conflicts
            elif checked.reason == UNKNOWN_VALIDATOR_SET and checked.value is not None:
                # Not relayed, but this node keeps it: the driver checks it against the right set
                # when its height comes (the first height after a range's last block).
                if topic == TOPIC_VOTES:
                    consensus.receive_vote(checked.value, verified=False)
                else:
                    consensus.receive_proposal(*checked.value, verified=True)  # its signature checked
        return ValidationResult(checked.verdict.value)

    def _validate_proposal(self, data: bytes, peer: str) -> ValidationResult:
        consensus = self.consensus
        checked = check_proposal(
            data, chain_id=self.chain_id, validators_at=self.validators_at, current_height=consensus.height,
            known=self.known, refusal=functools.partial(consensus.refusal, proposal=True))
        if checked.reason == MISSING_TRANSACTIONS:
            if checked.value.verdict is Verdict.ACCEPT and self.fetch is not None:
                return self._complete_proposal(data, checked.value, peer)
            # Only the round's own proposer makes this node ask its peers: the proposer of a height
            # whose validator set is not known yet cannot be told from anyone who signs.
            checked = Checked(Verdict.IGNORE, TRANSACTIONS_UNAVAILABLE)
        return self._proposal_verdict(data, checked)

    async def _complete_proposal(self, data: bytes, pending: PendingProposal, peer: str) -> ValidationResult:
        """Fetch what the block lacks, then judge it whole; IGNOREd (neither relayed nor delivered)
        if a transaction is still missing. A batch being checked here usually holds what is
        missing (the proposer published it just before): that check is waited for first."""
        if self.batches_checked is not None:
            await self.batches_checked(BATCH_WAIT)
            checked = pending.complete(self.known)
            if checked is not None:
                return self._proposal_verdict(data, checked)
        fetched = await self.fetch(pending.missing(self.known), peer)
        checked = pending.complete(lambda tx_hash: fetched.get(tx_hash) or self.known(tx_hash))
        return self._proposal_verdict(data, checked or Checked(Verdict.IGNORE, TRANSACTIONS_UNAVAILABLE))

    def _proposal_verdict(self, data: bytes, checked: Checked) -> ValidationResult:
        if isinstance(checked.value, tuple):  # its block assembled: the transactions' batches need no recovery
            self.saw(checked.value[1].transactions)
        return self._verdict(TOPIC_PROPOSALS, data, checked)

    def _on_proposal(self, data: bytes, peer: str) -> None:
        value = self._checked.pop(data, None)
        if value is not None:
            proposal, block = value
            if proposal.height > self.consensus.height:
                self.on_behind()
            self.consensus.receive_proposal(proposal, block, verified=True)

    def _validate_vote(self, data: bytes, peer: str) -> ValidationResult:
        consensus = self.consensus
        return self._verdict(TOPIC_VOTES, data, check_vote(
            data, chain_id=self.chain_id, validators_at=self.validators_at, current_height=consensus.height,
            refusal=consensus.refusal))

    def _on_vote(self, data: bytes, peer: str) -> None:
        vote = self._checked.pop(data, None)
        if vote is not None:
            if vote.height > self.consensus.height:
                self.on_behind()
            else:  # a later height's vote says nothing of how late this height's votes come
                self.on_vote_delay(max(0.0, time.time() - self.consensus.height_started))
            self.consensus.receive_vote(vote, verified=True)

    def _validate_evidence(self, data: bytes, peer: str) -> ValidationResult:
        return self._verdict(TOPIC_EVIDENCE, data, check_evidence(
            data, chain_id=self.chain_id, validators_at=self.validators_at, current_height=self.consensus.height,
            is_known=self.consensus.knows_evidence))

    def _on_evidence(self, data: bytes, peer: str) -> None:
        evidence = self._checked.pop(data, None)
        if evidence is not None:
            self.consensus.receive_evidence(evidence)
