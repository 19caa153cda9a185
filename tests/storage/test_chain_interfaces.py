"""The live chain and its snapshots against the protocols their consumers are typed with
(sidechain/interfaces.py): every member each protocol names exists on the real class, a snapshot
has the reads and none of the writes, and the checkpoint and RPC reads give the same answers
through a snapshot as through the live chain at the same head."""

from __future__ import annotations

import typing

import pytest

from sidechain.errors import StorageError
from sidechain.interfaces import ChainHistory, ChainReader, ChainWriter, HistorySnapshot, SnapshotSource
from sidechain.storage.blockchain import Blockchain
from sidechain.storage.checkpoints import final_checkpoint

from test_blockchain_storage import INTERVAL, V, genesis, grow


def members(protocol) -> set[str]:
    """What a protocol names: its methods, properties and annotated attributes, inherited ones too."""
    names = set()
    for cls in protocol.__mro__:
        if cls in (typing.Protocol, typing.Generic, object):
            continue
        names |= {n for n in vars(cls) if not n.startswith("_")}
        names |= set(getattr(cls, "__annotations__", {}))
    return names


@pytest.fixture
def chain(tmp_path):
    chain = Blockchain.open(tmp_path, genesis())
    grow(chain, INTERVAL + 1)
    yield chain
    chain.close()


@pytest.mark.parametrize("protocol", [ChainReader, ChainWriter, ChainHistory, SnapshotSource])
def test_the_live_chain_has_everything_its_consumers_are_typed_with(chain, protocol):
    missing = sorted(n for n in members(protocol) if not hasattr(chain, n))
    assert missing == [], f"Blockchain lacks {missing} of {protocol.__name__}"


def test_a_snapshot_has_the_reads_and_refuses_every_write(chain):
    snapshot = chain.snapshot()
    try:
        missing = sorted(n for n in members(HistorySnapshot) if not hasattr(snapshot, n))
        assert missing == [], f"ChainSnapshot lacks {missing} of HistorySnapshot"
        writes = members(ChainWriter) - members(ChainReader)
        assert writes == {"build_block", "execute_block", "commit"}
        assert [n for n in writes if hasattr(snapshot, n)] == []
        with pytest.raises(StorageError, match="read-only"):
            snapshot.store.commit_block(None, (), {}, {}, b"")
    finally:
        snapshot.close()
    assert chain.header_by_number(1) is not None  # closing the snapshot left the live chain open


def test_reads_through_a_snapshot_equal_the_live_chain_at_the_same_head(chain):
    snapshot = chain.snapshot()
    try:
        for number in range(chain.height + 1):
            assert snapshot.header_by_number(number) == chain.header_by_number(number)
            assert snapshot.block_hash(number) == chain.block_hash(number)
        assert snapshot.validators_at(chain.height + 1) == chain.validators_at(chain.height + 1)
        assert snapshot.state().get_account(V) == chain.state().get_account(V)
        assert snapshot.state_trie().root_hash == chain.state_trie().root_hash
        assert final_checkpoint(snapshot, 1) == final_checkpoint(chain, 1)
        grow(chain, 1)
        assert snapshot.height == chain.height - 1 and snapshot.header_by_number(chain.height) is None
        assert snapshot.canonical_hash(chain.height) is None and chain.canonical_hash(chain.height) == chain.head.hash
    finally:
        snapshot.close()

