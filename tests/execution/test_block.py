"""The state transition on an in-memory state: exact balances and nonces after transfers (EIP-1559
burn, tip to the proposer), the per-block errors that leave the state unchanged, proposing vs
checking, determinism, and the EIP-1559 base fee update.

Each test reads pre (accounts, block environment) / input (transactions) / post (accounts,
receipts). Expected numbers are written out from the rules, not taken from the code under test.
"""

from __future__ import annotations

import re

import pytest
from eth_account import Account as EthAccount
from eth_utils import to_checksum_address

from sidechain.chain.blocks import ZERO_HASH, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.execution import BlockEnv, next_base_fee
from sidechain.execution.block import execute_transactions
from sidechain.chain.state import Account, MemoryState
from sidechain.chain.transactions import decode_transaction
from sidechain.errors import (
    FeeCapTooLow,
    GasLimitExceeded,
    InsufficientFunds,
    InvalidTransaction,
    NonceTooHigh,
    NonceTooLow,
)

CHAIN_ID = 7070
GWEI = 10**9
ETH = 10**18

ALICE_KEY = b"\x01" * 32
BOB_KEY = b"\x02" * 32
ALICE = bytes.fromhex(EthAccount.from_key(ALICE_KEY).address[2:])
BOB = bytes.fromhex(EthAccount.from_key(BOB_KEY).address[2:])
CAROL = b"\xca" * 20
PROPOSER = b"\x9a" * 20

BASE_FEE = 7 * GWEI
ENV = BlockEnv(chain_id=CHAIN_ID, number=5, timestamp=1_700_000_000, proposer=PROPOSER, base_fee=BASE_FEE, gas_limit=30_000_000)


def transfer(key: bytes = ALICE_KEY, *, nonce: int = 0, to: bytes = CAROL, value: int = 1_000, gas: int = 21_000,
             tip: int = 2 * GWEI, cap: int = 100 * GWEI, data: bytes = b"", legacy_price: int | None = None):
    """A wallet-signed transfer (EIP-1559 unless `legacy_price` is given), decoded."""
    fields = {"chainId": CHAIN_ID, "nonce": nonce, "gas": gas, "to": to_checksum_address(to), "value": value, "data": data}
    if legacy_price is None:
        fields.update(type=2, maxPriorityFeePerGas=tip, maxFeePerGas=cap)
    else:
        fields.update(gasPrice=legacy_price)
    raw = bytes(EthAccount.from_key(key).sign_transaction(fields).raw_transaction)
    return decode_transaction(raw, CHAIN_ID)


def funded(**balances) -> MemoryState:
    named = {"alice": ALICE, "bob": BOB, "carol": CAROL, "proposer": PROPOSER}
    return MemoryState({named[k]: Account(0, v) for k, v in balances.items()})


def balance(state: MemoryState, address: bytes) -> int:
    return state.get_account(address).balance


def total_supply(state: MemoryState) -> int:
    return sum(a.balance for a in state.accounts.values())


def run(state: MemoryState, txs, env: BlockEnv = ENV, skip_invalid: bool = False):
    result = execute_transactions(state, env, txs, skip_invalid=skip_invalid)
    state.apply(result.changes)
    return result


# --- transfers ----------------------------------------------------------------------------------


def test_eip1559_transfer_exact_balances():
    state = funded(alice=10 * ETH)
    supply = total_supply(state)

    result = run(state, [transfer(value=3 * ETH, tip=2 * GWEI, cap=100 * GWEI)])

    # base fee 7 gwei + tip 2 gwei, over 21,000 gas
    assert balance(state, ALICE) == 10 * ETH - 3 * ETH - 21_000 * 9 * GWEI
    assert balance(state, CAROL) == 3 * ETH
    assert balance(state, PROPOSER) == 21_000 * 2 * GWEI
    assert total_supply(state) == supply - 21_000 * 7 * GWEI
    assert state.get_account(ALICE).nonce == 1
    assert state.get_account(CAROL).nonce == 0
    assert result.gas_used == 21_000
    [receipt] = result.receipts
    assert (receipt.tx_type, receipt.status, receipt.cumulative_gas_used, receipt.gas_used) == (2, 1, 21_000, 21_000)
    assert receipt.effective_gas_price == 9 * GWEI
    assert receipt.logs == ()
    assert result.logs_bloom == EMPTY_BLOOM


def test_tip_is_capped_by_fee_cap_minus_base_fee():
    state = funded(alice=ETH)
    run(state, [transfer(tip=5 * GWEI, cap=8 * GWEI)])
    # only 1 gwei of the 5 gwei tip fits under the 8 gwei cap at a 7 gwei base fee
    assert balance(state, PROPOSER) == 21_000 * 1 * GWEI
    assert balance(state, ALICE) == ETH - 1_000 - 21_000 * 8 * GWEI


