"""The validator-set system contract: a change that more than 2/3 of the current power voted for
becomes pending at once and current only after the checkpoint range it passed in."""

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from sidechain.chain.execution import BlockEnv, execute_transactions
from sidechain.chain.state import Account as StateAccount
from sidechain.chain.state import MemoryState, StateOverlay
from sidechain.chain.system import VALIDATOR_SET_ADDRESS, CallContext, functions_at, genesis_state, run_call
from sidechain.chain.system.validator_set import (
    checkpoint_set, current_set, current_set_id, pending_set, set_after_checkpoint,
)
from sidechain.chain.transactions import decode_transaction, intrinsic_gas
from sidechain.chain.validators import ValidatorSet

CHAIN_ID = 7070
BASE_FEE = 10**9
FUNDS = 10**20
INTERVAL = 4
"""Checkpoint c covers blocks 4c-3 .. 4c; the set switches at the end of block 4c."""
VALIDATORS = [Account.from_key(bytes([0x10 + i]) * 32) for i in range(4)]
OUTSIDER = Account.from_key(b"\x55" * 32)
NEWCOMER = bytes.fromhex("ab" * 20)
VOTE_CAST = keccak(text="ValidatorVoteCast(address,address,bool,uint64)")
CHANGE_SCHEDULED = keccak(text="ValidatorChangeScheduled(address,bool,uint64)")


def addr(account) -> bytes:
    return bytes.fromhex(account.address[2:])


def calldata(signature: str, *args) -> bytes:
    types = signature[signature.index("(") + 1:-1]
    return function_signature_to_4byte_selector(signature) + encode([t for t in types.split(",") if t], list(args))


def vote_add(validator: bytes, power: int = 1) -> bytes:
    return calldata("voteAddValidator(address,uint64)", validator, power)


def vote_remove(validator: bytes) -> bytes:
    return calldata("voteRemoveValidator(address)", validator)


class Chain:
    """A chain of MemoryState blocks: each `block` executes and commits at the next height."""

    def __init__(self, validators=VALIDATORS, powers=None):
        genesis = ValidatorSet(tuple(addr(v) for v in validators), tuple(powers or (1,) * len(validators)))
        accounts, storage = genesis_state(genesis)
        accounts.update({addr(a): StateAccount(balance=FUNDS) for a in [*VALIDATORS, OUTSIDER]})
        self.state = MemoryState(accounts, storage)
        self.number = 1
        self.nonces: dict[bytes, int] = {}

    def tx(self, account, data: bytes, gas: int = 200_000, to: bytes = VALIDATOR_SET_ADDRESS):
        nonce = self.nonces.get(addr(account), 0)
        self.nonces[addr(account)] = nonce + 1
        raw = account.sign_transaction({
            "to": to_checksum_address(to), "value": 0, "gas": gas, "data": data, "maxFeePerGas": 2 * BASE_FEE,
            "maxPriorityFeePerGas": 0, "nonce": nonce, "chainId": CHAIN_ID, "type": 2,
        }).raw_transaction
        return decode_transaction(bytes(raw), CHAIN_ID)

    def block(self, *txs):
        env = BlockEnv(self.number, self.number, b"\x00" * 20, BASE_FEE, 30_000_000, INTERVAL)
        result = execute_transactions(self.state, env, txs, skip_invalid=False)
        self.state.apply(result.changes, {(a, k): v for a, words in result.storage.items() for k, v in words.items()})
        self.number += 1
        return result

    def votes(self, voters, data: bytes):
        """One block holding a vote from each of `voters`; returns its receipts."""
        return self.block(*(self.tx(v, data) for v in voters)).receipts

    def run_to(self, number: int) -> None:
        """Execute empty blocks up to and including `number`."""
        while self.number <= number:
            self.block()

    def view(self, signature: str, outputs: list[str]):
        ctx = CallContext(addr(OUTSIDER), VALIDATOR_SET_ADDRESS, 0, calldata(signature), self.number, INTERVAL,
                          read_only=True)
        outcome = run_call(StateOverlay(self.state), ctx, functions_at(self.state, VALIDATOR_SET_ADDRESS), 100_000)
        assert outcome.success, outcome.revert_reason
        return decode(outputs, outcome.output)

    def view_set(self, signature: str) -> ValidatorSet:
        addresses, powers = self.view(signature, ["address[]", "uint256[]"])
        return ValidatorSet(tuple(bytes.fromhex(a[2:]) for a in addresses), tuple(powers))

    def revert_reason(self, account, data: bytes) -> str | None:
        """What the call would revert with on the current state (None if it would succeed)."""
        ctx = CallContext(addr(account), VALIDATOR_SET_ADDRESS, 0, data, self.number, INTERVAL)
        return run_call(StateOverlay(self.state), ctx, functions_at(self.state, VALIDATOR_SET_ADDRESS), 100_000).revert_reason


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
    assert receipt.gas_used == intrinsic_gas(tx.data) + 20_000
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


def test_a_system_call_costs_its_intrinsic_gas_plus_the_function_gas():
    chain = Chain()
    data = vote_add(NEWCOMER)
    declared = functions_at(chain.state, VALIDATOR_SET_ADDRESS)[data[:4]].gas
    ok, failed = chain.votes([VALIDATORS[0], VALIDATORS[0]], data)  # the second is a duplicate
    assert (ok.status, failed.status) == (1, 0)
    assert ok.gas_used == failed.gas_used == intrinsic_gas(data) + declared


def test_a_call_short_of_gas_is_included_as_failed_and_uses_all_its_gas():
    chain = Chain()
    data = vote_add(NEWCOMER)
    gas = intrinsic_gas(data) + functions_at(chain.state, VALIDATOR_SET_ADDRESS)[data[:4]].gas - 1
    result = chain.block(chain.tx(VALIDATORS[0], data, gas=gas))
    (receipt,) = result.receipts
    assert receipt.status == 0 and receipt.logs == ()
    assert receipt.gas_used == result.gas_used == gas
    assert VALIDATOR_SET_ADDRESS not in result.storage
    assert chain.state.get_account(addr(VALIDATORS[0])).balance == FUNDS - gas * BASE_FEE
