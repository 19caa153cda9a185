"""Each origin's publishing order, restored after libp2p's concurrent validation scrambled it.

libp2p validates every incoming message in its own trio task, and our validator crosses to asyncio
and back, so two messages of one publisher can finish validation in either order (measured: ~15%
of a 300-message burst arrived inverted). Each message carries its publisher's sequence number
(libp2p's seqno: +1 per publish, over all topics, starting at the publisher's `time.time_ns()`),
so the receiver can put them back in order:

- the next expected seqno is delivered at once, with whatever was held behind it;
- a message after a gap is held until the gap fills, or for at most `hold` seconds;
- a seqno our validator dropped (REJECT, IGNORE) is skipped, not waited for;
- a seqno below the next expected one is delivered late, unless it was already delivered: libp2p
  can hand a message over twice when two peers relay it concurrently (both copies are validated
  before either is marked seen), so the last `max_gap` delivered seqnos of each origin are kept;
- a jump of more than `max_gap` (a restarted publisher, whose counter restarts at time_ns) starts
  a new run for that origin.

A publisher's messages on topics we do not subscribe to would look like gaps: every node of one
network subscribes to the same topics, so this does not arise; if it did, it costs latency (the
hold), never a message. Pure: the caller passes the clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Run(Generic[T]):
    next: int
    held: dict[int, tuple[T, float]] = field(default_factory=dict)
    skipped: set[int] = field(default_factory=set)
    delivered: set[int] = field(default_factory=set)
    recent: deque[int] = field(default_factory=deque)

    def mark(self, seqno: int, window: int) -> bool:
        """Remember `seqno` as delivered; False if it already was."""
        if seqno in self.delivered:
            return False
        self.delivered.add(seqno)
        self.recent.append(seqno)
        if len(self.recent) > window:
            self.delivered.discard(self.recent.popleft())
        return True


class OriginOrder(Generic[T]):
    def __init__(self, hold: float = 0.1, max_gap: int = 1024, max_origins: int = 1024) -> None:
        self.hold = hold
        self.max_gap = max_gap
        self.max_origins = max_origins
        self.late = 0
        self.duplicates = 0
        self.held = 0
        self._runs: dict[bytes, _Run[T]] = {}

    def offer(self, origin: bytes, seqno: int, item: T, now: float) -> list[T]:
        """Accept a validated message; return what can be delivered now, in order."""
        run = self._runs.get(origin)
        if run is None or abs(seqno - run.next) > self.max_gap:
            out = self._drain(run) if run is not None else []
            run = self._new_run(origin, seqno)
            return out + self._offer(run, seqno, item, now)
        return self._offer(run, seqno, item, now)

    def skip(self, origin: bytes, seqno: int) -> list[T]:
        """Our validator dropped this seqno: stop waiting for it; return what that released."""
        run = self._runs.get(origin)
        if run is None or not 0 <= seqno - run.next <= self.max_gap:
            return []
        run.skipped.add(seqno)
        return self._release(run)

    def expire(self, now: float) -> list[T]:
        """Give up on gaps whose held message waited `hold` seconds; return what that released."""
        out: list[T] = []
        for run in self._runs.values():
            while run.held and min(arrived for _, arrived in run.held.values()) + self.hold <= now:
                first = min(run.held)
                run.skipped = {s for s in run.skipped if s > first}
                run.next = first
                out += self._release(run)
        return out

    def next_deadline(self) -> float | None:
        """When the earliest held message's wait runs out, or None if nothing is held."""
        arrivals = [arrived for run in self._runs.values() for _, arrived in run.held.values()]
        return min(arrivals) + self.hold if arrivals else None

    def _offer(self, run: _Run[T], seqno: int, item: T, now: float) -> list[T]:
        if seqno < run.next:
            if run.mark(seqno, self.max_gap):
                self.late += 1
                return [item]
            self.duplicates += 1
            return []
        if seqno in run.held:
            self.duplicates += 1
            return []
        run.held[seqno] = (item, now)
        out = self._release(run)
        if seqno in run.held:
            self.held += 1
        return out

    def _release(self, run: _Run[T]) -> list[T]:
        out: list[T] = []
        while True:
            if run.next in run.held:
                out.append(run.held.pop(run.next)[0])
                run.mark(run.next, self.max_gap)
            elif run.next in run.skipped:
                run.skipped.discard(run.next)
            else:
                return out
            run.next += 1

    def _drain(self, run: _Run[T]) -> list[T]:
        return [run.held[s][0] for s in sorted(run.held)]

    def _new_run(self, origin: bytes, seqno: int) -> _Run[T]:
        self._runs.pop(origin, None)
        if len(self._runs) >= self.max_origins:
            self._runs.pop(next(iter(self._runs)))
        run = self._runs[origin] = _Run(next=seqno)
        return run
