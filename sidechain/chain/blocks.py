"""Headers, blocks, receipts and logs: their RLP encodings and hashes.

The header is the sidechain's own (no PoW fields), RLP-encoded and keccak-hashed like Ethereum's.
A block may carry equivocation evidence (consensus/evidence.py): the header then commits to it with
a 13th field, its evidence root, which a block without evidence leaves out, so its encoding and hash
stay the 12-field ones every earlier block has (as Ethereum's forks append optional header fields).
Receipts use Ethereum's consensus encoding (typed envelope for type-1/2 transactions), so a client
that knows Ethereum receipts can check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import rlp

from ..crypto import keccak256
from ..errors import InvalidBlock
from ..evm import encode_receipt, encode_stored_receipts, logs_bloom as native_logs_bloom, receipts_root as native_receipts_root
from .bloom import EMPTY_BLOOM, bloom_of_logs
from .codec import encode_items, uint
from .merkle import ordered_root
from .transactions import Transaction, decode_transaction

ZERO_HASH = b"\x00" * 32
ZERO_ADDRESS = b"\x00" * 20
ETHEREUM_MAX_EXTRA_DATA = 32
"""Ethereum's bound on a header's extraData (go-ethereum's params.MaximumExtraDataSize). The genesis
file's extraData keeps to it, and RPC blocks show longer bytes hashed to it, since web3.py refuses a
longer extraData unless its proof-of-authority middleware is added."""
MAX_HEADER_EXTRA_DATA = 97
"""This chain's bound on a header's extraData: Clique's (EIP-225) 32-byte vanity and 65-byte seal, so
a proof-of-authority layout fits. Blocks are sealed by their commit certificates instead; block 0's
holds the genesis hash and later blocks' are empty."""


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
    evidence_root: bytes = b""
    """`evidence_root(block.evidence)`: empty for a block without evidence (and then not encoded)."""

    def fields(self) -> list:
        fields = [
            self.parent_hash, self.number, self.timestamp, self.proposer, self.state_root,
            self.transactions_root, self.receipts_root, self.logs_bloom, self.gas_limit,
            self.gas_used, self.base_fee, self.extra_data,
        ]
        return fields + [self.evidence_root] if self.evidence_root else fields

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
        return cls.from_fields(rlp.decode(data))

    @classmethod
    def from_fields(cls, f: object) -> "Header":
        """A header from its decoded RLP items (a block's first item, decoded with the block)."""
        if not isinstance(f, list) or len(f) not in (12, 13) or not all(isinstance(item, bytes) for item in f):
            raise InvalidBlock("malformed header: expected a 12-item (13 with an evidence root) RLP list of byte strings")
        if len(f) == 13 and len(f[12]) != 32:
            raise InvalidBlock(f"malformed header: the 13th field is a 32-byte evidence root, got {len(f[12])} bytes")
        u = _to_int
        return cls(f[0], u(f[1]), u(f[2]), f[3], f[4], f[5], f[6], f[7], u(f[8]), u(f[9]), u(f[10]), f[11],
                   f[12] if len(f) == 13 else b"")


@dataclass(frozen=True, slots=True)
class Block:
    header: Header
    transactions: tuple[Transaction, ...]
    hash: bytes = field(default=b"", compare=False)
    """Filled from the header on construction; cached because it is asked for constantly."""
    evidence: tuple[bytes, ...] = ()
    """Encoded equivocation evidence records, opaque here: the chain rules check only their number,
    sizes and root; the consensus layer decodes and verifies them (consensus/evidence.py). Blocks
    read back from the store come without it; the evidence index (storage/evidence.py) has it."""
    encoded: bytes = field(default=b"", compare=False, repr=False)
    """The wire form, once made or received: a proposal's block is logged to the WAL and gossiped,
    and the received bytes are what a peer logs, so none of it encodes the block again."""

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", self.header.hash)

    @property
    def number(self) -> int:
        return self.header.number

    def encode(self) -> bytes:
        """Wire form: [header fields, [raw transaction, ...]], then [evidence, ...] if it has any."""
        if not self.encoded:
            items = [self.header.raw_fields(), [tx.raw for tx in self.transactions]]
            object.__setattr__(self, "encoded", encode_items(items + [list(self.evidence)] if self.evidence else items))
        return self.encoded

    def with_evidence(self, evidence: tuple[bytes, ...]) -> "Block":
        """This block carrying `evidence`, its header committing to it (a new hash); execution
        does not depend on evidence, so the block's results stay valid."""
        return Block(replace(self.header, evidence_root=evidence_root(evidence)), self.transactions, b"", tuple(evidence))

    @classmethod
    def decode(cls, data: bytes, chain_id: int) -> "Block":
        """Decode a block, its transactions checked and their senders recovered (a proposal's block
        is assembled from verified transactions instead: consensus/gossip.py)."""
        try:
            items = rlp.decode(data)
            if not isinstance(items, list) or len(items) not in (2, 3):
                raise ValueError("expected [header, transactions] or [header, transactions, evidence]")
            header_fields, raws, evidence = items[0], items[1], items[2] if len(items) == 3 else []
            header = Header.from_fields(header_fields)
        except (rlp.DecodingError, ValueError, TypeError) as exc:
            raise InvalidBlock(f"malformed block: {exc}") from None
        if not isinstance(raws, list) or not all(isinstance(raw, bytes) for raw in raws):
            raise InvalidBlock("malformed block: transactions must be a list of byte strings")
        if len(items) == 3 and (not isinstance(evidence, list) or not evidence or not all(isinstance(e, bytes) for e in evidence)):
            raise InvalidBlock("malformed block: evidence, when present, must be a non-empty list of byte strings")
        txs = tuple(decode_transaction(raw, chain_id, header.gas_limit) for raw in raws)
        return cls(header, txs, b"", tuple(evidence), data)


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
        """Ethereum's receipt encoding, rlp([status, cumulative gas, bloom, logs]), behind the
        EIP-2718 type byte for typed transactions (natively, as `receipts_root` hashes it)."""
        return encode_receipt(self, True)

    def storage_encoding(self) -> bytes:
        """What the store keeps: rlp([type, status, cumulative gas, logs, gas used, effective gas
        price]), the consensus fields but the bloom (derived from the logs) plus the RPC's two."""
        return encode_receipt(self, False)

    @classmethod
    def from_storage(cls, data: bytes) -> "Receipt":
        f = rlp.decode(data)
        logs = tuple(Log(a, tuple(t), d) for a, t, d in f[3])
        return cls(_to_int(f[0]), _to_int(f[1]), _to_int(f[2]), logs, _to_int(f[4]), _to_int(f[5]))


def transactions_root(transactions: tuple[Transaction, ...] | list[Transaction]) -> bytes:
    """Ordered binary Merkle root of the transaction hashes."""
    return ordered_root([tx.hash for tx in transactions])


def evidence_root(evidence: tuple[bytes, ...] | list[bytes]) -> bytes:
    """Ordered binary Merkle root of keccak256 of each evidence record; empty for no evidence."""
    return ordered_root([keccak256(e) for e in evidence]) if evidence else b""


def receipts_root(receipts: list[Receipt] | tuple[Receipt, ...]) -> bytes:
    """Ordered binary Merkle root of keccak256 of each receipt's consensus encoding (one native call:
    every validator hashes every receipt of every block)."""
    return native_receipts_root(receipts)


def logs_bloom(receipts: list[Receipt] | tuple[Receipt, ...]) -> bytes:
    """A block's logs bloom: the bloom over all its receipts' logs (one native call, as
    `receipts_root`; a receipt's own `bloom` is built only when the RPC shows it)."""
    return native_logs_bloom(receipts)


def encode_receipts(receipts: list[Receipt] | tuple[Receipt, ...]) -> bytes:
    """The RLP list of the receipts' storage encodings: what the store keeps for a block."""
    return encode_stored_receipts(receipts)


def _to_int(b: bytes) -> int:
    return int.from_bytes(b, "big")
