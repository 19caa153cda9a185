"""Tendermint's round logic as a pure state machine: `machine.handle(event) -> [actions]`.

Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus" (2018), Algorithm 1; the line
numbers in comments refer to it. No clock, socket, disk or signature here: the driver checks
signatures and block validity before it hands messages in, signs the votes this machine asks
for, owns the timers, and commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .messages import NIL, Step, ValidatorSet

ROUND_WINDOW = 2
"""Rounds above the current one in which any validator's messages are taken (cometbft: round + 1)."""
MAX_CATCHUP_ROUNDS = 2
"""Rounds beyond the window in which each validator may place messages (cometbft's peer catch-up
rounds): f+1 honest validators speaking in a far round still make us skip there (line 55), while one
validator can make us hold at most this many far rounds at a time."""


# --- events (inputs) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposalEvent:
    """A proposal whose signature the driver checked; `valid` is valid(v) of the paper. `timely`:
    its block's time was not too far ahead of the driver's clock when it arrived (proposer-based
    timestamps, cometbft): judged only for a fresh proposal's prevote (line 22); a value with a
    proof of lock or a precommit quorum was already judged by the validators behind it."""

    round: int
    block_hash: bytes
    pol_round: int
    proposer: bytes
    valid: bool
    timely: bool = True


@dataclass(frozen=True, slots=True)
class VoteEvent:
    """A prevote or precommit whose signature and signer the driver checked."""

    step: Step
    round: int
    block_hash: bytes
    validator: bytes


@dataclass(frozen=True, slots=True)
class TimeoutEvent:
    step: Step
    height: int
    round: int


# --- actions (outputs) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposeAction:
    """Propose in (height, round): re-propose `block_hash` if set (with pol_round), else build a new block."""

    height: int
    round: int
    block_hash: bytes | None
    pol_round: int


@dataclass(frozen=True, slots=True)
class VoteAction:
    step: Step
    height: int
    round: int
    block_hash: bytes


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    step: Step
    height: int
    round: int


@dataclass(frozen=True, slots=True)
class CommitAction:
    """Decide `block_hash` at `height`; `precommitters` signed it in `round`."""

    height: int
    round: int
    block_hash: bytes
    precommitters: tuple[bytes, ...]


Action = ProposeAction | VoteAction | ScheduleTimeout | CommitAction


@dataclass
class _RoundVotes:
    prevotes: dict[bytes, bytes] = field(default_factory=dict)
    precommits: dict[bytes, bytes] = field(default_factory=dict)


