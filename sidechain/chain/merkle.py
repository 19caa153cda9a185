"""Ordered binary Merkle trees over 32-byte leaves (transactions and receipts roots).

An odd node at any level is promoted unchanged; the root of no leaves is keccak256(b"").
Cost is one keccak per inner node, far below a Patricia trie's per-item RLP work.
"""

from __future__ import annotations

from ..crypto import keccak256

EMPTY_ROOT = keccak256(b"")


def ordered_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    level = leaves
    while len(level) > 1:
        nxt = [keccak256(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def ordered_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """Sibling hashes from leaf `index` to the root (a promoted node has no sibling at that level)."""
    proof = []
    level = leaves
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        nxt = [keccak256(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level, index = nxt, index // 2
    return proof
