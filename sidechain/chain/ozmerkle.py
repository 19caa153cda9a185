"""Merkle trees in OpenZeppelin's convention, so `MerkleProof.verify` on L1 accepts these proofs.

- A leaf is double-hashed: keccak256(keccak256(abi.encode(values...))). The inner hash of 32 bytes
  cannot be mistaken for an inner node (the hash of 64 bytes), which rules out second preimages.
- A pair is hashed sorted: keccak256(min(a, b) ++ max(a, b)), so a proof is a plain list of siblings.
- Leaves keep the order they are given in (block order, withdrawal order). An odd node at the end
  of a level is promoted unchanged to the next level and has no sibling there.
- The root of one leaf is the leaf; the root of no leaves is EMPTY_ROOT = keccak256(b""), the value
  the contract calls EMPTY_WITHDRAWALS_ROOT (non-zero, and no leaf can hash to it in practice).

Pure functions, no I/O: the sidechain builds checkpoint roots and withdrawal proofs with them, and
bridge.merkle re-exports them for the L1 side.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode

from ..crypto import keccak256

EMPTY_ROOT = keccak256(b"")
"""The root of a tree without leaves: keccak256 of the empty string (CheckpointManager.EMPTY_WITHDRAWALS_ROOT)."""


def abi_leaf(types: Sequence[str], values: Sequence[object]) -> bytes:
    """keccak256(keccak256(abi.encode(values))): OpenZeppelin's double-hashed leaf for any record."""
    return keccak256(keccak256(encode(list(types), list(values))))


def leaf(block_number: int, block_hash: bytes) -> bytes:
    """The leaf of sidechain block `block_number` in a checkpoint's blockRoot (abi.encode(uint64, bytes32))."""
    return abi_leaf(("uint64", "bytes32"), (block_number, block_hash))


WITHDRAWAL_LEAF_TYPES = ("uint64", "address", "address", "uint256")
"""RootBridge.Withdrawal as abi.encode sees it: (id, L1 token, L1 recipient, amount); token 0 = ETH."""


def withdrawal_leaf(withdrawal_id: int, l1_token: bytes, l1_recipient: bytes, amount: int) -> bytes:
    """The leaf of a withdrawal in a checkpoint's withdrawalRoot; RootBridge.exit rebuilds it on L1."""
    return abi_leaf(WITHDRAWAL_LEAF_TYPES, (withdrawal_id, l1_token, l1_recipient, amount))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative node hash: the keccak of the two children in ascending order."""
    return keccak256(a + b if a < b else b + a)


def merkle_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first and the root's level last; [] for no leaves."""
    if any(len(x) != 32 for x in leaves):
        raise ValueError("every Merkle leaf must be 32 bytes")
    if not leaves:
        return []
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            parents.append(level[-1])
        levels.append(parents)
    return levels


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root over `leaves` in their order; EMPTY_ROOT for none."""
    levels = merkle_levels(leaves)
    return levels[-1][0] if levels else EMPTY_ROOT


def proof_from_levels(levels: list[list[bytes]], index: int) -> list[bytes]:
    """The sibling hashes from leaf `index` up to the root, given the tree's `merkle_levels`.

    Build the levels once and call this per leaf when proving many leaves of one tree.
    """
    if not levels or not 0 <= index < len(levels[0]):
        raise IndexError(f"leaf index {index} out of range for {len(levels[0]) if levels else 0} leaves")
    proof = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        index //= 2
    return proof


def merkle_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The proof of leaf `index` that `MerkleProof.verify(proof, root, leaves[index])` accepts."""
    return proof_from_levels(merkle_levels(leaves), index)


def verify_proof(proof: Sequence[bytes], root: bytes, leaf_hash: bytes) -> bool:
    """OpenZeppelin's `MerkleProof.verify`: fold the proof into the leaf and compare with `root`."""
    node = leaf_hash
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
