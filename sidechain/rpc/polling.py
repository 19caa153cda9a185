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
    """The installed filters of one node, by id."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_filters: int = MAX_FILTERS,
                 timeout: float = FILTER_TIMEOUT) -> None:
        self._clock = clock
        self._max = max_filters
        self._timeout = timeout
        self._filters: dict[str, _Filter] = {}

    def install(self, query: LogQuery | None, head: int) -> str:
        self._expire()
        if len(self._filters) >= self._max:
            raise LimitExceeded(f"too many filters installed: the limit is {self._max}; uninstall some or let them expire")
        filter_id = "0x" + secrets.token_hex(16)
        self._filters[filter_id] = _Filter(query, head + 1, self._clock())
        return filter_id

    def take(self, filter_id: str) -> _Filter:
        self._expire()
        found = self._filters.get(filter_id)
        if found is None:
            raise FilterNotFound("filter not found")
        found.last_poll = self._clock()
        return found

    def remove(self, filter_id: str) -> bool:
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
    found = ctx.filters.take(filter_id)
    head = ctx.view.head.number
    first, last = found.next_block, min(head, found.next_block + MAX_BLOCK_RANGE - 1)
    if found.query is None:
        hashes = []
        for number in range(first, last + 1):
            header = ctx.chain.header_by_number(number)
            hashes.append("0x" + header.hash.hex())
        found.next_block = last + 1
        return hashes
    query = found.query
    if query.block_hash is not None:
        return []  # a filter on one block answers it through eth_getFilterLogs
    # A tag (latest, ...) bounds nothing here: the filter reports every block since it was made.
    start = first if isinstance(query.from_block, str) else max(first, query.from_block)
    end = last if isinstance(query.to_block, str) else min(last, query.to_block)
    found.next_block = last + 1
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

