"""How long the rounds of a height wait (propose, prevote, precommit) and when the watchdog re-sends."""

from __future__ import annotations

from dataclasses import dataclass

from .messages import Step


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Round timeouts grow linearly with the round and are capped (never Besu's doubling to hours)."""

    propose: float = 1.0
    vote: float = 0.5
    delta: float = 0.5
    cap: float = 30.0
    rebroadcast: float = 2.0
    """Seconds without a change of height, round or step before our own messages are sent again."""

    def duration(self, step: Step, round_: int) -> float:
        base = self.propose if step == Step.PROPOSE else self.vote
        return min(base + self.delta * round_, self.cap)
