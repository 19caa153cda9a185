"""What the node's services need of the chain and of the transaction pool, and nothing more.

The consensus driver, block sync, gossip, the checkpoint signer and the RPC layer depend on these
protocols, not on `storage.blockchain.Blockchain` and `mempool.pool.Mempool` (reth's
`storage-api` and `transaction-pool` traits, cometbft's narrow interfaces in `consensus/state.go`):
a consumer names what it reads, a test can hand it a small fake, and no one reaches through the
chain into its store. It sits just above storage (it names execution's and storage's record types,
never their classes that do the work), so every consumer may import it; `Blockchain` and `Mempool`
satisfy the protocols structurally, without importing this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .chain.blocks import Block, Header
from .chain.genesis import GenesisConfig
from .chain.state import StateReader
from .chain.transactions import Transaction
from .chain.validators import ValidatorSet
from .execution.executor import ExecutedBlock
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
