"""Headers, blocks and receipts (encodings, hashes), the ordered Merkle root and its proofs, the logs
bloom, and block validation phase by phase.

Expected encodings, roots and blooms are rebuilt here from their definitions (RLP field order,
keccak of concatenated children, the Yellow Paper's byte-pair bloom), not with the helpers under test.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
import rlp
from eth_account import Account as EthAccount
from eth_utils import keccak, to_checksum_address

from sidechain.chain.blocks import MAX_HEADER_EXTRA_DATA, Block, Header, Log, Receipt, receipts_root, transactions_root
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.execution import BlockEnv
from sidechain.execution.block import execute_transactions
from sidechain.chain.merkle import EMPTY_ROOT
from sidechain.chain.state import Account, MemoryState
from sidechain.chain.transactions import decode_transaction
from sidechain.chain.validation import (
    validate_body,
    validate_header,
    validate_header_against_parent,
    validate_result,
)
from sidechain.errors import GasLimitExceeded, InvalidBlock
from test_roots_and_blooms import yellow_paper_bloom

CHAIN_ID = 7070
GWEI = 10**9
KEY = b"\x42" * 32
SENDER = bytes.fromhex(EthAccount.from_key(KEY).address[2:])
RECIPIENT = b"\x77" * 20
PROPOSER = b"\x9a" * 20
GAS_LIMIT = 30_000_000


def signed(nonce: int, *, legacy: bool = False, gas: int = 21_000) -> bytes:
    fields = {"chainId": CHAIN_ID, "nonce": nonce, "gas": gas, "to": to_checksum_address(RECIPIENT), "value": 5}
    if legacy:
        fields["gasPrice"] = 3 * GWEI
    else:
        fields.update(type=2, maxPriorityFeePerGas=GWEI, maxFeePerGas=3 * GWEI)
    return bytes(EthAccount.from_key(KEY).sign_transaction(fields).raw_transaction)


def header(**changes) -> Header:
    base = Header(
        parent_hash=b"\x11" * 32, number=10, timestamp=1_700_000_000, proposer=PROPOSER,
        state_root=b"\x22" * 32, transactions_root=b"\x33" * 32, receipts_root=b"\x44" * 32,
        logs_bloom=EMPTY_BLOOM, gas_limit=GAS_LIMIT, gas_used=30_000_000, base_fee=GWEI, extra_data=b"\x01\x02",
    )
    return dataclasses.replace(base, **changes)


# --- header -------------------------------------------------------------------------------------


def test_header_hash_is_keccak_of_rlp_fields_in_order():
    h = header()
    expected = keccak(rlp.encode([
        b"\x11" * 32, 10, 1_700_000_000, PROPOSER, b"\x22" * 32, b"\x33" * 32, b"\x44" * 32,
        EMPTY_BLOOM, GAS_LIMIT, 30_000_000, GWEI, b"\x01\x02",
    ]))
    assert h.hash == expected


def test_header_round_trips():
    h = header(number=0, gas_used=0, base_fee=2**200, extra_data=b"")
    decoded = Header.decode(h.encode())
    assert decoded == h
    assert decoded.hash == h.hash


def test_header_hash_changes_with_every_field():
    h = header()
    hashes = {h.hash}
    for name, value in [
        ("parent_hash", b"\x12" * 32), ("number", 11), ("timestamp", 1), ("proposer", b"\x01" * 20),
        ("state_root", b"\x23" * 32), ("transactions_root", b"\x34" * 32), ("receipts_root", b"\x45" * 32),
        ("logs_bloom", b"\x01" * 256), ("gas_limit", 1), ("gas_used", 2), ("base_fee", 3), ("extra_data", b"x"),
    ]:
        hashes.add(dataclasses.replace(h, **{name: value}).hash)
    assert len(hashes) == 13


@pytest.mark.parametrize("data", [
    rlp.encode(header().fields()[:11]),
    rlp.encode(header().fields() + [b""]),
    rlp.encode(b"not a list"),
    rlp.encode(header().fields()[:3] + [[b"\x9a"] * 20] + header().fields()[4:]),
], ids=["11 fields", "13 fields", "byte string", "proposer as a list"])
def test_malformed_header_is_invalid_block(data):
    with pytest.raises(InvalidBlock, match="malformed header"):
        Header.decode(data)


# --- block --------------------------------------------------------------------------------------


def _block() -> Block:
    raws = [signed(0), signed(1, legacy=True)]
    txs = tuple(decode_transaction(raw, CHAIN_ID) for raw in raws)
    return Block(header(transactions_root=transactions_root(txs)), txs)


def test_block_encoding_is_header_fields_and_raw_transactions():
    block = _block()
    header_fields, raws = rlp.decode(block.encode())
    assert raws == [signed(0), signed(1, legacy=True)]
    assert keccak(rlp.encode(header_fields)) == block.hash == block.header.hash


def test_block_round_trips_with_recovery():
    block = _block()
    decoded = Block.decode(block.encode(), CHAIN_ID)
    assert decoded == block
    assert decoded.hash == block.hash
    assert [tx.sender for tx in decoded.transactions] == [SENDER, SENDER]
    assert [tx.raw for tx in decoded.transactions] == [signed(0), signed(1, legacy=True)]


def test_a_decoded_block_keeps_its_bytes_and_an_encoded_one_encodes_once():
    block = _block()
    data = block.encode()
    assert block.encoded is data and block.encode() is data
    decoded = Block.decode(data, CHAIN_ID)
    assert decoded.encode() is data  # logged and relayed as received
    assert Block(block.header, block.transactions).encode() == data


def test_empty_block_round_trips():
    block = Block(header(transactions_root=EMPTY_ROOT), ())
    assert Block.decode(block.encode(), CHAIN_ID) == block


def test_block_transactions_are_checked_against_the_header_gas_limit():
    raws = [signed(0, gas=50_000)]
    data = rlp.encode([header(gas_limit=49_999).fields(), raws])
    with pytest.raises(GasLimitExceeded, match="block gas limit 49999"):
        Block.decode(data, CHAIN_ID)


@pytest.mark.parametrize("data", [
    b"\xc0",
    rlp.encode([header().fields()]),
    rlp.encode([header().fields(), [], []]),
    rlp.encode([header().fields()[:11], []]),
    rlp.encode([header().fields(), [[b"\x01"]]]),
    rlp.encode([header().fields(), b"\x02\x03"]),
    b"\xc1",
], ids=["empty list", "no body", "three items", "short header", "nested transaction", "body not a list", "bad rlp"])
def test_malformed_block_is_invalid_block(data):
    with pytest.raises(InvalidBlock, match="malformed"):
        Block.decode(data, CHAIN_ID)


# --- receipts -----------------------------------------------------------------------------------

LOG = Log(address=b"\xab" * 20, topics=(b"\x01" * 32, b"\x02" * 32), data=b"payload")


@pytest.mark.parametrize("receipt", [
    Receipt(2, 1, 63_000, (LOG, Log(b"\xcd" * 20, (), b"")), 21_000, 3 * GWEI),
    Receipt(1, 0, 1, (), 1, 0),
    Receipt(0, 1, 21_000, (), 21_000, 2**70),
], ids=["type2 with logs", "failed type1", "legacy"])
def test_receipt_storage_round_trip(receipt):
    assert Receipt.from_storage(receipt.storage_encoding()) == receipt


def test_typed_receipt_consensus_encoding_has_type_prefix():
    receipt = Receipt(2, 1, 42_000, (LOG,), 21_000, 3 * GWEI)
    bloom = yellow_paper_bloom([LOG.address, *LOG.topics])
    expected = b"\x02" + rlp.encode([1, 42_000, bloom, [[LOG.address, list(LOG.topics), LOG.data]]])
    assert receipt.consensus_encoding() == expected
    assert receipt.bloom == bloom


def test_type1_receipt_consensus_encoding_has_type_prefix():
    receipt = Receipt(1, 0, 5, (), 5, 1)
    assert receipt.consensus_encoding() == b"\x01" + rlp.encode([0, 5, b"\x00" * 256, []])


def test_legacy_receipt_consensus_encoding_has_no_prefix():
    receipt = Receipt(0, 1, 21_000, (), 21_000, GWEI)
    assert receipt.consensus_encoding() == rlp.encode([1, 21_000, b"\x00" * 256, []])


def test_receipt_gas_and_price_are_not_consensus():
    a = Receipt(2, 1, 21_000, (), 21_000, GWEI)
    b = Receipt(2, 1, 21_000, (), 1, 5 * GWEI)
    assert a.consensus_encoding() == b.consensus_encoding()
    assert a.storage_encoding() != b.storage_encoding()


def test_receipts_and_transactions_roots():
    receipts = [Receipt(2, 1, 21_000, (), 21_000, GWEI), Receipt(0, 1, 42_000, (LOG,), 21_000, GWEI)]
    leaves = [keccak(b"\x00" + keccak(r.consensus_encoding())) for r in receipts]
    assert receipts_root(receipts) == keccak(b"\x01" + leaves[0] + leaves[1])

    txs = [decode_transaction(signed(n), CHAIN_ID) for n in range(3)]
    hashes = [bytes(EthAccount.from_key(KEY).sign_transaction(
        {"type": 2, "chainId": CHAIN_ID, "nonce": n, "gas": 21_000, "to": to_checksum_address(RECIPIENT),
         "value": 5, "maxPriorityFeePerGas": GWEI, "maxFeePerGas": 3 * GWEI}).hash) for n in range(3)]
    h0, h1, h2 = (keccak(b"\x00" + h) for h in hashes)
    assert transactions_root(txs) == keccak(b"\x01" + keccak(b"\x01" + h0 + h1) + h2)


# --- validation: header alone and against its parent --------------------------------------------

PARENT = header()


def child(**changes) -> Header:
    # parent used its whole 30M limit at 1 gwei: the child's base fee is 1.125 gwei (EIP-1559)
    base = header(parent_hash=PARENT.hash, number=11, timestamp=PARENT.timestamp + 1, base_fee=1_125_000_000,
                  gas_used=0)
    return dataclasses.replace(base, **changes)


def check(h: Header) -> None:
    validate_header_against_parent(h, PARENT, gas_limit=GAS_LIMIT, base_fee_floor=GWEI)


def test_valid_child_passes():
    check(child())
    check(child(timestamp=PARENT.timestamp))  # same second: allowed, blocks can come faster than 1/s
    check(child(extra_data=b"\x00" * MAX_HEADER_EXTRA_DATA))


HEADER_ERRORS = [
    ("number skips", dict(number=12), "block number: expected 11, got 12"),
    ("number repeats", dict(number=10), "block number: expected 11, got 10"),
    ("wrong parent", dict(parent_hash=b"\x55" * 32), f"parent hash: expected 0x{PARENT.hash.hex()}, got 0x{'55' * 32}"),
    ("time goes back", dict(timestamp=PARENT.timestamp - 1),
     f"block timestamp {PARENT.timestamp - 1} before parent timestamp {PARENT.timestamp}"),
    ("gas limit changed", dict(gas_limit=GAS_LIMIT + 1), f"block gas limit: expected {GAS_LIMIT}, got {GAS_LIMIT + 1}"),
    ("base fee unchanged", dict(base_fee=GWEI), f"base fee: expected 1125000000, got {GWEI}"),
    ("base fee too high", dict(base_fee=1_125_000_001), "base fee: expected 1125000000, got 1125000001"),
    ("extra data too long", dict(extra_data=b"\x00" * (MAX_HEADER_EXTRA_DATA + 1)),
     "header extraData length at most: expected 97, got 98"),
    ("short proposer", dict(proposer=b"\x01" * 19), "header proposer length: expected 20, got 19"),
    ("short state root", dict(state_root=b"\x01" * 31), "header stateRoot length: expected 32, got 31"),
    ("long bloom", dict(logs_bloom=b"\x00" * 257), "header logsBloom length: expected 256, got 257"),
    ("gas used above limit", dict(gas_used=GAS_LIMIT + 1), f"header gasUsed {GAS_LIMIT + 1} above gasLimit {GAS_LIMIT}"),
]


@pytest.mark.parametrize("changes, message", [c[1:] for c in HEADER_ERRORS], ids=[c[0] for c in HEADER_ERRORS])
def test_header_against_parent_rejections(changes, message):
    with pytest.raises(InvalidBlock, match=re.escape(message)):
        check(child(**changes))


def test_validate_header_alone_accepts_a_well_formed_header():
    validate_header(header())


def test_base_fee_floor_applies_after_an_empty_parent():
    parent = header(gas_used=0, base_fee=GWEI)
    h = dataclasses.replace(child(), parent_hash=parent.hash, base_fee=GWEI)
    # 12.5% down would be 0.875 gwei, but the floor is 1 gwei
    validate_header_against_parent(h, parent, gas_limit=GAS_LIMIT, base_fee_floor=GWEI)
    with pytest.raises(InvalidBlock, match="base fee: expected 1000000000, got 875000000"):
        validate_header_against_parent(dataclasses.replace(h, base_fee=875_000_000), parent,
                                       gas_limit=GAS_LIMIT, base_fee_floor=GWEI)
    validate_header_against_parent(dataclasses.replace(h, base_fee=875_000_000), parent,
                                   gas_limit=GAS_LIMIT, base_fee_floor=1)


# --- validation: body and result ----------------------------------------------------------------


def test_validate_body():
    block = _block()
    validate_body(block)
    swapped = Block(block.header, tuple(reversed(block.transactions)))
    with pytest.raises(InvalidBlock, match=f"transactions root: expected 0x{block.header.transactions_root.hex()}"):
        validate_body(swapped)


STATE_ROOT = b"\x5a" * 32


def _executed():
    tx = decode_transaction(signed(0), CHAIN_ID)
    state = MemoryState({SENDER: Account(0, 10**18)})
    result = execute_transactions(state, BlockEnv(CHAIN_ID, 11, 0, PROPOSER, GWEI, GAS_LIMIT), [tx], skip_invalid=False)
    # the one receipt, encoded by hand (type 2, success, 21,000 gas, no logs), as the tree's only leaf
    receipt_root = keccak(b"\x00" + keccak(b"\x02" + rlp.encode([1, 21_000, b"\x00" * 256, []])))
    h = child(gas_used=21_000, receipts_root=receipt_root, state_root=STATE_ROOT, logs_bloom=EMPTY_BLOOM)
    return h, result


def test_validate_result_accepts_what_execution_produced():
    h, result = _executed()
    validate_result(h, result, STATE_ROOT)


@pytest.mark.parametrize("changes, state_root, message", [
    (dict(gas_used=21_001), STATE_ROOT, "gas used: expected 21001, got 21000"),
    (dict(receipts_root=b"\x66" * 32), STATE_ROOT, f"receipts root: expected 0x{'66' * 32}, got 0x"),
    ({}, b"\x77" * 32, f"state root: expected 0x{'5a' * 32}, got 0x{'77' * 32}"),
    (dict(logs_bloom=b"\x01" * 256), STATE_ROOT, "logs bloom does not match"),
], ids=["gas used", "receipts root", "state root", "logs bloom"])
def test_validate_result_rejections(changes, state_root, message):
    h, result = _executed()
    with pytest.raises(InvalidBlock, match=re.escape(message)):
        validate_result(dataclasses.replace(h, **changes), result, state_root)
