"""How the store opens LevelDB (storage/store.py LEVELDB_OPTIONS), seen on disk: tables are
written uncompressed, a block's worth of writes stays in the memtable, and a database written with
LevelDB's defaults (snappy-compressed tables, as nodes wrote before) opens and reads the same."""

from __future__ import annotations

import os
from pathlib import Path

import plyvel
from eth_account import Account

from sidechain.chain.genesis import parse_genesis
from sidechain.chain.transactions import decode_transaction
from sidechain.storage.blockchain import Blockchain
from sidechain.storage.store import ChainStore

CHAIN_ID = 7073
SENDER = Account.from_key("0x" + "73" * 32)
PROPOSER = bytes.fromhex(SENDER.address[2:])


def genesis():
    return parse_genesis({
        "chainId": CHAIN_ID, "timestamp": 1_700_000_000, "blockTimeMs": 1000, "gasLimit": 30_000_000,
        "baseFeePerGas": 10**9, "checkpointInterval": 1000,
        "validators": [{"address": SENDER.address, "power": 1}],
        "alloc": {SENDER.address: {"balance": str(10**21)}},
    })


def transfer(nonce: int, to: bytes):
    raw = SENDER.sign_transaction({"to": "0x" + to.hex(), "value": 1000 + nonce, "gas": 21_000, "maxFeePerGas": 10**10,
                                   "maxPriorityFeePerGas": 1, "nonce": nonce, "chainId": CHAIN_ID, "type": 2}).raw_transaction
    return decode_transaction(bytes(raw), CHAIN_ID)


def table_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.suffix == ".ldb")


def test_tables_are_written_uncompressed(tmp_path):
    store = ChainStore(tmp_path, CHAIN_ID)
    try:
        for i in range(512):
            store.db.put(b"z" + i.to_bytes(4, "big"), bytes(4096))  # 2 MiB that snappy shrinks ~20 times
        store.db.compact_range()
    finally:
        store.close()
    assert table_bytes(tmp_path) >= 512 * 4096


def test_a_blocks_worth_of_writes_stays_in_the_memtable(tmp_path):
    store = ChainStore(tmp_path, CHAIN_ID)
    try:
        for block in range(12):  # 12 MiB in 1 MiB batches: by the third 4 MiB memtable (LevelDB's default) one has gone to disk
            with store.db.write_batch() as batch:
                for i in range(256):
                    batch.put(b"n" + os.urandom(32), os.urandom(4096))
        assert store.db.get_property(b"leveldb.num-files-at-level0") == b"0"
        assert table_bytes(tmp_path) == 0
    finally:
        store.close()


def test_a_database_written_with_snappy_opens_and_reads_the_same(tmp_path):
    chain = Blockchain.open(tmp_path, genesis())
    recipients = [bytes([i]) * 20 for i in range(1, 6)]
    for nonce, to in enumerate(recipients):
        chain.commit(chain.build_block(PROPOSER, chain.head.timestamp + 1, [transfer(nonce, to)]), b"")
    head, block = chain.head, chain.store.get_block(chain.head.hash)
    balances = {to: chain.state().get_account(to).balance for to in recipients}
    chain.close()

    data = tmp_path / "chaindata"
    old = plyvel.DB(str(data))  # LevelDB's defaults: snappy
    try:
        with old.write_batch() as batch:
            for key, value in old:
                batch.put(key, value)
        old.compact_range()  # every table rewritten, compressed
    finally:
        old.close()

    reopened = Blockchain.open(tmp_path, genesis())
    try:
        assert reopened.head == head
        assert reopened.store.get_block(head.hash) == block
        assert {to: reopened.state().get_account(to).balance for to in recipients} == balances
        assert balances == {to: 1000 + nonce for nonce, to in enumerate(recipients)}
        reopened.commit(reopened.build_block(PROPOSER, head.timestamp + 1, [transfer(len(recipients), recipients[0])]), b"")
        assert reopened.state().get_account(recipients[0]).balance == 1000 + 1000 + len(recipients)
    finally:
        reopened.close()
