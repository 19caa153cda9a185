"""Real node processes on loopback, started as a user would: `sidechain init`, then `sidechain run`."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest
from web3 import Web3

from sidechain.devnet import NodeProcess, init_network, rpc_call, start_node, stop_pid, wait_ready, wait_until
from sidechain.devkeys import anvil_private_key

from safety import check_safety

CHAIN_ID = 7070
BLOCK_TIME_MS = 250


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningNode:
    """One validator process over a data directory that outlives restarts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (self.node,) = init_network(root, 1, rpc_base_port=free_port(), block_time_ms=BLOCK_TIME_MS)
        self.start()

    @property
    def url(self) -> str:
        return self.node.rpc_url

    @property
    def ws_url(self) -> str:
        return self.node.ws_url

    def start(self) -> None:
        start_node(self.node, self.root)
        wait_ready(self.node)

    def stop(self) -> None:
        if self.node.process is not None and self.node.process.poll() is None:
            stop_pid(self.node.pid)
            self.node.process.wait(timeout=10)

    def kill(self) -> None:
        os.killpg(self.node.pid, signal.SIGKILL)
        self.node.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def rpc(self, method: str, params: list | None = None):
        return rpc_call(self.url, method, params)

    def wait_for_height(self, height: int, timeout: float = 30.0) -> int:
        return wait_until(lambda: (h := int(self.rpc("eth_blockNumber"), 16)) >= height and h, timeout, f"height {height}")

    def log_text(self) -> str:
        return self.node.log_path.read_text(errors="replace")


@pytest.fixture
def node(tmp_path):
    running = RunningNode(tmp_path / "net")
    try:
        yield running
    finally:
        if running.node.process is not None and running.node.process.poll() is None:
            try:
                os.killpg(running.node.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            running.node.process.wait(timeout=10)
    check_safety([running.node.data_dir], running.root / "genesis.json")


@pytest.fixture
def w3(node):
    return Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 10}))


@pytest.fixture(scope="session")
def dev_keys():
    """anvil's public dev accounts #0-#5, funded in the devnet genesis."""
    return [anvil_private_key(i) for i in range(6)]
