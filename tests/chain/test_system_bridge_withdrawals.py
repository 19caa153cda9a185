"""The bridge system contract's withdrawals: a withdrawal burns and is recorded for its checkpoint;
ETH withdrawals, genesis ETH included (it is locked on L1), never exceed minted + the genesis supply."""

import pytest
from eth_abi import decode

from sidechain.chain.genesis import parse_genesis
from sidechain.chain.state import MemoryState
from sidechain.chain.system import BRIDGE_ADDRESS, genesis_state
from sidechain.chain.checkpoints import checkpoint_bounds
from sidechain.chain.system.bridge import RESERVE, Withdrawal, genesis_supply, totals, withdrawal, withdrawals_between
from sidechain.chain.validators import ValidatorSet
from sidechain.execution.executor import BlockExecutor
from sidechain.chain.system.tokens import balance_of, total_supply
from sidechain.errors import InsufficientFunds

from system_chain import BASE_FEE, FUNDS, addr, calldata
from system_bridge_support import (
    ALICE, BOB, Chain, ETH, INTERVAL, L1_RECIPIENT, L1_TOKEN, TOKEN, TRANSFER, VALIDATORS,
    WITHDRAWAL_RECORDED, ZERO_TOPIC, affirmation, token_affirmation, withdraw,
)


# --- withdrawals ------------------------------------------------------------------------------------


def checkpoint_withdrawals(state, number: int) -> list[Withdrawal]:
    return withdrawals_between(state, *checkpoint_bounds(number, INTERVAL))


def funded_chain() -> Chain:
    """Alice holds 1000 of the bridged token (deposit 1) and Bob 500 (deposit 2)."""
    chain = Chain()
    chain.affirm(VALIDATORS[:3], token_affirmation(1, 1000))
    chain.affirm(VALIDATORS[:3], token_affirmation(2, 500, addr(BOB)))
    return chain


def test_a_token_withdrawal_burns_and_is_recorded_for_its_checkpoint():
    chain = funded_chain()  # blocks 1, 2
    first = chain.block(chain.tx(ALICE, withdraw(L1_TOKEN, 700)), chain.tx(BOB, withdraw(L1_TOKEN, 100)))  # block 3
    assert [r.status for r in first.receipts] == [1, 1]
    assert balance_of(chain.state, TOKEN, addr(ALICE)) == 300
    assert total_supply(chain.state, TOKEN) == 1500 - 800
    burn, recorded = first.receipts[0].logs
    assert (burn.address, burn.topics) == (TOKEN, (TRANSFER, addr(ALICE).rjust(32, b"\x00"), ZERO_TOPIC))
    assert decode(["uint256"], burn.data) == (700,)
    assert (recorded.address, recorded.topics) == (BRIDGE_ADDRESS, (
        WITHDRAWAL_RECORDED, (1).to_bytes(32, "big"), L1_TOKEN.rjust(32, b"\x00"), addr(ALICE).rjust(32, b"\x00")))
    assert decode(["address", "uint256"], recorded.data) == ("0x" + L1_RECIPIENT.hex(), 700)

    while chain.number <= INTERVAL:
        chain.block()
    chain.send(ALICE, withdraw(L1_TOKEN, 1, addr(BOB)))  # block 5: checkpoint 2
    assert checkpoint_withdrawals(chain.state, 1) == [
        Withdrawal(1, L1_TOKEN, L1_RECIPIENT, 700, 3, addr(ALICE)), Withdrawal(2, L1_TOKEN, L1_RECIPIENT, 100, 3, addr(BOB))]
    assert checkpoint_withdrawals(chain.state, 2) == [Withdrawal(3, L1_TOKEN, addr(BOB), 1, 5, addr(ALICE))]
    assert checkpoint_withdrawals(chain.state, 3) == []
    assert withdrawal(chain.state, 2).amount == 100
    assert chain.view("withdrawal(uint64)", (1,), ["address", "address", "uint256", "uint64"]) == (
        "0x" + L1_TOKEN.hex(), "0x" + L1_RECIPIENT.hex(), 700, 3)
    assert chain.view("nextWithdrawalId()", (), ["uint64"]) == (4,)
    assert totals(chain.state, L1_TOKEN) == (1500, 801)


def test_a_checkpoints_withdrawals_are_those_recorded_in_its_blocks():
    """Bisection over the recorded blocks finds every range's withdrawals, empty blocks and ranges
    between them included (checked against a scan of all withdrawals)."""
    chain = Chain()
    plan = {1: 2, 2: 0, 3: 1, 4: 3, 5: 0, 6: 0, 7: 0, 8: 0, 9: 1, 10: 0, 11: 4, 12: 1, 13: 0}
    for number, count in plan.items():
        assert chain.number == number
        chain.block(*(chain.tx(ALICE if i % 2 else BOB, withdraw(ETH, 10**15), value=10**15) for i in range(count)))
    recorded = [withdrawal(chain.state, i) for i in range(1, sum(plan.values()) + 1)]
    assert [w.block_number for w in recorded] == [n for n, count in plan.items() for _ in range(count)]
    for first, last in [(1, 4), (5, 8), (9, 12), (13, 16), (2, 3), (3, 3), (4, 11), (1, 13), (14, 20)]:
        assert withdrawals_between(chain.state, first, last) == [w for w in recorded if first <= w.block_number <= last]
    assert [len(checkpoint_withdrawals(chain.state, n)) for n in (1, 2, 3, 4)] == [6, 0, 6, 0]


