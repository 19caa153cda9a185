"""A rogue libp2p peer joins a 4-validator network and gossips forgeries: votes from a non-validator,
for another chain, for a far height, with a broken signature; a proposal from the wrong proposer;
an invalid block signed by the right one; garbage and oversized messages. Each is refused and
counted; the honest validators keep finalizing (the fixture checks safety afterwards)."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable

from sidechain.chain.blocks import ZERO_HASH, Block, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.genesis import load_genesis
from sidechain.consensus.gossip import TOPIC_PROPOSALS, TOPIC_VOTES, encode_proposal
from sidechain.consensus.messages import Proposal, Step, ValidatorSet, Vote
from sidechain.crypto import private_key_to_address
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import wait_until
from sidechain.mempool.gossip import TOPIC_TRANSACTIONS
from sidechain.p2p import P2PConfig, P2PService, ValidationResult
from sidechain.p2p.config import MAX_GOSSIP_BYTES

from e2e_support import CHAIN_ID, free_port_block
from waiting import wait_for

VALIDATOR_KEYS = [anvil_private_key(6 + i) for i in range(4)]
ROGUE_KEY = b"\x5a" * 32


def metric(text: str, name: str, **labels) -> float:
    """The value of one sample in a Prometheus text exposition (0 if absent)."""
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))  # the exposition sorts labels
    pattern = re.escape(name) + (r"\{" + re.escape(label_text) + r"\}" if labels else "") + r" ([0-9.e+]+)"
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


def forgeries(height: int, validators: ValidatorSet) -> list[tuple[str, bytes]]:
    """(topic, message) pairs, each breaking one rule, around `height`, the one the network is
    deciding. Votes name height + 2 and proposals height + 1: blocks come every 300 ms, and a message
    for a height the node has already passed is only IGNOREd as stale before its other checks run,
    while one more than two heights ahead is IGNOREd as too far."""
    vote_height = height + 2
    rogue = private_key_to_address(ROGUE_KEY)
    v0 = validators.addresses[0]
    block_hash = b"\x42" * 32
    honest_vote = Vote.create(CHAIN_ID, Step.PREVOTE, vote_height, 0, block_hash, VALIDATOR_KEYS[0], v0)
    tampered = Vote(honest_vote.step, honest_vote.height, honest_vote.round, honest_vote.block_hash, v0,
                    honest_vote.signature[:10] + bytes([honest_vote.signature[10] ^ 1]) + honest_vote.signature[11:])
    target = height + 1  # the forged proposals wait in the nodes' buffers for the next height
    proposer = validators.proposer(target, 0)
    not_proposer = next(a for a in validators.addresses if a != proposer)
    key_of = dict(zip(validators.addresses, VALIDATOR_KEYS))
    bad_header = Header(b"\x11" * 32, target, int(time.time()), proposer, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                        150_000_000, 0, 1, b"")
    invalid_block = Block(bad_header, ())
    wrong_proposer_block = Block(Header(b"\x11" * 32, target, int(time.time()), not_proposer, ZERO_HASH, ZERO_HASH,
                                       ZERO_HASH, EMPTY_BLOOM, 150_000_000, 0, 1, b""), ())
    return [
        (TOPIC_VOTES, Vote.create(CHAIN_ID, Step.PREVOTE, vote_height, 0, block_hash, ROGUE_KEY, rogue).encode()),
        (TOPIC_VOTES, Vote.create(1, Step.PREVOTE, vote_height, 0, block_hash, VALIDATOR_KEYS[0], v0).encode()),
        (TOPIC_VOTES, tampered.encode()),
        (TOPIC_VOTES, Vote.create(CHAIN_ID, Step.PREVOTE, height + 1000, 0, block_hash, VALIDATOR_KEYS[0], v0).encode()),
        (TOPIC_PROPOSALS, encode_proposal(
            Proposal.create(CHAIN_ID, target, 0, wrong_proposer_block.hash, -1, key_of[not_proposer], not_proposer),
            wrong_proposer_block)),
        (TOPIC_PROPOSALS, encode_proposal(
            Proposal.create(CHAIN_ID, target, 0, invalid_block.hash, -1, key_of[proposer], proposer), invalid_block)),
        (TOPIC_VOTES, os.urandom(300)),
        (TOPIC_PROPOSALS, os.urandom(5000)),
        (TOPIC_TRANSACTIONS, os.urandom(700)),
        (TOPIC_VOTES, b"\x00" * (1200 * 1024)),  # above the nodes' 1 MiB gossip limit
    ]


def height_inside_a_range(net) -> int:
    """The head, once the heights the forgeries name (up to head + 3) lie in the head's next
    checkpoint range: a node IGNOREs messages for a height whose validator set is not known yet
    (a later range's set depends on votes still to come), which would hide the rule each breaks."""
    interval = load_genesis(net.root / "genesis.json").checkpoint_interval
    deadline = time.monotonic() + 30
    while True:
        head = net.height(0)
        if head // interval == (head + 2) // interval:
            return head
        assert time.monotonic() < deadline, "the chain stopped"
        net.wait_for_height(head + 1)


REPUBLISH_AFTER = 10.0
"""Seconds a rogue waits for its messages to take effect before it sends those still missing again,
made for the head of then: on a loaded machine the chain may pass the heights they named first
(then they are only IGNOREd as stale), or a busy node's bounded validation queue may drop them."""


async def run_rogue(net, tmp_path, name: str, messages_for_height, missing) -> str:
    """A rogue peer that connects to every validator, publishes what `messages_for_height` makes
    and stays until `missing()` is empty (each message had its effect on validator-0), then leaves.
    `missing()` names the messages still without effect by their index in what
    `messages_for_height` returns; those are published again every REPUBLISH_AFTER seconds."""
    genesis = load_genesis(net.root / "genesis.json")
    port = free_port_block(1) + 100
    rogue = P2PService(P2PConfig(
        listen_port=port, identity_path=tmp_path / name / "identity.key",
        bootstrap=tuple(n.multiaddr for n in net.nodes), network_id=genesis.hash(),
        max_message_bytes=MAX_GOSSIP_BYTES, reject_threshold=1000, redial_interval=0.5,
    ))
    topics = (TOPIC_VOTES, TOPIC_PROPOSALS, TOPIC_TRANSACTIONS)
    for topic in topics:
        rogue.subscribe(topic, lambda data, peer: ValidationResult.ACCEPT, lambda data, peer: None)
    await rogue.start()
    try:
        validators = {n.peer_id for n in net.nodes}
        # Our own messages go to every peer known to subscribe (flood publishing), and forgeries are
        # never relayed: so every validator must be known as a subscriber of every topic first.
        await wait_for(lambda: all(validators <= set(rogue.subscribers(t)) for t in topics), 30,
                       "the rogue knowing every validator's subscriptions")
        deadline = time.monotonic() + 60
        while still := missing():
            assert time.monotonic() < deadline, f"{name}'s messages {still} without effect on validator-0 after 60 s"
            messages = messages_for_height(height_inside_a_range(net))
            for i in still:
                rogue.publish(*messages[i])
            try:
                await wait_for(lambda: not missing(), REPUBLISH_AFTER, f"{name}'s messages taking effect", interval=0.2)
            except TimeoutError:
                pass  # the loop sends what is still missing again
        return rogue.peer_id
    finally:
        await rogue.stop()


def counted(net, reasons) -> Callable[[], list[int]]:
    """The indices of `reasons` that validator-0 has not counted more often yet than it had when
    this was made."""
    def samples() -> list[float]:
        text = net.metrics(0)
        return [_sample(text, r) for r in reasons]

    before = samples()
    return lambda: [i for i, (now, then) in enumerate(zip(samples(), before)) if not now > then]


def _sample(text: str, reason: str) -> float:
    if reason == "invalid-block":
        return metric(text, "sidechain_invalid_blocks_total")
    if reason == "oversized":
        return metric(text, "sidechain_p2p_events", counter="rejected_oversized")
    return metric(text, "sidechain_rejected_messages_total", topic=_topic_of(reason), reason=reason, verdict=_verdict_of(reason))


REASONS = ["vote-from-non-validator", "vote-bad-signature", "vote-bad-signature", "future-height", "wrong-proposer",
           "invalid-block", "malformed-vote", "malformed-proposal", "malformed-tx-batch", "oversized"]
"""What validator-0 counts for each of `forgeries`, in order."""


def test_forged_and_garbage_gossip_is_refused_and_counted_while_the_chain_goes_on(network4, tmp_path):
    network4.wait_for_height(3)
    validators = ValidatorSet.from_genesis(load_genesis(network4.root / "genesis.json").validators)
    # A peer is disconnected after 5 rejected messages (that is tested last), so the forgeries come
    # from several rogue identities, fewer than 5 rejects each.
    # Each group's forgeries count as different reasons on validator-0 (the two bad signatures apart).
    for group, picks in enumerate(((0, 1, 3), (2, 4, 6), (5, 7), (8, 9))):
        asyncio.run(run_rogue(network4, tmp_path, f"rogue-{group}",
                              lambda h, picks=picks: [forgeries(h + 1, validators)[i] for i in picks],  # h + 1: being decided
                              counted(network4, [REASONS[i] for i in picks])))
    expected = {
        "vote-from-non-validator", "vote-bad-signature", "future-height", "wrong-proposer",
        "malformed-vote", "malformed-proposal", "malformed-tx-batch",
    }

    def all_counted():
        text = network4.metrics(0)
        counted = {r for r in expected if metric(text, "sidechain_rejected_messages_total", topic=_topic_of(r), reason=r, verdict=_verdict_of(r)) > 0}
        return counted == expected and metric(text, "sidechain_invalid_blocks_total") >= 1 and text

    try:
        wait_until(all_counted, 60, "every forgery counted on validator-0")
    except TimeoutError:
        text = network4.metrics(0)
        seen = [line for line in text.splitlines() if line.startswith(("sidechain_rejected", "sidechain_invalid", "sidechain_p2p_events{counter=\"rejected"))]
        raise AssertionError("not every forgery was counted:\n" + "\n".join(seen)) from None
    wait_until(lambda: metric(network4.metrics(0), "sidechain_p2p_events", counter="rejected_oversized") >= 1, 30,
               "the oversized message refused by validator-0's p2p layer")
    start = network4.height(0)
    network4.wait_for_height(start + 5)
    # A peer that keeps sending garbage is cut off.
    asyncio.run(run_rogue(network4, tmp_path, "rogue-spammer", lambda h: [(TOPIC_VOTES, os.urandom(100)) for _ in range(8)],
                          lambda: [] if metric(network4.metrics(0), "sidechain_p2p_events", counter="penalised_peers") >= 1
                          else list(range(8))))
    network4.wait_for_height(network4.height(0) + 3)


def _verdict_of(reason: str) -> str:
    return "ignore" if reason == "future-height" else "reject"


def _topic_of(reason: str) -> str:
    if reason in ("wrong-proposer", "malformed-proposal", "proposal-bad-signature"):
        return TOPIC_PROPOSALS
    if reason == "malformed-tx-batch":
        return TOPIC_TRANSACTIONS
    return TOPIC_VOTES
