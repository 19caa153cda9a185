"""The WAL stops at the first record it cannot read, whether torn, failing its checksum, or
checksummed but malformed, logs it, and cuts it off when the height is reopened."""

from __future__ import annotations

import logging

import rlp
import pytest

from sidechain.consensus.machine import TimeoutEvent
from sidechain.consensus.messages import Step, Vote
from sidechain.consensus.wal import TIMEOUT, VOTE, WriteAheadLog
from sidechain.crypto import keccak256, private_key_to_address

CHAIN_ID = 7070
KEY = b"\x41" * 32
VOTE_ = Vote.create(CHAIN_ID, Step.PREVOTE, 3, 0, b"\x22" * 32, KEY, private_key_to_address(KEY))


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + keccak256(payload)[:4] + payload


MALFORMED = {
    "not rlp": b"",
    "not [kind, fields]": rlp.encode([b"\x02"]),
    "too few fields": rlp.encode([VOTE, []]),
    "unknown kind": rlp.encode([9, [b"x"]]),
    "unknown step": rlp.encode([TIMEOUT, [7, 3, 0]]),
    "list as kind": rlp.encode([[b"\x02"], [VOTE_.encode()]]),
    "over-wide height": rlp.encode([TIMEOUT, [1, b"\x01" * 9, 0]]),
    "vote of the wrong width": rlp.encode([VOTE, [rlp.encode([1, 3, 0, b"\x22" * 31, b"\x11" * 20, b"s"])]]),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_record_ends_the_replay_and_is_cut_off(tmp_path, caplog, name):
    # pre: one good record, a checksummed malformed one, another good one after it
    wal = WriteAheadLog(tmp_path, CHAIN_ID)
    path = wal._path(3)
    good = frame(rlp.encode([TIMEOUT, [int(Step.PREVOTE), 3, 0]]))
    path.write_bytes(good + frame(MALFORMED[name]) + frame(rlp.encode([VOTE, [VOTE_.encode()]])))

    # input: the restart
    with caplog.at_level(logging.WARNING, logger="sidechain.consensus"):
        records = wal.open_height(3)

    # post: only what precedes the malformed record, which is logged and cut off; later appends replay
    assert records == [TimeoutEvent(Step.PREVOTE, 3, 0)]
    assert any("malformed" in r.getMessage() for r in caplog.records)
    assert path.stat().st_size == len(good)
    wal.append(VOTE_)
    wal.close()
    assert wal.replay(3) == [TimeoutEvent(Step.PREVOTE, 3, 0), VOTE_]


def test_a_torn_tail_is_dropped(tmp_path):
    wal = WriteAheadLog(tmp_path, CHAIN_ID)
    record = frame(rlp.encode([VOTE, [VOTE_.encode()]]))
    wal._path(3).write_bytes(record + record[:-2])
    assert wal.open_height(3) == [VOTE_]
    wal.close()
    assert wal._path(3).stat().st_size == len(record)
