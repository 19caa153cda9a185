"""Each method against a real chain (LevelDB Blockchain, Mempool), through the dispatcher.

pre: the devnet's genesis (A and B rich) plus the blocks a test commits; input: one JSON-RPC call;
post: the JSON result or error object.
"""

from __future__ import annotations

import pytest
import rlp
from rpc_support import BASE_FEE, CHAIN_ID, GWEI, PROPOSER, Client, addr, h, hexaddr, log_entry
from trie import HexaryTrie

from sidechain import CLIENT_NAME

from sidechain.chain.state import EMPTY_CODE_HASH, EMPTY_TRIE_ROOT
from sidechain.crypto import keccak256
from sidechain.rpc.reader import ChainView

T1, T2, T3 = (bytes([i]) * 32 for i in (1, 2, 3))
EMITTER = bytes.fromhex("0e" * 20)
OTHER = bytes.fromhex("0f" * 20)


# --- web3_, net_, basics ---------------------------------------------------------------------------


def test_identity_methods(client):
    assert client("web3_clientVersion") == CLIENT_NAME
    assert client("web3_sha3", "0x68656c6c6f20776f726c64") == (
        "0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad"
    )
    assert client("net_version") == str(CHAIN_ID)
    assert client("eth_chainId") == hex(CHAIN_ID)
    assert client("net_listening") is True
    assert client("net_peerCount") == "0x0"
    assert client("eth_syncing") is False
    assert client("eth_accounts") == []
    assert client("sidechain_consensusStatus") == {"height": 1, "round": 0, "step": "propose"}


def test_subscriptions_need_a_websocket(client):
    error = client.error("eth_subscribe", "newHeads")
    assert error["code"] == -32601
    assert "notifications not supported" in error["message"]


def test_unknown_method_is_named(client):
    assert client.error("eth_mine") == {"code": -32601, "message": "the method eth_mine does not exist/is not available"}


def test_argument_count_errors(client):
    assert "missing value for required argument 0 (address)" in client.error("eth_getBalance")["message"]
    assert "too many arguments" in client.error("eth_blockNumber", "0x1")["message"]


# --- state --------------------------------------------------------------------------------------------


def test_balance_and_nonce_latest_and_historical(devnet, client):
    a = hexaddr("A")
    genesis_balance = client("eth_getBalance", a, "latest")
    block = devnet.commit([devnet.sign("A", value=10**18)])
    assert client("eth_getBalance", a, "earliest") == genesis_balance
    assert client("eth_getBalance", a, "0x0") == genesis_balance
    assert client("eth_getBalance", a, {"blockNumber": "0x0"}) == genesis_balance
    after = int(client("eth_getBalance", a, "latest"), 16)
    price = devnet.chain.receipts(block.hash)[0].effective_gas_price
    assert after == int(genesis_balance, 16) - 10**18 - 21_000 * price
    for tag in ("latest", "pending", "safe", "finalized", {"blockHash": h(block.hash)}, h(block.hash)):
        assert int(client("eth_getBalance", a, tag), 16) == after
        assert client("eth_getTransactionCount", a, tag) == "0x1"
    assert client("eth_getTransactionCount", a, "earliest") == "0x0"
    assert client("eth_getBalance", hexaddr("C"), "latest") == hex(10**18)


def test_unknown_block_for_state_is_an_error(client):
    error = client.error("eth_getBalance", hexaddr("A"), "0x9")
    assert error["code"] == -32001
    assert "block number 9" in error["message"]
    error = client.error("eth_getBalance", hexaddr("A"), {"blockHash": h(T1)})
    assert error["code"] == -32001 and T1.hex() in error["message"]


def test_pending_nonce_counts_pooled_transactions(devnet, client):
    for _ in range(3):
        client("eth_sendRawTransaction", h(devnet.sign("A")))
    client("eth_sendRawTransaction", h(devnet.sign("A", nonce=7)))  # queued behind a gap
    assert client("eth_getTransactionCount", hexaddr("A"), "latest") == "0x0"
    assert client("eth_getTransactionCount", hexaddr("A"), "pending") == "0x3"
    assert client("txpool_status") == {"pending": "0x3", "queued": "0x1"}
    content = client("txpool_content")
    assert sorted(content["pending"][hexaddr("A")]) == ["0", "1", "2"]
    assert list(content["queued"][hexaddr("A")]) == ["7"]
    assert content["queued"][hexaddr("A")]["7"]["blockHash"] is None


