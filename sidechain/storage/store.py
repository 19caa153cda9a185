"""LevelDB storage for blocks, receipts, certificates, transaction lookups and state.

A block and everything it changes go to disk in one atomic, synced write batch, the head pointer
included, so a node killed at any instant reopens at its last committed block: LevelDB replays its
log and either the whole batch is there or none of it.
"""

from __future__ import annotations

from pathlib import Path

import plyvel
import rlp

from ..chain.blocks import Block, Header, Receipt, encode_receipts
from ..chain.codec import encode_items, uint
from ..chain.state import EMPTY_ACCOUNT, EMPTY_CODE_HASH, Account
from ..chain.transactions import decode_transaction
from ..errors import StorageError, mismatch
from . import address_index, schema

LEVELDB_OPTIONS = {"compression": None, "write_buffer_size": 32 << 20, "bloom_filter_bits": 10}
"""How the node opens LevelDB (plyvel's defaults otherwise).

- No compression: what a node writes is mostly trie nodes and signed transactions, hashes and
  signatures that snappy cannot shrink, yet trying took 70% of LevelDB's background compaction CPU
  (1.05 -> 0.30 s per node in `scripts/bench --validators 4 --txs 30000 --rate 2600`, where all node
  CPU is ~22 s) for a database 25% smaller. LevelDB reads blocks written either way.
- A 32 MiB memtable (LevelDB's default is 4 MiB, go-ethereum's a quarter of its cache): fewer,
  larger level-0 tables, so less compaction; on the same load with 90,000 transactions the
  compaction thread took 0.9 s instead of 2.4 s per node. A restart replays at most that much log.
- Bloom filters (10 bits per key, as go-ethereum): a read of an absent key, which every transfer to
  a fresh address makes, skips the tables that cannot hold it.
"""


class ChainStore:
    """The node's database. Reads return decoded records; `commit_block` is the only block writer."""

    def __init__(self, path: str | Path, chain_id: int) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        try:
            self.db = plyvel.DB(str(path), create_if_missing=True, **LEVELDB_OPTIONS)
        except plyvel.IOError as exc:
            raise StorageError(
                f"cannot open the database at {path}: {exc} (is another node running on this data directory?)"
            ) from None
        except plyvel.CorruptionError as exc:
            raise StorageError(f"database at {path} is corrupted: {exc}") from None
        self.chain_id = chain_id
        version = self.db.get(schema.SCHEMA_VERSION_KEY)
        if version is None:
            self.db.put(schema.SCHEMA_VERSION_KEY, str(schema.SCHEMA_VERSION).encode(), sync=True)
        elif int(version) != schema.SCHEMA_VERSION:
            self.db.close()
            raise StorageError(mismatch(f"database schema version at {path}", expected=schema.SCHEMA_VERSION, got=int(version)))

    def close(self) -> None:
        if not self.db.closed:
            self.db.close()

    # --- chain identity and head -----------------------------------------------------------------

    def genesis_hash(self) -> bytes | None:
        return self.db.get(schema.GENESIS_HASH_KEY)

    def head_hash(self) -> bytes | None:
        return self.db.get(schema.HEAD_KEY)

    # --- blocks ----------------------------------------------------------------------------------

    def get_canonical_hash(self, number: int) -> bytes | None:
        return self.db.get(schema.canonical_hash_key(number))

    def get_header(self, block_hash: bytes) -> Header | None:
        data = self.db.get(schema.header_key(block_hash))
        return Header.decode(data) if data is not None else None

    def get_block(self, block_hash: bytes) -> Block | None:
        header = self.get_header(block_hash)
        if header is None:
            return None
        body = rlp.decode(self.db.get(schema.body_key(block_hash), b"\xc0"))
        txs = tuple(decode_transaction(raw, self.chain_id, sender=sender) for raw, sender in body)
        return Block(header, txs, block_hash)

    def get_transaction_count(self, block_hash: bytes) -> int | None:
        data = self.db.get(schema.body_key(block_hash))
        return None if data is None else len(rlp.decode(data))

    def get_receipts(self, block_hash: bytes) -> list[Receipt]:
        data = self.db.get(schema.receipts_key(block_hash))
        return [] if data is None else [Receipt.from_storage(r) for r in rlp.decode(data)]

    def get_certificate(self, block_hash: bytes) -> bytes | None:
        return self.db.get(schema.certificate_key(block_hash))

    def get_tx_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        """(block number, index) of a committed transaction."""
        data = self.db.get(schema.tx_lookup_key(tx_hash))
        if data is None:
            return None
        number, index = rlp.decode(data)
        return int.from_bytes(number, "big"), int.from_bytes(index, "big")

    # --- state -----------------------------------------------------------------------------------

    def get_account(self, address: bytes) -> Account:
        data = self.db.get(schema.account_key(address))
        return EMPTY_ACCOUNT if data is None else Account.decode(data)

    def get_storage(self, address: bytes, key: bytes) -> bytes:
        return self.db.get(schema.storage_key(address, key), b"")

    def get_code(self, code_hash: bytes) -> bytes:
        if code_hash == EMPTY_CODE_HASH:
            return b""
        code = self.db.get(schema.code_key(code_hash))
        if code is None:
            raise KeyError(code_hash)
        return code

    def get_trie_node(self, node_hash: bytes) -> bytes:
        data = self.db.get(schema.trie_node_key(node_hash))
        if data is None:
            raise KeyError(node_hash)
        return data

    # --- writes ----------------------------------------------------------------------------------

    def commit_block(
        self,
        block: Block,
        receipts: tuple[Receipt, ...] | list[Receipt],
        changes: dict[bytes, Account],
        trie_nodes: dict[bytes, bytes],
        certificate: bytes,
        *,
        storage: dict[bytes, dict[bytes, bytes]] | None = None,
        code: dict[bytes, bytes] | None = None,
        genesis_hash: bytes | None = None,
    ) -> None:
        """Write the block, its receipts, certificate, lookups, the explorer's indexes
        (address_index.py), state changes (accounts, contract storage and code) and trie nodes, and
        move the head to it, in one synced batch."""
        h = block.hash
        with self.db.write_batch(transaction=True, sync=True) as batch:
            if genesis_hash is not None:
                batch.put(schema.GENESIS_HASH_KEY, genesis_hash)
            batch.put(schema.header_key(h), block.header.encode())
            batch.put(schema.body_key(h), encode_items([[tx.raw, tx.sender] for tx in block.transactions]))
            batch.put(schema.receipts_key(h), encode_receipts(receipts))
            batch.put(schema.certificate_key(h), certificate)
            batch.put(schema.canonical_hash_key(block.number), h)
            number = uint(block.number)
            for index, tx in enumerate(block.transactions):
                batch.put(schema.tx_lookup_key(tx.hash), encode_items([number, uint(index)]))
            address_index.write_block(self.db, batch, block, receipts)
            for address, account in changes.items():
                if account.is_empty:
                    batch.delete(schema.account_key(address))
                else:
                    batch.put(schema.account_key(address), account.encode())
            for address, words in (storage or {}).items():
                for key, value in words.items():
                    if value:
                        batch.put(schema.storage_key(address, key), value)
                    else:
                        batch.delete(schema.storage_key(address, key))
            for code_hash, contract_code in (code or {}).items():
                batch.put(schema.code_key(code_hash), contract_code)
            for node_hash, node in trie_nodes.items():
                batch.put(schema.trie_node_key(node_hash), node)
            batch.put(schema.HEAD_KEY, h)
