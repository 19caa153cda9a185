"""Contracts through the JSON-RPC methods, on hand-assembled bytecode: a creation's receipt and
code, eth_call at the head and in history, reverts answered as go-ethereum answers them (code 3,
the reason, the revert data), halts, eth_estimateGas's binary search landing on the least gas that
works, and the gas cap."""

from __future__ import annotations

from eth_abi import encode
from eth_account import Account
from eth_utils import to_checksum_address
from rpc_support import CHAIN_ID, GWEI, KEYS, Client, h

from sidechain.chain.transactions import create_address
from sidechain.crypto import keccak256

SENDER = Account.from_key(KEYS["A"])
RETURN_SLOT0 = bytes.fromhex("60005460005260206000f3")
STORE_42_AND_DEPLOY = bytes.fromhex("602a600055" "600b6011600039" "600b6000f3") + RETURN_SLOT0
REVERT_DATA = keccak256(b"Error(string)")[:4] + encode(["string"], ["nope"])
REVERT_NOPE = bytes.fromhex("6064600c600039" "60646000fd") + REVERT_DATA
"""CODECOPY the 100 bytes of Error("nope") after these 12 bytes of code, then REVERT with them."""
STORE_CALLER = bytes.fromhex("3360015500")
"""SSTORE(1, CALLER): a fresh slot costs 22,100 gas, and SSTORE needs more than 2,300 left (EIP-2200)."""
ENDLESS_LOOP = bytes.fromhex("5b600056")


def initcode(runtime: bytes) -> bytes:
    """Initcode that deploys `runtime` as it is: CODECOPY it from after these 12 bytes, RETURN it."""
    n = len(runtime)
    assert n < 256
    return bytes([0x60, n, 0x60, 12, 0x60, 0, 0x39, 0x60, n, 0x60, 0, 0xF3]) + runtime


