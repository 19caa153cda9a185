"""The trio side: one libp2p host with gossipsub and request/response.

Everything here runs in the trio thread (trio_thread.py) and never touches asyncio; the application
is reached through `Upcalls`, which the service wires across to asyncio; connections are kept by
`PeerKeeper` (peers.py). Settings and why (LIBP2P_NOTES.md pitfalls in brackets):

- gossipsub v1.1 and v1.0 only [2], heartbeat 1 s [3], spam guard off [1], adaptive gossip and
  IP-diversity grafting off (every peer shares 127.0.0.1); flood publishing of our own messages
  (`FloodPublishGossipSub`), so a publisher reaches every connected peer directly, and a sparse
  relay mesh, D=1, D_low=1, D_high=3: a relay only matters for a peer the origin has no link to,
  and a mesh where each node keeps one to three peers (grafts are mutual) still carries a message
  around a missing link in one extra hop (lazy gossip, 1 s, covers the rest). A full mesh (D=3 in
  four nodes) made every node receive each message three times and send it on twice: ~25% of all
  node CPU at low load went to those duplicates (`scripts/bench --rate 100`); and a relay skips the
  mesh peers that said they are linked to the message's origin (links.py), which got it from there;
- subscription queue and per-peer outgoing queue raised, the latter with backpressure [4, 5];
  both are module-level in libp2p, so they are set for the whole process, before any subscribe;
  pubsub frames raised to 2 MiB so a 1 MiB message fits with its envelope [10]; signed peer
  records checked once per peer and record, not on every message (records.py);
- the seqno counter starts at `time.time_ns()` [6]: a restarted node's messages are not "seen";
- shutdown closes the network before leaving the pubsub contexts [8];
- gossip validation runs in libp2p's topic validator, BEFORE relaying: a cheap size/shape check
  here, then the asyncio validator (`Upcalls.validate`). Only ACCEPT is relayed and delivered.
  Validation is concurrent, so each publisher's order is restored before delivery (ordering.py);
- requests and responses are at most 4 MiB [9]; a response starts with a status byte, so a
  failing handler is reported to the requester (RemoteError) instead of a reset stream.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import trio
from libp2p import new_host
from libp2p.crypto.keys import KeyPair
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11
from libp2p.pubsub.pubsub import Pubsub
from libp2p.request_response.api import RequestResponse, RequestResponseConfig
from libp2p.request_response.codec import BytesCodec
from libp2p.request_response.exceptions import (
    MessageTooLargeError, ProtocolNotSupportedError, RequestResponseError, RequestTimeoutError,
)
from libp2p.tools.anyio_service import background_trio_service
from multiaddr import Multiaddr

from ..errors import SidechainError
from .config import GOSSIP_FRAME_LIMIT, MAX_REQUEST_BYTES, P2PConfig, ValidationResult
from .addresses import listen_multiaddr
from .exchange import MAX_RESPONSE_BYTES, PROTOCOL as PEER_PROTOCOL, encode_records
from .errors import RemoteError, RequestTimeout, TransportError, UnsupportedProtocol
from .identity import peer_id_of
from .links import (
    LINKS_INTERVAL, MAX_RESPONSE_BYTES as LINKS_RESPONSE_BYTES, PROTOCOL as LINKS_PROTOCOL, LinksError, PeerLinks, decode_links, encode_links,
)
from .ordering import OriginOrder
from .peers import PeerKeeper
from .pubsub import BACKPRESSURE_AT, FloodPublishGossipSub, GuardedPubsub, tune_libp2p


log = logging.getLogger("sidechain.p2p")

SERVE_TIMEOUT = 30.0
ORDER_HOLD = 0.25
VALIDATORS_IN_FLIGHT = 1024
"""libp2p's default of 10 queues validations behind a semaphore whose waiters are in trio's (randomised)
scheduling order, which reordered a burst by hundreds of ms; ours only wait on the asyncio loop."""
_OK, _FAILED = b"\x00", b"\x01"


@dataclass(frozen=True, slots=True)
class Upcalls:
    """How the trio side reaches the application (each crosses from the trio thread to asyncio)."""

    validate: Callable[[str, bytes, str], Awaitable[ValidationResult]]
    """(topic, data, origin peer) -> verdict, awaited in trio."""
    deliver: Callable[[str, bytes, str], None]
    """(topic, data, origin peer): an ACCEPTed message from another node."""
    serve: Callable[[str, bytes, str], Awaitable[bytes]]
    """(protocol, request, peer) -> response, awaited in trio."""


class Libp2pNode:
    def __init__(self, config: P2PConfig, key_pair: KeyPair, topics: Iterable[str], protocols: Iterable[str], upcalls: Upcalls) -> None:
        self.config = config
        self.key_pair = key_pair
        self.peer_id = peer_id_of(key_pair)
        self.upcalls = upcalls
        self._namespace = config.network_id.hex()
        self._topics = {self.topic_id(t): t for t in topics}
        self._protocols = list(protocols)
        self.stats: Counter[str] = Counter()
        self.peer_snapshot: tuple[str, ...] = ()
        self.mesh_snapshot: dict[str, tuple[str, ...]] = {}
        self.subscriber_snapshot: dict[str, tuple[str, ...]] = {}
        self._names: dict[bytes, str] = {}
        self._order: OriginOrder[tuple[str, bytes, bytes]] = OriginOrder(hold=ORDER_HOLD)
        self._order_wakeup = trio.Event()
        self._stop = trio.Event()
        self._listen = listen_multiaddr(config.listen_host, config.listen_port)
        self._advertised = Multiaddr(config.advertise) if config.advertise else None
        self.host = new_host(key_pair=key_pair, announce_addrs=[self._advertised] if self._advertised else None)
        self._heard: dict[ID, float] = {}
        """When gossip last arrived from each connected peer (trio clock): the keepalive's second witness."""
        self.peers = PeerKeeper(self.host, config, self.stats, self.refresh_peers, ask_peers=self._ask_peers if config.peer_exchange else None,
                                last_heard=self._heard.get)
        self.links = PeerLinks(trio.current_time)
        self.ps: Pubsub | None = None
        self.rr = RequestResponse(self.host)

    def topic_id(self, topic: str) -> str:
        return f"/sidechain/{self._namespace}/{topic.strip('/')}"

    def protocol_id(self, protocol: str) -> str:
        return f"/sidechain/{self._namespace}/req/{protocol.strip('/')}"

    def listen_addr(self) -> str:
        """The address peers dial: the advertised one, else the bound one."""
        return f"{self._advertised or self._listen}/p2p/{self.peer_id}"

    # --- life cycle ------------------------------------------------------------------------------

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Listen, join the topics, keep peers connected; report started; return after `request_stop`."""
        tune_libp2p()
        router = FloodPublishGossipSub(
            protocols=[PROTOCOL_ID_V11, PROTOCOL_ID], degree=1, degree_low=1, degree_high=3, heartbeat_interval=1,
            spam_protection_enabled=False, adaptive_gossip_enabled=False, eclipse_protection_enabled=False,
        )
        router.links, router.stats = self.links, self.stats
        self.ps = ps = GuardedPubsub(self.host, router, max_inbound_rpc_size=GOSSIP_FRAME_LIMIT, max_concurrent_validator_count=VALIDATORS_IN_FLIGHT)
        ps.on_bad_stream = lambda peer: self.peers.reject(peer, "undecodable")
        for topic in self._topics:
            ps.set_topic_validator(topic, self._validate, True)
        for protocol in self._protocols:
            self.add_protocol(protocol)
        self._serve_peer_table()
        self._serve_links()
        async with self.host.run([self._listen]):
            async with background_trio_service(ps), background_trio_service(router):
                try:
                    await ps.wait_until_ready()
                    ps.counter = time.time_ns()
                    async with trio.open_nursery() as nursery:
                        for topic, name in self._topics.items():
                            nursery.start_soon(self._read, name, await ps.subscribe(topic))
                        nursery.start_soon(self.peers.run)
                        nursery.start_soon(self._release_expired)
                        nursery.start_soon(self._ask_links_forever)
                        task_status.started(self.listen_addr())
                        await self._stop.wait()
                        nursery.cancel_scope.cancel()
                finally:
                    with trio.CancelScope(shield=True), trio.move_on_after(2.0):
                        await self.host.get_network().close()

    def request_stop(self) -> None:
        self._stop.set()

    def add_protocol(self, protocol: str) -> None:
        config = RequestResponseConfig(timeout=SERVE_TIMEOUT, max_request_size=MAX_REQUEST_BYTES, max_response_size=MAX_REQUEST_BYTES + 1)
        self.rr.set_handler(self.protocol_id(protocol), self._serve_handler(protocol), BytesCodec(), config)

    # --- gossip ----------------------------------------------------------------------------------

    async def publish(self, topic: str, data: bytes) -> None:
        assert self.ps is not None
        deadline = trio.current_time() + 2.0
        while any(len(q) > BACKPRESSURE_AT for q in self.ps.peer_queues.values()) and trio.current_time() < deadline:
            self.stats["publish_backpressure_waits"] += 1
            await trio.sleep(0.005)
        if self._stop.is_set():
            self.stats["publish_dropped_stopping"] += 1
            return
        try:
            await self.ps.publish(self.topic_id(topic), data)
        except Exception as exc:  # noqa: BLE001 - publish is fire-and-forget for the caller: count, log
            self.stats["publish_failed"] += 1
            log.warning("p2p: publishing on %s failed: %s", topic, exc)
            return
        self.stats["published"] += 1

    async def _validate(self, forwarder: ID, msg) -> bool:
        if forwarder == self.peer_id:
            return True  # our own publish
        self._heard[forwarder] = trio.current_time()
        if await self._verdict(forwarder, msg):
            return True
        self._hand_over(self._order.skip(msg.from_id, int.from_bytes(msg.seqno, "big")))
        return False

    async def _verdict(self, forwarder: ID, msg) -> bool:
        if self.peers.is_penalised(forwarder):
            self.stats["ignored_penalised"] += 1
            return False
        if len(msg.topicIDs) != 1 or msg.topicIDs[0] not in self._topics:
            self.peers.reject(forwarder, "malformed")
            return False
        if len(msg.data) > self.config.max_message_bytes:
            self.peers.reject(forwarder, "oversized")
            return False
        try:
            with trio.fail_after(self.config.validate_timeout):
                verdict = await self.upcalls.validate(self._topics[msg.topicIDs[0]], msg.data, self._name(msg.from_id))
        except trio.TooSlowError:
            self.stats["ignored_timeout"] += 1
            return False
        except Exception:  # noqa: BLE001 - our validator's bug, not the peer's fault
            log.exception("gossip validator failed")
            self.stats["validator_errors"] += 1
            return False
        if verdict is ValidationResult.ACCEPT:
            return True
        if verdict is ValidationResult.REJECT:
            self.peers.reject(forwarder, "invalid")
        else:
            self.stats["ignored"] += 1
        return False

    async def _read(self, topic: str, subscription) -> None:
        own = self.peer_id.to_bytes()
        while True:
            msg = await subscription.get()
            if msg.from_id == own:
                continue  # never hand our own messages back
            item = (topic, msg.data, msg.from_id)
            self._hand_over(self._order.offer(msg.from_id, int.from_bytes(msg.seqno, "big"), item, trio.current_time()))
            if self._order.next_deadline() is not None:
                self._order_wakeup.set()

    async def _release_expired(self) -> None:
        while True:
            deadline = self._order.next_deadline()
            if deadline is None:
                await self._order_wakeup.wait()
                self._order_wakeup = trio.Event()
                continue
            await trio.sleep_until(deadline)
            self._hand_over(self._order.expire(trio.current_time()))

    def _hand_over(self, items: list[tuple[str, bytes, bytes]]) -> None:
        for topic, data, origin in items:
            self.stats["delivered"] += 1
            self.upcalls.deliver(topic, data, self._name(origin))
        self.stats["delivered_late"] = self._order.late
        self.stats["duplicates_dropped"] = self._order.duplicates
        self.stats["held_for_order"] = self._order.held

    def _name(self, raw_id: bytes) -> str:
        name = self._names.get(raw_id)
        if name is None:
            if len(self._names) > 4096:
                self._names.clear()
            name = self._names[raw_id] = ID(raw_id).to_base58()
        return name

    # --- connections -----------------------------------------------------------------------------

    def refresh_peers(self) -> None:
        """Snapshots for the asyncio side (replaced whole, never mutated: safe to read across threads)."""
        if self.ps is not None and (stale := self.ps.forget_stale_peers()):
            self.stats["pubsub_stale_peers_dropped"] += stale
        connected = self.host.get_connected_peers()
        for gone in self._heard.keys() - set(connected):
            del self._heard[gone]
        self.peer_snapshot = tuple(str(p) for p in connected)
        mesh = self.ps.router.mesh if self.ps is not None else {}
        self.mesh_snapshot = {name: tuple(str(p) for p in mesh.get(topic, ())) for topic, name in self._topics.items()}
        subscribed = self.ps.peer_topics if self.ps is not None else {}
        self.subscriber_snapshot = {name: tuple(str(p) for p in subscribed.get(topic, ())) for topic, name in self._topics.items()}

    # --- peer exchange (exchange.py), served and asked here on the trio side ----------------------

    def _serve_peer_table(self) -> None:
        async def handle(request: bytes, context) -> bytes:
            self.stats["peer_tables_served"] += 1
            return encode_records(self.peers.records())

        config = RequestResponseConfig(timeout=SERVE_TIMEOUT, max_request_size=16, max_response_size=MAX_RESPONSE_BYTES)
        self.rr.set_handler(self.protocol_id(PEER_PROTOCOL), handle, BytesCodec(), config)

    async def _ask_peers(self, peer: ID) -> bytes:
        config = RequestResponseConfig(timeout=5.0, max_request_size=16, max_response_size=MAX_RESPONSE_BYTES)
        return await self.rr.send_request(peer, [self.protocol_id(PEER_PROTOCOL)], b"\x01", BytesCodec(), config)

    # --- links (links.py): whom each peer hears directly, so relays skip it ------------------------

    def _serve_links(self) -> None:
        async def handle(request: bytes, context) -> bytes:
            return encode_links(p.to_bytes() for p in self.host.get_connected_peers())

        config = RequestResponseConfig(timeout=SERVE_TIMEOUT, max_request_size=16, max_response_size=LINKS_RESPONSE_BYTES)
        self.rr.set_handler(self.protocol_id(LINKS_PROTOCOL), handle, BytesCodec(), config)

    async def _ask_links_forever(self) -> None:
        while True:
            connected = self.host.get_connected_peers()
            self.links.keep_only(p.to_bytes() for p in connected)
            async with trio.open_nursery() as nursery:  # all at once: a frozen peer holds up only its own answer
                for peer in connected:
                    if not self.peers.is_penalised(peer):
                        nursery.start_soon(self._ask_links, peer)
            self.stats["links_known"] = len(self.links)
            await trio.sleep(LINKS_INTERVAL)

    async def _ask_links(self, peer: ID) -> None:
        config = RequestResponseConfig(timeout=LINKS_INTERVAL, max_request_size=16, max_response_size=LINKS_RESPONSE_BYTES)
        try:
            answer = await self.rr.send_request(peer, [self.protocol_id(LINKS_PROTOCOL)], b"\x01", BytesCodec(), config)
            self.links.report(peer.to_bytes(), decode_links(answer))
        except LinksError as exc:
            self.links.forget(peer.to_bytes())
            self.peers.reject(peer, "bad_links")
            log.debug("p2p: links answer from %s refused: %s", peer, exc)
        except Exception as exc:  # noqa: BLE001 - an older peer without the protocol, a broken stream: relay to it
            self.links.forget(peer.to_bytes())
            self.stats["links_asks_failed"] += 1
            log.debug("p2p: asking %s for its links failed: %s", peer, exc)

    # --- request / response ----------------------------------------------------------------------

    def _serve_handler(self, protocol: str):
        async def handle(request: bytes, context) -> bytes:
            self.stats["requests_served"] += 1
            try:
                response = await self.upcalls.serve(protocol, request, str(context.peer_id))
            except Exception as exc:  # noqa: BLE001 - the requester is told, we go on
                self.stats["requests_failed_serving"] += 1
                reason = str(exc) if isinstance(exc, SidechainError) else f"internal error ({type(exc).__name__})"
                return _FAILED + reason.encode()[:1024]
            if len(response) > MAX_REQUEST_BYTES:
                self.stats["requests_failed_serving"] += 1
                return _FAILED + f"response of {len(response)} bytes is above the {MAX_REQUEST_BYTES} limit".encode()
            return _OK + response

        return handle

    async def request(self, peer: str, protocol: str, data: bytes, timeout: float) -> bytes:
        try:
            peer_id = ID.from_base58(peer)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the caller's bad input
            raise TransportError(f"not a peer id: {peer!r}") from exc
        config = RequestResponseConfig(timeout=timeout, max_request_size=MAX_REQUEST_BYTES, max_response_size=MAX_REQUEST_BYTES + 1)
        self.stats["requests_sent"] += 1
        try:
            raw = await self.rr.send_request(peer_id, [self.protocol_id(protocol)], data, BytesCodec(), config)
        except RequestTimeoutError:
            raise RequestTimeout(f"no response from {peer} to {protocol} within {timeout} s") from None
        except ProtocolNotSupportedError:
            raise UnsupportedProtocol(f"peer {peer} does not serve {protocol}") from None
        except MessageTooLargeError as exc:
            raise TransportError(f"{protocol} exchange with {peer} above the {MAX_REQUEST_BYTES}-byte limit: {exc}") from None
        except RequestResponseError as exc:
            raise TransportError(f"{protocol} exchange with {peer} failed: {exc}") from None
        if raw[:1] == _OK:
            return raw[1:]
        if raw[:1] == _FAILED:
            raise RemoteError(f"peer {peer} could not serve {protocol}: {raw[1:].decode(errors='replace')}")
        raise TransportError(f"malformed {protocol} response from {peer}")
