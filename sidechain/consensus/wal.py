"""The consensus write-ahead log: every input of the current height, in order.

After a crash the driver replays the log of the height it was deciding through a fresh state
machine; the machine is deterministic and the signer returns the same signatures for what it already
signed, so the validator resumes exactly where it was, locks included (cometbft `consensus/wal.go`).
Records are length-prefixed with a checksum; a torn last record (killed mid-write) is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import rlp

from ..crypto import keccak256

PROPOSAL, VOTE, TIMEOUT = 1, 2, 3


class WriteAheadLog:
    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._height = -1
        self._file = None

    def _path(self, height: int) -> Path:
        return self.dir / f"height-{height:012d}.wal"

    def open_height(self, height: int) -> None:
        """Start appending to the log of `height`; logs of earlier heights are removed."""
        self.close()
        for old in self.dir.glob("height-*.wal"):
            if int(old.stem.split("-")[1]) < height:
                old.unlink()
        self._height = height
        path = self._path(height)
        valid = self._valid_length(path.read_bytes()) if path.exists() else 0
        self._file = open(path, "ab")
        self._file.truncate(valid)  # cut a torn tail so later records stay readable

    def append(self, kind: int, fields: list, *, sync: bool = False) -> None:
        """Log one input; `sync` for this validator's own messages, before they leave the node."""
        payload = rlp.encode([kind, fields])
        self._file.write(len(payload).to_bytes(4, "big") + keccak256(payload)[:4] + payload)
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def replay(self, height: int) -> Iterator[tuple[int, list]]:
        """The records of `height` written before a restart, up to the first torn or corrupt one."""
        path = self._path(height)
        if not path.exists():
            return
        data = path.read_bytes()
        for start, end in self._records(data):
            kind, fields = rlp.decode(data[start:end])
            yield int.from_bytes(kind, "big"), fields

    @staticmethod
    def _records(data: bytes) -> Iterator[tuple[int, int]]:
        pos = 0
        while pos + 8 <= len(data):
            size = int.from_bytes(data[pos:pos + 4], "big")
            payload = data[pos + 8:pos + 8 + size]
            if len(payload) != size or keccak256(payload)[:4] != data[pos + 4:pos + 8]:
                return
            yield pos + 8, pos + 8 + size
            pos += 8 + size

    def _valid_length(self, data: bytes) -> int:
        end = 0
        for _, end in self._records(data):
            pass
        return end

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
