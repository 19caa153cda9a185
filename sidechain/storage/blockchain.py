"""The chain as the node holds it: the store, the head, the committed state trie.

`Blockchain` is the one writer of blocks. Consensus asks it to build a proposal, to check one it
received, and to commit a block with its certificate. Building and checking are speculative: they
produce an `ExecutedBlock` (the block, its execution result and its post-state trie) without
touching the store, so a proposal that never commits costs nothing to drop.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import rlp

from ..chain.blocks import ZERO_ADDRESS, ZERO_HASH, Block, Header, Receipt, receipts_root, transactions_root
from ..chain.bloom import EMPTY_BLOOM
from ..chain.execution import BlockEnv, ExecutionResult, execute_transactions, next_base_fee
from ..chain.genesis import GenesisConfig
from ..chain.state import EMPTY_ACCOUNT, Account, StateReader
from ..chain.system import genesis_state
from ..chain.system.validator_set import current_set
from ..chain.transactions import Transaction
from ..chain.trie import MerkleTrie, account_trie_key, storage_trie_key, storage_trie_value
from ..chain.validators import ValidatorSet
from ..chain.validation import validate_body, validate_header_against_parent, validate_result
from ..errors import StorageError, UnknownBlock, mismatch
from .store import ChainStore


@dataclass(frozen=True, slots=True)
class ExecutedBlock:
    """A block whose transactions ran against its parent's state; ready to commit."""

    block: Block
    result: ExecutionResult
    trie: MerkleTrie
    """The account trie after the block (not yet persisted)."""
    storage_tries: tuple[MerkleTrie, ...] = ()
    """The storage tries of the contracts the block wrote to (not yet persisted)."""

    def new_nodes(self) -> dict[bytes, bytes]:
        nodes = self.trie.new_nodes()
        for trie in self.storage_tries:
            nodes.update(trie.new_nodes())
        return nodes

    def mark_committed(self) -> None:
        self.trie.mark_committed()
        for trie in self.storage_tries:
            trie.mark_committed()


class TrieState:
    """Account and storage reads through the tries at a given root: historical state."""

    def __init__(self, trie: MerkleTrie) -> None:
        self.trie = trie

    def get_account(self, address: bytes) -> Account:
        data = self.trie.get(account_trie_key(address))
        return EMPTY_ACCOUNT if data is None else Account.decode(data)

    def get_storage(self, address: bytes, key: bytes) -> bytes:
        root = self.get_account(address).storage_root
        data = MerkleTrie(root, self.trie.load_node).get(storage_trie_key(key))
        return b"" if data is None else rlp.decode(data)


