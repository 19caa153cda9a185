"""Accounts and the state interface the chain rules run against.

The rules see the state through `StateReader` (one method) and write into a `StateOverlay`, whose
`changes` are what a block touched: the store commits them and the trie hashes only them. An
in-memory reader serves unit tests; the LevelDB store serves the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import rlp

from ..crypto import keccak256
from .codec import encode_items, uint

EMPTY_TRIE_ROOT = keccak256(rlp.encode(b""))
"""Root of an empty Merkle-Patricia trie (an account without storage)."""
EMPTY_CODE_HASH = keccak256(b"")


@dataclass(frozen=True, slots=True)
class Account:
    """An account in Ethereum's shape; without an EVM, storage and code stay empty."""

    nonce: int = 0
    balance: int = 0
    storage_root: bytes = EMPTY_TRIE_ROOT
    code_hash: bytes = EMPTY_CODE_HASH

    @property
    def is_empty(self) -> bool:
        """EIP-161: no nonce, no balance, no code."""
        return self.nonce == 0 and self.balance == 0 and self.code_hash == EMPTY_CODE_HASH

    def encode(self) -> bytes:
        return encode_items([uint(self.nonce), uint(self.balance), self.storage_root, self.code_hash])

    @classmethod
    def decode(cls, data: bytes) -> "Account":
        nonce, balance, storage_root, code_hash = rlp.decode(data)
        return cls(int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), storage_root, code_hash)


EMPTY_ACCOUNT = Account()


class StateReader(Protocol):
    def get_account(self, address: bytes) -> Account:
        """The account at `address`; EMPTY_ACCOUNT if it does not exist."""
        ...


class MemoryState:
    """A plain dict of accounts: genesis building and unit tests."""

    def __init__(self, accounts: dict[bytes, Account] | None = None) -> None:
        self.accounts = dict(accounts or {})

    def get_account(self, address: bytes) -> Account:
        return self.accounts.get(address, EMPTY_ACCOUNT)

    def apply(self, changes: dict[bytes, Account]) -> None:
        for address, account in changes.items():
            if account.is_empty:
                self.accounts.pop(address, None)
            else:
                self.accounts[address] = account


class StateOverlay:
    """Writes on top of a reader; `changes` holds every account the block touched, last value wins."""

    __slots__ = ("base", "changes")

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.changes: dict[bytes, Account] = {}

    def get_account(self, address: bytes) -> Account:
        account = self.changes.get(address)
        return account if account is not None else self.base.get_account(address)

    def set_account(self, address: bytes, account: Account) -> None:
        self.changes[address] = account

    def snapshot(self) -> dict[bytes, Account]:
        return dict(self.changes)

    def revert(self, snapshot: dict[bytes, Account]) -> None:
        self.changes = snapshot
