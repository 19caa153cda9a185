"""A peer that writes a malformed pubsub frame loses that stream and a point of reputation; the node
keeps running and gossiping (py-libp2p 0.8.1 let the protobuf DecodeError stop the whole host)."""

from __future__ import annotations

from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11
from libp2p.utils import encode_varint_prefixed

from p2p_support import TOPIC, Cluster, run, wait_connected, wait_mesh_ready
from waiting import wait_for


def test_a_garbage_pubsub_frame_does_not_stop_the_node(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as cluster:
            a = await cluster.add("a")
            b = await cluster.add("b", bootstrap=[a.service.listen_addr()])
            c = await cluster.add("c", bootstrap=[a.service.listen_addr()])
            await wait_connected([a, b, c], [(0, 1), (0, 2)])
            await wait_mesh_ready(c, [a])

            async def write_garbage():  # runs in b's trio thread, on b's libp2p host
                stream = await b.service._node.host.new_stream(ID.from_base58(a.service.peer_id), [PROTOCOL_ID_V11])
                await stream.write(encode_varint_prefixed(b"\xff\xff\xff\xff garbage that is not a protobuf RPC"))

            await b.service._trio.submit(write_garbage)
            await wait_for(lambda: a.service.stats.get("rejected_undecodable", 0) >= 1, 10, "the bad frame counted")
            assert a.service.running
            c.service.publish(TOPIC, b"after the garbage")
            await wait_for(lambda: b"after the garbage" in a.data, 10, "gossip still flowing to a")

    run(scenario())
