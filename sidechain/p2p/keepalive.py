"""Keepalive: notice a peer that stopped answering, so it is dropped and redialled.

A killed peer is noticed at once (the kernel resets its sockets), but a frozen one (SIGSTOP, a
hung process) or one behind a cut link (no FIN, no RST) keeps its TCP connection open for as long
as the kernel retransmits: many minutes. libp2p 0.8.1 has no keepalive of its own
(LIBP2P_NOTES pitfall 15), so meanwhile gossipsub keeps the peer in its mesh, queues messages for
it that it never reads (filling the outgoing queue that publishing waits on) and the redial loop
sees it as connected and never dials it again.

`Keepalive` pings every connected peer over the standard `/ipfs/ping/1.0.0` protocol (the host
answers it already), one round trip per `interval` on a stream kept open per peer, as go-libp2p's
ping service does. A round trip that takes longer than `timeout` -- opening the stream included --
marks the peer dead unless gossip from it arrived within the last `timeout` seconds
(`last_heard`): under a flood a ping waits behind megabytes of messages on the same connection,
and a peer that floods us is anything but frozen. A dead peer is handed to `on_dead(peer)`, which
disconnects it, after which the redial loop dials it again
every pass until it answers. Any other failure of the stream (a reset, a peer that closed it)
only reopens the stream next time: the connection's own fate is the muxer's business.

The timeout is generous against a busy peer (its event loop shares the GIL with block
execution), small against the round timeouts: a frozen peer is dropped within
`timeout + interval` seconds.
"""

from __future__ import annotations

import logging
import socket
from collections import Counter
from collections.abc import Callable

import trio
from libp2p.abc import IHost, INetStream
from libp2p.host.ping import ID as PING_PROTOCOL
from libp2p.host.ping import perform_ping_roundtrip
from libp2p.peer.id import ID

log = logging.getLogger("sidechain.p2p")


class Keepalive:
    """Pings each connected peer every `interval` s; calls `on_dead(peer)` after `timeout` s unanswered."""

    def __init__(self, host: IHost, interval: float, timeout: float, stats: Counter[str], on_dead: Callable[[ID], None],
                 last_heard: Callable[[ID], float | None] = lambda peer: None) -> None:
        if interval <= 0 or timeout <= 0:
            raise ValueError(f"keepalive interval and timeout must be > 0, got {interval} and {timeout}")
        self.host = host
        self.interval = interval
        self.timeout = timeout
        self.stats = stats
        self.on_dead = on_dead
        self.last_heard = last_heard
        self.rtt_ms: dict[ID, int] = {}
        """Last round trip per connected peer (what the node may report)."""
        self._pinging: set[ID] = set()

    async def run(self) -> None:
        """Start a pinger for every connected peer that has none; runs until cancelled."""
        async with trio.open_nursery() as nursery:
            while True:
                for peer in self.host.get_connected_peers():
                    if peer not in self._pinging:
                        self._pinging.add(peer)
                        nursery.start_soon(self._ping_while_connected, peer)
                await trio.sleep(self.interval)

    async def _ping_while_connected(self, peer: ID) -> None:
        stream: INetStream | None = None
        try:
            while peer in self.host.get_connected_peers():
                started = trio.current_time()
                answered = False
                with trio.move_on_after(self.timeout):
                    try:
                        if stream is None:
                            stream = await self.host.new_stream(peer, [PING_PROTOCOL])
                        self.rtt_ms[peer] = await perform_ping_roundtrip(stream)
                        self.stats["keepalive_pings"] += 1
                    except Exception as exc:  # noqa: BLE001 - a broken stream: reopen it on the next ping
                        self.stats["keepalive_stream_errors"] += 1
                        log.debug("p2p: keepalive stream to %s failed: %s", peer, exc)
                        stream = await _reset(stream)
                    answered = True
                if not answered:
                    heard = self.last_heard(peer)
                    if heard is not None and trio.current_time() - heard < self.timeout:
                        self.stats["keepalive_slow_but_heard"] += 1
                        stream = await _reset(stream)  # a pong may still be on its way: start clean
                        continue
                    self.stats["keepalive_timeouts"] += 1
                    log.info("p2p: peer %s did not answer a ping within %.1f s: disconnecting it", peer, self.timeout)
                    self.on_dead(peer)  # first: with the socket cut, the reset in `finally` fails at once
                    return
                await trio.sleep(max(0.0, started + self.interval - trio.current_time()))
        finally:
            self._pinging.discard(peer)
            self.rtt_ms.pop(peer, None)
            if stream is not None:
                with trio.CancelScope(shield=True), trio.move_on_after(1.0):
                    await _reset(stream)


_TRANSPORT_PATH = ("muxed_conn", "secured_conn", "conn", "stream")
"""Attributes from a swarm connection down to its TCP stream in py-libp2p 0.8.1 (SwarmConn -> Yamux ->
SecureSession -> Noise read-writer -> RawConnection -> TrioTCPStream -> trio.SocketStream)."""


def abort_transport(conn) -> bool:
    """Shut the TCP socket under a libp2p connection down at once; True if one was found.

    A graceful close of a connection to a silent peer waits on it: yamux writes its GO_AWAY and
    stream resets into a send buffer that a frozen peer stopped draining (it is full under load),
    so the close never reaches the point where libp2p forgets the connection and tells pubsub.
    Shutting the socket down fails every pending and later write at once (the kernel sends what
    it can, then a reset), and the close then runs to its end."""
    node = conn
    for _ in range(8):
        if isinstance(node, trio.SocketStream):
            try:
                node.socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed or reset
            return True
        node = next((getattr(node, a) for a in _TRANSPORT_PATH if getattr(node, a, None) is not None), None)
        if node is None:
            break
    return False


async def _reset(stream: INetStream | None) -> None:
    """Drop a ping stream without waiting on the peer; returns None for the caller's variable."""
    if stream is not None:
        with trio.move_on_after(1.0):
            try:
                await stream.reset()
            except Exception:  # noqa: BLE001 - already gone
                pass
    return None