class ConsensusMachine:
    """Round state for one height. Start it with `start_round(0)`; replace it at the next height."""

    def __init__(self, height: int, validators: ValidatorSet, me: bytes | None) -> None:
        self.height = height
        self.validators = validators
        self.me = me
        self.round = -1
        self.step = Step.PROPOSE
        self.locked_value: bytes | None = None
        self.locked_round = -1
        self.valid_value: bytes | None = None
        self.valid_round = -1
        self.decision: bytes | None = None
        self.proposals: dict[int, ProposalEvent] = {}
        self.votes: defaultdict[int, _RoundVotes] = defaultdict(_RoundVotes)
        self._fired: set[tuple] = set()
        self._catchup: defaultdict[bytes, set[int]] = defaultdict(set)
        """Rounds beyond the window each validator placed messages in."""

    # --- entry points ---------------------------------------------------------------------------

    def start_round(self, round_: int) -> list[Action]:
        """StartRound (lines 11-21), then whatever messages already received now allow."""
        return self.start_round_actions(round_) + self._evaluate()

    def start_round_actions(self, round_: int) -> list[Action]:
        self.round, self.step = round_, Step.PROPOSE
        if self.validators.proposer(self.height, round_) == self.me:
            return [ProposeAction(self.height, round_, self.valid_value, self.valid_round if self.valid_value else -1)]
        return [ScheduleTimeout(Step.PROPOSE, self.height, round_)]

    def admits(self, round_: int, sender: bytes) -> bool:
        """Whether a message of `sender` for `round_` is kept: any round up to ROUND_WINDOW above
        ours, and beyond that at most MAX_CATCHUP_ROUNDS far rounds per sender. Pure: `handle` books it."""
        if round_ <= max(self.round, 0) + ROUND_WINDOW:
            return True
        rounds = self._catchup.get(sender, ())
        return round_ in rounds or sum(1 for x in rounds if x > max(self.round, 0) + ROUND_WINDOW) < MAX_CATCHUP_ROUNDS

    def _book(self, round_: int, sender: bytes) -> bool:
        if not self.admits(round_, sender):
            return False
        if round_ > max(self.round, 0) + ROUND_WINDOW:
            self._catchup[sender].add(round_)
        return True

    def handle(self, event: ProposalEvent | VoteEvent | TimeoutEvent) -> list[Action]:
        if self.decision is not None:
            return []
        if isinstance(event, TimeoutEvent):
            return self._on_timeout(event)
        if isinstance(event, ProposalEvent):
            if event.proposer != self.validators.proposer(self.height, event.round) or event.round in self.proposals:
                return []
            if not self._book(event.round, event.proposer):
                return []
            self.proposals[event.round] = event
        else:
            if self.validators.power_of(event.validator) == 0 or not self._book(event.round, event.validator):
                return []
            book = self.votes[event.round]
            table = book.prevotes if event.step == Step.PREVOTE else book.precommits
            if event.validator in table:
                return []  # first vote counts; an equivocation is the driver's to report
            table[event.validator] = event.block_hash
        return self._evaluate()

    # --- rules ----------------------------------------------------------------------------------

    def _power(self, table: dict[bytes, bytes], value: bytes | None = None) -> int:
        return sum(self.validators.power_of(v) for v, h in table.items() if value is None or h == value)

    def _once(self, key: tuple) -> bool:
        if key in self._fired:
            return False
        self._fired.add(key)
        return True

    def _evaluate(self) -> list[Action]:
        """Apply rules whose condition now holds, one at a time, until none does."""
        actions: list[Action] = []
        while self.decision is None:
            fired = self._fire_one_rule()
            if fired is None:
                break
            actions += fired
        return actions

    def _fire_one_rule(self) -> list[Action] | None:
        """The actions of the first rule that fires (possibly none), or None if no rule fires."""
        h, r, vs = self.height, self.round, self.validators
        # Line 49: a valid proposal and a precommit quorum for it, in any round, decide the height.
        for rnd, proposal in self.proposals.items():
            precommits = self.votes[rnd].precommits
            if proposal.valid and vs.has_quorum(self._power(precommits, proposal.block_hash)):
                self.decision = proposal.block_hash
                signers = tuple(v for v, b in precommits.items() if b == proposal.block_hash)
                return [CommitAction(h, rnd, proposal.block_hash, signers)]
        # Line 55: more than 1/3 of the power already speaks in a later round: skip ahead.
        for rnd in sorted((x for x in self.votes if x > r), reverse=True):
            book = self.votes[rnd]
            if vs.exceeds_one_third(sum(vs.power_of(v) for v in set(book.prevotes) | set(book.precommits))):
                return self.start_round_actions(rnd)
        proposal = self.proposals.get(r)
        book = self.votes[r]
        if proposal is not None and self.step == Step.PROPOSE:
            vr = proposal.pol_round
            if vr == -1:  # Line 22, with the timeliness of proposer-based timestamps
                ok = proposal.valid and proposal.timely and (self.locked_round == -1 or self.locked_value == proposal.block_hash)
                return self._vote(Step.PREVOTE, proposal.block_hash if ok else NIL)
            if 0 <= vr < r and vs.has_quorum(self._power(self.votes[vr].prevotes, proposal.block_hash)):  # Line 28
                ok = proposal.valid and (self.locked_round <= vr or self.locked_value == proposal.block_hash)
                return self._vote(Step.PREVOTE, proposal.block_hash if ok else NIL)
        # Line 34: any prevote quorum: start the prevote timer.
        if self.step == Step.PREVOTE and vs.has_quorum(self._power(book.prevotes)) and self._once(("L34", r)):
            return [ScheduleTimeout(Step.PREVOTE, h, r)]
        # Line 36: a prevote quorum for a valid proposal: lock (if still prevoting) and remember it.
        if (
            proposal is not None and proposal.valid and self.step >= Step.PREVOTE
            and vs.has_quorum(self._power(book.prevotes, proposal.block_hash)) and self._once(("L36", r))
        ):
            self.valid_value, self.valid_round = proposal.block_hash, r
            if self.step == Step.PREVOTE:
                self.locked_value, self.locked_round = proposal.block_hash, r
                return self._vote(Step.PRECOMMIT, proposal.block_hash)
            return []
        # Line 44: a prevote quorum for nil.
        if self.step == Step.PREVOTE and vs.has_quorum(self._power(book.prevotes, NIL)):
            return self._vote(Step.PRECOMMIT, NIL)
        # Line 47: any precommit quorum: start the precommit timer.
        if vs.has_quorum(self._power(book.precommits)) and self._once(("L47", r)):
            return [ScheduleTimeout(Step.PRECOMMIT, h, r)]
        return None

    def _vote(self, step: Step, block_hash: bytes) -> list[Action]:
        """Move to `step`, voting `block_hash` if this node is a validator (an observer only follows)."""
        self.step = step
        if self.me is None or not self.validators.power_of(self.me):
            return []
        return [VoteAction(step, self.height, self.round, block_hash)]

    def _on_timeout(self, event: TimeoutEvent) -> list[Action]:
        if event.height != self.height or event.round != self.round:
            return []
        if event.step == Step.PROPOSE and self.step == Step.PROPOSE:  # OnTimeoutPropose (line 57)
            return self._vote(Step.PREVOTE, NIL) + self._evaluate()
        if event.step == Step.PREVOTE and self.step == Step.PREVOTE:  # OnTimeoutPrevote (line 61)
            return self._vote(Step.PRECOMMIT, NIL) + self._evaluate()
        if event.step == Step.PRECOMMIT:  # OnTimeoutPrecommit (line 65)
            return self.start_round(self.round + 1)
        return []