def test_a_withdrawal_costs_the_same_gas_as_its_intervals_first_or_not():
    """An estimate made in one checkpoint interval holds when the withdrawal lands in the next: no
    per-interval record starts from zero storage."""
    chain = Chain()
    chain.send(ALICE, withdraw(ETH, 10**15), value=10**15)  # block 1: the first ETH burn ever (its total starts)
    chain.run_to(3)
    used = []
    for number in (4, 5, 6):  # last of checkpoint 1, first and second of checkpoint 2
        assert chain.number == number
        used.append(chain.send(BOB, withdraw(ETH, 10**15), value=10**15)[0].gas_used)
    assert used[0] == used[1] == used[2], used
    assert [w.withdrawal_id for w in checkpoint_withdrawals(chain.state, 2)] == [3, 4]


def test_an_ether_withdrawal_sends_its_amount_as_value_and_burns_it():
    chain = Chain()
    chain.affirm(VALIDATORS[:3], affirmation(1, amount=3 * 10**18))
    before = chain.balance(ALICE)
    receipt, _ = chain.send(ALICE, withdraw(ETH, 10**18), value=10**18)
    assert receipt.status == 1
    assert chain.balance(ALICE) == before - 10**18 - receipt.gas_used * BASE_FEE
    # the deposit was paid out of the bridge's reserve and the withdrawal's value went back into it
    assert chain.state.get_account(BRIDGE_ADDRESS).balance == RESERVE - 3 * 10**18 + 10**18
    assert withdrawal(chain.state, 1) == Withdrawal(1, ETH, L1_RECIPIENT, 10**18, 2, addr(ALICE))
    assert totals(chain.state, ETH) == (3 * 10**18, 10**18)


@pytest.mark.parametrize("value, amount", [(0, 10**18), (10**18 - 1, 10**18), (10**18, 10**18 - 1)])
def test_an_ether_withdrawal_whose_value_is_not_its_amount_reverts(value, amount):
    chain = Chain()
    assert "value" in chain.outcome(ALICE, withdraw(ETH, amount), value).revert_reason
    receipt, result = chain.send(ALICE, withdraw(ETH, amount), value=value)
    assert receipt.status == 0
    assert chain.balance(ALICE) == FUNDS - receipt.gas_used * BASE_FEE
    assert BRIDGE_ADDRESS not in result.storage and BRIDGE_ADDRESS not in result.changes


def test_an_ether_withdrawal_above_the_balance_cannot_be_included():
    chain = Chain()
    with pytest.raises(InsufficientFunds):
        chain.block(chain.tx(ALICE, withdraw(ETH, FUNDS), value=FUNDS))
    assert chain.balance(ALICE) == FUNDS


def test_a_token_withdrawal_above_the_balance_reverts():
    chain = funded_chain()
    assert "above the balance" in chain.outcome(ALICE, withdraw(L1_TOKEN, 1001)).revert_reason
    receipt, result = chain.send(ALICE, withdraw(L1_TOKEN, 1001))
    assert receipt.status == 0 and receipt.logs == ()
    assert balance_of(chain.state, TOKEN, addr(ALICE)) == 1000
    assert total_supply(chain.state, TOKEN) == 1500
    assert withdrawal(chain.state, 1) is None and checkpoint_withdrawals(chain.state, 1) == []


def test_a_token_withdrawal_with_value_reverts_and_keeps_the_ether():
    chain = funded_chain()
    assert "sends no ETH" in chain.outcome(ALICE, withdraw(L1_TOKEN, 10), 5).revert_reason
    receipt, _ = chain.send(ALICE, withdraw(L1_TOKEN, 10), value=5)
    assert receipt.status == 0
    assert chain.balance(ALICE) == FUNDS - receipt.gas_used * BASE_FEE
    assert chain.state.get_account(BRIDGE_ADDRESS).balance == RESERVE
    assert balance_of(chain.state, TOKEN, addr(ALICE)) == 1000


@pytest.mark.parametrize("data, reason", [
    (withdraw(L1_TOKEN, 0), "withdrawal of zero"),
    (withdraw(L1_TOKEN, 1, bytes(20)), "needs an L1 recipient"),
    (withdraw(bytes.fromhex("66" * 20), 1), "no token bridged"),
])
def test_a_malformed_withdrawal_reverts(data, reason):
    chain = funded_chain()
    assert reason in chain.outcome(ALICE, data).revert_reason
    receipt, result = chain.send(ALICE, data)
    assert receipt.status == 0
    assert BRIDGE_ADDRESS not in result.storage


