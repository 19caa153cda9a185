"""An incremental, functional hexary Merkle-Patricia trie with Ethereum's exact encoding.

Roots and proofs equal Ethereum's (Yellow Paper appendix D), so `eth_getProof` answers verify in
standard tools. `update` returns a new trie that shares every untouched node with the old one;
nodes referenced by hash are loaded from `load_node` the first time they are walked and then kept,
so a long-lived committed trie stays warm from block to block. Hashing is lazy and touches only
the nodes created since the last hash.

Not thread-safe: tries derived from one another share node objects whose caches are filled in
place. Use one thread (the block executor) per family of tries.

Memory: about 550 bytes and two GC-tracked objects per account held in memory. CPython's full
collections scan every tracked object (~1 us each); nodes form no reference cycles, so a node can
`gc.freeze()` after each committed block to keep those pauses off the block path.
"""

from __future__ import annotations

from typing import Callable, Iterable

import rlp

from ..crypto import keccak256
from ..errors import MissingTrieNode, mismatch
from .state import EMPTY_TRIE_ROOT
from .trie_nodes import (
    HASH_PREFIX,
    Branch,
    Extension,
    Leaf,
    Node,
    build_subtrie,
    common_prefix_length,
    decode_node,
    encode_node,
    hash_node,
    key_to_nibbles,
)

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


