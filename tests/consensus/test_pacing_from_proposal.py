"""Pacing counts from the arrival of a height's first proposal, so a validator that began a height
late does not begin the next one late too: four drivers on the in-memory bus, one started late."""

from __future__ import annotations

import asyncio
import time

from driver_bus import drivers_on_bus, genesis
from waiting import wait_for

KEYS = [bytes([i + 1]) * 32 for i in range(4)]
LATE = 0.1
"""How long after the others the late validator starts (the block time is 0.1 s: its early start is
20 ms after a proposal arrives, 25 ms after its own start when none did)."""


def test_a_validator_that_started_late_catches_up_at_the_next_height(tmp_path):
    bus, chains = drivers_on_bus(tmp_path, KEYS, genesis(KEYS))
    late = bus.drivers[3]
    events: list[tuple[str, int, float]] = []
    for driver in bus.drivers:
        driver._pacer.has_pending = lambda: True  # transactions always wait: the early start applies
    real_start, real_pace = late._start_height, late._pace_next_height
    late._start_height = lambda height: (events.append(("start", height, time.monotonic())), real_start(height))
    late._pace_next_height = lambda height: (events.append(("paced", height, time.monotonic())), real_pace(height))

    async def scenario():
        for driver in bus.drivers[:3]:
            driver.start()
        asyncio.get_running_loop().call_later(LATE, late.start)
        await wait_for(lambda: min(chain.height for chain in chains) >= 4, timeout=20)
        for driver in bus.drivers:
            driver.stop()

    try:
        asyncio.run(scenario())
    finally:
        for chain in chains:
            chain.close()
    assert not bus.errors
    # The late validator found height 1's proposal and votes waiting, committed at once, and began
    # height 2 as soon as it had: the proposal had arrived long before. Counted from its own start
    # it would have waited out the rest of a quarter block time (~22 ms) first.
    paced = next(t for kind, height, t in events if kind == "paced" and height == 2)
    started = next(t for kind, height, t in events if kind == "start" and height == 2)
    assert started - paced < 0.015, f"height 2 began {1000 * (started - paced):.1f} ms after height 1 committed"
