"""CheckpointManager rejects what past bridge incidents accepted, each with its custom error.

- Ronin (2022): 5 of 9 keys sufficed to sign withdrawals; the threshold was too low.
- Harmony Horizon (2022) and cross-domain replay: signatures must bind the sidechain, the L1 chain
  and the contract, so a signature made for one never verifies for another.
- Nomad (2022): a zero root was treated as proven; no zero root is ever accepted here.
"""

from __future__ import annotations

import dataclasses

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError

from bridge.artifacts import load_artifact
from sidechain.chain.checkpoint_signing import recover_signer, sign_checkpoint
from sidechain.chain.validators import validator_set_hash
from bridge.contract_errors import decode_error
from bridge.deploy import deploy_checkpoint_manager

from checkpoint_support import DEPLOYER, SIDECHAIN_CHAIN_ID, L1Checkpoints, address_of


def test_ronin_two_of_four_validators_is_too_little_power(l1):
    checkpoint = l1.next_checkpoint()

    args = l1.expect_error(checkpoint, l1.sign(checkpoint, l1.keys[:2]), "InsufficientVotingPower")

    assert args == {"signed": 2, "total": 4}


def test_no_signatures_is_too_little_power(l1):
    assert l1.expect_error(l1.next_checkpoint(), b"", "InsufficientVotingPower") == {"signed": 0, "total": 4}


def test_the_same_signature_twice_is_a_duplicate_signer(l1):
    checkpoint = l1.next_checkpoint()
    digest = l1.digest(checkpoint)
    first, second = (sign_checkpoint(digest, k) for k in l1.keys[:2])

    args = l1.expect_error(checkpoint, first + second + second, "DuplicateSigner")

    assert args == {"signer": address_of(l1.keys[1])}


def test_signers_out_of_address_order_are_rejected(l1):
    checkpoint = l1.next_checkpoint()
    digest = l1.digest(checkpoint)
    signatures = [sign_checkpoint(digest, k) for k in l1.keys]

    args = l1.expect_error(checkpoint, b"".join(reversed(signatures)), "SignersNotAscending")

    assert args == {"previous": address_of(l1.keys[3]), "signer": address_of(l1.keys[2])}


def test_a_non_validator_signer_is_rejected(l1, outsider_keys):
    checkpoint = l1.next_checkpoint()
    outsider = outsider_keys[0]

    args = l1.expect_error(checkpoint, l1.sign(checkpoint, [*l1.keys[:3], outsider]), "NotAValidator")

    assert args == {"signer": address_of(outsider)}


def test_malformed_signatures_are_rejected(l1):
    checkpoint = l1.next_checkpoint()
    digest = l1.digest(checkpoint)
    good = sign_checkpoint(digest, l1.keys[0])
    r, s, v = good[:32], int.from_bytes(good[32:64], "big"), good[64]
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = r + (n - s).to_bytes(32, "big") + bytes([55 - v])  # the same signature in its malleable form

    assert l1.expect_error(checkpoint, good[:64], "MalformedSignatures") == {"length": 64}
    assert l1.expect_error(checkpoint, high_s, "ECDSAInvalidSignatureS") == {"s": (n - s).to_bytes(32, "big")}
    assert l1.expect_error(checkpoint, good[:64] + b"\x1d", "ECDSAInvalidSignature") == {}


def test_harmony_checkpoint_of_another_sidechain_is_rejected(l1):
    checkpoint = l1.next_checkpoint(sidechain_chain_id=SIDECHAIN_CHAIN_ID + 1)

    args = l1.expect_error(checkpoint, l1.sign(checkpoint, l1.keys), "WrongSidechain")

    assert args == {"expected": SIDECHAIN_CHAIN_ID, "got": SIDECHAIN_CHAIN_ID + 1}


def assert_replay_rejected(l1: L1Checkpoints, checkpoint, signatures: bytes) -> None:
    """Signatures made over another digest recover to strangers: the first one is NotAValidator."""
    args = l1.expect_error(checkpoint, signatures, "NotAValidator")
    stranger = recover_signer(l1.digest(checkpoint), signatures[:65])
    assert args == {"signer": Web3.to_checksum_address(stranger)}
    assert args["signer"] not in {address_of(k) for k in l1.keys}


def test_harmony_replay_of_signatures_made_for_another_sidechain_chain_id(l1):
    checkpoint = l1.next_checkpoint()
    other_chain = dataclasses.replace(checkpoint, sidechain_chain_id=SIDECHAIN_CHAIN_ID + 1)

    assert_replay_rejected(l1, checkpoint, l1.sign(other_chain, l1.keys))


def test_harmony_replay_of_signatures_made_for_another_l1_chain(l1):
    checkpoint = l1.next_checkpoint()

    assert_replay_rejected(l1, checkpoint, l1.sign(checkpoint, l1.keys, l1_chain_id=1))


def test_harmony_replay_of_signatures_made_for_another_contract(w3, l1, validator_keys):
    twin = L1Checkpoints(w3, validator_keys)  # same validators, same sidechain, another address
    checkpoint = twin.next_checkpoint()
    signed_for_twin = twin.sign(checkpoint, twin.keys)
    twin.submit(checkpoint, signed_for_twin)

    assert_replay_rejected(l1, checkpoint, signed_for_twin)


def test_a_gap_in_the_range_is_rejected(l1):
    l1.land(blocks=8)
    gap = l1.next_checkpoint(start_block=10, end_block=17)

    assert l1.expect_error(gap, l1.sign(gap, l1.keys), "NonContiguousRange") == {
        "expectedStart": 9, "gotStart": 10}