class MerkleTrie:
    """An immutable view of one trie root; `update` derives new ones."""

    __slots__ = ("_root", "_load_node", "_root_hash", "_fresh", "_stale")

    def __init__(self, root_hash: bytes = EMPTY_TRIE_ROOT, load_node: NodeLoader | None = None) -> None:
        """Open the trie with `root_hash`, reading its nodes through `load_node` on demand."""
        if len(root_hash) != 32:
            raise ValueError(mismatch("trie root length", expected=32, got=len(root_hash)))
        self._load_node = load_node
        self._root: object = None if root_hash == EMPTY_TRIE_ROOT else HASH_PREFIX + root_hash
        self._root_hash: bytes | None = root_hash
        self._fresh: list | None = None
        self._stale: list | None = None

    @property
    def load_node(self) -> NodeLoader | None:
        """How this trie reads nodes from the database (storage tries share the account trie's)."""
        return self._load_node

    @classmethod
    def _derived(cls, root: object, load_node: NodeLoader | None) -> "MerkleTrie":
        trie = cls.__new__(cls)
        trie._root, trie._load_node, trie._root_hash = root, load_node, None
        trie._fresh = trie._stale = None
        return trie

    # --- reading ---------------------------------------------------------------------------------

    @property
    def root_hash(self) -> bytes:
        """keccak256 of the root node's RLP (the root is hashed even when shorter than 32 bytes)."""
        if self._root_hash is None:
            root = self._root
            if root is None:
                self._root_hash = EMPTY_TRIE_ROOT
            elif root.__class__ is bytes:
                self._root_hash = root[1:]
            else:
                ref = root.ref
                if ref is None:
                    self._fresh, self._stale = [], []
                    ref = hash_node(root, self._fresh, self._stale)
                self._root_hash = ref[1:] if len(ref) == 33 else keccak256(ref)
        return self._root_hash

    def get(self, key: bytes) -> bytes | None:
        """The value stored under `key`, or None."""
        path = key_to_nibbles(key)
        node, pos = self._resolved_root(), 0
        while node is not None:
            cls = node.__class__
            if cls is Leaf:
                return node.value if node.path == path[pos:] else None
            if cls is Extension:
                end = pos + len(node.path)
                if path[pos:end] != node.path:
                    return None
                node, pos = self._child(node), end
            elif pos == len(path):
                return node.value or None
            else:
                node, pos = self._slot(node, path[pos]), pos + 1
        return None

    def proof(self, key: bytes) -> list[bytes]:
        """RLP of the root and of each hashed node on the path to `key` (eth_getProof's format).

        Also a proof of absence when `key` is missing. Nodes under 32 bytes are inside their
        parent's RLP and not listed, as in go-ethereum.
        """
        self.root_hash  # every node on the path needs its reference
        path = key_to_nibbles(key)
        node, pos, out = self._resolved_root(), 0, []
        while node is not None:
            if not out or len(node.ref) == 33:
                out.append(node.enc or encode_node(node))
            cls = node.__class__
            if cls is Leaf:
                break
            if cls is Extension:
                end = pos + len(node.path)
                if path[pos:end] != node.path:
                    break
                node, pos = self._child(node), end
            elif pos == len(path):
                break
            else:
                node, pos = self._slot(node, path[pos]), pos + 1
        return out

    # --- writing ---------------------------------------------------------------------------------

    def update(self, items: Iterable[tuple[bytes, bytes | None]]) -> "MerkleTrie":
        """A new trie with `items` applied (None or b"" deletes); this trie is left unchanged.

        Later items win over earlier ones with the same key. Keys are applied in sorted order in
        one walk, so nodes shared by several keys are rebuilt once.
        """
        latest: dict[bytes, bytes] = {}
        for key, value in items:
            latest[key] = value or b""
        if not latest:
            return MerkleTrie._derived(self._root, self._load_node)._with_hash(self._root_hash)
        keys = sorted(latest)
        values = [latest[k] for k in keys]
        paths = [key_to_nibbles(k) for k in keys]
        root = self._apply(self._resolved_root(), 0, paths, values, 0, len(paths))
        return MerkleTrie._derived(root, self._load_node)

    def new_nodes(self) -> dict[bytes, bytes]:
        """hash -> RLP of every node created since the last `mark_committed` that the root reaches.

        Writing these makes this root loadable through `load_node` alone. The nodes hashed for
        this root were recorded while hashing; older dirty nodes are found from there, never
        entering clean subtrees, so the cost is proportional to the new nodes.
        """
        root_hash = self.root_hash
        root = self._root
        if root is None or root.__class__ is bytes:
            return {}
        out = {node.ref[1:]: node.enc for node in self._fresh or () if node.enc is not None}
        if len(root.ref) < 32:  # a short root is still stored under its hash
            out[root_hash] = root.ref
        for node in self._older_dirty():
            out[node.ref[1:]] = node.enc
        return out

    def mark_committed(self) -> None:
        """The nodes `new_nodes` returned are persisted: stop reporting them (in every trie)."""
        self.root_hash
        older = list(self._older_dirty())
        for node in self._fresh or ():
            node.enc = None
        for node in older:
            node.enc = None
        self._fresh, self._stale = [], []

    # --- internals -------------------------------------------------------------------------------

    def _older_dirty(self) -> Iterable[Node]:
        """Dirty nodes hashed before this root was: below `_stale`, or anywhere if the root's hash
        was known without hashing here."""
        if self._fresh is None:
            root = self._root
            self._fresh = []
            self._stale = [] if root is None or root.__class__ is bytes else [root]
        stack = list(self._stale)
        while stack:
            node = stack.pop()
            if node.enc is None:
                continue
            yield node
            if node.__class__ is Branch:
                for child in node.children:
                    if child is not None and child.__class__ is not bytes:
                        stack.append(child)
            elif node.__class__ is Extension and node.child.__class__ is not bytes:
                stack.append(node.child)

    def _with_hash(self, root_hash: bytes | None) -> "MerkleTrie":
        self._root_hash = root_hash
        return self

    def _load(self, ref: bytes) -> Node:
        node_hash = ref[1:]
        if self._load_node is None:
            raise MissingTrieNode(node_hash)
        try:
            data = self._load_node(node_hash)
        except KeyError:
            raise MissingTrieNode(node_hash) from None
        return decode_node(data)

    def _resolved_root(self) -> Node | None:
        if self._root.__class__ is bytes:
            self._root = self._load(self._root)
        return self._root

    def _child(self, node: Extension) -> Node:
        child = node.child
        if child.__class__ is bytes:
            child = node.child = self._load(child)
        return child

    def _slot(self, node: Branch, nibble: int) -> Node | None:
        child = node.children[nibble]
        if child.__class__ is bytes:
            child = node.children[nibble] = self._load(child)
        return child

    def _apply(self, node: Node | None, pos: int, paths: list, values: list, lo: int, hi: int) -> Node | None:
        """The subtrie at depth `pos` after applying paths[lo:hi] (sorted, sharing path[:pos])."""
        if node is None:
            return build_subtrie(pos, paths[lo:hi], values[lo:hi])
        cls = node.__class__
        if cls is Branch:
            return self._apply_branch(node, pos, paths, values, lo, hi)
        if cls is Leaf:
            full = paths[lo][:pos] + node.path
            if hi - lo == 1 and paths[lo] == full:
                value = values[lo]
                return node if value == node.value else (Leaf(node.path, value) if value else None)
            if full in paths[lo:hi]:
                return build_subtrie(pos, paths[lo:hi], values[lo:hi])
            if not any(values[lo:hi]):
                return node
            merged = sorted(zip(paths[lo:hi] + [full], values[lo:hi] + [node.value]))
            return build_subtrie(pos, [p for p, _ in merged], [v for _, v in merged])
        # Extension: keys under it share its path; the first and last key bound the overlap.
        ext = node.path
        end = pos + len(ext)
        first, last = paths[lo], paths[hi - 1]
        if first[pos:end] == ext and last[pos:end] == ext:
            child = self._child(node)
            new = self._apply(child, end, paths, values, lo, hi)
            return node if new is child else self._join(ext, new)
        split = min(common_prefix_length(first, ext, pos), common_prefix_length(last, ext, pos))
        rest = node.child if split + 1 == len(ext) else Extension(ext[split + 1 :], node.child)
        children = [None] * 16
        children[ext[split]] = rest
        pivot = Branch(children, b"")  # transient: one child and no value until keys land in it
        new = self._apply_branch(pivot, pos + split, paths, values, lo, hi)
        if new is pivot:
            return node
        return self._join(ext[:split], new) if split else new

    def _apply_branch(self, node: Branch, pos: int, paths: list, values: list, lo: int, hi: int) -> Node | None:
        children = node.children
        value = node.value
        new_children = None
        i = lo
        if len(paths[i]) == pos:
            value = values[i]
            i += 1
        while i < hi:
            nibble = paths[i][pos]
            j = i + 1
            while j < hi and paths[j][pos] == nibble:
                j += 1
            child = self._slot(node, nibble)
            if child is None and j == i + 1:  # the common case of a new key: skip the general path
                new = Leaf(paths[i][pos + 1 :], values[i]) if values[i] else None
            else:
                new = self._apply(child, pos + 1, paths, values, i, j)
            if new is not child:
                if new_children is None:
                    new_children = list(children)
                new_children[nibble] = new
            i = j
        if new_children is None:
            if value == node.value:
                return node
            new_children = list(children)
        live = 16 - new_children.count(None)
        if live >= 2 or (live == 1 and value):
            return Branch(new_children, value)
        if live == 0:
            return Leaf(b"", value) if value else None
        # One child and no value left: Ethereum forbids such a branch; fold it into its child.
        nibble = next(n for n, c in enumerate(new_children) if c is not None)
        if new_children[nibble].__class__ is bytes:
            new_children[nibble] = self._load(new_children[nibble])
        return self._join(bytes((nibble,)), new_children[nibble])

    def _join(self, prefix: bytes, node: Node | None) -> Node | None:
        """`node` moved `prefix` nibbles deeper into the key: merge the prefix into its path."""
        cls = node.__class__
        if cls is Leaf:
            return Leaf(prefix + node.path, node.value)
        if cls is Extension:
            return Extension(prefix + node.path, node.child)
        if cls is Branch:
            return Extension(prefix, node)
        return None
