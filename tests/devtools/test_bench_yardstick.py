"""The bench's machine yardstick (`machine.sender_recovery_us`) times the node's own decoder on
the load it is about to submit, and refuses a load that would not decode, whose figure would time
error paths instead of recovery."""

from __future__ import annotations

import dataclasses

import pytest

from sidechain.devtools.bench.loadgen import build_load, new_sender_keys
from sidechain.devtools.bench.measure import sender_recovery_us

CHAIN_ID = 1337


def test_the_yardstick_times_decoding_the_loads_transactions():
    load = build_load(new_sender_keys(4, seed=7), 40, CHAIN_ID)
    us = sender_recovery_us(load, sample=40, rounds=2)
    # libsecp256k1 recovery takes tens of microseconds on any machine; a figure far below it
    # would mean nothing was recovered.
    assert 5.0 < us < 5_000.0, us


def test_a_load_for_another_chain_is_refused_not_timed():
    load = build_load(new_sender_keys(2, seed=7), 10, CHAIN_ID)
    foreign = dataclasses.replace(load, chain_id=CHAIN_ID + 1)
    with pytest.raises(ValueError, match="expected the load to decode, got 10 invalid"):
        sender_recovery_us(foreign, sample=10, rounds=1)


def test_an_empty_load_is_refused():
    load = build_load(new_sender_keys(1, seed=7), 0, CHAIN_ID)
    with pytest.raises(ValueError, match="expected a load with transactions"):
        sender_recovery_us(load)
