"""The trio side's connection keeping: known peers, the redial loop, penalties.

libp2p 0.8.1 does not keep a node connected to its peers (LIBP2P_NOTES pitfall 7): the `bootstrap=`
option forgets a peer after 3 failed dials, peerstore addresses expire after 120 s, and its
AutoConnector redials peerstore peers from both sides (two connections per pair) with a 60 s
backoff after a disconnect. So `PeerKeeper` replaces the AutoConnector and owns connections:

- known peers: the bootstrap entries, the persisted table and what connected peers told us
  (peer exchange, exchange.py), plus every peer that ever connected, with the listen addresses
  identify reported (its `--p2p-advertise` address if set; polled briefly after each connection:
  identify has no event, and refreshed while connected, so a peer that moved is redialled where it
  is now). A third peer's exchange never overwrites the address of a peer already known.
  A learned peer is forgotten after `FORGET_AFTER` seconds unreachable, and at most
  `MAX_LEARNED` are kept, so peers that come and go (or made-up identities) are not redialled
  forever; bootstrap entries are never forgotten;
- every `redial_interval`, each known peer that is not connected is dialled by the side with the
  larger peer id at once, and by the smaller id only after 2 intervals without a connection: one
  connection per pair in the normal case, yet a one-sided bootstrap (only the smaller id knows the
  larger) still connects;
- penalties: the gossip validator reports each REJECTed, oversized or undecodable message against
  the peer that forwarded it; at `reject_threshold` the peer is disconnected for `penalty_seconds`:
  not redialled, a reconnection is dropped at once and its gossip ignored (requests are still
  served). Then its count starts again from zero;
- keepalive (keepalive.py): a connected peer that stops answering pings (frozen, or behind a cut
  link that sends no reset) is disconnected, so the redial loop dials it again until it answers.
"""

from __future__ import annotations

import logging
import socket
from collections import Counter
from collections.abc import Awaitable, Callable

import trio
from libp2p.abc import IHost, INotifee
from libp2p.network.auto_connector import AutoConnector
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from multiaddr import Multiaddr

from .addresses import is_dialable, parse_peer_addr
from .config import P2PConfig
from .keepalive import Keepalive, abort_transport
from .exchange import EXCHANGE_INTERVAL, MAX_RECORDS, PeerRecord, PeerTableError, decode_records, load_peer_file, save_peer_file

log = logging.getLogger("sidechain.p2p")

IDENTIFY_WAIT = 10.0
FORGET_AFTER = 600.0
MAX_LEARNED = 256
DISCONNECT_WAIT = 3.0
"""Seconds a disconnect may wait on the peer (a frozen one never acknowledges anything)."""
MAX_RESOLVED = 4
"""Addresses of one DNS name dialled."""


def check_bootstrap_addr(addr: str) -> None:
    """Raise AddressError (a ValueError) unless `addr` is "/ip4|dns4/HOST/tcp/PORT/p2p/PEER_ID"."""
    parse_peer_addr(addr)


def _has_tcp(addr: Multiaddr) -> bool:
    return any(p.name == "tcp" for p in addr.protocols())


async def _resolved(addrs: list[Multiaddr]) -> list[Multiaddr]:
    """/dns4 and /dns6 addresses looked up with the system resolver (which reads /etc/hosts and the
    host's resolver configuration; libp2p's own resolver queries DNS servers only), others as given."""
    out: list[Multiaddr] = []
    for addr in addrs:
        family = addr.protocols()[0].name
        if family not in ("dns4", "dns6"):
            out.append(addr)
            continue
        name, port = addr.value_for_protocol(family), int(addr.value_for_protocol("tcp"))
        try:
            infos = await trio.socket.getaddrinfo(name, port, socket.AF_INET if family == "dns4" else socket.AF_INET6,
                                                  socket.SOCK_STREAM)
        except OSError as exc:
            log.debug("p2p: cannot resolve %s: %s", name, exc)
            continue
        for info in infos[:MAX_RESOLVED]:
            resolved = Multiaddr(f"/{'ip4' if family == 'dns4' else 'ip6'}/{info[4][0]}/tcp/{port}")
            if resolved not in out:
                out.append(resolved)
    return out or addrs


class NoAutoConnector(AutoConnector):
    """libp2p's background dialer, switched off (see the module docstring)."""

    async def run_background_task(self, nursery) -> None:
        return None

    async def maybe_connect(self) -> None:
        return None


