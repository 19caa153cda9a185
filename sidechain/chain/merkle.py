"""Ordered binary Merkle trees over 32-byte leaves (transactions and receipts roots).

Leaves and inner nodes are hashed under different one-byte prefixes, as in RFC 6962 (Certificate
Transparency): a leaf is keccak256(0x00 || leaf), an inner node keccak256(0x01 || left || right),
so no inner node can pass for a leaf in a proof (a second preimage). An odd node at any level is
promoted unchanged; the root of no leaves is keccak256(b""). Cost is one keccak per leaf and per
inner node, far below a Patricia trie's per-item RLP work.
"""

from __future__ import annotations

from ..crypto import keccak256
from ..evm import ordered_root as _native_root

EMPTY_ROOT = keccak256(b"")
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def _leaf_level(leaves: list[bytes]) -> list[bytes]:
    return [keccak256(LEAF_PREFIX + leaf) for leaf in leaves]


def _parents(level: list[bytes]) -> list[bytes]:
    parents = [keccak256(NODE_PREFIX + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        parents.append(level[-1])
    return parents


def ordered_root(leaves: list[bytes]) -> bytes:
    """The root over `leaves`, computed natively (sidechain/evm/src/records.rs): every block's
    transactions and receipts roots, on every validator."""
    return _native_root(leaves)


def ordered_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """Sibling hashes from leaf `index` to the root (a promoted node has no sibling at that level).

    A verifier starts from keccak256(0x00 || leaf) and hashes up with keccak256(0x01 || left || right).
    """
    proof = []
    level = _leaf_level(leaves)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        level, index = _parents(level), index // 2
    return proof
