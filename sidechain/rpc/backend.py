"""What the JSON-RPC layer needs from the node, and nothing more.

The RPC layer reads the final chain (a `SnapshotSource`: requests answered on worker threads read
one of its snapshots) and the pool (a `TxPool`) directly; everything that changes the node goes through the methods here, so
the RPC layer never owns node state. `consensus_status_json` is the one place that turns the
driver's typed status into what sidechain_consensusStatus answers.
"""

from __future__ import annotations

from typing import Protocol

from ..chain.blocks import Header
from ..consensus.status import ConsensusStatus
from ..errors import SidechainError
from ..interfaces import SnapshotSource, TxPool


class RpcBackend(Protocol):
    chain: SnapshotSource
    """Committed blocks, receipts, state (head and historical) and the head header."""
    mempool: TxPool
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

    async def submit_transactions(self, raws: list[bytes]) -> list[bytes | SidechainError]:
        """`submit_transaction` of each, in order (a JSON-RPC batch's run of eth_sendRawTransaction):
        each one's hash or the SidechainError it raised; the decoding may leave the event loop."""
        ...

    def consensus_status(self) -> dict:
        """JSON-ready view of the consensus engine (height, round, step, validators): for a
        validator node, `consensus_status_json` of its driver's status."""
        ...


async def submit_one_by_one(submit, raws: list[bytes]) -> list[bytes | SidechainError]:
    """`RpcBackend.submit_transactions` by way of `submit(raw)` for each (a backend without a faster way)."""
    outcomes: list[bytes | SidechainError] = []
    for raw in raws:
        try:
            outcomes.append(submit(raw))
        except SidechainError as exc:
            outcomes.append(exc)
    return outcomes


def consensus_status_json(status: ConsensusStatus, *, peers: int, peer_id: str | None, finalized: Header) -> dict:
    """sidechain_consensusStatus: the driver's status, the node's peers and its last final block."""
    return {
        "height": status.height,
        "round": status.round,
        "step": status.step.name.lower(),
        "lockedRound": status.locked_round,
        "validRound": status.valid_round,
        "proposer": "0x" + status.proposer.hex(),
        "validators": ["0x" + address.hex() for address in status.validators],
        "isValidator": status.is_validator,
        "pendingEvidence": status.pending_evidence,
        "peers": peers,
        "peerId": peer_id,
        "finalized": {"number": finalized.number, "hash": "0x" + finalized.hash.hex()},
        "lastCommitSeconds": round(status.last_commit_seconds, 4),
    }
