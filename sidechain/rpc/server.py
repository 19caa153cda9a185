"""The JSON-RPC server: HTTP POST and WebSocket on one port, with aiohttp.

    server = RpcServer(backend)                    # backend: the RpcBackend (the node)
    await server.start("127.0.0.1", 8545)          # port 0 picks a free port: see server.port
    server.publish_block(block, receipts)          # after each commit: cache + notify subscribers
    await server.stop()

Routes: `POST /` JSON-RPC (single or batch; `Content-Type: application/json`, else 415 as in
go-ethereum), `GET /` upgraded to a WebSocket (JSON-RPC plus eth_subscribe), `GET /health`, the
block explorer's files under `GET /explorer/` (static.py). `add_route` adds more before `start`
(the hook for `/metrics`).
CORS: preflight answered, `Access-Control-Allow-Origin` set for the allowed origins, so a browser
wallet can connect; WebSocket upgrades from other origins are refused.

Limits (`budget.Limits`, README "Decisions"): each request and batch has a time and a response-size
budget; heavy calls run on the dispatcher's worker threads, not on the loop that drives consensus;
one connection has one request in flight (HTTP/1.1 and WebSocket messages are answered in order)
and the server at most `max_in_flight`, beyond which it answers 503 (WebSocket: -32005).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from ..chain.blocks import Block, Receipt
from .budget import Limits
from .calls import CALL_GAS_CAP
from .dispatch import MAX_BATCH, Dispatcher, error_body
from .errors import LimitExceeded, RequestTooLarge
from .filters import MAX_BLOCK_RANGE, MAX_RESULTS
from .methods import Context
from .routes import ROUTES
from .static import ExplorerFiles
from .subscriptions import Session

log = logging.getLogger(__name__)

JSON = "application/json"
ACCEPTED_CONTENT_TYPES = (JSON, "application/json-rpc", "application/jsonrequest")
"""What go-ethereum's HTTP server takes (parameters such as charset aside)."""


@dataclass(frozen=True, slots=True)
class RpcConfig:
    max_body_bytes: int = 16 * 1024 * 1024
    """Largest HTTP body or WebSocket message; a batch of thousands of raw transactions fits."""
    max_batch: int = MAX_BATCH
    """Most calls in one batch (load generators send big ones)."""
    cors_origins: tuple[str, ...] = ("*",)
    """Origins a browser may call from; "*" allows any."""
    ws_queue_limit: int = 10_000
    """Messages a WebSocket client may fall behind before it is dropped."""
    max_log_range: int = MAX_BLOCK_RANGE
    max_log_results: int = MAX_RESULTS
    gas_cap: int = CALL_GAS_CAP
    """Most gas one eth_call or eth_estimateGas may use (go-ethereum's --rpc.gascap)."""
    limits: Limits = Limits()
    """Time and size budgets, worker threads, requests in flight."""


