"""Gossip between real services on 127.0.0.1: reach, order, validation, penalties, limits."""

from __future__ import annotations

import pytest
from p2p_support import TOPIC, Cluster, run, wait_connected, wait_mesh_ready
from waiting import wait_for

from sidechain.p2p import MessageTooLarge, NotRunning, ValidationResult


def test_gossip_reaches_every_node_in_order_and_never_the_sender(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            # a star, relayed by the hub: no peer exchange, or the spokes would connect to each other mid-burst
            hub = await c.add("hub", peer_exchange=False)
            members = [hub] + [await c.add(f"n{i}", bootstrap=[hub.service.listen_addr()], peer_exchange=False) for i in range(1, 4)]
            await wait_connected(members, [(0, 1), (0, 2), (0, 3)])
            sender, others = members[1], [m for m in members if m is not members[1]]
            await wait_mesh_ready(sender, others)

            messages = [b"m-%04d" % i + b"x" * 200 for i in range(300)]
            for m in messages:
                sender.service.publish(TOPIC, m)
            await wait_for(lambda: all(len(o.data) == len(messages) for o in others), 20, "300 messages at every other node")

            for other in others:
                assert other.data == messages  # all of them, once each, in publishing order
                assert {peer for d, peer in other.received} == {sender.service.peer_id}
            assert sender.received == []
            assert sender.service.stats["published"] >= 300
            assert hub.service.stats["delivered"] >= 300

    run(scenario())


def test_rejected_message_is_neither_delivered_nor_relayed_and_its_sender_is_penalised(tmp_path):
    def reject_bad(data: bytes, peer: str) -> ValidationResult:
        return ValidationResult.REJECT if data.startswith(b"bad") else ValidationResult.ACCEPT

    async def scenario():
        async with Cluster(tmp_path) as c:
            # a line a - b - c: no peer exchange, or a and c would meet and skip b
            b = await c.add("b", validator=reject_bad, reject_threshold=3, penalty_seconds=30, peer_exchange=False)
            a = await c.add("a", bootstrap=[b.service.listen_addr()], peer_exchange=False)
            c_ = await c.add("c", bootstrap=[b.service.listen_addr()], peer_exchange=False)  # knows only b
            await wait_connected([a, b, c_], [(1, 0), (1, 2)])
            await wait_mesh_ready(a, [b, c_])
            assert c_.service.peer_id not in a.service.peers()

            a.service.publish(TOPIC, b"bad-1")
            a.service.publish(TOPIC, b"good-1")
            await wait_for(lambda: b"good-1" in c_.data, 10, "good-1 relayed through b to c")
            assert b.data == [b"good-1"] and c_.data == [b"good-1"]
            assert b.service.stats["rejected_invalid"] == 1
            assert a.service.peer_id in b.service.peers()  # one reject is not yet a penalty

            a.service.publish(TOPIC, b"bad-2")
            a.service.publish(TOPIC, b"bad-3")
            await wait_for(lambda: b.service.stats.get("penalised_peers") == 1, 10, "b penalising a")
            await wait_for(lambda: a.service.peer_id not in b.service.peers(), 10, "b dropping a")
            assert b.service.stats["rejected_invalid"] == 3
            assert not any(d.startswith(b"bad") for d in b.data + c_.data)

            # a keeps redialling b; b drops it at once, so it stays out for the penalty
            await wait_for(lambda: a.service.stats.get("dials_ok", 0) + a.service.stats.get("dials_failed", 0) >= 2, 10, "a redialling")
            assert a.service.peer_id not in b.service.peers()

    run(scenario())


def test_oversized_message_is_refused_by_publish_and_rejected_on_receipt(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            small = await c.add("small", max_message_bytes=1000, reject_threshold=100)
            big = await c.add("big", bootstrap=[small.service.listen_addr()], max_message_bytes=1 << 20)
            await wait_connected([small, big], [(1, 0)])
            await wait_mesh_ready(big, [small])

            with pytest.raises(MessageTooLarge):
                small.service.publish(TOPIC, b"x" * 1001)
            with pytest.raises(ValueError):  # what the API promises: MessageTooLarge is a ValueError
                big.service.publish(TOPIC, b"x" * ((1 << 20) + 1))

            big.service.publish(TOPIC, b"y" * 5000)
            big.service.publish(TOPIC, b"z" * (1 << 20))  # exactly the cap: fits through libp2p's frames
            await wait_for(lambda: small.service.stats.get("rejected_oversized") == 2, 10, "two oversized rejects")
            assert small.data == []

    run(scenario())


def test_a_one_megabyte_message_is_delivered_intact(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            a = await c.add("a")
            b = await c.add("b", bootstrap=[a.service.listen_addr()])
            await wait_connected([a, b], [(1, 0)])
            await wait_mesh_ready(a, [b])
            payload = bytes(range(256)) * 4096  # 1 MiB
            a.service.publish(TOPIC, payload)
            await wait_for(lambda: payload in b.data, 10, "the 1 MiB message")

    run(scenario())


def test_topics_of_two_networks_never_mix(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            a = await c.add("a")
            other = await c.add("other", bootstrap=[a.service.listen_addr()], network_id=b"\x22" * 32)
            same = await c.add("same", bootstrap=[a.service.listen_addr()])
            await wait_connected([a, other, same], [(1, 0), (2, 0)])
            await wait_mesh_ready(a, [same])
            a.service.publish(TOPIC, b"for-net-11")
            await wait_for(lambda: b"for-net-11" in same.data, 10, "delivery on the same network")
            assert other.received == []

    run(scenario())


def test_publish_before_start_and_after_stop_raise_not_running(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            a = await c.add("a", start=False)
            with pytest.raises(NotRunning):
                a.service.publish(TOPIC, b"early")
            await a.service.start()
            with pytest.raises(RuntimeError):
                a.service.subscribe("late/1", lambda d, p: ValidationResult.ACCEPT, lambda d, p: None)
            await a.service.stop()
            await a.service.stop()  # idempotent
            with pytest.raises(NotRunning):
                a.service.publish(TOPIC, b"late")

    run(scenario())
