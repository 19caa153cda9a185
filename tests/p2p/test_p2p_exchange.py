"""Issue 11 part 1: peer exchange and the persisted peer table.

Wire records and the file are bounded and refused whole when malformed; three services where C
knows only A end up fully connected, and C restarted with no bootstrap redials from its file.
"""

from __future__ import annotations

import json

import pytest
import rlp

from p2p_support import Cluster, run, wait_connected
from waiting import wait_for
from sidechain.p2p.exchange import (
    MAX_ADDRS, MAX_RECORDS, MAX_RESPONSE_BYTES, PeerRecord, PeerTableError, decode_records, encode_records,
    load_peer_file, save_peer_file,
)

PEER = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"


def test_records_round_trip_and_drop_undialable_addresses():
    record = PeerRecord.make(PEER, ["/ip4/0.0.0.0/tcp/1", "/ip4/10.0.0.5/tcp/4001", "/dns4/v.example/tcp/4001", "/ip4/10.0.0.5/tcp/4001"])
    assert record == PeerRecord(PEER, ("/ip4/10.0.0.5/tcp/4001", "/dns4/v.example/tcp/4001"))
    assert PeerRecord.make(PEER, ["/ip4/0.0.0.0/tcp/1"]) is None
    assert PeerRecord.make(PEER, [f"/ip4/10.0.0.5/tcp/4001/p2p/{PEER}"]).addrs == ("/ip4/10.0.0.5/tcp/4001",)  # as identify reports it
    assert decode_records(encode_records([record])) == [record]


def test_records_are_bounded():
    many = [f"/ip4/10.0.0.{i}/tcp/4001" for i in range(MAX_ADDRS + 3)]
    assert len(PeerRecord.make(PEER, many).addrs) == MAX_ADDRS
    with pytest.raises(PeerTableError, match=f"1..{MAX_ADDRS} addresses"):
        PeerRecord(PEER, tuple(many))
    records = [PeerRecord(PEER, (f"/ip4/10.0.{i // 250}.{i % 250}/tcp/1",)) for i in range(MAX_RECORDS + 10)]
    assert len(decode_records(encode_records(records))) == MAX_RECORDS


@pytest.mark.parametrize("data, says", [
    (b"\xff" * (MAX_RESPONSE_BYTES + 1), "above the"),
    (b"\xc1", "not RLP"),
    (rlp.encode(b"flat"), "list of at most"),
    (rlp.encode([[PEER.encode(), [b"/ip4/10.0.0.1/tcp/1"]]] * (MAX_RECORDS + 1)), "list of at most"),
    (rlp.encode([[PEER.encode()]]), r"\[peer_id, \[addr, ...\]\]"),
    (rlp.encode([[PEER.encode(), [b"/ip4/10.0.0.1/udp/1"]]]), "bad peer exchange record"),
    (rlp.encode([[b"not-a-peer", [b"/ip4/10.0.0.1/tcp/1"]]]), "bad peer exchange record"),
    (rlp.encode([[PEER.encode(), [b"/ip4/0.0.0.0/tcp/1"]]]), "bad peer exchange record"),
])
def test_malformed_responses_are_refused_whole(data, says):
    with pytest.raises(PeerTableError, match=says):
        decode_records(data)


def test_peer_file_round_trip_bounds_and_damage(tmp_path, caplog):
    path = tmp_path / "p2p" / "peers.json"
    assert load_peer_file(path) == []
    records = [PeerRecord(PEER, (f"/ip4/10.0.{i // 250}.{i % 250}/tcp/1",)) for i in range(MAX_RECORDS + 5)]
    save_peer_file(path, records)
    assert load_peer_file(path) == records[:MAX_RECORDS]
    assert path.stat().st_mode & 0o077 == 0
    for damage in ("{not json", json.dumps({"version": 99, "peers": []}),
                   json.dumps({"version": 1, "peers": [{"id": PEER, "addrs": ["/ip4/10.0.0.1/udp/1"]}]})):
        path.write_text(damage)
        assert load_peer_file(path) == []
    assert "ignoring the persisted peer table" in caplog.text


def test_node_known_only_through_a_peer_is_dialled_and_remembered(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            a = await c.add("a")
            b = await c.add("b", bootstrap=[a.service.listen_addr()])
            peers_file = tmp_path / "c" / "peers.json"
            cm = await c.add("c", bootstrap=[a.service.listen_addr()], peers_path=peers_file)
            members = [a, b, cm]
            await wait_connected(members, [(i, j) for i in range(3) for j in range(3) if i != j], timeout=20)
            assert cm.service.stats.get("peers_learned_by_exchange", 0) >= 1

            def remembers_both() -> bool:
                ids = {r.peer_id for r in load_peer_file(peers_file)}
                return {a.service.peer_id, b.service.peer_id} <= ids

            await wait_for(remembers_both, 20, "C's peer table naming A and B")
            await cm.service.stop()
            again = await c.add("c", peers_path=peers_file)  # same identity, no bootstrap at all
            await wait_for(lambda: {a.service.peer_id, b.service.peer_id} <= set(again.service.peers()), 20,
                           "restarted C reconnected to A and B from its file")

    run(scenario(), timeout=90)


def test_advertised_dns4_address_is_what_peers_learn_and_dial(tmp_path):
    """A advertises /dns4/localhost/... (resolves to 127.0.0.1 only: dns4 asks for A records); B is
    bootstrapped with that name; C, told only of B, learns A's advertised address from B and dials it."""
    from p2p_support import free_port

    async def scenario():
        async with Cluster(tmp_path) as c:
            port = free_port()
            a = await c.add("a", port=port, advertise=f"/dns4/localhost/tcp/{port}")
            assert a.service.listen_addr() == f"/dns4/localhost/tcp/{port}/p2p/{a.service.peer_id}"
            b = await c.add("b", bootstrap=[a.service.listen_addr()])
            cm = await c.add("c", bootstrap=[b.service.listen_addr()])
            await wait_connected([a, b, cm], [(2, 0), (2, 1), (1, 0)], timeout=20)

            def c_knows_a_by_name() -> bool:  # the book fills after identify, a moment after connecting
                addrs = {str(p): [str(x) for x in xs] for p, xs in cm.service._node.peers.known.items()}
                return any(x.startswith(f"/dns4/localhost/tcp/{port}") for x in addrs.get(a.service.peer_id, ()))

            await wait_for(c_knows_a_by_name, 20, "C's peer book holding A's advertised /dns4 address")

    run(scenario(), timeout=60)
