"""Floods from one key, on four drivers with real LevelDB stores wired by an in-memory bus:

- one validator signs 1,000 proposals (each a different block) and 10,000 votes for far rounds of
  the height being decided: at most one proposal per round in the window is executed, what it makes
  an honest node hold and log stays under fixed bounds, and the chain goes on;
- while a node decides a checkpoint range's last block, an outsider floods the next height through
  the gossip checks with 10,000 votes and 100 proposals of ~850 KiB, and a validator floods it too:
  a genuine vote of another validator for the next height is still kept and counted when that height
  comes, and the bytes held stay bounded.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from types import SimpleNamespace

from driver_bus import CHAIN_ID, drivers_on_bus
from waiting import wait_for
from driver_bus import genesis as genesis_of
from eth_account import Account

from sidechain.chain.blocks import ZERO_HASH, Block, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.transactions import decode_transaction
from sidechain.consensus.driver import ConsensusDriver
from sidechain.consensus.gossip import encode_proposal
from sidechain.consensus.messages import CommitCertificate, Proposal, Step, ValidatorSet, Vote
from sidechain.crypto import private_key_to_address
from sidechain.errors import UnknownBlock
from sidechain.node.network import GossipNetwork
from sidechain.p2p import ValidationResult
from sidechain.storage.blockchain import Blockchain

KEYS = [bytes([0x60 + i]) * 32 for i in range(4)]
ADDRESSES = [private_key_to_address(k) for k in KEYS]
FAULTY = 3
OUTSIDER_KEY = b"\x77" * 32
OUTSIDER = private_key_to_address(OUTSIDER_KEY)
MIB = 1024 * 1024


def network(tmp_path, interval: int, on_commit0=lambda executed: None):
    cfg = genesis_of(KEYS, interval)
    bus, chains = drivers_on_bus(tmp_path, KEYS, cfg, on_commit0)
    return cfg, bus, chains


def check_agreement(chains, upto: int) -> None:
    blocks = [[c.block_by_number(n) for n in range(1, upto + 1)] for c in chains]
    assert all(b == blocks[0] for b in blocks), "the validators disagree"
    for block in blocks[0]:
        CommitCertificate.decode(chains[0].store.get_certificate(block.hash)).verify(
            CHAIN_ID, chains[0].validators_at(block.number), block.number, block.hash)


def test_one_validator_flooding_far_rounds_is_bounded_and_the_chain_goes_on(tmp_path):
    cfg, bus, chains = network(tmp_path, 64)
    vset = ValidatorSet.from_genesis(cfg.validators)
    faulty, key = ADDRESSES[FAULTY], KEYS[FAULTY]
    driver = bus.drivers[0]
    executed = []
    real_execute = chains[0].execute_block
    chains[0].execute_block = lambda block: (executed.append(block.hash), real_execute(block))[1]
    figures = {}

    async def scenario():
        for d in bus.drivers:
            d.start()
        try:
            await wait_for(lambda: chains[0].height >= 2 and driver.machine is not None)
            h, head = driver.height, chains[0].head
            far = [r for r in range(10**6, 10**6 + 4_000) if vset.proposer(h, r) == faulty][:1_000]
            proposals = []
            for i, r in enumerate(far):  # each a different block
                block = Block(Header(head.hash, h, head.timestamp, faulty, ZERO_HASH, ZERO_HASH, ZERO_HASH,
                                     EMPTY_BLOOM, 30_000_000, 0, 10**9, i.to_bytes(4, "big")), ())
                proposals.append((Proposal.create(CHAIN_ID, h, r, block.hash, -1, key, faulty), block))
            votes = [Vote.create(CHAIN_ID, step, h, r, bytes([r % 251]) * 32, key, faulty)
                     for r in range(1, 5_001) for step in (Step.PREVOTE, Step.PRECOMMIT)]
            executed.clear()
            cpu = time.process_time()
            for proposal, block in proposals:
                driver.receive_proposal(proposal, block)
            for vote in votes:
                driver.receive_vote(vote)
            figures["cpu"] = time.process_time() - cpu
            wal = tmp_path / "wal0" / f"height-{h:012d}.wal"
            figures["wal"] = wal.stat().st_size if wal.exists() else 0
            figures["executed"] = len(executed)
            figures["held"] = sum(1 for (_, _, v) in driver._votes if v == faulty)
            figures["rounds"] = len(driver.machine.votes)
            figures["proposals"] = len(driver.machine.proposals)
            await wait_for(lambda: bus.errors or all(c.height >= h + 3 for c in chains))
            figures["height"] = h
        finally:
            for d in bus.drivers:
                d.stop()

    try:
        asyncio.run(scenario())
        assert not bus.errors, bus.errors
        check_agreement(chains, figures["height"] + 3)
    finally:
        for chain in chains:
            chain.close()
    print("round flood:", figures)
    assert figures["executed"] <= 2, figures  # far rounds are never executed
    assert figures["proposals"] <= 4, figures
    assert figures["held"] <= 2 * 8, figures  # a few rounds' prevote and precommit, not 10,000
    assert figures["rounds"] <= 12, figures
    assert figures["wal"] < 64 * 1024, figures
    assert figures["cpu"] < 5.0, figures


def junk_transactions(count: int = 7, size: int = 124_000) -> list:
    outsider = Account.from_key(OUTSIDER_KEY)
    return [decode_transaction(bytes(outsider.sign_transaction({
        "to": "0x" + "22" * 20, "value": 0, "data": bytes([i]) * size, "gas": 3_000_000, "nonce": i,
        "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9, "chainId": CHAIN_ID, "type": 2,
    }).raw_transaction), CHAIN_ID) for i in range(count)]


def gossip_front(driver: ConsensusDriver, chain: Blockchain, cfg, known=lambda tx_hash: None) -> GossipNetwork:
    """The node's real gossip checks and routing in front of `driver`, without libp2p; `known`:
    the transactions it holds (compact proposals name theirs by hash)."""
    def validators_for(height):
        try:
            return chain.validators_at(height)
        except UnknownBlock:
            return None

    p2p = SimpleNamespace(subscribe=lambda *args: None, publish=lambda *args: None)
    front = GossipNetwork(p2p, chain_id=CHAIN_ID, validators_at=validators_for, known=known)
    front.serve(driver)
    return front


def deliver(front: GossipNetwork, kind: str, data: bytes) -> ValidationResult:
    if kind == "vote":
        result = front._validate_vote(data, "peer")
        if result is ValidationResult.ACCEPT:
            front._on_vote(data, "peer")
    else:
        result = front._validate_proposal(data, "peer")
        if result is ValidationResult.ACCEPT:
            front._on_proposal(data, "peer")
    return result


def test_a_flood_for_the_next_range_keeps_a_genuine_vote_and_stays_bounded(tmp_path):
    interval = 4
    figures: dict = {}
    genuine: dict = {}
    state: dict = {}

    def on_commit(executed) -> None:
        number = executed.block.number
        driver = state["driver"]
        if "flooded" not in figures and number % interval == interval - 1 and number >= interval:
            flood(driver, number + 2)  # deciding number + 1, a range's last block: number + 2's set is unknown
        elif genuine and number == genuine["height"]:
            # The machine of that height is still in place while its block commits.
            kept = driver.machine.votes[genuine["round"]].prevotes.get(ADDRESSES[1])
            figures["genuine_counted"] = kept == genuine["hash"]

    def flood(driver, target: int) -> None:
        txs = junk_transactions()
        front = gossip_front(driver, state["chain"], state["cfg"], known={tx.hash: tx for tx in txs}.get)
        assert front.validators_at(target) is None
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for who, key, count in ((OUTSIDER, OUTSIDER_KEY, 100), (ADDRESSES[FAULTY], KEYS[FAULTY], 20)):
            for i in range(count):  # ~850 KiB proposals, each a different block
                block = Block(Header(b"\x11" * 32, target, int(time.time()), who, ZERO_HASH, ZERO_HASH, ZERO_HASH,
                                     EMPTY_BLOOM, 30_000_000, 0, 10**9, i.to_bytes(4, "big")), tuple(txs))
                deliver(front, "proposal", encode_proposal(
                    Proposal.create(CHAIN_ID, target, i, block.hash, -1, key, who), block))
            for i in range(10_000):
                deliver(front, "vote", Vote.create(CHAIN_ID, Step.PREVOTE, target, i % 50, bytes([i % 251]) * 32,
                                                   key, who).encode())
        genuine.update(height=target, round=1, hash=b"\x42" * 32)
        deliver(front, "vote", Vote.create(CHAIN_ID, Step.PREVOTE, target, 1, genuine["hash"], KEYS[1],
                                           ADDRESSES[1]).encode())
        figures["buffered_mib"] = (tracemalloc.get_traced_memory()[0] - before) / MIB
        tracemalloc.stop()
        figures["buffered_messages"] = len(driver._future)
        figures["flooded"] = True

    cfg, bus, chains = network(tmp_path, interval, on_commit)
    state.update(driver=bus.drivers[0], chain=chains[0], cfg=cfg)

    async def scenario():
        for d in bus.drivers:
            d.start()
        try:
            await wait_for(lambda: bus.errors or ("genuine_counted" in figures and all(
                c.height >= genuine["height"] + 1 for c in chains)), timeout=60)
        finally:
            for d in bus.drivers:
                d.stop()

    try:
        asyncio.run(scenario())
        assert not bus.errors, bus.errors
        check_agreement(chains, genuine["height"] + 1)
    finally:
        for chain in chains:
            chain.close()
    print("next-range flood:", figures)
    assert figures["genuine_counted"], figures
    assert figures["buffered_mib"] < 12, figures
    assert figures["buffered_messages"] <= 2 * 256 + 4, figures
