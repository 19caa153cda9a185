"""verifyBlock against real checkpoints, and the Python helpers agreeing with the contract:
Merkle roots and proofs (OpenZeppelin's MerkleProof) and the EIP-712 digest (hashCheckpoint)."""

from __future__ import annotations

import dataclasses
import random

from sidechain.chain.checkpoint_signing import domain_separator, eip712_digest
from sidechain.chain.checkpoints import Checkpoint
from bridge.merkle import leaf, merkle_proof, merkle_root

from checkpoint_support import L1_CHAIN_ID, SIDECHAIN_CHAIN_ID, block_hash


def verify(l1, checkpoint_number: int, block_number: int, hash_: bytes, proof: list[bytes]) -> bool:
    return l1.contract.functions.verifyBlock(checkpoint_number, block_number, hash_, proof).call()


def test_a_committed_block_verifies_with_its_proof(l1):
    l1.land(blocks=16)

    assert verify(l1, 1, 5, block_hash(5), l1.proof(1, 5))
    assert verify(l1, 1, 1, block_hash(1), l1.proof(1, 1))
    assert verify(l1, 1, 16, block_hash(16), l1.proof(1, 16))


def test_a_forged_block_hash_is_rejected(l1):
    l1.land(blocks=16)

    assert not verify(l1, 1, 5, block_hash(5, fork="forged"), l1.proof(1, 5))


def test_a_wrong_proof_is_rejected(l1):
    l1.land(blocks=16)
    proof = l1.proof(1, 5)

    assert not verify(l1, 1, 5, block_hash(5), l1.proof(1, 6))  # a neighbour's proof
    assert not verify(l1, 1, 5, block_hash(5), proof[:-1])  # truncated
    assert not verify(l1, 1, 5, block_hash(5), [*proof[:-1], bytes(32)])  # tampered sibling
    assert not verify(l1, 1, 5, block_hash(5), [])


def test_the_block_number_is_part_of_the_leaf(l1):
    l1.land(blocks=16)

    assert not verify(l1, 1, 6, block_hash(5), l1.proof(1, 5))  # right hash and proof, wrong height


def test_a_block_outside_the_checkpoint_range_is_rejected(l1):
    l1.land(blocks=16)
    l1.land(blocks=4)

    assert verify(l1, 2, 17, block_hash(17), l1.proof(2, 17))
    assert not verify(l1, 1, 17, block_hash(17), l1.proof(2, 17))  # block 17 belongs to checkpoint 2
    assert not verify(l1, 2, 16, block_hash(16), l1.proof(1, 16))
    assert not verify(l1, 3, 21, block_hash(21), [])  # no checkpoint 3 yet


def test_an_inner_node_is_not_accepted_as_a_leaf(l1):
    """Double-hashed leaves: a 64-byte inner node can never pass for a (number, hash) leaf."""
    l1.land(blocks=4)
    leaves = l1.leaves[1]
    inner = merkle_root(leaves[:2])

    for number in range(1, 5):
        assert not verify(l1, 1, number, inner, [merkle_root(leaves[2:])])


def test_python_merkle_proofs_agree_with_the_contract_for_every_tree_shape(l1):
    """Sizes 1..17 cover single leaves, full trees and every odd-node promotion."""
    for size in range(1, 18):
        checkpoint = l1.land(blocks=size)
        first = checkpoint.start_block
        assert l1.contract.functions.checkpoint(checkpoint.number).call()[2] == merkle_root(l1.leaves[checkpoint.number])
        for index in range(size):
            number = first + index
            proof = merkle_proof(l1.leaves[checkpoint.number], index)
            assert verify(l1, checkpoint.number, number, block_hash(number), proof), (size, index)


def test_python_digest_equals_hash_checkpoint(l1):
    rng = random.Random(4)
    for _ in range(10):
        checkpoint = Checkpoint(
            sidechain_chain_id=rng.randrange(2**64), number=rng.randrange(2**64), start_block=rng.randrange(2**64),
            end_block=rng.randrange(2**64), block_root=rng.randbytes(32), withdrawal_root=rng.randbytes(32),
            next_validator_set_hash=rng.choice([bytes(32), rng.randbytes(32)]))
        expected = l1.contract.functions.hashCheckpoint(checkpoint.as_tuple()).call()
        assert eip712_digest(checkpoint, L1_CHAIN_ID, l1.address) == expected


def test_python_domain_separator_equals_the_contract(l1):
    assert domain_separator(L1_CHAIN_ID, l1.address) == l1.contract.functions.domainSeparator().call()
    fields, name, version, chain_id, contract, _, _ = l1.contract.functions.eip712Domain().call()
    assert (name, version, chain_id, contract) == ("SidechainCheckpoints", "1", L1_CHAIN_ID, l1.address)


def test_the_digest_binds_every_field(l1):
    checkpoint = l1.next_checkpoint()
    base = eip712_digest(checkpoint, L1_CHAIN_ID, l1.address)
    changed = {
        "sidechain_chain_id": SIDECHAIN_CHAIN_ID + 1, "number": 2, "start_block": 2, "end_block": 9,
        "block_root": leaf(1, block_hash(1)), "withdrawal_root": bytes(32), "next_validator_set_hash": b"\x01" * 32,
    }
    for field, value in changed.items():
        other = dataclasses.replace(checkpoint, **{field: value})
        digest = l1.contract.functions.hashCheckpoint(other.as_tuple()).call()
        assert digest != base and digest == eip712_digest(other, L1_CHAIN_ID, l1.address), field