def test_code_storage_and_call_without_evm(devnet, client):
    a = hexaddr("A")
    assert client("eth_getCode", a, "latest") == "0x"
    assert client("eth_getStorageAt", a, "0x0", "latest") == "0x" + "00" * 32
    assert client("eth_call", {"to": a, "input": "0x70a08231"}, "latest") == "0x"
    assert client.error("eth_getCode", a, "0x5")["code"] == -32001


def test_state_overrides_are_refused(client):
    error = client.error("eth_call", {"to": hexaddr("A")}, "latest", {hexaddr("A"): {"balance": "0x1"}})
    assert error["code"] == -32602 and "state overrides" in error["message"]


def test_get_proof_verifies_against_the_state_root(devnet, client):
    devnet.commit([devnet.sign("A", value=5)])
    root = devnet.chain.head.state_root
    proof = client("eth_getProof", hexaddr("A"), ["0x0", "0x1"], "latest")
    account = rlp.decode(HexaryTrie.get_from_proof(root, keccak256(addr("A")), [rlp.decode(bytes.fromhex(p[2:])) for p in proof["accountProof"]]))
    assert int.from_bytes(account[0], "big") == int(proof["nonce"], 16) == 1
    assert int.from_bytes(account[1], "big") == int(proof["balance"], 16)
    assert proof["codeHash"] == h(EMPTY_CODE_HASH)
    assert proof["storageHash"] == h(EMPTY_TRIE_ROOT)
    assert proof["storageProof"] == [
        {"key": "0x" + "00" * 32, "value": "0x0", "proof": []},
        {"key": "0x" + "00" * 31 + "01", "value": "0x0", "proof": []},
    ]
    # A historical proof checks against that block's root; an absent account proves absence.
    genesis_root = devnet.chain.header_by_number(0).state_root
    old = client("eth_getProof", hexaddr("C"), [], "earliest")
    nodes = [rlp.decode(bytes.fromhex(p[2:])) for p in old["accountProof"]]
    assert HexaryTrie.get_from_proof(genesis_root, keccak256(addr("C")), nodes) == b""
    assert old["balance"] == "0x0" and old["nonce"] == "0x0"


# --- transactions and receipts ----------------------------------------------------------------------------


def test_send_raw_transaction_errors(devnet, client):
    raw = devnet.sign("A")
    assert client("eth_sendRawTransaction", h(raw)) == h(keccak256(raw))
    error = client.error("eth_sendRawTransaction", h(raw))
    assert error == {"code": -32000, "message": "already known"}
    devnet.commit([raw])
    assert client.error("eth_sendRawTransaction", h(devnet.sign("A", nonce=0)))["message"].startswith("nonce too low")
    assert client.error("eth_sendRawTransaction", "0xc0")["message"].startswith("malformed transaction")
    error = client.error("eth_sendRawTransaction", "0x123")
    assert error["code"] == -32602 and "argument 0 (data)" in error["message"]


def test_transaction_pending_then_mined_then_receipt(devnet, client):
    raw = devnet.sign("A", tip=2 * GWEI, fee_cap=10 * GWEI, value=7)
    tx_hash = client("eth_sendRawTransaction", h(raw))
    pending = client("eth_getTransactionByHash", tx_hash)
    assert pending["blockHash"] is None and pending["blockNumber"] is None and pending["transactionIndex"] is None
    assert pending["gasPrice"] == hex(10 * GWEI)
    assert client("eth_getTransactionReceipt", tx_hash) is None

    block = devnet.commit([devnet.sign("B"), raw])
    mined = client("eth_getTransactionByHash", tx_hash)
    assert mined["blockHash"] == h(block.hash)
    assert mined["blockNumber"] == "0x1" and mined["transactionIndex"] == "0x1"
    assert mined["gasPrice"] == hex(BASE_FEE + 2 * GWEI)
    assert mined["from"] == hexaddr("A") and mined["value"] == "0x7" and mined["type"] == "0x2"
    assert mined["maxFeePerGas"] == hex(10 * GWEI) and mined["maxPriorityFeePerGas"] == hex(2 * GWEI)
    assert mined["accessList"] == [] and mined["yParity"] in ("0x0", "0x1") and mined["chainId"] == hex(CHAIN_ID)

    receipt = client("eth_getTransactionReceipt", tx_hash)
    assert receipt["status"] == "0x1" and receipt["gasUsed"] == hex(21_000)
    assert receipt["cumulativeGasUsed"] == hex(42_000)
    assert receipt["effectiveGasPrice"] == hex(BASE_FEE + 2 * GWEI)
    assert receipt["from"] == hexaddr("A") and receipt["contractAddress"] is None
    assert receipt["blockHash"] == h(block.hash) and receipt["transactionIndex"] == "0x1"
    assert client("eth_getTransactionByHash", h(T3)) is None


