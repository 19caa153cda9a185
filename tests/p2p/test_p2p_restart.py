"""Restarts and shutdowns: same identity and port, redial, seqno reuse (pitfall 6), stop under traffic (pitfall 8)."""

from __future__ import annotations

import asyncio
import logging
import time

from p2p_support import TOPIC, Cluster, run, wait_connected, wait_mesh_ready, wait_meshed
from waiting import wait_for

from sidechain.p2p import NotRunning


def test_a_restarted_node_keeps_its_peer_id_is_redialled_and_gossips_again(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            a = await c.add("a")
            b = await c.add("b", bootstrap=[a.service.listen_addr()])
            x = await c.add("x", bootstrap=[a.service.listen_addr(), b.service.listen_addr()])
            await wait_connected([a, b, x], [(0, 1), (0, 2), (1, 2), (2, 0), (2, 1)])
            await wait_meshed([a, b, x])  # settled: identify has told a and b where x listens
            old_id, port = x.service.peer_id, x.service.config.listen_port

            await x.service.stop()
            await wait_for(lambda: old_id not in a.service.peers() + b.service.peers(), 5, "peers noticing x left")

            # a fresh service on the same identity and port: nobody in its bootstrap this time,
            # so reconnecting is up to a's and b's redial loops (and x's, for ids it learns)
            x2 = await c.add("x", port=port)
            assert x2.service.peer_id == old_id
            restarted = time.monotonic()
            await wait_connected([a, b, x2], [(0, 2), (1, 2)], timeout=10)
            await wait_mesh_ready(x2, [a, b])
            await wait_mesh_ready(a, [x2])
            back_in = time.monotonic() - restarted
            assert back_in < 8, f"back in the mesh after {back_in:.1f} s"

            x2.service.publish(TOPIC, b"after-restart")
            await wait_for(lambda: b"after-restart" in a.data and b"after-restart" in b.data, 5, "gossip from x again")

    run(scenario())


def test_a_bootstrap_peer_that_was_not_listening_yet_is_reached_soon_after_it_starts(tmp_path):
    """The first dials fail (nothing listens); libp2p's swarm would then refuse every dial of that
    peer for 60 s, but the redial loop reaches it within a few intervals of it listening."""

    async def scenario():
        async with Cluster(tmp_path) as c:
            late = await c.add("late", start=False)
            early = await c.add("early", bootstrap=[late.service.listen_addr()])
            await wait_for(lambda: early.service.stats.get("dials_failed", 0) >= 2, 10, "the early node's dials failing")
            await late.service.start()
            started = time.monotonic()
            await wait_connected([early, late], [(0, 1)], timeout=15)
            assert time.monotonic() - started < 10 * c.redial_interval + 5

    run(scenario())


def test_messages_of_a_quickly_restarted_node_are_not_taken_for_seen_ones(tmp_path):
    """libp2p starts seqnos at int(time.time()): a node that sent more messages than seconds passed
    before restarting would reuse seqnos and all its new messages would be dropped as seen."""

    async def scenario():
        async with Cluster(tmp_path) as c:
            a = await c.add("a")
            x = await c.add("x", bootstrap=[a.service.listen_addr()])
            await wait_connected([a, x], [(1, 0)])
            await wait_mesh_ready(x, [a])
            first = [b"first-%d" % i for i in range(200)]
            for m in first:
                x.service.publish(TOPIC, m)
            await wait_for(lambda: len(a.data) == 200, 10, "the first 200 messages")

            port = x.service.config.listen_port
            await x.service.stop()
            x2 = await c.add("x", port=port, bootstrap=[a.service.listen_addr()])
            await wait_connected([a, x2], [(1, 0)])
            second = [b"second-%d" % i for i in range(150)]
            await wait_mesh_ready(x2, [a])
            for m in second:
                x2.service.publish(TOPIC, m)
            await wait_for(lambda: len(a.data) == 350, 10, "all 150 messages after the restart")
            assert a.data[:200] == first
            # all of them, once each; the order right after a reconnection is best effort (ordering.py)
            assert sorted(a.data[200:]) == sorted(second)

    run(scenario())


def test_stopping_under_traffic_is_clean(tmp_path, caplog):
    caplog.set_level(logging.WARNING)

    async def flood(member, stop: asyncio.Event) -> int:
        sent = 0
        while not stop.is_set():
            try:
                member.service.publish(TOPIC, b"flood-%d" % sent + b"." * 500)
            except NotRunning:
                break
            sent += 1
            if sent % 20 == 0:
                await asyncio.sleep(0.001)
        return sent

    async def scenario():
        async with Cluster(tmp_path) as c:
            members = [await c.add("n0")]
            for i in range(1, 4):
                members.append(await c.add(f"n{i}", bootstrap=[m.service.listen_addr() for m in members]))
            await wait_connected(members, [(i, j) for i in range(4) for j in range(4) if i != j])
            for m in members:
                await wait_mesh_ready(m, [o for o in members if o is not m])
            stop = asyncio.Event()
            floods = [asyncio.create_task(flood(m, stop)) for m in members]
            await wait_for(lambda: all(len(m.data) > 100 for m in members), 10, "traffic flowing everywhere")

            started = time.monotonic()
            await members[1].service.stop()  # mid-flood, with its peers still sending to it
            await members[2].service.stop()
            assert time.monotonic() - started < 2 * members[1].service.config.stop_timeout
            await wait_for(lambda: len(members[0].service.peers()) == 1, 5, "n0 left with n3 only")
            before = len(members[3].data)
            await wait_for(lambda: len(members[3].data) > before + 20, 10, "n0 -> n3 still flowing")
            stop.set()
            assert all(n > 0 for n in await asyncio.gather(*floods))
            for m in members:
                await m.service.stop()
            assert not [m.service.running for m in members if m.service.running]

    run(scenario())
    # pytest also hooks its handler onto the non-propagating `libp2p` logger: judge what we route
    problems = [
        r for r in caplog.records
        if (r.name.startswith("sidechain") and r.levelno >= logging.ERROR) or "Nursery is closed" in r.getMessage()
    ]
    assert problems == [], [r.getMessage()[:300] for r in problems]
