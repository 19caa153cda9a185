"""Issue 10, item 6: transaction gossip batches transactions of every size it accepts. Transactions of
1 byte below, exactly at and 1 byte above the size limit, alone and behind others, reach the peer
(through its real gossip validator and handler) or are refused at submission with go-ethereum's
error; nothing queued behind a large transaction is lost, and the batching keeps its caps.

The sender's flush loop runs as in the node (`start`); the test polls for the peer's pool against a
deadline.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from types import SimpleNamespace

import pytest
import rlp
from eth_account import Account

from sidechain.chain.transactions import MAX_TX_SIZE, decode_transaction
from sidechain.errors import OversizedTransaction
from sidechain.mempool.gossip import MAX_TXS_PER_BATCH, TOPIC_TRANSACTIONS, TransactionGossip
from sidechain.p2p import P2PConfig, ValidationResult

CHAIN_ID = 7073
GAS_LIMIT = 30_000_000
GWEI = 10**9
USER = Account.from_key("0x" + "42" * 32)
MAX_MESSAGE_BYTES = next(f.default for f in dataclasses.fields(P2PConfig) if f.name == "max_message_bytes")


def sized(size: int, nonce: int = 0) -> bytes:
    """A signed type-2 transaction whose encoding is exactly `size` bytes."""
    length = max(size - 200, 0)
    for _ in range(6):
        raw = bytes(USER.sign_transaction({
            "type": 2, "chainId": CHAIN_ID, "nonce": nonce, "maxPriorityFeePerGas": GWEI, "maxFeePerGas": 2 * GWEI,
            "gas": 21_000 + 16 * length, "to": "0x" + "22" * 20, "value": 1, "data": b"\x01" * length,
        }).raw_transaction)
        if len(raw) == size:
            return raw
        length += size - len(raw)
    raise AssertionError(f"could not sign a transaction of exactly {size} bytes")


class Link:
    """The p2p service on both ends: `sender`'s publishes go, in order, through the receiver's
    validator and, if it ACCEPTs, its handler, under P2PService's message limit."""

    def __init__(self) -> None:
        self.topics: dict[str, tuple] = {}
        self.published: list[bytes] = []
        self.verdicts: list[ValidationResult] = []
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._task = asyncio.create_task(self._deliver_forever())
        self.sender = SimpleNamespace(subscribe=lambda topic, validator, handler: None, publish=self._publish)
        self.receiver = SimpleNamespace(subscribe=self._subscribe)

    def _subscribe(self, topic, validator, handler) -> None:
        self.topics[topic] = (validator, handler)

    def _publish(self, topic: str, data: bytes) -> None:
        assert topic == TOPIC_TRANSACTIONS
        if len(data) > MAX_MESSAGE_BYTES:
            raise ValueError(f"gossip message of {len(data)} bytes is above the {MAX_MESSAGE_BYTES}-byte limit")
        self.published.append(data)
        self._queue.put_nowait(data)

    async def _deliver_forever(self) -> None:
        while True:
            data = await self._queue.get()
            validator, handler = self.topics[TOPIC_TRANSACTIONS]
            verdict = await validator(data, "sender")
            self.verdicts.append(verdict)
            if verdict is ValidationResult.ACCEPT:
                handler(data, "sender")

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def tx_gossip(p2p, pooled: list[bytes] | None = None) -> TransactionGossip:
    """Transaction gossip over `p2p` in front of an empty pool that keeps what it admits in `pooled`."""
    return TransactionGossip(p2p, chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, is_known=lambda tx_hash: False,
                             admit=lambda tx: pooled.append(tx.raw) if pooled is not None else None)


BELOW, AT, ABOVE = MAX_TX_SIZE - 1, MAX_TX_SIZE, MAX_TX_SIZE + 1


def test_above_the_limit_is_refused_at_submission_with_geths_error():
    raw = sized(ABOVE)
    with pytest.raises(OversizedTransaction, match=rf"^oversized data: transaction size {ABOVE}, limit {MAX_TX_SIZE}$"):
        decode_transaction(raw, CHAIN_ID, GAS_LIMIT)


SMALL = 120
SCENARIOS = {
    "below-alone": [BELOW],
    "at-alone": [AT],
    "at-between-small": [SMALL] * 3 + [AT] + [SMALL] * 3,
    "below-and-at-behind-100-small": [SMALL] * 100 + [BELOW, AT, AT] + [SMALL] * 100,
    "at-behind-more-than-a-batch": [SMALL] * (MAX_TXS_PER_BATCH + 10) + [AT],
}
_signed: dict[int, bytes] = {}


def signed(size: int) -> bytes:
    if size not in _signed:
        _signed[size] = sized(size)
    return _signed[size]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_accepted_size_reaches_the_peer_alone_and_behind_others(name):
    raws = [signed(size) for size in SCENARIOS[name]]

    async def scenario() -> None:
        link = Link()
        pooled: list[bytes] = []
        sender = tx_gossip(link.sender)
        receiver = tx_gossip(link.receiver, pooled)
        sender.start()
        try:
            for raw in raws:  # all queued within one step of the loop: one flush sees them all
                sender.announce_transaction(decode_transaction(raw, CHAIN_ID, GAS_LIMIT))
            deadline = time.monotonic() + 5
            while len(pooled) < len(raws) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert pooled == raws, (
                f"{name}: expected all {len(raws)} transactions ({sum(map(len, raws))} bytes) at the peer in "
                f"order, got {len(pooled)} ({sum(map(len, pooled))} bytes)")
        finally:
            await sender.stop()
            await receiver.stop()
            await link.close()
        assert set(link.verdicts) == {ValidationResult.ACCEPT}, f"expected every batch ACCEPTed, got {link.verdicts}"
        for data in link.published:
            batch = rlp.decode(data)
            assert len(batch) <= MAX_TXS_PER_BATCH and sum(map(len, batch)) <= MAX_TX_SIZE, (
                f"expected batches of <= {MAX_TXS_PER_BATCH} txs and <= {MAX_TX_SIZE} bytes, "
                f"got {len(batch)} txs, {sum(map(len, batch))} bytes")

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_the_queue_is_bounded_by_flushing_early_and_refuses_what_no_batch_can_hold():
    from sidechain.mempool.gossip import MAX_BATCH_BYTES, MAX_OUTBOX_BYTES

    async def scenario() -> None:
        link = Link()
        sender = tx_gossip(link.sender)  # its loop is not started: only early flushes publish
        try:
            at = SimpleNamespace(raw=signed(AT))
            for _ in range(MAX_OUTBOX_BYTES // MAX_BATCH_BYTES + 10):
                sender.announce_transaction(at)
                assert sender._outbox_bytes <= MAX_OUTBOX_BYTES
            assert len(link.published) == MAX_OUTBOX_BYTES // MAX_BATCH_BYTES, (
                f"expected one early flush of {MAX_OUTBOX_BYTES // MAX_BATCH_BYTES} batches, got {len(link.published)}")
            with pytest.raises(ValueError, match=rf"transaction of {ABOVE} bytes cannot be gossiped: the limit is {MAX_BATCH_BYTES} bytes"):
                sender.announce_transaction(SimpleNamespace(raw=b"\x02" * ABOVE))
            sender.flush()
            assert not sender._outbox and sender._outbox_bytes == 0
        finally:
            await sender.stop()
            await link.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))