def test_legacy_and_access_list_transaction_views(devnet, client):
    legacy, typed = devnet.sign("A", tx_type=0), devnet.sign("B", tx_type=1, access_list=[{"address": h(EMITTER), "storageKeys": [h(T1)]}])
    devnet.commit([legacy, typed])
    view = client("eth_getTransactionByHash", h(keccak256(legacy)))
    assert view["type"] == "0x0" and int(view["v"], 16) in (CHAIN_ID * 2 + 35, CHAIN_ID * 2 + 36)
    assert "yParity" not in view and "accessList" not in view and "maxFeePerGas" not in view
    view = client("eth_getTransactionByHash", h(keccak256(typed)))
    assert view["type"] == "0x1" and view["accessList"] == [{"address": h(EMITTER), "storageKeys": [h(T1)]}]
    assert "maxFeePerGas" not in view


def test_log_indices_count_across_the_block(devnet, client):
    raws = [devnet.sign("A"), devnet.sign("B"), devnet.sign("A")]
    block = devnet.commit(raws, logs={0: [log_entry(EMITTER, T1), log_entry(EMITTER, T2)], 2: [log_entry(OTHER, T1, data=b"\x01")]})
    receipt = client("eth_getTransactionReceipt", h(block.transactions[2].hash))
    assert [entry["logIndex"] for entry in receipt["logs"]] == ["0x2"]
    assert receipt["logs"][0] == {
        "address": h(OTHER), "topics": [h(T1)], "data": "0x01", "blockHash": h(block.hash), "blockNumber": "0x1",
        "transactionHash": h(block.transactions[2].hash), "transactionIndex": "0x2", "logIndex": "0x2", "removed": False,
    }
    receipts = client("eth_getBlockReceipts", "latest")
    assert [[e["logIndex"] for e in r["logs"]] for r in receipts] == [["0x0", "0x1"], [], ["0x2"]]


# --- blocks -------------------------------------------------------------------------------------------


def test_block_by_number_tags_and_hash(devnet, client):
    block = devnet.commit([devnet.sign("A"), devnet.sign("B")])
    view = client("eth_getBlockByNumber", "0x1", False)
    assert view["hash"] == h(block.hash) and view["number"] == "0x1"
    assert view["transactions"] == [h(tx.hash) for tx in block.transactions]
    assert view["miner"] == h(PROPOSER) and view["baseFeePerGas"] == hex(BASE_FEE)
    assert view["gasUsed"] == hex(42_000) and view["uncles"] == [] and view["difficulty"] == "0x0"
    assert view["sha3Uncles"] == h(keccak256(rlp.encode([])))
    assert int(view["size"], 16) == len(block.header.encode()) + sum(len(tx.raw) for tx in block.transactions)
    for tag in ("latest", "pending", "safe", "finalized"):
        assert client("eth_getBlockByNumber", tag, False) == view
    assert client("eth_getBlockByHash", h(block.hash), False) == view
    assert client("eth_getBlockByNumber", "earliest", False)["number"] == "0x0"
    assert client("eth_getBlockByNumber", "0x2", False) is None
    assert client("eth_getBlockByHash", h(T1), True) is None
    full = client("eth_getBlockByNumber", "latest", True)
    assert [tx["hash"] for tx in full["transactions"]] == view["transactions"]
    assert full["transactions"][1]["transactionIndex"] == "0x1"


def test_long_consensus_extra_data_is_hashed_into_extra_data(devnet, client):
    extra = bytes(range(97))
    executed = devnet.chain.build_block(PROPOSER, devnet.chain.head.timestamp + 1, [], extra)
    devnet.chain.commit(executed, b"")
    view = client("eth_getBlockByNumber", "latest", False)
    assert view["extraData"] == h(keccak256(extra))
    assert view["consensusData"] == h(extra)


