"""One consistent view of the final chain for reads on another thread while blocks commit.

The consensus loop commits blocks while worker threads answer heavy RPC reads, and a commit moves
the head pointer, the flat `address -> account` table and the in-memory head header together only
as seen from the loop. So a request that leaves the loop takes, on the loop (where no commit can
be half done), a `ChainSnapshot` (`Blockchain.snapshot()`): the head header of that instant and a
LevelDB snapshot of the database at the same instant. Every read through it sees that head: the
flat state table is the one of that head, and a block committed meanwhile is simply not there yet.
LevelDB snapshots are cheap (a sequence number) and safe to read from any thread; `close` releases
it.

A snapshot has the reads of the live chain (`ChainHistoryReader`) and none of its writes, and
shares its caches of immutable things (headers by hash, validator sets by range).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import StorageError
from .history import ChainHistoryReader
from .store import ChainStore

if TYPE_CHECKING:
    from .blockchain import Blockchain


class SnapshotStore(ChainStore):
    """ChainStore's reads over a plyvel snapshot (same `get` interface as the database)."""

    def __init__(self, store: ChainStore) -> None:  # noqa: super().__init__ would open a database
        self.db = store.db.snapshot()
        self.chain_id = store.chain_id

    def close(self) -> None:
        self.db.close()

    def commit_block(self, *args, **kwargs) -> None:
        raise StorageError("a chain snapshot is read-only")


class ChainSnapshot(ChainHistoryReader):
    """The chain as it was when taken; see the module docstring."""

    def __init__(self, chain: "Blockchain") -> None:
        super().__init__(SnapshotStore(chain.store), chain.genesis, chain.genesis_hash, chain.head,
                         headers=chain._headers, validator_sets=chain._validator_sets)

    def close(self) -> None:
        """Release the LevelDB snapshot (the live chain stays open)."""
        self.store.close()
