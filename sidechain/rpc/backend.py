"""What the JSON-RPC layer needs from the node, and nothing more.

The RPC layer reads the chain (`Blockchain`) and the pool (`Mempool`) directly; everything that
changes the node goes through the methods here, so the RPC layer never owns node state.
"""

from __future__ import annotations

from typing import Protocol

from ..mempool.pool import Mempool
from ..storage.blockchain import Blockchain


class RpcBackend(Protocol):
    chain: Blockchain
    """Committed blocks, receipts, state (head and historical) and the head header."""
    mempool: Mempool
    """Pending and queued transactions."""

    @property
    def chain_id(self) -> int: ...

    def peer_count(self) -> int:
        """Connected validator peers (0 for a one-validator network)."""
        ...

    def sync_status(self) -> dict | None:
        """None when in sync; else {"startingBlock", "currentBlock", "highestBlock"} as ints."""
        ...

    def submit_transaction(self, raw: bytes) -> bytes:
        """Decode, check and pool a raw transaction; returns its hash. Raises the SidechainError
        subclass of the rule it breaks (InvalidTransaction, MempoolError)."""
        ...

    def consensus_status(self) -> dict:
        """JSON-ready view of the consensus engine (height, round, step, validators)."""
        ...
