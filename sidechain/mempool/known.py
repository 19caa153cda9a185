"""Transactions this node has decoded and verified lately, beyond what its pool holds.

A transaction reaches a validator twice: in a peer's gossip batch and in a proposal's block, in
either order. When the block comes first (its proposer took the transaction from a client a moment
ago), the proposal check decodes it and recovers its sender; the batch that follows must not do it
again, nor pool a transaction that is already final. So the node remembers, by hash, each
transaction a proposal's block or a checked batch brought (`saw`; a batch is delivered, and its
transactions pooled, only once its origin's earlier messages are in) and each one a final block
holds (`committed`): a batch skips the final ones and takes the others as they were decoded, and
a proposal takes a checked batch's transactions without fetching them. Senders are recovered once
per node, whichever copy arrives first.

Bounded: the oldest entries go first beyond `capacity` (at 2,600 tx/s, 16,384 is six seconds, far
longer than a batch and its block arrive apart). Written on the event loop; read from the
transaction check's worker thread as well (single dict reads, safe under the GIL).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from ..chain.transactions import Transaction

CAPACITY = 16_384


class KnownTransactions:
    """The pool's transactions and those recently seen in blocks; see the module docstring."""

    def __init__(self, pooled: Callable[[bytes], Transaction | None], capacity: int = CAPACITY) -> None:
        self.pooled, self.capacity = pooled, capacity
        self._recent: OrderedDict[bytes, tuple[Transaction, bool]] = OrderedDict()
        """Hash -> (the decoded transaction, whether a final block holds it)."""

    def __len__(self) -> int:
        return len(self._recent)

    def get(self, tx_hash: bytes) -> Transaction | None:
        """The decoded, verified transaction with this hash, if this node has one."""
        tx = self.pooled(tx_hash)
        if tx is not None:
            return tx
        entry = self._recent.get(tx_hash)
        return entry[0] if entry is not None else None

    def is_settled(self, tx_hash: bytes) -> bool:
        """Nothing to do for a gossiped copy: the pool holds it, or a final block does."""
        if self.pooled(tx_hash) is not None:
            return True
        entry = self._recent.get(tx_hash)
        return entry is not None and entry[1]

    def saw(self, transactions: Iterable[Transaction]) -> None:
        """A proposal's block or a checked batch brought these (verified by their decoding)."""
        for tx in transactions:
            if tx.hash not in self._recent:
                self._recent[tx.hash] = (tx, False)
        self._trim()

    def committed(self, transactions: Iterable[Transaction]) -> None:
        """A final block holds these."""
        for tx in transactions:
            self._recent[tx.hash] = (tx, True)
            self._recent.move_to_end(tx.hash)
        self._trim()

    def _trim(self) -> None:
        while len(self._recent) > self.capacity:
            self._recent.popitem(last=False)
