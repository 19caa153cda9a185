"""The devnet's L1: one anvil (from the npm package) whose state survives `devnet down` / `up`, and
the contracts deployed on it once.

anvil runs with `--state FILE`: it loads the file at start and writes it on exit (and every
STATE_INTERVAL seconds, so a kill -9 loses little), so a resumed devnet finds its contracts again.
Its dev accounts start with DEV_BALANCE_ETH each instead of anvil's 10,000: RootBridge locks the
devnet genesis's allocations (100,000 ETH, genesis/devnet.json) when the deployer deploys it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from eth_account import Account
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from sidechain.errors import ConfigError

from sidechain.devtools.anvil import ANVIL, _wait_ready
from bridge.deploy import contract_at, deploy_checkpoint_manager, require_deployment_funds
from bridge.root_bridge import deploy_root_bridge, deploy_test_token

L1_CHAIN_ID = 31337
STATE_INTERVAL = 5
BLOCK_TIME = 1
DEV_BALANCE_ETH = 1_000_000
"""anvil's `--balance`: each dev account's L1 ETH, enough for the deployer to lock the devnet genesis."""
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
             "--block-time", str(block_time), "--balance", str(DEV_BALANCE_ETH), "--state", str(root / "l1-state.json"),
             "--state-interval", str(STATE_INTERVAL)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    if not _wait_ready(process, f"http://127.0.0.1:{port}", chain_id, timeout=30):
        raise RuntimeError(f"anvil exited at start (port {port} taken?); see {root / 'l1.log'}")
    return process


def ensure_contracts(url: str, deployment_path: Path, *, deployer_key: bytes, sidechain_chain_id: int,
                     validators: list[bytes], powers: list[int], genesis_supply: int) -> dict:
    """The devnet's contract addresses (CheckpointManager, RootBridge, TestToken) and the genesis
    supply RootBridge locked (`genesisLocked`, wei as a decimal string): reused when `deployment_path`
    names code that is still on the chain, deployed afresh otherwise, RootBridge locking
    `genesis_supply`. A deployment from before RootBridge existed gets the bridge and the token added;
    a RootBridge that does not hold this genesis's lock (deployed before genesis allocations were
    locked) is refused."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
    deployment = json.loads(deployment_path.read_text()) if deployment_path.exists() else {}
    if _has_code(w3, deployment.get("RootBridge")):
        _require_genesis_locked(w3, deployment["RootBridge"], genesis_supply)
    deployer = Account.from_key(deployer_key).address
    if not _has_code(w3, deployment.get("RootBridge")):
        # Refuse before anything is sent (the bridge's CheckpointManager address does not change the gas).
        require_deployment_funds(w3, deployer, genesis_supply, [("RootBridge", [deployer, genesis_supply], genesis_supply)])
    if not _has_code(w3, deployment.get("CheckpointManager")):
        order = sorted(range(len(validators)), key=lambda i: validators[i])  # the contract wants ascending addresses
        contract, receipt = deploy_checkpoint_manager(
            w3, deployer_key, sidechain_chain_id, [validators[i] for i in order], [powers[i] for i in order]
        )
        deployment = {"chainId": w3.eth.chain_id, "CheckpointManager": contract.address,
                      "deployBlock": receipt["blockNumber"]}
    elif _has_code(w3, deployment.get("RootBridge")) and _has_code(w3, deployment.get("TestToken")):
        return {**deployment, "genesisLocked": str(genesis_supply)}
    if not _has_code(w3, deployment.get("RootBridge")):
        deployment["RootBridge"] = deploy_root_bridge(w3, deployer_key, deployment["CheckpointManager"],
                                                      genesis_supply)[0].address
    deployment["genesisLocked"] = str(genesis_supply)
    if not _has_code(w3, deployment.get("TestToken")):
        token, _ = deploy_test_token(w3, deployer_key, *TEST_TOKEN, deployer, TEST_TOKEN_SUPPLY)
        deployment["TestToken"] = token.address
    deployment_path.write_text(json.dumps(deployment, indent=2) + "\n")
    return deployment


def _require_genesis_locked(w3: Web3, address: str, genesis_supply: int) -> None:
    bridge = contract_at(w3, "RootBridge", address)
    try:
        locked = bridge.functions.genesisLocked().call()
    except (ContractLogicError, BadFunctionCallOutput):  # a RootBridge from before the lock has no genesisLocked()
        locked = None
    if locked != genesis_supply:
        held = "no genesis lock" if locked is None else f"a genesis lock of {locked} wei"
        raise ConfigError(f"the devnet's RootBridge {address} holds {held}, but this genesis's allocations sum to "
                          f"{genesis_supply} wei (deployed before genesis allocations were locked on L1, or for another genesis): "
                          f"`scripts/devnet down --wipe` and `up` start afresh")


def _has_code(w3: Web3, address: str | None) -> bool:
    return bool(address) and bool(w3.eth.get_code(Web3.to_checksum_address(address)))
