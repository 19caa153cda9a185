"""Evidence of equivocation: two conflicting messages one validator signed, and when they prove it.

A validator that signs two different prevotes (or precommits) for one height and round, or, as a
round's proposer, two proposals of different blocks for it, has broken the protocol whatever its
reasons: an honest one never does (its double-sign guard, signer.py, refuses). The two signed
messages prove it to anyone who knows the validator set of that height, so they are kept, gossiped
and committed in a block, as cometbft does (`types/evidence.go` DuplicateVoteEvidence,
`evidence/verify.go`). Pure: records, their encoding and the rules; no clock, socket or disk.

Wire form: rlp([kind, first message, second message]), the two messages in ascending order of the
block hash they sign, so every node that sees the same two messages makes the same record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import rlp

from ..chain.validation import MAX_BLOCK_EVIDENCE, MAX_EVIDENCE_BYTES
from ..crypto import keccak256
from ..errors import InvalidEvidence, InvalidVote, mismatch
from .messages import Proposal, Step, ValidatorSet, Vote

DUPLICATE_VOTE = 1
DUPLICATE_PROPOSAL = 2
MAX_EVIDENCE_AGE = 10_000
"""Heights after which evidence is dropped, refused by gossip and by blocks (cometbft's
max_age_num_blocks): what a peer can make a node verify stays within recent history, and the pool
forgets what is too late to be acted on."""


def offence_key(kind: int, validator: bytes, height: int, round_: int, step: Step) -> bytes:
    """One key per (kind, signer, height, round, step): a validator that signed three different
    votes in one slot offended once, so one record of it is kept and committed, never more."""
    return keccak256(rlp.encode([kind, validator, height, round_, int(step)]))


class _Pair:
    """What both kinds of evidence share: two messages of one slot, the lower block hash first."""

    __slots__ = ()
    first: Vote | Proposal
    second: Vote | Proposal
    kind: ClassVar[int]

    @property
    def height(self) -> int:
        return self.first.height

    @property
    def round(self) -> int:
        return self.first.round

    @property
    def messages(self) -> tuple:
        return self.first, self.second

    def encode(self) -> bytes:
        return rlp.encode([self.kind, self.first.encode(), self.second.encode()])


@dataclass(frozen=True, slots=True)
class DuplicateVote(_Pair):
    """Two votes of one validator for the same height, round and step, for different blocks (nil
    counts as a block: voting nil and a block in one step conflicts too)."""

    first: Vote
    """The vote for the lower block hash."""
    second: Vote

    kind: ClassVar[int] = DUPLICATE_VOTE
    name: ClassVar[str] = "duplicateVote"

    @classmethod
    def of(cls, a: Vote, b: Vote) -> "DuplicateVote":
        first, second = sorted((a, b), key=lambda v: v.block_hash)
        return cls(first, second)

    @property
    def step(self) -> Step:
        return self.first.step

    @property
    def validator(self) -> bytes:
        return self.first.validator

    def check_shape(self) -> None:
        """The two votes are one slot's and conflict, in canonical order."""
        a, b = self.first, self.second
        if (a.step, a.height, a.round, a.validator) != (b.step, b.height, b.round, b.validator):
            raise InvalidEvidence("duplicate-vote evidence: the votes are not of one validator, height, round and step")
        if not a.block_hash < b.block_hash:
            raise InvalidEvidence("duplicate-vote evidence: the votes must name different blocks, the lower hash first")

    def verify(self, chain_id: int, validators: ValidatorSet) -> None:
        """Raises InvalidEvidence unless this proves that a validator of `validators` (the set of
        this height) signed both votes for this chain."""
        self.check_shape()
        _check_member(self.validator, validators)
        for vote in self.messages:
            try:
                vote.verify(chain_id)
            except InvalidVote as exc:
                raise InvalidEvidence(f"duplicate-vote evidence: {exc}") from None


