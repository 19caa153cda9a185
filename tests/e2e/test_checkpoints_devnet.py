"""The whole checkpoint path on the devnet, as `scripts/devnet up` runs it: 4 validators sign each
16-block range on the sidechain (system transactions), their relayers submit the checkpoints to
CheckpointManager on anvil, and verifyBlock then proves real sidechain blocks and refuses forged
ones. A relayer killed (and later restarted) neither makes the network skip nor repeat a checkpoint."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from web3 import Web3

from bridge.deploy import contract_at
from sidechain.devtools.devnet import NodeProcess, rpc_call, wait_until
from sidechain.devtools.processes import stop_pid
from sidechain.devtools.devnet_cli import start_relayer

from e2e_support import devnet_up


@pytest.fixture
def checkpointing_devnet(tmp_path):
    """`scripts/devnet up` with 4 validators, 300 ms blocks and the L1, on free ports; always `down`."""
    root = tmp_path / "devnet"
    with devnet_up(root) as (base, network):
        w3 = Web3(Web3.HTTPProvider(network["l1"]["rpc"]))
        yield root, base, network, contract_at(w3, "CheckpointManager", network["l1"]["contracts"]["CheckpointManager"])


def test_checkpoints_land_on_l1_and_prove_sidechain_blocks(checkpointing_devnet):
    root, _, network, manager = checkpointing_devnet
    sidechain = network["nodes"][1]["rpc"]
    restarted = None
    try:

        wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= 1, 120, "checkpoint 1 on L1")
        os.kill(network["l1"]["relayers"][0], signal.SIGKILL)  # the relayer that submits first dies
        wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= 2, 120, "checkpoint 2 by another relayer")
        first = network["nodes"][0]
        restarted = start_relayer(root, NodeProcess(first["name"], Path(first["dataDir"]), int(first["rpc"].rsplit(":", 1)[1]),
                                                    first["validator"], Path(first["log"])), 0, network["l1"])
        wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= 3, 180, "3 checkpoints on L1")
        assert manager.functions.lastCheckpoint().call()[1] == 48

        events = manager.events.CheckpointSubmitted.get_logs(from_block=0)
        assert [e.args.number for e in events] == list(range(1, len(events) + 1)), "a checkpoint was skipped or repeated"
        for number in (1, 20, 48):
            proof = rpc_call(sidechain, "sidechain_getBlockProof", [hex(number)])
            block_hash = bytes.fromhex(rpc_call(sidechain, "eth_getBlockByNumber", [hex(number), False])["hash"][2:])
            siblings = [bytes.fromhex(p[2:]) for p in proof["proof"]]
            checkpoint = int(proof["checkpointNumber"], 16)
            assert manager.functions.verifyBlock(checkpoint, number, block_hash, siblings).call()
            forged = block_hash[:-1] + bytes([block_hash[-1] ^ 0xFF])
            assert not manager.functions.verifyBlock(checkpoint, number, forged, siblings).call()
        served = rpc_call(sidechain, "sidechain_getCheckpoint", ["0x1"])
        assert len(served["signatures"]) >= 3, "more than 2/3 of the validators signed on the sidechain"
    finally:
        if restarted is not None:
            stop_pid(restarted)


def test_a_backlog_built_while_l1_was_down_lands_in_order_when_it_returns(checkpointing_devnet):
    from sidechain.devtools.l1devnet import start_anvil

    root, base, network, manager = checkpointing_devnet
    sidechain = network["nodes"][0]["rpc"]
    anvil_pid = None
    try:
        wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= 1, 120, "checkpoint 1 on L1")

        stop_pid(network["l1"]["pid"])  # SIGTERM: anvil writes its state file, as `devnet down` does
        landed = 1
        height = int(rpc_call(sidechain, "eth_blockNumber"), 16)
        # The L1 stays away while the sidechain finalizes three more ranges.
        wait_until(lambda: int(rpc_call(sidechain, "eth_blockNumber"), 16) >= height + 3 * 16, 120, "3 ranges without L1")
        anvil_pid = start_anvil(root, base + 199).pid
        backlog = int(rpc_call(sidechain, "eth_blockNumber"), 16) // 16
        assert backlog >= landed + 2
        wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= backlog, 120, f"checkpoints up to {backlog}")
        events = manager.events.CheckpointSubmitted.get_logs(from_block=0)
        assert [e.args.number for e in events] == list(range(1, len(events) + 1))
    finally:
        if anvil_pid is not None:
            stop_pid(anvil_pid)
