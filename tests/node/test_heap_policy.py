"""The node's garbage-collection policy (sidechain/node/heap.py): everything alive after a commit
is frozen out of the collector's way, and handed back with one full collection at the interval, so
cyclic garbage among frozen objects is collected then and not kept for good."""

from __future__ import annotations

import gc
import weakref

from sidechain.node.heap import HeapPolicy


class FakeCollector:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")

    def collect(self) -> int:
        self.calls.append("collect")
        return 0


def test_each_commit_freezes_and_the_interval_hands_everything_back_with_one_full_collection():
    now = [0.0]
    collector = FakeCollector()
    policy = HeapPolicy(unfreeze_seconds=10.0, clock=lambda: now[0], collector=collector)
    for t in (1.0, 5.0, 9.9):
        now[0] = t
        policy.after_commit()
    assert collector.calls == ["freeze"] * 3
    now[0] = 10.0
    policy.after_commit()
    assert collector.calls[3:] == ["unfreeze", "collect", "freeze"]
    now[0] = 19.9
    policy.after_commit()
    assert collector.calls[6:] == ["freeze"]  # the interval runs from the last hand-back
    policy.close()
    assert collector.calls[-1] == "unfreeze"


class Node:
    """An object in a reference cycle: reference counting alone never frees it."""

    def __init__(self) -> None:
        self.me = self


def test_cyclic_garbage_frozen_by_a_commit_is_collected_at_the_next_hand_back():
    now = [0.0]
    policy = HeapPolicy(unfreeze_seconds=10.0, clock=lambda: now[0])
    try:
        cycle = Node()
        gone = weakref.ref(cycle)
        policy.after_commit()  # alive now: frozen
        del cycle
        gc.collect()
        assert gone() is not None, "a frozen cycle is skipped by collections"
        now[0] = 10.0
        policy.after_commit()  # the hand-back and its full collection
        assert gone() is None
    finally:
        gc.unfreeze()
