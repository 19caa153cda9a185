"""sidechain_getEvidence over a real chain: committed evidence by block range and validator, with
both signed messages; a bad filter is a clear -32602."""

from __future__ import annotations

import dataclasses

from rpc_support import CHAIN_ID, PROPOSER, h

from sidechain.chain.blocks import evidence_root
from sidechain.consensus.evidence import DuplicateProposal, DuplicateVote, decode_evidence, offence_of
from sidechain.consensus.messages import NIL, Proposal, Step, Vote
from sidechain.crypto import private_key_to_address
from sidechain.storage.evidence import EvidenceIndex, IndexEntry

KEY_X, KEY_Y = b"\x61" * 32, b"\x62" * 32
X, Y = private_key_to_address(KEY_X), private_key_to_address(KEY_Y)


def double_precommit(key: bytes, height: int) -> DuplicateVote:
    signer = private_key_to_address(key)
    return DuplicateVote.of(Vote.create(CHAIN_ID, Step.PRECOMMIT, height, 1, NIL, key, signer),
                            Vote.create(CHAIN_ID, Step.PRECOMMIT, height, 1, b"\x0e" * 32, key, signer))


def double_proposal(key: bytes, height: int) -> DuplicateProposal:
    signer = private_key_to_address(key)
    return DuplicateProposal.of(Proposal.create(CHAIN_ID, height, 0, b"\x01" * 32, -1, key, signer),
                                Proposal.create(CHAIN_ID, height, 0, b"\x02" * 32, 0, key, signer))


def commit_with(devnet, evidence) -> int:
    """Commit a block carrying `evidence` as the driver does: index it, then commit the block."""
    chain = devnet.chain
    executed = chain.build_block(PROPOSER, chain.head.timestamp + 1, [])
    records = tuple(e.encode() for e in evidence)
    if records:
        executed = dataclasses.replace(executed, block=executed.block.with_evidence(records))
    EvidenceIndex(chain.store.db).record(executed.block.number, executed.block.hash,
                                         [IndexEntry(e.encode(), offence_of(e), e.validator) for e in evidence])
    chain.commit(executed, b"")
    return executed.block.number


def test_committed_evidence_by_range_and_validator(devnet, client):
    first = commit_with(devnet, [double_precommit(KEY_X, 1), double_proposal(KEY_Y, 1)])
    commit_with(devnet, [])
    third = commit_with(devnet, [double_precommit(KEY_Y, 2)])

    everything = client("sidechain_getEvidence")
    assert [(e["blockNumber"], e["index"], e["validator"], e["type"]) for e in everything] == [
        (hex(first), "0x0", h(X), "duplicateVote"), (hex(first), "0x1", h(Y), "duplicateProposal"),
        (hex(third), "0x0", h(Y), "duplicateVote")]
    vote_evidence = everything[0]
    assert vote_evidence["blockHash"] == h(devnet.chain.block_hash(first))
    assert (vote_evidence["height"], vote_evidence["round"], vote_evidence["step"]) == ("0x1", "0x1", "precommit")
    record = decode_evidence(bytes.fromhex(vote_evidence["raw"][2:]))
    assert [m["signature"] for m in vote_evidence["messages"]] == [h(m.signature) for m in record.messages]
    assert vote_evidence["messages"][0]["blockHash"] is None  # the nil precommit
    assert [m["polRound"] for m in everything[1]["messages"]] == [None, "0x0"]

    assert [e["blockNumber"] for e in client("sidechain_getEvidence", {"validator": h(Y)})] == [hex(first), hex(third)]
    assert client("sidechain_getEvidence", {"fromBlock": hex(first + 1), "toBlock": "latest"}) == everything[2:]
    assert client("sidechain_getEvidence", {"fromBlock": hex(first), "toBlock": hex(first), "validator": h(X)}) == everything[:1]
    assert client("sidechain_getEvidence", {"fromBlock": "0x1000"}) == []

    # The block object shows the root its header commits to, only where there is evidence.
    records = [bytes.fromhex(e["raw"][2:]) for e in everything[:2]]
    assert client("eth_getBlockByNumber", hex(first), False)["evidenceRoot"] == h(evidence_root(records))
    assert "evidenceRoot" not in client("eth_getBlockByNumber", hex(first + 1), False)


def test_a_bad_filter_is_refused_with_what_was_expected(client):
    assert client.error("sidechain_getEvidence", {"validator": "0x12"})["code"] == -32602
    error = client.error("sidechain_getEvidence", {"from": "0x1"})
    assert error["code"] == -32602 and "fromBlock" in error["message"]
    assert client.error("sidechain_getEvidence", "latest")["code"] == -32602
