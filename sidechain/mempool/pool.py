"""The transaction pool: what the node holds between `eth_sendRawTransaction` and a block.

Mirrors go-ethereum's legacy txpool where wallets can tell: the same rejection messages, a 10%
replacement bump on both fee fields, pending (contiguous from the state nonce) versus queued
(behind a nonce gap) transactions, per-sender and global caps, and a lifetime for queued ones.
Pure: no I/O and no clock; the caller passes the state, the base fee and the time.

Per sender the pool keeps three invariants, re-established whenever that sender is touched:
- every nonce held is at or above the state nonce seen last;
- pending is the run of nonces from that state nonce, everything above a gap is queued;
- in nonce order, the upfront costs (gas * maxFeePerGas + value) so far fit the balance seen last;
  the first transaction that does not fit, and every later one, is dropped.

`now` must come from a monotonic clock: queued transactions expire in the order they were queued.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from ..chain.state import Account, StateReader
from .selection import select_transactions
from ..chain.transactions import Transaction
from ..errors import (
    AlreadyKnown, FeeCapTooLow, InsufficientFunds, NonceTooLow, ReplacementUnderpriced, SidechainError,
    TxPoolOverflow, Underpriced,
)

Content = dict[bytes, dict[int, Transaction]]
"""sender -> nonce -> transaction, as txpool_content groups them."""


class _Sender:
    """One sender's transactions by nonce; pending is [nonce, pending_end)."""

    __slots__ = ("txs", "nonce", "pending_end", "cost", "max_nonce", "mark")

    def __init__(self, nonce: int) -> None:
        self.txs: dict[int, Transaction] = {}
        self.nonce = nonce  # the state nonce seen last
        self.pending_end = nonce
        self.cost = 0  # sum of the upfront costs of `txs`
        self.max_nonce = -1
        self.mark: tuple[bytes, bool] | None = None  # (hash, queued?) of the live eviction-heap entry

    @property
    def queued(self) -> int:
        return len(self.txs) - (self.pending_end - self.nonce)


