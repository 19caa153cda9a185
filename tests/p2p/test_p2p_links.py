"""links/1 (sidechain/p2p/links.py): answers are bounded and refused whole when malformed, and in a
real network relays stop once every peer said it hears the origin, yet a peer that is not linked
to the origin still gets everything through the relay."""

from __future__ import annotations

import pytest
import rlp
from p2p_support import TOPIC, Cluster, run, wait_connected, wait_mesh_ready
from waiting import wait_for

from sidechain.p2p.links import MAX_ID_BYTES, MAX_LINKS, LinksError, decode_links, encode_links

ID_A, ID_B = b"\x00\x24" + b"a" * 36, b"\x00\x24" + b"b" * 36


def test_links_round_trip_and_are_bounded():
    assert decode_links(encode_links([ID_A, ID_B])) == {ID_A, ID_B}
    assert decode_links(encode_links([])) == frozenset()
    many = [bytes([i]) * 38 for i in range(MAX_LINKS + 10)]
    assert len(decode_links(encode_links(many))) == MAX_LINKS


@pytest.mark.parametrize("data, says", [
    (b"\xff" * 5, "not RLP"),
    (rlp.encode(b"one id"), "list of at most"),
    (rlp.encode([ID_A] * (MAX_LINKS + 1)), "list of at most"),
    (rlp.encode([[ID_A]]), "peer ids of"),
    (rlp.encode([b""]), "peer ids of"),
    (rlp.encode([b"x" * (MAX_ID_BYTES + 1)]), "peer ids of"),
    (b"\x00" * 100_000, "above the"),
])
def test_malformed_answers_are_refused_whole(data, says):
    with pytest.raises(LinksError, match=says):
        decode_links(data)


def test_relays_stop_where_every_peer_hears_the_origin_and_go_on_where_one_does_not(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            # a-b-d linked to each other, e only to b (no peer exchange: e never learns a or d)
            a = await c.add("a", peer_exchange=False)
            b = await c.add("b", bootstrap=[a.service.listen_addr()], peer_exchange=False)
            d = await c.add("d", bootstrap=[a.service.listen_addr(), b.service.listen_addr()], peer_exchange=False)
            e = await c.add("e", bootstrap=[b.service.listen_addr()], peer_exchange=False)
            members = [a, b, d, e]
            await wait_connected(members, [(0, 1), (0, 2), (1, 2), (1, 3)], 15)
            await wait_mesh_ready(a, [b, d, e])
            # every link answered: b knows d hears a, and that e does not
            await wait_for(lambda: b.service.stats.get("links_known") == 3 and d.service.stats.get("links_known") == 2, 10,
                           "links answered")
            before = {m.service.peer_id: dict(m.service.stats) for m in members}

            messages = [b"m-%03d" % i for i in range(100)]
            for m in messages:
                a.service.publish(TOPIC, m)
            await wait_for(lambda: all(len(m.data) >= len(messages) for m in (b, d, e)), 15, "100 messages at b, d and e")

            def delta(member, key):
                return member.service.stats.get(key, 0) - before[member.service.peer_id].get(key, 0)

            for m in (b, d, e):
                assert m.data == messages  # once each, in order
            assert delta(d, "relays_sent") == 0  # d's peers (a, b) both hear a
            assert e.service.peer_id in b.service.mesh_peers(TOPIC)  # e's only peer is its mesh peer
            assert delta(b, "relays_sent") >= len(messages)  # and e hears a only through b
            assert delta(b, "relays_skipped") + delta(d, "relays_skipped") >= len(messages)

    run(scenario())
