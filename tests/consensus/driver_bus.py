"""Consensus drivers wired in one event loop by an in-memory bus: what the driver-level tests of
this folder share (timestamps, floods, the single driver). A module of its own, not conftest, so the
tests import it by a name no other test folder uses."""

from __future__ import annotations

import asyncio

from sidechain.chain.genesis import parse_genesis
from sidechain.consensus.driver import ConsensusDriver
from sidechain.consensus.timeouts import Timeouts
from sidechain.consensus.signer import Signer
from sidechain.consensus.wal import WriteAheadLog
from sidechain.crypto import private_key_to_address
from sidechain.mempool.pool import Mempool
from sidechain.storage.blockchain import Blockchain

CHAIN_ID = 7070


def genesis(keys: list[bytes], interval: int = 64):
    """A genesis whose validators are `keys`, each of power 1, with 100 ms blocks."""
    return parse_genesis({
        "chainId": CHAIN_ID, "blockTimeMs": 100, "gasLimit": 30_000_000, "baseFeePerGas": "1000000000",
        "checkpointInterval": interval,
        "validators": [{"address": "0x" + private_key_to_address(k).hex(), "power": 1} for k in keys],
    })


def drivers_on_bus(tmp_path, keys: list[bytes], cfg, on_commit0=lambda executed: None) -> tuple["Bus", list[Blockchain]]:
    """One driver per key over its own chain in `tmp_path`, all on one Bus, with short timeouts;
    driver 0 reports its commits to `on_commit0`. Returns the bus and the (open) chains."""
    bus = Bus()
    chains = [Blockchain.open(tmp_path / f"v{i}", cfg) for i in range(len(keys))]
    for i, key in enumerate(keys):
        bus.drivers.append(ConsensusDriver(
            chains[i], Mempool(), Signer(key, CHAIN_ID, tmp_path / f"signer{i}.json"),
            WriteAheadLog(tmp_path / f"wal{i}", CHAIN_ID), network=bus.endpoint(i),
            timeouts=Timeouts(propose=0.5, vote=0.2, delta=0.2), block_time=0.1,
            on_commit=on_commit0 if i == 0 else (lambda executed: None)))
    return bus, chains


class Bus:
    """Delivers every broadcast to the other drivers on the next loop turn, and records it; an
    exception a driver raises is kept for the test, not lost in the loop's handler."""

    def __init__(self) -> None:
        self.drivers: list[ConsensusDriver] = []
        self.votes: list = []
        self.proposals: list = []
        self.evidence: list = []
        self.errors: list[BaseException] = []

    def endpoint(self, index: int) -> "Endpoint":
        return Endpoint(self, index)

    def deliver(self, sender: int, method: str, *args) -> None:
        for i, driver in enumerate(self.drivers):
            if i != sender:
                asyncio.get_running_loop().call_soon(self._call, getattr(driver, method), args)

    def _call(self, fn, args) -> None:
        try:
            fn(*args)
        except BaseException as exc:
            self.errors.append(exc)


class Endpoint:
    """What one driver broadcasts through."""

    def __init__(self, bus: Bus, index: int) -> None:
        self.bus, self.index = bus, index

    def broadcast_proposal(self, proposal, block) -> None:
        self.bus.proposals.append((proposal, block))
        self.bus.deliver(self.index, "receive_proposal", proposal, block)

    def broadcast_vote(self, vote) -> None:
        self.bus.votes.append(vote)
        self.bus.deliver(self.index, "receive_vote", vote)

    def broadcast_evidence(self, evidence) -> None:
        self.bus.evidence.append(evidence)
        self.bus.deliver(self.index, "receive_evidence", evidence)
