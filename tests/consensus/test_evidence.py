"""Equivocation evidence: the record, its verification, the block rules and the gossip check
(issue 10 item 8). Pure: no clock, socket or disk."""

from __future__ import annotations

import time

import pytest
import rlp

from sidechain.chain.blocks import ZERO_HASH, Block, Header, transactions_root
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.validation import MAX_BLOCK_EVIDENCE, validate_body
from sidechain.consensus.evidence import (
    MAX_EVIDENCE_AGE, DuplicateProposal, DuplicateVote, check_block_evidence, decode_evidence, offence_of,
)
from sidechain.consensus.gossip import ROUND_TAKEN, Verdict, check_evidence, check_proposal, encode_proposal
from sidechain.consensus.messages import NIL, Proposal, Step, ValidatorSet, Vote
from sidechain.crypto import private_key_to_address
from sidechain.errors import InvalidBlock, InvalidEvidence

CHAIN_ID = 7070
KEYS = [bytes([0x30 + i]) * 32 for i in range(4)]
ADDRESSES = tuple(private_key_to_address(k) for k in KEYS)
VALIDATORS = ValidatorSet(ADDRESSES, (1, 1, 1, 1))
OUTSIDER_KEY = b"\x77" * 32
A, B = b"\x0a" * 32, b"\x0b" * 32
H = 40
NOT_PROPOSER = next(i for i, a in enumerate(ADDRESSES) if a != VALIDATORS.proposer(H, 0))


def vote(i: int = 3, block_hash: bytes = A, *, height: int = H, round_: int = 0, step: Step = Step.PREVOTE,
         key: bytes | None = None, chain_id: int = CHAIN_ID) -> Vote:
    return Vote.create(chain_id, step, height, round_, block_hash, key or KEYS[i], ADDRESSES[i])


def proposal(block_hash: bytes, *, height: int = H, round_: int = 0, key: bytes | None = None) -> Proposal:
    proposer = VALIDATORS.proposer(height, round_)
    return Proposal.create(CHAIN_ID, height, round_, block_hash, -1, key or KEYS[ADDRESSES.index(proposer)], proposer)


def double_prevote() -> DuplicateVote:
    return DuplicateVote.of(vote(block_hash=B), vote(block_hash=A))


# --- the record ---------------------------------------------------------------------------------


def test_a_double_prevote_makes_one_canonical_record_whichever_vote_came_first():
    first, second = vote(block_hash=B), vote(block_hash=A)
    evidence = DuplicateVote.of(first, second)
    assert evidence == DuplicateVote.of(second, first)
    assert (evidence.first.block_hash, evidence.second.block_hash) == (A, B)
    assert (evidence.validator, evidence.height, evidence.round, evidence.step) == (ADDRESSES[3], H, 0, Step.PREVOTE)
    assert decode_evidence(evidence.encode()) == evidence
    evidence.verify(CHAIN_ID, VALIDATORS)


def test_nil_against_a_block_is_a_double_vote_too():
    evidence = DuplicateVote.of(vote(block_hash=A, step=Step.PRECOMMIT), vote(block_hash=NIL, step=Step.PRECOMMIT))
    assert evidence.first.block_hash == NIL
    decode_evidence(evidence.encode()).verify(CHAIN_ID, VALIDATORS)


def test_a_double_proposal_by_the_rounds_proposer_verifies():
    evidence = DuplicateProposal.of(proposal(B), proposal(A))
    assert decode_evidence(evidence.encode()) == evidence
    evidence.verify(CHAIN_ID, VALIDATORS)
    assert evidence.validator == VALIDATORS.proposer(H, 0)


