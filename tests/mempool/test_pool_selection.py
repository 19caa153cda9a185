"""The transaction pool's block side against real signed transactions: what `select` hands a
proposal, and the upkeep after a block (`on_block`, stale eviction, `add_many`)."""

from __future__ import annotations

from sidechain.chain.state import Account
from sidechain.errors import AlreadyKnown, NonceTooLow
from sidechain.mempool.pool import Mempool

from pool_support import BASE_FEE, GWEI, RICH, addr, fill, held, state, tx


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
