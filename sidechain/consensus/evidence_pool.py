"""The evidence pool: equivocations seen and not committed yet, bounded, and their way into blocks.

As cometbft's `evidence/pool.go`: the driver reports two conflicting signed messages it saw
(ReportConflictingVotes), gossip hands in evidence it verified (AddEvidence), the proposer takes
what is pending into its block (PendingEvidence), every validator checks a proposed block's
evidence before voting for it (CheckEvidence), and a commit indexes the block's evidence and drops
it from the pending set (Update). Pending evidence lives in memory only: it is gossiped as soon as
it is seen, so a restart loses at most what no peer had yet, and the committed index is on disk
(`storage/evidence.py`).

What one validator can make a node hold is bounded: one record per offence (signer, height, round,
step), at most MAX_PER_VALIDATOR pending per signer, MAX_PENDING and MAX_PENDING_BYTES in all, and
nothing older than MAX_EVIDENCE_AGE heights.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from ..chain.blocks import Block
from ..chain.validation import MAX_BLOCK_EVIDENCE
from ..errors import InvalidEvidence
from ..storage.evidence import EvidenceIndex, IndexEntry
from .evidence import (
    DUPLICATE_PROPOSAL, DUPLICATE_VOTE, MAX_EVIDENCE_AGE, DuplicateProposal, DuplicateVote, Evidence, check_block_evidence,
    decode_evidence, evidence_hash, offence_key, offence_of,
)
from .messages import Proposal, Step, ValidatorSet, Vote

log = logging.getLogger("sidechain.consensus")

MAX_PENDING = 256
"""Pending records in all: 8 faulty validators' full shares, far more than a third of any devnet."""
MAX_PENDING_BYTES = 128 * 1024
MAX_PER_VALIDATOR = 8
"""Pending records against one signer: one proves it faulty; a few more cost little, and a faulty
validator equivocating in every round cannot crowd out the evidence against another."""


