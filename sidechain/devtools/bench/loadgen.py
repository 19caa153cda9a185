"""The load: fresh sender keys funded in a genesis, and their EIP-1559 transactions signed before any timing:
ETH transfers to random addresses (the default), or `TokenCalls`, ERC-20 transfers between holders.

Signing uses coincurve directly (eth-account signs ~3,100 tx/s, coincurve ~30,000/s per core) and is
spread over the machine's cores. A sample of the result is decoded with the node's own decoder, so
the bench never measures a node rejecting malformed or wrongly signed bytes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
from dataclasses import dataclass
from pathlib import Path

import rlp
from coincurve import PrivateKey

from sidechain.chain.genesis import genesis_to_json, load_genesis
from sidechain.chain.transactions import TX_GAS, decode_transaction
from sidechain.crypto import keccak256, private_key_to_address
from sidechain.devtools.devnet import DEVNET_GENESIS

GWEI = 10**9
MAX_FEE = 100 * GWEI
TIP = 1 * GWEI
VALUE = 1
SENDER_BALANCE = 10**21
"""1,000 ETH per sender: each transfer may cost up to 21,000 * 100 gwei = 0.0021 ETH upfront."""
DYNAMIC_FEE_TX = b"\x02"
TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")
"""keccak256("transfer(address,uint256)")[:4]"""


@dataclass(frozen=True, slots=True)
class Load:
    """Pre-signed transfers in submission order: every sender's nonce 0, then every sender's nonce 1, ..."""

    raws: list[bytes]
    """Signed type-2 envelopes, ready for eth_sendRawTransaction."""
    hashes: list[bytes]
    """keccak256 of each envelope: the transaction hash a node reports and a block lists."""
    senders: list[bytes]
    """Address of each sender key, to fund in a genesis or with anvil_setBalance."""
    chain_id: int


def new_sender_keys(count: int, seed: int | None = None) -> list[bytes]:
    """`count` random secp256k1 private keys (reproducible with a seed)."""
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    keys = []
    while len(keys) < count:
        key = rng.getrandbits(256).to_bytes(32, "big")
        if key != bytes(32) and int.from_bytes(key, "big") < 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141:
            keys.append(key)
    return keys


def sign_transfer(key: PrivateKey, chain_id: int, nonce: int, to: bytes | None, *, gas: int = TX_GAS, value: int = VALUE,
                  data: bytes = b"") -> bytes:
    """An EIP-1559 transaction, by default a transfer of VALUE wei (to=None creates a contract):
    0x02 || rlp([chainId, nonce, tip, maxFee, gas, to, value, data, accessList, y, r, s])."""
    fields = [chain_id, nonce, TIP, MAX_FEE, gas, b"" if to is None else to, value, data, []]
    sig = key.sign_recoverable(keccak256(DYNAMIC_FEE_TX + rlp.encode(fields)), hasher=None)
    return DYNAMIC_FEE_TX + rlp.encode(fields + [sig[64], int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")])


def transfer_calldata(to: bytes, amount: int) -> bytes:
    """ERC-20 `transfer(address,uint256)`."""
    return TRANSFER_SELECTOR + bytes(12) + to + amount.to_bytes(32, "big")


@dataclass(frozen=True, slots=True)
class TokenCalls:
    """What each transaction of an ERC-20 load does: `transfer(recipient, amount)` on `token`, the
    recipient drawn at random from `recipients` (never the sender itself)."""

    token: bytes
    recipients: tuple[bytes, ...]
    amount: int = 1
    gas: int = 60_000

    def sign(self, key: PrivateKey, sender: bytes, chain_id: int, nonce: int, rng: random.Random) -> bytes:
        i = rng.randrange(len(self.recipients))
        to = self.recipients[i] if self.recipients[i] != sender else self.recipients[(i + 1) % len(self.recipients)]
        return sign_transfer(key, chain_id, nonce, self.token, gas=self.gas, value=0, data=transfer_calldata(to, self.amount))


_calls: TokenCalls | None = None
"""The load's kind in this process (None: ETH transfers); a pool worker gets it once, at start."""


def _use_calls(calls: TokenCalls | None) -> None:
    global _calls
    _calls = calls


def _worker_init(calls: TokenCalls | None = None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool stops its workers with SIGTERM
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _use_calls(calls)


def _sign_sender(job: tuple[bytes, int, int, int]) -> list[bytes]:
    key, chain_id, count, seed = job
    rng = random.Random(seed)
    private = PrivateKey(key)
    if _calls is not None:
        sender = private_key_to_address(key)
        return [_calls.sign(private, sender, chain_id, nonce, rng) for nonce in range(count)]
    return [sign_transfer(private, chain_id, nonce, rng.randbytes(20)) for nonce in range(count)]


def build_load(keys: list[bytes], txs: int, chain_id: int, seed: int = 0, calls: TokenCalls | None = None) -> Load:
    """`txs` transactions spread evenly over `keys` (nonces from 0), interleaved across senders by
    nonce: ETH transfers to random addresses, or the ERC-20 transfers of `calls`."""
    per_sender = [txs // len(keys) + (1 if i < txs % len(keys) else 0) for i in range(len(keys))]
    jobs = [(key, chain_id, n, seed * 1_000_003 + i) for i, (key, n) in enumerate(zip(keys, per_sender))]
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and txs >= 2000:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init, initargs=(calls,)) as pool:
            by_sender = pool.map(_sign_sender, jobs, chunksize=max(1, len(jobs) // (workers * 4)))
    else:
        _use_calls(calls)
        try:
            by_sender = [_sign_sender(job) for job in jobs]
        finally:
            _use_calls(None)
    raws = [signed[nonce] for nonce in range(max(per_sender, default=0)) for signed in by_sender if nonce < len(signed)]
    senders = [private_key_to_address(key) for key in keys]
    load = Load(raws, [keccak256(raw) for raw in raws], senders, chain_id)
    verify_sample(load, keys)
    return load


def verify_sample(load: Load, keys: list[bytes], samples: int = 50) -> None:
    """Decode a spread of the transactions as a node does; the recovered sender must be the signer."""
    if not load.raws:
        return
    step = max(1, len(load.raws) // samples)
    for i in range(0, len(load.raws), step):
        tx = decode_transaction(load.raws[i], load.chain_id)
        expected = load.senders[i % len(keys)]
        if tx.sender != expected or tx.hash != load.hashes[i] or tx.nonce != i // len(keys):
            raise AssertionError(
                f"bench transaction {i} decodes wrong: sender 0x{tx.sender.hex()} (expected 0x{expected.hex()}), "
                f"nonce {tx.nonce} (expected {i // len(keys)})"
            )


def write_genesis(path: Path, senders: list[bytes], block_time_ms: int, gas_limit: int | None = None,
                  base: Path = DEVNET_GENESIS) -> dict:
    """The devnet genesis plus SENDER_BALANCE for each sender; `init_network` keeps this alloc."""
    genesis = genesis_to_json(load_genesis(base))
    genesis["blockTimeMs"] = block_time_ms
    if gas_limit is not None:
        genesis["gasLimit"] = gas_limit
    for address in senders:
        genesis["alloc"]["0x" + address.hex()] = {"balance": str(SENDER_BALANCE)}
    path.write_text(json.dumps(genesis, indent=2) + "\n")
    return genesis_to_json(load_genesis(path))  # checks what was written, as a node will
