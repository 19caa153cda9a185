"""The pure round logic, driven event by event: no clock, socket or signature."""

from sidechain.consensus.machine import (
    CommitAction, ConsensusMachine, ProposalEvent, ProposeAction, ScheduleTimeout, TimeoutEvent, VoteAction, VoteEvent,
)
from sidechain.consensus.messages import NIL, Step, ValidatorSet

V = [bytes([i]) * 20 for i in range(1, 5)]
FOUR = ValidatorSet(tuple(V), (1, 1, 1, 1))
BLOCK_A, BLOCK_B = b"\xaa" * 32, b"\xbb" * 32


def votes(machine, step, round_, block_hash, validators):
    actions = []
    for v in validators:
        actions += machine.handle(VoteEvent(step, round_, block_hash, v))
    return actions


def test_single_validator_proposes_votes_and_commits_in_one_round():
    solo = ValidatorSet((V[0],), (1,))
    m = ConsensusMachine(1, solo, V[0])
    assert m.start_round(0) == [ProposeAction(1, 0, None, -1)]
    actions = m.handle(ProposalEvent(0, BLOCK_A, -1, V[0], valid=True))
    assert actions == [VoteAction(Step.PREVOTE, 1, 0, BLOCK_A)]
    actions = m.handle(VoteEvent(Step.PREVOTE, 0, BLOCK_A, V[0]))
    assert VoteAction(Step.PRECOMMIT, 1, 0, BLOCK_A) in actions
    assert m.locked_value == BLOCK_A and m.locked_round == 0
    actions = m.handle(VoteEvent(Step.PRECOMMIT, 0, BLOCK_A, V[0]))
    assert actions[-1] == CommitAction(1, 0, BLOCK_A, (V[0],))


def test_proposer_rotates_by_height_and_round():
    assert FOUR.proposer(1, 0) == V[1] and FOUR.proposer(1, 1) == V[2] and FOUR.proposer(2, 0) == V[2]


def test_non_proposer_waits_for_the_proposal_with_a_timeout_then_prevotes_nil():
    m = ConsensusMachine(1, FOUR, V[0])
    assert m.start_round(0) == [ScheduleTimeout(Step.PROPOSE, 1, 0)]
    assert m.handle(TimeoutEvent(Step.PROPOSE, 1, 0)) == [VoteAction(Step.PREVOTE, 1, 0, NIL)]


def test_invalid_proposal_gets_a_nil_prevote():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    assert m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=False)) == [VoteAction(Step.PREVOTE, 1, 0, NIL)]


def test_proposal_from_the_wrong_proposer_is_ignored():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    assert m.handle(ProposalEvent(0, BLOCK_A, -1, V[3], valid=True)) == []
    assert m.step == Step.PROPOSE


def test_two_thirds_of_prevotes_lock_and_precommit_and_a_quorum_of_precommits_commits():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=True))
    actions = votes(m, Step.PREVOTE, 0, BLOCK_A, V[:3])
    assert VoteAction(Step.PRECOMMIT, 1, 0, BLOCK_A) in actions
    assert (m.locked_value, m.locked_round) == (BLOCK_A, 0)
    assert not any(isinstance(a, CommitAction) for a in votes(m, Step.PRECOMMIT, 0, BLOCK_A, V[:2]))
    actions = votes(m, Step.PRECOMMIT, 0, BLOCK_A, V[2:3])
    assert actions[-1] == CommitAction(1, 0, BLOCK_A, tuple(V[:3]))


def test_one_third_is_not_enough_to_commit():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=True))
    assert not any(isinstance(a, CommitAction) for a in votes(m, Step.PRECOMMIT, 0, BLOCK_A, V[1:3]))
    assert m.decision is None


def test_a_locked_validator_prevotes_nil_for_another_block_in_a_later_round():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=True))
    votes(m, Step.PREVOTE, 0, BLOCK_A, V[:3])
    votes(m, Step.PRECOMMIT, 0, NIL, V[1:4])
    assert m.handle(TimeoutEvent(Step.PRECOMMIT, 1, 0)) == [ScheduleTimeout(Step.PROPOSE, 1, 1)]
    assert m.handle(ProposalEvent(1, BLOCK_B, -1, V[2], valid=True)) == [VoteAction(Step.PREVOTE, 1, 1, NIL)]


