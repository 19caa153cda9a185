"""Fixtures of the end-to-end tests: node processes that are always killed, and checked for safety."""

from __future__ import annotations

import os
import signal

import pytest
from web3 import Web3

from e2e_support import RunningNetwork, RunningNode
from safety import check_safety
from sidechain.devkeys import anvil_private_key


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


@pytest.fixture
def network4(tmp_path):
    net = RunningNetwork(tmp_path / "net4", 4, block_time_ms=300)
    try:
        yield net
    finally:
        net.shutdown()
    check_safety([n.data_dir for n in net.nodes], net.root / "genesis.json")
