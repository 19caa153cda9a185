"""Validator-set changes end to end, as operators would run them on the devnet (4 validators + anvil):

- a new node (anvil dev account #5) joins as a follower; 3 of the 4 validators vote it in with
  system transactions; the change takes effect after the checkpoint range it passed in, the new
  validator proposes blocks, and the checkpoint of that range, signed by the OLD set, hands the new
  set to CheckpointManager on L1; the next checkpoint lands under the new set;
- then 4 of the 5 vote validator-3 out; after the boundary validator-3 is stopped and the chain
  goes on without it, and L1 follows to the third set.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import to_checksum_address
from web3 import Web3

from bridge.deploy import contract_at
from sidechain.chain.system import VALIDATOR_SET_ADDRESS
from sidechain.crypto import keccak256
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import NodeProcess, rpc_call, start_node, wait_ready, wait_until
from sidechain.devtools.processes import stop_pid
from sidechain.p2p.identity import load_or_create_identity, peer_id_of

from e2e_support import REPO, devnet_up

JOINER_ACCOUNT = 5
VALIDATOR_ACCOUNTS = (6, 7, 8, 9)


def vote(rpc: str, chain_id: int, account: int, function: str, args: list, types: list) -> None:
    """Send a vote from dev account `account` through `rpc`, which must be that validator's own node:
    the node posts its checkpoint signatures from the same account, and only its own pool knows
    every nonce that account has in flight."""
    key = anvil_private_key(account)
    sender = Account.from_key(key)
    nonce = int(rpc_call(rpc, "eth_getTransactionCount", [sender.address, "pending"]), 16)
    data = keccak256(f"{function}({','.join(types)})".encode())[:4] + encode(types, args)
    raw = sender.sign_transaction({
        "to": to_checksum_address(VALIDATOR_SET_ADDRESS), "value": 0, "data": data, "gas": 500_000, "nonce": nonce,
        "maxFeePerGas": 10 * 10**9, "maxPriorityFeePerGas": 10**9, "chainId": chain_id, "type": 2,
    }).raw_transaction
    tx_hash = rpc_call(rpc, "eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
    wait_until(lambda: rpc_call(rpc, "eth_getTransactionReceipt", [tx_hash]) is not None, 30, f"vote {tx_hash} mined")
    assert rpc_call(rpc, "eth_getTransactionReceipt", [tx_hash])["status"] == "0x1", f"{function} by dev account #{account}"


def current(rpc: str) -> set[str]:
    return {v.lower() for v in rpc_call(rpc, "sidechain_getValidators", [])["current"]["validators"]}


@pytest.fixture
def network(tmp_path):
    root = tmp_path / "devnet"
    with devnet_up(root, spare_nodes=1) as (base, info):
        data_dir = root / "joiner"
        subprocess.run([sys.executable, "-m", "sidechain.cli", "init", "--data-dir", str(data_dir), "--genesis",
                        str(root / "genesis.json"), "--dev-key", str(JOINER_ACCOUNT), "--password-file",
                        str(root / "password.txt"), "--scrypt-n", "2"], check=True, capture_output=True, cwd=REPO)
        address = Account.from_key(anvil_private_key(JOINER_ACCOUNT)).address
        joiner = NodeProcess("joiner", data_dir, base + 4, address, root / "joiner.log")
        joiner.p2p_port = base + 104
        joiner.peer_id = peer_id_of(load_or_create_identity(data_dir / "p2p" / "identity.key")).to_base58()
        joiner.bootstrap = tuple(node["p2p"] for node in info["nodes"])
        l1 = info["l1"]
        try:
            start_node(joiner, root, ["--checkpoint-manager", l1["contracts"]["CheckpointManager"], "--l1-chain-id", str(l1["chainId"])])
            wait_ready(joiner)
            manager = contract_at(Web3(Web3.HTTPProvider(l1["rpc"])), "CheckpointManager", l1["contracts"]["CheckpointManager"])
            yield info, joiner, manager
        finally:
            if joiner.pid:
                stop_pid(joiner.pid)


def test_validators_vote_a_node_in_and_another_out_and_l1_follows(network):
    info, joiner, manager = network
    rpc, chain_id = info["nodes"][0]["rpc"], info["chainId"]
    own_node = {account: node["rpc"] for account, node in zip(VALIDATOR_ACCOUNTS, info["nodes"])}
    own_node[JOINER_ACCOUNT] = joiner.rpc_url
    newcomer = joiner.address.lower()
    assert newcomer not in current(rpc)
    assert manager.functions.validatorSetId().call() == 1

    # Two votes out of four are not enough; the third passes the change, which waits for the boundary.
    for account in VALIDATOR_ACCOUNTS[:2]:
        vote(own_node[account], chain_id, account, "voteAddValidator", [joiner.address, 1], ["address", "uint64"])
    assert newcomer not in {v.lower() for v in rpc_call(rpc, "sidechain_getValidators", [])["pending"]["validators"]}
    vote(own_node[VALIDATOR_ACCOUNTS[2]], chain_id, VALIDATOR_ACCOUNTS[2], "voteAddValidator", [joiner.address, 1],
         ["address", "uint64"])
    pending = rpc_call(rpc, "sidechain_getValidators", [])
    passed_at = int(rpc_call(rpc, "eth_blockNumber"), 16)
    assert newcomer in {v.lower() for v in pending["pending"]["validators"]}
    if passed_at % 16:  # not on a boundary block: the current set is still the old one
        assert newcomer not in current(rpc)

    wait_until(lambda: newcomer in current(rpc), 60, "the new validator in the current set")
    switched = int(rpc_call(rpc, "sidechain_getValidators", [])["setId"], 16)
    assert switched == 2
    boundary_checkpoint = (passed_at + 15) // 16  # the range the vote passed in
    served = rpc_call(rpc, "sidechain_getCheckpoint", [hex(boundary_checkpoint)])
    assert served["nextValidatorSet"] is not None and newcomer in served["nextValidatorSet"]["validators"]
    assert newcomer not in served["signers"]["validators"], "the old set signs the handover"

    # The newcomer takes part: it proposes a block within a few rotations.
    start = int(rpc_call(rpc, "eth_blockNumber"), 16)
    wait_until(lambda: any(rpc_call(rpc, "eth_getBlockByNumber", [hex(n), False])["miner"].lower() == newcomer
                           for n in range(start, int(rpc_call(rpc, "eth_blockNumber"), 16) + 1)),
               60, "a block proposed by the new validator")

    # L1 follows: the handover checkpoint switches CheckpointManager to set 2, and the next one lands under it.
    wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= boundary_checkpoint + 1, 180,
               f"checkpoint {boundary_checkpoint + 1} on L1")
    assert manager.functions.validatorSetId().call() == 2
    l1_set = {a.lower() for a in manager.functions.validators().call()[0]}
    assert l1_set == current(rpc)

    # Four of the five vote validator-3 out; once the boundary passes it is stopped and blocks go on.
    leaving = info["nodes"][3]["validator"]
    voters = [*VALIDATOR_ACCOUNTS[:3], JOINER_ACCOUNT]
    for account in voters:
        vote(own_node[account], chain_id, account, "voteRemoveValidator", [leaving], ["address"])
    wait_until(lambda: leaving.lower() not in current(rpc), 60, "validator-3 out of the current set")
    stop_pid(info["nodes"][3]["pid"])
    height = int(rpc_call(rpc, "eth_blockNumber"), 16)
    wait_until(lambda: int(rpc_call(rpc, "eth_blockNumber"), 16) >= height + 20, 60, "blocks without validator-3")
    wait_until(lambda: manager.functions.validatorSetId().call() == 3, 180, "L1 on the third set")
    assert {a.lower() for a in manager.functions.validators().call()[0]} == current(rpc)
