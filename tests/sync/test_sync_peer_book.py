"""The syncer's book of peers on a fake clock: benching doubles up to its cap, a forgery benches for
the maximum at once, a kept claim forgives, only a backed claim counts as the highest head, the
order puts liars last, and the book stays bounded however many peer ids come by."""

from __future__ import annotations

import pytest

from sidechain.sync.peers import BENCH_SECONDS, MAX_BENCH_SECONDS, MAX_TRACKED_PEERS, PeerBook


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_benching_doubles_per_broken_promise_up_to_the_cap_and_a_kept_claim_forgives():
    clock = Clock()
    book = PeerBook(clock)
    benched = []
    for _ in range(10):
        book.claimed("liar", 2**63)
        benched.append(book.failed("liar"))
        assert book.benched("liar")
        clock.now += benched[-1]
        assert not book.benched("liar"), f"expected the bench over after {benched[-1]} s"
    assert benched[:3] == [BENCH_SECONDS, 2 * BENCH_SECONDS, 4 * BENCH_SECONDS]
    assert max(benched) == benched[-1] == MAX_BENCH_SECONDS
    book.claimed("liar", 50)
    book.delivered("liar", 50)  # it delivered up to what it claimed: strikes forgiven
    assert book.failed("liar") == BENCH_SECONDS


def test_claiming_our_own_head_does_not_forgive_a_peer_that_never_delivered():
    clock = Clock()
    book = PeerBook(clock)
    book.claimed("liar", 2**63)
    book.failed("liar")
    clock.now += BENCH_SECONDS
    book.claimed("liar", 10)
    book.reached("liar", 10)
    assert book.failed("liar") == 2 * BENCH_SECONDS
    clock.now += 2 * BENCH_SECONDS
    book.claimed("honest", 12)
    book.delivered("honest", 11)
    book.failed("honest")
    book.claimed("honest", 12)
    book.delivered("honest", 11)  # backed again, short of its claim: still struck
    book.reached("honest", 12)
    assert book.failed("honest") == BENCH_SECONDS


def test_a_forgery_benches_for_the_maximum_at_once():
    clock = Clock()
    book = PeerBook(clock)
    book.claimed("forger", 10)
    assert book.failed("forger", severe=True) == MAX_BENCH_SECONDS
    clock.now += MAX_BENCH_SECONDS - 0.1
    assert book.benched("forger")


def test_only_a_claim_backed_by_a_delivery_counts_and_a_broken_one_is_forgotten():
    clock = Clock()
    book = PeerBook(clock)
    book.claimed("honest", 100)
    book.claimed("liar", 2**63)
    assert book.highest_backed(["honest", "liar"]) == 0, "bare claims are not reported"
    book.delivered("honest", 64)
    assert book.highest_backed(["honest", "liar"]) == 100
    book.delivered("liar", 70)
    assert book.highest_backed(["honest", "liar"]) == 2**63
    book.failed("liar")
    assert book.highest_backed(["honest", "liar"]) == 100
    book.claimed("honest", 90)  # a lower claim lowers what it backed
    assert book.highest_backed(["honest"]) == 90
    assert book.highest_backed(["gone"]) == 0


def test_order_fewest_strikes_then_lowest_claim_then_round_robin():
    book = PeerBook(Clock())
    for peer, head in (("a", 100), ("b", 100), ("c", 100), ("liar", 2**63), ("struck", 100)):
        book.claimed(peer, head)
    book.failed("struck")
    book.claimed("struck", 100)
    firsts = {tuple(book.order(["a", "b", "c", "liar", "struck"], turn))[:3] for turn in range(3)}
    assert firsts == {("a", "b", "c"), ("b", "c", "a"), ("c", "a", "b")}
    assert book.order(["a", "b", "c", "liar", "struck"], 0)[3:] == ["liar", "struck"]
    assert book.order([], 5) == []


def test_the_book_stays_bounded_and_evicts_the_least_recently_heard_of():
    book = PeerBook(Clock())
    for i in range(10 * MAX_TRACKED_PEERS):
        book.claimed(f"peer-{i}", i)
    assert len(book) == MAX_TRACKED_PEERS
    assert book.get("peer-0") is None and book.get(f"peer-{10 * MAX_TRACKED_PEERS - 1}") is not None
    with pytest.raises(ValueError, match="capacity must be >= 1, got 0"):
        PeerBook(Clock(), capacity=0)
