"""Headers, blocks, receipts and logs: their RLP encodings and hashes.

The header is the sidechain's own (no PoW fields), RLP-encoded and keccak-hashed like Ethereum's.
Receipts use Ethereum's consensus encoding (typed envelope for type-1/2 transactions), so a client
that knows Ethereum receipts can check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rlp

from ..crypto import keccak256
from ..errors import InvalidBlock
from .bloom import EMPTY_BLOOM, bloom_of_logs
from .codec import encode_items, uint
from .merkle import ordered_root
from .transactions import LEGACY_TX, Transaction, decode_transaction

ZERO_HASH = b"\x00" * 32
ZERO_ADDRESS = b"\x00" * 20


@dataclass(frozen=True, slots=True)
class Header:
    """A block header; its keccak256 over RLP is the block hash."""

    parent_hash: bytes
    number: int
    timestamp: int
    """Unix seconds, set by the proposer; never below the parent's (blocks may come faster than 1/s)."""
    proposer: bytes
    """20-byte address of the validator that proposed the block (Ethereum's coinbase/miner)."""
    state_root: bytes
    """Root of the account trie after the block (Ethereum Merkle-Patricia trie)."""
    transactions_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    gas_limit: int
    gas_used: int
    base_fee: int
    extra_data: bytes = b""
    """Consensus data (round, validator set hash); at most 97 bytes."""

    def fields(self) -> list:
        return [
            self.parent_hash, self.number, self.timestamp, self.proposer, self.state_root,
            self.transactions_root, self.receipts_root, self.logs_bloom, self.gas_limit,
            self.gas_used, self.base_fee, self.extra_data,
        ]

    def raw_fields(self) -> list[bytes]:
        """fields() with integers as RLP's minimal big-endian bytes."""
        return [uint(f) if isinstance(f, int) else f for f in self.fields()]

    def encode(self) -> bytes:
        return encode_items(self.raw_fields())

    @property
    def hash(self) -> bytes:
        return keccak256(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> "Header":
        f = rlp.decode(data)
        if not isinstance(f, list) or len(f) != 12 or not all(isinstance(item, bytes) for item in f):
            raise InvalidBlock("malformed header: expected a 12-item RLP list of byte strings")
        u = _to_int
        return cls(f[0], u(f[1]), u(f[2]), f[3], f[4], f[5], f[6], f[7], u(f[8]), u(f[9]), u(f[10]), f[11])


@dataclass(frozen=True, slots=True)
class Block:
    header: Header
    transactions: tuple[Transaction, ...]
    hash: bytes = field(default=b"", compare=False)
    """Filled from the header on construction; cached because it is asked for constantly."""

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", self.header.hash)

    @property
    def number(self) -> int:
        return self.header.number

    def encode(self) -> bytes:
        """Wire form: [header fields, [raw transaction, ...]]."""
        return encode_items([self.header.raw_fields(), [tx.raw for tx in self.transactions]])

    @classmethod
    def decode(cls, data: bytes, chain_id: int, senders: list[bytes] | None = None) -> "Block":
        """Decode a block; transactions' senders are recovered unless already known (`senders`)."""
        try:
            header_fields, raws = rlp.decode(data)
            header = Header.decode(rlp.encode(header_fields))
        except (rlp.DecodingError, ValueError, TypeError) as exc:
            raise InvalidBlock(f"malformed block: {exc}") from None
        if not isinstance(raws, list) or not all(isinstance(raw, bytes) for raw in raws):
            raise InvalidBlock("malformed block: transactions must be a list of byte strings")
        if senders is None:
            txs = tuple(decode_transaction(raw, chain_id, header.gas_limit) for raw in raws)
        else:
            txs = tuple(decode_transaction(raw, chain_id, sender=s) for raw, s in zip(raws, senders, strict=True))
        return cls(header, txs)


@dataclass(frozen=True, slots=True)
class Log:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes

    def fields(self) -> list:
        return [self.address, list(self.topics), self.data]


@dataclass(frozen=True, slots=True)
class Receipt:
    """The outcome of one transaction, in Ethereum's receipt shape."""

    tx_type: int
    status: int
    """1 success, 0 failure."""
    cumulative_gas_used: int
    logs: tuple[Log, ...]
    gas_used: int
    """Not part of the consensus encoding; kept for RPC."""
    effective_gas_price: int
    """Not part of the consensus encoding; kept for RPC."""

    @property
    def bloom(self) -> bytes:
        return bloom_of_logs(self.logs) if self.logs else EMPTY_BLOOM

    def consensus_encoding(self) -> bytes:
        """Ethereum's receipt encoding (EIP-2718 envelope for typed transactions)."""
        body = encode_items([uint(self.status), uint(self.cumulative_gas_used), self.bloom, [log.fields() for log in self.logs]])
        return body if self.tx_type == LEGACY_TX else bytes([self.tx_type]) + body

    def storage_encoding(self) -> bytes:
        """What the store keeps: the consensus fields plus the per-transaction gas and price."""
        return encode_items([
            uint(self.tx_type), uint(self.status), uint(self.cumulative_gas_used),
            [log.fields() for log in self.logs], uint(self.gas_used), uint(self.effective_gas_price),
        ])

    @classmethod
    def from_storage(cls, data: bytes) -> "Receipt":
        f = rlp.decode(data)
        logs = tuple(Log(a, tuple(t), d) for a, t, d in f[3])
        return cls(_to_int(f[0]), _to_int(f[1]), _to_int(f[2]), logs, _to_int(f[4]), _to_int(f[5]))


def transactions_root(transactions: tuple[Transaction, ...] | list[Transaction]) -> bytes:
    """Ordered binary Merkle root of the transaction hashes."""
    return ordered_root([tx.hash for tx in transactions])


def receipts_root(receipts: list[Receipt] | tuple[Receipt, ...]) -> bytes:
    """Ordered binary Merkle root of keccak256 of each receipt's consensus encoding."""
    return ordered_root([keccak256(r.consensus_encoding()) for r in receipts])


def _to_int(b: bytes) -> int:
    return int.from_bytes(b, "big")
