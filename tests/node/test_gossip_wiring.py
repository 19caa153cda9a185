"""The node's gossip wiring on a fake p2p service: what a peer's consensus message or transaction
batch gets as a verdict, what reaches the consensus inbox or the pool, which callback the node hears
(on_rejected, on_behind, on_vote_delay), and that what this node broadcasts decodes back on the
right topic. Real keys, real message constructors; no processes, no sockets."""

from __future__ import annotations

import asyncio

import pytest
import rlp

from sidechain.chain.blocks import ZERO_HASH, Block, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.transactions import decode_transaction
from sidechain.consensus.evidence import DuplicateVote
from sidechain.consensus.gossip import (
    FUTURE_HEIGHTS, ROUND_TAKEN, TOPIC_EVIDENCE, TOPIC_PROPOSALS, TOPIC_VOTES, UNKNOWN_VALIDATOR_SET,
)
from sidechain.consensus.messages import Proposal, Step, Vote
from sidechain.crypto import private_key_to_address
from sidechain.devkeys import anvil_private_key
from sidechain.errors import MempoolError
from sidechain.mempool.gossip import TOPIC_TRANSACTIONS, TransactionGossip
from sidechain.node.network import GossipNetwork
from sidechain.p2p import ValidationResult

from gossip_support import ADDRESSES, CHAIN_ID, GAS_LIMIT, HEIGHT, KEYS, VALIDATORS, FakeInbox, FakeP2P, signed
from waiting import wait_for

OUTSIDER_KEY = anvil_private_key(1)
HASH = b"\x42" * 32


class Wired:
    """A GossipNetwork serving a FakeInbox over a FakeP2P, its callbacks recorded."""

    def __init__(self, validators_at=lambda height: VALIDATORS) -> None:
        self.p2p, self.inbox = FakeP2P(), FakeInbox()
        self.rejected: list[tuple[str, str, str]] = []
        self.behind: list[None] = []
        self.delays: list[float] = []
        self.gossip = GossipNetwork(self.p2p, chain_id=CHAIN_ID, validators_at=validators_at,
                                    on_rejected=lambda *a: self.rejected.append(a),
                                    on_behind=lambda: self.behind.append(None), on_vote_delay=self.delays.append)
        self.gossip.serve(self.inbox)

    def deliver(self, topic: str, data: bytes) -> ValidationResult:
        return asyncio.run(self.p2p.deliver(topic, data))


def vote(height: int = HEIGHT, signer: int = 0, key: bytes | None = None) -> Vote:
    return Vote.create(CHAIN_ID, Step.PREVOTE, height, 0, HASH, key or KEYS[signer], ADDRESSES[signer])


def proposal_and_block(height: int = HEIGHT, round_: int = 0) -> tuple[Proposal, Block]:
    proposer = VALIDATORS.proposer(height, round_)
    block = Block(Header(b"\x11" * 32, height, 1_700_000_000, proposer, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                         GAS_LIMIT, 0, 1, b""), ())
    key = KEYS[ADDRESSES.index(proposer)]
    return Proposal.create(CHAIN_ID, height, round_, block.hash, -1, key, proposer), block


def test_serve_subscribes_the_three_consensus_topics():
    assert set(Wired().p2p.topics) == {TOPIC_PROPOSALS, TOPIC_VOTES, TOPIC_EVIDENCE}


def test_a_validators_vote_is_accepted_and_reaches_the_inbox_verified():
    wired, v = Wired(), vote()
    assert wired.deliver(TOPIC_VOTES, v.encode()) is ValidationResult.ACCEPT
    assert wired.inbox.got == [("vote", v, True)]
    assert wired.rejected == [] and wired.behind == []
    assert len(wired.delays) == 1 and 0.5 <= wired.delays[0] < 30, f"vote delay from height start: {wired.delays}"


@pytest.mark.parametrize("v, reason", [
    (Vote.create(CHAIN_ID, Step.PREVOTE, HEIGHT, 0, HASH, OUTSIDER_KEY, private_key_to_address(OUTSIDER_KEY)),
     "vote-from-non-validator"),
    (Vote.create(CHAIN_ID, Step.PREVOTE, HEIGHT, 0, HASH, OUTSIDER_KEY, ADDRESSES[0]), "vote-bad-signature"),
    (Vote.create(CHAIN_ID + 1, Step.PREVOTE, HEIGHT, 0, HASH, KEYS[0], ADDRESSES[0]), "vote-bad-signature"),
], ids=["non-validator", "forged-signature", "other-chain"])
def test_a_vote_from_a_non_validator_or_badly_signed_is_rejected_with_the_reason(v, reason):
    wired = Wired()
    assert wired.deliver(TOPIC_VOTES, v.encode()) is ValidationResult.REJECT
    assert wired.rejected == [(TOPIC_VOTES, reason, "reject")]
    assert wired.inbox.got == [] and wired.behind == [] and wired.delays == []


