"""The native transaction decoder (sidechain/evm/src/transactions.rs) against the Python one in
sidechain/chain/transactions.py: whatever the native one accepts, the Python one accepts with the
same fields; every valid transaction takes the native path; what it refuses, the Python decoder
rejects with its own error, so `decode_transaction` answers as before, byte for byte.

Inputs: wallet-signed transactions of every type (eth-account), their targeted corruptions (high s,
a non-canonical integer, another chain, trailing bytes), thousands of random byte mutations, and
the fuzz corpus of transactions (tests/fuzz/corpus/transaction).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import rlp

from sidechain.chain import transactions as tx_module
from sidechain.chain.transactions import Transaction, decode_transaction, decode_transactions
from sidechain.crypto import SECP256K1_N
from sidechain.errors import InvalidSignature, InvalidTransaction

from transaction_support import ACCESS_LIST, CHAIN_ID, GWEI, LEGACY, SENDER, TYPE1, TYPE2, retyped, sign, typed_items

CORPUS = Path(__file__).resolve().parents[1] / "fuzz" / "corpus" / "transaction"
CREATE = {"type": 2, "chainId": CHAIN_ID, "nonce": 1, "maxPriorityFeePerGas": 1, "maxFeePerGas": GWEI, "gas": 90_000,
          "value": 0, "data": b"\x60\x00\x60\x00\xf3"}
UNPROTECTED = {k: v for k, v in LEGACY.items() if k != "chainId"}
BIG = {**TYPE1, "gasPrice": 2**200, "value": 2**255, "accessList": ACCESS_LIST}


def valid_transactions() -> list[bytes]:
    raws = [sign(fields) for fields in (LEGACY, TYPE1, TYPE2, CREATE, UNPROTECTED, BIG)]
    rnd = random.Random(1)
    for nonce in range(30):
        base = rnd.choice([LEGACY, TYPE1, TYPE2])
        raws.append(sign({**base, "nonce": nonce, "gas": 60_000, "value": rnd.randrange(2**96),
                          "data": rnd.randbytes(rnd.randrange(40))}))
    return raws


def python_outcome(raw: bytes, gas_limit: int | None = None):
    try:
        return tx_module._decode_in_python(raw, CHAIN_ID, gas_limit, None)
    except InvalidTransaction as exc:
        return type(exc), str(exc)


def native(raw: bytes):
    """The native parse, then the state-free rules decode_transaction checks on it."""
    fields = tx_module._decode_natively([raw], CHAIN_ID)[0]
    if fields is None:
        return None
    tx = Transaction(*fields, raw)
    try:
        tx_module._check_fields(tx, None)
    except InvalidTransaction as exc:
        return type(exc), str(exc)
    return tx


def assert_agree(raw: bytes) -> bool:
    """The native answer is None or the Python decoder's transaction; True if native accepted."""
    ours, reference = native(raw), python_outcome(raw)
    if ours is not None:
        assert ours == reference, raw.hex()
    return ours is not None


def mutants(raw: bytes, rnd: random.Random, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        data = bytearray(raw)
        kind = rnd.randrange(4)
        if kind == 0:
            data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
        elif kind == 1:
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        elif kind == 2:
            del data[rnd.randrange(len(data)):]
        else:
            at = rnd.randrange(len(data) + 1)
            data[at:at] = rnd.randbytes(rnd.randint(1, 3))
        out.append(bytes(data))
    return out


def test_every_valid_transaction_takes_the_native_path_with_the_python_fields():
    raws = valid_transactions()

    accepted = [assert_agree(raw) for raw in raws]

    assert all(accepted)
    assert all(isinstance(native(raw), Transaction) for raw in raws)
    assert {native(raw).tx_type for raw in raws} == {0, 1, 2}
    assert all(native(raw).sender == SENDER for raw in raws)


def test_random_mutations_are_accepted_natively_exactly_when_python_accepts_them():
    rnd = random.Random(7)
    tried = accepted = 0
    for raw in valid_transactions():
        for mutant in mutants(raw, rnd, 100):
            tried += 1
            assert_agree(mutant)
            valid = isinstance(native(mutant), Transaction)
            accepted += valid
            assert valid == isinstance(python_outcome(mutant), Transaction), mutant.hex()

    assert tried == 3600
    assert 0 < accepted < tried  # most mutants break a rule; some (a changed value) are valid and agree above


def test_an_item_overrunning_its_nested_list_is_malformed_on_both_paths():
    # pyrlp decodes such an access list leniently; the signature would then cover other bytes
    items = typed_items(sign(TYPE1))
    good = retyped(sign(TYPE1), items)
    at = good.index(bytes.fromhex("f842a0"))  # the first entry's key list: two 32-byte keys
    bad = good[:at + 2 + 33] + b"\xa4" + good[at + 2 + 34:]  # the second key claims 36 bytes

    assert native(bad) is None
    with pytest.raises(InvalidTransaction, match="not canonical"):
        decode_transaction(bad, CHAIN_ID)


def test_the_fuzz_corpus_agrees():
    files = sorted(CORPUS.glob("*.bin"))
    assert files, f"no corpus in {CORPUS}"

    for path in files:
        assert_agree(path.read_bytes())


def high_s(raw: bytes) -> bytes:
    items = typed_items(raw)
    items[-1] = (SECP256K1_N - int.from_bytes(items[-1], "big")).to_bytes(32, "big")
    items[-3] = b"" if items[-3] == b"\x01" else b"\x01"
    return retyped(raw, items)


def padded_nonce(raw: bytes) -> bytes:
    items = typed_items(raw)
    items[1] = b"\x00" + items[1]
    return retyped(raw, items)


def other_chain(raw: bytes) -> bytes:
    items = typed_items(raw)
    items[0] = (CHAIN_ID + 1).to_bytes(2, "big")
    return retyped(raw, items)


@pytest.mark.parametrize("corrupt", [high_s, padded_nonce, other_chain, lambda raw: raw + b"\x00", lambda raw: raw[:-1]],
                         ids=["high-s", "non-canonical-nonce", "other-chain", "trailing-byte", "truncated"])
def test_targeted_corruptions_fall_to_the_python_decoder_and_its_error(corrupt):
    bad = corrupt(sign(TYPE2))

    assert native(bad) is None
    with pytest.raises(InvalidTransaction) as raised:
        decode_transaction(bad, CHAIN_ID)
    assert (type(raised.value), str(raised.value)) == python_outcome(bad)


def test_high_s_is_refused_even_though_it_recovers():
    # the same signature in its upper-half form recovers the same key; EIP-2 forbids it
    with pytest.raises(InvalidSignature, match="EIP-2"):
        decode_transaction(high_s(sign(TYPE2)), CHAIN_ID)


def test_a_batch_answers_in_place_with_transactions_and_the_errors_decode_transaction_raises():
    good, gas_heavy = sign(TYPE2), sign({**TYPE2, "gas": 10**7})
    raws = [good, high_s(good), rlp.encode(b"x"), gas_heavy, b""]

    answers = list(decode_transactions(raws, CHAIN_ID, block_gas_limit=5_000_000))

    assert answers[0] == decode_transaction(good, CHAIN_ID)
    for raw, answer in zip(raws[1:], answers[1:]):
        assert isinstance(answer, InvalidTransaction)
        with pytest.raises(type(answer)) as raised:
            decode_transaction(raw, CHAIN_ID, 5_000_000)
        assert str(raised.value) == str(answer)
    assert "block gas limit" in str(answers[3])  # a state-free rule checked after the native parse
