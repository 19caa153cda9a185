"""The validator's signer, with a double-sign guard that survives restarts.

Before a signature leaves this module, the (height, round, step) and value it signs are synced to
disk. The signer refuses anything below the last signed (height, round, step), and a different value
at the same one; the same value again gets the same signature (RFC 6979 signatures are
deterministic), so replaying the write-ahead log after a crash is harmless (cometbft privval CheckHRS).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..crypto import private_key_to_address
from ..errors import SidechainError
from .messages import Proposal, Step, Vote


class DoubleSignRefused(SidechainError):
    """Signing this would contradict something this validator already signed."""


class Signer:
    def __init__(self, private_key: bytes, chain_id: int, state_path: str | Path) -> None:
        self._key = private_key
        self.address = private_key_to_address(private_key)
        self.chain_id = chain_id
        self._path = Path(state_path)
        self._last: tuple[int, int, int] = (-1, -1, -1)
        self._last_hash = b""
        if self._path.exists():
            saved = json.loads(self._path.read_text())
            self._last = (saved["height"], saved["round"], saved["step"])
            self._last_hash = bytes.fromhex(saved["blockHash"])

    @property
    def last_signed(self) -> tuple[int, int, int]:
        return self._last

    def sign_vote(self, step: Step, height: int, round_: int, block_hash: bytes) -> Vote:
        self._guard(height, round_, step, block_hash)
        return Vote.create(self.chain_id, step, height, round_, block_hash, self._key, self.address)

    def sign_proposal(self, height: int, round_: int, block_hash: bytes, pol_round: int) -> Proposal:
        self._guard(height, round_, Step.PROPOSE, block_hash)
        return Proposal.create(self.chain_id, height, round_, block_hash, pol_round, self._key, self.address)

    def _guard(self, height: int, round_: int, step: Step, block_hash: bytes) -> None:
        hrs = (height, round_, int(step))
        if hrs < self._last:
            raise DoubleSignRefused(f"refusing to sign {hrs}: already signed up to {self._last}")
        if hrs == self._last:
            if block_hash != self._last_hash:
                raise DoubleSignRefused(
                    f"refusing to sign 0x{block_hash.hex()} at {hrs}: already signed 0x{self._last_hash.hex()} there"
                )
            return
        self._persist(hrs, block_hash)

    def _persist(self, hrs: tuple[int, int, int], block_hash: bytes) -> None:
        tmp = self._path.with_suffix(".tmp")
        payload = json.dumps({"height": hrs[0], "round": hrs[1], "step": hrs[2], "blockHash": block_hash.hex()})
        with open(tmp, "w") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path)
        dir_fd = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._last, self._last_hash = hrs, block_hash