def test_minted_less_burned_is_what_accounts_hold():
    chain = funded_chain()
    chain.affirm(VALIDATORS[:3], affirmation(3, amount=4 * 10**18))
    chain.affirm(VALIDATORS[:3], affirmation(4, recipient=addr(BOB), amount=10**18))
    chain.block(
        chain.tx(ALICE, calldata("transfer(address,uint256)", addr(BOB), 250), to=TOKEN),
        chain.tx(BOB, withdraw(L1_TOKEN, 600)),
        chain.tx(ALICE, withdraw(L1_TOKEN, 2000)),  # reverts
        chain.tx(ALICE, withdraw(ETH, 3 * 10**18), value=3 * 10**18),
        chain.tx(BOB, withdraw(ETH, 10**17), value=10**17),
    )
    holders = [addr(a) for a in [*VALIDATORS, ALICE, BOB]]
    minted, burned = totals(chain.state, L1_TOKEN)
    assert (minted, burned) == (1500, 600)
    assert minted - burned == sum(balance_of(chain.state, TOKEN, h) for h in holders) == total_supply(chain.state, TOKEN)

    minted, burned = totals(chain.state, ETH)
    assert (minted, burned) == (5 * 10**18, 3 * 10**18 + 10**17)
    circulating = sum(account.balance for address, account in chain.state.accounts.items() if address != BRIDGE_ADDRESS)
    assert circulating == 6 * FUNDS + minted - burned - chain.fees
    assert RESERVE - chain.state.get_account(BRIDGE_ADDRESS).balance == minted - burned


def test_a_genesis_account_withdraws_its_own_ether():
    chain = Chain()  # ALICE holds FUNDS from genesis, locked in RootBridge on L1 when the network was deployed
    assert chain.view("genesisSupply()", (), ["uint256"]) == (6 * 10**20,)
    receipt, _ = chain.send(ALICE, withdraw(ETH, 10**18), value=10**18)
    assert receipt.status == 1
    assert chain.balance(ALICE) == FUNDS - 10**18 - receipt.gas_used * BASE_FEE
    assert withdrawal(chain.state, 1) == Withdrawal(1, ETH, L1_RECIPIENT, 10**18, 1, addr(ALICE))
    assert totals(chain.state, ETH) == (0, 10**18)  # nothing bridged in: only genesis ETH left


def test_ether_withdrawals_are_capped_at_minted_plus_the_genesis_supply():
    # The genesis recorded 2 ETH while MemoryChain gave 6 accounts 100 ETH each: the cap shows, not the balances.
    chain = Chain(genesis_supply=2 * 10**18)
    chain.affirm(VALIDATORS[:3], affirmation(1, amount=5 * 10**17))  # minted 0.5 ETH: 2.5 ETH may leave in all
    assert chain.send(ALICE, withdraw(ETH, 2 * 10**18), value=2 * 10**18)[0].status == 1
    refused = chain.outcome(BOB, withdraw(ETH, 6 * 10**17), value=6 * 10**17)
    assert not refused.success
    assert refused.revert_reason == ("withdrawal above the ETH locked on L1: 500000000000000000 wei can still exit, "
                                     "asked for 600000000000000000")
    assert chain.send(BOB, withdraw(ETH, 5 * 10**17), value=5 * 10**17)[0].status == 1
    refused = chain.outcome(BOB, withdraw(ETH, 1), value=1)
    assert refused.revert_reason == "withdrawal above the ETH locked on L1: 0 wei can still exit, asked for 1"
    assert totals(chain.state, ETH) == (5 * 10**17, 25 * 10**17)


def test_the_genesis_records_the_sum_of_its_allocations_as_the_bridges_genesis_supply():
    genesis = parse_genesis({
        "chainId": 7070, "blockTimeMs": 1000, "gasLimit": 30_000_000, "baseFeePerGas": "1000000000",
        "checkpointInterval": 16, "validators": [{"address": VALIDATORS[0].address, "power": 1}],
        "alloc": {ALICE.address: {"balance": "1000000000000000000"}, BOB.address: {"balance": "2500000000000000000"},
                  "0x" + "ab" * 20: {"balance": "7"}},
    })
    executed = BlockExecutor(genesis).genesis_block(genesis.hash(), {}.__getitem__)
    state = MemoryState(executed.result.changes, {(address, key): value for address, words in executed.result.storage.items()
                                                  for key, value in words.items()})
    assert genesis_supply(state) == 3_500_000_000_000_000_007
    _, storage, _ = genesis_state(ValidatorSet((addr(VALIDATORS[0]),), (1,)), checkpoint_interval=16)
    assert genesis_supply(MemoryState({}, storage)) == 0  # no allocations, nothing to record


def test_tokens_sent_to_a_system_contract_are_refused_not_locked():
    chain = Chain()
    chain.affirm(VALIDATORS[:3], token_affirmation(1, amount=1000, recipient=addr(ALICE)))
    for system in (BRIDGE_ADDRESS, TOKEN):
        receipt, _ = chain.send(ALICE, calldata("transfer(address,uint256)", system, 10), to=TOKEN)
        assert receipt.status == 0
    assert balance_of(chain.state, TOKEN, addr(ALICE)) == 1000
    assert balance_of(chain.state, TOKEN, BRIDGE_ADDRESS) == balance_of(chain.state, TOKEN, TOKEN) == 0
