"""The read side of the RPC: block identifiers resolved against the chain, recent blocks cached.

Committed blocks are final, so a cached block or receipt list never goes stale. The node hands
each new block to `remember` (through `RpcServer.publish_block`), so receipts of fresh blocks,
which clients poll most, are served without decoding the block again. The cache is bounded by
transactions held, not just by blocks, because one block can hold tens of thousands.

Requests answered on worker threads read through `fork(snapshot)`: a view over a snapshot of the chain
sharing this one's cache (final blocks are the same whoever reads them) under one lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..chain.blocks import Block, Header, Receipt
from ..errors import UnknownBlock
from ..interfaces import ChainHistory
from .codec import BlockId


class _Entry:
    __slots__ = ("block", "receipts")

    def __init__(self, block: Block, receipts: list[Receipt] | None) -> None:
        self.block = block
        self.receipts = receipts


class ChainView:
    """Chain reads for the RPC handlers; see the module docstring."""

    def __init__(self, chain: ChainHistory, max_blocks: int = 256, max_transactions: int = 100_000) -> None:
        self.chain = chain
        self.max_blocks = max_blocks
        self.max_transactions = max_transactions
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._hashes: dict[int, bytes] = {}
        self._cached_transactions = 0
        self._lock = threading.Lock()
        self._root = self
        """The view owning the cache (`_cached_transactions` is counted there)."""

    def fork(self, chain: ChainHistory) -> "ChainView":
        """A view over `chain` (a snapshot) sharing this view's cache."""
        view = ChainView.__new__(ChainView)
        view.chain, view.max_blocks, view.max_transactions = chain, self.max_blocks, self.max_transactions
        view._entries, view._hashes, view._lock, view._root = self._entries, self._hashes, self._lock, self._root
        return view

    def __len__(self) -> int:
        """Blocks in the cache."""
        return len(self._entries)

    # --- block identifiers -----------------------------------------------------------------------

    @property
    def head(self) -> Header:
        return self.chain.head

    def number_of(self, ref: int | str) -> int:
        """A number or tag as a block number (it may be past the head)."""
        if type(ref) is int:
            return ref
        return 0 if ref == "earliest" else self.chain.head.number

    def header(self, ref: BlockId) -> Header | None:
        if type(ref) is bytes:
            return self.chain.header_by_hash(ref)
        return self.chain.header_by_number(self.number_of(ref))

    def require_header(self, ref: BlockId) -> Header:
        """The header, or UnknownBlock naming what was asked for."""
        header = self.header(ref)
        if header is None:
            asked = f"hash 0x{ref.hex()}" if type(ref) is bytes else f"number {self.number_of(ref)}"
            raise UnknownBlock(f"header not found: block {asked}, head is {self.chain.head.number}")
        return header

    def state_number(self, ref: BlockId) -> int:
        """The block number whose post-state `ref` names; raises UnknownBlock."""
        if type(ref) is bytes:
            return self.require_header(ref).number
        number = self.number_of(ref)
        if number > self.chain.head.number:
            raise UnknownBlock(f"header not found: block number {number}, head is {self.chain.head.number}")
        return number

    # --- blocks and receipts ---------------------------------------------------------------------

    def block(self, ref: BlockId) -> Block | None:
        if type(ref) is bytes:
            return self.block_by_hash(ref)
        return self.block_by_number(self.number_of(ref))

    def block_by_hash(self, block_hash: bytes) -> Block | None:
        with self._lock:
            entry = self._entries.get(block_hash)
            if entry is not None:
                self._entries.move_to_end(block_hash)
        if entry is not None and entry.block.number <= self.chain.head.number:
            return entry.block
        if entry is not None:
            return None  # committed after this view's snapshot
        block = self.chain.block_by_hash(block_hash)
        if block is not None:
            self._put(block, None)
        return block

    def block_by_number(self, number: int) -> Block | None:
        if number > self.chain.head.number:
            return None
        block_hash = self._hashes.get(number)
        if block_hash is not None:
            found = self.block_by_hash(block_hash)
            if found is not None:
                return found
        block = self.chain.block_by_number(number)
        if block is not None:
            self._put(block, None)
        return block

    def receipts(self, block: Block) -> list[Receipt]:
        with self._lock:
            entry = self._entries.get(block.hash)
        if entry is None:
            entry = self._put(block, None)
        receipts = entry.receipts
        if receipts is None:
            receipts = entry.receipts = self.chain.receipts(block.hash)
        return receipts

    def locate(self, tx_hash: bytes) -> tuple[Block, int] | None:
        """The committed block holding `tx_hash`, and the transaction's index in it."""
        location = self.chain.transaction_location(tx_hash)
        if location is None:
            return None
        number, index = location
        block = self.block_by_number(number)
        if block is None or index >= len(block.transactions):
            return None
        return block, index

    def remember(self, block: Block, receipts: list[Receipt] | tuple[Receipt, ...]) -> None:
        """Cache a block the node just committed, with its receipts."""
        with self._lock:
            entry = self._entries.get(block.hash)
        (entry or self._put(block, None)).receipts = list(receipts)

    def _put(self, block: Block, receipts: list[Receipt] | None) -> _Entry:
        root = self._root
        with self._lock:
            found = self._entries.get(block.hash)
            if found is not None:
                return found
            entry = _Entry(block, receipts)
            self._entries[block.hash] = entry
            self._hashes[block.number] = block.hash
            root._cached_transactions += len(block.transactions)
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_blocks or root._cached_transactions > self.max_transactions
            ):
                _, old = self._entries.popitem(last=False)
                if self._hashes.get(old.block.number) == old.block.hash:
                    del self._hashes[old.block.number]
                root._cached_transactions -= len(old.block.transactions)
            return entry
