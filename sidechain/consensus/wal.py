"""The consensus write-ahead log: every input of the current height, in order.

After a crash the driver replays the log of the height it was deciding through a fresh state
machine; the machine is deterministic and the signer returns the same signatures for what it already
signed, so the validator resumes exactly where it was, locks included (cometbft `consensus/wal.go`).
Records are length-prefixed with a checksum. Replay stops at the first record that is torn (killed
mid-write), fails its checksum, or holds what this version never writes (checksummed but not a
[kind, fields] record it can decode): that record and everything after it are logged and cut off
when the height's log is reopened, so records appended later stay readable.

Each kind of record is a frozen dataclass (cometbft `wal.go`'s msgInfo and timeoutInfo): a
`ProposalRecord`, a `Vote`, a `TimeoutEvent`; `RECORD_KINDS` names each one's kind byte and its
fields on disk, `rlp([kind, fields])`, the format every earlier version wrote.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import rlp

from ..chain.blocks import Block
from ..crypto import keccak256
from ..errors import CorruptWal, InvalidBlock, InvalidTransaction, InvalidVote
from .machine import TimeoutEvent
from .messages import Proposal, Step, Vote

PROPOSAL, VOTE, TIMEOUT = 1, 2, 3
MAX_UINT_BYTES = 8
"""Heights and rounds in a TIMEOUT record are uint64, as everywhere on the wire."""

log = logging.getLogger("sidechain.consensus")


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    """A logged proposal with the block it carries."""

    proposal: Proposal
    block: Block


WalRecord = ProposalRecord | Vote | TimeoutEvent
"""What one logged record holds."""


@dataclass(frozen=True, slots=True)
class RecordKind:
    """How one type of record is written: its kind byte and its fields."""

    kind: int
    fields: Callable[[WalRecord], list]
    """The record -> its RLP fields."""
    arity: int
    """How many fields a record of this kind has."""
    uints: bool
    """Whether the fields are integers (uint64) rather than encoded messages."""
    decode: Callable[[list, int], WalRecord]
    """(fields of the right number and form, chain id) -> the record."""


def _decode_proposal(fields: list, chain_id: int) -> ProposalRecord:
    proposal, block = fields
    return ProposalRecord(Proposal.decode(proposal), Block.decode(block, chain_id))


def _decode_vote(fields: list, chain_id: int) -> Vote:
    (vote,) = fields
    return Vote.decode(vote)


def _decode_timeout(fields: list, chain_id: int) -> TimeoutEvent:
    step, height, round_ = (_uint(f) for f in fields)
    return TimeoutEvent(Step(step), height, round_)


RECORD_KINDS: dict[type, RecordKind] = {
    ProposalRecord: RecordKind(PROPOSAL, lambda r: [r.proposal.encode(), r.block.encode()], 2, False, _decode_proposal),
    Vote: RecordKind(VOTE, lambda v: [v.encode()], 1, False, _decode_vote),
    TimeoutEvent: RecordKind(TIMEOUT, lambda e: [int(e.step), e.height, e.round], 3, True, _decode_timeout),
}
"""Record type -> how it is written; the kind bytes are those of every earlier version."""
_BY_KIND = {k.kind: k for k in RECORD_KINDS.values()}


def encode_record(record: WalRecord) -> bytes:
    """The payload `append` frames: rlp([kind, fields])."""
    kind = RECORD_KINDS[type(record)]
    return rlp.encode([kind.kind, kind.fields(record)])


def decode_record(payload: bytes, chain_id: int) -> WalRecord:
    """One checksummed payload as written by `append`; raises CorruptWal for anything else."""
    try:
        item = rlp.decode(payload)
        if not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], bytes) or not isinstance(item[1], list):
            raise CorruptWal("not a [kind, fields] record")
        number, fields = _uint(item[0]), item[1]
        kind = _BY_KIND.get(number)
        if kind is not None and len(fields) == kind.arity and (kind.uints or all(isinstance(f, bytes) for f in fields)):
            return kind.decode(fields, chain_id)
        raise CorruptWal(f"kind {number} with {len(fields)} fields is not a record this version writes")
    except (rlp.DecodingError, ValueError, InvalidVote, InvalidBlock, InvalidTransaction) as exc:
        raise CorruptWal(str(exc) or type(exc).__name__) from None


def _uint(item: object) -> int:
    if not isinstance(item, bytes) or len(item) > MAX_UINT_BYTES:
        raise CorruptWal("expected an integer of at most 8 bytes")
    return int.from_bytes(item, "big")


class WriteAheadLog:
    def __init__(self, directory: str | Path, chain_id: int) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.chain_id = chain_id
        self._height = -1
        self._file = None

    def _path(self, height: int) -> Path:
        return self.dir / f"height-{height:012d}.wal"

    def open_height(self, height: int) -> list[WalRecord]:
        """Start appending to the log of `height` (logs of earlier heights are removed) and return
        what it already holds: the records written before a restart, up to the first unreadable one,
        which is cut off with everything after it."""
        self.close()
        for old in self.dir.glob("height-*.wal"):
            if int(old.stem.split("-")[1]) < height:
                old.unlink()
        self._height = height
        path = self._path(height)
        records, valid = self._read(path.read_bytes(), height) if path.exists() else ([], 0)
        self._file = open(path, "ab")
        self._file.truncate(valid)
        return records

    def append(self, record: WalRecord, *, sync: bool = False) -> None:
        """Log one input; `sync` for this validator's own messages, before they leave the node."""
        payload = encode_record(record)
        self._file.write(len(payload).to_bytes(4, "big") + keccak256(payload)[:4] + payload)
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def replay(self, height: int) -> list[WalRecord]:
        """The records of `height` up to the first unreadable one, without touching the file."""
        path = self._path(height)
        return self._read(path.read_bytes(), height)[0] if path.exists() else []

    def _read(self, data: bytes, height: int) -> tuple[list[WalRecord], int]:
        """The decoded records and the length of the readable prefix they come from."""
        records: list[WalRecord] = []
        end = 0
        for start, stop in self._frames(data):
            try:
                records.append(decode_record(data[start:stop], self.chain_id))
            except CorruptWal as exc:
                log.warning("WAL of height %d: record at byte %d is malformed (%s); replay stops there",
                            height, end, exc, extra={"height": height})
                return records, end
            end = stop
        if end < len(data):
            log.warning("WAL of height %d: %d bytes after byte %d are torn or fail their checksum; replay stops there",
                        height, len(data) - end, end, extra={"height": height})
        return records, end

    @staticmethod
    def _frames(data: bytes):
        """(start, end) of each payload whose length and checksum hold, up to the first that does not."""
        pos = 0
        while pos + 8 <= len(data):
            size = int.from_bytes(data[pos:pos + 4], "big")
            payload = data[pos + 8:pos + 8 + size]
            if len(payload) != size or keccak256(payload)[:4] != data[pos + 4:pos + 8]:
                return
            yield pos + 8, pos + 8 + size
            pos += 8 + size

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
