"""Sync rounds (`BlockSyncer.sync_once`, called directly: one call is one round) against fake peers.

What test_sync_eclipse leaves out: two honest peers, the work of one round split between peers at
different heads; a silent peer asked *first* (it claims the same head as the honest one, so the
round-robin picks it) that is benched while the same round goes on with the other; and a peer
serving a *forked* block (not the final one) under a certificate that fails each rule in its own
way, from which nothing is committed, and a response whose final prefix is kept before its forgery.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from sidechain.consensus.messages import CommitCertificate
from sidechain.storage.blockchain import Blockchain
from sidechain.sync.peers import MAX_BENCH_SECONDS, MAX_STRIKES
from sidechain.sync.protocol import (
    BLOCKS_PROTOCOL, MAX_BLOCKS, STATUS_PROTOCOL, PeerStatus, decode_blocks_request, encode_blocks_response,
)
from sidechain.sync.syncer import BlockSyncer

from sync_support import OUTSIDER_KEY, VALIDATOR, FakeNet, certificate, genesis, grow

HEAD = MAX_BLOCKS + 20
"""More than one range: the round must ask for blocks twice."""
START = 5
"""The node under test already has blocks 1..START (the same final ones)."""
SHORT = HEAD - 30
"""The head of the honest peer that is behind the other."""
PREFIX = 4
"""Final blocks the "prefix" forger serves before its forged one."""


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    full = grow(Blockchain.open(tmp_path_factory.mktemp("full"), genesis()), HEAD)
    short = grow(Blockchain.open(tmp_path_factory.mktemp("short"), genesis()), SHORT)
    yield full, short
    full.close()
    short.close()


class Node:
    """The node under test on `net`, START blocks in, with what it imported and rejected."""

    def __init__(self, tmp_path, net: FakeNet) -> None:
        self.net = net
        self.chain = grow(Blockchain.open(tmp_path / "node", genesis()), START)
        self.rejects: list[str] = []
        self.syncer = BlockSyncer(self.chain, net.endpoint("node"), self.chain.commit, on_reject=self.rejects.append)

    def round(self) -> None:
        asyncio.run(asyncio.wait_for(self.syncer.sync_once(), 20))

    def assert_on_the_final_chain(self, final: Blockchain) -> None:
        ours = [self.chain.block_hash(n) for n in range(1, self.chain.height + 1)]
        assert ours == [final.block_hash(n) for n in range(1, self.chain.height + 1)], "a block off the final chain was committed"


@pytest.fixture
def net() -> FakeNet:
    return FakeNet()


@pytest.fixture
def node(tmp_path, net):
    node = Node(tmp_path, net)
    yield node
    node.chain.close()


def serve(net: FakeNet, peer: str, chain: Blockchain) -> None:
    BlockSyncer(chain, net.endpoint(peer), lambda executed, cert: None)


def fake_peer(net: FakeNet, peer: str, head: int, genesis_hash: bytes, blocks) -> None:
    endpoint = net.endpoint(peer)

    async def status(data: bytes, _: str) -> bytes:
        return PeerStatus(head, b"\xee" * 32, genesis_hash).encode()

    async def serve_blocks(data: bytes, _: str) -> bytes:
        return encode_blocks_response(blocks(*decode_blocks_request(data)))

    endpoint.set_request_handler(STATUS_PROTOCOL, status)
    endpoint.set_request_handler(BLOCKS_PROTOCOL, serve_blocks)


def test_a_node_behind_two_honest_peers_reaches_their_head_in_one_round(net, node, chains):
    full, _ = chains
    serve(net, "honest-a", full)
    serve(net, "honest-b", full)
    node.round()
    assert node.chain.height == HEAD
    node.assert_on_the_final_chain(full)
    assert node.rejects == []
    assert not any(node.syncer.peer_book.benched(p) for p in ("honest-a", "honest-b"))
    assert node.syncer.highest_seen == HEAD and not node.syncer.syncing
    asked = net.requests[("honest-a", BLOCKS_PROTOCOL)] + net.requests[("honest-b", BLOCKS_PROTOCOL)]
    assert asked == 2, f"expected two ranges of {MAX_BLOCKS} fetched for {HEAD - START} blocks, got {asked} requests"
    node.round()  # at the head: a round asks for heads, never for blocks
    assert net.requests[("honest-a", BLOCKS_PROTOCOL)] + net.requests[("honest-b", BLOCKS_PROTOCOL)] == asked


def test_peers_at_different_heads_each_serve_up_to_their_own_head_in_the_same_round(net, node, chains):
    full, short = chains
    serve(net, "ahead", full)
    serve(net, "behind", short)
    node.round()
    assert node.chain.height == HEAD
    node.assert_on_the_final_chain(full)
    # The lowest claim is asked first, up to its head; the rest comes from the peer ahead.
    assert net.requests[("behind", BLOCKS_PROTOCOL)] == 1 and net.requests[("ahead", BLOCKS_PROTOCOL)] == 1
    assert node.rejects == [] and node.syncer.highest_seen == HEAD


@pytest.mark.parametrize("claim", [HEAD, 2**63], ids=["same-head-asked-first", "huge-head-asked-last"])
def test_a_peer_that_claims_a_head_and_returns_nothing_is_benched_and_the_node_syncs_from_the_other(net, node, chains, claim):
    full, _ = chains
    serve(net, "honest", full)
    fake_peer(net, "silent", claim, full.genesis_hash, lambda start, count: [])
    node.round()  # claiming HEAD, round one's round-robin (ids sorted, turn 1) asks it first; 2**63, last
    assert node.chain.height == HEAD
    node.assert_on_the_final_chain(full)
    assert net.requests[("silent", BLOCKS_PROTOCOL)] == 1, "the silent peer is asked once, then benched"
    assert node.rejects == ["undelivered-head"]
    assert node.syncer.peer_book.benched("silent") and node.syncer.highest_seen == HEAD
    node.round()  # benched: not even asked for its head
    assert net.requests[("silent", STATUS_PROTOCOL)] == 1 and net.requests[("silent", BLOCKS_PROTOCOL)] == 1


def forked_block(node: Blockchain):
    """A valid next block for `node` that is not the final one (another timestamp)."""
    return node.build_block(VALIDATOR, node.head.timestamp + 1000, []).block


def bad_certificate(kind: str, block, final: Blockchain) -> bytes:
    if kind == "outsider":  # signed by a key outside the validator set
        return certificate(block.number, block.hash, OUTSIDER_KEY)
    if kind == "other-block":  # the validator's real certificate, of the final block at that height
        return final.certificate(final.block_hash(block.number))
    if kind == "other-height":  # the validator's signature over this block, at another height
        return certificate(block.number + 1, block.hash)
    if kind == "no-signatures":
        return CommitCertificate(block.number, 0, block.hash, ()).encode()
    if kind == "signer-twice":
        [entry] = CommitCertificate.decode(certificate(block.number, block.hash)).signatures
        return CommitCertificate(block.number, 0, block.hash, (entry, entry)).encode()
    raise AssertionError(kind)


CERTIFICATE_KINDS = ["outsider", "other-block", "other-height", "no-signatures", "signer-twice"]


@pytest.mark.parametrize("kind", CERTIFICATE_KINDS)
def test_a_forked_block_under_a_bad_certificate_is_not_committed_and_its_peer_is_benched(net, node, chains, kind):
    full, _ = chains
    serve(net, "honest", full)
    fork = forked_block(node.chain)
    assert fork.hash != full.block_hash(START + 1)
    # It claims the honest head, so round one's round-robin (peers sorted by id, turn 1) asks it first.
    fake_peer(net, "mallory", HEAD, full.genesis_hash, lambda start, count: [(fork.encode(), bad_certificate(kind, fork, full))])
    node.round()
    assert net.requests[("mallory", BLOCKS_PROTOCOL)] == 1, "expected mallory asked first"
    assert node.rejects == ["bad-synced-block"]
    assert node.chain.height == HEAD and node.chain.block_hash(START + 1) == full.block_hash(START + 1)
    node.assert_on_the_final_chain(full)
    record = node.syncer.peer_book.get("mallory")
    assert record.strikes == MAX_STRIKES, "a forgery benches for the maximum at once"
    assert record.benched_until - time.monotonic() > MAX_BENCH_SECONDS - 10


def test_the_final_prefix_of_a_response_is_kept_and_the_forged_block_after_it_is_not(tmp_path, net, node, chains):
    full, _ = chains
    side = grow(Blockchain.open(tmp_path / "side", genesis()), START + PREFIX)
    fork = forked_block(side)  # a valid block START + PREFIX + 1, not the final one
    side.close()

    def blocks(start: int, count: int):
        prefix = [(full.block_by_number(n).encode(), full.certificate(full.block_hash(n))) for n in range(start, start + PREFIX)]
        return prefix + [(fork.encode(), certificate(fork.number, fork.hash, OUTSIDER_KEY))]

    fake_peer(net, "forger", HEAD, full.genesis_hash, blocks)
    node.round()
    assert node.chain.height == START + PREFIX, f"expected the {PREFIX} final blocks kept, got height {node.chain.height}"
    node.assert_on_the_final_chain(full)
    assert node.rejects == ["bad-synced-block"] and node.syncer.peer_book.benched("forger")
    assert node.syncer.highest_seen == START + PREFIX, "a forger's claim is never reported"
    serve(net, "honest", full)
    node.round()
    assert node.chain.height == HEAD
    node.assert_on_the_final_chain(full)