def test_a_malformed_vote_is_rejected():
    wired = Wired()
    assert wired.deliver(TOPIC_VOTES, b"\xc3\x01\x02\x03") is ValidationResult.REJECT
    assert wired.rejected == [(TOPIC_VOTES, "malformed-vote", "reject")] and wired.inbox.got == []


def test_a_vote_beyond_the_future_window_is_ignored_and_wakes_the_syncer():
    wired = Wired()
    assert wired.deliver(TOPIC_VOTES, vote(HEIGHT + FUTURE_HEIGHTS + 1).encode()) is ValidationResult.IGNORE
    assert wired.rejected == [(TOPIC_VOTES, "future-height", "ignore")]
    assert wired.behind == [None] and wired.inbox.got == []


def test_a_vote_inside_the_future_window_is_accepted_and_also_wakes_the_syncer():
    wired, v = Wired(), vote(HEIGHT + FUTURE_HEIGHTS)
    assert wired.deliver(TOPIC_VOTES, v.encode()) is ValidationResult.ACCEPT
    assert wired.behind == [None] and wired.inbox.got == [("vote", v, True)]
    assert wired.delays == []  # timed against this height's start, it would read as a late vote


def test_a_stale_vote_is_ignored_without_waking_the_syncer():
    wired = Wired()
    assert wired.deliver(TOPIC_VOTES, vote(HEIGHT - 1).encode()) is ValidationResult.IGNORE
    assert wired.rejected == [(TOPIC_VOTES, "stale-height", "ignore")] and wired.behind == [] and wired.inbox.got == []


def test_a_vote_of_an_undecided_validator_set_goes_to_the_inbox_unverified_and_is_not_relayed():
    wired, v = Wired(validators_at=lambda height: VALIDATORS if height <= HEIGHT else None), vote(HEIGHT + 1)
    assert wired.deliver(TOPIC_VOTES, v.encode()) is ValidationResult.IGNORE
    assert wired.rejected == [(TOPIC_VOTES, UNKNOWN_VALIDATOR_SET, "ignore")]
    assert wired.inbox.got == [("vote", v, False)]


def test_a_proposal_from_the_proposer_reaches_the_inbox_with_its_block_verified():
    wired, (proposal, block) = Wired(), proposal_and_block()
    sender = Wired()
    sender.gossip.broadcast_proposal(proposal, block)
    [(topic, data)] = sender.p2p.published
    assert topic == TOPIC_PROPOSALS
    assert wired.deliver(topic, data) is ValidationResult.ACCEPT
    [(kind, got_proposal, got_block, verified)] = wired.inbox.got
    assert (kind, got_proposal, got_block.hash, verified) == ("proposal", proposal, block.hash, True)
    assert got_block.encode() == block.encode()


def test_a_proposal_by_someone_else_than_the_proposer_is_rejected():
    wired, (proposal, block) = Wired(), proposal_and_block()
    other = next(i for i, a in enumerate(ADDRESSES) if a != proposal.proposer)
    wrong = Proposal.create(CHAIN_ID, HEIGHT, 0, block.hash, -1, KEYS[other], ADDRESSES[other])
    sender = Wired()
    sender.gossip.broadcast_proposal(wrong, block)
    assert wired.deliver(TOPIC_PROPOSALS, sender.p2p.published[0][1]) is ValidationResult.REJECT
    assert wired.rejected == [(TOPIC_PROPOSALS, "wrong-proposer", "reject")] and wired.inbox.got == []


def test_a_second_proposal_for_a_taken_round_goes_to_the_inbox_as_a_possible_equivocation():
    wired, (proposal, block) = Wired(), proposal_and_block()
    wired.inbox.refuse = ROUND_TAKEN
    sender = Wired()
    sender.gossip.broadcast_proposal(proposal, block)
    assert wired.deliver(TOPIC_PROPOSALS, sender.p2p.published[0][1]) is ValidationResult.IGNORE
    assert wired.inbox.got == [("duplicate", proposal)]


