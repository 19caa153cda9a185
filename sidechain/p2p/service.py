"""`P2PService`: the node's peer-to-peer layer as the asyncio side sees it.

Gossip topics and request protocols are registered before `start`; validators and handlers are
plain asyncio-side callables. All the trio work happens in `Libp2pNode` (node.py) behind the
`TrioThread` (trio_thread.py); this class only translates between the two.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from .addresses import listen_multiaddr
from .config import MAX_REQUEST_BYTES, P2PConfig, ValidationResult
from .errors import LoopClosed, MessageTooLarge, NotRunning, RequestTimeout, TransportError
from .identity import ServiceGuard, load_or_create_identity, peer_id_of
from .logs import route_libp2p_logging
from .node import Libp2pNode, Upcalls
from .peers import check_bootstrap_addr
from .trio_thread import TrioThread

log = logging.getLogger("sidechain.p2p")

Validator = Callable[[bytes, str], ValidationResult]
Handler = Callable[[bytes, str], None]
RequestHandler = Callable[[bytes, str], Awaitable[bytes]]


class P2PService:
    """libp2p gossip and request/response for one node, driven from asyncio."""

    def __init__(self, config: P2PConfig) -> None:
        route_libp2p_logging()
        self.config = config
        for addr in config.bootstrap:
            check_bootstrap_addr(addr)
        self._key_pair = load_or_create_identity(config.identity_path)
        self.peer_id: str = str(peer_id_of(self._key_pair))
        """Our base58 peer id, stable across restarts."""
        self._topics: dict[str, tuple[Validator, Handler]] = {}
        self._request_handlers: dict[str, RequestHandler] = {}
        self._counters: Counter[str] = Counter()
        self._trio: TrioThread | None = None
        self._node: Libp2pNode | None = None
        self._guard = ServiceGuard(config.identity_path, config.listen_port, config.listen_host)
        self._state = "new"

    # --- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the trio thread, the host, pubsub and the redial loop; return once listening.

        Raises IdentityError if another service runs with this identity, PortInUse if the port is
        taken (checked before libp2p, which would share the port silently).
        """
        if self._state != "new":
            raise NotRunning(f"a P2PService is started once (this one is {self._state})")
        self._guard.acquire()
        upcalls = Upcalls(validate=self._validate_upcall, deliver=self._deliver_upcall, serve=self._serve_upcall)
        self._trio = TrioThread(name=f"p2p-{self.config.listen_port}")
        try:
            self._node = Libp2pNode(self.config, self._key_pair, self._topics, self._request_handlers, upcalls)
            await self._trio.start(self._node.run)
        except BaseException:
            self._state = "stopped"
            self._guard.release()
            raise
        self._state = "running"
        log.info("p2p listening on %s", self.listen_addr())

    async def stop(self) -> None:
        """Orderly shutdown within `config.stop_timeout` (+1 s); idempotent."""
        if self._state != "running":
            self._state = "stopped"
            return
        self._state = "stopping"
        assert self._trio is not None and self._node is not None
        try:
            await self._trio.stop(self._node.request_stop, self.config.stop_timeout)
        finally:
            self._state = "stopped"
            self._guard.release()

    @property
    def running(self) -> bool:
        return self._state == "running"

    def listen_addr(self) -> str:
        """Our full multiaddr, "/ip4/HOST/tcp/PORT/p2p/PEER_ID" (the advertised address if set), for other nodes' bootstrap."""
        advertised = self.config.advertise or str(listen_multiaddr(self.config.listen_host, self.config.listen_port))
        return f"{advertised}/p2p/{self.peer_id}"

    # --- gossip ----------------------------------------------------------------------------------

    def subscribe(self, topic: str, validator: Validator, handler: Handler) -> None:
        """Join `topic` (namespaced with the network id); call before `start`.

        `validator(data, origin_peer)` runs on the asyncio loop before the message is relayed;
        only ACCEPTed messages are relayed and handed to `handler(data, origin_peer)`, each
        publisher's in the order it published them (a gap is waited for at most 0.25 s; see
        ordering.py). Our own messages reach neither. An exception in the validator counts as
        IGNORE; REJECT counts against the peer that sent us the message (see peers.py).
        """
        if self._state != "new":
            raise RuntimeError("subscribe before start()")
        if topic in self._topics:
            raise ValueError(f"already subscribed to {topic!r}")
        self._topics[topic] = (validator, handler)

    def publish(self, topic: str, data: bytes) -> None:
        """Queue `data` for gossip on `topic`; never blocks, keeps our publishing order.

        Raises MessageTooLarge (a ValueError) above `max_message_bytes`, NotRunning if not started.
        """
        if len(data) > self.config.max_message_bytes:
            raise MessageTooLarge(f"gossip message of {len(data)} bytes is above the {self.config.max_message_bytes}-byte limit")
        if self._state != "running":
            raise NotRunning("the p2p service is not running")
        assert self._trio is not None and self._node is not None
        if not self._trio.post(self._node.publish, topic, bytes(data)):
            raise NotRunning("the p2p thread has stopped")

    # --- request / response ----------------------------------------------------------------------

    def set_request_handler(self, protocol: str, handler: RequestHandler) -> None:
        """Serve `protocol`: `await handler(request, peer)` returns the response (at most 4 MiB).

        A SidechainError raised by the handler is sent back and raised as RemoteError at the
        requester; any other exception is reported as an internal error.
        """
        new = protocol not in self._request_handlers
        self._request_handlers[protocol] = handler
        if new and self._state == "running":
            assert self._trio is not None and self._node is not None
            self._trio.call_soon(self._node.add_protocol, protocol)

    async def request(self, peer_id: str, protocol: str, data: bytes, timeout: float = 10.0) -> bytes:
        """Ask `peer_id` over `protocol`; raises RequestTimeout, UnsupportedProtocol, RemoteError,
        TransportError (all RequestError), MessageTooLarge above 4 MiB, NotRunning."""
        if len(data) > MAX_REQUEST_BYTES:
            raise MessageTooLarge(f"request of {len(data)} bytes is above the {MAX_REQUEST_BYTES}-byte limit")
        if self._state != "running":
            raise NotRunning("the p2p service is not running")
        assert self._trio is not None and self._node is not None
        future = self._trio.spawn(self._node.request, peer_id, protocol, bytes(data), timeout)
        try:
            return await asyncio.wait_for(future, timeout + 2.0)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no response from {peer_id} to {protocol} within {timeout} s") from None
        except LoopClosed as exc:
            raise TransportError(f"p2p stopped during the {protocol} request: {exc}") from None

    # --- peers and counters ----------------------------------------------------------------------

    def peers(self) -> list[str]:
        """Connected peer ids (base58)."""
        return list(self._node.peer_snapshot) if self._node is not None else []

    def peer_count(self) -> int:
        return len(self._node.peer_snapshot) if self._node is not None else 0

    def mesh_peers(self, topic: str) -> list[str]:
        """Peers we push `topic` messages to at once (gossipsub mesh); refreshed every redial interval."""
        return list(self._node.mesh_snapshot.get(topic, ())) if self._node is not None else []

    def subscribers(self, topic: str) -> list[str]:
        """Connected peers known to subscribe to `topic`: each gets our own messages on it directly
        (flood publishing); refreshed every redial interval."""
        return list(self._node.subscriber_snapshot.get(topic, ())) if self._node is not None else []

    @property
    def stats(self) -> dict[str, int]:
        """Counters: published, delivered, rejected_<reason>, ignored..., penalised_peers, requests..."""
        merged = Counter(dict(self._node.stats)) if self._node is not None else Counter()  # dict(): one C-level copy, safe against the trio thread
        merged.update(self._counters)
        return dict(merged)

    # --- upcalls: awaited in trio, run here on asyncio -------------------------------------------

    async def _validate_upcall(self, topic: str, data: bytes, peer: str) -> ValidationResult:
        assert self._trio is not None
        return await self._trio.ask_asyncio(self._validate, topic, data, peer)

    def _deliver_upcall(self, topic: str, data: bytes, peer: str) -> None:
        assert self._trio is not None
        self._trio.to_asyncio(self._deliver, topic, data, peer)

    async def _serve_upcall(self, protocol: str, data: bytes, peer: str) -> bytes:
        assert self._trio is not None
        return await self._trio.ask_asyncio(self._serve, protocol, data, peer)

    def _validate(self, topic: str, data: bytes, peer: str):
        """The validator's verdict, or an awaitable of it for a validator that works off the loop."""
        validator = self._topics[topic][0]
        try:
            verdict = validator(data, peer)
        except Exception:  # noqa: BLE001 - a validator bug must not reject an honest peer
            log.exception("gossip validator for %s failed", topic)
            self._counters["validator_errors"] += 1
            return ValidationResult.IGNORE
        if inspect.isawaitable(verdict):
            return self._await_verdict(topic, verdict)
        return self._checked_verdict(topic, verdict)

    async def _await_verdict(self, topic: str, pending) -> ValidationResult:
        try:
            verdict = await pending
        except Exception:  # noqa: BLE001 - as above
            log.exception("gossip validator for %s failed", topic)
            self._counters["validator_errors"] += 1
            return ValidationResult.IGNORE
        return self._checked_verdict(topic, verdict)

    def _checked_verdict(self, topic: str, verdict) -> ValidationResult:
        if not isinstance(verdict, ValidationResult):
            log.error("gossip validator for %s returned %r, not a ValidationResult", topic, verdict)
            return ValidationResult.IGNORE
        return verdict

    def _deliver(self, topic: str, data: bytes, peer: str) -> None:
        if self._state != "running":
            return
        try:
            self._topics[topic][1](data, peer)
        except Exception:  # noqa: BLE001 - one bad message must not stop the others
            log.exception("gossip handler for %s failed", topic)
            self._counters["handler_errors"] += 1

    async def _serve(self, protocol: str, data: bytes, peer: str) -> bytes:
        response = await self._request_handlers[protocol](data, peer)
        return bytes(response)
