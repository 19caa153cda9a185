"""The Merkle-Patricia trie: roots, reads, persistence and proofs, checked against py-trie's HexaryTrie.

HexaryTrie is the reference for roots and proofs; a plain dict is the reference for reads (HexaryTrie's
`get` mishandles a key that is a strict prefix of another, though its roots are right).
"""

from __future__ import annotations

import random

import pytest
import rlp
from trie import HexaryTrie

from sidechain.chain.state import EMPTY_TRIE_ROOT, Account
from sidechain.chain.trie import MerkleTrie, MissingTrieNode, account_trie_key
from sidechain.chain.trie_proof import verify_proof
from sidechain.crypto import keccak256


def random_batch(rnd: random.Random, known: list[bytes], size: int) -> list[tuple[bytes, bytes | None]]:
    """Keys over a 3-symbol alphabet, so they share prefixes and are prefixes of one another; values
    short enough to make inline nodes, long enough to be hashed, or None/b"" for deletes."""
    batch = []
    for _ in range(size):
        roll = rnd.random()
        if known and roll < 0.3:
            key = rnd.choice(known)
        elif known and roll < 0.5:
            key = rnd.choice(known)
            key = key[: rnd.randint(0, len(key))] + bytes([rnd.randrange(3)]) * rnd.randint(0, 2)
        elif roll < 0.6:
            key = b"\x11" * 30 + bytes([rnd.randrange(3), rnd.randrange(256)])  # long shared prefix
        else:
            key = bytes(rnd.randrange(3) for _ in range(rnd.randint(0, 4)))
        short, long = rnd.randbytes(rnd.randint(1, 20)), rnd.randbytes(rnd.randint(30, 90))
        value = rnd.choice([None, b"", b"\x05", b"x", short, long])
        batch.append((key, value))
        known.append(key)
    return batch


def apply_to_reference(hexary: HexaryTrie, model: dict, batch: list) -> None:
    for key, value in batch:
        if value:
            hexary.set(key, value)
            model[key] = value
        else:
            hexary.delete(key)
            model.pop(key, None)


def hashed_only(nodes: list[bytes]) -> list[bytes]:
    """A py-trie proof in go-ethereum's form: the root, then only nodes referenced by hash."""
    return [node for i, node in enumerate(nodes) if i == 0 or len(node) >= 32]


def account_items(rnd: random.Random, n: int) -> list[tuple[bytes, bytes]]:
    return [
        (account_trie_key(rnd.randbytes(20)), Account(rnd.randrange(100), rnd.randrange(10**20)).encode())
        for _ in range(n)
    ]


# --- known vectors ------------------------------------------------------------------------------


def test_empty_trie_has_ethereums_empty_root():
    trie = MerkleTrie()

    assert trie.root_hash == EMPTY_TRIE_ROOT
    assert trie.root_hash.hex() == "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    assert trie.get(b"anything") is None
    assert trie.proof(b"anything") == []
    assert verify_proof(EMPTY_TRIE_ROOT, b"anything", []) is None
    assert trie.new_nodes() == {}


@pytest.mark.parametrize(
    "items, root",
    [  # go-ethereum trie/trie_test.go TestInsert; the "puppy" trie of the Ethereum wiki
        (
            [(b"doe", b"reindeer"), (b"dog", b"puppy"), (b"dogglesworth", b"cat")],
            "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3",
        ),
        ([(b"A", b"a" * 50)], "d23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab"),
        (
            [(b"do", b"verb"), (b"horse", b"stallion"), (b"doge", b"coin"), (b"dog", b"puppy")],
            "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84",
        ),
    ],
)
def test_known_roots(items, root):
    assert MerkleTrie().update(items).root_hash.hex() == root


def test_state_root_of_accounts_matches_hexary_trie():
    accounts = {bytes([i]) * 20: Account(nonce=i, balance=10**18 * i) for i in range(1, 6)}
    hexary = HexaryTrie({})
    for address, account in accounts.items():
        hexary.set(keccak256(address), account.encode())

    trie = MerkleTrie().update((account_trie_key(a), acc.encode()) for a, acc in accounts.items())

    assert trie.root_hash == hexary.root_hash
    assert Account.decode(trie.get(account_trie_key(b"\x03" * 20))) == accounts[b"\x03" * 20]


# --- random operation sequences -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_random_batches_match_hexary_trie_and_delete_back_to_empty(seed):
    rnd = random.Random(seed)
    hexary, model, known = HexaryTrie({}), {}, []
    trie = MerkleTrie()
    for _ in range(25):
        batch = random_batch(rnd, known, rnd.randint(1, 40))
        apply_to_reference(hexary, model, batch)
        trie = trie.update(batch)
        assert trie.root_hash == hexary.root_hash
        for key in set(known):
            assert trie.get(key) == model.get(key)

    trie = trie.update((key, None) for key in list(model))

    assert trie.root_hash == EMPTY_TRIE_ROOT
    assert all(trie.get(key) is None for key in known)


