"""The trio side's connection keeping: known peers, the redial loop, penalties.

libp2p 0.8.1 does not keep a node connected to its peers (LIBP2P_NOTES pitfall 7): the `bootstrap=`
option forgets a peer after 3 failed dials, peerstore addresses expire after 120 s, and its
AutoConnector redials peerstore peers from both sides (two connections per pair) with a 60 s
backoff after a disconnect. So `PeerKeeper` replaces the AutoConnector and owns connections:

- known peers: the bootstrap entries, plus every peer that ever connected, with the listen
  addresses identify reported (polled briefly after each connection: identify has no event).
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
  served). Then its count starts again from zero.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

import trio
from libp2p.abc import IHost, INotifee
from libp2p.network.auto_connector import AutoConnector
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from multiaddr import Multiaddr

from .config import P2PConfig

log = logging.getLogger("sidechain.p2p")

IDENTIFY_WAIT = 10.0
FORGET_AFTER = 600.0
MAX_LEARNED = 256


def check_bootstrap_addr(addr: str) -> None:
    """Raise ValueError unless `addr` is a dialable "/ip4/HOST/tcp/PORT/p2p/PEER_ID" multiaddr."""
    try:
        info = info_from_p2p_addr(Multiaddr(addr))
    except Exception as exc:  # noqa: BLE001 - multiaddr and libp2p raise assorted types
        raise ValueError(f"bootstrap address {addr!r} is not /ip4/HOST/tcp/PORT/p2p/PEER_ID: {exc}") from None
    if not any(_has_tcp(a) for a in info.addrs):
        raise ValueError(f"bootstrap address {addr!r} has no TCP port")


def _has_tcp(addr: Multiaddr) -> bool:
    return any(p.name == "tcp" for p in addr.protocols())


class NoAutoConnector(AutoConnector):
    """libp2p's background dialer, switched off (see the module docstring)."""

    async def run_background_task(self, nursery) -> None:
        return None

    async def maybe_connect(self) -> None:
        return None


class PeerKeeper(INotifee):
    """Keeps `host` connected to its known peers; registered as the network's notifee."""

    def __init__(self, host: IHost, config: P2PConfig, stats: Counter[str], on_change: Callable[[], None]) -> None:
        self.host = host
        self.config = config
        self.stats = stats
        self.on_change = on_change
        self.own_id = host.get_id()
        self.known: dict[ID, list[Multiaddr]] = {}
        for addr in config.bootstrap:
            info = info_from_p2p_addr(Multiaddr(addr))
            if info.peer_id != self.own_id:
                self.known[info.peer_id] = list(info.addrs)
        self._bootstrap = frozenset(self.known)
        self._down_since: dict[ID, float] = {}
        self._dialing: set[ID] = set()
        self._rejects: Counter[ID] = Counter()
        self._penalised_until: dict[ID, float] = {}
        self._nursery: trio.Nursery | None = None
        network = host.get_network()
        network.auto_connector = NoAutoConnector(network)
        network.register_notifee(self)

    async def run(self) -> None:
        """The redial loop; runs until cancelled."""
        interval = self.config.redial_interval
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            while True:
                self._redial_pass(trio.current_time())
                self.on_change()
                await trio.sleep(interval)

    def _redial_pass(self, now: float) -> None:
        for peer, until in list(self._penalised_until.items()):
            if now >= until:
                del self._penalised_until[peer]
                self._rejects.pop(peer, None)
        connected = set(self.host.get_connected_peers())
        for peer in connected:
            self.learn(peer)
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
        try:
            with trio.fail_after(max(5.0, 2 * self.config.redial_interval)):
                await self.host.connect(PeerInfo(peer, addrs))
            self.stats["dials_ok"] += 1
        except Exception as exc:  # noqa: BLE001 - an unreachable peer is normal; retried next pass
            self.stats["dials_failed"] += 1
            log.debug("p2p: dialling %s failed: %s", peer, exc)
        finally:
            self._dialing.discard(peer)

    def learn(self, peer: ID) -> bool:
        """Remember the listen addresses identify reported for `peer`; True once known."""
        if peer in self.known or peer == self.own_id:
            return True
        try:
            addrs = [a for a in self.host.get_peerstore().addrs(peer) if _has_tcp(a)]
        except Exception:  # noqa: BLE001 - libp2p raises PeerStoreError for a peer it has no record of
            return False
        if addrs and len(self.known) - len(self._bootstrap) < MAX_LEARNED:
            self.known[peer] = addrs
        return bool(addrs)

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

    async def _disconnect(self, peer: ID) -> None:
        try:
            await self.host.disconnect(peer)
        except Exception as exc:  # noqa: BLE001 - already gone is fine
            log.debug("p2p: disconnecting %s: %s", peer, exc)

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