@dataclass(frozen=True, slots=True)
class DuplicateProposal(_Pair):
    """Two proposals of different blocks for the same height and round, signed by its proposer."""

    first: Proposal
    """The proposal of the lower block hash."""
    second: Proposal

    kind: ClassVar[int] = DUPLICATE_PROPOSAL
    name: ClassVar[str] = "duplicateProposal"
    step: ClassVar[Step] = Step.PROPOSE

    @classmethod
    def of(cls, a: Proposal, b: Proposal) -> "DuplicateProposal":
        first, second = sorted((a, b), key=lambda p: p.block_hash)
        return cls(first, second)

    @property
    def validator(self) -> bytes:
        return self.first.proposer

    def check_shape(self) -> None:
        a, b = self.first, self.second
        if (a.height, a.round, a.proposer) != (b.height, b.round, b.proposer):
            raise InvalidEvidence("duplicate-proposal evidence: the proposals are not of one proposer, height and round")
        if not a.block_hash < b.block_hash:
            raise InvalidEvidence("duplicate-proposal evidence: the proposals must name different blocks, the lower hash first")

    def verify(self, chain_id: int, validators: ValidatorSet) -> None:
        """As DuplicateVote.verify; the signer must also be the proposer of that height and round."""
        self.check_shape()
        _check_member(self.validator, validators)
        expected = validators.proposer(self.height, self.round)
        if expected != self.validator:
            raise InvalidEvidence(mismatch(f"duplicate-proposal evidence: proposer of height {self.height} round {self.round}",
                                           expected="0x" + expected.hex(), got="0x" + self.validator.hex()))
        for proposal in self.messages:
            try:
                proposal.verify(chain_id)
            except InvalidVote as exc:
                raise InvalidEvidence(f"duplicate-proposal evidence: {exc}") from None


Evidence = DuplicateVote | DuplicateProposal


def offence_of(evidence: Evidence) -> bytes:
    return offence_key(evidence.kind, evidence.validator, evidence.height, evidence.round, evidence.step)


def evidence_hash(evidence: Evidence) -> bytes:
    return keccak256(evidence.encode())


def _check_member(validator: bytes, validators: ValidatorSet) -> None:
    if validators.power_of(validator) == 0:
        raise InvalidEvidence(f"evidence against 0x{validator.hex()}, which is not a validator of that height")


def decode_evidence(data: bytes) -> Evidence:
    """One record as `encode` writes it, in canonical form; raises InvalidEvidence otherwise.
    Signatures and the signer's membership are `verify`'s, which needs the height's set."""
    if len(data) > MAX_EVIDENCE_BYTES:
        raise InvalidEvidence(mismatch("evidence record size at most", expected=MAX_EVIDENCE_BYTES, got=len(data)))
    try:
        item = rlp.decode(data)
        if not isinstance(item, list) or len(item) != 3 or not all(isinstance(i, bytes) for i in item):
            raise InvalidEvidence("malformed evidence: expected rlp([kind, message, message])")
        kind = int.from_bytes(item[0], "big") if len(item[0]) <= 1 else -1
        if kind == DUPLICATE_VOTE:
            evidence: Evidence = DuplicateVote(Vote.decode(item[1]), Vote.decode(item[2]))
        elif kind == DUPLICATE_PROPOSAL:
            evidence = DuplicateProposal(Proposal.decode(item[1]), Proposal.decode(item[2]))
        else:
            raise InvalidEvidence(f"malformed evidence: unknown kind 0x{item[0].hex()}")
    except (rlp.DecodingError, InvalidVote) as exc:
        raise InvalidEvidence(f"malformed evidence: {exc}") from None
    evidence.check_shape()
    if evidence.encode() != data:
        raise InvalidEvidence("malformed evidence: not in canonical encoding")
    return evidence


def check_block_evidence(number: int, records: tuple[bytes, ...], *, chain_id: int,
                         validators_at: Callable[[int], ValidatorSet], is_committed: Callable[[bytes], bool]) -> list[Evidence]:
    """The evidence block `number` carries, each record proving an offence of an earlier height
    no older than MAX_EVIDENCE_AGE, each offence once and not committed before (cometbft
    `evidence/pool.go` CheckEvidence); raises InvalidEvidence naming the first that does not."""
    if len(records) > MAX_BLOCK_EVIDENCE:
        raise InvalidEvidence(f"{len(records)} evidence records, limit {MAX_BLOCK_EVIDENCE}")
    seen: set[bytes] = set()
    found = []
    for index, record in enumerate(records):
        evidence = decode_evidence(record)
        if not evidence.height < number:
            raise InvalidEvidence(f"evidence {index} is of height {evidence.height}, not below block {number}")
        if number - evidence.height > MAX_EVIDENCE_AGE:
            raise InvalidEvidence(f"evidence {index} of height {evidence.height} is older than {MAX_EVIDENCE_AGE} blocks")
        offence = offence_of(evidence)
        if offence in seen:
            raise InvalidEvidence(f"evidence {index} repeats an offence already in this block")
        if is_committed(offence):
            raise InvalidEvidence(f"evidence {index} is of an offence already committed")
        seen.add(offence)
        evidence.verify(chain_id, validators_at(evidence.height))
        found.append(evidence)
    return found
