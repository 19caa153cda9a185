"""Log filters: eth_getLogs over a block range and the `logs` subscription.

A filter matches a log when the log's address is one of the filter's addresses (any, if none
given) and, for every topic position the filter constrains, the log's topic there is one of the
allowed ones. The header's logs bloom rules out most blocks without reading their receipts.

A range query checks the running call's budget (`budget.py`) at every block it reads and charges
the size its logs will take in the answer, so one over its time or size stops where it stands.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..chain.blocks import Block, Log, Receipt
from ..chain.bloom import EMPTY_BLOOM, bloom_may_contain
from . import budget
from .codec import LogQuery
from .errors import InvalidParams, LimitExceeded
from .reader import ChainView
from .views import log_view

MAX_BLOCK_RANGE = 10_000
MAX_RESULTS = 10_000


@dataclass(frozen=True, slots=True)
class LogFilter:
    addresses: frozenset[bytes] | None = None
    """Any of these emitters; None for any emitter."""
    topics: tuple[frozenset[bytes] | None, ...] = ()
    """Per position: any of these topics; None for any topic."""

    @classmethod
    def of(cls, query: LogQuery) -> "LogFilter":
        return cls(query.addresses, query.topics)

    def matches(self, log: Log) -> bool:
        if self.addresses is not None and log.address not in self.addresses:
            return False
        if len(log.topics) < len(self.topics):
            return False
        for wanted, topic in zip(self.topics, log.topics):
            if wanted is not None and topic not in wanted:
                return False
        return True

    def bloom_may_match(self, bloom: bytes) -> bool:
        """False when the block certainly holds no matching log."""
        if bloom == EMPTY_BLOOM:
            return False
        if self.addresses is not None and not any(bloom_may_contain(bloom, a) for a in self.addresses):
            return False
        for wanted in self.topics:
            if wanted is not None and not any(bloom_may_contain(bloom, t) for t in wanted):
                return False
        return True

    def block_logs(self, block: Block, receipts: list[Receipt] | tuple[Receipt, ...]) -> Iterator[dict]:
        """The views of the block's matching logs, in order, with block-wide log indices."""
        log_index = 0
        for tx_index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
            for log in receipt.logs:
                if self.matches(log):
                    yield log_view(log, block.hash, block.number, tx.hash, tx_index, log_index)
                log_index += 1


def get_logs(
    view: ChainView, query: LogQuery, max_range: int = MAX_BLOCK_RANGE, max_results: int = MAX_RESULTS
) -> list[dict]:
    """eth_getLogs: matching logs of one block (blockHash) or of a range of blocks."""
    log_filter = LogFilter.of(query)
    if query.block_hash is not None:
        block = view.block_by_hash(query.block_hash)
        if block is None:
            view.require_header(query.block_hash)  # raises UnknownBlock with the hash
            return []
        if not log_filter.bloom_may_match(block.header.logs_bloom):
            return []
        return list(log_filter.block_logs(block, view.receipts(block)))
    head = view.head.number
    first = view.number_of(query.from_block)
    last = view.number_of(query.to_block)
    if first > last:
        raise InvalidParams(f"invalid block range: fromBlock {first} is after toBlock {last}")
    last = min(last, head)
    if first > last:
        return []
    if last - first + 1 > max_range:
        raise LimitExceeded(
            f"query exceeds max block range {max_range}: blocks {first} to {last} are {last - first + 1} blocks"
        )
    results: list[dict] = []
    running = budget.current()
    for number in range(first, last + 1):
        if running is not None:
            running.check()
        header = view.chain.header_by_number(number)
        if header is None or not log_filter.bloom_may_match(header.logs_bloom):
            continue
        block = view.block_by_number(number)
        if block is None:
            continue
        found = len(results)
        results.extend(log_filter.block_logs(block, view.receipts(block)))
        if running is not None:
            running.charge(sum(_view_size(entry) for entry in results[found:]))
        if len(results) > max_results:
            raise LimitExceeded(
                f"query returned more than {max_results} results: narrow the block range "
                f"(the limit was reached at block {number})"
            )
    return results


def _view_size(entry: dict) -> int:
    """Bytes of a log view in JSON, near enough (fixed fields ~330, each topic 69)."""
    return 330 + 69 * len(entry["topics"]) + len(entry["data"])
