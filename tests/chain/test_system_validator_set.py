"""The validator-set system contract: a change that more than 2/3 of the current power voted for
becomes pending at once and current only after the checkpoint range it passed in."""

import pytest
from eth_abi import decode
from eth_account import Account
from eth_utils import keccak

from sidechain.chain.state import Account as StateAccount
from sidechain.chain.system import VALIDATOR_SET_ADDRESS
from sidechain.chain.system.validator_set import (
    checkpoint_set, current_set, current_set_id, pending_set, set_after_checkpoint,
)
from sidechain.chain.transactions import intrinsic_gas
from sidechain.chain.validators import ValidatorSet

from system_chain import BASE_FEE, FUNDS, MemoryChain, addr, calldata

INTERVAL = 4
"""Checkpoint c covers blocks 4c-3 .. 4c; the set switches at the end of block 4c."""
VALIDATORS = [Account.from_key(bytes([0x10 + i]) * 32) for i in range(4)]
OUTSIDER = Account.from_key(b"\x55" * 32)
NEWCOMER = bytes.fromhex("ab" * 20)
VOTE_CAST = keccak(text="ValidatorVoteCast(address,address,bool,uint64)")
CHANGE_SCHEDULED = keccak(text="ValidatorChangeScheduled(address,bool,uint64)")


def vote_add(validator: bytes, power: int = 1) -> bytes:
    return calldata("voteAddValidator(address,uint64)", validator, power)


def vote_remove(validator: bytes) -> bytes:
    return calldata("voteRemoveValidator(address)", validator)


class Chain(MemoryChain):
    """A genesis set of `validators` (power 1 unless `powers`); VALIDATORS and the outsider funded;
    transactions go to the validator-set contract."""

    def __init__(self, validators=VALIDATORS, powers=None):
        super().__init__(validators, [*VALIDATORS, OUTSIDER], interval=INTERVAL, gas=1_000_000, powers=powers,
                         contract=VALIDATOR_SET_ADDRESS)

    def votes(self, voters, data: bytes):
        """One block holding a vote from each of `voters`; returns its receipts."""
        return self.block(*(self.tx(v, data) for v in voters)).receipts

    def view(self, signature: str, outputs: list[str]):
        return self.read(OUTSIDER, signature, (), outputs)

    def view_set(self, signature: str) -> ValidatorSet:
        addresses, powers = self.view(signature, ["address[]", "uint256[]"])
        return ValidatorSet(tuple(bytes.fromhex(a[2:]) for a in addresses), tuple(powers))

    def revert_reason(self, account, data: bytes) -> str | None:
        """What the call would revert with on the current state (None if it would succeed)."""
        return self.outcome(account, data).revert_reason


def genesis_set() -> ValidatorSet:
    return ValidatorSet(tuple(addr(v) for v in VALIDATORS), (1,) * 4)


def scheduled(receipts) -> list:
    return [log for r in receipts for log in r.logs if log.topics[0] == CHANGE_SCHEDULED]


def test_two_of_four_votes_do_not_schedule_a_change():
    chain = Chain()
    receipts = chain.votes(VALIDATORS[:2], vote_add(NEWCOMER, 5))
    assert [r.status for r in receipts] == [1, 1]
    assert [log.topics[0] for r in receipts for log in r.logs] == [VOTE_CAST, VOTE_CAST]
    assert scheduled(receipts) == []
    assert pending_set(chain.state) == current_set(chain.state) == genesis_set()


def test_a_third_vote_schedules_the_change_which_takes_effect_after_the_range():
    chain = Chain()
    receipts = chain.votes(VALIDATORS[:3], vote_add(NEWCOMER, 5))  # block 1, checkpoint 1
    assert [r.status for r in receipts] == [1, 1, 1]
    (log,) = scheduled(receipts)
    assert log.address == VALIDATOR_SET_ADDRESS
    assert log.topics[1] == NEWCOMER.rjust(32, b"\x00")
    assert decode(["bool", "uint64"], log.data) == (True, 5)
    grown = genesis_set().with_member(NEWCOMER, 5)
    assert pending_set(chain.state) == grown
    assert chain.view_set("pendingValidators()") == grown

    chain.run_to(INTERVAL - 1)
    assert current_set(chain.state) == genesis_set() and current_set_id(chain.state) == 1
    assert checkpoint_set(chain.state, 1) is None

    chain.run_to(INTERVAL)  # the last block of checkpoint 1
    assert current_set(chain.state) == grown
    assert chain.view("validatorSetId()", ["uint64"]) == (2,)
    assert checkpoint_set(chain.state, 1) == genesis_set()
    assert set_after_checkpoint(chain.state, 1) == grown

    chain.run_to(2 * INTERVAL)
    assert checkpoint_set(chain.state, 2) == grown
    assert set_after_checkpoint(chain.state, 2) is None
    assert current_set_id(chain.state) == 2


def test_a_removal_follows_the_same_timeline():
    chain = Chain()
    chain.run_to(INTERVAL)  # checkpoint 1 passes without change
    assert set_after_checkpoint(chain.state, 1) is None
    removed = addr(VALIDATORS[3])
    receipts = chain.votes(VALIDATORS[:3], vote_remove(removed))  # block 5, checkpoint 2
    (log,) = scheduled(receipts)
    assert decode(["bool", "uint64"], log.data) == (False, 0)
    shrunk = genesis_set().without_member(removed)
    assert pending_set(chain.state) == shrunk
    assert current_set(chain.state) == genesis_set()

    chain.run_to(2 * INTERVAL)
    assert current_set(chain.state) == shrunk
    assert current_set_id(chain.state) == 2
    assert checkpoint_set(chain.state, 2) == genesis_set()
    assert set_after_checkpoint(chain.state, 2) == shrunk
    assert checkpoint_set(chain.state, 1) == genesis_set()


