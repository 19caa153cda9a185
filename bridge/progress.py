"""How the user commands report progress: a `Progress` per stage and, within a stage, `Waiting`
lines only when a person cares (a milestone, or a changed line at most every few seconds)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Progress:
    """One report from a command while it runs."""

    stage: str
    """Which stage: "l1-mined", "confirmations", "affirmations", "minted", "burned", "checkpoint-final",
    "checkpoint-l1", "paid" (or "approved" before an ERC-20 deposit)."""
    message: str
    """What a person reads."""
    done: bool = False
    """True when the stage is complete; False for progress within it."""


Reporter = Callable[[Progress], None]

_NOTHING = object()
REPORT_EVERY = 5.0
"""Seconds between two progress lines of a wait when only a count (blocks, confirmations) moved."""


def round_step(total: int) -> int:
    """The round numbers a count toward `total` is reported at: every 1 up to 10, every 10 up to 100, ..."""
    step = 1
    while total > 10 * step:
        step *= 10
    return step


class Waiting:
    """Progress within one stage, passed on only when a person cares: at once when its `milestone`
    changes (a reorg, more affirming power, a count crossing a round number), otherwise at most every
    `every` seconds, so a wait of hundreds of blocks prints a few lines rather than one per block."""

    def __init__(self, report: Reporter, stage: str, every: float = REPORT_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.report, self.stage, self.every, self.clock = report, stage, every, clock
        self.milestone: object = _NOTHING  # so the first report always goes out
        self.message: str | None = None
        self.at = -math.inf

    def __call__(self, message: str, milestone: object) -> None:
        now = self.clock()
        if milestone != self.milestone or (message != self.message and now - self.at >= self.every):
            self.report(Progress(self.stage, message))
            self.milestone, self.message, self.at = milestone, message, now
