"""The devnet's L1: one anvil (from the npm package) whose state survives `devnet down` / `up`, and
the contracts deployed on it once.

anvil runs with `--state FILE`: it loads the file at start and writes it on exit (and every
STATE_INTERVAL seconds, so a kill -9 loses little), so a resumed devnet finds its contracts again.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from eth_account import Account
from web3 import Web3

from .anvil import ANVIL, _wait_ready
from .deploy import deploy_checkpoint_manager
from .root_bridge import deploy_root_bridge, deploy_test_token

L1_CHAIN_ID = 31337
STATE_INTERVAL = 5
BLOCK_TIME = 1
TEST_TOKEN = ("Devnet Token", "DEV", 18)
"""The devnet's faucet ERC-20 (name, symbol, decimals): anyone may mint it."""
TEST_TOKEN_SUPPLY = 10**9 * 10**18
"""Minted to the deployer (anvil's account #0) at deployment."""


def start_anvil(root: Path, port: int, *, chain_id: int = L1_CHAIN_ID, block_time: int = BLOCK_TIME) -> subprocess.Popen:
    """Start the devnet's anvil on 127.0.0.1:`port` from root/l1-state.json (if any)."""
    if not ANVIL.exists():
        raise FileNotFoundError(f"{ANVIL} not found; run scripts/bootstrap")
    with open(root / "l1.log", "ab") as log:
        process = subprocess.Popen(
            [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id),
             "--block-time", str(block_time), "--state", str(root / "l1-state.json"),
             "--state-interval", str(STATE_INTERVAL)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    if not _wait_ready(process, f"http://127.0.0.1:{port}", chain_id, timeout=30):
        raise RuntimeError(f"anvil exited at start (port {port} taken?); see {root / 'l1.log'}")
    return process


def ensure_contracts(url: str, deployment_path: Path, *, deployer_key: bytes, sidechain_chain_id: int,
                     validators: list[bytes], powers: list[int]) -> dict:
    """The devnet's contract addresses (CheckpointManager, RootBridge, TestToken): reused when
    `deployment_path` names code that is still on the chain, deployed afresh otherwise. A deployment
    from before RootBridge existed gets the bridge and the token added."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
    deployment = json.loads(deployment_path.read_text()) if deployment_path.exists() else {}
    if not _has_code(w3, deployment.get("CheckpointManager")):
        order = sorted(range(len(validators)), key=lambda i: validators[i])  # the contract wants ascending addresses
        contract, receipt = deploy_checkpoint_manager(
            w3, deployer_key, sidechain_chain_id, [validators[i] for i in order], [powers[i] for i in order]
        )
        deployment = {"chainId": w3.eth.chain_id, "CheckpointManager": contract.address,
                      "deployBlock": receipt["blockNumber"]}
    elif _has_code(w3, deployment.get("RootBridge")) and _has_code(w3, deployment.get("TestToken")):
        return deployment
    if not _has_code(w3, deployment.get("RootBridge")):
        deployment["RootBridge"] = deploy_root_bridge(w3, deployer_key, deployment["CheckpointManager"])[0].address
    if not _has_code(w3, deployment.get("TestToken")):
        deployer = Account.from_key(deployer_key).address
        token, _ = deploy_test_token(w3, deployer_key, *TEST_TOKEN, deployer, TEST_TOKEN_SUPPLY)
        deployment["TestToken"] = token.address
    deployment_path.write_text(json.dumps(deployment, indent=2) + "\n")
    return deployment


def _has_code(w3: Web3, address: str | None) -> bool:
    return bool(address) and bool(w3.eth.get_code(Web3.to_checksum_address(address)))
