"""Transaction limits: the size cap, contract creation and EIP-3860's initcode cap, intrinsic gas
at its boundaries, tip and fee cap, the block gas limit, and effective fees at a base fee."""

from __future__ import annotations

import pytest

from sidechain.chain.transactions import MAX_TX_SIZE, decode_transaction
from sidechain.errors import (
    GasLimitExceeded,
    InitcodeTooLarge,
    IntrinsicGasTooLow,
    OversizedTransaction,
    TipAboveFeeCap,
)

from transaction_support import CHAIN_ID, SENDER, LEGACY, ACCESS_LIST, TYPE1, TYPE2, sign


# --- sizes, contract creation, gas and fees -----------------------------------------------------


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
