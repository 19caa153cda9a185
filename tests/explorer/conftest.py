"""Fixtures of the explorer's browser tests: one devnet (`scripts/devnet up`, 4 validators and anvil)
and one headless Chromium for all the explorer modules, both always stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sidechain.devtools.processes import kill_group

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))  # e2e_support: the devnet helpers

from e2e_support import devnet_up  # noqa: E402
from explorer_support import Browser, missing_browser  # noqa: E402
from needs import require  # noqa: E402


class Devnet:
    """The running devnet: network.json, and the processes a test started itself (killed at the end)."""

    def __init__(self, root: Path, network: dict) -> None:
        self.root, self.network = root, network
        self.rpc = network["rpc"]
        self.explorer = network["rpc"] + "/explorer/"
        self.extra_processes = []

    def page(self, route: str) -> str:
        return self.explorer + route

    def kill_extras(self) -> None:
        for process in self.extra_processes:
            kill_group(process)


@pytest.fixture(scope="package")
def devnet(tmp_path_factory):
    require(missing_browser(), "the explorer's browser tests")
    root = tmp_path_factory.mktemp("explorer") / "devnet"
    with devnet_up(root) as (_, network):
        net = Devnet(root, network)
        try:
            yield net
        finally:
            net.kill_extras()


@pytest.fixture(scope="package")
def browser(devnet):
    running = Browser()
    try:
        yield running
    finally:
        running.close()
