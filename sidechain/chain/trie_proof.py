"""Checking a Merkle-Patricia proof (eth_getProof's accountProof and storageProof) without a
database: what a light client or a test does with the nodes a full node served."""

from __future__ import annotations

from binascii import hexlify

import rlp

from ..crypto import keccak256
from ..errors import mismatch
from .state import EMPTY_TRIE_ROOT

_HEX_TO_NIBBLE = bytes.maketrans(b"0123456789abcdef", bytes(range(16)))


def key_to_nibbles(key: bytes) -> bytes:
    """The nibble path of a key, one nibble per byte."""
    return hexlify(key).translate(_HEX_TO_NIBBLE)


def hp_decode(data: bytes) -> tuple[bytes, bool]:
    """(nibble path, is_leaf) of a hex-prefix encoded path (Yellow Paper appendix C); ValueError
    if malformed."""
    digits = hexlify(data)
    if not digits or digits[0] not in b"0123" or (digits[0] in b"02" and digits[1:2] != b"0"):
        raise ValueError(f"bad hex-prefix path 0x{data.hex()}")
    leaf = digits[0] in b"23"
    return digits[1 if digits[0] in b"13" else 2 :].translate(_HEX_TO_NIBBLE), leaf


def verify_proof(root_hash: bytes, key: bytes, proof: list[bytes]) -> bytes | None:
    """The value `proof` proves for `key` under `root_hash`, or None if it proves `key` absent.

    Raises ValueError if a node does not hash to its parent's reference, the proof stops short,
    or nodes are left over. Also accepts py-trie's format, which lists inline nodes separately.
    """
    path = key_to_nibbles(key)
    if not proof and root_hash == EMPTY_TRIE_ROOT:
        return None
    index = 0

    def take(expected: bytes) -> list:
        nonlocal index
        if index == len(proof):
            raise ValueError(f"proof ends before node 0x{expected.hex()}")
        got = keccak256(proof[index])
        if got != expected:
            raise ValueError(mismatch(f"proof node {index} hash", expected="0x" + expected.hex(), got="0x" + got.hex()))
        index += 1
        try:
            item = rlp.decode(proof[index - 1])
        except rlp.DecodingError as exc:
            raise ValueError(f"proof node {index - 1} is not RLP: {exc}") from None
        if not isinstance(item, list):
            raise ValueError(f"proof node {index - 1} is an RLP string, not a node")
        return item

    item, pos, result = take(root_hash), 0, None
    while True:
        if len(item) == 17:
            if pos == len(path):
                result = item[16] or None
                break
            child, pos = item[path[pos]], pos + 1
        elif len(item) == 2 and isinstance(item[0], bytes):
            node_path, leaf = hp_decode(item[0])
            end = pos + len(node_path)
            if leaf or path[pos:end] != node_path:
                result = item[1] if leaf and path[pos:] == node_path else None
                break
            child, pos = item[1], end
        else:
            raise ValueError(f"proof node {index - 1} is neither a branch, an extension nor a leaf")
        if child == b"":
            break
        if isinstance(child, list):
            if index < len(proof) and proof[index] == rlp.encode(child):
                index += 1
            item = child
        elif len(child) == 32:
            item = take(child)
        else:
            raise ValueError(f"child reference of {len(child)} bytes in proof node {index - 1}")
    if index != len(proof):
        raise ValueError(mismatch("proof nodes used", expected=len(proof), got=index))
    if result is not None and not isinstance(result, bytes):
        raise ValueError("proven value is a list")
    return result