def test_a_proof_of_lock_from_a_later_round_unlocks():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=True))
    votes(m, Step.PREVOTE, 0, BLOCK_A, V[:3])  # locked on A in round 0
    m.handle(TimeoutEvent(Step.PRECOMMIT, 1, 0))
    votes(m, Step.PREVOTE, 1, BLOCK_B, V[1:4])  # B gathered a POL in round 1 (we missed its proposal)
    m.handle(TimeoutEvent(Step.PRECOMMIT, 1, 1))
    assert m.round == 2
    # round 2's proposer re-proposes B with pol_round 1: 1 >= our locked round 0, so we prevote it.
    assert m.handle(ProposalEvent(2, BLOCK_B, 1, V[3], valid=True)) == [VoteAction(Step.PREVOTE, 1, 2, BLOCK_B)]


def test_more_than_a_third_in_a_later_round_makes_the_node_skip_ahead():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    actions = votes(m, Step.PREVOTE, 3, NIL, V[1:3])
    assert m.round == 3 and ProposeAction(1, 3, None, -1) in actions  # we propose round 3


def test_a_second_vote_from_the_same_validator_is_not_counted():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=True))
    votes(m, Step.PRECOMMIT, 0, BLOCK_A, [V[1], V[1], V[1], V[2]])
    assert m.decision is None


def test_votes_from_non_validators_are_not_counted():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=True))
    votes(m, Step.PRECOMMIT, 0, BLOCK_A, [V[1], V[2], b"\x09" * 20, b"\x08" * 20])
    assert m.decision is None


def test_nil_prevote_quorum_leads_to_nil_precommit():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(TimeoutEvent(Step.PROPOSE, 1, 0))
    actions = votes(m, Step.PREVOTE, 0, NIL, V[:3])  # our own nil prevote comes back through the driver
    assert VoteAction(Step.PRECOMMIT, 1, 0, NIL) in actions


def test_a_stale_timeout_does_nothing():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(TimeoutEvent(Step.PRECOMMIT, 1, 0))
    assert m.handle(TimeoutEvent(Step.PROPOSE, 1, 0)) == []


def test_an_untimely_proposal_gets_a_nil_prevote():
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    assert m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=True, timely=False)) == [
        VoteAction(Step.PREVOTE, 1, 0, NIL)]


def test_an_untimely_proposal_that_a_quorum_precommits_is_still_decided():
    """Timeliness steers this node's fresh prevote only: the others' certificate decides (line 49)."""
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(ProposalEvent(0, BLOCK_A, -1, V[1], valid=True, timely=False))
    actions = votes(m, Step.PRECOMMIT, 0, BLOCK_A, V[1:])
    assert actions[-1] == CommitAction(1, 0, BLOCK_A, tuple(V[1:]))


def test_an_untimely_value_reproposed_with_a_proof_of_lock_gets_a_prevote():
    """A re-proposal (line 28) carries the prevotes of >2/3 who judged it when it was fresh."""
    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    m.handle(TimeoutEvent(Step.PROPOSE, 1, 0))
    votes(m, Step.PREVOTE, 0, BLOCK_A, V[1:])
    votes(m, Step.PRECOMMIT, 0, NIL, V[1:])
    m.handle(TimeoutEvent(Step.PRECOMMIT, 1, 0))
    assert m.round == 1
    actions = m.handle(ProposalEvent(1, BLOCK_A, 0, V[2], valid=True, timely=False))
    assert actions == [VoteAction(Step.PREVOTE, 1, 1, BLOCK_A)]


def test_far_rounds_count_only_in_a_few_catch_up_rounds_per_validator_and_f_plus_1_still_skip_ahead():
    from sidechain.consensus.machine import MAX_CATCHUP_ROUNDS, ROUND_WINDOW

    m = ConsensusMachine(1, FOUR, V[0])
    m.start_round(0)
    far = 10**6
    for r in range(far, far + 100):  # one validator: only its first few far rounds are kept
        votes(m, Step.PREVOTE, r, BLOCK_A, [V[3]])
    assert sorted(r for r in m.votes if m.votes[r].prevotes) == list(range(far, far + MAX_CATCHUP_ROUNDS))
    assert m.admits(ROUND_WINDOW, V[3]) and not m.admits(far + 100, V[3]) and m.admits(far + 100, V[2])
    assert m.round == 0  # one validator of four is not f+1
    votes(m, Step.PREVOTE, far + 50, BLOCK_A, [V[1], V[2]])  # f+1 honest validators speak in a far round
    assert m.round == far + 50
