"""Otterscan's address history (the `ots_` namespace Erigon serves), over the address index
(storage/address_index.py).

    ots_searchTransactionsBefore(address, blockNumber, pageSize)   blocks < blockNumber (0: from the head)
    ots_searchTransactionsAfter(address, blockNumber, pageSize)    blocks > blockNumber (0: from genesis)

Both answer `{"txs", "receipts", "firstPage", "lastPage"}` newest first, as Otterscan's do; each
receipt carries its block's `timestamp`. `pageSize` is a hint: a page never splits a block, so it
ends with the whole block where it filled up. `firstPage`: nothing newer than this page touches
the address; `lastPage`: nothing older does.

`ots_getApiLevel` is not served: answering Otterscan's level 8 would promise the rest of its
namespace (traces, block details), which this node does not serve.
"""

from __future__ import annotations

from ..storage.address_index import TxLocation
from . import codec
from .errors import BadParam, InvalidParams
from .views import receipt_view, transaction_view

MAX_PAGE_SIZE = 100


def json_quantity(value: object) -> int:
    """A block number or page size: a JSON integer (as Otterscan sends) or a hex quantity."""
    if type(value) is int and 0 <= value < 2**64:
        return value
    try:
        return codec.uint64(value)
    except BadParam:
        raise BadParam(f"expected a non-negative integer or hex quantity, got {codec._show(value)}") from None


def _check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidParams(f"invalid argument 2 (pageSize): expected 1 to {MAX_PAGE_SIZE} transactions per page, got {page_size}")


def ots_searchTransactionsBefore(ctx, address: bytes, block: int, page_size: int) -> dict:
    _check_page_size(page_size)
    head = ctx.chain.head.number
    index = ctx.chain.address_index()
    before = head + 1 if block == 0 else min(block, head + 1)
    found, reached_genesis = index.page(address, 0, before - 1, page_size, newest_first=True)
    newer = block != 0 and index.any_in(address, before, head)
    return _page(ctx, found, first_page=not newer, last_page=reached_genesis)


def ots_searchTransactionsAfter(ctx, address: bytes, block: int, page_size: int) -> dict:
    _check_page_size(page_size)
    head = ctx.chain.head.number
    index = ctx.chain.address_index()
    found, reached_head = index.page(address, block + 1, head, page_size, newest_first=False)
    older = block != 0 and index.any_in(address, 0, min(block, head))
    found.reverse()
    return _page(ctx, found, first_page=reached_head, last_page=not older)


def _page(ctx, locations: list[TxLocation], *, first_page: bool, last_page: bool) -> dict:
    """The transactions and receipts at `locations` (newest first)."""
    txs, receipts = [], []
    view = ctx.view
    for location in locations:
        block = view.block_by_number(location.number)
        if block is None or location.index >= len(block.transactions):
            continue  # unreachable: the index is written with its block
        block_receipts = view.receipts(block)
        i = location.index
        tx = block.transactions[i]
        txs.append(transaction_view(tx, block.hash, block.number, i, block.header.base_fee))
        first_log = sum(len(r.logs) for r in block_receipts[:i])
        receipt = receipt_view(tx, block_receipts[i], block.hash, block.number, i, first_log)
        receipt["timestamp"] = hex(block.header.timestamp)
        receipts.append(receipt)
    return {"txs": txs, "receipts": receipts, "firstPage": first_page, "lastPage": last_page}
