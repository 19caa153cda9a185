"""The chain as the node holds it: the one writer of blocks, over the reads of history.py.

Consensus asks `Blockchain` to build a proposal, to check one it received, and to commit a block
with its certificate; building and checking are the block executor's (execution/executor.py), run
on the head's state, and speculative: nothing is written until `commit`. Everything else it
answers is a read of the final chain (`ChainHistoryReader`); a request answered off the event loop
reads a `snapshot()` of it instead, which no commit moves.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..chain.blocks import Block, Header
from ..chain.genesis import GenesisConfig
from ..chain.transactions import Transaction
from ..errors import StorageError, mismatch
from ..execution.executor import BlockExecutor, ExecutedBlock, ParentState
from .history import ChainHistoryReader
from .snapshot import ChainSnapshot
from .store import ChainStore


class Blockchain(ChainHistoryReader):
    """The final chain over a ChainStore, and its one writer; see the module docstring."""

    def __init__(self, store: ChainStore, genesis: GenesisConfig) -> None:
        self.executor = BlockExecutor(genesis)
        genesis_hash = genesis.hash()
        stored_genesis = store.genesis_hash()
        if stored_genesis is None:
            self._write_genesis(store, genesis_hash)
        elif stored_genesis != genesis_hash:
            raise StorageError(
                mismatch("this database belongs to another genesis", expected="0x" + genesis_hash.hex(), got="0x" + stored_genesis.hex())
            )
        super().__init__(store, genesis, genesis_hash, _stored_head(store))

    @classmethod
    def open(cls, data_dir: str | Path, genesis: GenesisConfig) -> "Blockchain":
        return cls(ChainStore(Path(data_dir) / "chaindata", genesis.chain_id), genesis)

    def close(self) -> None:
        self.store.close()

    # --- genesis ---------------------------------------------------------------------------------

    def _write_genesis(self, store: ChainStore, genesis_hash: bytes) -> None:
        executed = self.executor.genesis_block(genesis_hash, store.get_trie_node)
        result = executed.result
        store.commit_block(executed.block, (), result.changes, executed.new_nodes(), b"", storage=result.storage,
                           code=result.code, genesis_hash=genesis_hash)
        executed.mark_committed()

    # --- reads off the event loop ------------------------------------------------------------------

    def snapshot(self) -> ChainSnapshot:
        """The chain as it is now, for reads on another thread while blocks commit; close it after.
        Take it on the event loop, where no commit is half done."""
        return ChainSnapshot(self)

    # --- proposing, checking, committing ----------------------------------------------------------

    def _head_parent(self) -> ParentState:
        return ParentState(self.head, self.store, self.trie, self.block_hash)

    def build_block(self, proposer: bytes, timestamp: int, candidates: Iterable[Transaction], extra_data: bytes = b"") -> ExecutedBlock:
        """Execute `candidates` on the head state, leaving out invalid ones, and seal a block."""
        return self.executor.build(self._head_parent(), proposer, timestamp, candidates, extra_data)

    def execute_block(self, block: Block) -> ExecutedBlock:
        """Check a block received from a proposer or a peer against the head; raises InvalidBlock
        or InvalidTransaction."""
        return self.executor.execute(self._head_parent(), block)

    def commit(self, executed: ExecutedBlock, certificate: bytes) -> None:
        """Make `executed` final: one atomic write, then move the in-memory head."""
        block = executed.block
        if block.header.parent_hash != self.head.hash:
            raise StorageError(f"commit of block {block.number} does not extend the head {self.head.number}")
        result = executed.result
        self.store.commit_block(block, result.receipts, result.changes, executed.new_nodes(), certificate,
                                storage=result.storage, code=result.code)
        executed.mark_committed()
        self.trie = executed.trie
        self.head = block.header
        self._cache_header(block.hash, block.header)



def _stored_head(store: ChainStore) -> Header:
    head_hash = store.head_hash()
    header = store.get_header(head_hash) if head_hash else None
    if header is None:
        raise StorageError("database has no head block: it was not initialised by this node")
    return header