def test_transaction_counts_and_by_index(devnet, client):
    block = devnet.commit([devnet.sign("A"), devnet.sign("B")])
    assert client("eth_getBlockTransactionCountByNumber", "latest") == "0x2"
    assert client("eth_getBlockTransactionCountByHash", h(block.hash)) == "0x2"
    assert client("eth_getBlockTransactionCountByNumber", "0x5") is None
    assert client("eth_getTransactionByBlockNumberAndIndex", "0x1", "0x1")["hash"] == h(block.transactions[1].hash)
    assert client("eth_getTransactionByBlockHashAndIndex", h(block.hash), "0x0")["hash"] == h(block.transactions[0].hash)
    assert client("eth_getTransactionByBlockNumberAndIndex", "0x1", "0x2") is None


# --- fees ---------------------------------------------------------------------------------------------


def test_idle_chain_suggests_one_gwei(devnet, client):
    assert client("eth_maxPriorityFeePerGas") == hex(GWEI)
    assert client("eth_gasPrice") == hex(devnet.chain.next_base_fee() + GWEI)


def test_suggested_tip_is_the_60th_percentile_of_low_tips(devnet, client):
    devnet.commit([devnet.sign("A", tip=t * GWEI) for t in (1, 2, 3, 4)])  # samples 1, 2, 3
    devnet.commit([devnet.sign("B", tip=t * GWEI) for t in (5, 6)])  # samples 5, 6
    # samples 1,2,3,5,6: index (5 - 1) * 60 // 100 = 2 -> 3 gwei
    assert client("eth_maxPriorityFeePerGas") == hex(3 * GWEI)


def test_suggestion_is_never_below_the_pool_minimum(devnet):
    devnet.mempool.min_tip = 5 * GWEI
    assert Client(devnet)("eth_maxPriorityFeePerGas") == hex(5 * GWEI)


def test_fee_history_rewards_are_weighted_by_gas(devnet, client):
    cheap = devnet.sign("A", tip=1 * GWEI)  # 21,000 gas
    dear = devnet.sign("B", tip=3 * GWEI, data=b"\x01" * 1000)  # 37,000 gas
    devnet.commit([dear, cheap])
    devnet.commit()
    history = client("eth_feeHistory", "0x3", "latest", [30, 50, 100])
    assert history["oldestBlock"] == "0x0"
    assert len(history["baseFeePerGas"]) == 4
    assert history["baseFeePerGas"][-1] == hex(devnet.chain.next_base_fee())
    assert history["gasUsedRatio"][1] == 58_000 / 30_000_000
    assert history["reward"] == [["0x0"] * 3, [hex(GWEI), hex(3 * GWEI), hex(3 * GWEI)], ["0x0"] * 3]
    # blockCount past genesis is clipped; decimal counts are accepted; no percentiles, no reward
    clipped = client("eth_feeHistory", 10, "0x1", [])
    assert clipped["oldestBlock"] == "0x0" and len(clipped["gasUsedRatio"]) == 2 and "reward" not in clipped
    assert client.error("eth_feeHistory", "0x1", "0x9")["message"].startswith("request beyond head block")
    assert client.error("eth_feeHistory", "0x1", "latest", [50, 10])["code"] == -32602


# --- estimateGas --------------------------------------------------------------------------------------


def test_estimate_gas_is_intrinsic_gas(client):
    to = hexaddr("C")
    assert client("eth_estimateGas", {"to": to}) == hex(21_000)
    assert client("eth_estimateGas", {"to": to, "data": "0x0001"}) == hex(21_000 + 4 + 16)
    access = [{"address": h(EMITTER), "storageKeys": [h(T1), h(T2)]}]
    assert client("eth_estimateGas", {"to": to, "accessList": access}) == hex(21_000 + 2_400 + 2 * 1_900)
    assert client("eth_estimateGas", {"from": hexaddr("A"), "to": to, "value": hex(10**18)}, "latest") == hex(21_000)


