"""The JSON-RPC fuzz target: request bodies through the dispatcher over a small LevelDB chain, in a
module of its own because only it opens a database (targets.py builds it on demand)."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time

from sidechain.chain.transactions import decode_transaction
from sidechain.rpc.errors import InternalError
from sidechain.devtools.fuzz import mutate
from sidechain.devtools.fuzz.targets import ADDRESSES, CHAIN_ID, GAS_LIMIT, KEYS, Crash, _signed_legacy, _signed_typed, _tx_input


class RpcTarget:
    """A Dispatcher over a small LevelDB chain (genesis, two blocks of transfers), driven in-process
    through `handle_body` as the HTTP and WebSocket servers do. The contract: an answer that is
    JSON (or None for notifications), and never -32603, which the dispatcher answers when a
    handler raised anything outside the SidechainError tree (it logs the traceback: kept here)."""

    def __init__(self) -> None:
        from sidechain.chain.genesis import parse_genesis
        from sidechain.mempool.pool import Mempool
        from sidechain.rpc.backend import submit_one_by_one
        from sidechain.rpc.dispatch import Dispatcher
        from sidechain.rpc.methods import Context
        from sidechain.rpc.routes import ROUTES
        from sidechain.storage.blockchain import Blockchain

        self.dir = tempfile.TemporaryDirectory(prefix="sidechain-fuzz-rpc-")
        genesis = parse_genesis({
            "chainId": CHAIN_ID, "timestamp": 1_700_000_000, "blockTimeMs": 1000, "gasLimit": GAS_LIMIT,
            "baseFeePerGas": 10**9, "checkpointInterval": 16,
            "validators": [{"address": "0x" + a.hex(), "power": 1} for a in ADDRESSES],
            "alloc": {"0x" + a.hex(): {"balance": str(10**24)} for a in ADDRESSES},
        })
        chain = Blockchain.open(self.dir.name, genesis)
        mempool = Mempool()

        class Backend:
            def __init__(self) -> None:
                self.chain, self.mempool = chain, mempool

            chain_id = CHAIN_ID

            def peer_count(self) -> int:
                return 0

            def sync_status(self) -> None:
                return None

            def submit_transaction(self, raw: bytes) -> bytes:
                tx = decode_transaction(raw, CHAIN_ID, GAS_LIMIT)
                mempool.add(tx, chain.store, chain.next_base_fee(), time.monotonic())
                return tx.hash

            async def submit_transactions(self, raws: list[bytes]) -> list:
                return await submit_one_by_one(self.submit_transaction, raws)

            def consensus_status(self) -> dict:
                return {"height": chain.height + 1, "round": 0, "step": "propose"}

        for nonce in range(2):
            raws = [_signed_typed(2, nonce, KEYS[0]), _signed_legacy(nonce, KEYS[1])]
            executed = chain.build_block(ADDRESSES[0], chain.head.timestamp + 1, [decode_transaction(r, CHAIN_ID) for r in raws])
            chain.commit(executed, b"")
        self.chain = chain
        self.hashes = [chain.head.hash] + [decode_transaction(r, CHAIN_ID).hash for r in raws]
        self.methods = sorted(ROUTES)
        self.dispatcher = Dispatcher(Context(Backend()), ROUTES)
        self.loop = asyncio.new_event_loop()
        self.errors: list[logging.LogRecord] = []
        logger = logging.getLogger("sidechain.rpc.dispatch")
        logger.propagate = False
        logger.addHandler(_Keep(self.errors))

    def __call__(self, data: bytes) -> str:
        self.errors.clear()
        text = self.loop.run_until_complete(self.dispatcher.handle_body(data))
        if self.errors:
            record = self.errors.pop(0)
            self.errors.clear()
            exc = record.exc_info[1] if record.exc_info else None
            if exc is not None:
                raise exc  # the handler's own exception, with its traceback
            raise Crash(f"internal error: {record.getMessage()}")
        if text is not None:
            answer = json.loads(text)
            for item in answer if isinstance(answer, list) else [answer]:
                if isinstance(item, dict) and item.get("error", {}).get("code") == InternalError.rpc_code:
                    raise Crash(f"-32603 answer: {item}")
            first = answer[0] if isinstance(answer, list) and answer else answer
            error = first.get("error") if isinstance(first, dict) else None
            return f'{error["code"]} {error["message"][:24]}' if error else "result"
        return "notification"

    # structure-aware requests ---------------------------------------------------------------------

    _KEYS = ("from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "data", "input",
             "nonce", "accessList", "address", "storageKeys", "fromBlock", "toBlock", "blockHash", "topics",
             "blockNumber", "requireCanonical", "chainId", "type")

    def value(self, rng, depth: int = 0) -> object:
        kind = rng.randrange(16)
        if kind == 0:
            return rng.choice(("latest", "earliest", "pending", "safe", "finalized", "", "0x", "0x0", "0x00", "0X1"))
        if kind == 1:
            return hex(rng.choice(mutate.INTERESTING_INTS + (1, 2, 3)))
        if kind == 2:
            return "0x" + mutate.random_bytes(rng, 80).hex()
        if kind == 3:
            return "0x" + rng.choice(ADDRESSES + tuple(self.hashes)).hex()
        if kind == 4:
            return rng.choice((0, 1, -1, 2**64, 2**256, 1.5, 1e308, True, False, None))
        if kind == 5:
            return "0x" + "".join(rng.choice("0123456789abcdefABCDEFxg ") for _ in range(rng.randrange(70)))
        if kind == 6:
            return str(rng.randrange(-5, 2**70))
        if kind in (7, 8) and depth < 4:
            return {rng.choice(self._KEYS): self.value(rng, depth + 1) for _ in range(rng.randrange(5))}
        if kind in (9, 10) and depth < 4:
            return [self.value(rng, depth + 1) for _ in range(rng.randrange(5))]
        if kind == 11:
            return "0x" + _signed_typed(2, 7, KEYS[2]).hex() if rng.random() < 0.5 else "0x" + _tx_input(rng).hex()
        if kind == 12:
            return rng.choice((0, 50, 100, 100.5, -1))
        if kind == 13:
            return "\u0000\ud7ff\U0001f600" if rng.random() < 0.5 else "x" * rng.randrange(300)
        return "0x" + rng.choice(ADDRESSES).hex() if rng.random() < 0.5 else hex(rng.randrange(1 << rng.choice((4, 8, 32, 64))))

    def request(self, rng) -> object:
        request: dict = {"jsonrpc": "2.0", "id": rng.choice((1, "a", None, 2**70, 1.5)),
                         "method": rng.choice(self.methods)}
        if rng.random() < 0.95:
            request["params"] = [self.value(rng) for _ in range(rng.randrange(4))]
        if rng.random() < 0.05:
            del request["id"]
        if rng.random() < 0.05:
            request[rng.choice(("jsonrpc", "method", "params", "id"))] = self.value(rng)
        return request

    def input(self, rng) -> bytes:
        r = rng.random()
        if r < 0.8:
            body = self.request(rng) if rng.random() < 0.9 else [self.request(rng) for _ in range(rng.randrange(5))]
            return json.dumps(body).encode()
        if r < 0.95:
            text = json.dumps(self.request(rng)).encode()
            return mutate.mutate_bytes(rng, text)
        return mutate.random_bytes(rng, 64)


class _Keep(logging.Handler):
    def __init__(self, into: list) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)
