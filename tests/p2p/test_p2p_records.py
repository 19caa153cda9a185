"""Signed peer records (sidechain/p2p/records.py): a record already accepted from a peer is not
verified and stored again on every message; anything else still is, and so is each record again
after RECHECK_SECONDS; our own record is looked up at most once per SEND_CACHE_SECONDS."""

from __future__ import annotations

import libp2p.pubsub.gossipsub as gossipsub_module
import libp2p.pubsub.pubsub as pubsub_module
import pytest

from sidechain.p2p import records


class Msg:
    def __init__(self, record: bytes | None) -> None:
        self.senderRecord = record

    def HasField(self, name: str) -> bool:  # noqa: N802 - protobuf's name
        return self.senderRecord is not None


class Host:
    """A host object (the caches are per host)."""


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(records.time, "monotonic", lambda: now[0])
    return now


def counting_consume(verdict=lambda msg, peer: True):
    calls = []

    def consume(msg, host, peer_id):
        calls.append((msg.senderRecord, peer_id))
        return verdict(msg, peer_id)

    return consume, calls


def test_a_record_accepted_from_a_peer_is_not_checked_again_on_its_next_messages(clock):
    consume, calls = counting_consume()
    check, host = records.remembering(consume), Host()
    assert all(check(Msg(b"record-a"), host, "peer-1") for _ in range(5))
    assert calls == [(b"record-a", "peer-1")]


def test_a_new_record_another_peer_and_no_record_are_handled_as_libp2p_does(clock):
    consume, calls = counting_consume()
    check, host = records.remembering(consume), Host()
    check(Msg(b"record-a"), host, "peer-1")
    assert check(Msg(b"record-b"), host, "peer-1")  # the peer's addresses changed
    assert check(Msg(b"record-a"), host, "peer-2")  # the same bytes from someone else: checked
    assert check(Msg(None), host, "peer-3")  # nothing to check
    assert calls == [(b"record-a", "peer-1"), (b"record-b", "peer-1"), (b"record-a", "peer-2")]


def test_a_rejected_record_is_checked_every_time(clock):
    consume, calls = counting_consume(verdict=lambda msg, peer: False)
    check, host = records.remembering(consume), Host()
    assert not check(Msg(b"forged"), host, "peer-1")
    assert not check(Msg(b"forged"), host, "peer-1")
    assert len(calls) == 2


def test_an_accepted_record_is_checked_again_after_the_recheck_time(clock):
    consume, calls = counting_consume()
    check, host = records.remembering(consume), Host()
    check(Msg(b"record-a"), host, "peer-1")
    clock[0] += records.RECHECK_SECONDS - 1
    check(Msg(b"record-a"), host, "peer-1")
    clock[0] += 1
    check(Msg(b"record-a"), host, "peer-1")
    assert len(calls) == 2


def test_each_host_keeps_its_own_view_of_its_peers(clock):
    consume, calls = counting_consume()
    check = records.remembering(consume)
    check(Msg(b"record-a"), Host(), "peer-1")
    check(Msg(b"record-a"), Host(), "peer-1")
    assert len(calls) == 2


def test_our_own_record_is_looked_up_once_a_second(clock):
    looked = []
    send = records.caching(lambda host: looked.append(host) or (b"ours", False))
    host = Host()
    assert [send(host) for _ in range(3)] == [(b"ours", False)] * 3
    clock[0] += records.SEND_CACHE_SECONDS
    send(host)
    assert looked == [host, host]


def test_install_wraps_both_modules_once():
    records.install()
    records.install()
    for module in (pubsub_module, gossipsub_module):
        assert hasattr(module.maybe_consume_signed_record, "wrapped")
        assert not hasattr(module.maybe_consume_signed_record.wrapped, "wrapped")
        assert hasattr(module.env_to_send_in_RPC, "wrapped")