@pytest.mark.parametrize("name, make", [
    ("a forged signature", lambda: DuplicateVote(vote(block_hash=A), vote(block_hash=B, key=OUTSIDER_KEY))),
    ("a signature for another chain", lambda: DuplicateVote(vote(block_hash=A), vote(block_hash=B, chain_id=1))),
    ("a signer outside the set", lambda: DuplicateVote(
        Vote.create(CHAIN_ID, Step.PREVOTE, H, 0, A, OUTSIDER_KEY, private_key_to_address(OUTSIDER_KEY)),
        Vote.create(CHAIN_ID, Step.PREVOTE, H, 0, B, OUTSIDER_KEY, private_key_to_address(OUTSIDER_KEY)))),
    ("the same block hash", lambda: DuplicateVote(vote(block_hash=A), vote(block_hash=A))),
    ("different heights", lambda: DuplicateVote(vote(block_hash=A), vote(block_hash=B, height=H + 1))),
    ("different rounds", lambda: DuplicateVote(vote(block_hash=A), vote(block_hash=B, round_=1))),
    ("different steps", lambda: DuplicateVote(vote(block_hash=A), vote(block_hash=B, step=Step.PRECOMMIT))),
    ("different validators", lambda: DuplicateVote(vote(2, block_hash=A), vote(3, block_hash=B))),
    ("the higher hash first", lambda: DuplicateVote(vote(block_hash=B), vote(block_hash=A))),
    ("a proposal forged", lambda: DuplicateProposal(proposal(A), proposal(B, key=OUTSIDER_KEY))),
    ("proposals of different rounds", lambda: DuplicateProposal(proposal(A), proposal(B, round_=1))),
    ("proposals by a validator that is not the proposer", lambda: DuplicateProposal(
        Proposal.create(CHAIN_ID, H, 0, A, -1, KEYS[NOT_PROPOSER], ADDRESSES[NOT_PROPOSER]),
        Proposal.create(CHAIN_ID, H, 0, B, -1, KEYS[NOT_PROPOSER], ADDRESSES[NOT_PROPOSER]))),
])
def test_evidence_that_proves_nothing_is_refused(name, make):
    evidence = make()
    with pytest.raises(InvalidEvidence):
        evidence.verify(CHAIN_ID, VALIDATORS)


def test_a_signer_outside_the_set_of_that_height_is_refused():
    # pre: validator 3 double-voted, but the set of that height no longer (or not yet) holds it
    without_3 = VALIDATORS.without_member(ADDRESSES[3])
    with pytest.raises(InvalidEvidence, match="not a validator"):
        double_prevote().verify(CHAIN_ID, without_3)


@pytest.mark.parametrize("data", [
    b"", b"\xc0", rlp.encode([1, b"x", b"y"]), rlp.encode([9, vote().encode(), vote(block_hash=B).encode()]),
    rlp.encode([[1], vote().encode(), vote(block_hash=B).encode()]),
    rlp.encode([1, vote(block_hash=B).encode(), vote(block_hash=A).encode()]),  # not canonical order
    rlp.encode([1, vote().encode(), vote(block_hash=B).encode(), b""]),
    rlp.encode([1, vote().encode() + b"\x00" * 600, vote(block_hash=B).encode()]),  # oversized
])
def test_malformed_records_do_not_decode(data):
    with pytest.raises(InvalidEvidence):
        decode_evidence(data)


# --- in blocks ----------------------------------------------------------------------------------


def block(number: int = H + 1, evidence: tuple[bytes, ...] = ()) -> Block:
    plain = Block(Header(b"\x11" * 32, number, int(time.time()), ADDRESSES[0], ZERO_HASH, transactions_root(()), ZERO_HASH,
                         EMPTY_BLOOM, 30_000_000, 0, 10**9, b""), ())
    return plain.with_evidence(evidence) if evidence else plain


def test_a_block_without_evidence_keeps_its_twelve_field_header_and_hash():
    plain = block()
    assert len(rlp.decode(plain.header.encode())) == 12
    assert Block.decode(plain.encode(), CHAIN_ID) == plain and Block.decode(plain.encode(), CHAIN_ID).hash == plain.hash


def test_a_blocks_header_commits_to_its_evidence():
    record = double_prevote().encode()
    plain, carrying = block(), block(evidence=(record,))
    assert carrying.hash != plain.hash and len(rlp.decode(carrying.header.encode())) == 13
    decoded = Block.decode(carrying.encode(), CHAIN_ID)
    assert decoded.evidence == (record,) and decoded.hash == carrying.hash
    validate_body(decoded)
    # the same header with the evidence stripped, or other evidence, breaks the root
    stripped = Block(carrying.header, carrying.transactions)
    with pytest.raises(InvalidBlock, match="evidence root"):
        validate_body(stripped)
    with pytest.raises(InvalidBlock, match="evidence root"):
        validate_body(Block(carrying.header, (), b"", (DuplicateVote.of(vote(2), vote(2, block_hash=B)).encode(),)))
    with pytest.raises(InvalidBlock, match="evidence records"):
        validate_body(block(evidence=(record,) * (MAX_BLOCK_EVIDENCE + 1)))


