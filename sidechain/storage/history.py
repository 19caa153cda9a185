"""The committed chain read back: head, headers, blocks, receipts, state (head and historical) and
validator sets, over a ChainStore or a snapshot of one.

`ChainHistoryReader` is every read the node's services make of the final chain. `Blockchain`
(blockchain.py) is one, over the live database, and adds the writes; `ChainSnapshot`
(snapshot.py) is one over a LevelDB snapshot, for a request answered off the event loop. Both keep
the immutable things they read (headers by hash, validator sets by checkpoint range) in caches they
may share, since a final block never changes.
"""

from __future__ import annotations

from collections import OrderedDict

import rlp

from ..chain.blocks import Block, Header, Receipt
from ..chain.execution import next_base_fee
from ..chain.genesis import GenesisConfig
from ..chain.state import EMPTY_ACCOUNT, Account, StateReader
from ..chain.system.validator_set import current_set
from ..chain.trie import MerkleTrie, account_trie_key, storage_trie_key
from ..chain.validators import ValidatorSet
from ..errors import UnknownBlock
from .address_index import AddressIndex
from .evidence import EvidenceIndex
from .store import ChainStore


class TrieState:
    """Account and storage reads through the tries at a given root: historical state. Code is
    content-addressed, so any version of the state reads it from the one table."""

    def __init__(self, trie: MerkleTrie, load_code) -> None:
        self.trie = trie
        self.get_code = load_code

    def get_account(self, address: bytes) -> Account:
        data = self.trie.get(account_trie_key(address))
        return EMPTY_ACCOUNT if data is None else Account.decode(data)

    def get_storage(self, address: bytes, key: bytes) -> bytes:
        root = self.get_account(address).storage_root
        data = MerkleTrie(root, self.trie.load_node).get(storage_trie_key(key))
        return b"" if data is None else rlp.decode(data)


class ChainHistoryReader:
    """Reads of the final chain over `store`, whose newest block is `head`; see the module docstring."""

    HEADER_CACHE = 4096

    def __init__(self, store: ChainStore, genesis: GenesisConfig, genesis_hash: bytes, head: Header, *,
                 headers: OrderedDict[bytes, Header] | None = None,
                 validator_sets: dict[int, ValidatorSet] | None = None) -> None:
        self.store = store
        self.genesis = genesis
        self.genesis_hash = genesis_hash
        """Which chain this is; computed once (it serialises the whole allocation)."""
        self._headers: OrderedDict[bytes, Header] = headers if headers is not None else OrderedDict()
        self._validator_sets: dict[int, ValidatorSet] = validator_sets if validator_sets is not None else {}
        """Checkpoint range -> its validator set; read from several threads, so replaced, never reordered."""
        self.head = head
        self.trie = MerkleTrie(head.state_root, store.get_trie_node)

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

    def canonical_hash(self, number: int) -> bytes | None:
        """The hash of final block `number`, or None if there is none."""
        return self.store.get_canonical_hash(number)

    def certificate(self, block_hash: bytes) -> bytes | None:
        """The encoded commit certificate stored with a final block (empty for genesis)."""
        return self.store.get_certificate(block_hash)

    def evidence_index(self) -> EvidenceIndex:
        """The committed-evidence index over this chain's database (or snapshot)."""
        return EvidenceIndex(self.store.db)

    def address_index(self) -> AddressIndex:
        """The explorer's address index over this chain's database (or snapshot)."""
        return AddressIndex(self.store.db)

    def receipts(self, block_hash: bytes) -> list[Receipt]:
        return self.store.get_receipts(block_hash)

    def transaction_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        return self.store.get_tx_location(tx_hash)

    def state(self, number: int | None = None) -> StateReader:
        """State after block `number` (the head if None)."""
        if number is None or number == self.head.number:
            return self.store
        return TrieState(self._trie_after(number), self.store.get_code)

    def state_trie(self, number: int | None = None) -> MerkleTrie:
        """The account trie after block `number` (the head if None)."""
        if number is None or number == self.head.number:
            return self.trie
        return self._trie_after(number)

    def _trie_after(self, number: int) -> MerkleTrie:
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
        validators = current_set(TrieState(MerkleTrie(header.state_root, self.store.get_trie_node), self.store.get_code))
        if len(self._validator_sets) >= 64:
            self._validator_sets = {}
        self._validator_sets[epoch] = validators
        return validators

    def next_base_fee(self) -> int:
        return next_base_fee(self.head, self.genesis.base_fee)

    def block_hash(self, number: int) -> bytes:
        """The hash of final block `number` (zero if there is none): the EVM's BLOCKHASH."""
        return self.store.get_canonical_hash(number) or bytes(32)

    def _cache_header(self, block_hash: bytes, header: Header) -> None:
        self._headers[block_hash] = header
        if len(self._headers) > self.HEADER_CACHE:
            self._headers.popitem(last=False)

