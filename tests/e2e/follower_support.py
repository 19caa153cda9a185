"""One validator and one non-validating follower as real processes on loopback, dialling each other
over libp2p: the follower can only learn blocks and transactions from its peers, so what reaches it
(or leaves it) went through sync and gossip. Every process is killed on the way out, failure or not.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sidechain.devtools.devnet import (
    DEV_SCRYPT_N, NodeProcess, free_port_base, init_network, rpc_call, sidechain_command, start_node, wait_ready,
)
from sidechain.devtools.processes import kill_group
from sidechain.rpc.client import rpc_batch  # noqa: F401  (multihost_support imports it from here)
from sidechain.p2p.identity import load_or_create_identity, peer_id_of

BLOCK_TIME_MS = 100
FOLLOWER_DEV_KEY = 5
"""anvil's account #5: a user key, not in the validator set; the follower runs --no-validator anyway."""


class Pair:
    def __init__(self, root: Path, spare_ports: int = 0) -> None:
        self.root = root
        base = free_port_base([0, 1, 100, 101, *range(102, 102 + spare_ports)])
        self.spare_p2p_ports = [base + 102 + i for i in range(spare_ports)]
        (self.validator,) = init_network(root, 1, rpc_base_port=base, block_time_ms=BLOCK_TIME_MS, p2p_base_port=base + 100)
        data_dir = root / "follower"
        subprocess.run(
            sidechain_command() + ["init", "--data-dir", str(data_dir), "--genesis", str(root / "genesis.json"),
                                   "--dev-key", str(FOLLOWER_DEV_KEY), "--password-file", str(root / "password.txt"),
                                   "--scrypt-n", str(DEV_SCRYPT_N)],
            check=True, capture_output=True, text=True, timeout=60,
        )
        peer_id = peer_id_of(load_or_create_identity(data_dir / "p2p" / "identity.key")).to_base58()
        self.follower = NodeProcess("follower", data_dir, base + 1, "", root / "follower.log", p2p_port=base + 101, peer_id=peer_id)
        self.validator.bootstrap = (self.follower.multiaddr,)
        self.follower.bootstrap = (self.validator.multiaddr,)

    def start(self, node: NodeProcess) -> None:
        start_node(node, self.root, ["--no-validator"] if node is self.follower else None)
        wait_ready(node)

    def stop(self, node: NodeProcess) -> None:
        """SIGTERM and wait: the node shuts down cleanly (its store stays consistent)."""
        if node.process is not None and node.process.poll() is None:
            os.killpg(node.pid, signal.SIGTERM)
            try:
                node.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
                node.process.wait(timeout=10)

    def kill_all(self) -> None:
        for node in (self.validator, self.follower):
            if node.process is not None:
                kill_group(node.process)

    def height(self, node: NodeProcess) -> int:
        return int(rpc_call(node.rpc_url, "eth_blockNumber"), 16)

    def log_tail(self, node: NodeProcess, lines: int = 40) -> str:
        try:
            return "\n".join(node.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@contextmanager
def validator_and_follower(root: Path, spare_ports: int = 0) -> Iterator[Pair]:
    pair = Pair(root, spare_ports)
    try:
        yield pair
    finally:
        pair.kill_all()