def test_block_evidence_rules():
    record = double_prevote().encode()
    committed: set[bytes] = set()

    def check(number, records):
        return check_block_evidence(number, records, chain_id=CHAIN_ID, validators_at=lambda h: VALIDATORS,
                                    is_committed=committed.__contains__)

    assert check(H + 1, (record,)) == [double_prevote()]
    with pytest.raises(InvalidEvidence, match="not below"):
        check(H, (record,))  # evidence of the height being decided waits for the next block
    with pytest.raises(InvalidEvidence, match="older than"):
        check(H + MAX_EVIDENCE_AGE + 1, (record,))
    with pytest.raises(InvalidEvidence, match="repeats"):
        third = DuplicateVote.of(vote(block_hash=A), vote(block_hash=b"\x0c" * 32)).encode()  # same offence, other pair
        check(H + 1, (record, third))
    with pytest.raises(InvalidEvidence):
        check(H + 1, (DuplicateVote(vote(block_hash=A), vote(block_hash=B, key=OUTSIDER_KEY)).encode(),))
    committed.add(offence_of(double_prevote()))
    with pytest.raises(InvalidEvidence, match="already committed"):
        check(H + 1, (record,))


# --- gossip -------------------------------------------------------------------------------------


def test_gossip_accepts_only_evidence_that_verifies():
    def verdict(data, known=frozenset(), current=H):
        checked = check_evidence(data, chain_id=CHAIN_ID, validators_at=lambda h: VALIDATORS, current_height=current,
                                 is_known=known.__contains__)
        return checked.verdict, checked.reason

    good = double_prevote()
    assert verdict(good.encode()) == (Verdict.ACCEPT, "ok")
    assert verdict(good.encode(), known={offence_of(good)}) == (Verdict.IGNORE, "known-evidence")
    assert verdict(good.encode(), current=H - 1) == (Verdict.IGNORE, "future-evidence")
    assert verdict(good.encode(), current=H + MAX_EVIDENCE_AGE + 1) == (Verdict.IGNORE, "stale-evidence")
    forged = DuplicateVote(vote(block_hash=A), vote(block_hash=B, key=OUTSIDER_KEY))
    assert verdict(forged.encode()) == (Verdict.REJECT, "evidence-invalid")
    assert verdict(b"\x01" * 40) == (Verdict.REJECT, "malformed-evidence")
    assert verdict(b"\xc0" * 1000) == (Verdict.REJECT, "evidence-oversized")


def test_a_second_proposal_for_a_round_reaches_the_driver_only_if_its_proposer_signed_it():
    taken = lambda height, round_, signer, size: ROUND_TAKEN  # noqa: E731  (the round has its proposal)
    proposer = VALIDATORS.proposer(H, 0)
    other = Block(Header(b"\x11" * 32, H, int(time.time()), proposer, ZERO_HASH, transactions_root(()), ZERO_HASH,
                         EMPTY_BLOOM, 30_000_000, 0, 10**9, b"second"), ())
    second = proposal(other.hash)
    checked = check_proposal(encode_proposal(second, other), chain_id=CHAIN_ID, validators_at=lambda h: VALIDATORS,
                             current_height=H, refusal=taken)
    assert (checked.verdict, checked.reason, checked.value) == (Verdict.IGNORE, ROUND_TAKEN, second)  # not relayed
    forged = proposal(other.hash, key=OUTSIDER_KEY)
    checked = check_proposal(encode_proposal(forged, other), chain_id=CHAIN_ID, validators_at=lambda h: VALIDATORS,
                             current_height=H, refusal=taken)
    assert (checked.verdict, checked.reason) == (Verdict.REJECT, "proposal-bad-signature")
