"""Transaction decoding: wallet-signed legacy (EIP-155), EIP-2930 and EIP-1559 transactions decode
to the fields that were signed, and every broken rule raises its own InvalidTransaction subclass.

Transactions are signed by eth-account, an implementation independent of ours; malformed variants
are re-encoded from its output with `rlp`.
"""

from __future__ import annotations

import re

import pytest
import rlp
from coincurve import PublicKey
from eth_account import Account
from eth_utils import keccak

from sidechain.chain import transactions as tx_module
from sidechain.chain.transactions import MAX_TX_SIZE, decode_transaction
from sidechain.crypto import SECP256K1_N
from sidechain.errors import (
    GasLimitExceeded,
    InitcodeTooLarge,
    IntrinsicGasTooLow,
    InvalidSignature,
    InvalidTransaction,
    MalformedTransaction,
    OversizedTransaction,
    TipAboveFeeCap,
    UnsupportedTransactionType,
    WrongChainId,
)

CHAIN_ID = 7070
KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ACCOUNT = Account.from_key(KEY)
SENDER = bytes.fromhex(ACCOUNT.address[2:])
TO = bytes.fromhex("3535353535353535353535353535353535353535")
GWEI = 10**9

LEGACY = {
    "chainId": CHAIN_ID, "nonce": 9, "gasPrice": 20 * GWEI, "gas": 21_000,
    "to": "0x" + TO.hex(), "value": 10**18, "data": b"",
}
ACCESS_LIST = [
    {"address": "0x" + "aa" * 20, "storageKeys": ["0x" + "00" * 31 + "01", "0x" + "ff" * 32]},
    {"address": "0x" + "bb" * 20, "storageKeys": []},
]
TYPE1 = {
    "type": 1, "chainId": CHAIN_ID, "nonce": 0, "gasPrice": 3 * GWEI,
    "gas": 21_000 + 2 * 2_400 + 2 * 1_900 + 3 * 16 + 1 * 4, "to": "0x" + TO.hex(), "value": 1,
    "data": b"\x01\x02\x00\x03", "accessList": ACCESS_LIST,
}
TYPE2 = {
    "type": 2, "chainId": CHAIN_ID, "nonce": 2**40, "maxPriorityFeePerGas": 2 * GWEI,
    "maxFeePerGas": 50 * GWEI, "gas": 100_000, "to": "0x" + TO.hex(), "value": 12345,
    "data": b"\xde\xad\x00\xbe\xef",
}


def sign(fields: dict) -> bytes:
    return bytes(ACCOUNT.sign_transaction(fields).raw_transaction)


def typed_items(raw: bytes) -> list:
    return rlp.decode(raw[1:])


def retyped(raw: bytes, items: list) -> bytes:
    return raw[:1] + rlp.encode(items)


# --- decoding what wallets sign -----------------------------------------------------------------


@pytest.mark.parametrize("fields", [LEGACY, TYPE1, TYPE2], ids=["legacy", "type1", "type2"])
def test_wallet_signed_transaction_round_trips(fields):
    signed = ACCOUNT.sign_transaction(fields)
    raw = bytes(signed.raw_transaction)

    tx = decode_transaction(raw, CHAIN_ID)

    assert tx.sender == SENDER
    assert tx.hash == bytes(signed.hash)
    assert tx.raw == raw
    assert tx.tx_type == fields.get("type", 0)
    assert tx.chain_id == CHAIN_ID
    assert tx.nonce == fields["nonce"]
    assert tx.gas == fields["gas"]
    assert tx.to == TO
    assert tx.value == fields["value"]
    assert tx.data == fields["data"]
    assert (tx.r, tx.s) == (signed.r, signed.s)
    assert tx.v == signed.v
    if "maxFeePerGas" in fields:
        assert tx.max_fee_per_gas == fields["maxFeePerGas"]
        assert tx.max_priority_fee_per_gas == fields["maxPriorityFeePerGas"]
    else:
        assert tx.max_fee_per_gas == tx.max_priority_fee_per_gas == tx.gas_price == fields["gasPrice"]


