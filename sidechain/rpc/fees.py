"""Fee suggestions: eth_maxPriorityFeePerGas, eth_gasPrice and eth_feeHistory.

The suggested tip follows go-ethereum's gas price oracle: from each of the last 20 blocks take the
3 lowest effective tips (ignoring the proposer's own transactions and tips under 2 wei), and
suggest the 60th percentile of those samples, capped at 500 gwei. When the last 20 blocks hold no
transaction at all the chain is idle and any tip gets included; the suggestion is then 1 gwei,
go-ethereum's default, so a wallet's first transaction is not priced at zero tip. The suggestion
is never below the pool's minimum tip, so following it never gets a transaction refused.
The base fee comes from the chain itself (EIP-1559 with the genesis floor).

Per-block samples and rewards are cached by block hash: blocks are final, so they never change.
"""

from __future__ import annotations

from collections import OrderedDict

from ..chain.blocks import Block, Header
from ..chain.execution import next_base_fee
from ..errors import UnknownBlock
from .reader import ChainView

GWEI = 10**9
ORACLE_BLOCKS = 20
ORACLE_PERCENTILE = 60
SAMPLES_PER_BLOCK = 3
IGNORE_TIPS_BELOW = 2
IDLE_TIP = GWEI
MAX_TIP = 500 * GWEI
MAX_HISTORY_BLOCKS = 1024
CACHE_ENTRIES = 2048


class _Lru(OrderedDict):
    def remember(self, key, value):
        self[key] = value
        if len(self) > CACHE_ENTRIES:
            self.popitem(last=False)
        return value


class FeeOracle:
    """Tip suggestion and fee history over a ChainView; see the module docstring."""

    def __init__(self, view: ChainView, min_tip: int = 0) -> None:
        self.view = view
        self.min_tip = min_tip
        self._samples = _Lru()
        self._rewards = _Lru()
        self._suggestion: tuple[Header, int] | None = None

    def fork(self, view: ChainView) -> "FeeOracle":
        """An oracle over `view` (a snapshot's) sharing the per-block caches: blocks are final."""
        oracle = FeeOracle(view, self.min_tip)
        oracle._samples, oracle._rewards = self._samples, self._rewards
        return oracle

    def suggested_tip(self) -> int:
        head = self.view.head
        if self._suggestion is not None and self._suggestion[0] is head:
            return self._suggestion[1]
        samples: list[int] = []
        for number in range(head.number, max(head.number - ORACLE_BLOCKS, 0), -1):
            samples.extend(self._block_samples(number))
        if samples:
            samples.sort()
            tip = min(samples[(len(samples) - 1) * ORACLE_PERCENTILE // 100], MAX_TIP)
        else:
            tip = IDLE_TIP
        tip = max(tip, self.min_tip)
        self._suggestion = (head, tip)
        return tip

    def gas_price(self) -> int:
        """A legacy gasPrice that gets included in the next block: next base fee + suggested tip."""
        return self.view.chain.next_base_fee() + self.suggested_tip()

    def _block_samples(self, number: int) -> tuple[int, ...]:
        header = self.view.chain.header_by_number(number)
        if header is None or header.gas_used == 0:
            return ()
        key = (header.transactions_root, number)
        cached = self._samples.get(key)
        if cached is not None:
            return cached
        block = self.view.block_by_number(number)
        tips = sorted(
            tip
            for tx in (block.transactions if block is not None else ())
            if tx.sender != header.proposer and (tip := tx.effective_tip(header.base_fee)) >= IGNORE_TIPS_BELOW
        )
        return self._samples.remember(key, tuple(tips[:SAMPLES_PER_BLOCK]))

    # --- eth_feeHistory ------------------------------------------------------------------------

    def fee_history(self, block_count: int, newest: int | str, percentiles: tuple[float, ...]) -> dict:
        head = self.view.head
        newest_number = self.view.number_of(newest)
        if newest_number > head.number:
            raise UnknownBlock(f"request beyond head block: requested {newest_number}, head is {head.number}")
        block_count = min(block_count, MAX_HISTORY_BLOCKS, newest_number + 1)
        oldest = newest_number - block_count + 1
        base_fees: list[str] = []
        ratios: list[float] = []
        rewards: list[list[str]] = []
        header = None
        for number in range(oldest, newest_number + 1):
            header = self.view.chain.header_by_number(number)
            if header is None:
                raise UnknownBlock(f"header not found: block number {number}")
            base_fees.append(hex(header.base_fee))
            ratios.append(header.gas_used / header.gas_limit if header.gas_limit else 0.0)
            if percentiles:
                rewards.append([hex(r) for r in self._block_rewards(header, percentiles)])
        if header is not None:
            base_fees.append(hex(next_base_fee(header, self.view.chain.genesis.base_fee)))
        result: dict = {
            "oldestBlock": hex(oldest if block_count else 0),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
        }
        if percentiles:
            result["reward"] = rewards
        return result

    def _block_rewards(self, header: Header, percentiles: tuple[float, ...]) -> list[int]:
        """go-ethereum's rewards: the effective tip at each percentile of the block's gas used."""
        if header.gas_used == 0:
            return [0] * len(percentiles)
        key = (header.transactions_root, header.number, percentiles)
        cached = self._rewards.get(key)
        if cached is not None:
            return cached
        block = self.view.block_by_number(header.number)
        return self._rewards.remember(key, block_rewards(block, self.view.receipts(block), percentiles))


def block_rewards(block: Block | None, receipts, percentiles: tuple[float, ...]) -> list[int]:
    if block is None or not block.transactions:
        return [0] * len(percentiles)
    base_fee = block.header.base_fee
    ordered = sorted(
        (tx.effective_tip(base_fee), receipt.gas_used) for tx, receipt in zip(block.transactions, receipts)
    )
    rewards = []
    index = 0
    gas_sum = ordered[0][1]
    for p in percentiles:
        threshold = int(block.header.gas_used * p / 100)
        while gas_sum < threshold and index < len(ordered) - 1:
            index += 1
            gas_sum += ordered[index][1]
        rewards.append(ordered[index][0])
    return rewards
