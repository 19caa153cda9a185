"""The contract load of test_evm_durability.py: its pre-signed plan (an OpenZeppelin ERC-20 and three
SimpleStorage contracts, 2,800 calls from 40 fresh senders) with the contract state it must leave,
the thread that submits it to one node, and the JSON-RPC and ABI helpers both use."""

from __future__ import annotations

import json
import random
import sys
import threading
import urllib.request
from pathlib import Path

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from e2e_support import CHAIN_ID
from sidechain.devtools.devnet import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evm"))  # the EVM tests' corpus and helpers
from evm_support import compiled_corpus, create_address, deploy_data  # noqa: E402

GWEI = 10**9
ETH = 10**18
SUPPLY = 10**27
SHARE = 10**24
"""Tokens each sender gets from the deployer; a later transfer moves less than 1 token (10**18)."""
SENDERS = [keccak(f"evm durability sender {i}".encode()) for i in range(40)]
SENDER_ADDRESSES = [Account.from_key(k).address for k in SENDERS]
RECIPIENTS = [to_checksum_address(keccak(f"evm durability recipient {i}".encode())[12:]) for i in range(16)]
CALLS_PER_SENDER = 70
STORES = 3
SUBMIT_NODE = 0
"""Every transaction goes to node 0 (never killed); gossip carries it to the others."""
POOL_HIGH_WATER = 300
"""The loader waits (polling txpool_status) while node 0's pool holds more: the load spans many blocks."""
RPC_TIMEOUT = 15.0

TRANSFER = keccak(b"transfer(address,uint256)")[:4]
BALANCE_OF = keccak(b"balanceOf(address)")[:4]
TOTAL_SUPPLY = keccak(b"totalSupply()")[:4]
SET = keccak(b"set(uint256)")[:4]
SET_NOTE = keccak(b"setNote(string)")[:4]
SETS_BY = keccak(b"setsBy(address)")[:4]
BALANCES_SLOT, TOTAL_SUPPLY_SLOT = 0, 2
"""OpenZeppelin 5 ERC20's layout: _balances, _allowances, _totalSupply, ..."""
VALUE_SLOT, SETS_BY_SLOT, NOTE_SLOT = 0, 1, 2
"""SimpleStorage's layout."""


# --- JSON-RPC ---------------------------------------------------------------------------------------


def batch(url: str, calls: list[tuple[str, list]], timeout: float = RPC_TIMEOUT) -> list:
    """Results of JSON-RPC calls sent as batches, in order; any error reply raises."""
    results = []
    for start in range(0, len(calls), 500):
        part = calls[start:start + 500]
        body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(part)]).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            replies = sorted(json.loads(response.read()), key=lambda r: r["id"])
        for (method, params), reply in zip(part, replies, strict=True):
            if "error" in reply:
                raise RuntimeError(f"{method}{params} at {url}: {reply['error']}")
            results.append(reply["result"])
    return results


def height(url: str, timeout: float = RPC_TIMEOUT) -> int:
    return int(batch(url, [("eth_blockNumber", [])], timeout)[0], 16)


def pooled(url: str) -> int:
    status = batch(url, [("txpool_status", [])])[0]
    return int(status["pending"], 16) + int(status["queued"], 16)


def call(to: str, data: bytes, block: str) -> tuple[str, list]:
    return ("eth_call", [{"to": to, "data": "0x" + data.hex()}, block])


# --- the transactions -------------------------------------------------------------------------------


def sign(key: bytes, nonce: int, to: str | None, data: bytes, gas: int, value: int = 0) -> tuple[str, str]:
    """(raw transaction, hash) of an EIP-1559 transaction."""
    tx = {"type": 2, "chainId": CHAIN_ID, "nonce": nonce, "gas": gas, "maxFeePerGas": 50 * GWEI,
          "maxPriorityFeePerGas": GWEI, "value": value, "data": data}
    if to is not None:
        tx["to"] = to
    signed = Account.sign_transaction(tx, key)
    return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def address_word(address: str) -> bytes:
    return word(int(address, 16))


def mapping_slot(address: str, slot: int) -> str:
    """The storage slot of entry `address` of the `mapping(address => ...)` at `slot`."""
    return "0x" + keccak(address_word(address) + word(slot)).hex()


