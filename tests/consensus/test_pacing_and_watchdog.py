"""The driver's helpers on their own: block pacing (early with waiting transactions, counted from
the height's first proposal, else a block per block time) and the rebroadcast watchdog (re-sends only what this node signed, only when
consensus stood still for a whole interval)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from sidechain.consensus.pacing import START_NOW, BlockPacer
from sidechain.consensus.watchdog import RebroadcastWatchdog


def test_the_pacer_waits_a_quarter_block_then_starts_early_only_with_pending_transactions():
    # pre: a height started at t=100 with a 1 s block time
    now, pending = [100.0], [False]
    pacer = BlockPacer(1.0, lambda: pending[0], lambda: now[0])

    # post: the first look is a quarter block in; idle, it looks again until the block time is over
    assert pacer.first_check(100.0) == 0.25
    now[0] = 100.25
    assert pacer.next_check(100.0) == 0.25
    now[0] = 100.9
    assert abs(pacer.next_check(100.0) - 0.1) < 1e-9
    now[0] = 101.0
    assert pacer.next_check(100.0) is START_NOW
    # input: a transaction waits a quarter block in: start at once
    now[0], pending[0] = 100.25, True
    assert pacer.next_check(100.0) is START_NOW
    # a commit later than a quarter block in looks at once
    now[0] = 100.6
    assert pacer.first_check(100.0) == 0.0


def test_with_a_proposal_the_first_look_is_a_fifth_block_after_it_arrived_if_that_is_sooner():
    now = [100.05]
    pacer = BlockPacer(1.0, lambda: True, lambda: now[0])
    assert abs(pacer.first_check(100.0, first_proposal_at=100.04) - 0.19) < 1e-9  # not 0.2 after the start
    # a validator that began the height late, after its proposal had arrived: counted from the arrival
    assert abs(pacer.first_check(100.3, first_proposal_at=100.04) - 0.19) < 1e-9
    now[0] = 100.5
    assert pacer.first_check(100.3, first_proposal_at=100.04) == 0.0
    assert abs(pacer.first_check(100.3, None) - 0.05) < 1e-9  # no proposal: a quarter block after the start
    # a proposal that came late (a slow build): the quarter block from the start is sooner
    now[0] = 100.1
    assert abs(pacer.first_check(100.0, first_proposal_at=100.1) - 0.15) < 1e-9


def test_the_watchdog_resends_own_messages_of_recent_rounds_only_when_nothing_moved():
    sent: list = []
    network = SimpleNamespace(broadcast_proposal=lambda p, b: sent.append(("proposal", p.round)),
                              broadcast_vote=lambda v: sent.append(("vote", v.round)))
    position = [(5, 2, 1)]
    dog = RebroadcastWatchdog(60.0, lambda: position[0], network, lambda fn, *args: fn(*args))

    async def scenario() -> None:
        for round_ in range(3):
            dog.took_proposal(SimpleNamespace(round=round_), object())
            dog.took_vote(SimpleNamespace(round=round_))
        dog._check()  # first look: the position is new
        assert sent == []
        dog._check()  # unchanged for an interval: rounds 1 and 2 again, proposals first
        assert sent == [("proposal", 1), ("proposal", 2), ("vote", 1), ("vote", 2)]
        sent.clear()
        position[0] = (5, 2, 2)
        dog._check()
        assert sent == []
        dog.new_height()
        dog._check()
        assert sent == []
        position[0] = None  # between heights
        dog._check()
        dog._check()
        assert sent == []
        dog.stop()

    asyncio.run(scenario())