def test_legacy_v_and_y_parity_follow_eip155():
    signed = ACCOUNT.sign_transaction(LEGACY)
    tx = decode_transaction(bytes(signed.raw_transaction), CHAIN_ID)
    assert tx.v in (CHAIN_ID * 2 + 35, CHAIN_ID * 2 + 36)
    assert tx.y_parity == tx.v - (CHAIN_ID * 2 + 35)


def test_access_list_round_trips():
    tx = decode_transaction(sign(TYPE1), CHAIN_ID)
    assert tx.access_list == (
        (b"\xaa" * 20, (b"\x00" * 31 + b"\x01", b"\xff" * 32)),
        (b"\xbb" * 20, ()),
    )


def test_known_sender_skips_recovery_and_gives_the_same_transaction(monkeypatch):
    raw = sign(TYPE2)
    recovered = decode_transaction(raw, CHAIN_ID)

    def no_recovery(*args):
        raise AssertionError("recover_address called although the sender was given")

    monkeypatch.setattr(tx_module, "recover_address", no_recovery)
    assert decode_transaction(raw, CHAIN_ID, sender=SENDER) == recovered


# --- rejections ---------------------------------------------------------------------------------


def test_upfront_cost_is_gas_times_the_fee_cap_plus_value():
    """What the pool and the proposer hold against the balance (go-ethereum's tx.Cost())."""
    assert decode_transaction(sign(TYPE2), CHAIN_ID).upfront_cost == 100_000 * 50 * GWEI + 12345
    assert decode_transaction(sign(LEGACY), CHAIN_ID).upfront_cost == 21_000 * 20 * GWEI + 10**18


def test_wrong_chain_id_typed():
    raw = sign(dict(TYPE2, chainId=1))
    with pytest.raises(WrongChainId, match=r"expected 7070, got 1\b"):
        decode_transaction(raw, CHAIN_ID)


def test_wrong_chain_id_legacy():
    raw = sign(dict(LEGACY, chainId=1))
    with pytest.raises(WrongChainId, match=r"expected 7070, got 1\b"):
        decode_transaction(raw, CHAIN_ID)


def test_pre_eip155_legacy_decodes_as_unprotected():
    unprotected = {k: v for k, v in LEGACY.items() if k != "chainId"}
    signed = ACCOUNT.sign_transaction(unprotected)
    assert signed.v in (27, 28)
    tx = decode_transaction(bytes(signed.raw_transaction), CHAIN_ID)
    assert tx.sender == SENDER and not tx.protected and tx.y_parity == signed.v - 27
    assert decode_transaction(sign(LEGACY), CHAIN_ID).protected and decode_transaction(sign(TYPE2), CHAIN_ID).protected


def _high_s(raw: bytes) -> bytes:
    """The same signature in its other (malleable) form: s' = N - s, recovery parity flipped."""
    if raw[0] >= 0xC0:
        items = rlp.decode(raw)
        v, s = int.from_bytes(items[6], "big"), int.from_bytes(items[8], "big")
        items[6] = CHAIN_ID * 2 + 35 + (1 - (v - CHAIN_ID * 2 - 35))
        items[8] = SECP256K1_N - s
        return rlp.encode(items)
    items = typed_items(raw)
    items[-3] = 1 - int.from_bytes(items[-3], "big")
    items[-1] = SECP256K1_N - int.from_bytes(items[-1], "big")
    return retyped(raw, items)


@pytest.mark.parametrize("fields", [LEGACY, TYPE2], ids=["legacy", "type2"])
def test_high_s_signature_is_rejected(fields):
    raw = _high_s(sign(fields))
    with pytest.raises(InvalidSignature, match="EIP-2"):
        decode_transaction(raw, CHAIN_ID)


def test_high_s_form_is_otherwise_a_valid_signature():
    """Guards the test above: without EIP-2 the flipped signature would recover the same sender."""
    raw = _high_s(sign(TYPE2))
    items = typed_items(raw)
    digest = keccak(raw[:1] + rlp.encode(items[:-3]))
    y, r, s = (int.from_bytes(i, "big") for i in items[-3:])
    assert s > SECP256K1_N // 2
    public = PublicKey.from_signature_and_message(
        r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([y]), digest, hasher=None
    )
    assert keccak(public.format(compressed=False)[1:])[12:] == SENDER


