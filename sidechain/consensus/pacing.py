"""Block pacing and packing: when the next height starts after a commit, and how much of the pool
one proposal takes.

Pacing is cometbft's timeout_commit made load-aware: the next height starts once a quarter of the
block time has passed if transactions are waiting, else when the whole block time has, so an idle
chain makes a block per block time and a busy one is not held back by the clock.
"""

from __future__ import annotations

from collections.abc import Callable

from ..chain.validation import MAX_BLOCK_TX_BYTES

START_NOW = None
"""What `BlockPacer.next_check` answers when the next height should start at once."""


class BlockPacer:
    """The delays between a commit and the start of the next height (see the module docstring)."""

    def __init__(self, block_time: float, has_pending: Callable[[], bool], clock: Callable[[], float]) -> None:
        self.block_time, self.has_pending, self.clock = block_time, has_pending, clock

    def first_check(self, height_started: float) -> float:
        """Seconds from now to the first look at the pool: a quarter of the block time into the height."""
        return max(0.0, height_started + self.block_time / 4 - self.clock())

    def next_check(self, height_started: float) -> float | None:
        """START_NOW when transactions wait or the block time is over, else the seconds to the next look."""
        latest = height_started + self.block_time
        now = self.clock()
        if self.has_pending() or now >= latest - 0.001:
            return START_NOW
        return min(self.block_time / 4, latest - now)


def fit_size(candidates: list) -> list:
    """The longest prefix whose raw bytes fit a block (MAX_BLOCK_TX_BYTES)."""
    size = 0
    for i, tx in enumerate(candidates):
        size += len(tx.raw)
        if size > MAX_BLOCK_TX_BYTES:
            return candidates[:i]
    return candidates
