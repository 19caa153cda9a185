"""Every bad input gets its own clear JSON-RPC error, and the node keeps serving."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import rlp
from eth_account import Account
from eth_utils import keccak

from e2e_support import CHAIN_ID
from sidechain.crypto import SECP256K1_N
from sidechain.devtools.devnet import wait_until

TO = "0x" + "42" * 20


def post(url: str, body: bytes) -> tuple[int, object]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def call(url: str, method: str, params: list) -> dict:
    status, reply = post(url, json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).encode())
    assert status == 200
    assert reply["id"] == 7
    return reply


def signed(key: bytes, **fields) -> bytes:
    tx = {"to": TO, "value": 1, "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "nonce": 0,
          "chainId": CHAIN_ID, "type": 2}
    tx.update(fields)
    return bytes(Account.from_key(key).sign_transaction(tx).raw_transaction)


def with_high_s(raw: bytes) -> bytes:
    fields = rlp.decode(raw[1:])
    s = int.from_bytes(fields[-1], "big")
    fields[-1] = (SECP256K1_N - s).to_bytes(32, "big").lstrip(b"\x00")
    fields[-3] = b"" if fields[-3] == b"\x01" else b"\x01"
    return raw[:1] + rlp.encode(fields)


def send_raw(url: str, raw: bytes) -> dict:
    return call(url, "eth_sendRawTransaction", ["0x" + raw.hex()])


def bad_transactions(dev_keys):
    key = dev_keys[5]
    pauper = b"\x01" * 31 + b"\x07"
    return {
        "wrong chain id": (signed(key, chainId=1), "invalid chain id: expected 7070, got 1"),
        "pre-EIP-155 legacy": (
            bytes(Account.from_key(key).sign_transaction({"to": TO, "value": 1, "gas": 21000, "gasPrice": 10**10, "nonce": 0}).raw_transaction),
            "only replay-protected (EIP-155) transactions allowed",
        ),
        "high s": (with_high_s(signed(key)), "upper half of the curve order"),
        "malformed rlp": (b"\x02\xf8\xff\x01\x02", "invalid RLP"),
        "unsupported type": (b"\x04" + signed(key)[1:], "transaction type not supported: 0x04"),
        "oversized": (signed(key, data=b"\x01" * (129 * 1024), gas=5_000_000), "oversized data"),
        "initcode too large": (signed(key, to=b"", data=b"\x01" * 49_153, gas=5_000_000),
                               "max initcode size exceeded: code size 49153, limit 49152"),
        "intrinsic gas too low": (signed(key, data=b"\x01\x02", gas=21_000), "intrinsic gas too low: gas 21000, minimum needed 21032"),
        "fee cap below base fee": (signed(key, maxFeePerGas=10, maxPriorityFeePerGas=1), "max fee per gas less than block base fee"),
        "tip above fee cap": (signed(key, maxFeePerGas=10**10, maxPriorityFeePerGas=10**11), "max priority fee per gas higher than max fee per gas"),
        "insufficient funds": (signed(pauper), "insufficient funds for gas * price + value"),
    }


def test_each_bad_transaction_gets_its_own_error_and_the_node_keeps_serving(node, dev_keys):
    cases = bad_transactions(dev_keys)
    messages = {}
    for name, (raw, expected) in cases.items():
        reply = send_raw(node.url, raw)
        assert "error" in reply, f"{name}: accepted"
        assert reply["error"]["code"] == -32000, name
        assert expected in reply["error"]["message"], f"{name}: {reply['error']['message']}"
        messages[name] = reply["error"]["message"]
    assert len(set(messages.values())) == len(messages)
    height = int(node.rpc("eth_blockNumber"), 16)
    node.wait_for_height(height + 1)
    assert node.rpc("txpool_status") == {"pending": "0x0", "queued": "0x0"}


def test_a_batch_of_submissions_answers_each_as_one_by_one(node, dev_keys):
    """Eleven bad transactions and two good ones in one batch (decoded together, off the event loop):
    each answers what it answers alone, in order, and only the good ones are pooled."""
    cases = list(bad_transactions(dev_keys).items())
    good = [signed(dev_keys[4], nonce=0), signed(dev_keys[4], nonce=1)]
    raws = [good[0]] + [raw for _, (raw, _) in cases] + [good[1], good[0]]
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": ["0x" + raw.hex()]}
             for i, raw in enumerate(raws)]
    status, reply = post(node.url, json.dumps(batch).encode())
    assert status == 200
    assert [r["id"] for r in reply] == list(range(len(raws)))
    assert reply[0]["result"] == "0x" + keccak(good[0]).hex() and reply[-2]["result"] == "0x" + keccak(good[1]).hex()
    assert "already known" in reply[-1]["error"]["message"]
    for (name, (_, expected)), answer in zip(cases, reply[1:-2]):
        assert expected in answer.get("error", {}).get("message", ""), f"{name}: {answer}"
    # a short run (decoded on the event loop, below the decoder thread's threshold) answers the same way
    few = [cases[3][1][0], signed(dev_keys[4], nonce=2), cases[0][1][0]]
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": ["0x" + raw.hex()]} for i, raw in enumerate(few)]
    _, reply = post(node.url, json.dumps(batch).encode())
    assert cases[3][1][1] in reply[0]["error"]["message"] and reply[1]["result"] == "0x" + keccak(few[1]).hex()
    assert cases[0][1][1] in reply[2]["error"]["message"]
    good.append(few[1])
    for raw in good:
        wait_until(lambda raw=raw: node.rpc("eth_getTransactionReceipt", ["0x" + keccak(raw).hex()]), 30, "receipt")
    assert node.rpc("eth_getTransactionCount", [Account.from_key(dev_keys[4]).address, "latest"]) == "0x3"


def test_nonce_too_low_and_replacement_rules(node, dev_keys):
    """The replacement rules are tried on a transaction queued behind a nonce gap, which no block
    can include before the gap is filled: a pending one may be mined between two calls."""
    key = dev_keys[5]
    queued = signed(key, nonce=1)
    assert "result" in send_raw(node.url, queued)
    assert "already known" in send_raw(node.url, queued)["error"]["message"]
    cheaper_bump = signed(key, nonce=1, value=2, maxFeePerGas=int(10**10 * 1.05), maxPriorityFeePerGas=int(10**9 * 1.05))
    assert "replacement transaction underpriced" in send_raw(node.url, cheaper_bump)["error"]["message"]
    tip_only = signed(key, nonce=1, value=2, maxPriorityFeePerGas=int(10**9 * 1.10))
    assert "replacement transaction underpriced" in send_raw(node.url, tip_only)["error"]["message"]
    replacement = signed(key, nonce=1, value=3, maxFeePerGas=int(10**10 * 1.10), maxPriorityFeePerGas=int(10**9 * 1.10))
    assert send_raw(node.url, replacement)["result"] == "0x" + keccak(replacement).hex()
    assert node.rpc("txpool_status") == {"pending": "0x0", "queued": "0x1"}
    first = signed(key, nonce=0)
    assert "result" in send_raw(node.url, first)
    for raw in (first, replacement):
        wait_until(lambda raw=raw: node.rpc("eth_getTransactionReceipt", ["0x" + keccak(raw).hex()]), 30, "receipt")
    assert node.rpc("eth_getTransactionReceipt", ["0x" + keccak(queued).hex()]) is None
    reply = send_raw(node.url, signed(key, nonce=0, value=4))
    assert "nonce too low: next nonce 2, tx nonce 0" in reply["error"]["message"]


@pytest.mark.parametrize(
    "body, code",
    [
        (b"{not json", -32700),
        (b'{"jsonrpc": "2.0", "id": 1}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_noSuchMethod", "params": []}', -32601),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": ["0x1234", "latest"]}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["0x01", false]}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["nothex"]}', -32602),
        (b"[]", -32600),
    ],
)
def test_invalid_json_rpc_gets_the_standard_code(node, body, code):
    _, reply = post(node.url, body)
    error = reply["error"] if isinstance(reply, dict) else reply[0]["error"]
    assert error["code"] == code
    assert error["message"]


def test_batch_answers_each_call_in_order(node):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_noSuchMethod", "params": []},
        {"jsonrpc": "2.0", "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "net_version", "params": []},
    ]
    status, reply = post(node.url, json.dumps(batch).encode())
    assert status == 200
    assert [r["id"] for r in reply] == [1, 2, 3]
    assert reply[0]["result"] == hex(CHAIN_ID) and reply[1]["error"]["code"] == -32601 and reply[2]["result"] == str(CHAIN_ID)


def test_oversized_request_is_refused_with_413(node):
    status, reply = post(node.url, b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["' + b"a" * (17 * 1024 * 1024) + b'"]}')
    assert status == 413
    assert reply["error"]["code"] in (-32600, -32700, -32000, -32003, -32006)


def test_cors_preflight_allows_a_browser_wallet(node):
    request = urllib.request.Request(node.url, method="OPTIONS", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 204)
        assert response.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:3000")
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
