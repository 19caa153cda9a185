"""Real node processes on loopback, started as a user would (`sidechain init`, then `sidechain run`):
the helpers the end-to-end tests share. A module of its own, not conftest, so test modules can import
it by a name no other test folder uses."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth_utils import to_checksum_address

from sidechain.devtools.devnet import free_port_base, init_network, rpc_call, start_node, wait_ready, wait_until
from sidechain.devtools.processes import kill_group, stop_pid

CHAIN_ID = 7070
BLOCK_TIME_MS = 250
REPO = Path(__file__).resolve().parents[2]


RECIPIENTS = [to_checksum_address("0x" + bytes([0xA0 + i]).hex() * 20) for i in range(8)]


def presign(keys: list[bytes], per_sender: int) -> list[str]:
    """Transfers to RECIPIENTS, signed ahead: every key's nonce 0, then every key's nonce 1, ..."""
    from eth_account import Account

    accounts = [Account.from_key(key) for key in keys]
    txs = []
    for nonce in range(per_sender):
        for i, account in enumerate(accounts):
            tx = {"to": RECIPIENTS[(nonce + i) % len(RECIPIENTS)], "value": 10**12 + nonce, "gas": 21_000,
                  "maxFeePerGas": 50 * 10**9, "maxPriorityFeePerGas": 10**9, "nonce": nonce, "chainId": CHAIN_ID, "type": 2}
            txs.append("0x" + bytes(account.sign_transaction(tx).raw_transaction).hex())
    return txs


def submit_batches(url: str, txs: list[str], batch: int = 200, stop=None) -> None:
    """POST `txs` as eth_sendRawTransaction batches; returns early once `stop` is set or the node is gone."""
    import urllib.request

    for start in range(0, len(txs), batch):
        if stop is not None and stop.is_set():
            return
        body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
                           for i, raw in enumerate(txs[start:start + batch])]).encode()
        try:
            urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}), timeout=10).read()
        except OSError:
            return  # the node was killed under us


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_block(n: int) -> int:
    """A base port with base..base+n-1 (RPC) and base+100..base+100+n-1 (libp2p) all free."""
    return free_port_base([*range(n), *range(100, 100 + n)])


class RunningNode:
    """One validator process over a data directory that outlives restarts."""

    def __init__(self, root: Path, extra_args: list[str] | None = None) -> None:
        self.root = root
        self.extra_args = extra_args or []
        (self.node,) = init_network(root, 1, rpc_base_port=free_port(), block_time_ms=BLOCK_TIME_MS)
        self.start()

    @property
    def url(self) -> str:
        return self.node.rpc_url

    @property
    def ws_url(self) -> str:
        return self.node.ws_url

    def start(self) -> None:
        start_node(self.node, self.root, self.extra_args)
        wait_ready(self.node)

    def stop(self) -> None:
        if self.node.process is not None and self.node.process.poll() is None:
            stop_pid(self.node.pid)
            self.node.process.wait(timeout=10)

    def kill(self) -> None:
        kill_group(self.node.process)

    def restart(self) -> None:
        self.stop()
        self.start()

    def rpc(self, method: str, params: list | None = None):
        return rpc_call(self.url, method, params)

    def wait_for_height(self, height: int, timeout: float = 30.0) -> int:
        return wait_until(lambda: (h := int(self.rpc("eth_blockNumber"), 16)) >= height and h, timeout, f"height {height}")

    def log_text(self) -> str:
        return self.node.log_path.read_text(errors="replace")


class RunningNetwork:
    """N validator processes that gossip over libp2p on loopback."""

    def __init__(self, root: Path, validators: int, block_time_ms: int) -> None:
        self.root = root
        self.block_time_ms = block_time_ms
        base = free_port_block(validators)
        self.nodes = init_network(root, validators, rpc_base_port=base, block_time_ms=block_time_ms, p2p_base_port=base + 100)
        for n in self.nodes:
            start_node(n, root)
        for n in self.nodes:
            wait_ready(n)

    def rpc(self, i: int, method: str, params: list | None = None):
        return rpc_call(self.nodes[i].rpc_url, method, params)

    def height(self, i: int) -> int:
        return int(self.rpc(i, "eth_blockNumber"), 16)

    def wait_for_height(self, height: int, nodes=None, timeout: float = 60.0) -> None:
        indexes = range(len(self.nodes)) if nodes is None else nodes
        wait_until(lambda: all(self.height(i) >= height for i in indexes), timeout, f"nodes {list(indexes)} at height {height}")

    def kill(self, i: int) -> None:
        kill_group(self.nodes[i].process)

    def start(self, i: int) -> None:
        start_node(self.nodes[i], self.root)
        wait_ready(self.nodes[i])

    def running(self, i: int) -> bool:
        return self.nodes[i].process is not None and self.nodes[i].process.poll() is None

    def metrics(self, i: int) -> str:
        import urllib.request

        with urllib.request.urlopen(self.nodes[i].rpc_url + "/metrics", timeout=5) as response:
            return response.read().decode()

    def shutdown(self) -> None:
        for i, node in enumerate(self.nodes):
            if self.running(i):
                kill_group(node.process)


def devnet(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`scripts/devnet <args>` over the devnet directory `root`."""
    return subprocess.run([sys.executable, "-m", "sidechain.devtools.devnet_cli", "--dir", str(root), *args],
                          capture_output=True, text=True, timeout=180, cwd=REPO)


@contextmanager
def devnet_up(root: Path, spare_nodes: int = 0) -> Iterator[tuple[int, dict]]:
    """`scripts/devnet up` with 4 validators, 300 ms blocks and the L1, on free ports; always `down`.
    Yields the base port and network.json. The RPC and libp2p ports of `spare_nodes` more nodes,
    numbered after the validators, are free too, for nodes a test starts itself."""
    nodes = 4 + spare_nodes
    base = free_port_base([*range(nodes), *range(100, 100 + nodes), 199])
    try:
        up = devnet(root, "up", "--validators", "4", "--rpc-base-port", str(base), "--l1-port", str(base + 199),
                    "--block-time-ms", "300")
        assert up.returncode == 0, up.stderr + up.stdout
        yield base, json.loads((root / "network.json").read_text())
    finally:
        devnet(root, "down")