def test_legacy_transfer_pays_gas_price_and_tips_the_margin():
    state = funded(alice=ETH)
    supply = total_supply(state)

    result = run(state, [transfer(legacy_price=10 * GWEI, value=500)])

    assert balance(state, ALICE) == ETH - 500 - 21_000 * 10 * GWEI
    assert balance(state, CAROL) == 500
    assert balance(state, PROPOSER) == 21_000 * 3 * GWEI
    assert total_supply(state) == supply - 21_000 * 7 * GWEI
    assert result.receipts[0].tx_type == 0
    assert result.receipts[0].effective_gas_price == 10 * GWEI


def test_fee_cap_equal_to_base_fee_pays_no_tip():
    state = funded(alice=ETH)
    result = run(state, [transfer(tip=GWEI, cap=BASE_FEE)])
    assert PROPOSER not in state.accounts
    assert PROPOSER not in result.changes
    assert balance(state, ALICE) == ETH - 1_000 - 21_000 * 7 * GWEI


def test_calldata_costs_exactly_its_intrinsic_gas():
    state = funded(alice=ETH)
    data = b"\x00" * 5 + b"\x01" * 3  # 5 * 4 + 3 * 16 = 68
    result = run(state, [transfer(data=data, gas=50_000)])
    assert result.receipts[0].gas_used == 21_068
    assert balance(state, ALICE) == ETH - 1_000 - 21_068 * 9 * GWEI


def test_gas_limit_above_use_pays_only_gas_used():
    state = funded(alice=ETH)
    result = run(state, [transfer(gas=100_000)])
    assert result.gas_used == 21_000
    assert balance(state, ALICE) == ETH - 1_000 - 21_000 * 9 * GWEI
    assert balance(state, PROPOSER) == 21_000 * 2 * GWEI


def test_zero_value_transfer_does_not_touch_recipient():
    state = funded(alice=ETH)
    result = run(state, [transfer(value=0)])
    assert CAROL not in result.changes
    assert CAROL not in state.accounts


def test_several_transactions_nonces_and_cumulative_gas():
    state = funded(alice=ETH, bob=ETH)
    txs = [
        transfer(nonce=0, value=1),
        transfer(BOB_KEY, nonce=0, value=2, data=b"\x01", gas=30_000),
        transfer(nonce=1, value=3, to=BOB),
        transfer(nonce=2, value=4, data=b"\x00\x00", gas=30_000),
    ]

    result = run(state, txs)

    assert [r.gas_used for r in result.receipts] == [21_000, 21_016, 21_000, 21_008]
    assert [r.cumulative_gas_used for r in result.receipts] == [21_000, 42_016, 63_016, 84_024]
    assert result.gas_used == 84_024
    assert result.transactions == tuple(txs)
    assert state.get_account(ALICE).nonce == 3
    assert state.get_account(BOB).nonce == 1
    assert balance(state, CAROL) == 1 + 2 + 4
    assert balance(state, BOB) == ETH - 2 - 21_016 * 9 * GWEI + 3
    assert balance(state, PROPOSER) == 84_024 * 2 * GWEI


def test_self_transfer_only_pays_the_fee():
    state = funded(alice=ETH)
    run(state, [transfer(to=ALICE, value=12345)])
    assert balance(state, ALICE) == ETH - 21_000 * 9 * GWEI
    assert state.get_account(ALICE).nonce == 1


def test_proposer_sending_gets_its_own_tip():
    env = BlockEnv(CHAIN_ID, ENV.number, ENV.timestamp, ALICE, ENV.base_fee, ENV.gas_limit)
    state = funded(alice=ETH)
    run(state, [transfer(value=0)], env)
    # pays base fee + tip, gets the tip back: net cost is the burn
    assert balance(state, ALICE) == ETH - 21_000 * 7 * GWEI


def test_parent_state_is_not_modified():
    state = funded(alice=ETH)
    before = dict(state.accounts)
    result = execute_transactions(state, ENV, [transfer()], skip_invalid=False)
    assert state.accounts == before
    assert set(result.changes) == {ALICE, CAROL, PROPOSER}


# --- per-block errors leave the state unchanged -------------------------------------------------

ALICE_NONCE_5 = {ALICE: Account(5, ETH)}
UPFRONT = 21_000 * 100 * GWEI + 1_000  # gas * maxFeePerGas + value for the default transfer