def test_broadcast_vote_and_evidence_publish_on_their_topics_bytes_that_decode_back():
    wired, v = Wired(), vote()
    other = Vote.create(CHAIN_ID, Step.PREVOTE, HEIGHT, 0, b"\x43" * 32, KEYS[0], ADDRESSES[0])
    evidence = DuplicateVote.of(v, other)
    wired.gossip.broadcast_vote(v)
    wired.gossip.broadcast_evidence(evidence)
    [(vote_topic, vote_bytes), (evidence_topic, evidence_bytes)] = wired.p2p.published
    assert (vote_topic, Vote.decode(vote_bytes)) == (TOPIC_VOTES, v)
    assert evidence_topic == TOPIC_EVIDENCE and evidence_bytes == evidence.encode()
    peer = Wired()  # a peer takes the double vote in as evidence
    assert peer.deliver(TOPIC_EVIDENCE, evidence_bytes) is ValidationResult.ACCEPT
    assert [kind for kind, *_ in peer.inbox.got] == ["evidence"]


# --- transactions (mempool/gossip.py) ---------------------------------------------------------------


RAWS = [signed(n) for n in range(3)]


def tx_scene(admit=None, is_known=lambda tx_hash: False):
    p2p, pooled, rejected = FakeP2P(), [], []
    gossip = TransactionGossip(p2p, chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, is_known=is_known,
                               admit=admit or (lambda tx: pooled.append(tx.raw)),
                               on_rejected=lambda *a: rejected.append(a))
    return p2p, gossip, pooled, rejected


def run_tx(gossip, coroutine):
    async def scenario():
        try:
            return await coroutine
        finally:
            await gossip.stop()
    return asyncio.run(asyncio.wait_for(scenario(), 10))


def test_a_batch_of_valid_transactions_is_admitted_in_order():
    p2p, gossip, pooled, rejected = tx_scene()
    assert run_tx(gossip, p2p.deliver(TOPIC_TRANSACTIONS, rlp.encode(RAWS))) is ValidationResult.ACCEPT
    assert pooled == RAWS and rejected == []


@pytest.mark.parametrize("data, reason", [
    (b"\x01\x02\x03", "malformed-tx-batch"),
    (rlp.encode([]), "malformed-tx-batch"),
    (rlp.encode([[b"\x01"]]), "malformed-tx-batch"),
    (rlp.encode([RAWS[0], b"\x02\xff\xff"]), "invalid-transaction"),
    (rlp.encode([RAWS[0], signed(1, CHAIN_ID + 1)]), "invalid-transaction"),
], ids=["not-rlp", "empty", "nested", "garbage-tx", "other-chain-tx"])
def test_a_malformed_batch_is_rejected_and_nothing_of_it_is_pooled(data, reason):
    p2p, gossip, pooled, rejected = tx_scene()
    assert run_tx(gossip, p2p.deliver(TOPIC_TRANSACTIONS, data)) is ValidationResult.REJECT
    assert rejected == [(TOPIC_TRANSACTIONS, reason, "reject")] and pooled == []


def test_a_batch_of_known_transactions_is_ignored():
    p2p, gossip, pooled, rejected = tx_scene(is_known=lambda tx_hash: True)
    assert run_tx(gossip, p2p.deliver(TOPIC_TRANSACTIONS, rlp.encode(RAWS))) is ValidationResult.IGNORE
    assert rejected == [(TOPIC_TRANSACTIONS, "known-transactions", "ignore")] and pooled == []


def test_a_transaction_the_pool_refuses_does_not_stop_the_rest_of_the_batch():
    pooled = []

    def admit(tx):
        if tx.raw == RAWS[0]:
            raise MempoolError("nonce too low")
        pooled.append(tx.raw)

    p2p, gossip, _, _ = tx_scene(admit=admit)
    assert run_tx(gossip, p2p.deliver(TOPIC_TRANSACTIONS, rlp.encode(RAWS))) is ValidationResult.ACCEPT
    assert pooled == RAWS[1:]


def test_announced_transactions_wait_for_a_flush_and_go_out_as_one_batch():
    p2p, gossip, _, _ = tx_scene()
    for raw in RAWS:
        gossip.announce_transaction(decode_transaction(raw, CHAIN_ID, GAS_LIMIT))
    assert p2p.published == []
    gossip.flush()
    assert [(topic, rlp.decode(data)) for topic, data in p2p.published] == [(TOPIC_TRANSACTIONS, RAWS)]
    gossip.flush()
    assert len(p2p.published) == 1, "an empty queue publishes nothing"


def test_the_flush_loop_publishes_without_being_asked():
    p2p, gossip, _, _ = tx_scene()

    async def scenario():
        gossip.start()
        gossip.announce_transaction(decode_transaction(RAWS[0], CHAIN_ID, GAS_LIMIT))
        await wait_for(lambda: p2p.published, 5, "the flush loop's batch")

    run_tx(gossip, scenario())
    assert p2p.published == [(TOPIC_TRANSACTIONS, rlp.encode([RAWS[0]]))]