class PeerKeeper(INotifee):
    """Keeps `host` connected to its known peers; registered as the network's notifee."""

    def __init__(self, host: IHost, config: P2PConfig, stats: Counter[str], on_change: Callable[[], None],
                 ask_peers: Callable[[ID], Awaitable[bytes]] | None = None,
                 last_heard: Callable[[ID], float | None] = lambda peer: None) -> None:
        self.host = host
        self.config = config
        self.stats = stats
        self.on_change = on_change
        self.own_id = host.get_id()
        self.known: dict[ID, list[Multiaddr]] = {}
        for addr in config.bootstrap:
            peer_text, maddr = parse_peer_addr(addr)
            peer = ID.from_base58(peer_text)
            if peer != self.own_id:
                self.known.setdefault(peer, []).append(maddr)
        self._bootstrap = frozenset(self.known)
        self.ask_peers = ask_peers
        self._saved: list[PeerRecord] = []
        if config.peers_path is not None:
            self._saved = load_peer_file(config.peers_path)
            self.merge(self._saved)
        self._down_since: dict[ID, float] = {}
        self._dialing: set[ID] = set()
        self._rejects: Counter[ID] = Counter()
        self._penalised_until: dict[ID, float] = {}
        self._nursery: trio.Nursery | None = None
        self.keepalive = Keepalive(host, config.keepalive_interval, config.keepalive_timeout, stats, self._gone_silent, last_heard)
        network = host.get_network()
        network.auto_connector = NoAutoConnector(network)
        network.register_notifee(self)

    async def run(self) -> None:
        """The redial loop; runs until cancelled."""
        interval = self.config.redial_interval
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self.keepalive.run)
            if self.ask_peers is not None:
                nursery.start_soon(self._exchange_forever)
            persisted_at = trio.current_time()
            try:
                while True:
                    now = trio.current_time()
                    self._redial_pass(now)
                    self.on_change()
                    if now - persisted_at >= EXCHANGE_INTERVAL:
                        self._persist()
                        persisted_at = now
                    await trio.sleep(interval)
            finally:
                self._persist()  # what we learned since the last write survives a clean stop

    def _redial_pass(self, now: float) -> None:
        for peer, until in list(self._penalised_until.items()):
            if now >= until:
                del self._penalised_until[peer]
                self._rejects.pop(peer, None)
        connected = set(self.host.get_connected_peers())
        for peer in connected:
            self.learn(peer, refresh=True)
        for peer, addrs in list(self.known.items()):
            if peer in connected:
                self._down_since.pop(peer, None)
                continue
            since = self._down_since.setdefault(peer, now)
            if peer not in self._bootstrap and now - since > FORGET_AFTER:
                del self.known[peer]
                del self._down_since[peer]
                continue
            if peer in self._dialing or peer in self._penalised_until:
                continue
            if self.own_id.to_bytes() > peer.to_bytes() or now - since >= 2 * self.config.redial_interval:
                self._dialing.add(peer)
                self._start(self._dial, peer, addrs)

    async def _dial(self, peer: ID, addrs: list[Multiaddr]) -> None:
        # py-libp2p refuses every dial of a peer for 60 s once all its addresses failed (the swarm's
        # negative cache), so a bootstrap peer that was not listening yet stayed out of reach for a
        # minute; this loop paces the redials itself.
        unblock = getattr(self.host.get_network(), "unblock_peer", None)
        if unblock is not None:
            unblock(peer)
        try:
            with trio.fail_after(max(5.0, 2 * self.config.redial_interval)):
                await self.host.connect(PeerInfo(peer, await _resolved(addrs)))
            self.stats["dials_ok"] += 1
        except Exception as exc:  # noqa: BLE001 - an unreachable peer is normal; retried next pass
            self.stats["dials_failed"] += 1
            log.debug("p2p: dialling %s failed: %s", peer, exc)
        finally:
            self._dialing.discard(peer)

    def learn(self, peer: ID, refresh: bool = False) -> bool:
        """Remember the listen addresses identify reported for `peer`; True once known. With `refresh`
        (the peer is connected) a learned entry takes the addresses reported now."""
        if peer == self.own_id or (peer in self.known and (not refresh or peer in self._bootstrap)):
            return True
        try:
            addrs = [a for a in self.host.get_peerstore().addrs(peer) if _has_tcp(a)]
        except Exception:  # noqa: BLE001 - libp2p raises PeerStoreError for a peer it has no record of
            return peer in self.known
        addrs = [a for a in addrs if is_dialable(a)]
        if addrs and (peer in self.known or len(self.known) - len(self._bootstrap) < MAX_LEARNED):
            self.known[peer] = addrs
        return bool(addrs) or peer in self.known

    # --- peer exchange and the persisted table (exchange.py) -------------------------------------

    def records(self) -> list[PeerRecord]:
        """Up to MAX_RECORDS known peers, connected ones first: what we tell others and persist."""
        connected = set(self.host.get_connected_peers())
        ordered = sorted(self.known.items(), key=lambda kv: kv[0] not in connected)
        out = []
        for peer, addrs in ordered:
            record = PeerRecord.make(peer.to_base58(), addrs)
            if record is not None:
                out.append(record)
            if len(out) == MAX_RECORDS:
                break
        return out

    def merge(self, records: list[PeerRecord]) -> int:
        """Add peers we did not know (within MAX_LEARNED); returns how many were new."""
        new = 0
        for record in records:
            try:
                peer = ID.from_base58(record.peer_id)
            except Exception:  # noqa: BLE001 - PeerRecord validated it; be safe anyway
                continue
            if peer == self.own_id or peer in self.known or len(self.known) - len(self._bootstrap) >= MAX_LEARNED:
                continue
            self.known[peer] = [Multiaddr(a) for a in record.addrs]
            new += 1
        self.stats["peers_learned_by_exchange"] += new
        return new

    async def _exchange_forever(self) -> None:
        while True:
            for peer in list(self.host.get_connected_peers()):
                if not self.is_penalised(peer):
                    await self._exchange_with(peer)
            await trio.sleep(min(EXCHANGE_INTERVAL, 3 * self.config.redial_interval))

    async def _exchange_with(self, peer: ID) -> None:
        assert self.ask_peers is not None
        try:
            with trio.move_on_after(5.0):
                records = decode_records(await self.ask_peers(peer))
                if self.merge(records):
                    self.on_change()
        except PeerTableError as exc:
            self.reject(peer, "bad_peer_table")
            log.debug("p2p: peer table from %s refused: %s", peer, exc)
        except Exception as exc:  # noqa: BLE001 - an old peer without the protocol, a broken stream: next round
            self.stats["peer_exchange_failed"] += 1
            log.debug("p2p: peer exchange with %s failed: %s", peer, exc)

    def _persist(self) -> None:
        if self.config.peers_path is None:
            return
        records = self.records()
        if records and records != self._saved:
            try:
                save_peer_file(self.config.peers_path, records)
                self._saved = records
            except OSError as exc:
                log.warning("p2p: cannot write the peer table %s: %s", self.config.peers_path, exc)

    async def _learn_when_identified(self, peer: ID) -> None:
        with trio.move_on_after(IDENTIFY_WAIT):
            while not self.learn(peer):
                await trio.sleep(0.05)

    # --- penalties -------------------------------------------------------------------------------

    def reject(self, peer: ID, reason: str) -> None:
        """Count a rejected message against the peer that forwarded it; penalise at the threshold."""
        self.stats[f"rejected_{reason}"] += 1
        self._rejects[peer] += 1
        if self._rejects[peer] >= self.config.reject_threshold and peer not in self._penalised_until:
            self._penalised_until[peer] = trio.current_time() + self.config.penalty_seconds
            self.stats["penalised_peers"] += 1
            log.warning("p2p: peer %s sent %d rejected messages: disconnected for %.0f s", peer, self._rejects[peer], self.config.penalty_seconds)
            self._start(self._disconnect, peer)

    def is_penalised(self, peer: ID) -> bool:
        return peer in self._penalised_until

    def _gone_silent(self, peer: ID) -> None:
        """The keepalive's verdict: cut the connection without waiting on the peer; the redial loop
        takes it from there."""
        for conn in self.host.get_network().get_connections(peer):
            if not abort_transport(conn):
                log.debug("p2p: no TCP socket found under the connection to %s; closing it gracefully", peer)
        self._start(self._disconnect, peer)

    async def _disconnect(self, peer: ID) -> None:
        with trio.move_on_after(DISCONNECT_WAIT) as waited:
            try:
                await self.host.disconnect(peer)
            except Exception as exc:  # noqa: BLE001 - already gone is fine
                log.debug("p2p: disconnecting %s: %s", peer, exc)
        if waited.cancelled_caught:
            log.info("p2p: closing the connection to %s took over %.0f s", peer, DISCONNECT_WAIT)

    def _start(self, afn, *args) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(afn, *args)

    # --- INotifee --------------------------------------------------------------------------------

    async def connected(self, network, conn) -> None:
        peer = conn.muxed_conn.peer_id
        if self.is_penalised(peer):
            self._start(self._disconnect, peer)
        elif peer not in self.known:
            self._start(self._learn_when_identified, peer)
        self.on_change()

    async def disconnected(self, network, conn) -> None:
        self.on_change()

    async def opened_stream(self, network, stream) -> None:
        pass

    async def closed_stream(self, network, stream) -> None:
        pass

    async def listen(self, network, multiaddr) -> None:
        pass

    async def listen_close(self, network, multiaddr) -> None:
        pass