def test_batch_order_and_duplicates_last_write_wins():
    trie = MerkleTrie().update([(b"a", b"1"), (b"b", b"2"), (b"a", None), (b"b", b"3"), (b"a", b"4")])

    assert (trie.get(b"a"), trie.get(b"b")) == (b"4", b"3")
    assert trie.root_hash == MerkleTrie().update([(b"b", b"3"), (b"a", b"4")]).root_hash


def test_update_is_functional():
    rnd = random.Random(1)
    items = account_items(rnd, 300)
    old = MerkleTrie().update(items)
    old_root = old.root_hash

    new = old.update([(items[0][0], None), (items[1][0], b"changed" * 5), (b"\x00" * 32, b"new")])

    assert old.root_hash == old_root
    assert [old.get(k) for k, _ in items] == [v for _, v in items]
    assert old.get(b"\x00" * 32) is None
    assert new.get(items[0][0]) is None
    assert (new.get(items[1][0]), new.get(b"\x00" * 32)) == (b"changed" * 5, b"new")
    assert old.update([]).root_hash == old_root


# --- persistence --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_new_nodes_make_every_root_loadable(seed):
    rnd = random.Random(100 + seed)
    hexary, model, known, db = HexaryTrie({}), {}, [], {}
    trie = MerkleTrie()
    for block in range(12):
        batch = random_batch(rnd, known, rnd.randint(1, 30))
        apply_to_reference(hexary, model, batch)
        trie = trie.update(batch)
        if block % 3 == 2:
            continue  # leave some blocks uncommitted: the next new_nodes must still cover them
        db.update(trie.new_nodes())
        trie.mark_committed()
        reloaded = MerkleTrie(trie.root_hash, db.__getitem__)
        for key in set(known):
            assert reloaded.get(key) == model.get(key)
        trie = reloaded
        assert trie.root_hash == hexary.root_hash


def test_new_nodes_after_commit_are_only_the_touched_path():
    rnd = random.Random(2)
    base = MerkleTrie().update(account_items(rnd, 2000))
    db = base.new_nodes()
    base.mark_committed()
    key = account_trie_key(b"\x01" * 20)

    written = base.update([(key, Account(1, 1).encode())]).new_nodes()

    assert 1 < len(written) <= 5  # root, one or two branches, a new branch or extension, the leaf
    assert not set(written) & set(db)
    assert base.new_nodes() == {}


def test_lazily_loaded_trie_updates_like_hexary_trie():
    rnd = random.Random(3)
    items = account_items(rnd, 500)
    built = MerkleTrie().update(items)
    db = dict(built.new_nodes())
    loads = []
    loaded = MerkleTrie(built.root_hash, lambda h: loads.append(h) or db[h])
    hexary = HexaryTrie({})
    for key, value in items:
        hexary.set(key, value)

    changes = [(items[i][0], None) for i in range(0, 500, 7)] + account_items(rnd, 50)
    updated = loaded.update(changes)
    apply_to_reference(hexary, {}, changes)

    assert updated.root_hash == hexary.root_hash
    assert len(loads) < len(db)  # only the paths walked were loaded
    loads.clear()
    loaded.update([(items[7][0], b"again"), (changes[-1][0], b"again")]).root_hash
    assert loads == []  # nodes decoded for one block stay in the committed trie for the next


def test_short_root_is_stored_under_its_hash():
    trie = MerkleTrie().update([(b"k", b"v")])
    db = trie.new_nodes()

    assert trie.root_hash in db and len(db[trie.root_hash]) < 32
    assert MerkleTrie(trie.root_hash, db.__getitem__).get(b"k") == b"v"


def test_missing_node_raises_missing_trie_node():
    trie = MerkleTrie().update(account_items(random.Random(4), 20))

    with pytest.raises(MissingTrieNode) as raised:
        MerkleTrie(trie.root_hash, {}.__getitem__).get(b"\x00" * 32)
    assert isinstance(raised.value, KeyError) and raised.value.node_hash == trie.root_hash
    with pytest.raises(MissingTrieNode):
        MerkleTrie(trie.root_hash).get(b"\x00" * 32)


def stored_trie(items):
    trie = MerkleTrie().update(items)
    return trie, dict(trie.new_nodes())


def test_a_stored_node_that_does_not_hash_to_its_reference_is_rejected():
    trie, db = stored_trie(account_items(random.Random(6), 50))
    child = next(h for h in db if h != trie.root_hash)
    db[child] = db[child][:-1] + bytes([db[child][-1] ^ 1])  # one flipped bit in a stored node

    reopened = MerkleTrie(trie.root_hash, db.__getitem__)
    with pytest.raises(ValueError, match=f"stored under 0x{child.hex()} hashes to 0x{keccak256(db[child]).hex()}"):
        for key, _ in account_items(random.Random(6), 50):
            reopened.get(key)


