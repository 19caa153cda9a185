"""Signed transactions and states for the pool tests (test_pool.py, test_pool_selection.py): the
node's own decoding of real EIP-1559 transfers from five rich senders, A to E."""

from __future__ import annotations

from functools import cache

from eth_account import Account as EthAccount

from sidechain.chain.state import Account, MemoryState
from sidechain.chain.transactions import Transaction, decode_transaction
from sidechain.mempool.pool import Mempool

CHAIN_ID = 7070
GWEI = 10**9
BASE_FEE = 1 * GWEI
RICH = 10**24
TO = "0x" + "22" * 20
KEYS = {name: bytes([i + 1]) * 32 for i, name in enumerate("ABCDE")}


@cache
def _signer(name: str):
    return EthAccount.from_key(KEYS[name])


def addr(name: str) -> bytes:
    return bytes.fromhex(_signer(name).address[2:])


@cache
def tx(name: str, nonce: int, tip: int = 2 * GWEI, cap: int = 100 * GWEI, gas: int = 21_000, value: int = 0):
    """A signed EIP-1559 transfer, decoded as the node decodes it; cached across tests."""
    signed = _signer(name).sign_transaction({
        "type": 2, "chainId": CHAIN_ID, "nonce": nonce, "maxPriorityFeePerGas": tip, "maxFeePerGas": cap,
        "gas": gas, "to": TO, "value": value,
    })
    return decode_transaction(bytes(signed.raw_transaction), CHAIN_ID)


def state(**accounts: tuple[int, int]) -> MemoryState:
    """Every test sender rich at nonce 0, overridden by name=(nonce, balance)."""
    base = {addr(name): Account(0, RICH) for name in KEYS}
    base.update({addr(name): Account(nonce, balance) for name, (nonce, balance) in accounts.items()})
    return MemoryState(base)


def fill(pool: Mempool, st: MemoryState, *txs: Transaction, now: float = 0.0) -> None:
    for t in txs:
        pool.add(t, st, BASE_FEE, now)


def held(pool: Mempool) -> tuple[dict, dict]:
    """content() as {name: [nonces]}, for readable assertions."""
    names = {addr(n): n for n in KEYS}
    return tuple({names[a]: sorted(txs) for a, txs in part.items()} for part in pool.content())
