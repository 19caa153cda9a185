"""v3 keystores: interoperability with eth-account (and geth's "Crypto" spelling), and refusals."""

from __future__ import annotations

import copy
import json
import os
import stat

import pytest
from eth_account import Account

from sidechain.crypto import private_key_to_address
from sidechain.errors import KeystoreError
from sidechain.keystore import decrypt_key, encrypt_key, load_keystore, save_keystore

KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
PASSWORD = "correct horse battery staple"
FAST_N = 2**10


@pytest.fixture(scope="module")
def ours() -> dict:
    return encrypt_key(KEY, PASSWORD, scrypt_n=FAST_N)


def test_encrypt_writes_v3_layout(ours):
    assert ours["version"] == 3
    assert ours["address"] == private_key_to_address(KEY).hex()
    crypto = ours["crypto"]
    assert crypto["cipher"] == "aes-128-ctr" and crypto["kdf"] == "scrypt"
    assert crypto["kdfparams"]["n"] == FAST_N and crypto["kdfparams"]["dklen"] == 32
    assert len(bytes.fromhex(crypto["kdfparams"]["salt"])) == 32
    assert len(bytes.fromhex(crypto["cipherparams"]["iv"])) == 16


def test_encrypt_is_randomised():
    a = encrypt_key(KEY, PASSWORD, scrypt_n=FAST_N)
    b = encrypt_key(KEY, PASSWORD, scrypt_n=FAST_N)
    assert a["id"] != b["id"] and a["crypto"]["ciphertext"] != b["crypto"]["ciphertext"]


def test_round_trip(ours):
    assert decrypt_key(ours, PASSWORD) == KEY


def test_eth_account_decrypts_ours(ours):
    assert bytes(Account.decrypt(ours, PASSWORD)) == KEY


@pytest.mark.parametrize("kdf, iterations", [("scrypt", 2**10), ("pbkdf2", 1000)])
def test_we_decrypt_eth_account(kdf, iterations):
    keystore = Account.encrypt(KEY, PASSWORD, kdf=kdf, iterations=iterations)
    assert decrypt_key(keystore, PASSWORD) == KEY


def test_geth_capitalised_crypto_key():
    keystore = Account.encrypt(KEY, PASSWORD, kdf="scrypt", iterations=2**10)
    keystore["Crypto"] = keystore.pop("crypto")
    assert decrypt_key(keystore, PASSWORD) == KEY


def test_address_is_optional(ours):
    keystore = copy.deepcopy(ours)
    del keystore["address"]
    assert decrypt_key(keystore, PASSWORD) == KEY


def test_wrong_password(ours):
    with pytest.raises(KeystoreError, match="MAC mismatch: wrong password or corrupted file"):
        decrypt_key(ours, "wrong")


def test_tampered_ciphertext(ours):
    keystore = copy.deepcopy(ours)
    ct = bytearray.fromhex(keystore["crypto"]["ciphertext"])
    ct[0] ^= 1
    keystore["crypto"]["ciphertext"] = ct.hex()
    with pytest.raises(KeystoreError, match="MAC mismatch"):
        decrypt_key(keystore, PASSWORD)


def test_address_mismatch(ours):
    keystore = copy.deepcopy(ours)
    keystore["address"] = "00" * 20
    with pytest.raises(KeystoreError, match="address does not match"):
        decrypt_key(keystore, PASSWORD)


def _set(keystore: dict, path: str, value) -> dict:
    keystore = copy.deepcopy(keystore)
    *parents, last = path.split(".")
    target = keystore
    for name in parents:
        target = target[name]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return keystore


_DELETE = object()


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("version", 4, "unsupported keystore version: expected 3, got 4"),
        ("version", "3", "unsupported keystore version: expected 3, got '3'"),
        ("crypto.cipher", "aes-128-cbc", "unsupported keystore cipher: expected 'aes-128-ctr', got 'aes-128-cbc'"),
        ("crypto.kdf", "argon2", "unsupported keystore kdf: expected 'scrypt' or 'pbkdf2', got 'argon2'"),
        ("crypto.kdfparams.n", 2**21, r"scrypt n is absurdly large: expected n <= 2\*\*20, got 2097152"),
        ("crypto.kdfparams.n", 1000, "power of 2"),
        ("crypto.kdfparams.r", 2**20, "memory"),
        ("crypto.kdfparams.p", 2**20, "work"),
        ("crypto.kdfparams.dklen", 16, "'crypto.kdfparams.dklen': expected 32, got 16"),
        ("crypto.cipherparams.iv", "zz", "'crypto.cipherparams.iv': expected a hex string"),
        ("crypto.mac", _DELETE, "missing field 'crypto.mac'"),
        ("crypto.kdfparams.salt", _DELETE, "missing field 'crypto.kdfparams.salt'"),
        ("crypto", _DELETE, "missing field 'crypto'"),
        ("version", _DELETE, "missing field 'version'"),
    ],
)
def test_refusals(ours, path, value, message):
    with pytest.raises(KeystoreError, match=message):
        decrypt_key(_set(ours, path, value), PASSWORD)


def test_pbkdf2_refusals():
    keystore = Account.encrypt(KEY, PASSWORD, kdf="pbkdf2", iterations=1000)
    with pytest.raises(KeystoreError, match="prf: expected 'hmac-sha256', got 'hmac-sha512'"):
        decrypt_key(_set(keystore, "crypto.kdfparams.prf", "hmac-sha512"), PASSWORD)
    with pytest.raises(KeystoreError, match="'crypto.kdfparams.c': expected 1..10000000"):
        decrypt_key(_set(keystore, "crypto.kdfparams.c", 10**12), PASSWORD)


def test_encrypt_refuses_bad_input():
    with pytest.raises(KeystoreError, match="32 bytes"):
        encrypt_key(b"\x01" * 31, PASSWORD, scrypt_n=FAST_N)
    with pytest.raises(KeystoreError, match="out of range"):
        encrypt_key(b"\x00" * 32, PASSWORD, scrypt_n=FAST_N)
    with pytest.raises(KeystoreError, match="absurdly large"):
        encrypt_key(KEY, PASSWORD, scrypt_n=2**21)


def test_save_and_load(tmp_path, ours):
    path = tmp_path / "validator.json"
    save_keystore(path, ours)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == ours
    assert load_keystore(path, PASSWORD) == KEY
    assert [p.name for p in tmp_path.iterdir()] == ["validator.json"]


def test_save_replaces_and_keeps_0600(tmp_path, ours):
    path = tmp_path / "validator.json"
    path.write_text("old")
    os.chmod(path, 0o644)
    save_keystore(path, ours)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keystore(path, PASSWORD) == KEY


def test_load_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(KeystoreError, match="missing.json.*cannot read"):
        load_keystore(missing, PASSWORD)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(KeystoreError, match="broken.json.*not valid JSON"):
        load_keystore(broken, PASSWORD)
    wrong = tmp_path / "wrong.json"
    save_keystore(wrong, encrypt_key(KEY, PASSWORD, scrypt_n=FAST_N))
    with pytest.raises(KeystoreError, match="wrong.json.*MAC mismatch"):
        load_keystore(wrong, "nope")
