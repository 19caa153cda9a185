"""What the node's services need of the chain and of the transaction pool, and nothing more.

The consensus driver, block sync, gossip, the checkpoint signer and the RPC layer depend on these
protocols (the first four on `ChainReader` or `ChainWriter`, RPC on `ChainHistory` and its
snapshots), not on `storage.blockchain.Blockchain` and `mempool.pool.Mempool` (reth's
`storage-api` and `transaction-pool` traits, cometbft's narrow interfaces in `consensus/state.go`):
a consumer names what it reads, a test can hand it a small fake, and no one reaches through the
chain into its store. It sits just above storage (it names execution's and storage's record types,
never their classes that do the work), so every consumer may import it; `Blockchain` and `Mempool`
satisfy the protocols structurally, without importing this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .chain.blocks import Block, Header, Receipt
from .chain.genesis import GenesisConfig
from .chain.state import StateReader
from .chain.transactions import Transaction
from .chain.trie import MerkleTrie
from .chain.validators import ValidatorSet
from .execution.executor import ExecutedBlock
from .storage.address_index import AddressIndex
from .storage.evidence import EvidenceIndex


class ChainReader(Protocol):
    """The final chain: its head, history and validator sets."""

    genesis: GenesisConfig
    genesis_hash: bytes
    """Which chain this is (peers on another genesis are refused)."""
    head: Header
    """The header of the newest final block."""

    @property
    def height(self) -> int:
        """The newest final block's number."""
        ...

    def block_by_number(self, number: int) -> Block | None:
        """A final block without its evidence records (the evidence index holds them)."""
        ...

    def certificate(self, block_hash: bytes) -> bytes | None:
        """The encoded commit certificate stored with a final block."""
        ...

    def validators_at(self, height: int) -> ValidatorSet:
        """The set voting on block `height`; raises UnknownBlock beyond the head's next range."""
        ...

    def next_base_fee(self) -> int:
        """The base fee of the block after the head (EIP-1559)."""
        ...

    def state(self, number: int | None = None) -> StateReader:
        """Accounts and storage after block `number` (the head if None)."""
        ...

    def evidence_index(self) -> EvidenceIndex:
        """The committed-evidence index over the chain's database."""
        ...


class ChainHistory(ChainReader, Protocol):
    """Every read of the final chain, for the RPC layer and the checkpoint rules: the reader plus
    headers, blocks and receipts by hash and number, where a transaction is, the state trie and the
    explorer's address index."""

    def header_by_hash(self, block_hash: bytes) -> Header | None: ...

    def header_by_number(self, number: int) -> Header | None: ...

    def block_by_hash(self, block_hash: bytes) -> Block | None: ...

    def canonical_hash(self, number: int) -> bytes | None:
        """The hash of final block `number`, or None if there is none."""
        ...

    def block_hash(self, number: int) -> bytes:
        """The EVM's BLOCKHASH: the hash of final block `number`, zero if there is none."""
        ...

    def receipts(self, block_hash: bytes) -> list[Receipt]: ...

    def transaction_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        """(block number, index in the block) of a final transaction, or None."""
        ...

    def state_trie(self, number: int | None = None) -> MerkleTrie:
        """The account trie after block `number` (the head if None), for proofs."""
        ...

    def address_index(self) -> AddressIndex:
        """Each address's transactions and transfers, newest first (the explorer's history)."""
        ...


class HistorySnapshot(ChainHistory, Protocol):
    """The final chain as it was when taken, read from any thread; release it with `close`."""

    def close(self) -> None: ...


class SnapshotSource(ChainHistory, Protocol):
    """The live final chain, whose snapshots requests off the event loop read."""

    def snapshot(self) -> HistorySnapshot:
        """The chain as it is now; take it on the event loop, where no commit is half done."""
        ...


class ChainWriter(ChainReader, Protocol):
    """The reader plus what consensus and sync do to the chain: build, check, commit."""

    def build_block(self, proposer: bytes, timestamp: int, candidates: Iterable[Transaction]) -> ExecutedBlock:
        """Execute `candidates` on the head state, leaving out invalid ones, and seal a block."""
        ...

    def execute_block(self, block: Block) -> ExecutedBlock:
        """Check a received block against the head; raises InvalidBlock or InvalidTransaction."""
        ...

    def commit(self, executed: ExecutedBlock, certificate: bytes) -> None:
        """Make `executed` final in one atomic write."""
        ...


class TxPool(Protocol):
    """Pending and queued transactions, checked against the state the caller passes."""

    @property
    def pending_count(self) -> int: ...

    @property
    def queued_count(self) -> int: ...

    def get(self, tx_hash: bytes) -> Transaction | None:
        """A pooled transaction (its sender already recovered), or None."""
        ...

    def add(self, tx: Transaction, state: StateReader, base_fee: int, now: float) -> None:
        """Pool `tx`; raises the MempoolError or InvalidTransaction of the rule it breaks."""
        ...

    def select(self, state: StateReader, base_fee: int, gas_limit: int) -> list[Transaction]:
        """A block's transactions, in the order to execute them."""
        ...

    def on_block(self, included: Iterable[Transaction], state: StateReader, base_fee: int, now: float) -> None:
        """A block became final: drop what it included, re-check its senders against `state`."""
        ...

    def pending_nonce(self, sender: bytes, state: StateReader) -> int:
        """The nonce of `sender`'s next transaction, counting the pooled ones."""
        ...

    def content(self) -> tuple[dict[bytes, dict[int, Transaction]], dict[bytes, dict[int, Transaction]]]:
        """(pending, queued), each by sender then nonce (txpool_content)."""
        ...
