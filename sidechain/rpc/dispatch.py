"""JSON-RPC 2.0 over any transport: request objects in, response objects out.

`Dispatcher.handle_body` takes the raw request text of an HTTP body or a WebSocket message and
returns the response text, or None when there is nothing to answer (only notifications).
A `SidechainError` becomes an error object with its `rpc_code` and message; anything else is a bug,
logged with its traceback and answered with a bare -32603 that leaks nothing.

Budgets (`budget.py`): a single request has `request_timeout` and `max_response_bytes`; a batch has
`batch_timeout` and `max_response_bytes` for all its answers, and each of its calls at most
`request_timeout` of what is left. Calls are answered in order, as go-ethereum does; once a batch's
time or bytes are spent, every call left answers `request timed out` or `response too large`.

Where handlers run: light routes on the event loop, heavy ones (`Route.heavy`) on the dispatcher's
worker threads, each over a snapshot of the chain taken on the loop when it is handed over, so the loop
that drives consensus only parses, routes and writes. At most `max_heavy` requests (a batch counts
once, for its whole run) hold heavy work at a time; the others wait within their deadline.
`call` answers one request inline, without budget or threads (the tests' direct path).

Runs: a batch's consecutive calls of a method with `Route.many` (eth_sendRawTransaction) go to
that handler together, up to MAX_RUN at a time, which may leave the loop for the costly part of
all of them at once (decoding and sender recovery on the node's decoder thread); each call still
answers what it would alone, in order. A run starts only while the batch's budget is unspent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import json
import logging
import sys

from ..errors import ExecutionReverted, SidechainError
from . import budget as budgets
from .budget import Budget, Limits, RequestTimeout, ResponseTooLarge
from .errors import BadParam, InternalError, InvalidParams, InvalidRequest, MethodNotFound, ParseError
from .answers import encode_json, encode_response, error_body, error_object, error_text, read_envelope
from .methods import Context
from .routes import Route
from .subscriptions import Session

log = logging.getLogger(__name__)

MAX_BATCH = 10_000
YIELD_EVERY = 256
"""Calls of a batch run between two yields to the event loop, so a 5,000-call batch does not
hold up consensus or other clients for its whole duration."""
MAX_RUN = 1024
"""Most consecutive calls of a batch handed to one `Route.many` call."""

SWITCH_INTERVAL = 0.001
"""Seconds a thread may hold the GIL while another waits for it, once workers run (see `start`)."""

class _Slot:
    """A request's hold on one of the `max_heavy` places, taken at its first heavy call."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self.semaphore, self.held = semaphore, False

    async def take(self, budget: Budget) -> None:
        if not self.held:
            try:
                await asyncio.wait_for(self.semaphore.acquire(), max(budget.remaining, 0.0))
            except asyncio.TimeoutError:
                raise RequestTimeout() from None
            self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.semaphore.release()


