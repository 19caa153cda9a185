"""In-process peers for the syncer tests: a real chain of final blocks with certificates, and a fake
request/response network between syncers, so a lying peer is a few lines and every run is the same.

`FakeNet` routes `request(peer, protocol, data)` to the handler the addressed peer registered, counts
every request, and yields to the event loop once per request as a socket would.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

from sidechain.chain.genesis import parse_genesis
from sidechain.consensus.messages import CommitCertificate, Step, Vote
from sidechain.crypto import private_key_to_address
from sidechain.storage.blockchain import Blockchain

CHAIN_ID = 7072
VALIDATOR_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
VALIDATOR = private_key_to_address(VALIDATOR_KEY)
OUTSIDER_KEY = b"\x77" * 32

Handler = Callable[[bytes, str], Awaitable[bytes]]


def genesis():
    return parse_genesis({
        "chainId": CHAIN_ID, "timestamp": 1_700_000_000, "blockTimeMs": 50, "gasLimit": 30_000_000,
        "baseFeePerGas": "1000000000", "checkpointInterval": 16,
        "validators": [{"address": "0x" + VALIDATOR.hex(), "power": 1}], "alloc": {},
    })


def certificate(height: int, block_hash: bytes, key: bytes = VALIDATOR_KEY) -> bytes:
    vote = Vote.create(CHAIN_ID, Step.PRECOMMIT, height, 0, block_hash, key, private_key_to_address(key))
    return CommitCertificate.from_votes([vote]).encode()


def grow(chain: Blockchain, height: int) -> Blockchain:
    """Commit empty final blocks, each with a valid one-validator certificate, up to `height`."""
    while chain.height < height:
        executed = chain.build_block(VALIDATOR, chain.genesis.timestamp + chain.height + 1, [])
        chain.commit(executed, certificate(executed.block.number, executed.block.hash))
    return chain


class FakeNet:
    """Peers by id, each with its request handlers; `connected` decides who sees whom."""

    def __init__(self) -> None:
        self.handlers: dict[str, dict[str, Handler]] = {}
        self.connected: set[str] = set()
        self.requests: Counter[tuple[str, str]] = Counter()
        """(peer asked, protocol) -> requests it was sent."""

    def endpoint(self, peer_id: str) -> "FakeP2P":
        self.handlers.setdefault(peer_id, {})
        self.connected.add(peer_id)
        return FakeP2P(self, peer_id)


class FakeP2P:
    """The slice of P2PService the syncer uses."""

    def __init__(self, net: FakeNet, peer_id: str) -> None:
        self.net, self.peer_id = net, peer_id

    def set_request_handler(self, protocol: str, handler: Handler) -> None:
        self.net.handlers[self.peer_id][protocol] = handler

    def peers(self) -> list[str]:
        return sorted(p for p in self.net.connected if p != self.peer_id)

    async def request(self, peer: str, protocol: str, data: bytes, timeout: float = 10.0) -> bytes:
        self.net.requests[(peer, protocol)] += 1
        await asyncio.sleep(0)  # a reply never arrives within the same step of the event loop
        if peer not in self.net.connected:
            raise ConnectionError(f"{peer} is not connected")
        return await self.net.handlers[peer][protocol](data, self.peer_id)
