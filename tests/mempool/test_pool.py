"""The transaction pool against real signed transactions: pre (pool and state), input, post."""

from __future__ import annotations

from functools import cache

import pytest
from eth_account import Account as EthAccount

from sidechain.chain.state import Account, MemoryState
from sidechain.chain.transactions import Transaction, decode_transaction
from sidechain.errors import (
    AlreadyKnown, FeeCapTooLow, InsufficientFunds, NonceTooLow, ReplacementUnderpriced, TxPoolOverflow, Underpriced,
)
from sidechain.mempool.pool import Mempool

CHAIN_ID = 7070
GWEI = 10**9
BASE_FEE = 1 * GWEI
RICH = 10**24
TO = "0x" + "22" * 20
KEYS = {name: bytes([i + 1]) * 32 for i, name in enumerate("ABCDE")}


@cache
def _signer(name: str):
    return EthAccount.from_key(KEYS[name])


def addr(name: str) -> bytes:
    return bytes.fromhex(_signer(name).address[2:])


@cache
def tx(name: str, nonce: int, tip: int = 2 * GWEI, cap: int = 100 * GWEI, gas: int = 21_000, value: int = 0):
    """A signed EIP-1559 transfer, decoded as the node decodes it; cached across tests."""
    signed = _signer(name).sign_transaction({
        "type": 2, "chainId": CHAIN_ID, "nonce": nonce, "maxPriorityFeePerGas": tip, "maxFeePerGas": cap,
        "gas": gas, "to": TO, "value": value,
    })
    return decode_transaction(bytes(signed.raw_transaction), CHAIN_ID)


def state(**accounts: tuple[int, int]) -> MemoryState:
    """Every test sender rich at nonce 0, overridden by name=(nonce, balance)."""
    base = {addr(name): Account(0, RICH) for name in KEYS}
    base.update({addr(name): Account(nonce, balance) for name, (nonce, balance) in accounts.items()})
    return MemoryState(base)


def fill(pool: Mempool, st: MemoryState, *txs: Transaction, now: float = 0.0) -> None:
    for t in txs:
        pool.add(t, st, BASE_FEE, now)


def held(pool: Mempool) -> tuple[dict, dict]:
    """content() as {name: [nonces]}, for readable assertions."""
    names = {addr(n): n for n in KEYS}
    return tuple({names[a]: sorted(txs) for a, txs in part.items()} for part in pool.content())


# --- nonces ---------------------------------------------------------------------------------------


def test_contiguous_nonces_are_pending():
    pool, st = Mempool(), state()

    fill(pool, st, tx("A", 0), tx("A", 1), tx("A", 2))

    assert held(pool) == ({"A": [0, 1, 2]}, {})
    assert (len(pool), pool.pending_count, pool.queued_count) == (3, 3, 0)
    assert pool.pending_nonce(addr("A"), st) == 3
    assert pool.pending_nonce(addr("B"), st) == 0
    assert pool.get(tx("A", 1).hash) == tx("A", 1)


def test_gap_is_queued_then_promoted_when_filled():
    pool, st = Mempool(), state()
    fill(pool, st, tx("A", 0), tx("A", 2), tx("A", 3))
    assert held(pool) == ({"A": [0]}, {"A": [2, 3]})
    assert pool.pending_nonce(addr("A"), st) == 1

    fill(pool, st, tx("A", 1))

    assert held(pool) == ({"A": [0, 1, 2, 3]}, {})
    assert (pool.pending_count, pool.queued_count) == (4, 0)


def test_gap_is_promoted_by_a_block_from_elsewhere():
    pool, st = Mempool(), state()
    fill(pool, st, tx("A", 1), tx("A", 2))
    assert held(pool) == ({}, {"A": [1, 2]})

    st.accounts[addr("A")] = Account(1, RICH)
    pool.on_block([tx("A", 0)], st, BASE_FEE, now=1.0)

    assert held(pool) == ({"A": [1, 2]}, {})
    assert pool.pending_count == 2


def test_nonce_below_state_nonce_is_refused():
    pool, st = Mempool(), state(A=(5, RICH))

    with pytest.raises(NonceTooLow, match="^nonce too low: next nonce 5, tx nonce 4$"):
        pool.add(tx("A", 4), st, BASE_FEE, 0.0)


def test_same_transaction_twice_is_already_known():
    pool, st = Mempool(), state()
    fill(pool, st, tx("A", 0))

    with pytest.raises(AlreadyKnown, match="^already known$"):
        pool.add(tx("A", 0), st, BASE_FEE, 0.0)


# --- prices ---------------------------------------------------------------------------------------