def test_an_overlapping_range_is_rejected(l1):
    l1.land(blocks=8)
    overlap = l1.next_checkpoint(start_block=8, end_block=15)

    assert l1.expect_error(overlap, l1.sign(overlap, l1.keys), "NonContiguousRange") == {
        "expectedStart": 9, "gotStart": 8}


def test_the_first_checkpoint_starts_at_block_one(l1):
    genesis = l1.next_checkpoint(start_block=0)

    assert l1.expect_error(genesis, l1.sign(genesis, l1.keys), "NonContiguousRange") == {
        "expectedStart": 1, "gotStart": 0}


def test_the_same_checkpoint_again_is_rejected(l1):
    checkpoint = l1.next_checkpoint()
    signatures = l1.sign(checkpoint, l1.keys)
    l1.submit(checkpoint, signatures)

    assert l1.expect_error(checkpoint, signatures, "WrongCheckpointNumber") == {"expected": 2, "got": 1}


def test_a_repeated_range_under_the_next_number_is_rejected(l1):
    first = l1.land(blocks=8)
    again = dataclasses.replace(first, number=2)

    assert l1.expect_error(again, l1.sign(again, l1.keys), "NonContiguousRange") == {
        "expectedStart": 9, "gotStart": 1}


def test_a_skipped_checkpoint_number_is_rejected(l1):
    skipped = l1.next_checkpoint(number=2)

    assert l1.expect_error(skipped, l1.sign(skipped, l1.keys), "WrongCheckpointNumber") == {
        "expected": 1, "got": 2}


def test_an_empty_range_is_rejected(l1):
    backwards = l1.next_checkpoint(start_block=1, end_block=0)

    assert l1.expect_error(backwards, l1.sign(backwards, l1.keys), "EmptyRange") == {
        "startBlock": 1, "endBlock": 0}


def test_nomad_zero_block_root_is_rejected(l1):
    checkpoint = l1.next_checkpoint(block_root=bytes(32))

    assert l1.expect_error(checkpoint, l1.sign(checkpoint, l1.keys), "ZeroRoot") == {}


def test_nomad_zero_withdrawal_root_is_rejected(l1):
    checkpoint = l1.next_checkpoint(withdrawal_root=bytes(32))

    assert l1.expect_error(checkpoint, l1.sign(checkpoint, l1.keys), "ZeroRoot") == {}


def test_rotation_signed_by_the_new_set_instead_of_the_current_one_is_rejected(l1, outsider_keys):
    new_set = ([address_of(k) for k in outsider_keys], [1, 1, 1, 1])
    checkpoint = l1.next_checkpoint(next_validator_set_hash=validator_set_hash(*new_set))

    args = l1.expect_error(checkpoint, l1.sign(checkpoint, outsider_keys), "NotAValidator", new_set)

    assert args == {"signer": address_of(outsider_keys[0])}
    assert l1.contract.functions.validatorSetId().call() == 1


def test_rotation_whose_provided_set_differs_from_the_signed_hash_is_rejected(l1, outsider_keys):
    signed_set = ([address_of(k) for k in outsider_keys], [1, 1, 1, 1])
    checkpoint = l1.next_checkpoint(next_validator_set_hash=validator_set_hash(*signed_set))
    signatures = l1.sign(checkpoint, l1.keys)

    l1.expect_error(checkpoint, signatures, "ValidatorSetMismatch", (signed_set[0], [1, 1, 1, 100]))
    l1.expect_error(checkpoint, signatures, "ValidatorSetMismatch", (signed_set[0][:3], [1, 1, 1]))
    l1.expect_error(checkpoint, signatures, "ValidatorSetMismatch")  # hash announced, no set given


def test_a_set_without_an_announced_hash_is_rejected(l1, outsider_keys):
    checkpoint = l1.next_checkpoint()
    smuggled = ([address_of(k) for k in outsider_keys], [1, 1, 1, 1])

    l1.expect_error(checkpoint, l1.sign(checkpoint, l1.keys), "ValidatorSetMismatch", smuggled)


MALFORMED_SETS = {
    "empty": lambda a: ([], []),
    "descending": lambda a: (list(reversed(a)), [1, 1, 1, 1]),
    "duplicate": lambda a: ([a[0], *a[:3]], [1, 1, 1, 1]),
    "zero address": lambda a: (["0x" + "00" * 20, *a[1:]], [1, 1, 1, 1]),
    "zero power": lambda a: (a, [1, 0, 1, 1]),
    "length mismatch": lambda a: (a, [1, 1, 1]),
    "total power of 2^64": lambda a: (a[:2], [2**63, 2**63]),
    "power over 2^64": lambda a: (a[:1], [2**64 + 1]),
}


@pytest.mark.parametrize("shape", MALFORMED_SETS)
def test_a_malformed_next_validator_set_is_rejected_even_when_signed(l1, outsider_keys, shape):
    new_set = MALFORMED_SETS[shape]([address_of(k) for k in outsider_keys])
    checkpoint = l1.next_checkpoint(next_validator_set_hash=validator_set_hash(*new_set))

    l1.expect_error(checkpoint, l1.sign(checkpoint, l1.keys), "MalformedValidatorSet", new_set)


@pytest.mark.parametrize("shape", MALFORMED_SETS)
def test_a_malformed_initial_set_cannot_be_deployed(w3, validator_keys, shape):
    addresses, powers = MALFORMED_SETS[shape]([address_of(k) for k in validator_keys])

    with pytest.raises(ContractCustomError) as raised:
        deploy_checkpoint_manager(w3, DEPLOYER, SIDECHAIN_CHAIN_ID, addresses, powers)

    assert decode_error(load_artifact("CheckpointManager")["abi"], raised.value.data).name == "MalformedValidatorSet"
