"""OriginOrder: each publisher's order restored, without waiting forever and without duplicates."""

from __future__ import annotations

from sidechain.p2p.ordering import OriginOrder

A, B = b"origin-a", b"origin-b"


def test_in_order_messages_pass_straight_through():
    order = OriginOrder(hold=0.1)
    assert [x for s in range(100, 105) for x in order.offer(A, s, s, now=0.0)] == [100, 101, 102, 103, 104]
    assert order.next_deadline() is None


def test_a_message_after_a_gap_waits_for_the_gap_to_fill():
    order = OriginOrder(hold=0.1)
    assert order.offer(A, 10, "m10", now=0.0) == ["m10"]
    assert order.offer(A, 12, "m12", now=0.01) == []
    assert order.offer(A, 13, "m13", now=0.02) == []
    assert order.next_deadline() == 0.01 + 0.1
    assert order.offer(A, 11, "m11", now=0.03) == ["m11", "m12", "m13"]
    assert order.held == 2 and order.late == 0


def test_a_gap_that_never_fills_is_given_up_after_the_hold_and_the_straggler_comes_late():
    order = OriginOrder(hold=0.1)
    order.offer(A, 1, 1, now=0.0)
    assert order.offer(A, 3, 3, now=0.0) == []
    assert order.expire(now=0.05) == []
    assert order.expire(now=0.1) == [3]
    assert order.offer(A, 4, 4, now=0.2) == [4]
    assert order.offer(A, 2, 2, now=0.3) == [2]  # late, but not lost
    assert order.late == 1
    assert order.offer(A, 2, 2, now=0.4) == []  # a second copy of it is a duplicate
    assert order.duplicates == 1


def test_a_seqno_our_validator_dropped_is_not_waited_for():
    order = OriginOrder(hold=10)
    order.offer(A, 1, 1, now=0.0)
    assert order.offer(A, 3, 3, now=0.0) == []
    assert order.skip(A, 2) == [3]
    assert order.skip(B, 7) == []  # an origin we never delivered from: nothing to release


def test_duplicates_are_dropped_held_or_delivered():
    order = OriginOrder(hold=0.1)
    order.offer(A, 5, 5, now=0.0)
    assert order.offer(A, 5, 5, now=0.0) == []
    order.offer(A, 7, 7, now=0.0)
    assert order.offer(A, 7, 7, now=0.0) == []
    assert order.duplicates == 2


def test_origins_are_independent_and_a_restarted_publisher_starts_a_new_run():
    order = OriginOrder(hold=0.1, max_gap=1000)
    order.offer(A, 1, "a1", now=0.0)
    assert order.offer(A, 3, "a3", now=0.0) == []
    assert order.offer(B, 50, "b50", now=0.0) == ["b50"]
    restarted = 1_700_000_000_000_000_000  # time_ns after a restart: far beyond max_gap
    assert order.offer(A, restarted, "a-new", now=0.01) == ["a3", "a-new"]  # what was held, then the new run
    assert order.offer(A, restarted + 1, "a-new+1", now=0.02) == ["a-new+1"]
