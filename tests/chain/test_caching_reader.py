"""CachingReader: each account read from its base once, storage and code passed through, and a bound
on what it remembers."""

from __future__ import annotations

from sidechain.chain.state import EMPTY_ACCOUNT, Account, CachingReader, MemoryState

A, B, C = b"\x0a" * 20, b"\x0b" * 20, b"\x0c" * 20


class CountingState(MemoryState):
    def __init__(self, accounts) -> None:
        super().__init__(accounts, storage={(A, b"\x01" * 32): b"\x05"}, code={b"\xcc" * 32: b"\x60\x00"})
        self.reads: list[bytes] = []

    def get_account(self, address: bytes) -> Account:
        self.reads.append(address)
        return super().get_account(address)


def test_each_account_is_read_from_the_base_once():
    base = CountingState({A: Account(nonce=3, balance=10)})
    reader = CachingReader(base)
    assert [reader.get_account(a) for a in (A, B, A, B, A)] == [Account(nonce=3, balance=10), EMPTY_ACCOUNT] * 2 + [Account(nonce=3, balance=10)]
    assert base.reads == [A, B]
    assert reader.get_storage(A, b"\x01" * 32) == b"\x05" and reader.get_code(b"\xcc" * 32) == b"\x60\x00"


def test_it_starts_afresh_past_its_bound():
    base = CountingState({})
    reader = CachingReader(base, max_accounts=2)
    for address in (A, B, C, A):
        reader.get_account(address)
    assert base.reads == [A, B, C, A]  # C cleared what it held; A is read again
    assert len(reader.accounts) <= 2
