"""Fixtures of the RPC tests; the helpers themselves are in rpc_support.py."""

from __future__ import annotations

import pytest
from rpc_support import Client, Devnet


@pytest.fixture
def devnet(tmp_path):
    net = Devnet(tmp_path)
    yield net
    net.chain.close()


@pytest.fixture
def client(devnet):
    return Client(devnet)
