"""The hot-loop way into pyrlp: `rlp.encode` infers a sedes for every item (1-3 us each, and a
block encodes tens of thousands of records). Records built from byte strings go straight to
pyrlp's raw encoder instead; integers are turned into RLP's minimal big-endian bytes first."""

from __future__ import annotations

from rlp.codec import encode_raw

from ..evm import decode_strings


def uint(n: int) -> bytes:
    """RLP's canonical integer: big-endian, no leading zeros, zero is empty."""
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def encode_items(items: list) -> bytes:
    """RLP of a (nested) list whose leaves are all bytes."""
    return encode_raw(items)


def decode_byte_strings(data: bytes, max_items: int) -> list[bytes]:
    """The byte strings of the canonical RLP list `data` (at most `max_items`), decoded natively;
    ValueError for anything else (not RLP, not a list, a nested list, too many)."""
    return decode_strings(data, max_items)
