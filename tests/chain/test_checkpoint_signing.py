"""The checkpoint signing rules (sidechain.chain.checkpoint_signing) on their own: the EIP-712 digest against eth-account's typed-data encoder, the
65-byte signature format, signer ordering and the validator-set hash."""

from __future__ import annotations

import dataclasses

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data

from sidechain.chain.checkpoint_signing import (eip712_digest, order_signatures, pack_signatures, recover_signer,
                                               sign_checkpoint, typed_data)
from sidechain.chain.checkpoints import Checkpoint
from sidechain.chain.validators import ValidatorSet, validator_set_hash
from sidechain.chain.ozmerkle import EMPTY_ROOT
from sidechain.crypto import SECP256K1_HALF_N, keccak256, private_key_to_address
from sidechain.devkeys import anvil_private_key

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHECKPOINT = Checkpoint(7070, 3, 17, 24, keccak256(b"blocks"), EMPTY_ROOT, keccak256(b"next set"))
KEYS = [anvil_private_key(i) for i in range(6, 10)]


def test_digest_matches_eth_account_typed_data():
    message = encode_typed_data(full_message=typed_data(CHECKPOINT, 31337, CONTRACT))

    signed = Account.sign_message(message, KEYS[0])

    assert signed.message_hash == eip712_digest(CHECKPOINT, 31337, CONTRACT)
    assert signed.signature == sign_checkpoint(eip712_digest(CHECKPOINT, 31337, CONTRACT), KEYS[0])


def test_digest_depends_on_the_domain():
    digest = eip712_digest(CHECKPOINT, 31337, CONTRACT)

    assert eip712_digest(CHECKPOINT, 1, CONTRACT) != digest
    assert eip712_digest(CHECKPOINT, 31337, "0x" + "11" * 20) != digest
    assert eip712_digest(CHECKPOINT, 31337, bytes.fromhex(CONTRACT[2:])) == digest


def test_signature_is_r_s_v_with_v_27_or_28_and_low_s():
    digest = eip712_digest(CHECKPOINT, 31337, CONTRACT)
    for key in KEYS:
        signature = sign_checkpoint(digest, key)
        assert len(signature) == 65 and signature[64] in (27, 28)
        assert 0 < int.from_bytes(signature[32:64], "big") <= SECP256K1_HALF_N
        assert recover_signer(digest, signature) == private_key_to_address(key)


def test_malformed_signatures_do_not_recover():
    digest = eip712_digest(CHECKPOINT, 31337, CONTRACT)
    signature = sign_checkpoint(digest, KEYS[0])

    with pytest.raises(ValueError):
        recover_signer(digest, signature[:64])
    with pytest.raises(ValueError):
        recover_signer(digest, signature[:64] + bytes([signature[64] - 27]))  # v as a bare recovery id
    with pytest.raises(ValueError):
        sign_checkpoint(digest[:31], KEYS[0])


def test_signatures_are_packed_in_ascending_signer_order_once_each():
    digest = eip712_digest(CHECKPOINT, 31337, CONTRACT)
    signatures = [sign_checkpoint(digest, k) for k in KEYS]

    ordered = order_signatures(digest, [*reversed(signatures), signatures[0]])

    signers = [recover_signer(digest, s) for s in ordered]
    assert signers == sorted(private_key_to_address(k) for k in KEYS)
    assert pack_signatures(digest, signatures) == b"".join(ordered)


def test_validator_set_hash_is_the_abi_encoding_of_both_arrays():
    addresses = [private_key_to_address(k) for k in KEYS]
    powers = [1, 2, 3, 4]

    expected = keccak256(encode(["address[]", "uint256[]"], [addresses, powers]))

    assert validator_set_hash(addresses, powers) == expected
    assert validator_set_hash(["0x" + a.hex() for a in addresses], powers) == expected


def test_the_l1_order_of_a_set_is_by_address_and_its_hash_is_validator_set_hash():
    powers = {private_key_to_address(k): i + 1 for i, k in enumerate(KEYS)}
    validators = ValidatorSet(tuple(powers), tuple(powers.values()))

    addresses, ordered_powers = validators.sorted_for_l1()

    assert addresses == sorted(powers)
    assert ordered_powers == [powers[a] for a in addresses]
    assert validators.l1_hash() == validator_set_hash(addresses, ordered_powers)


@pytest.mark.parametrize("change", [{"number": -1}, {"end_block": 2**64}, {"block_root": b"\x01" * 31},
                                    {"sidechain_chain_id": True}, {"next_validator_set_hash": "0x00"}])
def test_checkpoint_fields_are_fixed_width(change):
    with pytest.raises(ValueError):
        dataclasses.replace(CHECKPOINT, **change)
