"""Typed WAL records keep the on-disk format: each kind is written as rlp([kind, fields]) exactly
as before records were typed, so data directories written by earlier versions replay."""

from __future__ import annotations

import rlp

from sidechain.chain.blocks import ZERO_HASH, Block, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.consensus.machine import TimeoutEvent
from sidechain.consensus.messages import Proposal, Step, Vote
from sidechain.consensus.wal import PROPOSAL, TIMEOUT, VOTE, ProposalRecord, WriteAheadLog, decode_record, encode_record
from sidechain.crypto import keccak256, private_key_to_address

CHAIN_ID = 7070
KEY = b"\x41" * 32
ME = private_key_to_address(KEY)
BLOCK = Block(Header(b"\x11" * 32, 3, 1_700_000_000, ME, ZERO_HASH, ZERO_HASH, ZERO_HASH, EMPTY_BLOOM,
                     30_000_000, 0, 10**9, b""), ())
PROPOSAL_ = Proposal.create(CHAIN_ID, 3, 0, BLOCK.hash, -1, KEY, ME)
VOTE_ = Vote.create(CHAIN_ID, Step.PREVOTE, 3, 0, BLOCK.hash, KEY, ME)
TIMEOUT_ = TimeoutEvent(Step.PRECOMMIT, 3, 1)
AS_WRITTEN_BEFORE = [
    (ProposalRecord(PROPOSAL_, BLOCK), rlp.encode([PROPOSAL, [PROPOSAL_.encode(), BLOCK.encode()]])),
    (VOTE_, rlp.encode([VOTE, [VOTE_.encode()]])),
    (TIMEOUT_, rlp.encode([TIMEOUT, [int(Step.PRECOMMIT), 3, 1]])),
]


def test_each_record_kind_encodes_as_before_and_decodes_back():
    for record, payload in AS_WRITTEN_BEFORE:
        assert encode_record(record) == payload
        assert decode_record(payload, CHAIN_ID) == record


def test_appended_records_are_the_old_frames_byte_for_byte(tmp_path):
    wal = WriteAheadLog(tmp_path, CHAIN_ID)
    wal.open_height(3)
    for record, _ in AS_WRITTEN_BEFORE:
        wal.append(record)
    wal.close()
    expected = b"".join(len(p).to_bytes(4, "big") + keccak256(p)[:4] + p for _, p in AS_WRITTEN_BEFORE)
    assert wal._path(3).read_bytes() == expected
    assert wal.replay(3) == [record for record, _ in AS_WRITTEN_BEFORE]
