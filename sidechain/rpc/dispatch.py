"""JSON-RPC 2.0 over any transport: request objects in, response objects out.

`Dispatcher.handle_body` takes the raw request text of an HTTP body or a WebSocket message and
returns the response text, or None when there is nothing to answer (only notifications).
A `SidechainError` becomes an error object with its `rpc_code` and message; anything else is a bug,
logged with its traceback and answered with a bare -32603 that leaks nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging

from ..errors import ExecutionReverted, SidechainError
from .codec import BadParam
from .errors import InvalidParams, InvalidRequest, MethodNotFound, ParseError
from .methods import Context
from .routes import Route
from .subscriptions import Session

log = logging.getLogger(__name__)

MAX_BATCH = 10_000
YIELD_EVERY = 256
"""Calls of a batch run between two yields to the event loop, so a 5,000-call batch does not
hold up consensus or other clients for its whole duration."""

_encode = json.JSONEncoder(separators=(",", ":")).encode
_ID_TYPES = (str, int, float, type(None))


def error_object(request_id: object, code: int, message: str, data: bytes | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if data is not None:
        error["data"] = "0x" + data.hex()
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def error_body(code: int, message: str) -> str:
    return _encode(error_object(None, code, message))


class Dispatcher:
    """Routes decoded requests to the handlers of a routes table."""

    def __init__(self, context: Context, routes: dict[str, Route], max_batch: int = MAX_BATCH) -> None:
        self.context = context
        self.routes = routes
        self.max_batch = max_batch

    async def handle_body(self, body: bytes | str, session: Session | None = None) -> str | None:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return error_body(ParseError.rpc_code, f"parse error: {exc}")
        if type(payload) is list:
            responses = await self.handle_batch(payload, session)
            return _encode(responses) if responses else None
        response = self.call(payload, session)
        return None if response is None else _encode(response)

    async def handle_batch(self, batch: list, session: Session | None) -> list | dict:
        if not batch:
            return error_object(None, InvalidRequest.rpc_code, "invalid request: empty batch")
        if len(batch) > self.max_batch:
            return error_object(
                None, InvalidRequest.rpc_code,
                f"invalid request: batch of {len(batch)} calls exceeds the limit of {self.max_batch} calls",
            )
        responses = []
        for position, request in enumerate(batch, 1):
            response = self.call(request, session)
            if response is not None:
                responses.append(response)
            if position % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return responses

    def call(self, request: object, session: Session | None) -> dict | None:
        """One request object; None for a notification (no "id"), whatever its outcome."""
        if type(request) is not dict:
            return error_object(None, InvalidRequest.rpc_code, "invalid request: expected a JSON object")
        is_notification = "id" not in request
        request_id = request.get("id")
        if type(request_id) not in _ID_TYPES or type(request_id) is bool:
            return error_object(None, InvalidRequest.rpc_code, "invalid request: id must be a string, a number or null")
        try:
            result = self._run(request, session)
        except SidechainError as exc:
            return None if is_notification else error_object(request_id, exc.rpc_code, str(exc), exc.data if isinstance(exc, ExecutionReverted) else None)
        except Exception:
            log.exception("internal error in %r", request.get("method"))
            return None if is_notification else error_object(request_id, -32603, "internal error")
        return None if is_notification else {"jsonrpc": "2.0", "id": request_id, "result": result}

    def _run(self, request: dict, session: Session | None) -> object:
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
        args = parse_args(route, params)
        if route.session:
            return route.handler(self.context, session, *args)
        return route.handler(self.context, *args)


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