class Plan:
    """Every transaction of the test, pre-signed, and the contract state they must leave."""

    def __init__(self, deployer_key: bytes, deployer_nonce: int) -> None:
        corpus = compiled_corpus()
        self.deployer = deployer = Account.from_key(deployer_key).address
        self.token = create_address(deployer, deployer_nonce)
        self.stores = [create_address(deployer, deployer_nonce + 1 + j) for j in range(STORES)]
        self.holders = [deployer, *SENDER_ADDRESSES, *RECIPIENTS]
        self.transfers: list[tuple[int, str, str, int]] = []
        """(round, from, to, amount) of every token transfer; the setup's are round -1."""
        self.sets: list[tuple[int, int, str]] = []
        """(round, store, sender) of every `set` call."""

        # The setup, from the deployer: the token (whole supply to it), the stores, then per sender
        # 5 ether and SHARE tokens.
        nonce = deployer_nonce
        self.setup = [sign(deployer_key, nonce, None, bytes.fromhex(deploy_data(corpus["CorpusToken"], (SUPPLY,))[2:]), 3_000_000)]
        for _ in range(STORES):
            nonce += 1
            self.setup.append(sign(deployer_key, nonce, None, bytes.fromhex(corpus["SimpleStorage"]["bytecode"].removeprefix("0x")), 2_000_000))
        for address in SENDER_ADDRESSES:
            self.setup.append(sign(deployer_key, nonce + 1, address, b"", 21_000, value=5 * ETH))
            self.setup.append(self._transfer(-1, deployer_key, nonce + 2, deployer, address, SHARE))
            nonce += 2

        # The load: round n is every sender's transaction of nonce n, a transfer, a `set` or a `setNote`.
        rng = random.Random(20240611)
        self.rounds: list[list[tuple[str, str]]] = []
        for n in range(CALLS_PER_SENDER):
            row = []
            for i, (key, address) in enumerate(zip(SENDERS, SENDER_ADDRESSES)):
                kind, store = (n + i) % 4, (n + i) % STORES
                if kind in (0, 2):
                    to = rng.choice([h for h in self.holders if h != address])
                    row.append(self._transfer(n, key, n, address, to, rng.randrange(1, ETH)))
                elif kind == 1:
                    self.sets.append((n, store, address))
                    row.append(sign(key, n, self.stores[store], SET + word(rng.getrandbits(256)), 150_000))
                else:  # a string of 0-4 slots
                    note = f"{address} #{n} " + "x" * rng.randrange(0, 120)
                    row.append(sign(key, n, self.stores[store], SET_NOTE + encode(["string"], [note]), 250_000))
            self.rounds.append(row)

    def _transfer(self, round_: int, key: bytes, nonce: int, sender: str, to: str, amount: int) -> tuple[str, str]:
        self.transfers.append((round_, sender, to, amount))
        return sign(key, nonce, self.token, TRANSFER + address_word(to) + word(amount), 120_000)

    def chunk(self, first: int, end: int) -> list[tuple[str, str]]:
        """Rounds first..end-1, round after round (each sender's transactions in nonce order)."""
        return [tx for row in self.rounds[first:end] for tx in row]

    def hashes(self, rounds: int) -> set[str]:
        return {h for _, h in self.setup} | {h for row in self.rounds[:rounds] for _, h in row}

    def balances(self, rounds: int) -> list[int]:
        """Every holder's token balance once the setup and the first `rounds` rounds are in."""
        balance = dict.fromkeys(self.holders, 0)
        balance[self.deployer] = SUPPLY
        for n, sender, to, amount in self.transfers:
            if n < rounds:
                balance[sender] -= amount
                balance[to] += amount
        return [balance[h] for h in self.holders]

    def sets_by(self, rounds: int) -> list[int]:
        """setsBy(sender) of every store and sender (store-major) once the first `rounds` rounds are in."""
        count = {(j, a): 0 for j in range(STORES) for a in SENDER_ADDRESSES}
        for n, j, address in self.sets:
            if n < rounds:
                count[(j, address)] += 1
        return [count[(j, a)] for j in range(STORES) for a in SENDER_ADDRESSES]


class Loader(threading.Thread):
    """Submits transactions in batches to one node, waiting (polling its pool, with a deadline) while
    the pool holds more than POOL_HIGH_WATER. Records every refusal and its own failure."""

    def __init__(self, url: str, txs: list[tuple[str, str]], size: int = 100) -> None:
        super().__init__(daemon=True)
        self.url, self.txs, self.size = url, txs, size
        self.sent = 0
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            for start in range(0, len(self.txs), self.size):
                wait_until(lambda: self.stop.is_set() or pooled(self.url) < POOL_HIGH_WATER, 60, "room in the pool")
                if self.stop.is_set():
                    return
                part = self.txs[start:start + self.size]
                body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
                                   for i, (raw, _) in enumerate(part)]).encode()
                request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=RPC_TIMEOUT) as response:
                    replies = json.loads(response.read())
                self.errors += [f"{part[r['id']][1]}: {r['error']}" for r in replies if "error" in r]
                self.sent += len(part)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(f"loader: {exc!r}")