@pytest.mark.parametrize("fields", [LEGACY, TYPE2], ids=["legacy", "type2"])
def test_zero_r_is_rejected(fields):
    raw = sign(fields)
    if raw[0] >= 0xC0:
        items = rlp.decode(raw)
        items[7] = 0
        raw = rlp.encode(items)
    else:
        items = typed_items(raw)
        items[-2] = 0
        raw = retyped(raw, items)
    with pytest.raises(InvalidSignature, match="r out of range"):
        decode_transaction(raw, CHAIN_ID)


def test_typed_recovery_id_above_one_is_rejected():
    raw = sign(TYPE2)
    items = typed_items(raw)
    items[-3] = 2
    with pytest.raises(InvalidSignature, match="got 2"):
        decode_transaction(retyped(raw, items), CHAIN_ID)


def test_signature_over_other_fields_recovers_another_sender():
    """Changing a signed field does not fail decoding; it recovers someone else."""
    raw = sign(TYPE2)
    items = typed_items(raw)
    items[6] = 999  # value
    tx = decode_transaction(retyped(raw, items), CHAIN_ID)
    assert tx.sender != SENDER
    assert tx.value == 999


def _legacy_items() -> list:
    return rlp.decode(sign(LEGACY))


def _with(items: list, index: int, value) -> list:
    items = list(items)
    items[index] = value
    return items


MALFORMED = [
    ("empty input", b"", "empty input"),
    ("garbage list prefix", b"\xff\x00\x13\x37", "invalid RLP"),
    ("garbage string prefix", b"\x85\x00\x13\x37", "not an RLP list nor a typed envelope"),
    ("byte string, not a list", rlp.encode(b"hello world"), "not an RLP list"),
    ("truncated legacy", sign(LEGACY)[:-1], "invalid RLP"),
    ("truncated typed", sign(TYPE2)[:-1], "invalid RLP"),
    ("trailing bytes legacy", sign(LEGACY) + b"\x00", "invalid RLP"),
    ("trailing bytes typed", sign(TYPE2) + b"\x80", "invalid RLP"),
    ("typed payload not a list", b"\x02" + rlp.encode(b"payload"), "not a list"),
    ("empty typed payload", b"\x02", "invalid RLP"),
    ("legacy 8 fields", rlp.encode(_legacy_items()[:8]), "9 fields, got 8"),
    ("legacy 10 fields", rlp.encode(_legacy_items() + [b""]), "9 fields, got 10"),
    ("type 2 with 11 fields", retyped(sign(TYPE2), typed_items(sign(TYPE2))[:11]), "12 fields, got 11"),
    ("type 1 with 12 fields", retyped(sign(TYPE1), typed_items(sign(TYPE1)) + [b""]), "11 fields, got 12"),
    ("nonce with leading zero", rlp.encode(_with(_legacy_items(), 0, b"\x00\x09")), "nonce is not a canonical"),
    ("zero as 0x00", rlp.encode(_with(_legacy_items(), 0, b"\x00")), "nonce is not a canonical"),
    ("value with leading zero", retyped(sign(TYPE2), _with(typed_items(sign(TYPE2)), 6, b"\x00\x30\x39")),
     "value is not a canonical"),
    ("integer wider than 32 bytes", rlp.encode(_with(_legacy_items(), 4, b"\x01" * 33)), "value is not a canonical"),
    ("nonce above 2**64-1", rlp.encode(_with(_legacy_items(), 0, 2**64)), "nonce is out of range"),
    ("integer field as a list", rlp.encode(_with(_legacy_items(), 1, [b"\x01"])), "gasPrice must be a byte string"),
    ("19-byte recipient", rlp.encode(_with(_legacy_items(), 3, b"\x35" * 19)), "20 bytes, got 19"),
    ("access list not a list", retyped(sign(TYPE2), _with(typed_items(sign(TYPE2)), 8, b"\x01")),
     "access list must be a list"),
    ("access list short key", retyped(sign(TYPE2), _with(typed_items(sign(TYPE2)), 8, [[b"\xaa" * 20, [b"\x01"]]])),
     "bad address or storage key"),
    ("legacy v below 35", rlp.encode(_with(_legacy_items(), 6, 30)), "invalid v value 30"),
]


