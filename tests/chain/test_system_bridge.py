"""The bridge system contract's deposits: minted once, in id order, when validators holding more
than 2/3 of the power affirmed the same content."""

import pytest
from eth_abi import decode

from sidechain.chain.system import BRIDGE_ADDRESS
from sidechain.chain.system.bridge import totals
from sidechain.chain.system.tokens import balance_of, metadata, total_supply

from system_chain import FUNDS, addr
from system_bridge_support import (
    ALICE, BOB, Chain, DEPOSIT_MINTED, ETH, L1_TOKEN, TOKEN, TRANSFER, VALIDATORS, ZERO_TOPIC, affirmation,
    minted_logs, token_affirmation,
)


# --- deposits ---------------------------------------------------------------------------------------


def test_two_of_four_affirmations_mint_nothing():
    chain = Chain()
    assert chain.affirm(VALIDATORS[:2], affirmation(1)) == [1, 1]
    assert chain.balance(ALICE) == FUNDS
    assert chain.next_deposit_id() == 1
    assert totals(chain.state, ETH) == (0, 0)
    assert chain.view("hasAffirmed(uint64,address)", (1, addr(VALIDATORS[1])), ["bool"]) == (True,)
    assert chain.view("hasAffirmed(uint64,address)", (1, addr(VALIDATORS[2])), ["bool"]) == (False,)


def test_the_third_affirmation_mints_ether_as_the_native_coin():
    chain = Chain()
    chain.affirm(VALIDATORS[:2], affirmation(1, amount=5 * 10**18))
    receipt, _ = chain.send(VALIDATORS[2], affirmation(1, amount=5 * 10**18))
    assert receipt.status == 1
    assert chain.balance(ALICE) == FUNDS + 5 * 10**18
    assert chain.next_deposit_id() == 2
    (log,) = [log for log in receipt.logs if log.topics[0] == DEPOSIT_MINTED]
    assert log.topics[1:] == ((1).to_bytes(32, "big"), ZERO_TOPIC, addr(ALICE).rjust(32, b"\x00"))
    assert decode(["uint256"], log.data) == (5 * 10**18,)
    assert totals(chain.state, ETH) == (5 * 10**18, 0)


def test_the_first_token_deposit_opens_its_ledger_and_mints_into_it():
    chain = Chain()
    assert metadata(chain.state, TOKEN) is None
    chain.affirm(VALIDATORS[:2], token_affirmation(1, 1000))
    receipt, _ = chain.send(VALIDATORS[2], token_affirmation(1, 1000))
    assert receipt.status == 1
    assert metadata(chain.state, TOKEN) == (L1_TOKEN, "Devnet Token", "DEV", 6)
    assert balance_of(chain.state, TOKEN, addr(ALICE)) == 1000
    assert total_supply(chain.state, TOKEN) == 1000
    assert chain.view("tokenFor(address)", (L1_TOKEN,), ["address"]) == ("0x" + TOKEN.hex(),)
    transfers = [log for log in receipt.logs if log.topics[0] == TRANSFER]
    assert [(log.address, log.topics[1:], log.data) for log in transfers] == [
        (TOKEN, (ZERO_TOPIC, addr(ALICE).rjust(32, b"\x00")), (1000).to_bytes(32, "big"))]
    assert totals(chain.state, L1_TOKEN) == (1000, 0)
    assert chain.balance(ALICE) == FUNDS  # no ether


def test_a_later_token_deposit_reuses_the_ledger_and_its_metadata():
    chain = Chain()
    chain.affirm(VALIDATORS[:3], token_affirmation(1, 1000))
    chain.affirm(VALIDATORS[:3], affirmation(2, L1_TOKEN, addr(BOB), 50, "Renamed", "NEW", 18))
    assert metadata(chain.state, TOKEN) == (L1_TOKEN, "Devnet Token", "DEV", 6)
    assert balance_of(chain.state, TOKEN, addr(BOB)) == 50
    assert total_supply(chain.state, TOKEN) == 1050


def test_a_late_affirmation_of_a_minted_deposit_reverts_and_changes_nothing():
    chain = Chain()
    chain.affirm(VALIDATORS[:3], token_affirmation(1))
    assert "already minted" in chain.outcome(VALIDATORS[3], token_affirmation(1)).revert_reason
    receipt, result = chain.send(VALIDATORS[3], token_affirmation(1))
    assert receipt.status == 0 and receipt.logs == ()
    assert BRIDGE_ADDRESS not in result.storage and TOKEN not in result.storage
    assert balance_of(chain.state, TOKEN, addr(ALICE)) == 1000


