"""What the syncer remembers about each peer it syncs from: the head it claims, whether it has backed
that claim with a verified block, and the penalty for a claim it did not keep.

A peer's status is only a claim; the syncer learns what it is worth by asking for the blocks. A peer
that answers a request below its claimed head with nothing, with a timeout, with blocks that make
no progress or with blocks that fail verification is benched: not asked, and its claim not reported,
for BENCH_SECONDS doubling with each broken promise up to MAX_BENCH_SECONDS (a block that fails
verification benches it for the maximum at once). A peer's strikes are forgiven once it delivered
toward a claim and the node reached that claim. The book holds at most MAX_TRACKED_PEERS peers, least recently
heard of evicted first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_TRACKED_PEERS = 256
BENCH_SECONDS = 2.0
MAX_BENCH_SECONDS = 60.0
MAX_STRIKES = 6
"""BENCH_SECONDS * 2**(MAX_STRIKES - 1) >= MAX_BENCH_SECONDS: more strikes would change nothing."""


@dataclass(slots=True)
class PeerRecord:
    claim: int = 0
    """Head number from the peer's latest status."""
    backed: int = 0
    """The highest claim the peer backed by delivering a verified block while making it (0: none)."""
    strikes: int = 0
    benched_until: float = 0.0


class PeerBook:
    def __init__(self, clock: Callable[[], float] = time.monotonic, capacity: int = MAX_TRACKED_PEERS) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.clock = clock
        self.capacity = capacity
        self._records: OrderedDict[str, PeerRecord] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def get(self, peer: str) -> PeerRecord | None:
        return self._records.get(peer)

    def _record(self, peer: str) -> PeerRecord:
        record = self._records.get(peer)
        if record is None:
            record = self._records[peer] = PeerRecord()
            if len(self._records) > self.capacity:
                self._records.popitem(last=False)
        else:
            self._records.move_to_end(peer)
        return record

    def benched(self, peer: str) -> bool:
        record = self._records.get(peer)
        return record is not None and record.benched_until > self.clock()

    def claimed(self, peer: str, head: int) -> None:
        """The peer's status says its head is `head`; a lower claim also lowers what it backed."""
        record = self._record(peer)
        record.claim = head
        record.backed = min(record.backed, head)

    def delivered(self, peer: str, height: int) -> None:
        """The peer's blocks verified and moved the node to `height`: its claim is backed."""
        record = self._record(peer)
        record.backed = record.claim
        if height >= record.claim:
            record.strikes = 0

    def reached(self, peer: str, height: int) -> None:
        """The node is at `height` (from any source): a peer that delivered toward a claim no higher
        kept its word. One that never delivered since its last failure is not forgiven by claiming
        our own head."""
        record = self._records.get(peer)
        if record is not None and record.backed and record.claim <= height:
            record.strikes = 0

    def failed(self, peer: str, *, severe: bool = False) -> float:
        """The peer broke its claim: bench it, forget the claim. Returns the seconds benched."""
        record = self._record(peer)
        record.strikes = MAX_STRIKES if severe else min(record.strikes + 1, MAX_STRIKES)
        seconds = min(BENCH_SECONDS * 2 ** (record.strikes - 1), MAX_BENCH_SECONDS)
        record.benched_until = self.clock() + seconds
        record.claim = record.backed = 0
        return seconds

    def order(self, peers: Iterable[str], turn: int) -> list[str]:
        """`peers` in the order to ask them: fewest strikes first, then the lowest claim (a liar
        gains nothing by claiming more than anyone), then round-robin by `turn` among equals."""
        peers = sorted(peers)
        if not peers:
            return []
        n = len(peers)
        position = {peer: (i - turn) % n for i, peer in enumerate(peers)}

        def key(peer: str) -> tuple[int, int, int]:
            record = self._records.get(peer) or PeerRecord()
            return record.strikes, record.claim, position[peer]

        return sorted(peers, key=key)

    def highest_backed(self, peers: Iterable[str]) -> int:
        """The highest head that one of `peers` in good standing backed with a verified block (0: none)."""
        now = self.clock()
        best = 0
        for peer in peers:
            record = self._records.get(peer)
            if record is not None and record.benched_until <= now:
                best = max(best, record.backed)
        return best
