"""Genesis parsing: the devnet file, round trips, the hash, and one GenesisError per kind of bad field."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from sidechain.chain.genesis import GenesisConfig, genesis_to_json, load_genesis, parse_genesis
from sidechain.crypto import private_key_to_address
from sidechain.devkeys import anvil_private_key
from sidechain.errors import GenesisError

DEVNET = Path(__file__).resolve().parents[2] / "genesis" / "devnet.json"

V1 = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
V2 = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
FUNDED = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"

BASE = {
    "chainId": 7070,
    "timestamp": 0,
    "blockTimeMs": 1000,
    "gasLimit": 150000000,
    "baseFeePerGas": "1000000000",
    "checkpointInterval": 16,
    "extraData": "0x",
    "validators": [{"address": V1, "power": 1}, {"address": V2, "power": 2}],
    "alloc": {FUNDED: {"balance": "10000000000000000000000"}},
}


def with_change(path: tuple, value) -> dict:
    """BASE with the value at `path` replaced (or deleted, for value=DELETE)."""
    obj = copy.deepcopy(BASE)
    target = obj
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return obj


DELETE = object()


# --- the devnet file ----------------------------------------------------------------------------


def test_devnet_loads():
    cfg = load_genesis(DEVNET)
    assert cfg.chain_id == 7070 and cfg.block_time_ms == 1000 and cfg.gas_limit == 150_000_000
    assert cfg.base_fee == 10**9 and cfg.checkpoint_interval == 16 and cfg.timestamp == 0
    assert "never" in cfg.description


def test_devnet_uses_anvil_accounts():
    cfg = load_genesis(DEVNET)
    anvil = [private_key_to_address(anvil_private_key(i)) for i in range(10)]
    assert [v.address for v in cfg.validators] == anvil[6:10]
    assert all(v.power == 1 for v in cfg.validators)
    assert dict(cfg.alloc) == {address: 10_000 * 10**18 for address in anvil}


def test_devnet_round_trips():
    raw = json.loads(DEVNET.read_text())
    cfg = load_genesis(DEVNET)
    assert genesis_to_json(cfg) == raw
    assert parse_genesis(genesis_to_json(cfg)) == cfg


# --- accepted forms -----------------------------------------------------------------------------


def test_parses_base():
    cfg = parse_genesis(BASE)
    assert isinstance(cfg, GenesisConfig)
    assert cfg.validators[1].address == bytes.fromhex(V2[2:]) and cfg.validators[1].power == 2
    assert cfg.alloc == ((bytes.fromhex(FUNDED[2:]), 10_000 * 10**18),)


@pytest.mark.parametrize("value", [150000000, "150000000", "0x8f0d180", "0x8F0D180"])
def test_integer_forms(value):
    assert parse_genesis(with_change(("gasLimit",), value)).gas_limit == 150_000_000


@pytest.mark.parametrize("address", [V1.lower(), "0x" + V1[2:].upper()])
def test_single_case_addresses_skip_checksum(address):
    cfg = parse_genesis(with_change(("validators", 0, "address"), address))
    assert cfg.validators[0].address == bytes.fromhex(V1[2:])


def test_optional_fields_default():
    obj = copy.deepcopy(BASE)
    for key in ("timestamp", "extraData", "alloc"):
        del obj[key]
    cfg = parse_genesis(obj)
    assert cfg.timestamp == 0 and cfg.extra_data == b"" and cfg.alloc == () and cfg.description == ""


def test_alloc_sorted_by_address():
    low, high = "0x" + "00" * 19 + "01", "0x" + "ff" * 20
    obj = with_change(("alloc",), {high: {"balance": 1}, low: {"balance": "0x2"}})
    assert parse_genesis(obj).alloc == ((bytes.fromhex(low[2:]), 2), (bytes.fromhex(high[2:]), 1))


def test_large_values_round_trip_as_strings():
    cfg = parse_genesis(with_change(("chainId",), str(2**63 - 1)))
    out = genesis_to_json(cfg)
    assert out["chainId"] == str(2**63 - 1)
    assert parse_genesis(out) == cfg


# --- rejections ---------------------------------------------------------------------------------

BAD_CHECKSUM = V1.replace("E", "e", 1)  # one letter's case flipped: still mixed case, checksum broken


@pytest.mark.parametrize(
    "path, value, message",
    [
        # wrong types
        (("chainId",), "seventy", "'chainId': expected an integer >= 1"),
        (("chainId",), 7070.0, "'chainId': expected an integer"),
        (("chainId",), True, "'chainId': expected an integer"),
        (("gasLimit",), None, re.escape("'gasLimit': expected an integer >= 21000 (a JSON number, decimal string or 0x-hex string), got null")),
        (("baseFeePerGas",), "-1", "'baseFeePerGas': expected an integer"),
        (("baseFeePerGas",), "1e9", "'baseFeePerGas': expected an integer"),
        (("validators",), {"address": V1}, "'validators': expected a non-empty list"),
        (("validators", 0), V1, r"'validators\[0\]': expected an object"),
        (("validators", 0, "power"), "one", r"'validators\[0\].power': expected an integer"),
        (("alloc",), [], "'alloc': expected an object"),
        (("alloc", FUNDED), "100", rf"'alloc\[{FUNDED}\]': expected an object with 'balance'"),
        (("alloc", FUNDED, "balance"), 1.5, rf"'alloc\[{FUNDED}\].balance': expected an integer"),
        (("extraData",), "hello", "'extraData': expected 0x-prefixed hex"),
        (("extraData",), "0x123", "'extraData': expected 0x-prefixed hex"),
        (("description",), 5, "'description': expected a string, got 5"),
        # out of range
        (("chainId",), 0, "'chainId': expected an integer >= 1, got 0"),
        (("chainId",), 2**63, r"'chainId': expected an integer <= 2\*\*63-1"),
        (("timestamp",), -1, "'timestamp': expected an integer >= 0, got -1"),
        (("blockTimeMs",), 10, "'blockTimeMs': expected an integer >= 50, got 10"),
        (("blockTimeMs",), "60001", "'blockTimeMs': expected an integer <= 60000, got '60001'"),
        (("gasLimit",), 5, "'gasLimit': expected an integer >= 21000, got 5"),
        (("checkpointInterval",), 0, "'checkpointInterval': expected an integer >= 1, got 0"),
        (("validators", 1, "power"), 0, r"'validators\[1\].power': expected an integer >= 1, got 0"),
        (("alloc", FUNDED, "balance"), hex(2**256), r"balance': expected an integer <= 2\*\*256-1"),
        # addresses
        (("validators", 1, "address"), "0x12", r"'validators\[1\].address': expected a 0x-prefixed 20-byte hex address, got '0x12'"),
        (("validators", 1, "address"), V1[2:], r"'validators\[1\].address': expected a 0x-prefixed 20-byte hex address"),
        (("validators", 1, "address"), V1, r"'validators\[1\].address': expected an address not already listed \(validators\[0\]\)"),
        (("validators", 1, "address"), V1.lower(), r"'validators\[1\].address': expected an address not already listed"),
        (("validators", 0, "address"), BAD_CHECKSUM, r"'validators\[0\].address': expected a mixed-case address with a valid EIP-55 checksum"),
        (("alloc", BAD_CHECKSUM), {"balance": 1}, rf"'alloc\[{BAD_CHECKSUM}\]': expected a mixed-case address with a valid EIP-55"),
        (("alloc", FUNDED.lower()), {"balance": 1}, rf"'alloc\[{FUNDED.lower()}\]': expected an address not already listed \(same as alloc\[{FUNDED}\]\)"),
        (("alloc", "0xzz"), {"balance": 1}, r"'alloc\[0xzz\]': expected a 0x-prefixed 20-byte hex address"),
        (("alloc", "0x" + "00" * 17 + "b41d9e"), {"balance": 1}, r"expected an address other than the bridge contract's"),
        # unknown fields
        (("gasLimt",), 1, r"'gasLimt': unknown field \(known: description, chainId, .*\); did you mean 'gasLimit'\?"),
        (("validators", 0, "weight"), 1, r"'validators\[0\].weight': unknown field \(known: address, power\)"),
        (("alloc", FUNDED, "nonce"), 1, rf"'alloc\[{FUNDED}\].nonce': unknown field \(known: balance\)"),
        # missing fields
        (("chainId",), DELETE, "'chainId': required field is missing"),
        (("validators",), DELETE, "'validators': required field is missing"),
        (("validators", 0, "power"), DELETE, r"'validators\[0\].power': required field is missing"),
        (("alloc", FUNDED, "balance"), DELETE, r"balance': required field is missing"),
        # empty validators, oversized extraData
        (("validators",), [], "'validators': expected a non-empty list of {address, power} objects, got \\[\\]"),
        (("extraData",), "0x" + "00" * 33, "'extraData': expected at most 32 bytes, got 33 bytes"),
    ],
)
def test_bad_field(path, value, message):
    with pytest.raises(GenesisError, match=message) as info:
        parse_genesis(with_change(path, value))
    assert str(info.value).startswith("genesis field '")


def test_top_level_must_be_object():
    with pytest.raises(GenesisError, match="genesis: expected a JSON object, got a list"):
        parse_genesis([])


# --- files --------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(GenesisError, match="nope.json.*cannot read"):
        load_genesis(tmp_path / "nope.json")


def test_not_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"chainId": 7070,')
    with pytest.raises(GenesisError, match="broken.json.*not valid JSON"):
        load_genesis(path)


def test_duplicate_json_key(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(BASE)[:-1] + ', "chainId": 1}')
    with pytest.raises(GenesisError, match="dup.json.*duplicate JSON key 'chainId'"):
        load_genesis(path)


def test_field_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(with_change(("gasLimit",), 5)))
    with pytest.raises(GenesisError, match="bad.json.*'gasLimit': expected an integer >= 21000, got 5"):
        load_genesis(path)


# --- hash ---------------------------------------------------------------------------------------


def test_hash_is_stable():
    a = parse_genesis(BASE)
    b = parse_genesis(json.loads(json.dumps(BASE)))
    assert a.hash() == b.hash() and len(a.hash()) == 32
    reordered = dict(reversed(list(BASE.items())))
    assert parse_genesis(reordered).hash() == a.hash()
    spelled_differently = with_change(("gasLimit",), hex(BASE["gasLimit"]))
    assert parse_genesis(spelled_differently).hash() == a.hash()


def test_hash_ignores_description():
    assert parse_genesis(with_change(("description",), "hello")).hash() == parse_genesis(BASE).hash()


@pytest.mark.parametrize(
    "path, value",
    [
        (("chainId",), 7071),
        (("timestamp",), 1),
        (("blockTimeMs",), 999),
        (("gasLimit",), 150000001),
        (("baseFeePerGas",), "1000000001"),
        (("checkpointInterval",), 17),
        (("extraData",), "0x01"),
        (("validators", 1, "power"), 3),
        (("validators",), [{"address": V2, "power": 2}, {"address": V1, "power": 1}]),
        (("alloc", FUNDED, "balance"), "1"),
    ],
)
def test_hash_changes_with_any_field(path, value):
    assert parse_genesis(with_change(path, value)).hash() != parse_genesis(BASE).hash()
