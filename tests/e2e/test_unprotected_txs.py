"""Pre-EIP-155 legacy transactions: refused over RPC by default (tests/e2e/test_bad_input.py), let in
with --allow-unprotected-txs as go-ethereum's flag does, and then mined and run like any other."""

from __future__ import annotations

import os
import signal

import pytest
from eth_account import Account

from e2e_support import RunningNode
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import wait_until

TO = "0x5e5E5e5e5E5e5E5E5e5E5E5e5e5E5E5E5e5E5E5e"


@pytest.fixture
def permissive_node(tmp_path):
    running = RunningNode(tmp_path / "net", ["--allow-unprotected-txs"])
    try:
        yield running
    finally:
        if running.node.process is not None and running.node.process.poll() is None:
            os.killpg(running.node.pid, signal.SIGKILL)
            running.node.process.wait(timeout=10)


def test_an_allowed_unprotected_transaction_is_mined(permissive_node):
    key = anvil_private_key(3)
    sender = Account.from_key(key).address
    nonce = int(permissive_node.rpc("eth_getTransactionCount", [sender, "latest"]), 16)
    signed = Account.from_key(key).sign_transaction({"to": TO, "value": 7, "gas": 21_000, "gasPrice": 10**10, "nonce": nonce})
    assert signed.v in (27, 28)

    tx_hash = permissive_node.rpc("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
    receipt = wait_until(lambda: permissive_node.rpc("eth_getTransactionReceipt", [tx_hash]), 20, "the receipt")
    assert receipt["status"] == "0x1" and receipt["from"].lower() == sender.lower()
    assert int(permissive_node.rpc("eth_getBalance", [TO, "latest"]), 16) == 7
    view = permissive_node.rpc("eth_getTransactionByHash", [tx_hash])
    assert "chainId" not in view and int(view["v"], 16) == signed.v  # it names no chain, as go-ethereum shows it
