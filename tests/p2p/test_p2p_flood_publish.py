"""Flood publishing: our own messages go to every subscribed peer; relays stay on the mesh."""

from __future__ import annotations

from types import SimpleNamespace

from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11

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
