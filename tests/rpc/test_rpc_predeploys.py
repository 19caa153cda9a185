"""The genesis predeploys at their well-known addresses, used as tools use them: Multicall3's
aggregate3 through eth_call, and the deterministic deployment proxy deploying with CREATE2 to the
address every chain gives that salt and initcode. The committed Multicall3 artifact is what its
source compiles to."""

from __future__ import annotations

import json
import subprocess

from eth_abi import decode, encode
from eth_account import Account
from eth_utils import to_checksum_address
from rpc_support import ACCOUNTS, CHAIN_ID, GWEI, KEYS, RICH, h

from bridge.artifacts import COMPILE_SCRIPT, REPO_NODE_MODULES
from sidechain.chain.contracts import ARTIFACTS
from sidechain.chain.predeploys import DEPLOYMENT_PROXY_ADDRESS, MULTICALL3_ADDRESS
from sidechain.crypto import keccak256

SENDER = Account.from_key(KEYS["A"])
RETURN_42 = bytes.fromhex("602a60005260206000f3")
"""Runtime: return the word 42."""
DEPLOY_RETURN_42 = bytes.fromhex("600a600c600039600a6000f3") + RETURN_42
"""Initcode: CODECOPY the 10-byte runtime after these 12 bytes and RETURN it."""


def selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


def test_multicall3_aggregates_calls_in_one_eth_call(client):
    balance_of_a = selector("getEthBalance(address)") + encode(["address"], [ACCOUNTS["A"].address])
    chain_id = selector("getChainId()")
    failing = b"\x12\x34\x56\x78"  # no such function on Multicall3: that call fails, and may
    calls = [(MULTICALL3_ADDRESS, False, balance_of_a), (MULTICALL3_ADDRESS, False, chain_id), (MULTICALL3_ADDRESS, True, failing)]
    data = selector("aggregate3((address,bool,bytes)[])") + encode(["(address,bool,bytes)[]"], [calls])

    output = client("eth_call", {"to": h(MULTICALL3_ADDRESS), "data": h(data)}, "latest")
    ((balance_ok, balance), (chain_ok, chain), (failed_ok, _)) = decode(["(bool,bytes)[]"], bytes.fromhex(output[2:]))[0]
    assert balance_ok and int.from_bytes(balance, "big") == RICH
    assert chain_ok and int.from_bytes(chain, "big") == CHAIN_ID
    assert not failed_ok

    strict = selector("aggregate3((address,bool,bytes)[])") + encode(["(address,bool,bytes)[]"], [[(MULTICALL3_ADDRESS, False, failing)]])
    error = client.error("eth_call", {"to": h(MULTICALL3_ADDRESS), "data": h(strict)}, "latest")
    assert error["code"] == 3 and error["message"] == "execution reverted: Multicall3: call failed"


def test_the_deployment_proxy_creates_at_the_create2_address(devnet, client):
    salt = b"\x00" * 31 + b"\x07"
    expected = keccak256(b"\xff" + DEPLOYMENT_PROXY_ADDRESS + salt + keccak256(DEPLOY_RETURN_42))[12:]
    proxy = to_checksum_address(DEPLOYMENT_PROXY_ADDRESS)
    assert client("eth_call", {"to": proxy, "data": h(salt + DEPLOY_RETURN_42)}, "latest") == h(expected)

    for nonce in (0, 1):  # the second, with the same salt and initcode, collides and reverts
        raw = SENDER.sign_transaction({"chainId": CHAIN_ID, "nonce": nonce, "gas": 200_000, "to": proxy, "value": 0,
                                       "data": salt + DEPLOY_RETURN_42, "type": 2, "maxFeePerGas": 10 * GWEI,
                                       "maxPriorityFeePerGas": GWEI})
        devnet.commit([bytes(raw.raw_transaction)])
    devnet.nonces["A"] = 2
    first, second = (client("eth_getTransactionReceipt", h(devnet.chain.block_by_number(n).transactions[0].hash)) for n in (1, 2))
    assert first["status"] == "0x1" and second["status"] == "0x0"
    assert client("eth_getCode", h(expected), "latest") == h(RETURN_42)
    assert client("eth_call", {"to": h(expected)}, "latest") == "0x" + "00" * 31 + "2a"


def test_predeploys_are_contracts_from_genesis(client):
    for address in (MULTICALL3_ADDRESS, DEPLOYMENT_PROXY_ADDRESS):
        assert len(client("eth_getCode", h(address), "0x0")) > 2
        assert client("eth_getTransactionCount", h(address), "0x0") == "0x1"


def test_the_committed_artifacts_match_their_sources(tmp_path):
    assert (REPO_NODE_MODULES / "solc").is_dir(), "node_modules/solc is missing: run scripts/bootstrap"
    subprocess.run(["node", str(COMPILE_SCRIPT), "--src", str(ARTIFACTS.parent), "--evm-version", "cancun", "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=120)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == sorted(p.name for p in ARTIFACTS.glob("*.json"))
    for path in tmp_path.glob("*.json"):
        committed = json.loads((ARTIFACTS / path.name).read_text())
        assert json.loads(path.read_text()) == committed, f"{path.name}: run scripts/build-contracts and commit the artifacts"
