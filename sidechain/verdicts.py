"""What a gossip check answers (consensus-specs p2p-interface): ACCEPT, IGNORE or REJECT, and why.

REJECT means the sender broke the protocol and is penalised; IGNORE means the message is useless to
us now (stale, too far ahead, already seen) and costs the sender nothing. Each verdict carries a
reason, which the node counts in its metrics. The consensus checks (consensus/gossip.py) and the
transaction checks (mempool/gossip.py) answer with these; p2p's ValidationResult has the same values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.Enum):
    ACCEPT = "accept"
    IGNORE = "ignore"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Checked:
    verdict: Verdict
    reason: str
    """Why (a metrics label): "ok" for ACCEPT, else the rule the message broke or missed."""
    value: object = None
    """What the check decoded, handed to the topic's handler so nothing is decoded twice."""
