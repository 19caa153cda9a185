"""The 2048-bit logs bloom of the Yellow Paper (section 4.3.1)."""

from __future__ import annotations

from collections.abc import Iterable

from ..crypto import keccak256

BLOOM_BYTES = 256
EMPTY_BLOOM = b"\x00" * BLOOM_BYTES


def _bloom_bits(value: bytes) -> int:
    digest = keccak256(value)
    bits = 0
    for i in (0, 2, 4):
        bits |= 1 << (((digest[i] << 8) | digest[i + 1]) & 0x7FF)
    return bits


def bloom_of_logs(logs: Iterable) -> bytes:
    """Bloom over every log's address and topics."""
    bits = 0
    for log in logs:
        bits |= _bloom_bits(log.address)
        for topic in log.topics:
            bits |= _bloom_bits(topic)
    return bits.to_bytes(BLOOM_BYTES, "big")


def merge_blooms(blooms: Iterable[bytes]) -> bytes:
    bits = 0
    for bloom in blooms:
        bits |= int.from_bytes(bloom, "big")
    return bits.to_bytes(BLOOM_BYTES, "big")


def bloom_may_contain(bloom: bytes, value: bytes) -> bool:
    """False means certainly absent; True means possibly present."""
    bits = _bloom_bits(value)
    return int.from_bytes(bloom, "big") & bits == bits
