"""CheckpointManager on a real anvil: checkpoints that land, the views, and validator-set rotation."""

from __future__ import annotations

import dataclasses

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from sidechain.chain.validators import validator_set_hash
from bridge.contract_errors import decode_error
from bridge.deploy import TransactionFailed, send_transaction
from bridge.merkle import EMPTY_ROOT

from checkpoint_support import DEPLOYER, SIDECHAIN_CHAIN_ID, L1Checkpoints, address_of, by_address


def test_deployment_installs_the_first_validator_set(l1, validator_keys):
    addresses, powers = l1.contract.functions.validators().call()

    assert addresses == [address_of(k) for k in validator_keys]
    assert powers == [1, 1, 1, 1]
    assert l1.contract.functions.validatorSetId().call() == 1
    assert l1.contract.functions.totalPower().call() == 4
    assert l1.contract.functions.sidechainChainId().call() == SIDECHAIN_CHAIN_ID
    assert l1.contract.functions.lastCheckpoint().call() == [0, 0]
    assert bytes(l1.contract.functions.EMPTY_WITHDRAWALS_ROOT().call()) == EMPTY_ROOT
    (event,) = l1.contract.events.ValidatorSetUpdated().process_receipt(l1.deploy_receipt, errors=DISCARD)
    assert event.args.setId == 1 and event.args.validators == addresses and event.args.powers == powers


def test_three_of_four_signatures_land_a_checkpoint_then_the_next_contiguous_one(l1):
    first = l1.next_checkpoint(blocks=10)

    receipt = l1.submit(first, l1.sign(first, l1.keys[1:]))

    (event,) = l1.contract.events.CheckpointSubmitted().process_receipt(receipt, errors=DISCARD)
    assert dict(event.args) == {"number": 1, "startBlock": 1, "endBlock": 10, "blockRoot": first.block_root,
                                "withdrawalRoot": first.withdrawal_root}
    assert l1.contract.functions.checkpoint(1).call() == (1, 10, first.block_root, first.withdrawal_root)
    assert l1.contract.functions.lastCheckpoint().call() == [1, 10]

    second = l1.next_checkpoint(blocks=5)
    assert (second.number, second.start_block, second.end_block) == (2, 11, 15)
    l1.submit(second, l1.sign(second, l1.keys[:3]))

    assert l1.contract.functions.lastCheckpoint().call() == [2, 15]
    assert l1.contract.functions.checkpoint(2).call() == (11, 15, second.block_root, second.withdrawal_root)
    assert l1.contract.functions.checkpoint(1).call()[:2] == (1, 10)


def test_a_single_block_range_lands(l1):
    checkpoint = l1.next_checkpoint(blocks=1)

    l1.submit(checkpoint, l1.sign(checkpoint, l1.keys))

    assert l1.contract.functions.checkpoint(1).call()[:2] == (1, 1)


def test_voting_power_not_head_count_decides(w3, validator_keys):
    l1 = L1Checkpoints(w3, validator_keys, powers=[1, 1, 1, 3])  # total 6: more than 2/3 means >= 5
    heavy, light = l1.keys[3], l1.keys[:3]
    checkpoint = l1.next_checkpoint()

    assert l1.expect_error(checkpoint, l1.sign(checkpoint, light), "InsufficientVotingPower") == {
        "signed": 3, "total": 6}
    assert l1.expect_error(checkpoint, l1.sign(checkpoint, [heavy, light[0]]), "InsufficientVotingPower") == {
        "signed": 4, "total": 6}  # exactly 2/3 is not enough
    l1.submit(checkpoint, l1.sign(checkpoint, [heavy, *light[:2]]))

    assert l1.contract.functions.lastCheckpoint().call() == [1, checkpoint.end_block]


def test_rejected_transaction_changes_nothing(l1):
    l1.land()
    checkpoint = l1.next_checkpoint()

    with pytest.raises(TransactionFailed):
        send_transaction(l1.w3, l1.call(checkpoint, l1.sign(checkpoint, l1.keys[:2])), DEPLOYER, gas=500_000)

    assert l1.contract.functions.lastCheckpoint().call() == [1, 8]
    l1.submit(checkpoint, l1.sign(checkpoint, l1.keys))  # the same number and range still land


