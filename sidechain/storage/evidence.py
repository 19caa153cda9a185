"""The committed-evidence index: each final block's equivocation evidence, by block, number,
validator and offence, in the chain's own LevelDB.

Records are opaque bytes here (storage never imports consensus); the caller names each one's
offence key and validator. A block's entries are written in one synced batch *before* the block
itself commits (ChainStore.commit_block is its own batch): killed between the two, the database
holds entries of a block hash that never became final, which every read ignores by checking the
canonical hash of that number; the block that does commit there rewrites them.

Keys: `schema.evidence_key` (a block's records), `EVIDENCE_BY_NUMBER_PREFIX` and
`evidence_by_validator_prefix` (+ number: block hash), `offence_key` (committed offences).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import rlp

from . import schema


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One evidence record of a block, with what the index finds it by."""

    record: bytes
    offence: bytes
    """32-byte key of the offence it proves (consensus.evidence.offence_key)."""
    validator: bytes


@dataclass(frozen=True, slots=True)
class CommittedEvidence:
    """A final block's evidence, as `query` returns it."""

    number: int
    block_hash: bytes
    records: tuple[bytes, ...]


class EvidenceIndex:
    """Over a plyvel database or snapshot (reads only, for a snapshot)."""

    def __init__(self, db) -> None:
        self.db = db

    def record(self, number: int, block_hash: bytes, entries: Iterable[IndexEntry]) -> None:
        """Index the evidence of block `number` before it commits (see the module docstring)."""
        entries = list(entries)
        if not entries:
            return
        n = number.to_bytes(8, "big")
        with self.db.write_batch(transaction=True, sync=True) as batch:
            batch.put(schema.evidence_key(block_hash), rlp.encode([e.record for e in entries]))
            batch.put(schema.EVIDENCE_BY_NUMBER_PREFIX + n, block_hash)
            for entry in entries:
                batch.put(schema.evidence_by_validator_prefix(entry.validator) + n, block_hash)
                batch.put(schema.offence_key(entry.offence), rlp.encode([number, block_hash]))

    def for_block(self, block_hash: bytes) -> tuple[bytes, ...]:
        """The evidence records of a block, in block order (none for an unknown hash)."""
        data = self.db.get(schema.evidence_key(block_hash))
        return () if data is None else tuple(rlp.decode(data))

    def is_committed(self, offence: bytes) -> bool:
        """Whether a final block already holds evidence of this offence."""
        data = self.db.get(schema.offence_key(offence))
        if data is None:
            return False
        number, block_hash = rlp.decode(data)
        return self._final(int.from_bytes(number, "big"), block_hash)

    def query(self, first: int, last: int, validator: bytes | None = None, *, limit: int) -> list[CommittedEvidence]:
        """Final blocks from `first` to `last` (inclusive) holding evidence (against `validator`
        if given), in ascending order, at most `limit` of them."""
        prefix = schema.EVIDENCE_BY_NUMBER_PREFIX if validator is None else schema.evidence_by_validator_prefix(validator)
        found: list[CommittedEvidence] = []
        last = min(last, 2**64 - 1)
        if first > last:
            return found
        start = prefix + first.to_bytes(8, "big")
        stop = prefix + last.to_bytes(8, "big") + b"\x00"  # just above the key of `last`
        for key, block_hash in self.db.iterator(start=start, stop=stop):
            number = int.from_bytes(key[len(prefix):], "big")
            if self._final(number, block_hash):
                found.append(CommittedEvidence(number, block_hash, self.for_block(block_hash)))
                if len(found) >= limit:
                    break
        return found

    def _final(self, number: int, block_hash: bytes) -> bool:
        return self.db.get(schema.canonical_hash_key(number)) == block_hash