def deploy(devnet, code: bytes, *, gas: int = 300_000) -> str:
    nonce = devnet.nonces["A"]
    devnet.nonces["A"] += 1
    raw = SENDER.sign_transaction({"chainId": CHAIN_ID, "nonce": nonce, "gas": gas, "value": 0, "data": code, "type": 2,
                                   "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI}).raw_transaction
    devnet.commit([bytes(raw)])
    return h(create_address(bytes.fromhex(SENDER.address[2:]), nonce))


def test_creation_receipt_code_and_calls_at_the_head_and_in_history(devnet, client):
    contract = deploy(devnet, STORE_42_AND_DEPLOY)
    (tx_hash,) = [h(tx.hash) for tx in devnet.chain.block_by_number(1).transactions]
    receipt = client("eth_getTransactionReceipt", tx_hash)
    assert receipt["contractAddress"] == contract and receipt["to"] is None and receipt["status"] == "0x1"
    assert client("eth_getTransactionByHash", tx_hash)["to"] is None
    assert client("eth_getCode", contract, "latest") == h(RETURN_SLOT0)
    assert client("eth_getCode", contract, "0x0") == "0x"
    assert client("eth_getStorageAt", contract, "0x0", "latest") == "0x" + "00" * 31 + "2a"
    assert client("eth_call", {"to": contract}, "latest") == "0x" + "00" * 31 + "2a"
    assert client("eth_call", {"to": contract}, "0x0") == "0x"  # no code before block 1


def test_a_revert_answers_code_3_with_the_reason_and_the_data(devnet, client):
    contract = deploy(devnet, initcode(REVERT_NOPE))
    error = client.error("eth_call", {"to": contract}, "latest")
    assert error == {"code": 3, "message": "execution reverted: nope", "data": h(REVERT_DATA)}
    error = client.error("eth_estimateGas", {"to": contract})
    assert error["code"] == 3 and error["message"] == "execution reverted: nope"


def test_a_halt_is_an_error_with_go_ethereums_words(devnet, client):
    contract = deploy(devnet, initcode(ENDLESS_LOOP))
    error = client.error("eth_call", {"to": contract, "gas": hex(100_000)}, "latest")
    assert error["code"] == -32000 and error["message"] == "out of gas"
    error = client.error("eth_estimateGas", {"to": contract, "gas": hex(100_000)})
    assert error["message"] == "gas required exceeds allowance (100000)"


def test_estimate_is_the_least_gas_that_succeeds(devnet, client):
    contract = deploy(devnet, initcode(STORE_CALLER))
    caller = SENDER.address
    estimate = int(client("eth_estimateGas", {"from": caller, "to": contract}), 16)
    assert estimate > 21_000 + 22_100
    assert client("eth_call", {"from": caller, "to": contract, "gas": hex(estimate)}, "latest") == "0x"
    error = client.error("eth_call", {"from": caller, "to": contract, "gas": hex(estimate - 1)}, "latest")
    assert error["message"] == "out of gas"


def test_the_gas_cap_bounds_calls_and_estimates(devnet):
    capped = Client(devnet, gas_cap=40_000)
    contract = deploy(devnet, initcode(STORE_CALLER))
    error = capped.error("eth_estimateGas", {"from": SENDER.address, "to": contract, "gas": hex(10**7)})
    assert error["message"] == "gas required exceeds allowance (40000)"
    looping = deploy(devnet, initcode(ENDLESS_LOOP))
    assert capped.error("eth_call", {"to": looping}, "latest")["message"] == "out of gas"


def proxy_to(target: str) -> bytes:
    """CALL(gas, target, 0, 0, 0, 0, 32) and RETURN the word it answered."""
    return bytes.fromhex("6020600060006000600073") + bytes.fromhex(target[2:]) + bytes.fromhex("5af15060206000f3")


def test_trace_transaction_shows_the_nested_calls(devnet, client):
    store = deploy(devnet, STORE_42_AND_DEPLOY)
    proxy = deploy(devnet, initcode(proxy_to(store)))
    raw = SENDER.sign_transaction({"chainId": CHAIN_ID, "nonce": devnet.nonces["A"], "gas": 100_000, "to": to_checksum_address(proxy), "value": 0,
                                   "type": 2, "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI})
    devnet.nonces["A"] += 1
    block = devnet.commit([bytes(raw.raw_transaction)])
    tx_hash = h(block.transactions[0].hash)
    receipt = client("eth_getTransactionReceipt", tx_hash)

    frame = client("debug_traceTransaction", tx_hash, {"tracer": "callTracer"})
    assert frame["type"] == "CALL" and frame["from"].lower() == SENDER.address.lower() and frame["to"].lower() == proxy
    assert frame["gasUsed"] == receipt["gasUsed"] and frame["output"] == "0x" + "00" * 31 + "2a"
    (inner,) = frame["calls"]
    assert inner["type"] == "CALL" and inner["to"].lower() == store and inner["output"] == "0x" + "00" * 31 + "2a"
    top_only = client("debug_traceTransaction", tx_hash, {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": True}})
    assert "calls" not in top_only

    traced = client("debug_traceCall", {"to": proxy}, "latest", {"tracer": "callTracer"})
    assert traced["calls"][0]["to"].lower() == store
    assert client.error("debug_traceTransaction", tx_hash, {})["code"] == -32602  # only the callTracer
    assert client.error("debug_traceTransaction", "0x" + "ab" * 32, {"tracer": "callTracer"})["message"].startswith(
        "transaction not found")


def test_trace_of_a_reverted_transaction_names_the_reason(devnet, client):
    reverter = deploy(devnet, initcode(REVERT_NOPE))
    raw = SENDER.sign_transaction({"chainId": CHAIN_ID, "nonce": devnet.nonces["A"], "gas": 100_000, "to": to_checksum_address(reverter), "value": 0,
                                   "type": 2, "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI})
    devnet.nonces["A"] += 1
    block = devnet.commit([bytes(raw.raw_transaction)])
    frame = client("debug_traceTransaction", h(block.transactions[0].hash), {"tracer": "callTracer"})
    assert frame["error"] == "execution reverted" and frame["revertReason"] == "nope" and frame["output"] == h(REVERT_DATA)


def test_create_access_list_names_the_storage_a_call_reads_beyond_its_recipient(devnet, client):
    store = deploy(devnet, STORE_42_AND_DEPLOY)
    proxy = deploy(devnet, initcode(proxy_to(store)))
    answer = client("eth_createAccessList", {"from": SENDER.address, "to": proxy}, "latest")
    assert answer["accessList"] == [{"address": store, "storageKeys": ["0x" + "00" * 32]}]
    # With the list, the call pays 2,400 + 1,900 up front (EIP-2930) and then a warm account and a
    # warm slot (100 each) instead of a cold account (2,600) and a cold slot (2,100): 200 less than
    # the same call mined without it.
    raw = SENDER.sign_transaction({"chainId": CHAIN_ID, "nonce": devnet.nonces["A"], "gas": 100_000, "to": to_checksum_address(proxy),
                                   "value": 0, "type": 2, "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI})
    devnet.nonces["A"] += 1
    block = devnet.commit([bytes(raw.raw_transaction)])
    mined = int(client("eth_getTransactionReceipt", h(block.transactions[0].hash))["gasUsed"], 16)
    assert int(answer["gasUsed"], 16) == mined - 200