ERRORS = [
    ("nonce too low", ALICE_NONCE_5, dict(nonce=4), ENV, NonceTooLow, r"next nonce 5, tx nonce 4"),
    ("nonce too high", ALICE_NONCE_5, dict(nonce=6), ENV, NonceTooHigh, r"next nonce 5, tx nonce 6"),
    ("nonce gap from zero", {ALICE: Account(0, ETH)}, dict(nonce=1), ENV, NonceTooHigh, r"next nonce 0, tx nonce 1"),
    # the actual fee would be 21,000 * 9 gwei, but the check uses the cap
    ("insufficient funds for the cap", {ALICE: Account(0, UPFRONT - 1)}, {}, ENV, InsufficientFunds,
     rf"have {UPFRONT - 1} want {UPFRONT}"),
    ("unknown sender", {}, {}, ENV, InsufficientFunds, rf"have 0 want {UPFRONT}"),
    ("fee cap below base fee", {ALICE: Account(0, ETH)}, dict(tip=0, cap=BASE_FEE - 1), ENV, FeeCapTooLow,
     rf"maxFeePerGas: {BASE_FEE - 1}, baseFee: {BASE_FEE}"),
    ("legacy price below base fee", {ALICE: Account(0, ETH)}, dict(legacy_price=BASE_FEE - 1), ENV, FeeCapTooLow,
     rf"maxFeePerGas: {BASE_FEE - 1}, baseFee: {BASE_FEE}"),
    ("gas above block limit", {ALICE: Account(0, ETH)}, dict(gas=30_001),
     BlockEnv(CHAIN_ID, 1, 0, PROPOSER, BASE_FEE, 30_000), GasLimitExceeded, r"transaction gas 30001, block gas left 30000"),
]


