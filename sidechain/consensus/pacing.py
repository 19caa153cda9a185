"""Block pacing and packing: when the next height starts after a commit, and how much of the pool
one proposal takes.

Pacing is cometbft's timeout_commit made load-aware: if transactions are waiting, the next height
starts a quarter of the block time after this one started, or a fifth after this height's first
proposal reached the node if that is sooner; else once the whole block time has passed since the
height started. So an idle chain makes a block per block time and a busy one is not held back by
the clock.

Why the proposal: it reaches every validator at about the same instant, give or take its gossip,
where each one's own start differs by how late it committed. Counted from its own start only, a
validator that began one height 40-70 ms late began every later one late too, and so did each of
its proposals (measured at 2,600 tx/s on four validators: its heights committed 240-280 ms after
the first validator began them, the others' 130-210 ms). A late validator now starts with the
others; a punctual one, or a proposer whose build took longer than the difference, keeps the
quarter block from its own start.
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
        """Seconds from now to the first look at the pool: a quarter of the block time into the
        height, or a fifth after its first proposal arrived if that is sooner."""
        at = height_started + self.block_time / 4
        if first_proposal_at is not None:
            at = min(at, first_proposal_at + self.block_time / 5)
        return max(0.0, at - self.clock())

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
