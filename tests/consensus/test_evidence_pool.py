"""The evidence pool's bounds and bookkeeping: one record per offence, a share per signer, a cap
in count and bytes, nothing older than the max age; what goes into a block and leaves after it."""

from __future__ import annotations

import time

import pytest

from sidechain.chain.blocks import ZERO_HASH, Block, Header, transactions_root
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.validation import MAX_BLOCK_EVIDENCE
from sidechain.consensus import evidence_pool
from sidechain.consensus.evidence import MAX_EVIDENCE_AGE, DuplicateVote, offence_of
from sidechain.consensus.evidence_pool import MAX_PENDING, MAX_PER_VALIDATOR, EvidencePool
from sidechain.consensus.messages import Step, ValidatorSet, Vote
from sidechain.crypto import private_key_to_address
from sidechain.errors import InvalidVote

CHAIN_ID = 7070
H = 100


class MemoryIndex:
    """The committed index as the pool sees it."""

    def __init__(self) -> None:
        self.committed: set[bytes] = set()
        self.recorded: list = []

    def is_committed(self, offence: bytes) -> bool:
        return offence in self.committed

    def record(self, number, block_hash, entries) -> None:
        entries = list(entries)
        self.recorded.append((number, block_hash, entries))
        self.committed.update(e.offence for e in entries)


def key(i: int) -> bytes:
    return (0x1000 + i).to_bytes(32, "big")


def double_vote(i: int = 0, *, height: int = H, round_: int = 0) -> DuplicateVote:
    k, address = key(i), private_key_to_address(key(i))
    return DuplicateVote.of(*(Vote.create(CHAIN_ID, Step.PREVOTE, height, round_, h, k, address) for h in (b"\x01" * 32, b"\x02" * 32)))


def pool(index=None) -> EvidencePool:
    validators = ValidatorSet(tuple(private_key_to_address(key(i)) for i in range(4)), (1, 1, 1, 1))
    return EvidencePool(CHAIN_ID, index or MemoryIndex(), lambda h: validators)


def block_with(number: int, records: tuple[bytes, ...]) -> Block:
    plain = Block(Header(b"\x11" * 32, number, int(time.time()), b"\x00" * 20, ZERO_HASH, transactions_root(()), ZERO_HASH,
                         EMPTY_BLOOM, 30_000_000, 0, 10**9, b""), ())
    return plain.with_evidence(records) if records else plain


def test_one_record_per_offence():
    p = pool()
    assert p.add(double_vote(), H)
    assert not p.add(double_vote(), H)
    k, a = key(0), private_key_to_address(key(0))
    other_pair = DuplicateVote.of(Vote.create(CHAIN_ID, Step.PREVOTE, H, 0, b"\x01" * 32, k, a),
                                  Vote.create(CHAIN_ID, Step.PREVOTE, H, 0, b"\x03" * 32, k, a))
    assert not p.add(other_pair, H)  # a third vote in the same slot is the same offence
    assert len(p) == 1


def test_one_signer_holds_at_most_its_share_and_cannot_crowd_out_another():
    p = pool()
    kept = [p.add(double_vote(0, round_=r), H) for r in range(MAX_PER_VALIDATOR + 5)]
    assert kept.count(True) == MAX_PER_VALIDATOR
    assert p.add(double_vote(1), H)


def test_the_pool_is_bounded_in_count_and_bytes(monkeypatch):
    p = pool()
    signers = MAX_PENDING // MAX_PER_VALIDATOR + 2
    for i in range(signers):
        for r in range(MAX_PER_VALIDATOR):
            p.add(double_vote(i, round_=r), H)
    assert len(p) == MAX_PENDING
    assert p.total_bytes <= evidence_pool.MAX_PENDING_BYTES

    monkeypatch.setattr(evidence_pool, "MAX_PENDING_BYTES", 3 * len(double_vote().encode()))
    small = pool()
    assert [small.add(double_vote(i), H) for i in range(5)] == [True, True, True, False, False]


def test_evidence_older_than_the_max_age_is_refused_and_pruned():
    p = pool()
    assert not p.add(double_vote(height=H), H + MAX_EVIDENCE_AGE + 1)
    assert p.add(double_vote(height=H), H + 1)
    p.committed(block_with(H + MAX_EVIDENCE_AGE, ()))
    assert len(p) == 0 and p.total_bytes == 0


def test_a_block_takes_earlier_heights_oldest_first_and_committing_it_clears_them():
    index = MemoryIndex()
    p = pool(index)
    current = double_vote(0, height=H + 1)
    older = [double_vote(1 + i // MAX_PER_VALIDATOR, round_=i % MAX_PER_VALIDATOR) for i in range(MAX_BLOCK_EVIDENCE + 3)]
    assert p.add(current, H + 1)
    for evidence in older:
        assert p.add(evidence, H + 1)
    records = p.for_block(H + 1)  # the evidence of height H + 1 waits for block H + 2
    assert records == tuple(e.encode() for e in older[:MAX_BLOCK_EVIDENCE])

    block = block_with(H + 1, records)
    p.index_block(block)
    p.committed(block)
    assert [e.offence for e in index.recorded[0][2]] == [offence_of(e) for e in older[:MAX_BLOCK_EVIDENCE]]
    assert len(p) == 4 and all(p.knows(offence_of(e)) for e in older)  # pending or committed
    assert not p.add(older[0], H + 2)  # committed: never pending again


def test_a_second_vote_is_evidence_once_and_a_forged_one_raises():
    p = pool()
    k, a = key(3), private_key_to_address(key(3))
    first = Vote.create(CHAIN_ID, Step.PRECOMMIT, H, 2, b"\x05" * 32, k, a)
    assert p.second_vote(first, first, H, verified=True) is None  # the same vote again is no offence
    forged = Vote(Step.PRECOMMIT, H, 2, b"\x06" * 32, a, Vote.create(CHAIN_ID, Step.PRECOMMIT, H, 2, b"\x06" * 32, key(9), a).signature)
    with pytest.raises(InvalidVote):
        p.second_vote(first, forged, H, verified=False)
    second = Vote.create(CHAIN_ID, Step.PRECOMMIT, H, 2, b"\x06" * 32, k, a)
    evidence = p.second_vote(first, second, H, verified=False)
    assert evidence == DuplicateVote.of(first, second)
    assert p.second_vote(first, second, H, verified=True) is None  # known now: not reported twice