@pytest.mark.parametrize(
    "node, error",
    [
        (rlp.encode(b"x" * 40), "an RLP string, not a list"),
        (rlp.encode([b"a"] * 3 + [b"b" * 40]), "has 4 items, expected 2 or 17"),
        (rlp.encode([b"\x40" + b"a" * 40, b"v"]), "bad hex-prefix path"),
        (rlp.encode([b"\x20" + b"a" * 40, [b"v"]]), "leaf value is a list"),
        (rlp.encode([b"\x00" + b"a" * 40, b""]), "extension without a child"),
        (rlp.encode([b"\x00" + b"a" * 20, b"c" * 31]), "child reference of 31 bytes"),
        (rlp.encode([b""] * 16 + [[b"x" * 40]]), "branch value is a list"),
        (rlp.encode([b"\x20" + b"a" * 40, b"v"]) + b"\x00", "1 bytes after the item"),
        (b"\xf8\x05" + b"a" * 40, "non-canonical RLP length"),
        (b"\xe9\x81\x05" + b"a" * 39, "non-canonical RLP single byte"),
        (b"\xf8\x40" + b"a" * 40, "ends early"),
    ],
)
def test_malformed_stored_nodes_raise_value_error(node, error):
    db = {keccak256(node): node}

    with pytest.raises(ValueError, match=error):
        MerkleTrie(keccak256(node), db.__getitem__).get(b"key")


def test_a_loader_failing_otherwise_than_keyerror_is_re_raised_as_it_was():
    trie, _ = stored_trie(account_items(random.Random(7), 20))

    def broken(_hash):
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        MerkleTrie(trie.root_hash, broken).update([(b"\x01" * 32, b"v")])


def test_one_lazily_loaded_trie_read_from_threads_answers_every_read():
    import threading

    items = account_items(random.Random(8), 2000)
    trie, db = stored_trie(items)
    shared = MerkleTrie(trie.root_hash, db.__getitem__)
    wrong, barrier = [], threading.Barrier(4)

    def reader(offset):
        barrier.wait()
        for key, value in items[offset::4] + items[::-1]:
            if shared.get(key) != value:
                wrong.append(key)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert wrong == []
    assert shared.update([(items[0][0], None)]).root_hash == MerkleTrie().update(items[1:]).root_hash


# --- proofs -------------------------------------------------------------------------------------


def test_account_proofs_equal_hexary_trie_and_verify():
    rnd = random.Random(5)
    items = account_items(rnd, 1000)
    trie = MerkleTrie().update(items)
    hexary = HexaryTrie({})
    for key, value in items:
        hexary.set(key, value)
    absent = [account_trie_key(rnd.randbytes(20)) for _ in range(50)]

    for key, value in items[:100] + [(k, None) for k in absent]:
        proof = trie.proof(key)
        assert proof == [rlp.encode(node) for node in hexary.get_proof(key)]
        assert verify_proof(trie.root_hash, key, proof) == value


@pytest.mark.parametrize("seed", range(4))
def test_proofs_with_inline_nodes(seed):
    rnd = random.Random(200 + seed)
    hexary, model, known = HexaryTrie({}), {}, []
    batch = [(k, v) for k, v in random_batch(rnd, known, 60) if len(k) == 4 or k.startswith(b"\x11")]
    apply_to_reference(hexary, model, batch)
    trie = MerkleTrie().update(batch)

    for key in set(known):
        if not (len(key) == 4 or key.startswith(b"\x11")):
            continue  # HexaryTrie's proof walk is wrong for keys that are prefixes of others
        reference = [rlp.encode(node) for node in hexary.get_proof(key)]
        assert trie.proof(key) == hashed_only(reference)
        assert verify_proof(trie.root_hash, key, trie.proof(key)) == model.get(key)
        assert verify_proof(trie.root_hash, key, reference) == model.get(key)


def test_prefix_keys_prove_present_and_absent():
    trie = MerkleTrie().update([(b"", b"root value"), (b"ab", b"x" * 40), (b"abc", b"y" * 40), (b"b", b"z")])

    for key, value in [(b"", b"root value"), (b"a", None), (b"ab", b"x" * 40), (b"abc", b"y" * 40), (b"abcd", None)]:
        assert verify_proof(trie.root_hash, key, trie.proof(key)) == value


def test_tampered_proofs_are_rejected():
    rnd = random.Random(6)
    items = account_items(rnd, 500)
    trie = MerkleTrie().update(items)
    key = items[0][0]
    proof = trie.proof(key)

    for i, node in enumerate(proof):
        tampered = list(proof)
        tampered[i] = node[:-1] + bytes([node[-1] ^ 1])
        with pytest.raises(ValueError):
            verify_proof(trie.root_hash, key, tampered)
    with pytest.raises(ValueError):
        verify_proof(trie.root_hash, key, proof[:-1])
    with pytest.raises(ValueError):
        verify_proof(trie.root_hash, key, proof + [proof[-1]])
    with pytest.raises(ValueError):
        verify_proof(keccak256(b"another root"), key, proof)
    with pytest.raises(ValueError):
        verify_proof(trie.root_hash, items[1][0], proof)  # a proof for another key stops short
