"""Issue 10, item 6, on real processes: transactions of 1 byte below, exactly at and 1 byte above the
128 KiB limit, sent to a non-validating follower alone and behind others, are either mined by the
validator (which can only have heard of them through the follower's gossip) or refused by the
follower's JSON-RPC with go-ethereum's error."""

from __future__ import annotations

import pytest
from eth_account import Account

from sidechain.chain.transactions import MAX_TX_SIZE
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import rpc_call, wait_until

from follower_support import rpc_batch, validator_and_follower

pytestmark = pytest.mark.e2e

CHAIN_ID = 7070
GWEI = 10**9
SENDER = Account.from_key(anvil_private_key(0))


def sized(size: int, nonce: int) -> str:
    """A signed type-2 transfer from anvil #0 whose encoding is exactly `size` bytes, as 0x-hex."""
    length = max(size - 200, 0)
    for _ in range(6):
        raw = bytes(SENDER.sign_transaction({
            "type": 2, "chainId": CHAIN_ID, "nonce": nonce, "maxPriorityFeePerGas": GWEI, "maxFeePerGas": 50 * GWEI,
            "gas": 21_000 + 16 * length, "to": "0x" + "22" * 20, "value": 1, "data": b"\x01" * length,
        }).raw_transaction)
        if len(raw) == size:
            return "0x" + raw.hex()
        length += size - len(raw)
    raise AssertionError(f"could not sign a transaction of exactly {size} bytes")


def test_every_size_is_mined_through_gossip_or_refused_at_the_rpc(tmp_path):
    with validator_and_follower(tmp_path / "net") as pair:
        pair.start(pair.validator)
        pair.start(pair.follower)
        wait_until(lambda: rpc_call(pair.follower.rpc_url, "net_peerCount") == "0x1", 20, "the follower connected")
        wait_until(lambda: pair.height(pair.follower) >= 2, 20, "the follower following the chain")
        url = pair.follower.rpc_url

        nonce = 0
        rounds = {
            "at the limit, alone": [MAX_TX_SIZE],
            "1 B below, alone": [MAX_TX_SIZE - 1],
            "at the limit between small ones": [150, 150, MAX_TX_SIZE, 150, MAX_TX_SIZE - 1, 150],
        }
        for name, sizes in rounds.items():
            raws = [sized(size, nonce + i) for i, size in enumerate(sizes)]
            nonce += len(sizes)
            replies = rpc_batch(url, [("eth_sendRawTransaction", [raw]) for raw in raws])  # one batch: queued together
            assert all("result" in r for r in replies), f"{name}: expected every transaction accepted, got {replies}"
            hashes = [r["result"] for r in replies]

            def mined():
                receipts = [rpc_call(pair.validator.rpc_url, "eth_getTransactionReceipt", [h]) for h in hashes]
                return all(r is not None for r in receipts) and receipts

            try:
                receipts = wait_until(mined, 20, f"{name}: sizes {sizes} mined by the validator")
            except TimeoutError as exc:
                raise AssertionError(f"{exc}\nfollower log:\n{pair.log_tail(pair.follower)}") from None
            assert all(r["status"] == "0x1" for r in receipts)

        too_big = sized(MAX_TX_SIZE + 1, nonce)
        (reply,) = rpc_batch(url, [("eth_sendRawTransaction", [too_big])])
        assert reply.get("error", {}).get("message") == f"oversized data: transaction size {MAX_TX_SIZE + 1}, limit {MAX_TX_SIZE}", reply
        # Gossip still flows after the refusal.
        (reply,) = rpc_batch(url, [("eth_sendRawTransaction", [sized(150, nonce)])])
        wait_until(lambda: rpc_call(pair.validator.rpc_url, "eth_getTransactionReceipt", [reply["result"]]), 20,
                   "a small transaction mined after the refusal")
