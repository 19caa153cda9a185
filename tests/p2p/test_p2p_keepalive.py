"""Keepalive: a peer behind a link that goes silent (no FIN, no RST) is dropped within a few seconds
and redialled once the link is back; a merely slow answer is not a dead peer."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from p2p_support import TOPIC, Cluster, free_port, run, wait_connected, wait_mesh_ready
from waiting import wait_for

from sidechain.p2p import P2PConfig

DEFAULTS = {f.name: f.default for f in dataclasses.fields(P2PConfig)}


class SilentLink:
    """A TCP relay on 127.0.0.1 that can go silent like a cut cable: while cut, bytes and closes are
    held (nothing is forwarded, nothing is reset); restored, everything held flows on in order."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.base_events.Server | None = None
        self._pumps: set[asyncio.Task] = set()

    async def start(self) -> SilentLink:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        return self

    def cut(self) -> None:
        self._open.clear()

    def restore(self) -> None:
        self._open.set()

    async def stop(self) -> None:
        assert self._server is not None
        self._open.set()  # nothing stays held
        self._server.close()
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._open.wait()  # a connection attempt across a cut link gets no answer
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while chunk := await src.read(65536):
                await self._open.wait()
                dst.write(chunk)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            await self._open.wait()
            dst.close()


def test_a_silent_peer_is_dropped_within_a_few_seconds_and_redialled_when_the_link_returns(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            a_port, b_port = free_port(), free_port()
            to_a, to_b = await SilentLink(a_port).start(), await SilentLink(b_port).start()
            try:
                b = await c.add("b", port=b_port, advertise=f"/ip4/127.0.0.1/tcp/{to_b.port}")
                a = await c.add("a", port=a_port, advertise=f"/ip4/127.0.0.1/tcp/{to_a.port}",
                                bootstrap=[f"/ip4/127.0.0.1/tcp/{to_b.port}/p2p/{b.service.peer_id}"])
                await wait_connected([a, b], [(0, 1), (1, 0)])
                await wait_mesh_ready(a, [b])

                to_a.cut()
                to_b.cut()
                cut_at = time.monotonic()
                # Nominal: the next ping starts within an interval of the cut and times out after
                # `keepalive_timeout` (5.2 s here). The slack is for a starved CI machine, where
                # 8.0 s was seen; a connection without keepalive stays up for many minutes.
                bound = 2 * (DEFAULTS["keepalive_timeout"] + DEFAULTS["keepalive_interval"])
                dropped: dict[str, float] = {}

                def both_dropped() -> bool:
                    for name, side, other in (("a", a, b), ("b", b, a)):
                        if name not in dropped and other.service.peer_id not in side.service.peers():
                            dropped[name] = time.monotonic() - cut_at
                    return len(dropped) == 2

                await wait_for(both_dropped, bound + 2, "both sides dropping the silent peer")
                noticed = max(dropped.values())
                assert noticed <= bound, f"a silent peer was dropped after {dropped} s (bound {bound:.1f} s)"
                assert a.service.stats.get("keepalive_timeouts", 0) >= 1 and b.service.stats.get("keepalive_timeouts", 0) >= 1

                to_a.restore()
                to_b.restore()
                restored_at = time.monotonic()
                await wait_connected([a, b], [(0, 1), (1, 0)], timeout=15)
                back = time.monotonic() - restored_at
                await wait_mesh_ready(b, [a])
                b.service.publish(TOPIC, b"after-the-cut")
                await wait_for(lambda: b"after-the-cut" in a.data, 5, "gossip across the restored link")
                assert back < 12, f"redialled {back:.1f} s after the link returned"
            finally:
                await to_a.stop()
                await to_b.stop()

    run(scenario(), timeout=90)


def test_a_connected_peer_that_answers_is_never_dropped(tmp_path):
    """Pings flow and count while a healthy pair idles for several keepalive timeouts."""

    async def scenario():
        async with Cluster(tmp_path) as c:
            a = await c.add("a", keepalive_interval=0.2, keepalive_timeout=0.6)
            b = await c.add("b", keepalive_interval=0.2, keepalive_timeout=0.6, bootstrap=[a.service.listen_addr()])
            await wait_connected([a, b], [(0, 1), (1, 0)])
            first = a.service.stats.get("keepalive_pings", 0)
            await wait_for(lambda: a.service.stats.get("keepalive_pings", 0) >= first + 15, 10, "15 more pings answered")
            assert a.service.stats.get("keepalive_timeouts", 0) == 0 and b.service.stats.get("keepalive_timeouts", 0) == 0
            assert b.service.peer_id in a.service.peers()

    run(scenario())


def test_keepalive_settings_must_be_positive(tmp_path):
    import pytest

    for field in ("keepalive_interval", "keepalive_timeout"):
        with pytest.raises(ValueError, match="keepalive"):
            P2PConfig(listen_port=1000, identity_path=tmp_path / "k", bootstrap=(), network_id=b"x", **{field: 0})
