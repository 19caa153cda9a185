"""Block pacing and packing: when the next height starts after a commit, and how much of the pool
one proposal takes.

Pacing is cometbft's timeout_commit made load-aware: if transactions are waiting, the next height
starts a fifth of the block time after the first proposal of this one reached the node (a quarter
after the height started, if none did), else once the whole block time has passed since the height
started; so an idle chain makes a block per block time and a busy one is not held back by the clock.

Why the proposal: it reaches every validator at about the same instant, give or take its gossip,
where each one's own start differs by how late it committed. Counted from its own start, a
validator that began one height 40-70 ms late began every later one late too, and so did each
of its proposals (measured at 2,600 tx/s on four validators: its heights committed 240-280 ms after
the first validator began them, the others' 130-210 ms). Counted from the proposal, the next height starts together everywhere; a proposer
then builds in 20-100 ms, so the cadence stays about a quarter of the block time.
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

    def first_check(self, height_started: float, first_proposal_at: float | None = None) -> float:
        """Seconds from now to the first look at the pool: a fifth of the block time after the
        height's first proposal arrived, or a quarter into the height if none did."""
        if first_proposal_at is not None:
            return max(0.0, first_proposal_at + self.block_time / 5 - self.clock())
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
