"""TrioBridge: order, error isolation, both directions, cancellation, bounded shutdown."""

from __future__ import annotations

import asyncio
import threading

import pytest
import trio
from p2p_support import run

from sidechain.p2p.bridge import BridgeClosed, TrioBridge


class Main:
    """A trio main that reports its thread and returns when asked."""

    def __init__(self) -> None:
        self.stop_event: trio.Event | None = None

    async def __call__(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        self.stop_event = trio.Event()
        task_status.started(threading.get_ident())
        await self.stop_event.wait()

    def request_stop(self) -> None:
        assert self.stop_event is not None
        self.stop_event.set()


def test_posted_work_runs_in_trio_in_order_and_stop_is_clean():
    async def scenario():
        bridge, main = TrioBridge(), Main()
        trio_thread = await bridge.start(main)
        assert trio_thread != threading.get_ident()
        seen: list[int] = []

        async def record(i: int) -> None:
            await trio.sleep(0.001 * (i % 3))  # uneven durations must not reorder a sequential worker
            seen.append(i)

        for i in range(200):
            assert bridge.post(record, i)
        assert await bridge.submit(trio.sleep, 0) is None  # queued behind all of them
        assert seen == list(range(200))
        assert await bridge.stop(main.request_stop, timeout=2.0)
        assert not bridge.post(record, 1)  # trio is gone: refused, not raised

    run(scenario())


def test_exceptions_reach_their_caller_and_never_kill_the_trio_thread():
    async def scenario():
        bridge, main = TrioBridge(), Main()
        await bridge.start(main)

        async def fail() -> None:
            raise ValueError("boom")

        def fail_sync() -> None:
            raise RuntimeError("in a run_sync_soon callback")

        with pytest.raises(ValueError, match="boom"):
            await bridge.submit(fail)
        with pytest.raises(ValueError, match="boom"):
            await bridge.spawn(fail)
        assert bridge.post(fail)
        assert bridge.call_soon(fail_sync)
        assert await bridge.submit(trio.sleep, 0) is None  # still alive
        assert await bridge.stop(main.request_stop, timeout=2.0)

    run(scenario())


def test_trio_asks_asyncio_and_gets_results_errors_and_awaited_values():
    async def scenario():
        bridge, main = TrioBridge(), Main()
        await bridge.start(main)
        loop_thread = threading.get_ident()

        def where() -> int:
            return threading.get_ident()

        async def later(x: int) -> int:
            await asyncio.sleep(0.01)
            return x * 2

        def bad() -> None:
            raise KeyError("asyncio side")

        async def from_trio():
            thread = await bridge.ask_asyncio(where)
            doubled = await bridge.ask_asyncio(later, 21)
            with pytest.raises(KeyError):
                await bridge.ask_asyncio(bad)
            return thread, doubled

        assert await bridge.spawn(from_trio) == (loop_thread, 42)
        delivered = asyncio.Event()
        assert await bridge.submit(_notify, bridge, delivered.set)
        await asyncio.wait_for(delivered.wait(), 2)
        assert await bridge.stop(main.request_stop, timeout=2.0)

    run(scenario())


async def _notify(bridge: TrioBridge, fn) -> bool:
    return bridge.to_asyncio(fn)


def test_cancelling_the_asyncio_side_cancels_the_trio_task():
    async def scenario():
        bridge, main = TrioBridge(), Main()
        await bridge.start(main)
        cancelled = threading.Event()

        async def forever() -> None:
            try:
                await trio.sleep_forever()
            finally:
                cancelled.set()

        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(bridge.spawn(forever), 0.1)
        assert await bridge.submit(trio.sleep, 0.05) is None
        assert cancelled.is_set()
        assert await bridge.stop(main.request_stop, timeout=2.0)

    run(scenario())


def test_a_main_that_ignores_stop_is_cancelled_within_the_bound_and_pending_calls_fail():
    async def stubborn(*, task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started(None)
        await trio.sleep_forever()

    async def scenario():
        bridge = TrioBridge()
        await bridge.start(stubborn)
        pending = bridge.spawn(trio.sleep_forever)
        started = asyncio.get_running_loop().time()
        assert await bridge.stop(lambda: None, timeout=0.3)
        assert asyncio.get_running_loop().time() - started < 1.5
        with pytest.raises(BridgeClosed):
            await pending

    run(scenario())


def test_a_main_that_fails_before_starting_raises_from_start():
    async def broken(*, task_status=trio.TASK_STATUS_IGNORED) -> None:
        raise OSError("cannot listen")

    async def scenario():
        with pytest.raises(OSError, match="cannot listen"):
            await TrioBridge().start(broken)

    run(scenario())


def test_trio_to_asyncio_after_the_loop_closed_is_refused_not_raised():
    bridge, main = TrioBridge(), Main()

    async def scenario():
        await bridge.start(main)

    run(scenario())  # the loop closes with trio still running
    done = threading.Event()
    result: list[bool] = []

    async def late() -> None:
        result.append(bridge.to_asyncio(print, "never"))
        done.set()

    assert bridge._token is not None
    bridge._token.run_sync_soon(lambda: bridge._nursery.start_soon(late))
    assert done.wait(2.0)
    assert result == [False]
    bridge._token.run_sync_soon(main.request_stop)
