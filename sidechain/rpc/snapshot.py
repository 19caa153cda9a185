"""One consistent view of the chain for a request that runs on a worker thread.

The consensus loop commits blocks while worker threads answer heavy reads, and a commit moves the
head pointer, the flat `address -> account` table and the in-memory head header together only as
seen from the loop. So a request that leaves the loop takes, on the loop (where no commit can be
half done), a `ChainSnapshot`: the head header of that instant and a LevelDB snapshot of the
database at the same instant. Every read of the request goes through it: "latest" stays that head
for the whole request, the flat state table is the one of that head, and a block committed
meanwhile is simply not there yet. LevelDB snapshots are cheap (a sequence number) and safe to
read from any thread; the snapshot is released when the request ends.

`ChainSnapshot` is a read-only `Blockchain`: the same methods over the snapshot's store, sharing the
live chain's caches of immutable things (headers by hash, validator sets by range).
"""

from __future__ import annotations

from ..chain.trie import MerkleTrie
from ..errors import StorageError
from ..storage.blockchain import Blockchain
from ..storage.store import ChainStore


class SnapshotStore(ChainStore):
    """ChainStore's reads over a plyvel snapshot (same `get` interface as the database)."""

    def __init__(self, store: ChainStore) -> None:  # noqa: super().__init__ would open a database
        self.db = store.db.snapshot()
        self.chain_id = store.chain_id

    def close(self) -> None:
        self.db.close()

    def commit_block(self, *args, **kwargs) -> None:
        raise StorageError("a chain snapshot is read-only")


class ChainSnapshot(Blockchain):
    """The chain as it was when taken; see the module docstring. Take it on the event loop."""

    def __init__(self, chain: Blockchain) -> None:  # noqa: no genesis writing, no head lookup
        self.live = chain
        self.store = SnapshotStore(chain.store)
        self.genesis = chain.genesis
        self.executor = chain.executor
        self.genesis_hash = chain.genesis_hash
        self.head = chain.head
        self._headers = chain._headers
        self._validator_sets = chain._validator_sets
        self.trie = MerkleTrie(self.head.state_root, self.store.get_trie_node)

    def close(self) -> None:
        """Release the LevelDB snapshot (the live chain stays open)."""
        self.store.close()

    def commit(self, executed, certificate: bytes) -> None:
        raise StorageError("a chain snapshot is read-only")
