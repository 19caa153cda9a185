"""Input generators: random bytes, byte-level mutations and RLP-structure-aware mutations.

Every function takes `rng`, anything with `random.Random`'s interface, so the same generators run
under hypothesis (`st.randoms()`: draws it can replay and shrink) and under a plain seeded PRNG.
"""

from __future__ import annotations

import rlp

INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0x81, 0xB7, 0xB8, 0xBF, 0xC0, 0xC1, 0xF7, 0xF8, 0xFF)
INTERESTING_INTS = (0, 1, 27, 28, 35, 36, 127, 128, 255, 256, 2**31, 2**32, 2**63, 2**64 - 1, 2**64, 2**255, 2**256 - 1, 2**256)


def random_bytes(rng, max_size: int = 512) -> bytes:
    size = rng.choice((0, 1, 2, rng.randrange(max_size + 1)))
    return bytes(rng.getrandbits(8) for _ in range(size))


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def random_leaf(rng) -> bytes:
    kind = rng.randrange(7)
    if kind == 0:
        return b""
    if kind == 1:
        return _int_bytes(rng.choice(INTERESTING_INTS))
    if kind == 2:
        return b"\x00" + _int_bytes(rng.randrange(1 << 16))  # a non-canonical integer
    if kind == 3:
        return bytes(rng.getrandbits(8) for _ in range(rng.choice((19, 20, 21, 31, 32, 33, 64, 65, 66))))
    if kind == 4:
        return bytes([rng.choice(INTERESTING_BYTES)])
    if kind == 5:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 80)))
    return _int_bytes(rng.getrandbits(rng.choice((8, 64, 256, 264))))


def random_item(rng, depth: int = 0):
    if depth < 3 and rng.random() < 0.25:
        return [random_item(rng, depth + 1) for _ in range(rng.randrange(5))]
    return random_leaf(rng)


def mutate_bytes(rng, data: bytes, others: list[bytes] = ()) -> bytes:
    """One to four byte-level edits: flips, sets, inserts, deletions, duplications, splices."""
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(9)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[rng.randrange(len(buf))] = rng.choice(INTERESTING_BYTES)
        elif op == 2:
            buf[pos:pos] = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 9)))
        elif op == 3 and buf:
            end = min(len(buf), pos + rng.randrange(1, 17))
            del buf[pos:end]
        elif op == 4 and buf:
            end = min(len(buf), pos + rng.randrange(1, 33))
            buf[pos:pos] = buf[pos:end]
        elif op == 5:
            del buf[rng.randrange(len(buf) + 1):]  # truncate
        elif op == 6 and others:
            other = rng.choice(others)
            cut = rng.randrange(len(other) + 1)
            buf[pos:] = other[cut:]  # splice
        elif op == 7 and buf:
            i = rng.randrange(len(buf))
            buf[i] = (buf[i] + rng.choice((1, -1, 16, -16))) % 256
        else:
            buf[pos:pos] = bytes([rng.choice(INTERESTING_BYTES)])
    return bytes(buf)


def _mutate_tree(rng, item, depth: int = 0):
    if isinstance(item, list):
        items = list(item)
        op = rng.randrange(8) if items else 7
        if op <= 2:  # descend into one element
            i = rng.randrange(len(items))
            items[i] = _mutate_tree(rng, items[i], depth + 1)
        elif op == 3:
            del items[rng.randrange(len(items))]
        elif op == 4:
            i = rng.randrange(len(items))
            items.insert(i, items[i])
        elif op == 5:
            i, j = rng.randrange(len(items)), rng.randrange(len(items))
            items[i], items[j] = items[j], items[i]
        elif op == 6:
            return random_leaf(rng)  # a list where bytes were expected is tried by leaves
        else:
            items.insert(rng.randrange(len(items) + 1), random_item(rng))
        return items
    op = rng.randrange(6)
    if op == 0:
        return [item]  # bytes wrapped in a list
    if op == 1 and item:
        return mutate_bytes(rng, item)
    if op == 2 and depth < 6 and item[:1] and item[0] >= 0xC0:
        try:  # an embedded RLP encoding (a block inside a proposal): mutate its structure
            return rlp_mutate(rng, item)
        except Exception:
            return mutate_bytes(rng, item)
    return random_item(rng)


def rlp_mutate(rng, data: bytes) -> bytes:
    """Decode `data` as RLP, edit its tree (replace, drop, duplicate, wrap, re-type items), re-encode."""
    tree = rlp.decode(data, strict=False)
    for _ in range(rng.randrange(1, 4)):
        tree = _mutate_tree(rng, tree)
    return rlp.encode(tree)


def mutant(rng, seeds: list[bytes]) -> bytes:
    """Random bytes, or a valid seed mutated at the byte level, the RLP level, or both."""
    choice = rng.random()
    if choice < 0.1 or not seeds:
        return random_bytes(rng)
    seed = rng.choice(seeds)
    if choice < 0.45:
        return mutate_bytes(rng, seed, seeds)
    try:
        out = rlp_mutate(rng, seed)
    except Exception:
        return mutate_bytes(rng, seed, seeds)
    return mutate_bytes(rng, out, seeds) if choice > 0.9 else out
