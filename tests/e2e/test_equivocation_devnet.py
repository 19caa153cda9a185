"""Issue 10 item 8 end to end: validator-3's key, used outside its double-sign guard, signs two
different prevotes for one round, and a peer gossips both to a 4-validator network of real
processes. Every node records the equivocation in the same final block, with both signed votes
(`sidechain_getEvidence`), the record verifies against that height's validator set, each node counts
it in its metrics and logs it, and the chain goes on (the fixture checks safety afterwards)."""

from __future__ import annotations

import asyncio
import time

from sidechain.chain.genesis import load_genesis
from sidechain.consensus.evidence import DuplicateVote, decode_evidence
from sidechain.consensus.gossip import TOPIC_EVIDENCE, TOPIC_VOTES
from sidechain.consensus.messages import Step, ValidatorSet, Vote
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import wait_until
from sidechain.p2p import P2PConfig, P2PService, ValidationResult

from e2e_support import CHAIN_ID, free_port_block

FAULTY_KEY = anvil_private_key(6 + 3)  # validator-3's key, signing here without its node's guard
ATTEMPT_SECONDS = 15.0


def metric(text: str, name: str, **labels) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + ("{" + label_text + "}" if labels else "") + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def until(condition, timeout: float, what: str):
    """Poll `condition` (blocking calls: run off the loop the rogue peer needs) until truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = await asyncio.to_thread(condition)
        except Exception:  # a node that does not answer yet
            value = None
        if value:
            return value
        await asyncio.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def target_height(net, interval: int) -> int:
    """A height two above the head whose validator set is already known (same checkpoint range as
    the next block), so every node relays the votes rather than only keeping them."""
    def pick():
        head = net.height(0)
        return head + 2 if head // interval == (head + 2) // interval else None
    return wait_until(pick, 30, "a head whose next two heights share its checkpoint range")


async def equivocate(net, tmp_path, validators: ValidatorSet, interval: int) -> list[list[dict]]:
    """Gossip two prevotes of validator-3 for one round until the nodes record an equivocation;
    returns what sidechain_getEvidence answers on each node once all of them have it in a block."""
    faulty = validators.addresses[3]
    genesis = load_genesis(net.root / "genesis.json")
    rogue = P2PService(P2PConfig(
        listen_port=free_port_block(1) + 100, identity_path=tmp_path / "rogue" / "identity.key",
        bootstrap=tuple(n.multiaddr for n in net.nodes), network_id=genesis.hash(), reject_threshold=1000,
    ))
    for topic in (TOPIC_VOTES, TOPIC_EVIDENCE):
        rogue.subscribe(topic, lambda data, peer: ValidationResult.ACCEPT, lambda data, peer: None)
    await rogue.start()
    try:
        await until(lambda: len(rogue.subscribers(TOPIC_VOTES)) >= 4, 30, "the rogue peer knowing every validator's votes subscription")

        def recorded():
            answers = [net.rpc(i, "sidechain_getEvidence", [{"validator": "0x" + faulty.hex()}]) for i in range(4)]
            return answers if all(answers) else None

        for attempt in range(3):  # a pair that reached every node only after its height passed proves nothing
            height = await asyncio.to_thread(target_height, net, interval)
            for block_hash in (bytes([0xA0 + attempt]) * 32, bytes([0xB0 + attempt]) * 32):
                rogue.publish(TOPIC_VOTES, Vote.create(CHAIN_ID, Step.PREVOTE, height, 0, block_hash, FAULTY_KEY, faulty).encode())
            try:
                await until(lambda: any(metric(net.metrics(i), "sidechain_equivocations_total", kind="duplicateVote")
                                        for i in range(4)), ATTEMPT_SECONDS, "a node detecting the double prevote")
                break
            except TimeoutError:
                continue
        return await until(recorded, 60, "the evidence in a final block on every node")
    finally:
        await rogue.stop()


def test_a_double_prevote_is_recorded_on_every_node_in_one_block_and_verifies(network4, tmp_path):
    network4.wait_for_height(3)
    genesis = load_genesis(network4.root / "genesis.json")
    validators = ValidatorSet.from_genesis(genesis.validators)
    answers = asyncio.run(equivocate(network4, tmp_path, validators, genesis.checkpoint_interval))

    # Every node answers the same records, in the same final block.
    assert all(a == answers[0] for a in answers), answers
    for item in answers[0]:
        block = network4.rpc(0, "eth_getBlockByNumber", [item["blockNumber"], False])
        assert block["hash"] == item["blockHash"]
        assert item["type"] == "duplicateVote" and item["step"] == "prevote" and item["validator"] == "0x" + validators.addresses[3].hex()
        assert int(item["height"], 16) < int(item["blockNumber"], 16)
        # Both signed votes are there, and the record proves the double vote to anyone with the set.
        assert len(item["messages"]) == 2 and item["messages"][0]["signature"] != item["messages"][1]["signature"]
        evidence = decode_evidence(bytes.fromhex(item["raw"][2:]))
        assert isinstance(evidence, DuplicateVote)
        assert [m.signature.hex() for m in evidence.messages] == [m["signature"][2:] for m in item["messages"]]
        assert [Vote.decode(bytes.fromhex(m["raw"][2:])) for m in item["messages"]] == list(evidence.messages)
        evidence.verify(CHAIN_ID, validators)

    for i, node in enumerate(network4.nodes):
        assert metric(network4.metrics(i), "sidechain_evidence_committed_total") >= 1
        assert "equivocation" in node.log_path.read_text(errors="replace")
    start = network4.height(0)
    network4.wait_for_height(start + 3)
