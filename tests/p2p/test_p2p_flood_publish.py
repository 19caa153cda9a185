"""Flood publishing: our own messages go to every subscribed peer; relays stay on the mesh and skip
the mesh peers that said they are linked to the message's origin (links.py)."""

from __future__ import annotations

from types import SimpleNamespace

from libp2p.peer.id import ID
from collections import Counter

from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11

from sidechain.p2p.links import LINKS_FRESH, PeerLinks
from sidechain.p2p.pubsub import FloodPublishGossipSub

ME, ORIGIN = ID(b"\x00me"), ID(b"\x00someone-else")
PEERS = [ID(b"\x00peer-%d" % i) for i in range(4)]


def router_with_mesh_of_two() -> FloodPublishGossipSub:
    router = FloodPublishGossipSub(protocols=[PROTOCOL_ID_V11, PROTOCOL_ID], degree=2, degree_low=2, degree_high=4)
    router.pubsub = SimpleNamespace(my_id=ME, peer_topics={"t": set(PEERS)})
    router.peer_protocol = {p: PROTOCOL_ID_V11 for p in PEERS}
    router.mesh = {"t": {PEERS[0], PEERS[1]}}
    return router


def test_our_own_messages_go_to_every_subscribed_peer():
    router = router_with_mesh_of_two()
    assert set(router._get_peers_to_send(["t"], ME, ME)) == set(PEERS)


def test_relayed_messages_go_to_the_mesh_only_never_back():
    router = router_with_mesh_of_two()
    assert set(router._get_peers_to_send(["t"], PEERS[0], ORIGIN)) == {PEERS[1]}
    assert set(router._get_peers_to_send(["other-topic"], ME, ME)) == set()


def test_a_relay_skips_the_mesh_peers_linked_to_the_origin_while_their_answer_is_fresh():
    router = router_with_mesh_of_two()
    now = [100.0]
    router.links, router.stats = PeerLinks(lambda: now[0]), Counter()
    router.mesh["t"] = {PEERS[0], PEERS[1], PEERS[2]}
    router.links.report(PEERS[1].to_bytes(), frozenset({ORIGIN.to_bytes(), ME.to_bytes()}))
    router.links.report(PEERS[2].to_bytes(), frozenset({ME.to_bytes()}))  # not linked to the origin: needs the relay
    assert set(router._get_peers_to_send(["t"], PEERS[0], ORIGIN)) == {PEERS[2]}
    assert router.stats == {"relays_skipped": 1, "relays_sent": 1}
    assert set(router._get_peers_to_send(["t"], ME, ME)) == set(PEERS)  # our own: flooded, never filtered

    now[0] += LINKS_FRESH + 0.1  # a stale answer is not relied on
    assert set(router._get_peers_to_send(["t"], PEERS[0], ORIGIN)) == {PEERS[1], PEERS[2]}
    now[0] -= 1.0
    router.links.keep_only([PEERS[2].to_bytes()])  # PEERS[1] disconnected: its answer goes
    assert set(router._get_peers_to_send(["t"], PEERS[0], ORIGIN)) == {PEERS[1], PEERS[2]}
