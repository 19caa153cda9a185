"""The deposit relayer's pure rules, without chains: the affirmation's metadata rule (every
validator turns the same raw token metadata into the same text), and when a validator repeats its
affirmation of a deposit whose minting has stalled."""

from __future__ import annotations

import pytest

from bridge.deposits import METADATA_BYTES, STALL_AFTER, Stall, affirmed_metadata
from bridge.root_bridge import TokenMetadata


@pytest.mark.parametrize(("raw", "text"), [
    (b"Test Token", "Test Token"),
    (b"", ""),
    (b"Bad \xff\xfe name", "Bad \ufffd\ufffd name"),
    (b"\xe2\x82", "\ufffd"),  # a euro sign cut short
    (b"x" * 200, "x" * METADATA_BYTES),
    ("ab€".encode() * 100, "ab€" * 12 + "ab\ufffd"),  # the cut at byte 64 splits a euro sign
])
def test_name_and_symbol_are_cut_to_64_bytes_then_decoded_with_replacement(raw, text):
    assert affirmed_metadata(TokenMetadata(raw, raw, 6)) == (text, text, 6)


def test_the_affirmed_text_is_always_encodable_and_small():
    metadata = affirmed_metadata(TokenMetadata(bytes(range(256)) * 600, b"\x80" * 10**5, 18))

    assert all(len(text.encode()) <= 3 * METADATA_BYTES for text in metadata[:2])


def test_no_repeat_before_the_next_deposit_has_been_stuck_for_stall_after_seconds():
    stall = Stall(next_id=5, since=100.0)

    assert stall.repeats(100.0 + STALL_AFTER - 0.1, {5}) == []
    assert stall.repeats(100.0 + STALL_AFTER, {5}) == [5]


def test_no_repeat_unless_this_validator_affirmed_the_stuck_deposit():
    stall = Stall(next_id=5, since=0.0)

    assert stall.repeats(60.0, {6, 7}) == []
    assert stall.repeats(60.0, {}) == []


def test_the_stuck_deposit_is_repeated_with_the_run_this_validator_affirmed_right_after_it():
    stall = Stall(next_id=5, since=0.0)

    assert stall.repeats(60.0, {5, 6, 7, 9}) == [5, 6, 7]


def test_repeats_are_at_most_once_per_stall_after_seconds():
    stall = Stall(next_id=5, since=0.0).repeated(20.0)

    assert stall.repeats(20.0 + STALL_AFTER / 2, {5}) == []
    assert stall.repeats(20.0 + STALL_AFTER, {5}) == [5]


def test_the_clock_restarts_when_the_next_deposit_moves():
    stall = Stall(next_id=5, since=0.0).repeated(20.0)

    same = stall.observe(5, 25.0)
    moved = stall.observe(6, 25.0)

    assert same == stall
    assert moved == Stall(next_id=6, since=25.0)
    assert moved.repeats(25.0 + STALL_AFTER - 0.1, {6}) == []
    assert moved.repeats(25.0 + STALL_AFTER, {6}) == [6]