def test_fee_cap_below_base_fee_is_refused():
    pool, st = Mempool(), state()
    low = tx("A", 0, tip=1, cap=5 * GWEI)

    with pytest.raises(FeeCapTooLow) as err:
        pool.add(low, st, 6 * GWEI, 0.0)

    assert str(err.value) == (
        f"max fee per gas less than block base fee: address 0x{addr('A').hex()}, "
        f"maxFeePerGas: {5 * GWEI}, baseFee: {6 * GWEI}"
    )


def test_tip_below_minimum_is_underpriced():
    pool, st = Mempool(min_tip=GWEI), state()

    with pytest.raises(Underpriced, match=f"^transaction underpriced: tip {GWEI - 1}, minimum {GWEI}$"):
        pool.add(tx("A", 0, tip=GWEI - 1), st, BASE_FEE, 0.0)
    pool.add(tx("A", 0, tip=GWEI), st, BASE_FEE, 0.0)
    assert len(pool) == 1


def test_replacement_needs_ten_percent_on_both_fees():
    pool, st = Mempool(), state()
    old = tx("A", 0, tip=10 * GWEI, cap=100 * GWEI)
    fill(pool, st, old, tx("A", 1))

    for weak in (
        tx("A", 0, tip=10_900_000_000, cap=109 * GWEI),  # 9% on both
        tx("A", 0, tip=11 * GWEI, cap=109 * GWEI),  # 10% on the tip only
        tx("A", 0, tip=10_900_000_000, cap=200 * GWEI),  # 10% on the cap only
    ):
        with pytest.raises(ReplacementUnderpriced, match="^replacement transaction underpriced$"):
            pool.add(weak, st, BASE_FEE, 0.0)
    new = tx("A", 0, tip=11 * GWEI, cap=110 * GWEI)
    pool.add(new, st, BASE_FEE, 0.0)

    assert pool.get(old.hash) is None and pool.get(new.hash) == new
    assert held(pool) == ({"A": [0, 1]}, {})
    assert len(pool) == 2


# --- funds ----------------------------------------------------------------------------------------


def test_balance_must_cover_gas_times_fee_cap_plus_value():
    cost = 21_000 * 100 * GWEI + 5
    pool, st = Mempool(), state(A=(0, cost - 1))

    with pytest.raises(InsufficientFunds) as err:
        pool.add(tx("A", 0, value=5), st, BASE_FEE, 0.0)

    assert str(err.value) == (
        f"insufficient funds for gas * price + value: balance {cost - 1}, tx cost {cost}, overshot 1"
    )


def test_balance_must_cover_lower_nonces_too():
    cost = 21_000 * 100 * GWEI
    pool, st = Mempool(), state(A=(0, 2 * cost))
    fill(pool, st, tx("A", 0), tx("A", 1))

    with pytest.raises(InsufficientFunds) as err:
        pool.add(tx("A", 2), st, BASE_FEE, 0.0)

    assert str(err.value) == (
        f"insufficient funds for gas * price + value: balance {2 * cost}, queued cost {2 * cost}, "
        f"tx cost {cost}, overshot {cost}"
    )
    assert held(pool) == ({"A": [0, 1]}, {})


def test_filling_a_gap_drops_later_nonces_the_balance_no_longer_covers():
    cost = 21_000 * 100 * GWEI
    pool, st = Mempool(), state(A=(0, 2 * cost))
    fill(pool, st, tx("A", 0), tx("A", 2))

    fill(pool, st, tx("A", 1))

    assert held(pool) == ({"A": [0, 1]}, {})
    assert pool.get(tx("A", 2).hash) is None


# --- limits ---------------------------------------------------------------------------------------


def test_per_sender_limit():
    pool, st = Mempool(max_per_sender=3), state()
    fill(pool, st, tx("A", 0), tx("A", 1), tx("A", 2))

    with pytest.raises(TxPoolOverflow) as err:
        pool.add(tx("A", 3), st, BASE_FEE, 0.0)

    assert str(err.value) == f"txpool is full: sender 0x{addr('A').hex()} has 3 transactions, limit 3"
    fill(pool, st, tx("B", 0))
    assert len(pool) == 4


def test_per_sender_queued_limit():
    pool, st = Mempool(max_queued_per_sender=2), state()
    fill(pool, st, tx("A", 0), tx("A", 2), tx("A", 3))

    with pytest.raises(TxPoolOverflow, match="has 2 queued transactions, limit 2$"):
        pool.add(tx("A", 4), st, BASE_FEE, 0.0)
    fill(pool, st, tx("A", 1))  # fills the gap: not queued

    assert held(pool) == ({"A": [0, 1, 2, 3]}, {})


