"""Messages for a height this node is not deciding yet, kept until it is: bounded per signer.

They arrive before their height starts (a peer a little ahead, or the time between a commit and the
next height's start) and, for the first height of a checkpoint range, before this node can know the
set that votes on it. Only messages whose signature checks out and whose signer is in the current or
the pending validator set are kept (the driver checks both), and each signer gets its own quota of
messages and bytes: an outsider holds nothing, one faulty validator holds at most its share, and a
genuine validator's vote always finds room.
"""

from __future__ import annotations

from collections import Counter

from ..chain.system.validator_set import pending_set
from ..errors import UnknownBlock
from ..interfaces import ChainReader
from .gossip import FUTURE_HEIGHTS, ROUND_TAKEN

MAX_MESSAGES_PER_SIGNER = 256
"""A validator's proposals, prevotes and precommits over the future heights' rounds (3 per round)."""
MAX_BYTES_PER_SIGNER = 4 * 1024 * 1024
"""Room for a few full proposals (a block takes at most 900 KiB) beside its votes."""


class FutureBuffer:
    def __init__(self, chain: ChainReader) -> None:
        self.chain = chain
        self._items: list[tuple] = []
        self._count: Counter[bytes] = Counter()
        self._bytes: Counter[bytes] = Counter()
        self.total_bytes = 0
        self._pending: tuple[int, tuple[bytes, ...]] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def may_sign(self, height: int, signer: bytes) -> bool:
        """Whether `signer` can be a validator of `height`: in its set if known, else in the set
        voting now or the pending one (`validator_set.pending_set`, what the next range starts with)."""
        chain = self.chain
        try:
            return chain.validators_at(height).power_of(signer) > 0
        except UnknownBlock:
            pass
        head = chain.height
        if self._pending is None or self._pending[0] != head:
            self._pending = (head, chain.validators_at(head + 1).addresses + pending_set(chain.state()).addresses)
        return signer in self._pending[1]

    def admits(self, signer: bytes, size: int) -> bool:
        return self._count[signer] < MAX_MESSAGES_PER_SIGNER and self._bytes[signer] + size <= MAX_BYTES_PER_SIGNER

    def add(self, signer: bytes, size: int, item: tuple) -> bool:
        if not self.admits(signer, size):
            return False
        self._items.append(item)
        self._count[signer] += 1
        self._bytes[signer] += size
        self.total_bytes += size
        return True

    def drain(self) -> list[tuple]:
        """Everything kept, oldest first; the buffer is empty afterwards."""
        items, self._items = self._items, []
        self._count.clear()
        self._bytes.clear()
        self.total_bytes = 0
        return items


def refusal(machine, current: int, future: FutureBuffer, height: int, round_: int, signer: bytes, size: int,
            *, proposal: bool = False) -> str | None:
    """Why the driver deciding `current` (`machine`, None between a commit and the next height)
    would not keep a message of `signer`, or None: a round beyond the window and the signer's
    catch-up rounds or a second proposal for a round (ConsensusMachine.admits); for a later height,
    a signer outside the current and pending sets, or over its quota."""
    if height < current:
        return None  # stale: the gossip checks say so
    if height == current and machine is not None:
        if proposal and round_ in machine.proposals:
            return ROUND_TAKEN
        return None if machine.admits(round_, signer) else "far-round"
    if height > current + FUTURE_HEIGHTS:
        return "future-height"
    if not future.may_sign(height, signer):
        return "future-unknown-signer"
    return None if future.admits(signer, size) else "future-quota"
