"""Transaction gossip: the topic, the rule that admits a batch, and the batching (cometbft's
mempool/reactor.go: the pool's own channel, apart from consensus).

Transactions travel in batches (LIBP2P_NOTES: ~3 ms of CPU per gossip delivery, so the network
must stay under ~100-200 messages per second): each node flushes what it received from clients
every BATCH_INTERVAL, in the order received, as a take-while over the queue: a batch takes
transactions while it holds fewer than MAX_TXS_PER_BATCH and the next one keeps its raw bytes within
MAX_BATCH_BYTES, which is MAX_TX_SIZE, so every transaction the node accepts fits a batch of its own.
A peer's batch is checked (ACCEPT / IGNORE / REJECT, sidechain.verdicts) on a worker thread before
it is relayed; what the check decoded is pooled, so nothing is decoded twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
from collections import deque
from collections.abc import Callable

import rlp

from ..chain.codec import decode_byte_strings
from ..chain.transactions import MAX_TX_SIZE, Transaction, decode_transactions
from ..crypto import keccak256
from ..errors import InvalidTransaction, SidechainError
from ..p2p import ValidationResult
from ..verdicts import Checked, Verdict

log = logging.getLogger("sidechain.gossip")

TOPIC_TRANSACTIONS = "txs/1"
MAX_TXS_PER_BATCH = 4096
BATCH_INTERVAL = 0.05
MAX_BATCH_BYTES = MAX_TX_SIZE
"""Raw transaction bytes in one batch: the largest transaction fits alone. Its RLP framing adds at
most 4 bytes per transaction and 5 for the list, far inside the 1 MiB gossip message limit."""
MAX_OUTBOX_BYTES = 64 * MAX_BATCH_BYTES
"""Bytes queued between two flushes; an announcement beyond it flushes at once instead of waiting."""
MAX_CHECKED = 4096
"""Checked batches waiting for their handler; the oldest is forgotten beyond it."""


def encode_transactions(raws: list[bytes]) -> bytes:
    return rlp.encode(raws)


def _nothing_decoded(tx_hash: bytes) -> Transaction | None:
    return None


def check_transactions(data: bytes, *, chain_id: int, gas_limit: int, is_known: Callable[[bytes], bool],
                       decoded: Callable[[bytes], Transaction | None] = _nothing_decoded) -> Checked:
    """A batch of raw transactions; value: the decoded ones we did not have. `is_known(tx_hash)`:
    nothing to do for it (pooled, or final); `decoded(tx_hash)`: a transaction this node verified
    already (a proposal brought it), taken as it is rather than decoded and recovered again."""
    # REJECT: not a list of byte strings, or too many.
    try:
        raws = decode_byte_strings(data, MAX_TXS_PER_BATCH)
    except ValueError:
        return Checked(Verdict.REJECT, "malformed-tx-batch")
    if not raws:
        return Checked(Verdict.REJECT, "malformed-tx-batch")
    fresh, undecoded = [], []
    for raw in raws:
        tx_hash = keccak256(raw)
        if is_known(tx_hash):
            continue
        if (tx := decoded(tx_hash)) is not None:
            fresh.append(tx)
        else:
            undecoded.append(raw)
    for tx in decode_transactions(undecoded, chain_id, gas_limit):
        # REJECT: a transaction that can never be valid (encoding, signature, chain id, limits).
        if isinstance(tx, InvalidTransaction):
            return Checked(Verdict.REJECT, "invalid-transaction")
        fresh.append(tx)
    # IGNORE: nothing new for us.
    if not fresh:
        return Checked(Verdict.IGNORE, "known-transactions")
    return Checked(Verdict.ACCEPT, "ok", fresh)


class TransactionGossip:
    """Publishes this node's pooled transactions in batches; admits peers' batches into the pool.

    `is_known(tx_hash)`: nothing to do for it, the pool or a final block holds it (skipped before any
    signature check); `decoded(tx_hash)`: a transaction verified here already (mempool/known.py);
    `saw(txs)`: a batch's transactions are verified, before the batch is delivered (pubsub holds a
    message until its origin's earlier ones are in, up to 250 ms): a proposal arriving meanwhile
    finds them instead of fetching them from its proposer;
    `admit(tx)`: pool a peer's transaction, raising the SidechainError of the rule it breaks;
    `on_rejected(topic, reason, verdict)`: a batch not ACCEPTed (the node counts it).
    """

    def __init__(self, p2p, *, chain_id: int, gas_limit: int, is_known: Callable[[bytes], bool],
                 admit: Callable[[Transaction], None], decoded: Callable[[bytes], Transaction | None] = _nothing_decoded,
                 saw: Callable[[list[Transaction]], None] = lambda txs: None,
                 on_rejected: Callable[[str, str, str], None] = lambda topic, reason, verdict: None) -> None:
        self.p2p, self.chain_id, self.gas_limit = p2p, chain_id, gas_limit
        self.is_known, self.decoded, self.admit, self.on_rejected = is_known, decoded, admit, on_rejected
        self.saw = saw
        self._checked: dict[bytes, list[Transaction]] = {}
        self._checking: set[asyncio.Future] = set()
        """One future per batch being checked, done once its transactions are known (`saw`)."""
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._checker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tx-check")
        self._task: asyncio.Task | None = None
        p2p.subscribe(TOPIC_TRANSACTIONS, self._validate, self._deliver)

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

    async def _validate(self, data: bytes, peer: str) -> ValidationResult:
        """Checked on a worker thread: recovering a batch's senders takes tens of milliseconds, which
        the event loop spends on consensus messages meanwhile (libsecp256k1 runs without the GIL)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._checking.add(done)
        try:
            checked = await loop.run_in_executor(self._checker, functools.partial(
                check_transactions, data, chain_id=self.chain_id, gas_limit=self.gas_limit, is_known=self.is_known,
                decoded=self.decoded))
            if checked.verdict is Verdict.ACCEPT:
                self.saw(checked.value)
                self._checked[data] = checked.value
                if len(self._checked) > MAX_CHECKED:
                    self._checked.pop(next(iter(self._checked)))
            else:
                self.on_rejected(TOPIC_TRANSACTIONS, checked.reason, checked.verdict.value)
        finally:
            self._checking.discard(done)
            done.set_result(None)
        return ValidationResult(checked.verdict.value)

    async def batches_checked(self, timeout: float) -> None:
        """Return once every batch being checked now is (its transactions known), or after `timeout`."""
        if self._checking:
            await asyncio.wait(list(self._checking), timeout=timeout)

    def _deliver(self, data: bytes, peer: str) -> None:
        for tx in self._checked.pop(data, None) or ():
            try:
                self.admit(tx)
            except SidechainError:
                pass  # stale nonce, already known, underpriced: normal for gossip
