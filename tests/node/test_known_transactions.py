"""A transaction reaches a validator in a proposal's block (fetched by hash from the proposer when
the node lacks it) and in a peer's batch, in either order: its sender is recovered once, whichever
copy comes first (sidechain/mempool/known.py), and a batch copy of a transaction already final is
not pooled again. A proposal right behind its transactions' batch (a proposer publishes what it
holds first) takes them from the batch's check, not from a fetch."""

from __future__ import annotations

import asyncio

import pytest
import rlp

import sidechain.chain.transactions as transactions
from sidechain.chain.blocks import ZERO_HASH, Block, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.transactions import decode_transaction
from sidechain.consensus.gossip import TOPIC_PROPOSALS, encode_proposal
from sidechain.consensus.messages import Proposal
from sidechain.mempool.fetch import TXS_PROTOCOL, TransactionFetcher
from sidechain.mempool.gossip import TOPIC_TRANSACTIONS, TransactionGossip
from sidechain.mempool.known import KnownTransactions
from sidechain.node.network import GossipNetwork
from sidechain.p2p import ValidationResult

from gossip_support import ADDRESSES, CHAIN_ID, GAS_LIMIT, HEIGHT, KEYS, VALIDATORS, FakeInbox, LinkedP2P, signed


RAWS = [signed(n) for n in range(4)]


def proposal_parts(raws: list[bytes]) -> tuple[Proposal, Block]:
    proposer = VALIDATORS.proposer(HEIGHT, 0)
    txs = tuple(decode_transaction(raw, CHAIN_ID) for raw in raws)
    block = Block(Header(b"\x11" * 32, HEIGHT, 1_700_000_000, proposer, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                         GAS_LIMIT, 0, 1, b""), txs)
    return Proposal.create(CHAIN_ID, HEIGHT, 0, block.hash, -1, KEYS[ADDRESSES.index(proposer)], proposer), block


def proposal_bytes(raws: list[bytes]) -> bytes:
    return encode_proposal(*proposal_parts(raws))


PROPOSAL = proposal_bytes(RAWS[:3])
"""A proposal whose block holds the first three transactions (made before any recovery is counted)."""
FINAL = [decode_transaction(raw, CHAIN_ID) for raw in RAWS[:2]]


class Validator:
    """One node's gossip wiring around one KnownTransactions, over a pool that is a dict; the
    proposal's origin ("proposer") holds every transaction of RAWS."""

    def __init__(self) -> None:
        self.pool: dict[bytes, object] = {}
        self.known = KnownTransactions(self.pool.get)
        links: dict = {}
        self.p2p, self.inbox = LinkedP2P("node", links), FakeInbox()
        proposer_pool = {tx.hash: tx for tx in (decode_transaction(raw, CHAIN_ID) for raw in RAWS)}
        TransactionFetcher(LinkedP2P("proposer", links), chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, known=proposer_pool.get)
        fetcher = TransactionFetcher(self.p2p, chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, known=self.known.get)
        self.admitted: list = []
        self.tx_gossip = TransactionGossip(self.p2p, chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, is_known=self.known.is_settled,
                                           decoded=self.known.get, saw=self.known.saw, admit=self.admit)
        self.network = GossipNetwork(self.p2p, chain_id=CHAIN_ID, validators_at=lambda height: VALIDATORS,
                                     known=self.known.get, saw=self.known.saw, fetch=fetcher.fetch,
                                     batches_checked=self.tx_gossip.batches_checked, before_proposal=self.tx_gossip.flush)
        self.network.serve(self.inbox)

    def admit(self, tx) -> None:
        self.admitted.append(tx)
        self.pool[tx.hash] = tx

    def deliver(self, topic: str, data: bytes) -> ValidationResult:
        return asyncio.run(asyncio.wait_for(self.p2p.deliver(topic, data, peer="proposer"), 10))


@pytest.fixture
def node():
    node = Validator()
    yield node
    asyncio.run(node.tx_gossip.stop())


@pytest.fixture
def recoveries(monkeypatch):
    """Every sender recovery made while decoding transactions: each transaction through the native
    decoder, and each recovery of the Python one (which only sees what the native one refused)."""
    made = []
    native, python = transactions._decode_natively, transactions.recover_address

    def counting_native(raws, chain_id):
        made.extend(raws)
        return native(raws, chain_id)

    def counting_python(*args):
        made.append(args)
        return python(*args)

    monkeypatch.setattr(transactions, "_decode_natively", counting_native)
    monkeypatch.setattr(transactions, "recover_address", counting_python)
    return made


