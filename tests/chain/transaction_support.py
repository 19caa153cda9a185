"""The transactions the decoding tests sign (test_transactions.py, test_transaction_limits.py):
eth-account, an implementation independent of ours, signs legacy (EIP-155), EIP-2930 and EIP-1559
transactions from one key; malformed variants are re-encoded from its output with `rlp`."""

from __future__ import annotations

import rlp
from eth_account import Account

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
