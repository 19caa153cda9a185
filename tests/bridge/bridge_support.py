"""A real one-validator sidechain node process beside a test's own anvil, and RootBridge on it (holding
the node's genesis allocations, as every deployment does): what the deposit relayer tests run
against. The node is always killed, even when a test fails."""

from __future__ import annotations

import json
import os
import signal
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from eth_account import Account
from web3 import Web3

from bridge.deploy import genesis_supply, send_transaction
from sidechain.devtools.l1devnet import DEV_BALANCE_ETH
from bridge.root_bridge import deploy_root_bridge, deploy_test_token
from bridge.sidechain_contracts import bridge_contract
from sidechain.chain.genesis import load_genesis
from sidechain.chain.system.bridge import DEPOSIT_AFFIRMED_TOPIC
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import DEVNET_GENESIS, NodeProcess, free_port_base, init_network, rpc_call, start_node, wait_ready

VALIDATOR_KEY = anvil_private_key(6)
"""The one-validator devnet's validator (a public dev key)."""
DEPLOYER_KEY = anvil_private_key(0)
USER_KEY = anvil_private_key(1)
ANVIL_ARGS = ["--balance", str(DEV_BALANCE_ETH)]
"""anvil's dev accounts as the devnet's L1 funds them: enough for the deployer to lock the devnet genesis."""


@dataclass
class Sidechain:
    node: NodeProcess
    root: Path
    w3: Web3

    @property
    def url(self) -> str:
        return self.node.rpc_url

    @property
    def genesis_supply(self) -> int:
        """The sum of its genesis allocations: what RootBridge locks for it."""
        return genesis_supply(load_genesis(self.root / "genesis.json"))

    def rpc(self, method: str, params: list | None = None):
        return rpc_call(self.url, method, params, timeout=5)

    def deposit_status(self, deposit_id: int) -> dict:
        return self.rpc("sidechain_getDepositStatus", [hex(deposit_id)])

    def next_deposit_id(self) -> int:
        return bridge_contract(self.w3).functions.nextDepositId().call()

    def affirmations(self) -> list[tuple[int, str]]:
        """(deposit id, validator) of every DepositAffirmed log the chain holds, in order."""
        logs = self.rpc("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest",
                                         "topics": ["0x" + DEPOSIT_AFFIRMED_TOPIC.hex()]}])
        return [(int(log["topics"][1], 16), Web3.to_checksum_address("0x" + log["topics"][2][-40:])) for log in logs]


@contextmanager
def sidechain_node(root: Path, *, block_time_ms: int = 250, checkpoint_interval: int = 16,
                   extra_args: list[str] | None = None) -> Iterator[Sidechain]:
    """One validator (anvil key #6) as its own process on a free port; killed on exit."""
    genesis = json.loads(DEVNET_GENESIS.read_text())
    genesis["checkpointInterval"] = checkpoint_interval
    root.mkdir(parents=True, exist_ok=True)
    genesis_path = root / "base-genesis.json"
    genesis_path.write_text(json.dumps(genesis))
    (node,) = init_network(root, 1, rpc_base_port=free_port_base([0]), genesis_path=genesis_path,
                           block_time_ms=block_time_ms)
    start_node(node, root, extra_args)
    try:
        wait_ready(node)
        yield Sidechain(node, root, Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 10})))
    finally:
        try:
            os.killpg(node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.process.wait(timeout=10)


@dataclass
class L1Bridge:
    w3: Web3
    bridge: object
    token: object
    deploy_block: int

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.w3.provider.make_request("evm_mine", [])

    def deposit_eth_tx(self, key: bytes, to: str, amount: int, nonce: int | None = None) -> dict:
        """A signed depositETH transaction, not sent (for anvil_reorg to place)."""
        sender = Account.from_key(key).address
        tx = self.bridge.functions.depositETH(to).build_transaction({
            "from": sender, "value": amount, "gas": 200_000, "chainId": self.w3.eth.chain_id,
            "nonce": self.w3.eth.get_transaction_count(sender) if nonce is None else nonce,
            "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9})
        return Account.sign_transaction(tx, key).raw_transaction


def deploy_l1_bridge(w3: Web3, genesis_supply: int) -> L1Bridge:
    """RootBridge (its CheckpointManager is irrelevant to deposits: any address) locking the
    sidechain's `genesis_supply`, and a test token, with tokens for the user."""
    bridge, receipt = deploy_root_bridge(w3, DEPLOYER_KEY, Account.from_key(DEPLOYER_KEY).address, genesis_supply)
    token, _ = deploy_test_token(w3, DEPLOYER_KEY, "Test Token", "TT", 6, Account.from_key(USER_KEY).address, 10**15)
    send_transaction(w3, token.functions.approve(bridge.address, 2**256 - 1), USER_KEY)
    return L1Bridge(w3, bridge, token, receipt["blockNumber"])
