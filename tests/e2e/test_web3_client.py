"""web3.py and ethers against a real node process, the way a wallet or a script uses the chain."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import to_checksum_address
from web3 import AsyncWeb3, WebSocketProvider
from web3.exceptions import Web3RPCError

from e2e_support import CHAIN_ID
from sidechain.devtools.devnet import wait_until

REPO = Path(__file__).resolve().parents[2]
RECIPIENT = to_checksum_address("0x" + "5e" * 20)


def transfer(w3, key, to, value, **fields):
    account = Account.from_key(key)
    tx = {"to": to, "value": value, "gas": 21_000, "nonce": w3.eth.get_transaction_count(account.address, "pending"),
          "chainId": CHAIN_ID, **fields}
    if "gasPrice" not in tx:
        tx.setdefault("maxFeePerGas", 10 * 10**9)
        tx.setdefault("maxPriorityFeePerGas", 2 * 10**9)
    return w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)


def test_chain_identity(w3, node):
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.net.version == str(CHAIN_ID)
    assert w3.client_version.startswith("sidechain/")
    assert w3.eth.syncing is False


def test_eip1559_transfer_charges_exactly_gas_times_price_plus_value(w3, dev_keys):
    sender = Account.from_key(dev_keys[0]).address
    balance_before = w3.eth.get_balance(sender)
    nonce_before = w3.eth.get_transaction_count(sender)
    tx_hash = transfer(w3, dev_keys[0], RECIPIENT, 12345)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.1)
    assert receipt.status == 1
    assert receipt.gasUsed == 21_000
    block = w3.eth.get_block(receipt.blockNumber)
    assert receipt.effectiveGasPrice == block.baseFeePerGas + 2 * 10**9
    assert w3.eth.get_balance(sender) == balance_before - 12345 - 21_000 * receipt.effectiveGasPrice
    assert w3.eth.get_balance(RECIPIENT) == 12345
    assert w3.eth.get_transaction_count(sender) == nonce_before + 1
    tx = w3.eth.get_transaction(tx_hash)
    assert tx["from"] == sender and tx.blockHash == receipt.blockHash and tx.type == 2


def test_legacy_transfer_pays_its_gas_price(w3, dev_keys):
    sender = Account.from_key(dev_keys[1]).address
    before = w3.eth.get_balance(sender)
    tx_hash = transfer(w3, dev_keys[1], RECIPIENT, 1, gasPrice=3 * 10**9)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.1)
    assert receipt.status == 1 and receipt.type == 0
    assert receipt.effectiveGasPrice == 3 * 10**9
    assert w3.eth.get_balance(sender) == before - 1 - 21_000 * 3 * 10**9


def test_access_list_transfer_is_charged_for_its_access_list(w3, dev_keys):
    tx_hash = transfer(w3, dev_keys[2], RECIPIENT, 1, gas=30_000, type=1, gasPrice=2 * 10**9,
                       accessList=[{"address": RECIPIENT, "storageKeys": ["0x" + "00" * 32]}])
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.1)
    assert receipt.status == 1 and receipt.gasUsed == 21_000 + 2_400 + 1_900


def test_blocks_by_number_and_hash_agree_and_link(w3, node, dev_keys):
    tx_hash = transfer(w3, dev_keys[3], RECIPIENT, 1)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.1)
    by_number = w3.eth.get_block(receipt.blockNumber, full_transactions=True)
    by_hash = w3.eth.get_block(receipt.blockHash, full_transactions=True)
    assert by_number == by_hash
    assert [t.hash for t in by_number.transactions] == [tx_hash]
    assert w3.eth.get_block(receipt.blockNumber - 1).hash == by_number.parentHash
    assert w3.eth.get_block_transaction_count(receipt.blockNumber) == 1
    for tag in ("latest", "safe", "finalized"):
        assert w3.eth.get_block(tag).number >= receipt.blockNumber
    assert w3.eth.get_block("earliest").number == 0


def test_fee_market_methods(w3, dev_keys):
    node_tip = w3.eth.max_priority_fee
    assert node_tip >= 1
    assert w3.eth.gas_price >= w3.eth.get_block("latest").baseFeePerGas
    history = w3.eth.fee_history(4, "latest", [25, 75])
    assert len(history.baseFeePerGas) == len(history.gasUsedRatio) + 1
    funded = Account.from_key(dev_keys[4]).address
    assert w3.eth.estimate_gas({"from": funded, "to": RECIPIENT, "value": 1, "data": "0x0001"}) == 21_000 + 4 + 16
    # as go-ethereum and anvil answer: a value the sender does not hold cannot be estimated
    with pytest.raises(Web3RPCError, match="insufficient funds"):
        w3.eth.estimate_gas({"to": RECIPIENT, "value": 1})


def test_get_logs_is_empty_for_plain_transfers_and_filters_are_checked(w3, node):
    assert w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest"}) == []
    with pytest.raises(Web3RPCError, match="invalid params|block range"):
        w3.eth.get_logs({"fromBlock": 3, "toBlock": 2})
    with pytest.raises(RuntimeError, match="-32602"):
        node.rpc("eth_getLogs", [{"fromBlock": "0x0", "address": "0x1234"}])


def test_new_heads_subscription_over_websocket(node):
    async def two_heads():
        async with AsyncWeb3(WebSocketProvider(node.ws_url)) as w3:
            sub_id = await w3.eth.subscribe("newHeads")
            numbers = []
            async for message in w3.socket.process_subscriptions():
                assert message["subscription"] == sub_id
                numbers.append(message["result"]["number"])
                if len(numbers) == 2:
                    break
            assert await w3.eth.unsubscribe(sub_id)
            return numbers

    first, second = asyncio.run(asyncio.wait_for(two_heads(), 30))
    assert second == first + 1


def test_ethers_v6_sends_a_transfer_and_reads_its_receipt(node, dev_keys):
    if shutil.which("node") is None:
        pytest.fail("Node.js is required (scripts/bootstrap checks for it)")
    out = subprocess.run(
        ["node", str(REPO / "tests/e2e/ethers_transfer.mjs"), node.url, "0x" + dev_keys[4].hex(), "0x" + "77" * 20, "1000"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == 1 and result["chainId"] == str(CHAIN_ID)
    assert result["gasUsed"] == "21000" and result["balanceDelta"] == "1000"


def test_web3_block_filter_polls_new_blocks_over_http(w3, dev_keys):
    block_filter = w3.eth.filter("latest")  # eth_newBlockFilter
    tx_hash = transfer(w3, dev_keys[5], RECIPIENT, 1)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20)
    seen: list = []
    wait_until(lambda: seen.extend(block_filter.get_new_entries()) or receipt.blockHash in seen, 20, "the block through the filter")
    assert w3.eth.uninstall_filter(block_filter.filter_id)
