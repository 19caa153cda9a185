"""Accounts and lists of byte strings through the native codecs (sidechain/evm/src/records.rs):
the same values pyrlp reads, and a clear ValueError for what is not one."""

from __future__ import annotations

import random

import pytest
import rlp

from sidechain.chain.codec import decode_byte_strings
from sidechain.chain.state import EMPTY_CODE_HASH, EMPTY_TRIE_ROOT, Account


@pytest.mark.parametrize("seed", range(4))
def test_accounts_round_trip_and_read_as_pyrlp_reads_them(seed):
    rnd = random.Random(seed)
    for _ in range(200):
        account = Account(rnd.choice([0, 1, rnd.randrange(2**64)]), rnd.choice([0, 10**18, rnd.randrange(2**256)]),
                          rnd.choice([EMPTY_TRIE_ROOT, rnd.randbytes(32)]), rnd.choice([EMPTY_CODE_HASH, rnd.randbytes(32)]))
        data = account.encode()

        assert Account.decode(data) == account
        nonce, balance, root, code = rlp.decode(data)
        assert (int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), root, code) == (
            account.nonce, account.balance, account.storage_root, account.code_hash)


@pytest.mark.parametrize("data, error", [
    (b"", "RLP ends early"),
    (rlp.encode(b"not a list"), "not a list"),
    (rlp.encode([b"\x01", b"\x02", EMPTY_TRIE_ROOT]), "expected 4 byte strings, got 3"),
    (rlp.encode([b"\x01", [b"\x02"], EMPTY_TRIE_ROOT, EMPTY_CODE_HASH]), "expected 4 byte strings"),
    (rlp.encode([b"\x01" * 9, b"\x02", EMPTY_TRIE_ROOT, EMPTY_CODE_HASH]), "wrong length"),
    (rlp.encode([b"\x01", b"\x02", EMPTY_TRIE_ROOT[:31], EMPTY_CODE_HASH]), "wrong length"),
    (Account(1, 2).encode() + b"\x00", "1 bytes after the list"),
])
def test_what_is_not_an_account_raises_value_error(data, error):
    with pytest.raises(ValueError, match=error):
        Account.decode(data)


def test_byte_string_lists_decode_and_everything_else_is_refused():
    items = [b"", b"\x00", b"\x7f", b"\x80", b"x" * 55, b"y" * 56, b"z" * 70_000]

    assert decode_byte_strings(rlp.encode(items), 7) == items
    assert decode_byte_strings(rlp.encode([]), 7) == []
    for bad, error in [(rlp.encode(items), "at most 6 items, got 7"), (rlp.encode([b"a", [b"b"]]), "an item is a list"),
                       (rlp.encode(b"abc"), "not a list"), (b"\xc2\x81\x05", "non-canonical"), (b"\xc5\x83ab", "ends early")]:
        with pytest.raises(ValueError, match=error):
            decode_byte_strings(bad, 6)
