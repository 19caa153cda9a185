"""Issue 11 part 1, with real `sidechain run` processes on 127.0.0.1: node C is given only node A's
address and still connects to B (peer exchange); restarted with no --bootstrap at all, C reconnects
to both from DATA_DIR/p2p/peers.json (on a new port, so A and B cannot be the ones dialling). Every process is killed on the way out, pass or fail."""

from __future__ import annotations

import json

import pytest

from sidechain.devtools.devnet import free_port_base, init_network, rpc_call, start_node, wait_ready, wait_until
from sidechain.devtools.processes import kill_group, stop_pid

BLOCK_TIME_MS = 250


def peer_count(node) -> int:
    return int(rpc_call(node.rpc_url, "net_peerCount"), 16)


def height(node) -> int:
    return int(rpc_call(node.rpc_url, "eth_blockNumber"), 16)


def persisted_peers(node) -> set[str]:
    path = node.data_dir / "p2p" / "peers.json"
    try:
        return {p["id"] for p in json.loads(path.read_text())["peers"]}
    except (OSError, ValueError, KeyError):
        return set()


@pytest.fixture
def three_nodes(tmp_path):
    base = free_port_base([0, 1, 2, 100, 101, 102])
    nodes = init_network(tmp_path, 3, rpc_base_port=base, block_time_ms=BLOCK_TIME_MS, p2p_base_port=base + 100)
    try:
        yield tmp_path, nodes
    finally:
        for node in nodes:
            if node.process is not None:
                kill_group(node.process)


def test_one_bootstrap_peer_is_enough_and_peers_survive_a_restart(three_nodes):
    root, (a, b, c) = three_nodes
    a.bootstrap = ()
    b.bootstrap = (a.multiaddr,)
    c.bootstrap = (a.multiaddr,)  # C is never told B's address
    for node in (a, b, c):
        start_node(node, root, ["--p2p-host", "127.0.0.1"])
    for node in (a, b, c):
        wait_ready(node)

    wait_until(lambda: all(peer_count(n) == 2 for n in (a, b, c)), 60, "A, B and C all connected to each other")
    # three validators of power 1: a block needs all three, so the chain moving proves the links carry votes
    start = height(c)
    wait_until(lambda: height(c) >= start + 3, 60, "C finalizing blocks")
    wait_until(lambda: {a.peer_id, b.peer_id} <= persisted_peers(c), 60, "C's peers.json naming A and B")

    stop_pid(c.pid)
    c.process.wait(timeout=15)
    c.bootstrap = ()
    # a new port as well: A and B only know C's old one, so C must be the one dialling, from its file
    c.p2p_port = free_port_base([0])
    start_node(c, root, ["--p2p-host", "127.0.0.1"])  # no --bootstrap
    wait_ready(c)
    wait_until(lambda: peer_count(c) == 2, 60, "restarted C reconnected to A and B from its peer table")
    start = height(c)
    wait_until(lambda: height(c) >= start + 3, 60, "C finalizing again after its restart")
    log = c.log_path.read_text(errors="replace")
    assert f"p2p listening on /ip4/127.0.0.1/tcp/{c.p2p_port}/p2p/{c.peer_id}" in log
