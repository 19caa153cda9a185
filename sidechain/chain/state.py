"""Accounts, contract storage and the state interface the chain rules run against.

The rules see the state through `StateReader` (accounts and storage words) and write into a
`StateOverlay`, whose `changes` and `storage` are what a block touched: the store commits them and
the tries hash only them. An in-memory reader serves unit tests; the LevelDB store serves the node.

Each contract has its own key -> value storage map, hashed into a storage trie under the
account's `storage_root` as Ethereum does. Keys are 32 bytes; a value is a byte string: a 32-byte
word's minimal big-endian bytes (EVM contracts), or an RLP record (the Python system contracts);
the empty value means "unset". Code is kept by its keccak hash, as the account's `code_hash` names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import rlp

from ..crypto import keccak256
from ..evm import decode_account, encode_account

EMPTY_TRIE_ROOT = keccak256(rlp.encode(b""))
"""Root of an empty Merkle-Patricia trie (an account without storage)."""
EMPTY_CODE_HASH = keccak256(b"")


@dataclass(frozen=True, slots=True)
class Account:
    """An account in Ethereum's shape."""

    nonce: int = 0
    balance: int = 0
    storage_root: bytes = EMPTY_TRIE_ROOT
    code_hash: bytes = EMPTY_CODE_HASH

    @property
    def is_empty(self) -> bool:
        """EIP-161: no nonce, no balance, no code."""
        return self.nonce == 0 and self.balance == 0 and self.code_hash == EMPTY_CODE_HASH

    def encode(self) -> bytes:
        """RLP [nonce, balance, storage root, code hash] (natively: every changed account is encoded
        twice per block, for the trie and for the flat table; pyrlp took ~2.7 us)."""
        return encode_account(self.nonce, self.balance, self.storage_root, self.code_hash)

    @classmethod
    def decode(cls, data: bytes) -> "Account":
        """The account `encode` wrote; ValueError if `data` is not one (natively: every state read
        of every transaction decodes one, and pyrlp took ~10 us)."""
        return cls(*decode_account(data))


EMPTY_ACCOUNT = Account()


class StateReader(Protocol):
    def get_account(self, address: bytes) -> Account:
        """The account at `address`; EMPTY_ACCOUNT if it does not exist."""
        ...

    def get_storage(self, address: bytes, key: bytes) -> bytes:
        """The value under the 32-byte `key` of `address`'s storage; b"" if unset."""
        ...

    def get_code(self, code_hash: bytes) -> bytes:
        """The code whose keccak is `code_hash` (b"" for EMPTY_CODE_HASH); KeyError if unknown."""
        ...


class MemoryState:
    """A plain dict of accounts: genesis building and unit tests."""

    def __init__(self, accounts: dict[bytes, Account] | None = None,
                 storage: dict[tuple[bytes, bytes], bytes] | None = None, code: dict[bytes, bytes] | None = None) -> None:
        self.accounts = dict(accounts or {})
        self.storage = dict(storage or {})
        self.code = {EMPTY_CODE_HASH: b"", **(code or {})}

    def get_account(self, address: bytes) -> Account:
        return self.accounts.get(address, EMPTY_ACCOUNT)

    def get_storage(self, address: bytes, key: bytes) -> bytes:
        return self.storage.get((address, key), b"")

    def get_code(self, code_hash: bytes) -> bytes:
        return self.code[code_hash]

    def apply(self, changes: dict[bytes, Account], storage: dict[tuple[bytes, bytes], bytes] | None = None,
              code: dict[bytes, bytes] | None = None) -> None:
        self.code.update(code or {})
        for address, account in changes.items():
            if account.is_empty:
                self.accounts.pop(address, None)
            else:
                self.accounts[address] = account
        for slot, value in (storage or {}).items():
            if value:
                self.storage[slot] = value
            else:
                self.storage.pop(slot, None)


class CachingReader:
    """A reader over a state that does not change while it is used, reading each account once:
    pooling many transactions of one sender reads its account once, not once per transaction.
    It remembers at most `max_accounts`, then starts afresh."""

    __slots__ = ("base", "accounts", "max_accounts")

    def __init__(self, base: StateReader, max_accounts: int = 65_536) -> None:
        self.base, self.max_accounts = base, max_accounts
        self.accounts: dict[bytes, Account] = {}

    def get_account(self, address: bytes) -> Account:
        account = self.accounts.get(address)
        if account is None:
            if len(self.accounts) >= self.max_accounts:
                self.accounts.clear()
            account = self.accounts[address] = self.base.get_account(address)
        return account

    def get_storage(self, address: bytes, key: bytes) -> bytes:
        return self.base.get_storage(address, key)

    def get_code(self, code_hash: bytes) -> bytes:
        return self.base.get_code(code_hash)


class StateOverlay:
    """Writes on top of a reader; `changes` holds every account the block touched, `storage`
    every storage word, keyed (address, key), and `code` the code deployed; last value wins."""

    __slots__ = ("base", "changes", "storage", "code")

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.changes: dict[bytes, Account] = {}
        self.storage: dict[tuple[bytes, bytes], bytes] = {}
        self.code: dict[bytes, bytes] = {}

    def get_account(self, address: bytes) -> Account:
        account = self.changes.get(address)
        return account if account is not None else self.base.get_account(address)

    def set_account(self, address: bytes, account: Account) -> None:
        self.changes[address] = account

    def get_storage(self, address: bytes, key: bytes) -> bytes:
        value = self.storage.get((address, key))
        return value if value is not None else self.base.get_storage(address, key)

    def set_storage(self, address: bytes, key: bytes, value: bytes) -> None:
        self.storage[(address, key)] = value

    def get_code(self, code_hash: bytes) -> bytes:
        code = self.code.get(code_hash)
        return code if code is not None else self.base.get_code(code_hash)

    def set_code(self, code_hash: bytes, code: bytes) -> None:
        self.code[code_hash] = code

    def child(self) -> "StateOverlay":
        """An overlay on this one for a call that may revert: `absorb` it on success, drop it on failure."""
        return StateOverlay(self)

    def absorb(self, child: "StateOverlay") -> None:
        """Take over the writes of `child` (made by `child()`)."""
        self.changes.update(child.changes)
        self.storage.update(child.storage)
        self.code.update(child.code)

    def storage_by_address(self) -> dict[bytes, dict[bytes, bytes]]:
        """The storage writes grouped per contract, for the storage tries and the store."""
        grouped: dict[bytes, dict[bytes, bytes]] = {}
        for (address, key), value in self.storage.items():
            grouped.setdefault(address, {})[key] = value
        return grouped