class Dispatcher:
    """Routes decoded requests to the handlers of a routes table."""

    def __init__(self, context: Context, routes: dict[str, Route], max_batch: int = MAX_BATCH,
                 limits: Limits | None = None) -> None:
        self.context = context
        self.routes = routes
        self.max_batch = max_batch
        self.limits = limits or Limits()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._heavy = asyncio.Semaphore(self.limits.max_heavy)
        self._running: set[Budget] = set()
        """Budgets of the calls handed to workers and not finished yet."""

    # --- worker threads --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker threads; until then (and after `stop`) heavy calls run on the loop."""
        if self._pool is None:
            # A worker holds the GIL until asked to drop it, and the loop asks on every wake-up and
            # every syscall: at CPython's default 5 ms each, a loop with busy workers lags by tens of
            # milliseconds per iteration. 1 ms keeps the loop's share and costs workers ~1% in switches.
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
            self._pool = concurrent.futures.ThreadPoolExecutor(self.limits.workers, thread_name_prefix="rpc-worker")

    async def stop(self) -> None:
        """Stop taking heavy calls, cancel the budgets of running ones and wait for their threads
        (each stops at its next budget check), so nothing reads the chain once it is closed."""
        pool, self._pool = self._pool, None
        if pool is not None:
            for running in list(self._running):
                running.cancelled = True
            await asyncio.get_running_loop().run_in_executor(None, lambda: pool.shutdown(wait=True, cancel_futures=True))

    # --- bodies and batches ----------------------------------------------------------------------

    async def handle_body(self, body: bytes | str, session: Session | None = None) -> str | None:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return error_body(ParseError.rpc_code, f"parse error: {exc}")
        if type(payload) is list:
            parts = await self.handle_batch(payload, session)
            if type(parts) is dict:
                return encode_json(parts)
            return "[" + ",".join(parts) + "]" if parts else None
        slot = _Slot(self._heavy)
        try:
            return await self._answer(payload, session, Budget(self.limits.request_timeout, self.limits.max_response_bytes), slot)
        finally:
            slot.release()

    async def handle_batch(self, batch: list, session: Session | None) -> list[str] | dict:
        """The encoded answers of a batch's calls, in order (an error object for a bad batch)."""
        if not batch:
            return error_object(None, InvalidRequest.rpc_code, "invalid request: empty batch")
        if len(batch) > self.max_batch:
            return error_object(
                None, InvalidRequest.rpc_code,
                f"invalid request: batch of {len(batch)} calls exceeds the limit of {self.max_batch} calls",
            )
        outer = Budget(self.limits.batch_timeout, self.limits.max_response_bytes)
        slot = _Slot(self._heavy)
        parts = []
        try:
            position = 0
            while position < len(batch):
                route, end = self._run_of_many(batch, position)
                if route is not None and not outer.expired() and outer.bytes_left >= 0:
                    parts.extend(await self._answer_many(route, batch[position:end], outer))
                else:
                    end = position + 1
                    text = await self._answer(batch[position], session, outer, slot)
                    if text is not None:
                        parts.append(text)
                if end // YIELD_EVERY > position // YIELD_EVERY:
                    await asyncio.sleep(0)
                position = end
        finally:
            slot.release()
        return parts

    def _run_of_many(self, batch: list, start: int) -> tuple[Route | None, int]:
        """The route answering batch[start:end] in one go (`Route.many`: consecutive calls of one
        method that has it, at most MAX_RUN), or (None, start + 1)."""
        route = self._many_route(batch[start])
        if route is None:
            return None, start + 1
        end = start + 1
        while end < len(batch) and end - start < MAX_RUN and self._many_route(batch[end]) is route:
            end += 1
        return route, end

    def _many_route(self, request: object) -> Route | None:
        if type(request) is not dict or type(request.get("method")) is not str:
            return None
        route = self.routes.get(request["method"])
        return route if route is not None and route.many is not None and not (route.heavy or route.session) else None

    async def _answer_many(self, route: Route, requests: list, outer: Budget) -> list[str]:
        """The encoded answers of a run of calls to `route`, as `_answer` would give them one by one:
        a malformed call gets its own error, the well-formed ones go to `route.many` together. The
        run starts only with `outer` unspent, and then runs whole; its answers are charged in order."""
        answers: list[tuple[object, str | None, bool]] = []
        """(id, encoded answer, charged) per call; the answer None until the run is back, or for a
        notification; a malformed envelope's error is not charged (as in `_answer`)."""
        calls, places = [], []
        for request in requests:
            envelope = read_envelope(request)
            if type(envelope) is dict:
                answers.append((None, encode_json(envelope), False))
                continue
            request_id, notify = envelope
            try:
                calls.append(self._arguments(request)[1])
            except SidechainError as exc:
                answers.append((request_id, None if notify else error_text(request_id, exc), True))
                continue
            except Exception:
                log.exception("internal error in %r", request.get("method"))
                answers.append((request_id, None if notify else error_text(request_id, InternalError("internal error")), True))
                continue
            places.append((len(answers), request_id, notify))
            answers.append((request_id, None, True))
        if calls:
            try:
                outcomes = await route.many(self.context, calls)
            except Exception:
                log.exception("internal error in a run of %d %r calls", len(calls), requests[0]["method"])
                outcomes = [InternalError("internal error")] * len(calls)
            for (place, request_id, notify), outcome in zip(places, outcomes, strict=True):
                if not notify:
                    answers[place] = (request_id, error_text(request_id, outcome) if isinstance(outcome, SidechainError)
                                      else encode_response({"jsonrpc": "2.0", "id": request_id, "result": outcome}), True)
        texts = []
        for request_id, text, charged in answers:
            if text is None:
                continue
            if not charged:
                texts.append(text)
                continue
            try:
                if outer.bytes_left < 0:
                    raise ResponseTooLarge()
                outer.charge(len(text))
            except ResponseTooLarge as exc:
                outer.bytes_left = min(outer.bytes_left, -1)
                text = error_text(request_id, exc)
            texts.append(text)
        return texts

    async def _answer(self, request: object, session: Session | None, outer: Budget, slot: _Slot) -> str | None:
        """One call under `outer` (its request's or its batch's budget), encoded; None for a notification."""
        envelope = read_envelope(request)
        if type(envelope) is dict:
            return encode_json(envelope)
        request_id, notify = envelope
        spent = RequestTimeout() if outer.expired() else ResponseTooLarge() if outer.bytes_left < 0 else None
        route = self.routes.get(request.get("method")) if type(request.get("method")) is str else None
        budget = outer.child(self.limits.request_timeout)
        try:
            if spent is not None:
                raise spent
            if route is not None and route.heavy and self._pool is not None:
                await slot.take(budget)
                text = await self._offload(request, request_id, notify, budget)
            else:
                text = self._encoded(request, request_id, notify, session, self.context, budget)
            if text is not None:
                outer.charge(len(text))
        except (RequestTimeout, ResponseTooLarge) as exc:
            if type(exc) is ResponseTooLarge:
                outer.bytes_left = min(outer.bytes_left, -1)  # geth: no answer after the first too large
            return None if notify else error_text(request_id, exc)
        return text

    async def _offload(self, request: dict, request_id: object, notify: bool, budget: Budget) -> str | None:
        """Run a heavy call on a worker thread over a snapshot taken now; `request timed out` at
        the deadline (the worker notices the cancelled budget at its next check)."""
        snapshot = self.context.chain.snapshot()
        ctx = self.context.fork(snapshot)

        def work() -> str | None:
            try:
                return contextvars.Context().run(self._encoded, request, request_id, notify, None, ctx, budget)
            finally:
                snapshot.close()
                self._running.discard(budget)

        self._running.add(budget)

        try:
            future = asyncio.get_running_loop().run_in_executor(self._pool, work)
        except RuntimeError:  # the pool shut down: the node is stopping
            snapshot.close()
            self._running.discard(budget)
            raise RequestTimeout() from None
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(budget.remaining, 0.0))
        except asyncio.TimeoutError:
            budget.cancelled = True
            raise RequestTimeout() from None

    def _encoded(self, request: dict, request_id: object, notify: bool, session: Session | None, ctx: Context,
                 budget: Budget) -> str | None:
        token = budgets.running(budget)
        allowed = budget.bytes_left
        try:
            response = self._respond(request, request_id, notify, lambda: self._run(request, session, ctx))
            if response is None:
                return None
            budget.bytes_left = allowed  # what the handler charged was its estimate; now the real bytes
            text = encode_response(response)
            if len(text) > budget.bytes_left:
                raise ResponseTooLarge()
            return text
        finally:
            budgets.finish(token)

    # --- one call --------------------------------------------------------------------------------

    def call(self, request: object, session: Session | None) -> dict | None:
        """One request object; None for a notification (no "id"), whatever its outcome."""
        envelope = read_envelope(request)
        if type(envelope) is dict:
            return envelope
        request_id, notify = envelope
        return self._respond(request, request_id, notify, lambda: self._run(request, session, self.context))

    def _respond(self, request: dict, request_id: object, notify: bool, run) -> dict | None:
        try:
            result = run()
        except (RequestTimeout, ResponseTooLarge):
            raise
        except SidechainError as exc:
            return None if notify else error_object(request_id, exc.rpc_code, str(exc), exc.data if isinstance(exc, ExecutionReverted) else None)
        except Exception:
            log.exception("internal error in %r", request.get("method"))
            return None if notify else error_object(request_id, InternalError.rpc_code, "internal error")
        return None if notify else {"jsonrpc": "2.0", "id": request_id, "result": result}

    def _run(self, request: dict, session: Session | None, ctx: Context) -> object:
        budgets.check()
        route, args = self._arguments(request)
        if route.session:
            return route.handler(ctx, session, *args)
        return route.handler(ctx, *args)

    def _arguments(self, request: dict) -> tuple[Route, list]:
        """The route of a request object and its parsed arguments; raises what is wrong with it."""
        if request.get("jsonrpc") != "2.0":
            raise InvalidRequest('invalid request: "jsonrpc" must be "2.0"')
        method = request.get("method")
        if type(method) is not str:
            raise InvalidRequest('invalid request: "method" must be a string')
        route = self.routes.get(method)
        if route is None:
            raise _method_not_found(method)
        params = request.get("params")
        if params is None:
            params = ()
        elif type(params) is not list:
            raise InvalidParams("invalid params: expected an array of positional parameters")
        return route, parse_args(route, params)


def parse_args(route: Route, params: list | tuple) -> list:
    """Typed arguments from positional params; a missing optional one (or null) takes its default."""
    spec = route.params
    if len(params) > len(spec):
        names = ", ".join(p.name for p in spec) or "none"
        raise InvalidParams(f"too many arguments: got {len(params)}, want at most {len(spec)} ({names})")
    args = []
    for i, param in enumerate(spec):
        value = params[i] if i < len(params) else None
        if value is None:
            if param.required:
                raise InvalidParams(f"missing value for required argument {i} ({param.name})")
            args.append(param.default)
            continue
        try:
            args.append(param.parse(value))
        except BadParam as exc:
            raise InvalidParams(f"invalid argument {i} ({param.name}): {exc}") from None
    return args


def _method_not_found(method: str) -> MethodNotFound:
    shown = method if len(method) <= 64 else method[:61] + "..."
    return MethodNotFound(f"the method {shown} does not exist/is not available")
