"""Time and response-size budgets of JSON-RPC requests, with go-ethereum's errors.

Every request and every batch gets a `Budget`: a deadline and a number of response bytes. The
dispatcher charges each encoded answer to it and checks the deadline between calls; a handler that
loops over much data (eth_getLogs, filter polls) calls `check()` and `charge()` as it goes, so it
stops where it stands once the budget is spent, on the worker thread it runs on (a thread cannot be
killed; it has to notice). What runs out answers as geth does:

- time: -32002 `request timed out` (geth: errcodeTimeout);
- response size: -32003 `response too large` (geth: errcodeResponseTooLarge, BatchResponseMaxSize).

The budget of the running call is a context variable, set by the dispatcher around each handler.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass

from ..errors import SidechainError


class RequestTimeout(SidechainError):
    rpc_code = -32002

    def __init__(self, message: str = "request timed out") -> None:
        super().__init__(message)


class ResponseTooLarge(SidechainError):
    rpc_code = -32003

    def __init__(self, message: str = "response too large") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request, one batch and the whole server may take; see README "Decisions"."""

    request_timeout: float = 5.0
    """Seconds one call may run (go-ethereum's eth_call deadline is 5 s too)."""
    batch_timeout: float = 10.0
    """Seconds a whole batch may run; calls left when it expires answer `request timed out`."""
    max_response_bytes: int = 25_000_000
    """Bytes of results one request or one batch may answer (go-ethereum's BatchResponseMaxSize)."""
    workers: int = 2
    """Threads running the heavy reads (eth_getLogs, eth_call, blocks, receipts, traces, proofs)."""
    max_heavy: int = 8
    """Requests (a batch counts once) holding heavy work at a time; the rest wait within their deadline."""
    max_in_flight: int = 256
    """HTTP requests and WebSocket messages being answered at a time; more get HTTP 503 / -32005."""


class Budget:
    """A deadline (monotonic seconds) and response bytes left; `cancel` ends it early."""

    __slots__ = ("deadline", "bytes_left", "cancelled")

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.deadline = time.monotonic() + seconds
        self.bytes_left = max_bytes
        self.cancelled = False

    @property
    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.cancelled or time.monotonic() >= self.deadline

    def check(self) -> None:
        if self.expired():
            raise RequestTimeout()

    def charge(self, size: int) -> None:
        self.bytes_left -= size
        if self.bytes_left < 0:
            raise ResponseTooLarge()

    def child(self, seconds: float) -> "Budget":
        """A call's budget inside a batch: the sooner deadline, the batch's bytes left."""
        budget = Budget(min(seconds, self.remaining), self.bytes_left)
        return budget


_current: ContextVar[Budget | None] = ContextVar("rpc_budget", default=None)


def current() -> Budget | None:
    return _current.get()


def check() -> None:
    """Raise RequestTimeout if the running call's deadline passed (no-op outside a budget)."""
    budget = _current.get()
    if budget is not None:
        budget.check()


def charge(size: int) -> None:
    """Count `size` bytes of answer against the running call; ResponseTooLarge once over."""
    budget = _current.get()
    if budget is not None:
        budget.charge(size)


def running(budget: Budget):
    """Set `budget` as the running call's; returns the token for `finish`."""
    return _current.set(budget)


def finish(token) -> None:
    _current.reset(token)
