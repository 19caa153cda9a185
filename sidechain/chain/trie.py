"""The state's Merkle-Patricia tries: Ethereum's exact encoding, so roots and `eth_getProof`
answers verify in standard tools (Yellow Paper appendix D).

`MerkleTrie` is native (sidechain/evm/src/trie.rs, in the project's one compiled extension): a
block's trie work (update, root, nodes to write) costs ~7 us per transfer in Rust where the Python
trie it replaced took ~25, and every validator does it for every block.

    MerkleTrie(root_hash=EMPTY_TRIE_ROOT, load_node=None)
        .root_hash            keccak256 of the root node's RLP (hashed lazily, new nodes only)
        .get(key)             the value under `key`, or None
        .proof(key)           RLP of the root and each hashed node on the path (also for absence)
        .update(items)        a new trie with (key, value) pairs applied (None or b"" deletes;
                              later items win); the old trie is unchanged and shares every
                              untouched node
        .new_nodes()          hash -> RLP of the nodes created since `mark_committed`
        .mark_committed()     those are written: stop reporting them, in every trie
        .load_node            the loader given (storage tries share the account trie's)

Nodes referenced by hash are read through `load_node(hash) -> bytes` (KeyError when absent) the
first time a walk needs them, checked against their hash, and kept. A missing node raises
`MissingTrieNode`, a malformed or mis-hashed one ValueError. A node is immutable once built
(caches are set once), so tries may be used from several threads.
"""

from __future__ import annotations

from typing import Callable

import rlp

from ..crypto import keccak256
from ..evm import MerkleTrie
from ..errors import MissingTrieNode

__all__ = ["MerkleTrie", "MissingTrieNode", "NodeLoader", "account_trie_key", "storage_trie_key", "storage_trie_value"]

NodeLoader = Callable[[bytes], bytes]
"""hash -> RLP of the node; raises KeyError if absent."""


def account_trie_key(address: bytes) -> bytes:
    """The account trie is a secure trie: accounts are keyed by keccak256(address)."""
    return keccak256(address)


def storage_trie_key(key: bytes) -> bytes:
    """Storage tries are secure tries too: a 32-byte storage key is keyed by its keccak256."""
    return keccak256(key)


def storage_trie_value(value: bytes) -> bytes | None:
    """What a storage trie holds for `value`: its RLP (Ethereum stores RLP of the stripped word);
    None deletes the key."""
    return rlp.encode(value) if value else None