class Mempool:
    """Pending and queued transactions, indexed by hash and by sender and nonce."""

    def __init__(
        self, *, max_total: int = 50_000, max_per_sender: int = 1_024, max_queued_per_sender: int = 64,
        price_bump_percent: int = 10, min_tip: int = 0, queued_lifetime: float = 3 * 3600,
    ) -> None:
        self.max_total = max_total
        self.max_per_sender = max_per_sender
        self.max_queued_per_sender = max_queued_per_sender
        self.price_bump_percent = price_bump_percent
        self.min_tip = min_tip
        self.queued_lifetime = queued_lifetime
        self._senders: dict[bytes, _Sender] = {}
        self._by_hash: dict[bytes, Transaction] = {}
        self._queued_since: dict[bytes, float] = {}
        """hash -> when it was queued, in insertion (hence time) order."""
        self._pending_n = 0
        # Eviction candidates are each sender's tail (highest nonce), one heap for queued tails and
        # one for pending tails, keyed by effective tip at `_evict_base_fee`; stale entries are
        # skipped lazily and both heaps are rebuilt when the base fee moves.
        self._evict_base_fee = 0
        self._evict_queued: list[tuple] = []
        self._evict_pending: list[tuple] = []

    # --- reading ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._by_hash

    @property
    def pending_count(self) -> int:
        return self._pending_n

    @property
    def queued_count(self) -> int:
        return len(self._by_hash) - self._pending_n

    def get(self, tx_hash: bytes) -> Transaction | None:
        return self._by_hash.get(tx_hash)

    def pending_nonce(self, sender: bytes, state: StateReader) -> int:
        """The nonce after this sender's pending transactions (eth_getTransactionCount "pending")."""
        nonce = state.get_account(sender).nonce
        s = self._senders.get(sender)
        if s is None:
            return nonce
        if s.nonce == nonce:
            return s.pending_end
        while nonce in s.txs:
            nonce += 1
        return nonce

    def content(self) -> tuple[Content, Content]:
        """(pending, queued), each grouped by sender then nonce (txpool_content)."""
        pending: Content = {}
        queued: Content = {}
        for addr, s in self._senders.items():
            for nonce in sorted(s.txs):
                (pending if nonce < s.pending_end else queued).setdefault(addr, {})[nonce] = s.txs[nonce]
        return pending, queued

    # --- adding ----------------------------------------------------------------------------------

    def add(self, tx: Transaction, state: StateReader, base_fee: int, now: float) -> None:
        """Pool a decoded transaction, or raise the InvalidTransaction / MempoolError it breaks."""
        if tx.hash in self._by_hash:
            raise AlreadyKnown("already known")
        addr = tx.sender
        account = state.get_account(addr)
        if tx.nonce < account.nonce:
            raise NonceTooLow.of(account.nonce, tx.nonce)
        if tx.max_fee_per_gas < base_fee:
            raise FeeCapTooLow.of(addr, tx.max_fee_per_gas, base_fee)
        if tx.max_priority_fee_per_gas < self.min_tip:
            raise Underpriced(f"transaction underpriced: tip {tx.max_priority_fee_per_gas}, minimum {self.min_tip}")
        s = self._senders.get(addr)
        if s is not None and s.nonce != account.nonce:
            self._resync(addr, s, account, now)
            s = self._senders.get(addr)
        cost = tx.upfront_cost
        append = s is None or tx.nonce > s.max_nonce
        if append:
            spent = 0 if s is None else s.cost
        else:
            spent = sum(t.upfront_cost for n, t in s.txs.items() if n < tx.nonce)
        _check_funds(account.balance, spent, cost)
        old = None if append else s.txs.get(tx.nonce)
        if old is not None:
            self._check_replacement(old, tx)
        else:
            queued = tx.nonce > (account.nonce if s is None else s.pending_end)
            self._check_sender_limits(addr, s, queued)
            if len(self._by_hash) >= self.max_total:
                self._make_room(tx, base_fee, queued)
        if s is None:
            s = self._senders[addr] = _Sender(account.nonce)
        if old is not None:
            self._drop(s, old)
        s.txs[tx.nonce] = tx
        s.cost += cost
        self._by_hash[tx.hash] = tx
        if not append:
            self._resync(addr, s, account, now)
            return
        s.max_nonce = tx.nonce
        if tx.nonce == s.pending_end:
            s.pending_end += 1
            self._pending_n += 1
        else:
            self._queued_since[tx.hash] = now
        self._mark_tail(addr, s)

    def add_many(
        self, txs: Iterable[Transaction], state: StateReader, base_fee: int, now: float
    ) -> list[SidechainError | None]:
        """`add` each in order; per transaction the error it raised, or None if pooled."""
        results: list[SidechainError | None] = []
        for tx in txs:
            try:
                self.add(tx, state, base_fee, now)
            except SidechainError as exc:
                results.append(exc)
            else:
                results.append(None)
        return results

    def _check_replacement(self, old: Transaction, tx: Transaction) -> None:
        """Both fee fields must rise, each to at least old * (100 + bump) / 100 (geth's rule)."""
        bump = 100 + self.price_bump_percent
        if (
            tx.max_fee_per_gas <= old.max_fee_per_gas
            or tx.max_priority_fee_per_gas <= old.max_priority_fee_per_gas
            or tx.max_fee_per_gas < old.max_fee_per_gas * bump // 100
            or tx.max_priority_fee_per_gas < old.max_priority_fee_per_gas * bump // 100
        ):
            raise ReplacementUnderpriced("replacement transaction underpriced")

    def _check_sender_limits(self, addr: bytes, s: _Sender | None, queued: bool) -> None:
        held, held_queued = (0, 0) if s is None else (len(s.txs), s.queued)
        if held >= self.max_per_sender:
            raise TxPoolOverflow(
                f"txpool is full: sender 0x{addr.hex()} has {held} transactions, limit {self.max_per_sender}"
            )
        if queued and held_queued >= self.max_queued_per_sender:
            raise TxPoolOverflow(
                f"txpool is full: sender 0x{addr.hex()} has {held_queued} queued transactions, "
                f"limit {self.max_queued_per_sender}"
            )

    def _make_room(self, tx: Transaction, base_fee: int, queued: bool) -> None:
        """Evict another sender's tail that tips strictly less; queued tails go first.

        A queued newcomer may only push out queued transactions (geth: a future transaction never
        churns pending ones).
        """
        if base_fee != self._evict_base_fee:
            self._rebuild_eviction(base_fee)
        tip = tx.effective_tip(base_fee)
        heaps = (self._evict_queued,) if queued else (self._evict_queued, self._evict_pending)
        for heap in heaps:
            entry = self._cheapest(heap, tx.sender)
            if entry is not None and entry[0] < tip:
                self._evict_tail(entry[1])
                return
        raise TxPoolOverflow("txpool is full")

    # --- block building --------------------------------------------------------------------------

    def select(
        self, state: StateReader, base_fee: int, gas_limit: int, max_count: int | None = None
    ) -> list[Transaction]:
        """A block's transactions: the highest effective tip first across senders, nonce order within
        (see selection.select_transactions)."""
        limit = len(self._by_hash) if max_count is None else max_count
        return select_transactions(self._senders, len(self._by_hash), state, base_fee, gas_limit, limit)

    # --- upkeep ----------------------------------------------------------------------------------

    def on_block(self, included: Iterable[Transaction], state: StateReader, base_fee: int, now: float) -> None:
        """Re-check the senders of a block's transactions against the post-block `state`.

        Drops the included transactions, every nonce now below the state nonce and what the
        balance can no longer pay; re-derives pending and queued. Transactions whose fee cap is
        below the new `base_fee` stay (it may fall) but are not selected; eviction re-ranks at the
        new base fee on its next use.
        """
        by_sender: dict[bytes, list[Transaction]] = {}
        for tx in included:
            by_sender.setdefault(tx.sender, []).append(tx)
        for addr, txs in by_sender.items():
            s = self._senders.get(addr)
            if s is None:
                continue
            for tx in txs:
                if tx.hash in self._by_hash:
                    self._drop(s, tx)
            self._resync(addr, s, state.get_account(addr), now)

    def evict_stale(self, now: float) -> list[Transaction]:
        """Drop the transactions queued for longer than `queued_lifetime` (geth's Lifetime)."""
        cutoff = now - self.queued_lifetime
        stale = []
        for tx_hash, since in self._queued_since.items():
            if since >= cutoff:
                break
            stale.append(self._by_hash[tx_hash])
        by_sender: dict[bytes, list[Transaction]] = {}
        for tx in stale:
            by_sender.setdefault(tx.sender, []).append(tx)
        for addr, txs in by_sender.items():
            s = self._senders[addr]
            for tx in txs:
                self._drop(s, tx)
            self._settle(addr, s)
        return stale

    # --- internals -------------------------------------------------------------------------------

    def _drop(self, s: _Sender, tx: Transaction) -> None:
        """Forget one transaction; the caller re-derives pending_end (`_resync`) or keeps it valid."""
        del s.txs[tx.nonce]
        s.cost -= tx.upfront_cost
        del self._by_hash[tx.hash]
        self._queued_since.pop(tx.hash, None)

    def _resync(self, addr: bytes, s: _Sender, account: Account, now: float) -> None:
        """Re-establish the sender's invariants against `account`, in O(k log k) for k transactions."""
        counted = s.pending_end - s.nonce
        spent = 0
        end = account.nonce
        for nonce in sorted(s.txs):
            tx = s.txs[nonce]
            if nonce < account.nonce:
                self._drop(s, tx)
                continue
            spent += tx.upfront_cost
            if spent > account.balance:
                self._drop(s, tx)
            elif nonce == end:
                end += 1
                self._queued_since.pop(tx.hash, None)
            elif tx.hash not in self._queued_since:
                self._queued_since[tx.hash] = now
        if s.txs and account.nonce != s.nonce:
            self._senders[addr] = self._senders.pop(addr)  # a new head queues behind older ones
        s.nonce = account.nonce
        s.pending_end = end
        self._pending_n += end - account.nonce - counted
        self._settle(addr, s)

    def _settle(self, addr: bytes, s: _Sender) -> None:
        """After removals: forget an emptied sender, else refresh its tail."""
        if not s.txs:
            del self._senders[addr]
            return
        s.max_nonce = max(s.txs)
        self._mark_tail(addr, s)

    def _mark_tail(self, addr: bytes, s: _Sender) -> None:
        """Push the sender's tail to the eviction heap it belongs to, unless already there."""
        tail = s.txs[s.max_nonce]
        mark = (tail.hash, s.max_nonce >= s.pending_end)
        if mark == s.mark:
            return
        s.mark = mark
        heap = self._evict_queued if mark[1] else self._evict_pending
        entry = (tail.effective_tip(self._evict_base_fee), addr, tail.hash, mark[1])
        heapq.heappush(heap, entry)
        if len(self._evict_queued) + len(self._evict_pending) > 2 * len(self._senders) + 1024:
            self._rebuild_eviction(self._evict_base_fee)

    def _rebuild_eviction(self, base_fee: int) -> None:
        self._evict_base_fee = base_fee
        queued, pending = [], []
        for addr, s in self._senders.items():
            tail = s.txs[s.max_nonce]
            s.mark = (tail.hash, s.max_nonce >= s.pending_end)
            entry = (tail.effective_tip(base_fee), addr, tail.hash, s.mark[1])
            (queued if s.mark[1] else pending).append(entry)
        heapq.heapify(queued)
        heapq.heapify(pending)
        self._evict_queued, self._evict_pending = queued, pending

    def _cheapest(self, heap: list[tuple], exclude: bytes) -> tuple | None:
        """The live entry with the lowest tip whose sender is not `exclude`; stale entries are popped."""
        aside = None
        found = None
        while heap:
            entry = heap[0]
            s = self._senders.get(entry[1])
            if s is None or s.mark != (entry[2], entry[3]):
                heapq.heappop(heap)
            elif entry[1] == exclude:
                aside = heapq.heappop(heap)
            else:
                found = entry
                break
        if aside is not None:
            heapq.heappush(heap, aside)
        return found

    def _evict_tail(self, addr: bytes) -> None:
        """Drop a sender's highest nonce: no gap opens in its pending run."""
        s = self._senders[addr]
        tail = s.txs[s.max_nonce]
        self._drop(s, tail)
        if tail.nonce < s.pending_end:
            s.pending_end -= 1
            self._pending_n -= 1
        self._settle(addr, s)


def _check_funds(balance: int, spent: int, cost: int) -> None:
    """`spent`: what lower nonces already hold of the balance."""
    if spent + cost > balance:
        raise InsufficientFunds.overdraft(balance, spent, cost)
