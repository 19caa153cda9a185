"""Compact proposals (consensus/gossip.py) and the transaction fetch that completes them
(mempool/fetch.py): a proposal names its block's transactions by hash; what the node lacks it asks
of the proposal's origin, then of other peers, checks each answer, and delivers the whole block, or
IGNOREs the proposal (neither relayed nor delivered) when no peer gives them."""

from __future__ import annotations

import asyncio

import pytest
import rlp

from sidechain.chain.blocks import ZERO_HASH, Block, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.transactions import decode_transaction
from sidechain.consensus.gossip import TOPIC_PROPOSALS, encode_proposal
from sidechain.consensus.messages import Proposal
from sidechain.errors import MempoolError
from sidechain.mempool.fetch import MAX_FETCH, TXS_PROTOCOL, TransactionFetcher
from sidechain.node.network import TRANSACTIONS_UNAVAILABLE, GossipNetwork
from sidechain.p2p import ValidationResult

from gossip_support import ADDRESSES, CHAIN_ID, GAS_LIMIT, HEIGHT, KEYS, VALIDATORS, FakeInbox, LinkedP2P, signed


TXS = [decode_transaction(signed(n, gas=30_000, data=b"\x01" * 200), CHAIN_ID) for n in range(3)]
PROPOSER = VALIDATORS.proposer(HEIGHT, 0)
BLOCK = Block(Header(b"\x11" * 32, HEIGHT, 1_700_000_000, PROPOSER, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                     GAS_LIMIT, 0, 1, b""), tuple(TXS))
PROPOSAL = Proposal.create(CHAIN_ID, HEIGHT, 0, BLOCK.hash, -1, KEYS[ADDRESSES.index(PROPOSER)], PROPOSER)
DATA = encode_proposal(PROPOSAL, BLOCK)


class Net:
    """The node under test and the peers it may ask, each serving transactions from a dict."""

    def __init__(self, node_has=(), validators_at=lambda height: VALIDATORS, **peers) -> None:
        self.links: dict = {}
        self.p2p, self.inbox = LinkedP2P("node", self.links), FakeInbox()
        pool = {tx.hash: tx for tx in node_has}
        self.asked: dict[str, list[list[bytes]]] = {}
        for name, holds in peers.items():
            if callable(holds):  # a peer answering its own way
                LinkedP2P(name, self.links).set_request_handler(TXS_PROTOCOL, holds)
                continue
            have = {tx.hash: tx for tx in holds}
            TransactionFetcher(LinkedP2P(name, self.links), chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, known=have.get)
        self.fetched: list[tuple[int, int]] = []
        fetcher = TransactionFetcher(self.p2p, chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, known=pool.get,
                                     on_fetched=lambda wanted, found: self.fetched.append((wanted, found)))
        self.rejected: list = []
        self.network = GossipNetwork(self.p2p, chain_id=CHAIN_ID, validators_at=validators_at, known=pool.get,
                                     fetch=fetcher.fetch, on_rejected=lambda *a: self.rejected.append(a))
        self.network.serve(self.inbox)

    def deliver(self, data: bytes = DATA, origin: str = "proposer") -> ValidationResult:
        return asyncio.run(asyncio.wait_for(self.p2p.deliver(TOPIC_PROPOSALS, data, peer=origin), 10))

    def delivered_block(self) -> Block:
        [(kind, proposal, block, verified)] = self.inbox.got
        assert (kind, proposal, verified) == ("proposal", PROPOSAL, True)
        return block


def test_a_proposal_names_its_transactions_by_hash():
    _, header_fields, hashes, evidence = rlp.decode(DATA)
    assert hashes == [tx.hash for tx in TXS] and evidence == []
    assert len(DATA) <= len(PROPOSAL.encode()) + len(BLOCK.header.encode()) + 33 * len(TXS) + 16  # no transaction bodies


def test_a_proposal_whose_transactions_the_node_holds_is_delivered_without_asking():
    net = Net(node_has=TXS, proposer=TXS)
    assert net.deliver() is ValidationResult.ACCEPT
    assert net.p2p.requests == [] and net.fetched == []
    assert all(a is b for a, b in zip(net.delivered_block().transactions, TXS))


def test_the_missing_transactions_are_fetched_from_the_origin_and_the_whole_block_delivered():
    asked = []
    holds = {tx.hash: tx for tx in TXS}

    async def proposer(data: bytes, peer: str) -> bytes:
        asked.append(rlp.decode(data))
        return rlp.encode([holds[h].raw for h in rlp.decode(data)])

    net = Net(node_has=TXS[:1], proposer=proposer)
    assert net.deliver() is ValidationResult.ACCEPT
    assert asked == [[TXS[1].hash, TXS[2].hash]]  # only what the node lacks
    assert net.fetched == [(2, 2)]  # one fetch, counted: two asked, two found
    block = net.delivered_block()
    assert block.hash == BLOCK.hash and block.encode() == BLOCK.encode()
    assert [tx.sender for tx in block.transactions] == [tx.sender for tx in TXS]


def test_a_peer_that_withholds_or_answers_other_transactions_is_passed_over_for_the_next():
    async def liar(data: bytes, peer: str) -> bytes:  # valid transactions, but not the ones asked
        return rlp.encode([signed(100 + i) for i, _ in enumerate(rlp.decode(data))])

    net = Net(proposer=(), liar=liar, honest=TXS)
    assert net.deliver() is ValidationResult.ACCEPT
    assert [peer for peer, _ in net.p2p.requests] == ["proposer", "liar", "honest"]
    assert net.delivered_block().encode() == BLOCK.encode()


def test_a_proposal_no_peer_completes_is_ignored_and_not_delivered():
    net = Net(node_has=TXS[:2], proposer=(), other=TXS[:1])
    assert net.deliver() is ValidationResult.IGNORE
    assert net.inbox.got == [] and net.rejected == [(TOPIC_PROPOSALS, TRANSACTIONS_UNAVAILABLE, "ignore")]
    assert [peer for peer, _ in net.p2p.requests] == ["proposer", "other"]
    assert net.fetched == [(1, 0)]


def test_a_proposal_whose_proposer_cannot_be_checked_yet_makes_the_node_ask_no_one():
    net = Net(validators_at=lambda height: None, proposer=TXS)
    assert net.deliver() is ValidationResult.IGNORE
    assert net.p2p.requests == [] and net.inbox.got == []
    assert net.rejected == [(TOPIC_PROPOSALS, TRANSACTIONS_UNAVAILABLE, "ignore")]


def test_the_fetcher_answers_what_it_holds_and_refuses_a_malformed_request():
    links: dict = {}
    holds = {TXS[0].hash: TXS[0]}
    TransactionFetcher(LinkedP2P("server", links), chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, known=holds.get)
    client = LinkedP2P("client", links)

    def ask(data: bytes) -> bytes:
        return asyncio.run(client.request("server", TXS_PROTOCOL, data))

    assert rlp.decode(ask(rlp.encode([TXS[0].hash, TXS[1].hash]))) == [TXS[0].raw, b""]
    for bad in (b"\x01\x02", rlp.encode([b"\x01" * 31]), rlp.encode([[TXS[0].hash]]), rlp.encode([TXS[0].hash] * (MAX_FETCH + 1))):
        with pytest.raises(MempoolError, match="malformed transaction request"):
            ask(bad)
