"""Gossip checks for a height whose validator set is not decided yet (a later checkpoint range):
not relayed (IGNORE) but handed to the local driver with the decoded message, which checks signer
and proposer once the height is current; everything that needs no validator set is still judged."""

from __future__ import annotations

import time

from sidechain.chain.blocks import ZERO_HASH, Block, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.consensus.gossip import UNKNOWN_VALIDATOR_SET, Verdict, check_proposal, check_vote, encode_proposal
from sidechain.consensus.messages import Proposal, Step, ValidatorSet, Vote
from sidechain.crypto import private_key_to_address

CHAIN_ID = 7070
KEYS = [bytes([0x30 + i]) * 32 for i in range(4)]
VALIDATORS = ValidatorSet(tuple(private_key_to_address(k) for k in KEYS), (1, 1, 1, 1))
CURRENT = 16  # deciding the last height of checkpoint range 1 (interval 16)


def known_up_to(last: int):
    return lambda height: VALIDATORS if height <= last else None


def block_for(height: int, proposer: bytes) -> Block:
    return Block(Header(b"\x11" * 32, height, int(time.time()), proposer, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                        30_000_000, 0, 1, b""), ())


def test_a_vote_for_an_undecided_range_is_kept_for_the_driver_not_relayed():
    vote = Vote.create(CHAIN_ID, Step.PREVOTE, CURRENT + 1, 0, b"\x42" * 32, KEYS[0], VALIDATORS.addresses[0])
    checked = check_vote(vote.encode(), chain_id=CHAIN_ID, validators_at=known_up_to(CURRENT), current_height=CURRENT)
    assert (checked.verdict, checked.reason, checked.value) == (Verdict.IGNORE, UNKNOWN_VALIDATOR_SET, vote)
    # The same vote once the set is known is simply accepted.
    assert check_vote(vote.encode(), chain_id=CHAIN_ID, validators_at=known_up_to(CURRENT + 1),
                      current_height=CURRENT).verdict is Verdict.ACCEPT


def test_a_proposal_for_an_undecided_range_is_kept_but_a_forged_one_is_still_rejected():
    height = CURRENT + 1
    proposer = VALIDATORS.proposer(height, 0)
    key = KEYS[VALIDATORS.addresses.index(proposer)]
    block = block_for(height, proposer)
    proposal = Proposal.create(CHAIN_ID, height, 0, block.hash, -1, key, proposer)
    checked = check_proposal(encode_proposal(proposal, block), chain_id=CHAIN_ID, validators_at=known_up_to(CURRENT),
                             current_height=CURRENT)
    assert (checked.verdict, checked.reason) == (Verdict.IGNORE, UNKNOWN_VALIDATOR_SET)
    assert checked.value == (proposal, block)

    # Rules that need no validator set still apply: a signature by someone else, a block that is not the one signed.
    forged = Proposal(proposal.height, proposal.round, proposal.block_hash, proposal.pol_round, proposer,
                      Proposal.create(CHAIN_ID, height, 0, block.hash, -1, b"\x99" * 32, proposer).signature)
    assert check_proposal(encode_proposal(forged, block), chain_id=CHAIN_ID, validators_at=known_up_to(CURRENT),
                          current_height=CURRENT).reason == "proposal-bad-signature"
    mismatched = Proposal.create(CHAIN_ID, height, 0, b"\x55" * 32, -1, key, proposer)
    assert check_proposal(encode_proposal(mismatched, block), chain_id=CHAIN_ID, validators_at=known_up_to(CURRENT),
                          current_height=CURRENT).reason == "proposal-block-mismatch"