class Blockchain:
    """Head, state and history over a ChainStore; see the module docstring."""

    HEADER_CACHE = 4096

    def __init__(self, store: ChainStore, genesis: GenesisConfig) -> None:
        self.store = store
        self.genesis = genesis
        self.genesis_hash = genesis.hash()
        """Which chain this is; computed once (it serialises the whole allocation)."""
        self._headers: OrderedDict[bytes, Header] = OrderedDict()
        stored_genesis = store.genesis_hash()
        if stored_genesis is None:
            self._write_genesis()
        elif stored_genesis != self.genesis_hash:
            raise StorageError(
                mismatch("this database belongs to another genesis", expected="0x" + self.genesis_hash.hex(), got="0x" + stored_genesis.hex())
            )
        head_hash = store.head_hash()
        self.head = self._require_header(head_hash)
        self.trie = MerkleTrie(self.head.state_root, store.get_trie_node)
        self._validator_sets: dict[int, ValidatorSet] = {}
        """Checkpoint range -> its validator set; read from several threads, so replaced, never reordered."""

    @classmethod
    def open(cls, data_dir: str | Path, genesis: GenesisConfig) -> "Blockchain":
        return cls(ChainStore(Path(data_dir) / "chaindata", genesis.chain_id), genesis)

    def close(self) -> None:
        self.store.close()

    # --- genesis ---------------------------------------------------------------------------------

    def _write_genesis(self) -> None:
        accounts, storage = genesis_state(ValidatorSet.from_genesis(self.genesis.validators))
        for address, balance in self.genesis.alloc:
            accounts[address] = Account(balance=balance)
        storage_by_address: dict[bytes, dict[bytes, bytes]] = {}
        for (address, key), value in storage.items():
            storage_by_address.setdefault(address, {})[key] = value
        trie, storage_tries, accounts = _post_state(MerkleTrie(load_node=self.store.get_trie_node), self.store, accounts,
                                                    storage_by_address)
        header = Header(
            parent_hash=ZERO_HASH, number=0, timestamp=self.genesis.timestamp, proposer=ZERO_ADDRESS,
            state_root=trie.root_hash, transactions_root=transactions_root(()), receipts_root=receipts_root(()),
            logs_bloom=EMPTY_BLOOM, gas_limit=self.genesis.gas_limit, gas_used=0, base_fee=self.genesis.base_fee,
            extra_data=self.genesis_hash,
        )
        executed = ExecutedBlock(Block(header, ()), None, trie, storage_tries)  # type: ignore[arg-type]
        self.store.commit_block(Block(header, ()), (), accounts, executed.new_nodes(), b"", storage=storage_by_address,
                                genesis_hash=self.genesis_hash)
        executed.mark_committed()

    # --- reads -----------------------------------------------------------------------------------

    @property
    def height(self) -> int:
        return self.head.number

    def header_by_hash(self, block_hash: bytes) -> Header | None:
        header = self._headers.get(block_hash)
        if header is None:
            header = self.store.get_header(block_hash)
            if header is not None:
                self._cache_header(block_hash, header)
        return header

    def header_by_number(self, number: int) -> Header | None:
        if number == self.head.number:
            return self.head
        block_hash = self.store.get_canonical_hash(number)
        return None if block_hash is None else self.header_by_hash(block_hash)

    def block_by_hash(self, block_hash: bytes) -> Block | None:
        return self.store.get_block(block_hash)

    def block_by_number(self, number: int) -> Block | None:
        block_hash = self.store.get_canonical_hash(number)
        return None if block_hash is None else self.store.get_block(block_hash)

    def receipts(self, block_hash: bytes) -> list[Receipt]:
        return self.store.get_receipts(block_hash)

    def transaction_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        return self.store.get_tx_location(tx_hash)

    def state(self, number: int | None = None) -> StateReader:
        """State after block `number` (the head if None)."""
        if number is None or number == self.head.number:
            return self.store
        header = self.header_by_number(number)
        if header is None:
            raise UnknownBlock(f"unknown block: number {number}, head is {self.head.number}")
        return TrieState(MerkleTrie(header.state_root, self.store.get_trie_node))

    def state_trie(self, number: int | None = None) -> MerkleTrie:
        if number is None or number == self.head.number:
            return self.trie
        header = self.header_by_number(number)
        if header is None:
            raise UnknownBlock(f"unknown block: number {number}, head is {self.head.number}")
        return MerkleTrie(header.state_root, self.store.get_trie_node)

    def validators_at(self, height: int) -> ValidatorSet:
        """The validator set that votes on block `height`: the one in the state after block height - 1.

        The set changes only after the last block of a checkpoint range, so it is known for every
        height up to the end of the head's next range, and cached per range. Raises UnknownBlock
        beyond that.
        """
        interval = self.genesis.checkpoint_interval
        epoch = (height - 1) // interval if interval > 0 else 0
        cached = self._validator_sets.get(epoch)
        if cached is not None:
            return cached
        next_height = self.head.number + 1
        if height > next_height:
            if interval > 0 and epoch != (next_height - 1) // interval:
                raise UnknownBlock(f"the validator set of block {height} is not known yet: head is {self.head.number}")
            height = next_height
        header = self.header_by_number(max(height - 1, 0))
        if header is None:
            raise UnknownBlock(f"the validator set of block {height} is not known: no block {height - 1}")
        # Through the trie at that block's root, never the flat head table, which a commit on
        # another thread could move between two reads.
        validators = current_set(TrieState(MerkleTrie(header.state_root, self.store.get_trie_node)))
        if len(self._validator_sets) >= 64:
            self._validator_sets = {}
        self._validator_sets[epoch] = validators
        return validators

    def next_base_fee(self) -> int:
        return next_base_fee(self.head, self.genesis.base_fee)

    # --- proposing, checking, committing ----------------------------------------------------------

    def build_block(self, proposer: bytes, timestamp: int, candidates: Iterable[Transaction], extra_data: bytes = b"") -> ExecutedBlock:
        """Execute `candidates` on the head state, leaving out invalid ones, and seal a block."""
        parent = self.head
        env = BlockEnv(parent.number + 1, max(timestamp, parent.timestamp), proposer, self.next_base_fee(), self.genesis.gas_limit,
                       self.genesis.checkpoint_interval)
        result = execute_transactions(self.store, env, candidates, skip_invalid=True)
        trie, storage_tries = self._post_state(result)
        header = Header(
            parent_hash=parent.hash, number=env.number, timestamp=env.timestamp, proposer=proposer,
            state_root=trie.root_hash, transactions_root=transactions_root(result.transactions),
            receipts_root=receipts_root(result.receipts), logs_bloom=result.logs_bloom,
            gas_limit=env.gas_limit, gas_used=result.gas_used, base_fee=env.base_fee, extra_data=extra_data,
        )
        return ExecutedBlock(Block(header, result.transactions), result, trie, storage_tries)

    def execute_block(self, block: Block) -> ExecutedBlock:
        """Check a block received from a proposer or a peer against the head; raises InvalidBlock
        or InvalidTransaction."""
        header = block.header
        validate_header_against_parent(header, self.head, gas_limit=self.genesis.gas_limit, base_fee_floor=self.genesis.base_fee)
        validate_body(block)
        env = BlockEnv(header.number, header.timestamp, header.proposer, header.base_fee, header.gas_limit,
                       self.genesis.checkpoint_interval)
        result = execute_transactions(self.store, env, block.transactions, skip_invalid=False)
        trie, storage_tries = self._post_state(result)
        validate_result(header, result, trie.root_hash)
        return ExecutedBlock(block, result, trie, storage_tries)

    def commit(self, executed: ExecutedBlock, certificate: bytes) -> None:
        """Make `executed` final: one atomic write, then move the in-memory head."""
        block = executed.block
        if block.header.parent_hash != self.head.hash:
            raise StorageError(f"commit of block {block.number} does not extend the head {self.head.number}")
        self.store.commit_block(block, executed.result.receipts, executed.result.changes, executed.new_nodes(), certificate,
                                storage=executed.result.storage)
        executed.mark_committed()
        self.trie = executed.trie
        self.head = block.header
        self._cache_header(block.hash, block.header)

    def _post_state(self, result: ExecutionResult) -> tuple[MerkleTrie, tuple[MerkleTrie, ...]]:
        trie, storage_tries, changes = _post_state(self.trie, self.store, result.changes, result.storage)
        result.changes.update(changes)  # the touched contracts' new storage roots
        return trie, storage_tries

    def _require_header(self, block_hash: bytes | None) -> Header:
        header = self.header_by_hash(block_hash) if block_hash else None
        if header is None:
            raise StorageError("database has no head block: it was not initialised by this node")
        return header

    def _cache_header(self, block_hash: bytes, header: Header) -> None:
        self._headers[block_hash] = header
        if len(self._headers) > self.HEADER_CACHE:
            self._headers.popitem(last=False)


def _post_state(trie: MerkleTrie, parent: StateReader, changes: dict[bytes, Account],
                storage: dict[bytes, dict[bytes, bytes]]) -> tuple[MerkleTrie, tuple[MerkleTrie, ...], dict[bytes, Account]]:
    """The account trie after `changes` and `storage`: each written contract's storage trie is
    updated first and its new root goes into its account. Returns (account trie, storage tries,
    the accounts with their storage roots)."""
    changes = dict(changes)
    storage_tries = []
    for address, words in storage.items():
        account = changes.get(address) or parent.get_account(address)
        storage_trie = MerkleTrie(account.storage_root, trie.load_node).update(
            (storage_trie_key(key), storage_trie_value(value)) for key, value in words.items()
        )
        storage_tries.append(storage_trie)
        changes[address] = Account(account.nonce, account.balance, storage_trie.root_hash, account.code_hash)
    account_trie = trie.update(
        (account_trie_key(address), None if account.is_empty else account.encode()) for address, account in changes.items()
    )
    return account_trie, tuple(storage_tries), changes
