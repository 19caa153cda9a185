"""The devnet's L1: one anvil (from the npm package) whose state survives `devnet down` / `up`, and
the contracts deployed on it once.

anvil runs with `--state FILE`: it loads the file at start and writes it on exit (and every
STATE_INTERVAL seconds, so a kill -9 loses little), so a resumed devnet finds its contracts again.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from web3 import Web3

from .anvil import ANVIL, _wait_ready
from .deploy import deploy_checkpoint_manager

L1_CHAIN_ID = 31337
STATE_INTERVAL = 5
BLOCK_TIME = 1


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
    """The devnet's contract addresses: reused when `deployment_path` names code that is still on
    the chain, deployed afresh otherwise."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
    if deployment_path.exists():
        deployment = json.loads(deployment_path.read_text())
        if w3.eth.get_code(Web3.to_checksum_address(deployment["CheckpointManager"])):
            return deployment
    order = sorted(range(len(validators)), key=lambda i: validators[i])  # the contract wants ascending addresses
    contract, receipt = deploy_checkpoint_manager(
        w3, deployer_key, sidechain_chain_id, [validators[i] for i in order], [powers[i] for i in order]
    )
    deployment = {"chainId": w3.eth.chain_id, "CheckpointManager": contract.address, "deployBlock": receipt["blockNumber"]}
    deployment_path.write_text(json.dumps(deployment, indent=2) + "\n")
    return deployment
