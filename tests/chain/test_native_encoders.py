"""The native encoders of accounts and receipts (sidechain/evm/src/records.rs) against pyrlp and the
Python bloom (a receipt's, a block's): the same bytes for boundary values and for random receipts, the stored list read back
by the store's decoder, and a clear error for an integer RLP cannot hold."""

from __future__ import annotations

import random

import pytest
import rlp

from sidechain.chain.blocks import Log, Receipt, encode_receipts, logs_bloom, receipts_root
from sidechain.chain.bloom import EMPTY_BLOOM, bloom_of_logs, merge_blooms
from sidechain.chain.state import EMPTY_CODE_HASH, EMPTY_TRIE_ROOT, Account
from sidechain.crypto import keccak256

ROOT, CODE = b"\x11" * 32, b"\x22" * 32


@pytest.mark.parametrize("nonce", [0, 1, 127, 128, 2**64 - 1])
@pytest.mark.parametrize("balance", [0, 1, 0x80, 2**64, 2**128 - 1, 2**128, 10**60, 2**256 - 1])
def test_an_account_encodes_as_pyrlp_does_and_decodes_back(nonce, balance):
    account = Account(nonce, balance, ROOT, CODE)
    assert account.encode() == rlp.encode([nonce, balance, ROOT, CODE])
    assert Account.decode(account.encode()) == account
    assert Account().encode() == rlp.encode([0, 0, EMPTY_TRIE_ROOT, EMPTY_CODE_HASH])


@pytest.mark.parametrize("balance", [-1, 2**256])
def test_a_balance_outside_256_bits_is_refused(balance):
    with pytest.raises((ValueError, OverflowError)):
        Account(0, balance, ROOT, CODE).encode()


def random_receipt(rng: random.Random) -> Receipt:
    logs = tuple(Log(rng.randbytes(20), tuple(rng.randbytes(32) for _ in range(rng.randrange(5))), rng.randbytes(rng.choice([0, 1, 31, 56, 300])))
                 for _ in range(rng.choice([0, 0, 1, 3])))
    return Receipt(rng.choice([0, 1, 2]), rng.choice([0, 1]), rng.choice([0, 21_000, 2**40, 2**64 - 1]), logs,
                   rng.choice([0, 21_000, 2**63]), rng.choice([0, 1, 10**9, 2**100, 2**256 - 1]))


def oracle_consensus(r: Receipt) -> bytes:
    body = rlp.encode([r.status, r.cumulative_gas_used, bloom_of_logs(r.logs), [[g.address, list(g.topics), g.data] for g in r.logs]])
    return body if r.tx_type == 0 else bytes([r.tx_type]) + body


def oracle_stored(r: Receipt) -> bytes:
    return rlp.encode([r.tx_type, r.status, r.cumulative_gas_used, [[g.address, list(g.topics), g.data] for g in r.logs], r.gas_used,
                       r.effective_gas_price])


def oracle_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return keccak256(b"")
    level = [keccak256(b"\x00" + leaf) for leaf in leaves]
    while len(level) > 1:
        level = [keccak256(b"\x01" + level[i] + level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0]


def test_random_receipts_encode_as_pyrlp_does_and_root_as_the_spec_says():
    rng = random.Random(7)
    receipts = [random_receipt(rng) for _ in range(300)]
    for r in receipts:
        assert r.consensus_encoding() == oracle_consensus(r)
        assert r.storage_encoding() == oracle_stored(r)
        assert Receipt.from_storage(r.storage_encoding()) == r
    for n in (0, 1, 2, 3, 7, 300):
        assert receipts_root(receipts[:n]) == oracle_root([keccak256(oracle_consensus(r)) for r in receipts[:n]])


def test_a_blocks_logs_bloom_is_its_receipts_blooms_ored():
    rng = random.Random(9)
    receipts = [random_receipt(rng) for _ in range(200)]
    for n in (1, 2, 5, 200):
        assert logs_bloom(receipts[:n]) == merge_blooms(bloom_of_logs(r.logs) for r in receipts[:n])
    assert logs_bloom(receipts[:200]) != EMPTY_BLOOM
    assert logs_bloom([]) == EMPTY_BLOOM


def test_a_blocks_stored_receipts_are_a_list_of_encodings_the_store_reads_back():
    rng = random.Random(8)
    receipts = [random_receipt(rng) for _ in range(50)]
    data = encode_receipts(receipts)
    assert data == rlp.encode([oracle_stored(r) for r in receipts])
    assert [Receipt.from_storage(item) for item in rlp.decode(data)] == receipts
    assert encode_receipts([]) == rlp.encode([])


def test_a_receipt_price_outside_256_bits_is_refused():
    with pytest.raises((ValueError, OverflowError)):
        Receipt(2, 1, 21_000, (), 21_000, 2**256).storage_encoding()