def test_an_affirmation_from_outside_the_set_reverts_and_does_not_count():
    chain = Chain()
    assert "only a validator" in chain.outcome(BOB, affirmation(1)).revert_reason
    statuses = [r.status for r in chain.block(*(chain.tx(a, affirmation(1)) for a in [*VALIDATORS[:2], BOB])).receipts]
    assert statuses == [1, 1, 0]
    assert chain.balance(ALICE) == FUNDS
    assert chain.view("hasAffirmed(uint64,address)", (1, addr(BOB)), ["bool"]) == (False,)
    chain.affirm(VALIDATORS[2:3], affirmation(1))
    assert chain.balance(ALICE) == FUNDS + 1000


def test_a_validator_affirming_twice_reverts_and_counts_once():
    chain = Chain()
    assert chain.affirm([VALIDATORS[0], VALIDATORS[0]], affirmation(1)) == [1, 0]
    assert "already affirmed" in chain.outcome(VALIDATORS[0], affirmation(1)).revert_reason
    chain.affirm(VALIDATORS[1:2], affirmation(1))
    assert chain.balance(ALICE) == FUNDS
    chain.affirm(VALIDATORS[2:3], affirmation(1))
    assert chain.balance(ALICE) == FUNDS + 1000


def test_a_validator_may_move_its_affirmation_until_the_deposit_is_accepted():
    chain = Chain()
    # A 2-2 split (say, two relayers saw an L1 block that a deep reorg replaced) mints nothing...
    assert chain.affirm(VALIDATORS[:2], affirmation(1, amount=5)) == [1, 1]
    assert chain.affirm(VALIDATORS[2:], affirmation(1, amount=6)) == [1, 1]
    assert chain.balance(ALICE) == FUNDS
    # ...until one side re-affirms what the others saw: its vote moves and the content is accepted.
    assert chain.affirm(VALIDATORS[2:3], affirmation(1, amount=5)) == [1]
    assert chain.balance(ALICE) == FUNDS + 5
    assert "already minted" in chain.outcome(VALIDATORS[3], affirmation(1, amount=5)).revert_reason


def test_a_moved_affirmation_no_longer_counts_for_the_old_content():
    chain = Chain()
    chain.affirm(VALIDATORS[:2], affirmation(1, amount=5))
    chain.affirm(VALIDATORS[1:2], affirmation(1, amount=6))  # validator 1 changes its mind
    assert chain.affirm(VALIDATORS[2:3], affirmation(1, amount=5)) == [1]  # 2 of 4 for amount 5: not enough
    assert chain.balance(ALICE) == FUNDS
    chain.affirm(VALIDATORS[3:4], affirmation(1, amount=5))
    assert chain.balance(ALICE) == FUNDS + 5


def test_disagreeing_affirmations_mint_nothing():
    chain = Chain()
    assert chain.affirm(VALIDATORS[:2], affirmation(1, amount=5)) == [1, 1]
    assert chain.affirm(VALIDATORS[2:], affirmation(1, amount=6)) == [1, 1]
    assert chain.balance(ALICE) == FUNDS
    assert chain.next_deposit_id() == 1
    assert totals(chain.state, ETH) == (0, 0)


def test_an_affirmation_disagreeing_with_accepted_content_reverts():
    chain = Chain()
    chain.affirm(VALIDATORS[:3], affirmation(2, amount=5))  # accepted, waiting for deposit 1
    assert "disagrees" in chain.outcome(VALIDATORS[3], affirmation(2, amount=6)).revert_reason
    receipt, result = chain.send(VALIDATORS[3], affirmation(2, amount=6))
    assert receipt.status == 0
    assert BRIDGE_ADDRESS not in result.storage
    chain.affirm(VALIDATORS[:3], affirmation(1, amount=1))
    assert chain.balance(ALICE) == FUNDS + 1 + 5


def test_deposits_mint_in_id_order():
    chain = Chain()
    chain.affirm(VALIDATORS[:3], affirmation(2, recipient=addr(BOB), amount=20))
    assert chain.balance(BOB) == FUNDS and chain.next_deposit_id() == 1
    chain.affirm(VALIDATORS[:2], token_affirmation(1, 10))
    result = chain.block(chain.tx(VALIDATORS[2], token_affirmation(1, 10)))
    logs = minted_logs(result)
    assert [int.from_bytes(log.topics[1], "big") for log in logs] == [1, 2]
    assert [log.topics[2] for log in logs] == [L1_TOKEN.rjust(32, b"\x00"), ZERO_TOPIC]
    assert balance_of(chain.state, TOKEN, addr(ALICE)) == 10
    assert chain.balance(BOB) == FUNDS + 20
    assert chain.next_deposit_id() == 3


@pytest.mark.parametrize("data, reason", [
    (affirmation(1, amount=0), "deposit of zero"),
    (affirmation(1, recipient=bytes(20)), "no recipient"),
    (affirmation(0), "start at 1"),
])
def test_a_malformed_deposit_reverts(data, reason):
    chain = Chain()
    assert reason in chain.outcome(VALIDATORS[0], data).revert_reason
    assert chain.affirm(VALIDATORS, data) == [0, 0, 0, 0]
    assert chain.state.storage.keys() == Chain().state.storage.keys()
