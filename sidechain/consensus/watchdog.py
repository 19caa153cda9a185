"""The rebroadcast watchdog: when consensus stands still, send our own messages of the height again.

Gossip sends a message once; a peer that was down or partitioned then never gets it, and a round can
wait forever for votes that were sent before it came back (the paper assumes eventual delivery;
cometbft re-gossips missing votes). When the height, round and step have not moved for one
interval, the watchdog re-sends what this node signed and took in for the current round and the one
before; receivers drop what they already have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..chain.blocks import Block
from .broadcast import ConsensusNetwork
from .messages import Proposal, Vote


class RebroadcastWatchdog:
    """Every `interval` seconds: re-send if `position()` (height, round, step; None between
    heights) is the one seen last time. Callbacks run through `guard`, the driver's error fence."""

    def __init__(self, interval: float, position: Callable[[], tuple | None], network: ConsensusNetwork,
                 guard: Callable[..., None]) -> None:
        self.interval, self.position, self.network, self.guard = interval, position, network, guard
        self._timer: asyncio.TimerHandle | None = None
        self._last: tuple | None = None
        self._proposals: dict[int, tuple[Proposal, Block]] = {}
        self._votes: list[Vote] = []

    def start(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.interval, self.guard, self._check)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def new_height(self) -> None:
        """Forget the messages of the height just left."""
        self._proposals, self._votes = {}, []

    def took_proposal(self, proposal: Proposal, block: Block) -> None:
        """Our own proposal, taken in for its round."""
        self._proposals[proposal.round] = (proposal, block)

    def took_vote(self, vote: Vote) -> None:
        """Our own vote, counted as the first of its round and step."""
        self._votes.append(vote)

    def _check(self) -> None:
        self.start()
        position = self.position()
        if position is None or position != self._last:
            self._last = position
            return
        round_ = position[1]
        for proposal_round, (proposal, block) in self._proposals.items():
            if proposal_round >= round_ - 1:
                self.network.broadcast_proposal(proposal, block)
        for vote in self._votes:
            if vote.round >= round_ - 1:
                self.network.broadcast_vote(vote)
