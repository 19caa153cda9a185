"""A block carrying evidence syncs like any other: the serving node reattaches the evidence its
store keeps apart (storage/evidence.py), the follower checks the header's evidence root and the
certificate, commits the same block hash and indexes the same evidence."""

from __future__ import annotations

import asyncio
import dataclasses

from sidechain.consensus.driver import ConsensusDriver
from sidechain.consensus.evidence import DuplicateVote, offence_of
from sidechain.consensus.messages import Step, Vote
from sidechain.consensus.wal import WriteAheadLog
from sidechain.mempool.pool import Mempool
from sidechain.storage.blockchain import Blockchain
from sidechain.storage.evidence import EvidenceIndex, IndexEntry
from sidechain.sync.syncer import BlockSyncer

from sync_support import CHAIN_ID, VALIDATOR, VALIDATOR_KEY, FakeNet, certificate, genesis, grow
from waiting import wait_for


def commit_with_evidence(chain: Blockchain) -> int:
    """A final block holding the validator's own double prevote of the height before it."""
    height = chain.height
    evidence = DuplicateVote.of(*(Vote.create(CHAIN_ID, Step.PREVOTE, height, 0, h, VALIDATOR_KEY, VALIDATOR)
                                  for h in (b"\x01" * 32, b"\x02" * 32)))
    executed = chain.build_block(VALIDATOR, chain.genesis.timestamp + height + 1, [])
    executed = dataclasses.replace(executed, block=executed.block.with_evidence((evidence.encode(),)))
    EvidenceIndex(chain.store.db).record(executed.block.number, executed.block.hash,
                                         [IndexEntry(evidence.encode(), offence_of(evidence), VALIDATOR)])
    chain.commit(executed, certificate(executed.block.number, executed.block.hash))
    return executed.block.number


def test_a_block_with_evidence_syncs_with_its_evidence(tmp_path):
    source = grow(Blockchain.open(tmp_path / "source", genesis()), 3)
    number = commit_with_evidence(source)
    grow(source, number + 3)
    follower = Blockchain.open(tmp_path / "follower", genesis())
    net = FakeNet()
    BlockSyncer(source, net.endpoint("source"), lambda executed, cert: None)  # serves the source's blocks
    driver = ConsensusDriver(follower, Mempool(), None, WriteAheadLog(tmp_path / "wal", CHAIN_ID))
    syncer = BlockSyncer(follower, net.endpoint("follower"), driver.import_synced, poll_interval=0.05)

    async def scenario():
        syncer.start()
        try:
            await wait_for(lambda: follower.height >= source.height, 10, "the follower at the source's head")
        finally:
            await syncer.stop()
            driver.stop()

    try:
        asyncio.run(scenario())
        assert follower.block_hash(number) == source.block_hash(number)
        assert follower.header_by_number(number).evidence_root
        theirs, ours = EvidenceIndex(source.store.db), EvidenceIndex(follower.store.db)
        assert ours.query(0, follower.height, limit=10) == theirs.query(0, source.height, limit=10) != []
    finally:
        source.close()
        follower.close()