def test_estimate_gas_errors(client):
    # a creation whose initcode is one STOP: 21,000 + 32,000 (EIP-2) + 4 (a zero byte) + 2 (one word, EIP-3860)
    assert client("eth_estimateGas", {"from": hexaddr("A"), "input": "0x00"}) == hex(53_006)
    error = client.error("eth_estimateGas", {"from": hexaddr("C"), "to": hexaddr("A"), "value": "0x1"})
    assert error["message"] == f"insufficient funds for transfer: address {hexaddr('C')} have 0 want 1"
    error = client.error("eth_estimateGas", {"to": hexaddr("A"), "gas": hex(20_000)})
    assert error["message"].startswith("gas required exceeds allowance (20000)")


# --- logs ---------------------------------------------------------------------------------------------


@pytest.fixture
def logged(devnet):
    """Blocks 1-3: block 1 has EMITTER(T1,T2) and OTHER(T1); block 2 none; block 3 EMITTER(T3)."""
    b1 = devnet.commit([devnet.sign("A"), devnet.sign("B")], logs={0: [log_entry(EMITTER, T1, T2)], 1: [log_entry(OTHER, T1)]})
    b2 = devnet.commit([devnet.sign("A")])
    b3 = devnet.commit([devnet.sign("A")], logs={0: [log_entry(EMITTER, T3, data=b"\xff")]})
    return b1, b2, b3


def _summary(logs):
    return [(entry["blockNumber"], entry["address"], tuple(entry["topics"]), entry["logIndex"]) for entry in logs]


def test_get_logs_filters(logged, client):
    b1, _, b3 = logged
    everything = client("eth_getLogs", {"fromBlock": "earliest", "toBlock": "latest"})
    assert _summary(everything) == [
        ("0x1", h(EMITTER), (h(T1), h(T2)), "0x0"),
        ("0x1", h(OTHER), (h(T1),), "0x1"),
        ("0x3", h(EMITTER), (h(T3),), "0x0"),
    ]
    by_address = client("eth_getLogs", {"fromBlock": "0x0", "address": h(EMITTER)})
    assert _summary(by_address) == _summary([everything[0], everything[2]])
    assert client("eth_getLogs", {"fromBlock": "0x0", "address": [h(EMITTER), h(OTHER)]}) == everything
    assert _summary(client("eth_getLogs", {"fromBlock": "0x1", "topics": [h(T1)]})) == _summary(everything[:2])
    assert _summary(client("eth_getLogs", {"fromBlock": "0x1", "topics": [None, h(T2)]})) == _summary(everything[:1])
    assert _summary(client("eth_getLogs", {"fromBlock": "0x1", "topics": [[h(T2), h(T3)]]})) == _summary(everything[2:])
    assert client("eth_getLogs", {"fromBlock": "0x1", "topics": [h(T1), h(T1)]}) == []
    assert _summary(client("eth_getLogs", {"blockHash": h(b3.hash)})) == _summary(everything[2:])
    assert client("eth_getLogs", {"fromBlock": "0x2", "toBlock": "0x2"}) == []
    assert client("eth_getLogs", {}) == everything[2:]  # latest..latest


def test_get_logs_limits(logged, devnet):
    client = Client(devnet, max_log_range=2, max_log_results=1)
    error = client.error("eth_getLogs", {"fromBlock": "0x1", "toBlock": "0x3"})
    assert error["code"] == -32005 and error["message"].startswith("query exceeds max block range 2")
    error = client.error("eth_getLogs", {"fromBlock": "0x1", "toBlock": "0x2"})
    assert error["code"] == -32005 and "more than 1 results" in error["message"]
    assert client.error("eth_getLogs", {"fromBlock": "0x3", "toBlock": "0x1"})["code"] == -32602
    assert client.error("eth_getLogs", {"blockHash": h(T1)})["code"] == -32001


# --- the block cache ----------------------------------------------------------------------------------


def test_block_cache_is_bounded_by_transactions_held(devnet):
    blocks = [devnet.commit([devnet.sign("A"), devnet.sign("B")]) for _ in range(3)]
    view = ChainView(devnet.chain, max_blocks=10, max_transactions=3)
    for block in blocks:
        assert view.block_by_number(block.number).hash == block.hash
        assert [r.gas_used for r in view.receipts(block)] == [21_000, 21_000]
    assert len(view) == 1  # two blocks of two transactions exceed three
    view.remember(blocks[0], devnet.chain.receipts(blocks[0].hash))
    assert view.block_by_hash(blocks[0].hash) is blocks[0]
    assert view.block_by_number(9) is None
