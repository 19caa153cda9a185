"""The block's commitment structures: the ordered Merkle tree of the transactions and receipts
roots (with RFC 6962 leaf and node prefixes) and the logs bloom of the Yellow Paper."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from sidechain.chain.blocks import Log
from sidechain.chain.bloom import EMPTY_BLOOM, bloom_may_contain, bloom_of_logs, merge_blooms
from sidechain.chain.merkle import ordered_proof, ordered_root

LOG = Log(address=b"\xab" * 20, topics=(b"\x01" * 32, b"\x02" * 32), data=b"payload")


def yellow_paper_bloom(values: list[bytes]) -> bytes:
    """M3:2048 (Yellow Paper 4.3.1): for each of the first three byte pairs of keccak(value), set bit
    (pair mod 2048), counting bits from the low end of the big-endian 256-byte array."""
    bloom = bytearray(256)
    for value in values:
        digest = keccak(value)
        for i in (0, 2, 4):
            bit = int.from_bytes(digest[i:i + 2], "big") % 2048
            bloom[255 - bit // 8] |= 1 << (bit % 8)
    return bytes(bloom)


# --- ordered Merkle root ------------------------------------------------------------------------

LEAVES = [keccak(bytes([i])) for i in range(9)]


def test_empty_root_is_keccak_of_nothing():
    assert ordered_root([]) == bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def test_small_roots_by_hand():
    a, b, c, d, e = (keccak(b"\x00" + x) for x in LEAVES[:5])  # leaves are hashed under prefix 0x00

    def node(left, right):
        return keccak(b"\x01" + left + right)  # inner nodes under 0x01

    assert ordered_root(LEAVES[:1]) == a
    assert ordered_root(LEAVES[:2]) == node(a, b)
    assert ordered_root(LEAVES[:3]) == node(node(a, b), c)
    assert ordered_root(LEAVES[:4]) == node(node(a, b), node(c, d))
    assert ordered_root(LEAVES[:5]) == node(node(node(a, b), node(c, d)), e)


def test_an_inner_node_does_not_pass_for_a_leaf():
    a, b, c, d = LEAVES[:4]
    inner = keccak(b"\x01" + keccak(b"\x00" + a) + keccak(b"\x00" + b))
    # Two "leaves" equal to the inner nodes of a 4-leaf tree give another root.
    right = keccak(b"\x01" + keccak(b"\x00" + c) + keccak(b"\x00" + d))
    assert ordered_root([inner, right]) != ordered_root([a, b, c, d])


def test_root_depends_on_order():
    a, b = LEAVES[:2]
    assert ordered_root([a, b]) != ordered_root([b, a])


def root_from_proof(leaf: bytes, index: int, count: int, proof: list[bytes]) -> bytes:
    """What a verifier does: hash the leaf under 0x00, then up with the siblings under 0x01,
    skipping levels where the node is promoted."""
    node, siblings = keccak(b"\x00" + leaf), list(proof)
    while count > 1:
        if index ^ 1 < count:
            sibling = siblings.pop(0)
            node = keccak(b"\x01" + node + sibling) if index % 2 == 0 else keccak(b"\x01" + sibling + node)
        index, count = index // 2, (count + 1) // 2
    assert siblings == [], "proof has more siblings than levels"
    return node


@pytest.mark.parametrize("count", range(1, 10))
def test_every_proof_recomputes_the_root(count):
    leaves = LEAVES[:count]
    root = ordered_root(leaves)
    for index, leaf in enumerate(leaves):
        proof = ordered_proof(leaves, index)
        assert root_from_proof(leaf, index, count, proof) == root
        assert root_from_proof(b"\xee" * 32, index, count, proof) != root


def test_proof_shapes():
    a, b, c = (keccak(b"\x00" + x) for x in LEAVES[:3])  # the hashed leaves
    assert ordered_proof(LEAVES[:1], 0) == []
    assert ordered_proof(LEAVES[:2], 1) == [a]
    assert ordered_proof(LEAVES[:3], 0) == [b, c]
    assert ordered_proof(LEAVES[:3], 2) == [keccak(b"\x01" + a + b)]  # promoted at the first level


# --- bloom --------------------------------------------------------------------------------------


def test_bloom_matches_the_yellow_paper():
    value = b"\xab" * 20
    digest = keccak(value)
    bits = {int.from_bytes(digest[i:i + 2], "big") & 0x7FF for i in (0, 2, 4)}
    bloom = bloom_of_logs([Log(value, (), b"")])
    set_bits = {i for i in range(2048) if int.from_bytes(bloom, "big") >> i & 1}
    assert set_bits == bits
    assert bloom == yellow_paper_bloom([value])


def test_bloom_of_logs_covers_addresses_and_topics_not_data():
    logs = [LOG, Log(b"\xcd" * 20, (b"\x03" * 32,), b"\x04" * 32)]
    bloom = bloom_of_logs(logs)
    assert bloom == yellow_paper_bloom([LOG.address, *LOG.topics, b"\xcd" * 20, b"\x03" * 32])
    for value in (LOG.address, *LOG.topics, b"\xcd" * 20, b"\x03" * 32):
        assert bloom_may_contain(bloom, value)


def test_bloom_reports_an_absent_value_as_absent():
    bloom = bloom_of_logs([LOG])
    absent = b"\x99" * 32
    # independently: at least one of its three bits is clear, so it must be reported absent
    assert yellow_paper_bloom([LOG.address, *LOG.topics, absent]) != yellow_paper_bloom([LOG.address, *LOG.topics])
    assert not bloom_may_contain(bloom, absent)
    assert not bloom_may_contain(EMPTY_BLOOM, LOG.address)


def test_merge_blooms_is_bitwise_or():
    first = yellow_paper_bloom([b"\x01"])
    second = yellow_paper_bloom([b"\x02"])
    assert merge_blooms([first, second]) == bytes(x | y for x, y in zip(first, second))
    assert merge_blooms([]) == EMPTY_BLOOM
