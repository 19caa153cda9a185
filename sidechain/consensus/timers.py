"""The consensus driver's timers on the asyncio loop.

Every callback runs guarded: an expected failure (a SidechainError) is logged and the loop goes on,
and nothing runs once the driver stopped. Timers of a height (round timeouts, the pacing of the next
height) are cancelled together when the height changes; a loop-back turn is not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..errors import SidechainError

log = logging.getLogger("sidechain.consensus")


class Timers:
    def __init__(self) -> None:
        self._handles: list[asyncio.TimerHandle] = []
        self.stopped = False
        """Set by `stop`: no callback runs after it."""

    def later(self, delay: float, fn: Callable, *args) -> None:
        """Run `fn(*args)` in `delay` seconds unless `cancel` comes first."""
        self._handles.append(asyncio.get_running_loop().call_later(delay, self.guarded, fn, *args))

    def soon(self, fn: Callable, *args) -> None:
        """Run `fn(*args)` on the next loop turn, whatever `cancel` does meanwhile."""
        asyncio.get_running_loop().call_soon(self.guarded, fn, *args)

    def cancel(self) -> None:
        """Drop the pending `later` calls (the height they belong to is over)."""
        for handle in self._handles:
            handle.cancel()
        self._handles = []

    def stop(self) -> None:
        self.stopped = True
        self.cancel()

    def guarded(self, fn: Callable, *args) -> None:
        """Timer callbacks: an expected failure is logged; the loop goes on."""
        if self.stopped:
            return
        try:
            fn(*args)
        except SidechainError as exc:
            log.error("consensus step failed: %s", exc)
