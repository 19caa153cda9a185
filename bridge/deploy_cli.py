"""`scripts/deploy-l1`: deploy the L1 contracts (CheckpointManager, then RootBridge on top of it) for a
sidechain genesis to any Ethereum network.

    scripts/deploy-l1 --rpc-url https://... --keystore ~/.keys/deployer.json [--genesis genesis/devnet.json]

The deployer key comes from an encrypted keystore (geth, Foundry or eth-account format). RootBridge
is deployed with the genesis's allocations locked in it (their sum, sent with the deployment), so the
deployer needs that much ETH plus gas on that network; it is refused before anything is sent when its
balance falls short. Prints one JSON object with the addresses and the amount locked and writes it to --out.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from pathlib import Path

from eth_account import Account
from web3 import Web3

from sidechain.chain.genesis import load_genesis
from sidechain.errors import SidechainError
from sidechain.keystore import load_keystore

from .deploy import deploy_checkpoint_manager, format_eth, genesis_supply, require_deployment_funds
from .root_bridge import deploy_root_bridge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/deploy-l1", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpc-url", required=True, help="JSON-RPC URL of the L1 (anvil, Sepolia, Hoodi, ...)")
    parser.add_argument("--keystore", required=True, help="encrypted keystore of the deployer account")
    parser.add_argument("--password-file", help="file holding the keystore password (otherwise asked on the terminal)")
    parser.add_argument("--genesis", default="genesis/devnet.json", help="sidechain genesis: chain id, first validator set, and the allocations to lock")
    parser.add_argument("--confirmations", type=int, default=1, help="blocks to wait on top of the deployment (testnets: 2 or more)")
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args(argv)
    try:
        password = Path(args.password_file).read_text().rstrip("\n") if args.password_file else getpass.getpass("Keystore password: ")
        key = load_keystore(args.keystore, password)
        genesis = load_genesis(args.genesis)
        w3 = Web3(Web3.HTTPProvider(args.rpc_url, request_kwargs={"timeout": 30}))
        chain_id = w3.eth.chain_id
        validators = sorted(v.address for v in genesis.validators)
        powers = [next(v.power for v in genesis.validators if v.address == a) for a in validators]
        supply = genesis_supply(genesis)
        deployer = Account.from_key(key).address
        checksummed = [Web3.to_checksum_address(a) for a in validators]
        require_deployment_funds(w3, deployer, supply, [
            ("CheckpointManager", [genesis.chain_id, checksummed, powers], 0),
            ("RootBridge", [deployer, supply], supply),  # the manager's address does not change the gas
        ])
        print(f"deploying CheckpointManager to chain {chain_id} for sidechain {genesis.chain_id} "
              f"({len(validators)} validators)", file=sys.stderr)
        contract, receipt = deploy_checkpoint_manager(w3, key, genesis.chain_id, validators, powers)
        print(f"deploying RootBridge for CheckpointManager {contract.address}, locking the genesis supply of "
              f"{format_eth(supply)} ETH ({supply} wei)", file=sys.stderr)
        bridge, bridge_receipt = deploy_root_bridge(w3, key, contract.address, supply)
        deadline = time.monotonic() + 600
        while w3.eth.block_number < bridge_receipt["blockNumber"] + args.confirmations - 1:
            if time.monotonic() > deadline:
                raise SidechainError(f"deployment not confirmed {args.confirmations} times within 10 minutes")
            time.sleep(1)
    except (SidechainError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    result = {"chainId": chain_id, "sidechainChainId": genesis.chain_id, "CheckpointManager": contract.address,
              "deployBlock": receipt["blockNumber"], "deployTx": "0x" + bytes(receipt["transactionHash"]).hex(),
              "gasUsed": receipt["gasUsed"], "RootBridge": bridge.address,
              "rootBridgeDeployTx": "0x" + bytes(bridge_receipt["transactionHash"]).hex(),
              "rootBridgeGasUsed": bridge_receipt["gasUsed"], "genesisLocked": str(supply)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
