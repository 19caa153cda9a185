"""Equivocation on four drivers with real LevelDB stores, wired by the in-memory bus: a validator
key signing outside its double-sign guard (two prevotes for one round; two proposals for one round)
is caught, the evidence goes into one block that every validator commits, indexed on each, and the
chain goes on."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from driver_bus import CHAIN_ID, Bus, drivers_on_bus
from waiting import wait_for
from driver_bus import genesis as genesis_of

from sidechain.chain.blocks import ZERO_HASH, Block, Header, evidence_root
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.consensus.driver import ConsensusDriver
from sidechain.consensus.gossip import encode_proposal
from sidechain.consensus.evidence import DuplicateProposal, DuplicateVote, decode_evidence, offence_of
from sidechain.consensus.messages import Proposal, Step, ValidatorSet, Vote
from sidechain.crypto import private_key_to_address
from sidechain.node.network import GossipNetwork
from sidechain.p2p import ValidationResult
from sidechain.storage.blockchain import Blockchain
from sidechain.storage.evidence import EvidenceIndex

KEYS = [bytes([0x50 + i]) * 32 for i in range(4)]
ADDRESSES = [private_key_to_address(k) for k in KEYS]
FAULTY = 3


def run(tmp_path, inject, ready=lambda driver: True) -> tuple[list[Blockchain], Bus, ValidatorSet]:
    """Four drivers; once they reach height 2 and `ready(driver 0)`, `inject(bus, height)` (on the
    loop); then until every chain holds the evidence in a final block and two more blocks after it.
    Returns the chains (still open) for the caller to check and close."""
    cfg = genesis_of(KEYS)
    bus, chains = drivers_on_bus(tmp_path, KEYS, cfg)

    def evidence_committed() -> bool:
        found = [EvidenceIndex(c.store.db).query(0, c.height, limit=10) for c in chains]
        return all(found) and all(c.height >= found[i][0].number + 2 for i, c in enumerate(chains))

    async def scenario():
        for d in bus.drivers:
            d.start()
        try:
            await wait_for(lambda: all(c.height >= 2 for c in chains) and bus.drivers[0].machine is not None
                           and ready(bus.drivers[0]))
            inject(bus, bus.drivers[0].height)
            await wait_for(lambda: bus.errors or evidence_committed())
        finally:
            for d in bus.drivers:
                d.stop()

    asyncio.run(scenario())
    assert not bus.errors, bus.errors
    return chains, bus, ValidatorSet.from_genesis(cfg.validators)


def committed_evidence(chains):
    """(number, block hash, records) of the one block holding evidence, the same on every chain."""
    found = [[(c.number, c.block_hash, c.records) for c in EvidenceIndex(chain.store.db).query(0, chain.height, limit=10)]
             for chain in chains]
    assert all(f == found[0] for f in found), found
    assert len(found[0]) == 1, found[0]
    return found[0][0]


def test_two_prevotes_for_one_round_are_committed_as_evidence_on_every_validator(tmp_path):
    def inject(bus, height):
        # The faulty key signs two different prevotes for one round of a coming height, bypassing its
        # guard; every driver gets both (they wait in the buffer until that height starts).
        target = height + 2
        for block_hash in (b"\x0a" * 32, b"\x0b" * 32):
            vote = Vote.create(CHAIN_ID, Step.PREVOTE, target, 0, block_hash, KEYS[FAULTY], ADDRESSES[FAULTY])
            for d in bus.drivers:
                d.receive_vote(vote)

    chains, bus, validators = run(tmp_path, inject)
    try:
        number, block_hash, records = committed_evidence(chains)
        (evidence,) = [decode_evidence(r) for r in records]
        assert isinstance(evidence, DuplicateVote)
        assert (evidence.validator, evidence.step, evidence.round) == (ADDRESSES[FAULTY], Step.PREVOTE, 0)
        assert evidence.first.signature != evidence.second.signature
        evidence.verify(CHAIN_ID, chains[0].validators_at(evidence.height))
        assert evidence.height < number
        for chain in chains:  # the final block's header commits to the evidence the index holds
            assert chain.store.get_canonical_hash(number) == block_hash
            assert chain.block_by_number(number).header.evidence_root == evidence_root(records)
        offence = offence_of(evidence)
        assert all(d.evidence.knows(offence) and len(d.evidence) == 0 for d in bus.drivers)  # committed, not pending
    finally:
        for chain in chains:
            chain.close()


def second_proposal(driver: ConsensusDriver, height: int) -> tuple[Proposal, Block]:
    """The proposer of (height, 0) signing a second, different block for its round."""
    proposer = driver.validators.proposer(height, 0)
    head = driver.chain.head
    other = Block(Header(head.hash, height, int(time.time()), proposer, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                         30_000_000, 0, 10**9, b"second"), ())
    return Proposal.create(CHAIN_ID, height, 0, other.hash, -1, KEYS[ADDRESSES.index(proposer)], proposer), other


def test_two_proposals_for_one_round_are_committed_as_evidence(tmp_path):
    def inject(bus, height):
        # Never executed by a driver that has the first one: it is evidence, not a candidate.
        second, other = second_proposal(bus.drivers[0], height)
        for d in bus.drivers:
            d.receive_proposal(second, other)

    chains, _, _ = run(tmp_path, inject)
    try:
        _, _, records = committed_evidence(chains)
        (evidence,) = [decode_evidence(r) for r in records]
        assert isinstance(evidence, DuplicateProposal)
        evidence.verify(CHAIN_ID, chains[0].validators_at(evidence.height))
    finally:
        for chain in chains:
            chain.close()


def test_a_second_proposal_arriving_by_gossip_is_evidence_not_a_candidate(tmp_path):
    """Through the node's gossip check: IGNOREd as a taken round (not relayed, not executed),
    handed to the driver, which finds another block there and gossips the evidence."""
    seen = {}

    def inject(bus, height):
        driver = bus.drivers[0]
        front = gossip_front(driver)
        data = encode_proposal(*second_proposal(driver, height))
        seen["verdict"] = front._validate_proposal(data, "peer")

    def proposal_taken(driver) -> bool:
        return driver.machine is not None and 0 in driver.machine.proposals

    chains, bus, _ = run(tmp_path, inject, ready=proposal_taken)
    try:
        assert seen["verdict"] is ValidationResult.IGNORE
        _, _, records = committed_evidence(chains)
        assert isinstance(decode_evidence(records[0]), DuplicateProposal)
        assert bus.evidence and isinstance(bus.evidence[0], DuplicateProposal)  # gossiped by driver 0
    finally:
        for chain in chains:
            chain.close()


def gossip_front(driver: ConsensusDriver) -> GossipNetwork:
    """The node's gossip checks in front of `driver`, without libp2p."""
    front = GossipNetwork(SimpleNamespace(subscribe=lambda *args: None, publish=lambda *args: None),
                          chain_id=CHAIN_ID, validators_at=driver.chain.validators_at)
    front.serve(driver)
    return front
