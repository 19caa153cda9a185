"""Transaction decoding: wallet-signed legacy (EIP-155), EIP-2930 and EIP-1559 transactions decode
to the fields that were signed, and every broken signature or encoding raises its own
InvalidTransaction subclass. Sizes, contract creation, gas and fees: test_transaction_limits.py.
"""

from __future__ import annotations

import re

import pytest
import rlp
from coincurve import PublicKey
from eth_utils import keccak

from sidechain.chain import transactions as tx_module
from sidechain.chain.transactions import decode_transaction
from sidechain.crypto import SECP256K1_N
from sidechain.errors import (
    InvalidSignature,
    InvalidTransaction,
    MalformedTransaction,
    UnsupportedTransactionType,
    WrongChainId,
)

from transaction_support import CHAIN_ID, ACCOUNT, SENDER, TO, GWEI, LEGACY, TYPE1, TYPE2, sign, typed_items, retyped


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
    monkeypatch.setattr(tx_module, "_decode_natively", no_recovery)
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


@pytest.mark.parametrize("type_byte", [0x00, 0x03, 0x04, 0x7F])
def test_unsupported_type_byte(type_byte):
    raw = bytes([type_byte]) + sign(TYPE2)[1:]
    with pytest.raises(UnsupportedTransactionType, match=f"0x{type_byte:02x}"):
        decode_transaction(raw, CHAIN_ID)
