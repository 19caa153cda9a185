"""Waiting on a condition inside an event loop, the asyncio tests' one way to synchronise (never a
bare sleep). Its blocking twin, for tests that drive processes, is `sidechain.devtools.devnet.wait_until`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "the condition",
                   interval: float = 0.01) -> None:
    """Poll `condition()` every `interval` seconds, yielding to the loop, until it is truthy;
    TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)
