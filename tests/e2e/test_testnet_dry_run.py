"""A dry run of the testnet path: an L1 that looks like Sepolia (chain id 11155111, 12 s blocks), the
contract deployed with `scripts/deploy-l1` from a keystore, a validator signing checkpoints for it
and a `bridge relayer` landing them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from web3 import Web3

from sidechain.devtools.anvil import run_anvil
from bridge.deploy import contract_at
from sidechain.devtools.l1devnet import DEV_BALANCE_ETH
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import free_port_base, init_network, rpc_call, start_node, wait_ready, wait_until
from sidechain.keystore import encrypt_key, save_keystore

REPO = Path(__file__).resolve().parents[2]
SEPOLIA = 11155111


def test_checkpoints_reach_a_sepolia_like_l1_through_deploy_l1_and_the_relayer(tmp_path):
    root = tmp_path / "net"
    base = free_port_base([0])
    (node,) = init_network(root, 1, rpc_base_port=base, block_time_ms=300)
    deployer = tmp_path / "deployer.json"
    save_keystore(deployer, encrypt_key(anvil_private_key(0), "devnet", scrypt_n=2**14))
    relayer = None
    # The deployer locks the devnet genesis's 100,000 ETH of allocations in RootBridge: more than anvil's default 10,000.
    with run_anvil(chain_id=SEPOLIA, extra_args=["--block-time", "12", "--balance", str(DEV_BALANCE_ETH)]) as anvil:
        deployed = subprocess.run(
            [str(REPO / "scripts/deploy-l1"), "--rpc-url", anvil.url, "--keystore", str(deployer), "--password-file",
             str(root / "password.txt"), "--genesis", str(root / "genesis.json"), "--confirmations", "1"],
            capture_output=True, text=True, timeout=120, cwd=REPO,
        )
        assert deployed.returncode == 0, deployed.stderr
        manager_address = json.loads(deployed.stdout)["CheckpointManager"]
        start_node(node, root, ["--checkpoint-manager", manager_address, "--l1-chain-id", str(SEPOLIA)])
        try:
            wait_ready(node)
            with open(tmp_path / "relayer.log", "ab") as log:
                relayer = subprocess.Popen(
                    [sys.executable, "-m", "bridge.cli", "relayer", "--sidechain-rpc", node.rpc_url, "--l1-rpc", anvil.url,
                     "--checkpoint-manager", manager_address, "--keystore", str(node.data_dir / "keystore.json"),
                     "--password-file", str(root / "password.txt"), "--state", str(tmp_path / "relayer.json")],
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO,
                )
            manager = contract_at(Web3(Web3.HTTPProvider(anvil.url)), "CheckpointManager", manager_address)
            wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= 1, 90, "checkpoint 1 on the 12 s-block L1")
            proof = rpc_call(node.rpc_url, "sidechain_getBlockProof", ["0x9"])
            block_hash = bytes.fromhex(rpc_call(node.rpc_url, "eth_getBlockByNumber", ["0x9", False])["hash"][2:])
            assert manager.functions.verifyBlock(1, 9, block_hash, [bytes.fromhex(p[2:]) for p in proof["proof"]]).call()
            state = tmp_path / "relayer.json"
            wait_until(lambda: state.exists() and json.loads(state.read_text())["lastSubmitted"] >= 1, 30,
                       "the relayer recording its submission")
        finally:
            for process in (relayer, node.process):
                if process is not None and process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