def test_a_vote_from_outside_the_set_reverts_pays_its_gas_and_writes_nothing():
    chain = Chain()
    tx = chain.tx(OUTSIDER, vote_add(NEWCOMER))
    result = chain.block(tx)
    (receipt,) = result.receipts
    assert receipt.status == 0 and receipt.logs == ()
    assert intrinsic_gas(tx.data) < receipt.gas_used < tx.gas  # the revert paid for what it ran, no more
    assert VALIDATOR_SET_ADDRESS not in result.storage
    assert chain.state.get_account(addr(OUTSIDER)) == StateAccount(nonce=1, balance=FUNDS - receipt.gas_used * BASE_FEE)
    assert "only a validator may vote" in chain.revert_reason(OUTSIDER, vote_add(NEWCOMER))


def test_a_duplicate_vote_reverts_and_counts_once():
    chain = Chain()
    first, again = chain.votes([VALIDATORS[0], VALIDATORS[0]], vote_add(NEWCOMER))
    assert (first.status, again.status) == (1, 0)
    assert "already voted" in chain.revert_reason(VALIDATORS[0], vote_add(NEWCOMER))
    assert scheduled(chain.votes([VALIDATORS[1]], vote_add(NEWCOMER))) == []
    assert len(scheduled(chain.votes([VALIDATORS[2]], vote_add(NEWCOMER)))) == 1


@pytest.mark.parametrize("validators, data, reason", [
    (VALIDATORS, vote_add(addr(VALIDATORS[1])), "already a validator"),
    (VALIDATORS, vote_remove(NEWCOMER), "is not a validator"),
    (VALIDATORS[:1], vote_remove(addr(VALIDATORS[0])), "cannot remove the last validator"),
    (VALIDATORS, vote_add(NEWCOMER, 0), "voting power"),
    (VALIDATORS, vote_add(NEWCOMER, 2**32 + 1), "voting power"),
    (VALIDATORS, vote_add(bytes(20)), "zero address"),
])
def test_a_vote_for_an_impossible_change_reverts(validators, data, reason):
    chain = Chain(validators)
    assert reason in chain.revert_reason(VALIDATORS[0], data)
    result = chain.block(chain.tx(VALIDATORS[0], data))
    assert result.receipts[0].status == 0
    assert VALIDATOR_SET_ADDRESS not in result.storage


def test_a_change_already_scheduled_cannot_be_voted_again():
    chain = Chain()
    chain.votes(VALIDATORS[:3], vote_add(NEWCOMER))
    (late,) = chain.votes(VALIDATORS[3:], vote_add(NEWCOMER))
    assert late.status == 0
    assert "being added" in chain.revert_reason(VALIDATORS[3], vote_add(NEWCOMER))


def test_votes_cast_under_the_old_set_do_not_count_after_a_switch():
    chain = Chain()
    chain.votes(VALIDATORS[:2], vote_add(NEWCOMER))  # 2 of 4: stays open
    chain.votes(VALIDATORS[:3], vote_remove(addr(VALIDATORS[3])))
    chain.run_to(INTERVAL)
    assert current_set(chain.state) == ValidatorSet(tuple(addr(v) for v in VALIDATORS[:3]), (1, 1, 1))

    # with the two stale votes this would be 3 of 3
    receipts = chain.votes(VALIDATORS[2:3], vote_add(NEWCOMER))
    assert receipts[0].status == 1 and scheduled(receipts) == []
    assert pending_set(chain.state) == current_set(chain.state)
    receipts = chain.votes(VALIDATORS[:2], vote_add(NEWCOMER))  # not duplicates under set 2
    assert [r.status for r in receipts] == [1, 1]
    assert len(scheduled(receipts)) == 1


def test_views_return_abi_values():
    chain = Chain()
    assert chain.view_set("validators()") == genesis_set()
    assert chain.view_set("pendingValidators()") == genesis_set()
    assert chain.view("validatorSetId()", ["uint64"]) == (1,)
    chain.votes(VALIDATORS[:3], vote_remove(addr(VALIDATORS[0])))
    assert chain.view_set("validators()") == genesis_set()
    assert chain.view_set("pendingValidators()") == genesis_set().without_member(addr(VALIDATORS[0]))


def test_a_vote_uses_the_gas_eth_call_measures_and_a_duplicate_reverts_early():
    chain = Chain()
    data = vote_add(NEWCOMER)
    measured = chain.outcome(VALIDATORS[0], data, gas=1_000_000).gas
    ok, failed = chain.votes([VALIDATORS[0], VALIDATORS[0]], data)  # the second is a duplicate
    assert (ok.status, failed.status) == (1, 0)
    assert ok.gas_used == measured
    assert intrinsic_gas(data) < failed.gas_used < ok.gas_used


def test_a_call_short_of_gas_is_included_as_failed_and_uses_all_its_gas():
    chain = Chain()
    data = vote_add(NEWCOMER)
    gas = chain.outcome(VALIDATORS[0], data, gas=1_000_000).gas - 1
    result = chain.block(chain.tx(VALIDATORS[0], data, gas=gas))
    (receipt,) = result.receipts
    assert receipt.status == 0 and receipt.logs == ()
    assert receipt.gas_used == result.gas_used == gas
    assert VALIDATOR_SET_ADDRESS not in result.storage
    assert chain.state.get_account(addr(VALIDATORS[0])).balance == FUNDS - gas * BASE_FEE
