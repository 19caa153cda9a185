"""Block sync over request/response: a peer's head, and ranges of final blocks with certificates.

    status: request STATUS_REQUEST  -> rlp([head number, head hash, genesis hash])
    blocks: request rlp([start, n]) -> rlp([[block, certificate], ...])   at most n, MAX_BLOCKS, MAX_RESPONSE_BYTES

Responses stay under py-libp2p's ~6.5 MB request/response ceiling (LIBP2P_NOTES pitfall 9).
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp

from ..errors import InvalidBlock

STATUS_PROTOCOL = "/sidechain/sync/status/1"
BLOCKS_PROTOCOL = "/sidechain/sync/blocks/1"
STATUS_REQUEST = b"\xc0"
"""rlp([]): py-libp2p's request/response cannot carry an empty payload."""
MAX_BLOCKS = 64
MAX_RESPONSE_BYTES = 3 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PeerStatus:
    head_number: int
    head_hash: bytes
    genesis_hash: bytes

    def encode(self) -> bytes:
        return rlp.encode([self.head_number, self.head_hash, self.genesis_hash])

    @classmethod
    def decode(cls, data: bytes) -> "PeerStatus":
        try:
            number, head_hash, genesis_hash = rlp.decode(data)
            return cls(int.from_bytes(number, "big"), head_hash, genesis_hash)
        except (rlp.DecodingError, ValueError, TypeError) as exc:
            raise InvalidBlock(f"malformed sync status: {exc}") from None


def encode_blocks_request(start: int, count: int) -> bytes:
    return rlp.encode([start, count])


def decode_blocks_request(data: bytes) -> tuple[int, int]:
    try:
        start, count = rlp.decode(data)
        return int.from_bytes(start, "big"), min(int.from_bytes(count, "big"), MAX_BLOCKS)
    except (rlp.DecodingError, ValueError, TypeError) as exc:
        raise InvalidBlock(f"malformed blocks request: {exc}") from None


def encode_blocks_response(items: list[tuple[bytes, bytes]]) -> bytes:
    return rlp.encode([list(item) for item in items])


def decode_blocks_response(data: bytes) -> list[tuple[bytes, bytes]]:
    try:
        items = rlp.decode(data)
        pairs = [(block, cert) for block, cert in items]
    except (rlp.DecodingError, ValueError, TypeError) as exc:
        raise InvalidBlock(f"malformed blocks response: {exc}") from None
    if not all(isinstance(block, bytes) and isinstance(cert, bytes) for block, cert in pairs):
        raise InvalidBlock("malformed blocks response: expected [block bytes, certificate bytes] pairs, got a nested list")
    return pairs