class EvidencePool:
    def __init__(self, chain_id: int, index: EvidenceIndex, validators_at: Callable[[int], ValidatorSet], *,
                 on_new: Callable[[Evidence], None] = lambda evidence: None) -> None:
        self.chain_id, self.index, self.validators_at, self.on_new = chain_id, index, validators_at, on_new
        self._pending: dict[bytes, tuple[Evidence, bytes]] = {}
        """Offence key -> (evidence, its encoding), oldest first."""
        self._per_validator: Counter[bytes] = Counter()
        self.total_bytes = 0

    def __len__(self) -> int:
        return len(self._pending)

    def knows(self, offence: bytes) -> bool:
        """Pending here or already in a final block: gossip IGNOREs it before checking signatures."""
        return offence in self._pending or self.index.is_committed(offence)

    # --- in --------------------------------------------------------------------------------------

    def second_vote(self, first: Vote, vote: Vote, height: int, *, verified: bool) -> DuplicateVote | None:
        """`vote` came after `first` (verified) for the same validator, height, round and step,
        while deciding `height`: the evidence if they name different blocks and the offence is new
        (for the caller to gossip), else None. Raises InvalidVote if an unverified `vote` is forged."""
        if vote.block_hash == first.block_hash or self.knows(offence_key(DUPLICATE_VOTE, vote.validator, vote.height, vote.round, vote.step)):
            return None
        if not verified:
            vote.verify(self.chain_id)
        evidence = DuplicateVote.of(first, vote)
        return evidence if self.add(evidence, height, "detected") else None

    def second_proposal(self, first: Proposal, proposal: Proposal, height: int) -> DuplicateProposal | None:
        """As second_vote, for a proposal of a round that already has `first` (from its proposer,
        verified); `proposal` is verified here. Raises InvalidVote if it is forged."""
        if (proposal.block_hash == first.block_hash or proposal.proposer != first.proposer
                or self.knows(offence_key(DUPLICATE_PROPOSAL, proposal.proposer, proposal.height, proposal.round, Step.PROPOSE))):
            return None
        proposal.verify(self.chain_id)
        evidence = DuplicateProposal.of(first, proposal)
        return evidence if self.add(evidence, height, "detected") else None

    def add(self, evidence: Evidence, height: int, source: str = "gossip") -> bool:
        """Keep evidence the caller verified; True if it is new and kept (logged and counted)."""
        offence = offence_of(evidence)
        if offence in self._pending or height - evidence.height > MAX_EVIDENCE_AGE:
            return False
        if self.index.is_committed(offence):
            return False
        encoded = evidence.encode()
        if (self._per_validator[evidence.validator] >= MAX_PER_VALIDATOR or len(self._pending) >= MAX_PENDING
                or self.total_bytes + len(encoded) > MAX_PENDING_BYTES):
            log.info("evidence pool full: dropped evidence against 0x%s", evidence.validator.hex(), extra=_at(evidence))
            return False
        self._pending[offence] = (evidence, encoded)
        self._per_validator[evidence.validator] += 1
        self.total_bytes += len(encoded)
        a, b = evidence.messages
        log.warning("equivocation %s: validator 0x%s signed two %s at height %d round %d, for 0x%s and 0x%s (evidence 0x%s)",
                    source, evidence.validator.hex(), _what(evidence), evidence.height, evidence.round,
                    a.block_hash.hex() or "nil", b.block_hash.hex() or "nil", evidence_hash(evidence).hex(), extra=_at(evidence))
        try:
            self.on_new(evidence)
        except Exception:
            log.exception("evidence listener failed")
        return True

    # --- blocks ----------------------------------------------------------------------------------

    def for_block(self, number: int) -> tuple[bytes, ...]:
        """What the proposer of block `number` includes: pending offences of earlier heights still
        within MAX_EVIDENCE_AGE, oldest first, at most MAX_BLOCK_EVIDENCE records."""
        records = []
        for evidence, encoded in self._pending.values():
            if evidence.height < number and number - evidence.height <= MAX_EVIDENCE_AGE:
                records.append(encoded)
                if len(records) == MAX_BLOCK_EVIDENCE:
                    break
        return tuple(records)

    def check_block(self, block: Block) -> list[Evidence]:
        """Raises InvalidEvidence unless every record of `block` proves a fresh offence."""
        return check_block_evidence(block.number, block.evidence, chain_id=self.chain_id, validators_at=self.validators_at,
                                    is_committed=self.index.is_committed)

    def index_block(self, block: Block) -> None:
        """Before `block` commits: index its evidence (see storage/evidence.py for the order)."""
        entries = []
        for record in block.evidence:
            try:
                evidence = decode_evidence(record)
            except InvalidEvidence as exc:  # only in a block certified by more than 1/3 faulty power
                log.error("final block %d carries evidence that does not decode: %s", block.number, exc)
                continue
            entries.append(IndexEntry(record, offence_of(evidence), evidence.validator))
        self.index.record(block.number, block.hash, entries)

    def committed(self, block: Block) -> None:
        """After `block` committed: its offences leave the pending set, as does what grew too old."""
        for record in block.evidence:
            try:
                self._drop(offence_of(decode_evidence(record)))
            except InvalidEvidence:
                pass
        for offence, (evidence, _) in list(self._pending.items()):
            if block.number + 1 - evidence.height > MAX_EVIDENCE_AGE:
                self._drop(offence)

    def _drop(self, offence: bytes) -> None:
        found = self._pending.pop(offence, None)
        if found is not None:
            evidence, encoded = found
            self._per_validator[evidence.validator] -= 1
            if not self._per_validator[evidence.validator]:
                del self._per_validator[evidence.validator]
            self.total_bytes -= len(encoded)


def _what(evidence: Evidence) -> str:
    return "proposals" if evidence.step == Step.PROPOSE else f"{Step(evidence.step).name.lower()}s"


def _at(evidence: Evidence) -> dict:
    return {"height": evidence.height, "round": evidence.round}
