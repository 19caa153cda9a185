"""A real anvil (the L1) for the contract tests: one per session, stopped in teardown even on failure."""

from __future__ import annotations

import pytest
from web3 import Web3

from sidechain.devtools.anvil import run_anvil
from sidechain.devkeys import anvil_private_key

from checkpoint_support import L1_CHAIN_ID, L1Checkpoints, by_address


@pytest.fixture(scope="session")
def anvil(tmp_path_factory):
    with run_anvil(L1_CHAIN_ID, log_dir=tmp_path_factory.mktemp("anvil")) as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url))


@pytest.fixture
def validator_keys() -> list[bytes]:
    """anvil accounts #6..#9 (the devnet's validators), in ascending address order."""
    return by_address([anvil_private_key(i) for i in range(6, 10)])


@pytest.fixture
def outsider_keys() -> list[bytes]:
    """anvil accounts #2..#5: keys that are not validators."""
    return by_address([anvil_private_key(i) for i in range(2, 6)])


@pytest.fixture
def l1(w3, validator_keys) -> L1Checkpoints:
    """A fresh CheckpointManager with the four validators at equal power."""
    return L1Checkpoints(w3, validator_keys)
