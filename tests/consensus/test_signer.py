"""The signer's double-sign guard on its own (cometbft privval/file_test.go): it never signs below
what it signed, nor a different value at the same (height, round, step); the same value again gets
the same signature; and all of it holds across a restart from the state file."""

from __future__ import annotations

import json

import pytest

from sidechain.consensus.messages import Step
from sidechain.consensus.signer import DoubleSignRefused, Signer
from sidechain.devkeys import anvil_private_key

CHAIN_ID = 7070
KEY = anvil_private_key(3)
A, B = b"\xaa" * 32, b"\xbb" * 32


def signer(tmp_path) -> Signer:
    return Signer(KEY, CHAIN_ID, tmp_path / "signer.json")


def test_votes_and_proposals_move_forward_through_heights_rounds_and_steps(tmp_path):
    s = signer(tmp_path)
    proposal = s.sign_proposal(5, 0, A, -1)
    prevote = s.sign_vote(Step.PREVOTE, 5, 0, A)
    precommit = s.sign_vote(Step.PRECOMMIT, 5, 0, A)
    nil_next_round = s.sign_vote(Step.PREVOTE, 5, 1, b"")
    assert proposal.proposer == prevote.validator == precommit.validator == s.address
    assert s.last_signed == (5, 1, int(Step.PREVOTE))
    assert nil_next_round.block_hash == b""


def test_a_different_block_at_the_same_height_round_and_step_is_refused(tmp_path):
    s = signer(tmp_path)
    s.sign_vote(Step.PREVOTE, 5, 0, A)
    with pytest.raises(DoubleSignRefused, match=f"refusing to sign 0x{B.hex()} at \\(5, 0, {int(Step.PREVOTE)}\\)"):
        s.sign_vote(Step.PREVOTE, 5, 0, B)
    with pytest.raises(DoubleSignRefused):
        s.sign_vote(Step.PREVOTE, 5, 0, b"")  # nil is a different value too


def test_anything_below_the_last_signed_step_is_refused(tmp_path):
    s = signer(tmp_path)
    s.sign_vote(Step.PRECOMMIT, 5, 2, A)
    for step, height, round_ in ((Step.PREVOTE, 5, 2), (Step.PRECOMMIT, 5, 1), (Step.PRECOMMIT, 4, 9)):
        with pytest.raises(DoubleSignRefused, match="already signed up to"):
            s.sign_vote(step, height, round_, A)
    with pytest.raises(DoubleSignRefused):
        s.sign_proposal(5, 2, A, -1)  # a proposal is the first step of a round: below the precommit


def test_the_same_value_again_gets_the_same_signature(tmp_path):
    """Replaying the WAL after a crash re-signs what was signed: harmless, and identical."""
    s = signer(tmp_path)
    first = s.sign_vote(Step.PRECOMMIT, 7, 0, A)
    again = s.sign_vote(Step.PRECOMMIT, 7, 0, A)
    assert again.signature == first.signature


def test_the_guard_survives_a_restart_from_its_state_file(tmp_path):
    s = signer(tmp_path)
    s.sign_vote(Step.PRECOMMIT, 9, 1, A)
    saved = json.loads((tmp_path / "signer.json").read_text())
    assert saved == {"height": 9, "round": 1, "step": int(Step.PRECOMMIT), "blockHash": A.hex()}

    restarted = signer(tmp_path)
    assert restarted.last_signed == (9, 1, int(Step.PRECOMMIT))
    with pytest.raises(DoubleSignRefused):
        restarted.sign_vote(Step.PRECOMMIT, 9, 1, B)
    with pytest.raises(DoubleSignRefused):
        restarted.sign_vote(Step.PREVOTE, 9, 1, A)
    assert restarted.sign_vote(Step.PRECOMMIT, 9, 1, A).signature == s.sign_vote(Step.PRECOMMIT, 9, 1, A).signature
    restarted.sign_vote(Step.PREVOTE, 10, 0, B)  # the next height is free


def test_a_refused_signature_leaves_the_state_file_as_it_was(tmp_path):
    s = signer(tmp_path)
    s.sign_vote(Step.PREVOTE, 3, 0, A)
    before = (tmp_path / "signer.json").read_bytes()
    with pytest.raises(DoubleSignRefused):
        s.sign_vote(Step.PREVOTE, 3, 0, B)
    assert (tmp_path / "signer.json").read_bytes() == before
    assert not (tmp_path / "signer.tmp").exists()