def test_full_pool_evicts_the_cheapest_tail_of_another_sender():
    pool, st = Mempool(max_total=3), state()
    fill(pool, st, tx("A", 0, tip=1 * GWEI), tx("A", 1, tip=1 * GWEI), tx("B", 0, tip=3 * GWEI))

    fill(pool, st, tx("C", 0, tip=2 * GWEI))

    assert held(pool) == ({"A": [0], "B": [0], "C": [0]}, {})
    assert pool.get(tx("A", 1, tip=1 * GWEI).hash) is None


def test_full_pool_refuses_an_equal_tip():
    pool, st = Mempool(max_total=2), state()
    fill(pool, st, tx("A", 0, tip=2 * GWEI), tx("B", 0, tip=2 * GWEI))

    with pytest.raises(TxPoolOverflow, match="^txpool is full$"):
        pool.add(tx("C", 0, tip=2 * GWEI), st, BASE_FEE, 0.0)

    assert held(pool) == ({"A": [0], "B": [0]}, {})


def test_full_pool_never_evicts_the_newcomers_own_sender():
    pool, st = Mempool(max_total=2), state()
    fill(pool, st, tx("A", 0, tip=1 * GWEI), tx("A", 1, tip=1 * GWEI))

    with pytest.raises(TxPoolOverflow, match="^txpool is full$"):
        pool.add(tx("A", 2, tip=9 * GWEI), st, BASE_FEE, 0.0)


def test_full_pool_evicts_queued_before_pending():
    pool, st = Mempool(max_total=2), state()
    fill(pool, st, tx("A", 0, tip=1 * GWEI), tx("B", 1, tip=3 * GWEI))

    fill(pool, st, tx("C", 0, tip=4 * GWEI))

    assert held(pool) == ({"A": [0], "C": [0]}, {})


def test_full_pool_queued_newcomer_cannot_evict_pending():
    pool, st = Mempool(max_total=2), state()
    fill(pool, st, tx("A", 0, tip=1 * GWEI), tx("B", 0, tip=1 * GWEI))

    with pytest.raises(TxPoolOverflow, match="^txpool is full$"):
        pool.add(tx("C", 1, tip=9 * GWEI), st, BASE_FEE, 0.0)


def test_eviction_ranks_by_effective_tip_at_the_current_base_fee():
    pool, st = Mempool(max_total=2), state()
    # At base fee 1 gwei A tips 5 and B tips 3; at 8 gwei A's cap leaves it only 2.
    fill(pool, st, tx("A", 0, tip=5 * GWEI, cap=10 * GWEI), tx("B", 0, tip=3 * GWEI))

    pool.add(tx("C", 0, tip=3 * GWEI), st, 8 * GWEI, 0.0)

    assert held(pool) == ({"B": [0], "C": [0]}, {})


# --- select ---------------------------------------------------------------------------------------


def test_select_orders_by_tip_across_senders_and_by_nonce_within():
    pool, st = Mempool(), state()
    a0, a1 = tx("A", 0, tip=3 * GWEI), tx("A", 1, tip=10 * GWEI)
    b0, b1 = tx("B", 0, tip=5 * GWEI), tx("B", 1, tip=1 * GWEI)
    fill(pool, st, a1, a0, b1, b0, tx("C", 1))

    block = pool.select(st, BASE_FEE, gas_limit=30_000_000)

    assert block == [b0, a0, a1, b1]


def test_select_breaks_tip_ties_first_come_first_served():
    pool, st = Mempool(), state()
    fill(pool, st, tx("C", 0), tx("B", 0), tx("B", 1), tx("A", 0))

    st.accounts[addr("C")] = Account(1, RICH)
    pool.on_block([tx("C", 0)], st, BASE_FEE, now=1.0)
    fill(pool, st, tx("C", 1))

    # Equal tips: heads in the order they became heads (C's new head after the block queues last),
    # and a sender's next transaction behind the heads already waiting.
    assert pool.select(st, BASE_FEE, gas_limit=30_000_000) == [tx("B", 0), tx("A", 0), tx("C", 1), tx("B", 1)]


def test_select_skips_what_does_not_fit_and_stops_below_21000_gas():
    pool, st = Mempool(), state()
    a0, b0, c0 = tx("A", 0, tip=9 * GWEI), tx("B", 0, tip=5 * GWEI, gas=60_000), tx("C", 0, tip=1 * GWEI)
    b1 = tx("B", 1, tip=5 * GWEI)
    fill(pool, st, a0, b0, b1, c0)

    assert pool.select(st, BASE_FEE, gas_limit=70_000) == [a0, c0]
    assert pool.select(st, BASE_FEE, gas_limit=81_000) == [a0, b0]
    assert pool.select(st, BASE_FEE, gas_limit=30_000_000, max_count=3) == [a0, b0, b1]