def test_a_batch_after_the_proposal_takes_the_transactions_the_block_fetched(node, recoveries):
    assert node.deliver(TOPIC_PROPOSALS, PROPOSAL) is ValidationResult.ACCEPT
    assert node.p2p.requests == [("proposer", TXS_PROTOCOL)] and len(recoveries) == 3
    [(_, _, block, _)] = node.inbox.got
    assert node.deliver(TOPIC_TRANSACTIONS, rlp.encode(RAWS)) is ValidationResult.ACCEPT
    assert len(recoveries) == 4  # only the one the block did not hold
    assert [tx.raw for tx in node.admitted] == RAWS
    assert all(a is b for a, b in zip(node.admitted, block.transactions))  # the very objects decoded


def test_a_proposal_after_the_batch_takes_the_pooled_transactions(node, recoveries):
    assert node.deliver(TOPIC_TRANSACTIONS, rlp.encode(RAWS[:2])) is ValidationResult.ACCEPT
    assert node.deliver(TOPIC_PROPOSALS, PROPOSAL) is ValidationResult.ACCEPT
    assert len(recoveries) == 3 and node.p2p.requests == [("proposer", TXS_PROTOCOL)]  # only the third fetched
    [(_, _, block, _)] = node.inbox.got
    assert block.transactions[0] is node.pool[block.transactions[0].hash]


def test_a_batch_of_transactions_already_final_is_ignored_and_pools_nothing(node, recoveries):
    node.known.committed(FINAL)
    assert node.deliver(TOPIC_TRANSACTIONS, rlp.encode(RAWS[:2])) is ValidationResult.IGNORE
    assert node.admitted == [] and recoveries == []


def test_known_transactions_answer_the_pool_first_and_forget_the_oldest_beyond_capacity():
    pool = {}
    known = KnownTransactions(pool.get, capacity=3)
    txs = [decode_transaction(raw, CHAIN_ID) for raw in RAWS]
    known.saw(txs[:3])
    assert [known.get(tx.hash) for tx in txs[:3]] == txs[:3] and known.get(txs[3].hash) is None
    assert not any(known.is_settled(tx.hash) for tx in txs[:3])  # seen in a block that may not be final
    pool[txs[3].hash] = txs[3]
    assert known.get(txs[3].hash) is txs[3] and known.is_settled(txs[3].hash)
    known.committed([txs[1]])
    assert known.is_settled(txs[1].hash)
    known.saw([txs[3]])  # over capacity: the oldest (txs[0]) goes; txs[1] was refreshed by its commit
    assert len(known) == 3 and known.get(txs[0].hash) is None and known.is_settled(txs[1].hash)


def test_a_proposal_between_a_batch_check_and_its_delivery_takes_the_checked_transactions(node, recoveries):
    # the batch is checked (validated) but not delivered yet: pubsub holds it behind its origin's
    # earlier messages; the proposal arriving meanwhile must not fetch what the check verified
    validator, _handler = node.p2p.topics[TOPIC_TRANSACTIONS]
    verdict = asyncio.run(asyncio.wait_for(validator(rlp.encode(RAWS[:3]), "proposer"), 10))
    assert verdict is ValidationResult.ACCEPT and node.admitted == []

    assert node.deliver(TOPIC_PROPOSALS, PROPOSAL) is ValidationResult.ACCEPT
    assert node.p2p.requests == [] and len(recoveries) == 3  # nothing fetched, nothing recovered twice
    [(_, _, block, _)] = node.inbox.got
    assert [tx.raw for tx in block.transactions] == RAWS[:3]


def test_a_proposal_right_behind_its_batch_waits_for_the_batch_check_instead_of_fetching(node, recoveries):
    async def both():
        # the batch's check is on the worker thread when the proposal is validated
        return await asyncio.gather(node.p2p.deliver(TOPIC_TRANSACTIONS, rlp.encode(RAWS[:3]), peer="proposer"),
                                    node.p2p.deliver(TOPIC_PROPOSALS, PROPOSAL, peer="proposer"))

    assert asyncio.run(asyncio.wait_for(both(), 10)) == [ValidationResult.ACCEPT, ValidationResult.ACCEPT]
    assert node.p2p.requests == [] and len(recoveries) == 3
    [(_, _, block, _)] = node.inbox.got
    assert [tx.raw for tx in block.transactions] == RAWS[:3]


def test_our_own_proposal_goes_out_after_the_transactions_we_hold(node):
    for raw in RAWS[:2]:
        node.tx_gossip.announce_transaction(decode_transaction(raw, CHAIN_ID))
    proposal, block = proposal_parts(RAWS[:3])

    node.network.broadcast_proposal(proposal, block)

    assert [topic for topic, _ in node.p2p.published] == [TOPIC_TRANSACTIONS, TOPIC_PROPOSALS]
    assert rlp.decode(node.p2p.published[0][1]) == RAWS[:2]