class RpcServer:
    """HTTP + WebSocket JSON-RPC over an RpcBackend; see the module docstring."""

    def __init__(
        self,
        backend,
        config: RpcConfig | None = None,
        *,
        cors_origins: tuple[str, ...] | None = None,
        gas_cap: int | None = None,
    ) -> None:
        config = config or RpcConfig()
        if cors_origins is not None:
            config = dataclasses.replace(config, cors_origins=tuple(cors_origins))
        if gas_cap is not None:
            config = dataclasses.replace(config, gas_cap=gas_cap)
        self.config = config
        self.backend = backend
        self.context = Context(
            backend,
            max_log_range=config.max_log_range, max_log_results=config.max_log_results, gas_cap=config.gas_cap,
        )
        self.dispatcher = Dispatcher(self.context, ROUTES, config.max_batch, config.limits)
        self.in_flight = 0
        """HTTP requests and WebSocket messages being answered now."""
        self.app = web.Application(middlewares=[self._cors], client_max_size=config.max_body_bytes)
        self.app.router.add_post("/", self._http)
        self.app.router.add_get("/", self._websocket)
        self.app.router.add_get("/health", self._health)
        ExplorerFiles().add_to(self.app)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._closing: set[asyncio.Task] = set()
        """Closes of dropped subscribers in flight (held so they are not garbage-collected)."""
        self.port: int | None = None
        """The bound port once started."""

    def add_route(self, method: str, path: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> None:
        """Serve another path (e.g. GET /metrics); call before `start`."""
        self.app.router.add_route(method, path, handler)

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 8545) -> None:
        self._loop = asyncio.get_running_loop()
        self.dispatcher.start()
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = self._runner.addresses[0][1]
        log.info("JSON-RPC listening on http://%s:%d (HTTP and WebSocket)", host, self.port)

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.dispatcher.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # --- the node's side ------------------------------------------------------------------------

    def publish_block(self, block: Block, receipts: list[Receipt] | tuple[Receipt, ...]) -> None:
        """Call after each commit: caches the block and queues newHeads and logs notifications.

        Never blocks and never raises into the commit path. Safe from another thread: the work is
        then handed to the server's event loop.
        """
        loop = self._loop
        if loop is not None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self._publish, block, receipts)
                return
        self._publish(block, receipts)

    def _publish(self, block: Block, receipts: list[Receipt] | tuple[Receipt, ...]) -> None:
        try:
            self.context.view.remember(block, receipts)
            self.context.hub.publish(block, receipts)
        except Exception:
            log.exception("publishing block %d to subscribers failed", block.number)

    # --- HTTP -------------------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.Response:
        limit = self.config.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return self._too_large(limit)
        if request.content_type not in ACCEPTED_CONTENT_TYPES:
            return web.Response(status=415, text=f"invalid content type, only {JSON} is supported",
                                headers={"Connection": "close"})
        if self.in_flight >= self.config.limits.max_in_flight:
            return web.Response(status=503, text=_busy(), content_type=JSON, headers={"Retry-After": "1"})
        self.in_flight += 1
        try:
            body = await self._read_body(request)
            if body is None:
                return self._too_large(limit)
            response = await self.dispatcher.handle_body(body)
        finally:
            self.in_flight -= 1
        return web.Response(text=response or "", content_type=JSON)

    def _too_large(self, limit: int) -> web.Response:
        message = f"request body exceeds the limit of {limit} bytes"
        return web.Response(
            status=413, text=error_body(RequestTooLarge.rpc_code, message), content_type=JSON,
            headers={"Connection": "close"},
        )

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The body, or None if it is larger than the limit."""
        limit = self.config.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return None
        chunks = []
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _health(self, request: web.Request) -> web.Response:
        head = self.backend.chain.head
        status = {
            "status": "ok",
            "head": head.number,
            "timestamp": head.timestamp,
            "syncing": self.backend.sync_status() is not None,
        }
        return web.json_response(status)

    # --- WebSocket ------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=self.config.max_body_bytes, heartbeat=30.0)
        if not ws.can_prepare(request).ok:
            return web.Response(
                status=405, headers={"Allow": "POST"}, content_type=JSON,
                text=error_body(-32600, "send JSON-RPC requests with POST, or upgrade to a WebSocket"),
            )
        origin = request.headers.get("Origin")
        if origin is not None and self._allowed_origin(origin) is None:
            return web.Response(status=403, text=f"origin {origin} is not allowed")
        await ws.prepare(request)
        self._sockets.add(ws)
        writer: asyncio.Task | None = None

        def overflow(session: Session) -> None:
            self.context.hub.drop(session)
            if writer is not None:
                writer.cancel()
            task = asyncio.ensure_future(ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"subscriber too slow"))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

        session = Session(self.config.ws_queue_limit, overflow)
        writer = asyncio.create_task(_drain(ws, session))
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    if self.in_flight >= self.config.limits.max_in_flight:
                        await session.send(_busy())
                        continue
                    self.in_flight += 1
                    try:
                        response = await self.dispatcher.handle_body(msg.data, session)
                    finally:
                        self.in_flight -= 1
                    if response is not None:
                        await session.send(response)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            session.closed = True
            self.context.hub.drop(session)
            writer.cancel()
            self._sockets.discard(ws)
        return ws

    # --- CORS -------------------------------------------------------------------------------------

    def _allowed_origin(self, origin: str | None) -> str | None:
        origins = self.config.cors_origins
        if "*" in origins:
            return "*"
        return origin if origin in origins else None

    @web.middleware
    async def _cors(self, request: web.Request, handler) -> web.StreamResponse:
        if request.method == "OPTIONS":
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "Content-Type"
            )
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                self._add_cors(request, exc)
                raise
        if not response.prepared:
            self._add_cors(request, response)
        return response

    def _add_cors(self, request: web.Request, response: web.StreamResponse) -> None:
        allowed = self._allowed_origin(request.headers.get("Origin"))
        if allowed is not None:
            response.headers["Access-Control-Allow-Origin"] = allowed
            if allowed != "*":
                response.headers["Vary"] = "Origin"


def _busy() -> str:
    limit_message = "too many concurrent requests: the server is answering its limit of requests, retry later"
    return error_body(LimitExceeded.rpc_code, limit_message)


async def _drain(ws: web.WebSocketResponse, session: Session) -> None:
    """Send the session's queued messages in order until the connection goes."""
    queue = session.queue
    try:
        while not ws.closed:
            await ws.send_str(await queue.get())
    except (ConnectionError, RuntimeError) as exc:
        log.debug("WebSocket writer stopped: %s", exc)