@pytest.mark.parametrize("raw, message", [(raw, msg) for _, raw, msg in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_bytes_are_rejected(raw, message):
    with pytest.raises(MalformedTransaction, match=re.escape(message)):
        decode_transaction(raw, CHAIN_ID)


def test_malformed_is_an_invalid_transaction_with_rpc_code():
    with pytest.raises(InvalidTransaction) as info:
        decode_transaction(b"\xff", CHAIN_ID)
    assert info.value.rpc_code == -32000


def _sized(size: int) -> bytes:
    """A signed type-2 transaction whose encoding is exactly `size` bytes."""
    length = size - 200
    for _ in range(5):
        data = b"\x01" * length
        raw = sign(dict(TYPE2, data=data, gas=21_000 + 16 * length))
        if len(raw) == size:
            return raw
        length += size - len(raw)
    raise AssertionError(f"could not hit {size} bytes")


def test_transaction_at_the_size_limit_is_accepted():
    raw = _sized(MAX_TX_SIZE)
    assert MAX_TX_SIZE == 128 * 1024
    assert decode_transaction(raw, CHAIN_ID).raw == raw


def test_oversized_transaction():
    raw = _sized(MAX_TX_SIZE + 1)
    with pytest.raises(OversizedTransaction, match=rf"size {MAX_TX_SIZE + 1}, limit {MAX_TX_SIZE}"):
        decode_transaction(raw, CHAIN_ID)


def test_oversized_is_checked_before_parsing():
    with pytest.raises(OversizedTransaction):
        decode_transaction(b"\xff" * (MAX_TX_SIZE + 1), CHAIN_ID)


@pytest.mark.parametrize("type_byte", [0x00, 0x03, 0x04, 0x7F])
def test_unsupported_type_byte(type_byte):
    raw = bytes([type_byte]) + sign(TYPE2)[1:]
    with pytest.raises(UnsupportedTransactionType, match=f"0x{type_byte:02x}"):
        decode_transaction(raw, CHAIN_ID)


@pytest.mark.parametrize("fields", [LEGACY, TYPE1, TYPE2], ids=["legacy", "type1", "type2"])
def test_contract_creation_decodes_without_a_recipient(fields):
    creation = {k: v for k, v in fields.items() if k != "to"} | {"gas": 200_000}
    tx = decode_transaction(sign(creation), CHAIN_ID)
    assert tx.to is None and tx.data == creation["data"] and tx.sender == SENDER


# A creation pays 32,000 more (EIP-2) and 2 per 32-byte word of initcode (EIP-3860): 6 bytes of
# non-zero data -> 21,000 + 6 * 16 + 32,000 + 2 * 1 = 53,098.
def test_contract_creation_intrinsic_gas():
    creation = dict(TYPE2, data=b"\x60\x01\x60\x01\xf3\x01")
    del creation["to"]
    assert decode_transaction(sign(creation | {"gas": 53_098}), CHAIN_ID).gas == 53_098
    with pytest.raises(IntrinsicGasTooLow, match="gas 53097, minimum needed 53098"):
        decode_transaction(sign(creation | {"gas": 53_097}), CHAIN_ID)


def test_initcode_above_the_eip3860_limit_is_refused():
    creation = dict(TYPE2, data=b"\x01" * (49_152 + 1), gas=30_000_000)
    del creation["to"]
    with pytest.raises(InitcodeTooLarge, match="code size 49153, limit 49152"):
        decode_transaction(sign(creation), CHAIN_ID)
    at_limit = dict(creation, data=b"\x01" * 49_152)
    assert len(decode_transaction(sign(at_limit), CHAIN_ID).data) == 49_152


# data cost: 4 per zero byte, 16 per non-zero byte (EIP-2028); access list: 2400 per address,
# 1900 per storage key (EIP-2930). Values written out, not computed with the code's helper.
INTRINSIC = [
    ("plain transfer", {}, 21_000),
    ("zero bytes", {"data": b"\x00" * 10}, 21_040),
    ("non-zero bytes", {"data": b"\x01" * 10}, 21_160),
    ("mixed", {"data": b"\x00\xff\x00\x01\x02"}, 21_056),
    ("access list", {"type": 1, "accessList": ACCESS_LIST, "data": b"\x01\x02\x00\x03"}, 29_652),
    ("address without keys", {"type": 1, "accessList": ACCESS_LIST[1:]}, 23_400),
]


def _fields_for(extra: dict) -> dict:
    if extra.get("type") == 1:
        base = dict(TYPE1, data=b"")
    else:
        base = dict(TYPE2, data=b"")
    return dict(base, **extra)


@pytest.mark.parametrize("extra, needed", [(e, n) for _, e, n in INTRINSIC], ids=[c[0] for c in INTRINSIC])
def test_intrinsic_gas_boundary(extra, needed):
    fields = _fields_for(extra)
    assert decode_transaction(sign(dict(fields, gas=needed)), CHAIN_ID).gas == needed
    with pytest.raises(IntrinsicGasTooLow, match=rf"gas {needed - 1}, minimum needed {needed}\b"):
        decode_transaction(sign(dict(fields, gas=needed - 1)), CHAIN_ID)


def test_tip_above_fee_cap():
    raw = sign(dict(TYPE2, maxPriorityFeePerGas=11, maxFeePerGas=10))
    with pytest.raises(TipAboveFeeCap, match=r"maxPriorityFeePerGas: 11, maxFeePerGas: 10"):
        decode_transaction(raw, CHAIN_ID)


def test_tip_equal_to_fee_cap_is_accepted():
    tx = decode_transaction(sign(dict(TYPE2, maxPriorityFeePerGas=10, maxFeePerGas=10)), CHAIN_ID)
    assert tx.max_priority_fee_per_gas == tx.max_fee_per_gas == 10


def test_gas_above_block_gas_limit():
    raw = sign(dict(TYPE2, gas=30_001))
    with pytest.raises(GasLimitExceeded, match=r"gas 30001, block gas limit 30000"):
        decode_transaction(raw, CHAIN_ID, 30_000)
    assert decode_transaction(raw, CHAIN_ID, 30_001).gas == 30_001
    assert decode_transaction(raw, CHAIN_ID).gas == 30_001


# --- fees ---------------------------------------------------------------------------------------

# (base fee, effective tip, effective gas price) for maxPriorityFeePerGas 2, maxFeePerGas 10
DYNAMIC_FEES = [(0, 2, 2), (1, 2, 3), (8, 2, 10), (9, 1, 10), (10, 0, 10), (11, -1, 10)]
# ... and for a legacy gasPrice of 10: the whole margin above the base fee is the tip
LEGACY_FEES = [(0, 10, 10), (1, 9, 10), (7, 3, 10), (10, 0, 10)]


@pytest.mark.parametrize("base_fee, tip, price", DYNAMIC_FEES)
def test_effective_fees_dynamic(base_fee, tip, price):
    tx = decode_transaction(sign(dict(TYPE2, maxPriorityFeePerGas=2, maxFeePerGas=10)), CHAIN_ID)
    assert tx.effective_tip(base_fee) == tip
    assert tx.effective_gas_price(base_fee) == price


@pytest.mark.parametrize("fields", [LEGACY, TYPE1], ids=["legacy", "type1"])
@pytest.mark.parametrize("base_fee, tip, price", LEGACY_FEES)
def test_effective_fees_gas_price(fields, base_fee, tip, price):
    tx = decode_transaction(sign(dict(fields, gasPrice=10)), CHAIN_ID)
    assert tx.effective_tip(base_fee) == tip
    assert tx.effective_gas_price(base_fee) == price
