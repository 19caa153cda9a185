"""The committed-evidence index over a real LevelDB: by block, number range, validator and offence;
entries of a block hash that never became final (killed between the two batches) are ignored."""

from __future__ import annotations

import plyvel

from sidechain.storage import schema
from sidechain.storage.evidence import EvidenceIndex, IndexEntry

V1, V2 = b"\x01" * 20, b"\x02" * 20


def entry(n: int, validator: bytes) -> IndexEntry:
    return IndexEntry(b"record-%d" % n, bytes([n]) * 32, validator)


def finalize(db, number: int, block_hash: bytes) -> None:
    db.put(schema.canonical_hash_key(number), block_hash)


def test_index_by_block_range_validator_and_offence(tmp_path):
    db = plyvel.DB(str(tmp_path / "db"), create_if_missing=True)
    try:
        index = EvidenceIndex(db)
        index.record(5, b"\x55" * 32, [entry(1, V1), entry(2, V2)])
        index.record(9, b"\x99" * 32, [entry(3, V1)])
        index.record(7, b"\x77" * 32, [entry(4, V2)])  # an orphan: block 7 that became final is another one
        index.record(8, b"\x88" * 32, [])  # nothing to index
        for number, block_hash in ((5, b"\x55" * 32), (7, b"\x70" * 32), (9, b"\x99" * 32)):
            finalize(db, number, block_hash)

        assert index.for_block(b"\x55" * 32) == (b"record-1", b"record-2")
        assert index.for_block(b"\x88" * 32) == ()
        assert [(c.number, c.records) for c in index.query(0, 2**64 - 1, limit=10)] == [
            (5, (b"record-1", b"record-2")), (9, (b"record-3",))]
        assert [c.number for c in index.query(6, 9, limit=10)] == [9]
        assert [c.number for c in index.query(0, 100, V2, limit=10)] == [5]  # block 7's entry is not final
        assert [c.number for c in index.query(0, 100, V1, limit=1)] == [5]
        assert index.query(10, 9, limit=10) == []
        assert index.is_committed(bytes([1]) * 32) and index.is_committed(bytes([3]) * 32)
        assert not index.is_committed(bytes([4]) * 32)  # recorded for a block that never became final
        assert not index.is_committed(bytes([9]) * 32)
    finally:
        db.close()
