"""Restarts keep every committed block and all state; SIGKILL mid-load loses nothing committed."""

from __future__ import annotations

import json
import random
import threading

from eth_account import Account
from eth_utils import keccak

from e2e_support import CHAIN_ID, RECIPIENTS, presign, submit_batches
from sidechain.chain.state import Account as StateAccount
from sidechain.chain.trie_proof import verify_proof

def snapshot_chain(node):
    head = int(node.rpc("eth_blockNumber"), 16)
    return {n: node.rpc("eth_getBlockByNumber", [hex(n), False]) for n in range(head + 1)}


def check_consistent(node, funded, genesis_supply):
    """Every block is whole, balances add up to the supply minus the burned base fees, and the
    flat state agrees with the state root (eth_getProof verifies)."""
    head = int(node.rpc("eth_blockNumber"), 16)
    burned = 0
    for n in range(1, head + 1):
        block = node.rpc("eth_getBlockByNumber", [hex(n), False])
        assert block is not None, f"block {n} missing below head {head}"
        burned += int(block["gasUsed"], 16) * int(block["baseFeePerGas"], 16)
        for tx_hash in block["transactions"]:
            receipt = node.rpc("eth_getTransactionReceipt", [tx_hash])
            assert receipt["blockHash"] == block["hash"] and receipt["status"] == "0x1"
    accounts = funded + RECIPIENTS
    total = sum(int(node.rpc("eth_getBalance", [a, "latest"]), 16) for a in accounts)
    assert total == genesis_supply - burned
    state_root = bytes.fromhex(node.rpc("eth_getBlockByNumber", ["latest", False])["stateRoot"][2:])
    for address in accounts[:3] + RECIPIENTS[:2]:
        proof = node.rpc("eth_getProof", [address, [], "latest"])
        value = verify_proof(state_root, keccak(bytes.fromhex(address[2:])), [bytes.fromhex(p[2:]) for p in proof["accountProof"]])
        assert value is not None
        assert StateAccount.decode(value).balance == int(proof["balance"], 16) == int(node.rpc("eth_getBalance", [address, "latest"]), 16)
    return head


def test_restart_keeps_blocks_receipts_and_balances(node, w3, dev_keys):
    sender = Account.from_key(dev_keys[0])
    raw = sender.sign_transaction({"to": RECIPIENTS[0], "value": 99, "gas": 21_000, "maxFeePerGas": 10**10,
                                   "maxPriorityFeePerGas": 10**9, "nonce": 0, "chainId": CHAIN_ID, "type": 2}).raw_transaction
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw), timeout=30, poll_latency=0.1)
    before = snapshot_chain(node)
    balance = w3.eth.get_balance(sender.address)
    node.restart()
    after = snapshot_chain(node)
    assert all(after[n] == block for n, block in before.items())
    assert w3.eth.get_balance(sender.address) == balance
    assert w3.eth.get_transaction_receipt(receipt.transactionHash).blockHash == receipt.blockHash
    node.wait_for_height(max(before) + 2)


def test_sigkill_during_load_loses_no_committed_block(node, dev_keys):
    rng = random.Random(7)
    keys = dev_keys[:5]
    genesis = json.loads((node.root / "genesis.json").read_text())
    genesis_supply = sum(int(v["balance"]) for v in genesis["alloc"].values())
    all_funded = list(genesis["alloc"].keys())
    txs = presign(keys, per_sender=300)
    cursor = 0
    for cycle in range(3):
        stop = threading.Event()
        chunk = txs[cursor:cursor + 500]
        cursor += 500
        loader = threading.Thread(target=submit_batches, args=(node.url, chunk, 100, stop), daemon=True)
        start_height = int(node.rpc("eth_blockNumber"), 16)
        loader.start()
        node.wait_for_height(start_height + rng.randint(1, 3))
        seen = snapshot_chain(node)
        node.kill()
        stop.set()
        loader.join(timeout=10)
        node.start()
        for n, block in seen.items():
            assert node.rpc("eth_getBlockByNumber", [hex(n), False]) == block, f"cycle {cycle}: block {n} changed or vanished"
        node.wait_for_height(max(seen) + 1)
        check_consistent(node, all_funded, genesis_supply)
    assert "Traceback" not in node.log_text()
