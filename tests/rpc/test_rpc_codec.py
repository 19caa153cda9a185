"""Hex at the edge: each parser's accepted input, and the message of each rejection."""

from __future__ import annotations

import pytest

from sidechain.rpc import codec
from sidechain.rpc.codec import BadParam, CallArgs, LogQuery

HASH = "0x" + "ab" * 32
ADDR = "0x" + "12" * 20


@pytest.mark.parametrize(
    "text, value",
    [("0x0", 0), ("0x1", 1), ("0xff", 255), ("0X10", 16), ("0x" + "f" * 64, 2**256 - 1)],
)
def test_quantity_accepts_minimal_hex(text, value):
    assert codec.quantity(text) == value


@pytest.mark.parametrize(
    "bad, says",
    [
        ("0x", "without leading zeros"),
        ("0x01", "without leading zeros"),
        ("10", "0x-prefixed"),
        (10, "0x-prefixed"),
        ("0xzz", "hex quantity"),
        ("0x1" + "0" * 64, "at most"),
    ],
)
def test_quantity_rejections_say_what_was_expected_and_got(bad, says):
    with pytest.raises(BadParam) as info:
        codec.quantity(bad)
    assert says in str(info.value)
    assert repr(bad)[:20] in str(info.value)


def test_uint64_bounds():
    assert codec.uint64(hex(2**64 - 1)) == 2**64 - 1
    with pytest.raises(BadParam):
        codec.uint64(hex(2**64))


def test_count_accepts_hex_decimal_and_integers():
    assert codec.count("0x10") == 16
    assert codec.count("16") == 16
    assert codec.count(16) == 16
    for bad in (-1, "x", True, 1.5):
        with pytest.raises(BadParam):
            codec.count(bad)


def test_data_and_fixed_widths():
    assert codec.data("0x") == b""
    assert codec.data("0x00ff") == b"\x00\xff"
    assert codec.address(ADDR) == bytes.fromhex("12" * 20)
    assert codec.hash32(HASH) == bytes.fromhex("ab" * 32)
    with pytest.raises(BadParam, match="whole bytes"):
        codec.data("0x123")
    with pytest.raises(BadParam, match="20-byte address"):
        codec.address("0x" + "12" * 19)
    with pytest.raises(BadParam, match="32-byte hash"):
        codec.hash32(ADDR)


def test_a_huge_bad_value_is_not_echoed_in_full():
    with pytest.raises(BadParam) as info:
        codec.address("0x" + "ab" * 100_000)
    assert len(str(info.value)) < 200


def test_storage_key_is_left_padded_to_32_bytes():
    assert codec.storage_key("0x0") == b"\x00" * 32
    assert codec.storage_key("0x1") == b"\x00" * 31 + b"\x01"
    assert codec.storage_key(HASH) == bytes.fromhex("ab" * 32)
    with pytest.raises(BadParam):
        codec.storage_key("0x" + "1" * 65)


def test_block_identifiers():
    assert codec.block_number("latest") == "latest"
    assert codec.block_number("0x2a") == 42
    assert codec.block_id("finalized") == "finalized"
    assert codec.block_id(HASH) == bytes.fromhex("ab" * 32)
    assert codec.block_id({"blockHash": HASH}) == bytes.fromhex("ab" * 32)
    assert codec.block_id({"blockHash": HASH, "requireCanonical": True}) == bytes.fromhex("ab" * 32)
    assert codec.block_id({"blockNumber": "0x7"}) == 7
    assert codec.block_id({"blockNumber": "earliest"}) == "earliest"


@pytest.mark.parametrize(
    "bad, says",
    [
        ("newest", "latest, earliest, pending, safe, finalized"),
        ({"blockHash": HASH, "blockNumber": "0x1"}, "not both"),
        ({"blockHash": HASH, "requireCanonical": "yes"}, "requireCanonical"),
        ({}, "EIP-1898"),
        ("0x01", "block number"),
    ],
)
def test_bad_block_identifiers(bad, says):
    with pytest.raises(BadParam, match=says):
        codec.block_id(bad)


def test_block_number_takes_no_hash():
    with pytest.raises(BadParam):
        codec.block_number(HASH)


def test_call_args_reads_known_fields_and_ignores_others():
    args = codec.call_args({
        "from": ADDR, "to": ADDR, "value": "0x10", "input": "0x01", "gas": "0x5208", "chainId": "0x1", "type": "0x2",
        "accessList": [{"address": ADDR, "storageKeys": [HASH]}],
    })
    assert args == CallArgs(
        sender=bytes.fromhex("12" * 20), to=bytes.fromhex("12" * 20), value=16, data=b"\x01", gas=21000,
        access_list=((bytes.fromhex("12" * 20), (bytes.fromhex("ab" * 32),)),),
    )
    assert codec.call_args({"to": ADDR, "data": "0x02"}).data == b"\x02"
    assert codec.call_args({}) == CallArgs()


def test_call_args_rejections_name_the_field():
    with pytest.raises(BadParam, match="field value"):
        codec.call_args({"to": ADDR, "value": "0x01"})
    with pytest.raises(BadParam, match='both "data" and "input"'):
        codec.call_args({"to": ADDR, "data": "0x01", "input": "0x02"})
    with pytest.raises(BadParam, match="call object"):
        codec.call_args([ADDR])


def test_percentiles_must_be_in_range_and_ordered():
    assert codec.percentiles([10, 50.5, 50.5, 90]) == (10.0, 50.5, 50.5, 90.0)
    for bad in ([50, 10], [101], [-1], ["10"], "10", [True]):
        with pytest.raises(BadParam):
            codec.percentiles(bad)


def test_log_query_shapes():
    t1, t2 = "0x" + "01" * 32, "0x" + "02" * 32
    q = codec.log_query({"fromBlock": "0x1", "toBlock": "latest", "address": [ADDR], "topics": [None, [t1, t2], t1, None]})
    assert q == LogQuery(
        1, "latest", None, frozenset((bytes.fromhex("12" * 20),)),
        (None, frozenset((bytes.fromhex("01" * 32), bytes.fromhex("02" * 32))), frozenset((bytes.fromhex("01" * 32),))),
    )
    single = codec.log_query({"address": ADDR, "topics": [[t1, None]]})
    assert single.addresses == frozenset((bytes.fromhex("12" * 20),))
    assert single.topics == ()  # a null inside an OR-list matches anything
    assert codec.log_query({}) == LogQuery()
    assert codec.log_query({"blockHash": HASH}).block_hash == bytes.fromhex("ab" * 32)


def test_log_query_rejections():
    with pytest.raises(BadParam, match="both blockHash and fromBlock"):
        codec.log_query({"blockHash": HASH, "fromBlock": "0x1"})
    with pytest.raises(BadParam, match="at most 4 positions"):
        codec.log_query({"topics": [None] * 5})
    with pytest.raises(BadParam, match="filter: expected a 32-byte hash"):
        codec.log_query({"topics": ["0x01"]})


def test_results_are_minimal_hex():
    assert codec.hex_quantity(0) == "0x0"
    assert codec.hex_quantity(4096) == "0x1000"
    assert codec.hex_data(b"") == "0x"
    assert codec.hex_data(b"\x00\x01") == "0x0001"
