"""A small real chain for the RPC tests: genesis, LevelDB Blockchain, Mempool, signed transactions.

`Devnet` is the pre-state every test builds on; `Devnet.commit` appends a block (optionally with
logs, standing in for the system contracts that will emit them), `Devnet.sign` signs with
eth-account. `run` drives a coroutine without pytest plugins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Iterable

from eth_account import Account as EthAccount

from sidechain.chain.blocks import Block, Log, receipts_root
from sidechain.chain.bloom import EMPTY_BLOOM, bloom_of_logs
from sidechain.chain.genesis import parse_genesis
from sidechain.chain.transactions import decode_transaction
from sidechain.mempool.pool import Mempool
from sidechain.rpc.backend import submit_one_by_one
from sidechain.rpc.dispatch import Dispatcher
from sidechain.rpc.methods import Context
from sidechain.rpc.routes import ROUTES
from sidechain.rpc.server import RpcConfig, RpcServer
from sidechain.execution.executor import ExecutedBlock
from sidechain.storage.blockchain import Blockchain

CHAIN_ID = 7071
GWEI = 10**9
BASE_FEE = GWEI
GAS_LIMIT = 30_000_000
RICH = 10**24
PROPOSER = bytes.fromhex("aa" * 20)
KEYS = {name: bytes([i + 1]) * 32 for i, name in enumerate("ABC")}
ACCOUNTS = {name: EthAccount.from_key(key) for name, key in KEYS.items()}


def addr(name: str) -> bytes:
    return bytes.fromhex(ACCOUNTS[name].address[2:])


def hexaddr(name: str) -> str:
    return ACCOUNTS[name].address.lower()


class Backend:
    """The RpcBackend as the node provides it, minus consensus and peers."""

    def __init__(self, chain: Blockchain, mempool: Mempool) -> None:
        self.chain = chain
        self.mempool = mempool

    @property
    def chain_id(self) -> int:
        return self.chain.genesis.chain_id

    def peer_count(self) -> int:
        return 0

    def sync_status(self) -> dict | None:
        return None

    def submit_transaction(self, raw: bytes) -> bytes:
        tx = decode_transaction(raw, self.chain_id, self.chain.genesis.gas_limit)
        self.mempool.add(tx, self.chain.state(), self.chain.next_base_fee(), time.monotonic())
        return tx.hash

    async def submit_transactions(self, raws: list[bytes]) -> list:
        return await submit_one_by_one(self.submit_transaction, raws)

    def consensus_status(self) -> dict:
        return {"height": self.chain.height + 1, "round": 0, "step": "propose"}


class Devnet:
    def __init__(self, data_dir) -> None:
        genesis = parse_genesis({
            "chainId": CHAIN_ID,
            "timestamp": 1_700_000_000,
            "blockTimeMs": 1000,
            "gasLimit": GAS_LIMIT,
            "baseFeePerGas": BASE_FEE,
            "checkpointInterval": 16,
            "validators": [{"address": "0x" + PROPOSER.hex(), "power": 1}],
            "alloc": {ACCOUNTS[n].address: {"balance": str(RICH)} for n in ("A", "B")},
        })
        self.chain = Blockchain.open(data_dir, genesis)
        self.mempool = Mempool()
        self.backend = Backend(self.chain, self.mempool)
        self.nonces = {name: 0 for name in KEYS}
        self.server = None
        """An RpcServer to publish committed blocks to, when a test runs one."""

    def sign(
        self, name: str, *, to: str | None = None, value: int = 1, tx_type: int = 2, tip: int = 2 * GWEI,
        fee_cap: int = 10 * GWEI, data: bytes = b"", access_list: list | None = None, nonce: int | None = None,
        gas: int = 100_000,
    ) -> bytes:
        if nonce is None:
            nonce = self.nonces[name]
            self.nonces[name] += 1
        tx: dict = {
            "chainId": CHAIN_ID, "nonce": nonce, "to": to or ACCOUNTS["C"].address, "value": value,
            "gas": gas, "data": data,
        }
        if tx_type == 2:
            tx.update(maxFeePerGas=fee_cap, maxPriorityFeePerGas=tip)
        else:
            tx["gasPrice"] = fee_cap
        if tx_type >= 1:
            tx["accessList"] = access_list or []
        return bytes(ACCOUNTS[name].sign_transaction(tx).raw_transaction)

    def commit(self, raws: Iterable[bytes] = (), logs: dict[int, list[Log]] | None = None) -> Block:
        """Build, commit and publish a block of `raws`; `logs` adds logs to the receipts by index."""
        txs = [decode_transaction(raw, CHAIN_ID) for raw in raws]
        executed = self.chain.build_block(PROPOSER, self.chain.head.timestamp + 1, txs)
        assert len(executed.block.transactions) == len(txs), executed.result.rejected
        if logs:
            executed = _with_logs(executed, logs)
        self.chain.commit(executed, b"")
        self.mempool.on_block(executed.block.transactions, self.chain.state(), self.chain.next_base_fee(), time.monotonic())
        if self.server is not None:
            self.server.publish_block(executed.block, executed.result.receipts)
        return executed.block


def _with_logs(executed: ExecutedBlock, logs: dict[int, list[Log]]) -> ExecutedBlock:
    receipts = tuple(
        dataclasses.replace(r, logs=tuple(logs.get(i, ()))) for i, r in enumerate(executed.result.receipts)
    )
    all_logs = [entry for r in receipts for entry in r.logs]
    bloom = bloom_of_logs(all_logs) if all_logs else EMPTY_BLOOM
    header = dataclasses.replace(executed.block.header, logs_bloom=bloom, receipts_root=receipts_root(receipts))
    result = dataclasses.replace(executed.result, receipts=receipts, logs_bloom=bloom)
    return ExecutedBlock(Block(header, executed.block.transactions), result, executed.trie)


def log_entry(address: bytes, *topics: bytes, data: bytes = b"") -> Log:
    return Log(address, tuple(topics), data)


def run(coro, timeout: float = 30.0):
    """Run a coroutine to completion in a fresh event loop, with a deadline."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@contextlib.asynccontextmanager
async def serving(devnet: Devnet, config: RpcConfig | None = None, **options):
    """An RpcServer over the devnet on a free loopback port; committed blocks are published to it."""
    server = RpcServer(devnet.backend, config, **options)
    await server.start("127.0.0.1", 0)
    devnet.server = server
    try:
        yield server
    finally:
        devnet.server = None
        await server.stop()


class Client:
    """Calls the RPC methods through the dispatcher, as the server does, without a socket."""

    def __init__(self, devnet, **context) -> None:
        self.context = Context(devnet.backend, **context)
        self.dispatcher = Dispatcher(self.context, ROUTES)

    def raw(self, method: str, *params):
        return self.dispatcher.call({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, None)

    def __call__(self, method: str, *params):
        response = self.raw(method, *params)
        assert "error" not in response, response
        return response["result"]

    def error(self, method: str, *params) -> dict:
        response = self.raw(method, *params)
        assert "result" not in response, response
        return response["error"]


def h(value: bytes) -> str:
    return "0x" + value.hex()
