"""Choosing a block's transactions from the pool (the pool's structures, read-only)."""

from __future__ import annotations

import heapq

from ..chain.state import StateReader
from ..chain.transactions import TX_GAS, Transaction


def select_transactions(
    senders: dict, pool_size: int, state: StateReader, base_fee: int, gas_limit: int, limit: int
) -> list[Transaction]:
    """A block's transactions: the highest effective tip first across senders, nonce order within.

    A sender stops at a fee cap below `base_fee`, at a transaction larger than the gas left, or
    when its balance (less the upfront cost of what was already picked) cannot pay. Equal tips
    go to the sender whose current transaction became its next one earliest. `senders` maps an
    address to the pool's per-sender record (txs by nonce, state nonce, end of the pending run).
    """
    # Heap keys are ints, -tip << bits | index into `cands`: several times faster than tuples
    # over 50,000 senders. `senders` is kept in the order their heads became heads (FIFO ties).
    bits = (pool_size + 1).bit_length()
    mask = (1 << bits) - 1
    keys: list[int] = []
    cands: list[Transaction] = []
    for s in senders.values():
        if s.pending_end > s.nonce:
            tx = s.txs[s.nonce]
            headroom = tx.max_fee_per_gas - base_fee
            if headroom >= 0:
                tip = tx.max_priority_fee_per_gas
                keys.append((-(tip if tip < headroom else headroom) << bits) + len(cands))
                cands.append(tx)
    heapq.heapify(keys)
    pop, push, get_account = heapq.heappop, heapq.heappush, state.get_account
    chosen: list[Transaction] = []
    balances: dict[bytes, int] = {}
    gas_left = gas_limit
    while keys and gas_left >= TX_GAS and len(chosen) < limit:
        tx = cands[pop(keys) & mask]
        addr, nonce = tx.sender, tx.nonce
        balance = balances.get(addr)
        if balance is None:
            account = get_account(addr)
            balance = account.balance
            if account.nonce != nonce:
                # The pool has not seen this sender's last block: restart at the state nonce.
                nonce, tx = account.nonce - 1, None
        if tx is not None:
            cost = tx.upfront_cost
            if tx.gas > gas_left or cost > balance:
                continue
            balance -= cost
            gas_left -= tx.gas
            chosen.append(tx)
        balances[addr] = balance
        after = senders[addr].txs.get(nonce + 1)
        if after is not None:
            headroom = after.max_fee_per_gas - base_fee
            if headroom >= 0:
                tip = after.max_priority_fee_per_gas
                push(keys, (-(tip if tip < headroom else headroom) << bits) + len(cands))
                cands.append(after)
    return chosen
