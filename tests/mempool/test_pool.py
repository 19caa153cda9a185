"""The transaction pool against real signed transactions: pre (pool and state), input, post.
Nonces, prices, funds and limits; what a block takes and the upkeep after it: test_pool_selection.py."""

from __future__ import annotations

import pytest

from sidechain.chain.state import Account
from sidechain.errors import (
    AlreadyKnown, FeeCapTooLow, InsufficientFunds, NonceTooLow, ReplacementUnderpriced, TxPoolOverflow, Underpriced,
)
from sidechain.mempool.pool import Mempool

from pool_support import BASE_FEE, GWEI, RICH, addr, fill, held, state, tx


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
