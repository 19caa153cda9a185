"""Polled filters: eth_newFilter, eth_newBlockFilter, eth_getFilterChanges, eth_getFilterLogs and
eth_uninstallFilter, what ethers and web3.py fall back on over HTTP where there is no WebSocket.

A filter remembers the first block it has not reported yet; each poll answers the blocks since
(at most `MAX_BLOCK_RANGE` of them: a poller far behind catches up over several polls). Filters
live in memory: at most MAX_FILTERS, each dropped after FILTER_TIMEOUT seconds without a poll, as
go-ethereum drops them after five minutes. Every committed block is final, so no log is ever
reported as removed.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import SidechainError
from .codec import LogQuery
from .errors import LimitExceeded
from .filters import MAX_BLOCK_RANGE, get_logs

MAX_FILTERS = 1024
FILTER_TIMEOUT = 300.0


class FilterNotFound(SidechainError):
    """A filter id that was never installed, was uninstalled, or expired."""


@dataclass(slots=True)
class _Filter:
    query: LogQuery | None
    """The log query; None for a block filter."""
    next_block: int
    """The first block not reported yet."""
    last_poll: float


class FilterRegistry:
    """The installed filters of one node, by id; its operations exclude one another (the event loop
    and the RPC worker threads both poll)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_filters: int = MAX_FILTERS,
                 timeout: float = FILTER_TIMEOUT) -> None:
        self._clock = clock
        self._max = max_filters
        self._timeout = timeout
        self._filters: dict[str, _Filter] = {}
        self._lock = threading.Lock()

    def install(self, query: LogQuery | None, head: int) -> str:
        with self._lock:
            return self._install(query, head)

    def _install(self, query: LogQuery | None, head: int) -> str:
        self._expire()
        if len(self._filters) >= self._max:
            raise LimitExceeded(f"too many filters installed: the limit is {self._max}; uninstall some or let them expire")
        filter_id = "0x" + secrets.token_hex(16)
        self._filters[filter_id] = _Filter(query, head + 1, self._clock())
        return filter_id

    def take(self, filter_id: str) -> _Filter:
        with self._lock:
            return self._take(filter_id)

    def _take(self, filter_id: str) -> _Filter:
        self._expire()
        found = self._filters.get(filter_id)
        if found is None:
            raise FilterNotFound("filter not found")
        found.last_poll = self._clock()
        return found

    def claim(self, filter_id: str, head: int) -> tuple[LogQuery | None, int, int]:
        """(query, first, last): the blocks this poll reports, at most MAX_BLOCK_RANGE up to `head`,
        marked reported in the same step, so two concurrent polls never report a block twice."""
        with self._lock:
            found = self._take(filter_id)
            first, last = found.next_block, min(head, found.next_block + MAX_BLOCK_RANGE - 1)
            found.next_block = max(found.next_block, last + 1)
            return found.query, first, last

    def remove(self, filter_id: str) -> bool:
        with self._lock:
            self._expire()
            return self._filters.pop(filter_id, None) is not None

    def _expire(self) -> None:
        cutoff = self._clock() - self._timeout
        for filter_id in [i for i, f in self._filters.items() if f.last_poll < cutoff]:
            del self._filters[filter_id]


def eth_newFilter(ctx, query: LogQuery) -> str:
    return ctx.filters.install(query, ctx.view.head.number)


def eth_newBlockFilter(ctx) -> str:
    return ctx.filters.install(None, ctx.view.head.number)


def eth_getFilterChanges(ctx, filter_id: str) -> list:
    query, first, last = ctx.filters.claim(filter_id, ctx.view.head.number)
    if query is None:
        return ["0x" + ctx.chain.header_by_number(number).hash.hex() for number in range(first, last + 1)]
    if query.block_hash is not None:
        return []  # a filter on one block answers it through eth_getFilterLogs
    # A tag (latest, ...) bounds nothing here: the filter reports every block since it was made.
    start = first if isinstance(query.from_block, str) else max(first, query.from_block)
    end = last if isinstance(query.to_block, str) else min(last, query.to_block)
    if start > end:
        return []
    return get_logs(ctx.view, replace(query, from_block=start, to_block=end), ctx.max_log_range, ctx.max_log_results)


def eth_getFilterLogs(ctx, filter_id: str) -> list:
    found = ctx.filters.take(filter_id)
    if found.query is None:
        raise FilterNotFound("filter not found: eth_getFilterLogs takes a log filter, this is a block filter")
    return get_logs(ctx.view, found.query, ctx.max_log_range, ctx.max_log_results)


def eth_uninstallFilter(ctx, filter_id: str) -> bool:
    return ctx.filters.remove(filter_id)