def test_select_stops_a_sender_its_balance_cannot_pay():
    cost = 21_000 * 100 * GWEI
    pool, st = Mempool(), state()
    fill(pool, st, tx("A", 0), tx("A", 1), tx("A", 2), tx("B", 0, tip=1 * GWEI))

    st.accounts[addr("A")] = Account(0, 2 * cost)
    block = pool.select(st, BASE_FEE, gas_limit=30_000_000)

    assert block == [tx("A", 0), tx("A", 1), tx("B", 0, tip=1 * GWEI)]


def test_select_skips_fee_caps_below_base_fee_and_the_nonces_after():
    pool, st = Mempool(), state()
    a0, a1 = tx("A", 0, tip=1 * GWEI, cap=5 * GWEI), tx("A", 1)
    b0, b1 = tx("B", 0, tip=1 * GWEI), tx("B", 1, tip=1 * GWEI, cap=5 * GWEI)
    fill(pool, st, a0, a1, b0, b1)

    assert pool.select(st, 6 * GWEI, gas_limit=30_000_000) == [b0]


def test_select_starts_at_the_state_nonce_when_the_pool_lags():
    pool, st = Mempool(), state()
    fill(pool, st, tx("A", 0), tx("A", 1), tx("A", 2))

    st.accounts[addr("A")] = Account(2, RICH)

    assert pool.select(st, BASE_FEE, gas_limit=30_000_000) == [tx("A", 2)]


# --- upkeep ---------------------------------------------------------------------------------------


def test_on_block_drops_included_and_outdated_nonces():
    pool, st = Mempool(), state()
    b0_ours, b0_theirs = tx("B", 0, tip=1 * GWEI), tx("B", 0, tip=7 * GWEI)
    fill(pool, st, tx("A", 0), tx("A", 1), tx("A", 2), b0_ours, tx("B", 1), tx("C", 0))

    st.accounts[addr("A")] = Account(2, RICH)
    st.accounts[addr("B")] = Account(1, RICH)
    pool.on_block([tx("A", 0), tx("A", 1), b0_theirs], st, BASE_FEE, now=1.0)

    assert held(pool) == ({"A": [2], "B": [1], "C": [0]}, {})
    assert pool.get(b0_ours.hash) is None and pool.get(tx("A", 0).hash) is None
    assert (len(pool), pool.pending_count) == (3, 3)


def test_on_block_drops_what_the_new_balance_cannot_pay():
    cost = 21_000 * 100 * GWEI
    pool, st = Mempool(), state()
    fill(pool, st, tx("A", 0), tx("A", 1), tx("A", 2), tx("A", 3))

    st.accounts[addr("A")] = Account(1, 2 * cost)
    pool.on_block([tx("A", 0)], st, BASE_FEE, now=1.0)

    assert held(pool) == ({"A": [1, 2]}, {})


def test_on_block_keeps_fee_caps_below_the_new_base_fee():
    pool, st = Mempool(), state()
    fill(pool, st, tx("A", 0), tx("B", 0, tip=1, cap=2 * GWEI))

    st.accounts[addr("A")] = Account(1, RICH)
    pool.on_block([tx("A", 0)], st, 3 * GWEI, now=1.0)

    assert held(pool) == ({"B": [0]}, {})
    assert pool.select(st, 3 * GWEI, gas_limit=30_000_000) == []
    assert pool.select(st, 2 * GWEI, gas_limit=30_000_000) == [tx("B", 0, tip=1, cap=2 * GWEI)]


def test_evict_stale_drops_only_queued_past_their_lifetime():
    pool, st = Mempool(queued_lifetime=100.0), state()
    fill(pool, st, tx("A", 0), tx("A", 2), now=0.0)
    fill(pool, st, tx("B", 1), now=50.0)

    assert pool.evict_stale(now=100.0) == []
    dropped = pool.evict_stale(now=120.0)

    assert dropped == [tx("A", 2)]
    assert held(pool) == ({"A": [0]}, {"B": [1]})
    assert pool.evict_stale(now=151.0) == [tx("B", 1)]
    assert (len(pool), pool.pending_count, pool.queued_count) == (1, 1, 0)


def test_add_many_reports_per_transaction():
    pool, st = Mempool(), state(B=(3, RICH))

    results = pool.add_many([tx("A", 0), tx("A", 0), tx("B", 1)], st, BASE_FEE, 0.0)

    assert results[0] is None
    assert isinstance(results[1], AlreadyKnown) and isinstance(results[2], NonceTooLow)