@pytest.mark.parametrize("accounts, tx_args, env, error, message", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_invalid_transaction_changes_nothing(accounts, tx_args, env, error, message):
    state = MemoryState(accounts)
    tx = transfer(**tx_args)

    proposed = execute_transactions(state, env, [tx], skip_invalid=True)
    assert proposed.transactions == () and proposed.changes == {} and proposed.storage == {}
    ((left_out, reason),) = proposed.rejected
    assert left_out is tx and isinstance(reason, error) and re.search(message, str(reason))

    with pytest.raises(error, match=message):
        execute_transactions(state, env, [tx], skip_invalid=False)
    assert state.accounts == accounts


def test_balance_exactly_covering_the_cap_is_enough():
    state = MemoryState({ALICE: Account(0, UPFRONT)})
    run(state, [transfer()])
    # refunded: the cap was only a bound, the price paid is base fee + tip
    assert balance(state, ALICE) == UPFRONT - 1_000 - 21_000 * 9 * GWEI


def test_block_full_counts_gas_used_not_gas_limits():
    env = BlockEnv(CHAIN_ID, 1, 0, PROPOSER, BASE_FEE, 120_000)
    state = funded(alice=ETH)
    first = transfer(nonce=0, gas=100_000)   # uses 21,000: 99,000 left
    second = transfer(nonce=1, gas=99_000)   # uses 21,000: 78,000 left
    third = transfer(nonce=2, gas=78_001)

    with pytest.raises(GasLimitExceeded, match=r"transaction gas 78001, block gas left 78000"):
        execute_transactions(state, env, [first, second, third], skip_invalid=False)

    result = run(state, [first, second], env)
    assert result.gas_used == 42_000


# --- proposing (skip_invalid=True) vs checking (skip_invalid=False) ----------------------------


def test_proposing_leaves_invalid_candidates_out():
    state = funded(alice=ETH, bob=10**15)
    good0 = transfer(nonce=0, value=1)
    replayed = transfer(nonce=0, value=2)         # nonce 0 used by good0
    gap = transfer(nonce=5, value=3)
    good1 = transfer(nonce=1, value=4)
    poor = transfer(BOB_KEY, nonce=0, value=10**15)
    underpriced = transfer(BOB_KEY, nonce=0, value=0, tip=0, cap=GWEI)

    result = run(state, [good0, replayed, gap, good1, poor, underpriced], skip_invalid=True)

    assert result.transactions == (good0, good1)
    assert [(tx, type(err)) for tx, err in result.rejected] == [
        (replayed, NonceTooLow), (gap, NonceTooHigh), (poor, InsufficientFunds), (underpriced, FeeCapTooLow),
    ]
    assert [r.cumulative_gas_used for r in result.receipts] == [21_000, 42_000]
    assert balance(state, CAROL) == 1 + 4
    assert state.get_account(ALICE).nonce == 2
    assert state.accounts[BOB] == Account(0, 10**15)


def test_checking_raises_on_the_first_invalid_transaction():
    state = funded(alice=ETH)
    txs = [transfer(nonce=0), transfer(nonce=0), transfer(nonce=7)]
    with pytest.raises(NonceTooLow):
        execute_transactions(state, ENV, txs, skip_invalid=False)
    assert state.accounts == {ALICE: Account(0, ETH)}


def test_rejected_is_empty_when_all_are_valid():
    state = funded(alice=ETH)
    assert run(state, [transfer()], skip_invalid=True).rejected == ()


def test_empty_block():
    state = funded(alice=ETH)
    result = run(state, [])
    assert (result.transactions, result.receipts, result.gas_used, result.changes) == ((), (), 0, {})
    assert result.logs_bloom == EMPTY_BLOOM


def test_execution_is_deterministic():
    def once():
        state = funded(alice=ETH, bob=ETH)
        txs = [transfer(nonce=0), transfer(BOB_KEY, nonce=3), transfer(nonce=1, data=b"\x07", gas=30_000), transfer(BOB_KEY)]
        result = execute_transactions(state, ENV, txs, skip_invalid=True)
        rejected = [(tx, type(err), str(err)) for tx, err in result.rejected]
        return result.transactions, result.receipts, result.gas_used, result.logs_bloom, list(result.changes.items()), rejected

    first, second = once(), once()
    assert first == second
    assert len(first[0]) == 3 and len(first[5]) == 1


def test_invalid_transaction_errors_are_invalid_transaction():
    for _, _, _, _, error, _ in ERRORS:
        assert issubclass(error, InvalidTransaction)


# --- EIP-1559 base fee --------------------------------------------------------------------------


def parent(gas_limit: int, gas_used: int, base_fee: int) -> Header:
    return Header(ZERO_HASH, 1, 0, b"\x00" * 20, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                  gas_limit, gas_used, base_fee)


def eip1559_base_fee(gas_limit: int, gas_used: int, base_fee: int) -> int:
    """The EIP-1559 specification's pseudo-code, as written there."""
    parent_gas_target = gas_limit // 2
    if gas_used == parent_gas_target:
        return base_fee
    if gas_used > parent_gas_target:
        gas_used_delta = gas_used - parent_gas_target
        base_fee_per_gas_delta = max(base_fee * gas_used_delta // parent_gas_target // 8, 1)
        return base_fee + base_fee_per_gas_delta
    gas_used_delta = parent_gas_target - gas_used
    base_fee_per_gas_delta = base_fee * gas_used_delta // parent_gas_target // 8
    return base_fee - base_fee_per_gas_delta


BASE_FEE_CASES = [
    # (gas limit, gas used, parent base fee, floor, expected)
    ("target keeps it", 30_000_000, 15_000_000, GWEI, 0, GWEI),
    ("full block +12.5%", 30_000_000, 30_000_000, GWEI, 0, 1_125_000_000),
    ("empty block -12.5%", 30_000_000, 0, GWEI, 0, 875_000_000),
    ("three quarters +6.25%", 30_000_000, 22_500_000, 16 * GWEI, 0, 17 * GWEI),
    ("quarter -6.25%", 30_000_000, 7_500_000, 16 * GWEI, 0, 15 * GWEI),
    ("minimum increase is 1", 30_000_000, 15_000_001, 100, 0, 101),
    ("tiny base fee full block +1", 30_000_000, 30_000_000, 7, 0, 8),
    ("no decrease below floor", 30_000_000, 0, GWEI, 950_000_000, 950_000_000),
    ("floor lifts even at target", 30_000_000, 15_000_000, 100, 200, 200),
    ("decrease above floor", 30_000_000, 0, GWEI, 800_000_000, 875_000_000),
    ("tiny base fee cannot drop by zero", 30_000_000, 0, 7, 0, 7),
]


@pytest.mark.parametrize("gas_limit, gas_used, base_fee, floor, expected", [c[1:] for c in BASE_FEE_CASES],
                         ids=[c[0] for c in BASE_FEE_CASES])
def test_next_base_fee(gas_limit, gas_used, base_fee, floor, expected):
    assert next_base_fee(parent(gas_limit, gas_used, base_fee), floor) == expected
    assert max(eip1559_base_fee(gas_limit, gas_used, base_fee), floor) == expected


@pytest.mark.parametrize("gas_used", [0, 1, 7_499_999, 14_999_999, 15_000_000, 15_000_001, 21_000_000, 29_999_999, 30_000_000])
@pytest.mark.parametrize("base_fee", [1, 8, 9, 1_000, 7 * GWEI, 10**20 + 3])
def test_next_base_fee_matches_eip1559(gas_used, base_fee):
    assert next_base_fee(parent(30_000_000, gas_used, base_fee), 0) == eip1559_base_fee(30_000_000, gas_used, base_fee)


def test_next_base_fee_odd_gas_limit_uses_floored_target():
    # target = 29_999_999 // 2 = 14_999_999
    assert next_base_fee(parent(29_999_999, 14_999_999, GWEI), 0) == GWEI
    assert next_base_fee(parent(29_999_999, 29_999_999, GWEI), 0) == eip1559_base_fee(29_999_999, 29_999_999, GWEI)
