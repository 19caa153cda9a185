"""TrioThread: order, error isolation, both directions, cancellation, bounded shutdown."""

from __future__ import annotations

import asyncio
import threading

import pytest
import trio
from p2p_support import run

from sidechain.p2p.trio_thread import LoopClosed, TrioThread


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
        trio_side, main = TrioThread(), Main()
        trio_thread = await trio_side.start(main)
        assert trio_thread != threading.get_ident()
        seen: list[int] = []

        async def record(i: int) -> None:
            await trio.sleep(0.001 * (i % 3))  # uneven durations must not reorder a sequential worker
            seen.append(i)

        for i in range(200):
            assert trio_side.post(record, i)
        assert await trio_side.submit(trio.sleep, 0) is None  # queued behind all of them
        assert seen == list(range(200))
        assert await trio_side.stop(main.request_stop, timeout=2.0)
        assert not trio_side.post(record, 1)  # trio is gone: refused, not raised

    run(scenario())


def test_exceptions_reach_their_caller_and_never_kill_the_trio_thread():
    async def scenario():
        trio_side, main = TrioThread(), Main()
        await trio_side.start(main)

        async def fail() -> None:
            raise ValueError("boom")

        def fail_sync() -> None:
            raise RuntimeError("in a run_sync_soon callback")

        with pytest.raises(ValueError, match="boom"):
            await trio_side.submit(fail)
        with pytest.raises(ValueError, match="boom"):
            await trio_side.spawn(fail)
        assert trio_side.post(fail)
        assert trio_side.call_soon(fail_sync)
        assert await trio_side.submit(trio.sleep, 0) is None  # still alive
        assert await trio_side.stop(main.request_stop, timeout=2.0)

    run(scenario())


def test_trio_asks_asyncio_and_gets_results_errors_and_awaited_values():
    async def scenario():
        trio_side, main = TrioThread(), Main()
        await trio_side.start(main)
        loop_thread = threading.get_ident()

        def where() -> int:
            return threading.get_ident()

        async def later(x: int) -> int:
            await asyncio.sleep(0.01)
            return x * 2

        def bad() -> None:
            raise KeyError("asyncio side")

        async def from_trio():
            thread = await trio_side.ask_asyncio(where)
            doubled = await trio_side.ask_asyncio(later, 21)
            with pytest.raises(KeyError):
                await trio_side.ask_asyncio(bad)
            return thread, doubled

        assert await trio_side.spawn(from_trio) == (loop_thread, 42)
        delivered = asyncio.Event()
        assert await trio_side.submit(_notify, trio_side, delivered.set)
        await asyncio.wait_for(delivered.wait(), 2)
        assert await trio_side.stop(main.request_stop, timeout=2.0)

    run(scenario())


async def _notify(trio_side: TrioThread, fn) -> bool:
    return trio_side.to_asyncio(fn)


def test_cancelling_the_asyncio_side_cancels_the_trio_task():
    async def scenario():
        trio_side, main = TrioThread(), Main()
        await trio_side.start(main)
        cancelled = threading.Event()

        async def forever() -> None:
            try:
                await trio.sleep_forever()
            finally:
                cancelled.set()

        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(trio_side.spawn(forever), 0.1)
        assert await trio_side.submit(trio.sleep, 0.05) is None
        assert cancelled.is_set()
        assert await trio_side.stop(main.request_stop, timeout=2.0)

    run(scenario())


def test_a_main_that_ignores_stop_is_cancelled_within_the_bound_and_pending_calls_fail():
    async def stubborn(*, task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started(None)
        await trio.sleep_forever()

    async def scenario():
        trio_side = TrioThread()
        await trio_side.start(stubborn)
        pending = trio_side.spawn(trio.sleep_forever)
        started = asyncio.get_running_loop().time()
        assert await trio_side.stop(lambda: None, timeout=0.3)
        assert asyncio.get_running_loop().time() - started < 1.5
        with pytest.raises(LoopClosed):
            await pending

    run(scenario())


def test_a_main_that_fails_before_starting_raises_from_start():
    async def broken(*, task_status=trio.TASK_STATUS_IGNORED) -> None:
        raise OSError("cannot listen")

    async def scenario():
        with pytest.raises(OSError, match="cannot listen"):
            await TrioThread().start(broken)

    run(scenario())


def test_trio_to_asyncio_after_the_loop_closed_is_refused_not_raised():
    trio_side, main = TrioThread(), Main()

    async def scenario():
        await trio_side.start(main)

    run(scenario())  # the loop closes with trio still running
    done = threading.Event()
    result: list[bool] = []

    async def late() -> None:
        result.append(trio_side.to_asyncio(print, "never"))
        done.set()

    assert trio_side._token is not None
    trio_side._token.run_sync_soon(lambda: trio_side._nursery.start_soon(late))
    assert done.wait(2.0)
    assert result == [False]
    trio_side._token.run_sync_soon(main.request_stop)
