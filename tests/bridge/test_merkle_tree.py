"""bridge.merkle on its own: OpenZeppelin's conventions, checked by hand-built trees."""

from __future__ import annotations

import pytest
from eth_abi import encode

from bridge.merkle import (EMPTY_ROOT, abi_leaf, hash_pair, leaf, merkle_levels, merkle_proof, merkle_root,
                           proof_from_levels, verify_proof)
from sidechain.crypto import keccak256


def leaves(n: int) -> list[bytes]:
    return [leaf(i + 1, keccak256(bytes([i]))) for i in range(n)]


def test_a_block_leaf_is_the_double_hash_of_the_abi_encoded_pair():
    block_hash = keccak256(b"block 7")

    assert leaf(7, block_hash) == keccak256(keccak256((7).to_bytes(32, "big") + block_hash))
    assert leaf(7, block_hash) == abi_leaf(["uint256", "bytes32"], [7, block_hash])  # uint64 pads like uint256


def test_withdrawal_style_leaves_use_the_same_rule():
    record = [3, b"\x11" * 20, b"\x22" * 20, 10**18]
    types = ["uint256", "address", "address", "uint256"]

    assert abi_leaf(types, record) == keccak256(keccak256(encode(types, record)))


def test_pairs_hash_in_ascending_order():
    a, b = keccak256(b"a"), keccak256(b"b")
    low, high = sorted([a, b])

    assert hash_pair(a, b) == hash_pair(b, a) == keccak256(low + high)


def test_small_trees_by_hand():
    l1, l2, l3 = leaves(3)

    assert merkle_root([]) == EMPTY_ROOT == keccak256(b"")
    assert merkle_root([l1]) == l1 and merkle_proof([l1], 0) == []
    assert merkle_root([l1, l2]) == hash_pair(l1, l2)
    assert merkle_root([l1, l2, l3]) == hash_pair(hash_pair(l1, l2), l3)  # the odd node is promoted
    assert merkle_proof([l1, l2, l3], 2) == [hash_pair(l1, l2)]
    assert merkle_proof([l1, l2, l3], 0) == [l2, l3]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33])
def test_every_proof_verifies_and_no_other_leaf_does(size):
    tree = leaves(size)
    root = merkle_root(tree)
    levels = merkle_levels(tree)

    for index, item in enumerate(tree):
        proof = merkle_proof(tree, index)
        assert proof == proof_from_levels(levels, index)
        assert verify_proof(proof, root, item)
        assert not verify_proof(proof, root, keccak256(item))
        assert len(proof) <= max(1, (size - 1).bit_length())


def test_leaf_order_matters():
    tree = leaves(4)

    assert merkle_root(tree) != merkle_root([tree[0], tree[2], tree[1], tree[3]])


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        merkle_root([b"short"])
    with pytest.raises(IndexError):
        merkle_proof(leaves(3), 3)
    with pytest.raises(IndexError):
        merkle_proof([], 0)
