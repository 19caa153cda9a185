"""The one seam between the node's asyncio loop and py-libp2p's trio loop.

py-libp2p runs on trio, the node (aiohttp, consensus driver) on asyncio. `TrioThread` runs
`trio.run` in a daemon thread and is the only code that crosses between the two
(LIBP2P_NOTES.md, "trio beside asyncio"):

- asyncio -> trio: `trio.lowlevel.TrioToken.run_sync_soon` puts work on an unbounded trio memory
  channel. `post`/`submit` feed ONE sequential worker, so what asyncio sends in order is done in
  order (a task per publish would reorder them); `spawn` starts a concurrent trio task (requests).
- trio -> asyncio: `loop.call_soon_threadsafe`, guarded against a closed loop (`to_asyncio`,
  `ask_asyncio`).
- Every callback that crosses is wrapped: an exception in a `run_sync_soon` callback would kill the
  trio thread (`TrioInternalError`), one in a `call_soon_threadsafe` callback would only be logged
  by asyncio but is caught here too.
- Nothing on the asyncio side ever blocks on trio (no `trio.from_thread.run`): it awaits futures.

The methods are split by the thread that may call them: `start`, `stop`, `call_soon`, `post`,
`submit` and `spawn` from the asyncio loop; `to_asyncio` and `ask_asyncio` from the trio thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import outcome
import trio

from .errors import LoopClosed

log = logging.getLogger("sidechain.p2p")

TrioMain = Callable[..., Awaitable[None]]
"""`async def main(*, task_status)`: reports `task_status.started(value)` once ready, returns on stop."""


class TrioThread:
    """A trio event loop in a daemon thread, driven from an asyncio loop."""

    def __init__(self, name: str = "p2p-trio") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._send: trio.MemorySendChannel | None = None
        self._nursery: trio.Nursery | None = None
        self._thread: threading.Thread | None = None
        self._finished: asyncio.Future[None] | None = None
        self._pending: set[asyncio.Task] = set()  # asyncio holds tasks weakly
        self._outstanding: set[asyncio.Future] = set()  # failed with LoopClosed if trio ends first

    # --- asyncio side ---------------------------------------------------------------------------

    async def start(self, main: TrioMain) -> Any:
        """Start trio in a thread and run `main` there; return what `main` reported as started.

        If `main` fails before it is started, its exception is raised here.
        """
        if self._thread is not None:
            raise RuntimeError("a TrioThread is started once")
        self._loop = asyncio.get_running_loop()
        started: asyncio.Future[Any] = self._loop.create_future()
        self._finished = self._loop.create_future()
        self._thread = threading.Thread(target=self._thread_main, args=(main, started), name=self.name, daemon=True)
        self._thread.start()
        return await started

    async def stop(self, request_stop: Callable[[], None], timeout: float) -> bool:
        """Ask `main` to return (`request_stop` runs in the trio thread), then wait for trio to end.

        After `timeout` seconds, cancel everything still running in trio; returns False if even
        that did not end it within one more second (the daemon thread is then abandoned).
        """
        if self._finished is None or self._finished.done():
            return True
        self.call_soon(request_stop)
        try:
            await asyncio.wait_for(asyncio.shield(self._finished), timeout)
            return True
        except asyncio.TimeoutError:
            log.warning("p2p shutdown took more than %.1f s: cancelling the trio thread", timeout)
        self.call_soon(self._cancel_everything)
        try:
            await asyncio.wait_for(asyncio.shield(self._finished), 1.0)
            return True
        except asyncio.TimeoutError:
            log.error("p2p trio thread did not stop; abandoning it (daemon thread)")
            return False

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run the plain function `fn(*args)` in the trio thread; False if trio is not running."""
        token = self._token
        if token is None:
            return False
        try:
            token.run_sync_soon(self._guarded, fn, args)
            return True
        except trio.RunFinishedError:
            return False

    def post(self, afn: Callable[..., Awaitable[Any]], *args: Any) -> bool:
        """Queue `await afn(*args)` on the sequential worker; fire and forget (failures are logged)."""
        return self.call_soon(self._enqueue, (afn, args, None))

    def submit(self, afn: Callable[..., Awaitable[Any]], *args: Any) -> asyncio.Future:
        """Queue `await afn(*args)` on the sequential worker; its result or exception lands in the future."""
        future = self._new_future()
        if not self.call_soon(self._enqueue, (afn, args, future)):
            future.set_exception(LoopClosed("the p2p thread is not running"))
        return future

    def spawn(self, afn: Callable[..., Awaitable[Any]], *args: Any) -> asyncio.Future:
        """Run `await afn(*args)` as its own trio task; cancelling the future cancels the task."""
        future = self._new_future()
        scope = trio.CancelScope()
        future.add_done_callback(lambda f: f.cancelled() and self.call_soon(scope.cancel))
        if not self.call_soon(self._start_task, afn, args, future, scope):
            future.set_exception(LoopClosed("the p2p thread is not running"))
        return future

    def _new_future(self) -> asyncio.Future:
        assert self._loop is not None, "the trio thread is not started"
        future = self._loop.create_future()
        self._outstanding.add(future)
        future.add_done_callback(self._outstanding.discard)
        return future

    def _fail_outstanding(self) -> None:
        for future in list(self._outstanding):
            if not future.done():
                future.set_exception(LoopClosed("the p2p thread stopped"))

    # --- trio side -------------------------------------------------------------------------------

    def to_asyncio(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run the plain function `fn(*args)` on the asyncio loop; False if the loop is closed."""
        loop = self._loop
        if loop is None:
            return False
        try:
            loop.call_soon_threadsafe(self._guarded, fn, args)
            return True
        except RuntimeError:  # the loop is closed
            return False

    async def ask_asyncio(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` on the asyncio loop (awaiting it if it returns an awaitable); return its result.

        Cancelling the trio caller cancels the asyncio task. Raises LoopClosed if the loop is closed.
        """
        done = trio.Event()
        box: list[outcome.Outcome] = []
        task_box: list[asyncio.Task] = []

        def settle(result: outcome.Outcome) -> None:  # trio thread
            box.append(result)
            done.set()

        def back(result: outcome.Outcome) -> None:  # asyncio thread
            self._to_trio(settle, result)

        def run_on_loop() -> None:  # asyncio thread
            result = outcome.capture(fn, *args)
            if isinstance(result, outcome.Value) and inspect.isawaitable(result.value):
                task = asyncio.ensure_future(result.value)
                self._pending.add(task)
                task_box.append(task)
                task.add_done_callback(lambda t: (self._pending.discard(t), back(_task_outcome(t))))
            else:
                back(result)

        if not self.to_asyncio(run_on_loop):
            raise LoopClosed("the asyncio loop is closed")
        try:
            await done.wait()
        except trio.Cancelled:
            self.to_asyncio(lambda: task_box and task_box[0].cancel())
            raise
        return box[0].unwrap()

    def _to_trio(self, fn: Callable[..., Any], *args: Any) -> None:
        if not self.call_soon(fn, *args):
            log.debug("p2p: trio finished before %r could run", fn)

    # --- inside the thread -----------------------------------------------------------------------

    def _thread_main(self, main: TrioMain, started: asyncio.Future) -> None:
        try:
            trio.run(self._trio_main, main, started)
        except BaseException as exc:  # noqa: BLE001 - reported to asyncio, never lost
            exc = _unwrap(exc)
            if started.done():
                log.error("p2p trio thread failed", exc_info=exc)
            self._settle_threadsafe(started, outcome.Error(exc))
        finally:
            self._token = None
            self._settle_threadsafe(started, outcome.Error(LoopClosed("the p2p thread ended before it started")))
            self.to_asyncio(self._fail_outstanding)
            self._settle_threadsafe(self._finished, outcome.Value(None))

    async def _trio_main(self, main: TrioMain, started: asyncio.Future) -> None:
        self._send, receive = trio.open_memory_channel(math.inf)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._token = trio.lowlevel.current_trio_token()
            nursery.start_soon(self._worker, receive)
            value = await nursery.start(_main_then_cancel, main, nursery.cancel_scope)
            self._settle_threadsafe(started, outcome.Value(value))

    def _cancel_everything(self) -> None:
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    def _enqueue(self, item: tuple) -> None:
        assert self._send is not None  # created before the token is published
        self._send.send_nowait(item)

    async def _worker(self, receive: trio.MemoryReceiveChannel) -> None:
        async for afn, args, future in receive:
            try:
                result = outcome.Value(await afn(*args))
            except Exception as exc:  # noqa: BLE001 - handed to the caller or logged
                result = outcome.Error(exc)
                if future is None:
                    log.warning("p2p: %s failed: %s", getattr(afn, "__name__", afn), exc)
            if future is not None:
                self._settle_threadsafe(future, result)

    def _start_task(self, afn, args, future: asyncio.Future, scope: trio.CancelScope) -> None:
        async def run() -> None:
            with scope:
                try:
                    result = outcome.Value(await afn(*args))
                except Exception as exc:  # noqa: BLE001 - handed to the caller
                    result = outcome.Error(exc)
                self._settle_threadsafe(future, result)
            if scope.cancelled_caught:
                self._settle_threadsafe(future, outcome.Error(LoopClosed("cancelled")))

        assert self._nursery is not None  # set before the token is published
        self._nursery.start_soon(run)

    def _settle_threadsafe(self, future: asyncio.Future | None, result: outcome.Outcome) -> None:
        if future is None:
            return

        def settle() -> None:
            if not future.done():
                if isinstance(result, outcome.Error):
                    future.set_exception(result.error)
                else:
                    future.set_result(result.value)

        self.to_asyncio(settle)

    @staticmethod
    def _guarded(fn: Callable[..., Any], args: tuple) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - an escaping exception would kill the loop's thread
            log.exception("p2p: callback %r failed", fn)


async def _main_then_cancel(main: TrioMain, scope: trio.CancelScope, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Run `main`; when it returns (stopped), end the trio thread's worker too."""
    try:
        await main(task_status=task_status)
    finally:
        scope.cancel()


def _unwrap(exc: BaseException) -> BaseException:
    """trio wraps a failing task's exception in (nested) groups; a lone one is reported as itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _task_outcome(task: asyncio.Task) -> outcome.Outcome:
    if task.cancelled():
        return outcome.Error(LoopClosed("the asyncio task was cancelled"))
    exc = task.exception()
    return outcome.Error(exc) if exc is not None else outcome.Value(task.result())
