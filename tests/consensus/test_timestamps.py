"""Proposer-based timestamps with four drivers on real LevelDB stores, wired by an in-memory network
in one event loop: a proposer whose clock runs an hour ahead gets nil prevotes and the next proposer's
block is final; a validator whose clock runs behind still decides the blocks the others certify; a
synced block is imported whatever its time says."""

from __future__ import annotations

import asyncio
import time

import pytest
from driver_bus import CHAIN_ID, Bus, genesis
from waiting import wait_for

from sidechain.chain.blocks import ZERO_HASH, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.validation import MAX_FUTURE_SECONDS, validate_timestamp_not_ahead
from sidechain.errors import InvalidBlock
from sidechain.consensus.driver import ConsensusDriver
from sidechain.consensus.messages import NIL, CommitCertificate, Step, ValidatorSet
from sidechain.consensus.timeouts import Timeouts
from sidechain.consensus.signer import Signer
from sidechain.consensus.wal import WriteAheadLog
from sidechain.crypto import private_key_to_address
from sidechain.mempool.pool import Mempool
from sidechain.storage.blockchain import Blockchain

KEYS = [bytes([0x40 + i]) * 32 for i in range(4)]
HOUR = 3600.0


def test_the_rule_takes_the_clock_reading_and_allows_a_few_seconds_ahead():
    def header(timestamp):
        return Header(b"\x11" * 32, 1, timestamp, b"\x01" * 20, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                      30_000_000, 0, 1, b"")

    now = 1_700_000_000.25
    for timestamp in (0, 1_700_000_000, 1_700_000_005):
        validate_timestamp_not_ahead(header(timestamp), now)
    with pytest.raises(InvalidBlock, match="ahead of this validator's clock"):
        validate_timestamp_not_ahead(header(1_700_000_006), now)
    with pytest.raises(InvalidBlock):
        validate_timestamp_not_ahead(header(1_700_003_600), now)


def run_network(tmp_path, offsets: dict[bytes, float], until_height: int):
    """Four validators, validator `a` with its clock `offsets[a]` seconds off, until every chain has
    `until_height` blocks; returns the bus and the (closed) chains' blocks and certificates."""
    cfg = genesis(KEYS)
    bus = Bus()
    chains = [Blockchain.open(tmp_path / f"v{i}", cfg) for i in range(len(KEYS))]
    for i, key in enumerate(KEYS):
        offset = offsets.get(private_key_to_address(key), 0.0)
        bus.drivers.append(ConsensusDriver(
            chains[i], Mempool(), Signer(key, CHAIN_ID, tmp_path / f"signer{i}.json"),
            WriteAheadLog(tmp_path / f"wal{i}", CHAIN_ID), network=bus.endpoint(i),
            timeouts=Timeouts(propose=0.5, vote=0.2, delta=0.2), block_time=0.1,
            clock=lambda offset=offset: time.time() + offset))

    async def scenario():
        for driver in bus.drivers:
            driver.start()
        try:
            await wait_for(lambda: bus.errors or all(c.height >= until_height for c in chains))
        finally:
            for driver in bus.drivers:
                driver.stop()

    try:
        asyncio.run(scenario())
        assert not bus.errors, bus.errors
        blocks = [[c.block_by_number(n) for n in range(1, until_height + 1)] for c in chains]
        certificates = [CommitCertificate.decode(chains[0].store.get_certificate(b.hash)) for b in blocks[0]]
        validators = chains[0].validators_at(1)
    finally:
        for chain in chains:
            chain.close()
    for certificate, block in zip(certificates, blocks[0]):
        certificate.verify(CHAIN_ID, validators, block.number, block.hash)
    assert all(chain_blocks == blocks[0] for chain_blocks in blocks), "the validators disagree"
    return bus, blocks[0], certificates, validators


def test_a_proposal_an_hour_ahead_gets_nil_prevotes_and_the_next_proposers_block_is_final(tmp_path):
    faulty = ValidatorSet.from_genesis(genesis(KEYS).validators).proposer(1, 0)
    started = time.time()

    bus, blocks, certificates, vset = run_network(tmp_path, {faulty: HOUR}, until_height=6)

    ahead = [(p, b) for p, b in bus.proposals if p.proposer == faulty and p.pol_round == -1]
    assert ahead and all(b.header.timestamp >= started + HOUR - 1 for _, b in ahead)
    refused = {b.hash for _, b in ahead}
    for proposal, _ in ahead:  # every honest validator prevoted nil on each of them
        prevotes = {v.validator: v.block_hash for v in bus.votes
                    if (v.height, v.round, v.step) == (proposal.height, proposal.round, Step.PREVOTE)}
        assert {prevotes[a] for a in vset.addresses if a != faulty} == {NIL}, proposal
    assert blocks[0].header.proposer == vset.proposer(1, 1) != faulty  # the next proposer's block
    assert certificates[0].round == 1
    assert not refused & {b.hash for b in blocks}
    assert all(b.header.proposer != faulty for b in blocks)
    assert all(b.header.timestamp <= time.time() + MAX_FUTURE_SECONDS for b in blocks)  # the chain's time is now's


def test_a_validator_whose_clock_is_behind_still_decides_what_the_others_certify(tmp_path):
    """Timeliness only steers a fresh prevote: a block >2/3 prevoted and precommitted is decided
    even by a validator that found it too far ahead (otherwise it would stall at that height)."""
    slow = ValidatorSet.from_genesis(genesis(KEYS).validators).proposer(4, 0)  # proposes after the blocks checked

    bus, blocks, _, vset = run_network(tmp_path, {slow: -HOUR}, until_height=3)

    others = [b for b in blocks if b.header.proposer != slow]
    assert others
    for block in others:  # the slow one voted nil on each, and committed it all the same
        prevote = next(v for v in bus.votes if v.validator == slow and v.height == block.number
                       and v.step == Step.PREVOTE and v.round == 0)
        assert prevote.block_hash == NIL


def test_a_synced_block_is_imported_whatever_its_timestamp(tmp_path):
    """A block certified by >2/3 comes through sync final: its time is not judged again."""
    key = KEYS[0]
    cfg = genesis([key])
    source = Blockchain.open(tmp_path / "source", cfg)
    follower = Blockchain.open(tmp_path / "follower", cfg)
    try:
        ahead = ConsensusDriver(source, Mempool(), Signer(key, CHAIN_ID, tmp_path / "signer.json"),
                                WriteAheadLog(tmp_path / "wal-source", CHAIN_ID), timeouts=Timeouts(propose=0.2, vote=0.1),
                                block_time=0.05, clock=lambda: time.time() + HOUR)
        observer = ConsensusDriver(follower, Mempool(), None, WriteAheadLog(tmp_path / "wal-follower", CHAIN_ID))

        async def scenario():
            ahead.start()
            try:
                await wait_for(lambda: source.height >= 1)
            finally:
                ahead.stop()
            block = source.block_by_number(1)
            assert block.header.timestamp > time.time() + HOUR - 5
            observer.start()
            try:
                observer.import_synced(follower.execute_block(block), source.store.get_certificate(block.hash))
                await wait_for(lambda: observer.height == 2)
            finally:
                observer.stop()

        asyncio.run(scenario())
        assert follower.height == 1 and follower.block_by_number(1) == source.block_by_number(1)
    finally:
        source.close()
        follower.close()