def rotate(l1: L1Checkpoints, new_keys: list[bytes], powers: list[int]) -> dict:
    new_set = ([address_of(k) for k in by_address(new_keys)], powers)
    checkpoint = l1.next_checkpoint(next_validator_set_hash=validator_set_hash(*new_set))
    return l1.submit(checkpoint, l1.sign(checkpoint, l1.keys[:3]), new_set)


def test_rotation_signed_by_the_old_set_switches_to_the_new_set(l1, validator_keys, outsider_keys):
    l1.land()
    new_keys = by_address([*validator_keys[:2], *outsider_keys[:3]])  # two stay, two leave, three join
    new_powers = [1, 2, 3, 4, 5]

    receipt = rotate(l1, new_keys, new_powers)

    (submitted,) = l1.contract.events.CheckpointSubmitted().process_receipt(receipt, errors=DISCARD)
    (updated,) = l1.contract.events.ValidatorSetUpdated().process_receipt(receipt, errors=DISCARD)
    assert submitted.args.number == 2
    assert updated.args.setId == 2
    assert updated.args.validators == [address_of(k) for k in new_keys]
    assert updated.args.powers == new_powers
    assert l1.contract.functions.validatorSetId().call() == 2
    assert l1.contract.functions.validators().call() == [[address_of(k) for k in new_keys], new_powers]
    assert l1.contract.functions.totalPower().call() == 15

    old_keys, l1.keys = l1.keys, new_keys
    after = l1.next_checkpoint()
    leaving = [k for k in old_keys if k not in new_keys]
    args = l1.expect_error(after, l1.sign(after, old_keys), "NotAValidator")
    assert args["signer"] in {address_of(k) for k in leaving}
    stayers = validator_keys[:2]  # now counted with their new powers, at most 4 + 5 of 15
    stayer_power = sum(new_powers[new_keys.index(k)] for k in stayers)
    assert l1.expect_error(after, l1.sign(after, stayers), "InsufficientVotingPower") == {
        "signed": stayer_power, "total": 15}
    l1.submit(after, l1.sign(after, new_keys[1:]))  # 14 of 15

    assert l1.contract.functions.lastCheckpoint().call() == [3, after.end_block]


def test_rotation_to_a_disjoint_set_then_back(l1, validator_keys, outsider_keys):
    rotate(l1, outsider_keys, [1, 1, 1, 1])
    l1.keys = outsider_keys
    rotate(l1, validator_keys, [1, 1, 1, 1])
    l1.keys = validator_keys

    assert l1.contract.functions.validatorSetId().call() == 3
    l1.land(keys=validator_keys[:3])
    stale = l1.next_checkpoint()
    args = l1.expect_error(stale, l1.sign(stale, outsider_keys), "NotAValidator")
    assert args["signer"] == address_of(outsider_keys[0])


def test_views_of_an_unknown_checkpoint(l1):
    with pytest.raises(ContractCustomError) as raised:
        l1.contract.functions.checkpoint(1).call()

    assert decode_error(l1.contract.abi, raised.value.data).args == {"number": 1}
    assert l1.contract.functions.verifyBlock(1, 1, bytes(32), []).call() is False


def test_no_owner_or_admin_functions(l1):
    mutating = sorted(e["name"] for e in l1.contract.abi
                      if e["type"] == "function" and e["stateMutability"] not in ("view", "pure"))

    assert mutating == ["submitCheckpoint"]


def test_checkpoint_struct_round_trips_through_the_abi(l1):
    checkpoint = dataclasses.replace(l1.next_checkpoint(), withdrawal_root=Web3.keccak(b"withdrawals"))

    l1.submit(checkpoint, l1.sign(checkpoint, l1.keys))

    assert l1.contract.functions.checkpoint(1).call()[3] == checkpoint.withdrawal_root
