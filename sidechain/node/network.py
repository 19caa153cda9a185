"""The node's gossip: consensus messages and batched transactions over the P2PService.

Validation (ACCEPT / IGNORE / REJECT, sidechain.consensus.gossip) runs before a message is
relayed; what it decoded is handed to the handler, so nothing is decoded or verified twice.
Transactions travel in batches (LIBP2P_NOTES: ~3 ms of CPU per gossip delivery, so the network
must stay under ~100-200 messages per second): each node flushes what it received from clients
every BATCH_INTERVAL, in the order received, as a take-while over the queue: a batch takes
transactions while it holds fewer than MAX_TXS_PER_BATCH and the next one keeps its raw bytes within
MAX_BATCH_BYTES, which is MAX_TX_SIZE, so every transaction the node accepts fits a batch of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import time
from collections import deque

from ..chain.blocks import Block
from ..chain.transactions import MAX_TX_SIZE, Transaction
from ..consensus.gossip import (
    MAX_TXS_PER_BATCH, ROUND_TAKEN, TOPIC_EVIDENCE, TOPIC_PROPOSALS, TOPIC_TRANSACTIONS, TOPIC_VOTES, UNKNOWN_VALIDATOR_SET,
    Checked, Verdict, check_evidence, check_proposal, check_transactions, check_vote, encode_proposal, encode_transactions,
)
from ..consensus.messages import Proposal, Vote
from ..errors import SidechainError
from ..p2p import ValidationResult

log = logging.getLogger("sidechain.gossip")

BATCH_INTERVAL = 0.05
MAX_BATCH_BYTES = MAX_TX_SIZE
"""Raw transaction bytes in one batch: the largest transaction fits alone. Its RLP framing adds at
most 4 bytes per transaction and 5 for the list, far inside the 1 MiB gossip message limit."""
MAX_OUTBOX_BYTES = 64 * MAX_BATCH_BYTES
"""Bytes queued between two flushes; an announcement beyond it flushes at once instead of waiting."""
_RESULT = {Verdict.ACCEPT: ValidationResult.ACCEPT, Verdict.IGNORE: ValidationResult.IGNORE, Verdict.REJECT: ValidationResult.REJECT}


class GossipNetwork:
    """Publishes this node's proposals, votes and transactions; admits and routes peers'."""

    def __init__(self, node, p2p) -> None:
        self.node, self.p2p = node, p2p
        self._checked: dict[bytes, object] = {}
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._checker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tx-check")
        self._task: asyncio.Task | None = None
        p2p.subscribe(TOPIC_PROPOSALS, self._validate_proposal, self._on_proposal)
        p2p.subscribe(TOPIC_VOTES, self._validate_vote, self._on_vote)
        p2p.subscribe(TOPIC_TRANSACTIONS, self._validate_transactions, self._on_transactions)
        p2p.subscribe(TOPIC_EVIDENCE, self._validate_evidence, self._on_evidence)

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_forever())

    async def stop(self) -> None:
        self._checker.shutdown(wait=False, cancel_futures=True)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    # --- outgoing ---------------------------------------------------------------------------------

    def broadcast_proposal(self, proposal: Proposal, block: Block) -> None:
        self.p2p.publish(TOPIC_PROPOSALS, encode_proposal(proposal, block))

    def broadcast_vote(self, vote: Vote) -> None:
        self.p2p.publish(TOPIC_VOTES, vote.encode())

    def broadcast_evidence(self, evidence) -> None:
        self.p2p.publish(TOPIC_EVIDENCE, evidence.encode())

    def announce_transaction(self, tx: Transaction) -> None:
        """Queue a pooled transaction for the next batch. Raises ValueError above MAX_BATCH_BYTES,
        which decode_transaction already refuses (MAX_TX_SIZE), so it never blocks the queue."""
        raw = tx.raw
        if len(raw) > MAX_BATCH_BYTES:
            raise ValueError(f"transaction of {len(raw)} bytes cannot be gossiped: the limit is {MAX_BATCH_BYTES} bytes")
        if self._outbox_bytes + len(raw) > MAX_OUTBOX_BYTES:
            try:
                self.flush()
            except Exception:  # the client's transaction is pooled: its submission does not fail
                log.exception("early transaction gossip flush failed")
        self._outbox.append(raw)
        self._outbox_bytes += len(raw)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(BATCH_INTERVAL)
            try:
                self.flush()
            except Exception:
                log.exception("transaction gossip flush failed")

    def flush(self) -> None:
        """Publish everything queued, oldest first, in batches of at most MAX_TXS_PER_BATCH
        transactions and MAX_BATCH_BYTES. A failed publish loses only its own batch."""
        outbox = self._outbox
        while outbox:
            batch, size = [], 0
            while outbox and len(batch) < MAX_TXS_PER_BATCH and size + len(outbox[0]) <= MAX_BATCH_BYTES:
                raw = outbox.popleft()
                batch.append(raw)
                size += len(raw)
            self._outbox_bytes -= size
            if not batch:  # unreachable: announce_transaction refuses what cannot fit a batch
                raw = outbox.popleft()
                self._outbox_bytes -= len(raw)
                log.error("dropped a queued transaction of %d bytes: batches hold at most %d", len(raw), MAX_BATCH_BYTES)
                continue
            self.p2p.publish(TOPIC_TRANSACTIONS, encode_transactions(batch))

    # --- incoming ---------------------------------------------------------------------------------

    def _verdict(self, topic: str, data: bytes, checked: Checked) -> ValidationResult:
        if checked.verdict is Verdict.ACCEPT:
            self._checked[data] = checked.value
            if len(self._checked) > 4096:
                self._checked.pop(next(iter(self._checked)))
        else:
            self.node.metrics.rejected.labels(topic, checked.reason, checked.verdict.value).inc()
            if checked.reason == "future-height":
                self.node.syncer.wake()
            elif checked.reason == ROUND_TAKEN and checked.value is not None:
                self.node.driver.receive_duplicate_proposal(checked.value)  # not executed: evidence if it conflicts
            elif checked.reason == UNKNOWN_VALIDATOR_SET and checked.value is not None:
                # Not relayed, but this node keeps it: the driver checks it against the right set
                # when its height comes (the first height after a range's last block).
                if topic == TOPIC_VOTES:
                    self.node.driver.receive_vote(checked.value, verified=False)
                else:
                    self.node.driver.receive_proposal(*checked.value)
        return _RESULT[checked.verdict]

    def _validate_proposal(self, data: bytes, peer: str) -> ValidationResult:
        node = self.node
        pool = node.mempool

        def sender_of(tx_hash: bytes) -> bytes | None:
            tx = pool.get(tx_hash)
            return tx.sender if tx is not None else None

        return self._verdict(TOPIC_PROPOSALS, data, check_proposal(
            data, chain_id=node.chain_id, validators_at=node.validators_for, current_height=node.driver.height,
            sender_of=sender_of, refusal=functools.partial(node.driver.refusal, proposal=True)))

    def _on_proposal(self, data: bytes, peer: str) -> None:
        value = self._checked.pop(data, None)
        if value is not None:
            proposal, block = value
            if proposal.height > self.node.driver.height:
                self.node.syncer.wake()
            self.node.driver.receive_proposal(proposal, block)

    def _validate_vote(self, data: bytes, peer: str) -> ValidationResult:
        node = self.node
        return self._verdict(TOPIC_VOTES, data, check_vote(
            data, chain_id=node.chain_id, validators_at=node.validators_for, current_height=node.driver.height,
            refusal=node.driver.refusal))

    def _on_vote(self, data: bytes, peer: str) -> None:
        vote = self._checked.pop(data, None)
        if vote is not None:
            if vote.height > self.node.driver.height:
                self.node.syncer.wake()
            self.node.metrics.vote_seconds.observe(max(0.0, time.time() - self.node.driver.height_started))
            self.node.driver.receive_vote(vote, verified=True)

    def _validate_evidence(self, data: bytes, peer: str) -> ValidationResult:
        node = self.node
        return self._verdict(TOPIC_EVIDENCE, data, check_evidence(
            data, chain_id=node.chain_id, validators_at=node.validators_for, current_height=node.driver.height,
            is_known=node.driver.evidence.knows))

    def _on_evidence(self, data: bytes, peer: str) -> None:
        evidence = self._checked.pop(data, None)
        if evidence is not None:
            self.node.driver.receive_evidence(evidence)

    async def _validate_transactions(self, data: bytes, peer: str) -> ValidationResult:
        """Checked on a worker thread: recovering a batch's senders takes tens of milliseconds, which
        the event loop spends on consensus messages meanwhile (libsecp256k1 runs without the GIL)."""
        node = self.node
        checked = await asyncio.get_running_loop().run_in_executor(self._checker, functools.partial(
            check_transactions, data, chain_id=node.chain_id, gas_limit=node.genesis.gas_limit,
            is_known=lambda h: node.mempool.get(h) is not None))
        return self._verdict(TOPIC_TRANSACTIONS, data, checked)

    def _on_transactions(self, data: bytes, peer: str) -> None:
        txs = self._checked.pop(data, None) or ()
        for tx in txs:
            try:
                self.node.pool_transaction(tx)
            except SidechainError:
                pass  # stale nonce, already known, underpriced: normal for gossip
