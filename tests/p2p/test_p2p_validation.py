"""sidechain/p2p/pubsub.py: GuardedPubsub.validate_msg (the topic validator's verdict as libp2p
acts on it, a failed message's duplicates refused without a second validation, an error that
names the message instead of printing it) and the yamux credit setting of tune_libp2p."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import trio
from libp2p.exceptions import ValidationError
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import TopicValidator

from sidechain.p2p.pubsub import GuardedPubsub


def pubsub_with(validator, *, is_async=True, timeout=5.0) -> GuardedPubsub:
    """The validation state of a GuardedPubsub, without a host (validate_msg needs nothing else)."""
    ps = GuardedPubsub.__new__(GuardedPubsub)
    ps._failed = OrderedDict()
    ps._msg_id_constructor = lambda msg: msg.seqno + msg.from_id
    ps.validation_timeout = timeout
    ps._validator_semaphore = trio.Semaphore(4)
    ps.get_msg_validators = lambda msg: [TopicValidator(validator, is_async)]
    return ps


def message(n: int, size: int = 14_000) -> rpc_pb2.Message:
    return rpc_pb2.Message(data=b"\x07" * size, topicIDs=["t"], seqno=n.to_bytes(8, "big"), from_id=b"\x00\x24" + b"p" * 36)


def recording(verdict: bool):
    """An async topic validator answering `verdict`, and the seqnos it was asked about."""
    calls: list[bytes] = []

    async def validator(forwarder, msg):
        calls.append(msg.seqno)
        return verdict

    return validator, calls


def test_accepted_messages_pass_and_each_is_validated():
    accept, calls = recording(True)
    ps = pubsub_with(accept)
    trio.run(ps.validate_msg, None, message(1))
    trio.run(ps.validate_msg, None, message(2))

    assert len(calls) == 2


def test_a_failed_message_raises_a_short_error_and_its_duplicates_are_refused_unvalidated():
    ignore, calls = recording(False)
    ps = pubsub_with(ignore)
    with pytest.raises(ValidationError) as first:
        trio.run(ps.validate_msg, None, message(3))
    with pytest.raises(ValidationError, match="failed validation before"):
        trio.run(ps.validate_msg, None, message(3))

    assert len(calls) == 1
    assert "0x0000000000000003" in str(first.value) and len(str(first.value)) < 200  # not the 14 KB payload


def test_a_validator_past_the_timeout_fails_the_message():
    async def slow(forwarder, msg):
        await trio.sleep(10)
        return True

    ps = pubsub_with(slow, timeout=0.05)
    with pytest.raises(ValidationError):
        trio.run(ps.validate_msg, None, message(4))


def test_sync_validators_are_called_directly_and_failures_are_remembered_within_a_bound():
    ps = pubsub_with(lambda forwarder, msg: False, is_async=False)
    ps.FAILED_REMEMBERED = 8
    for n in range(20):
        with pytest.raises(ValidationError):
            trio.run(ps.validate_msg, None, message(n, size=10))

    assert len(ps._failed) == 8
    assert ps._msg_id_constructor(message(19, size=10)) in ps._failed


def test_tuning_batches_yamux_credit_unless_the_operator_chose(monkeypatch):
    from sidechain.p2p.pubsub import YAMUX_RELEASE_ON_READ, tune_libp2p
    from libp2p.stream_muxer.yamux import yamux

    monkeypatch.delenv(YAMUX_RELEASE_ON_READ, raising=False)
    assert yamux._yamux_release_on_read()  # py-libp2p's default: a WINDOW_UPDATE per read
    tune_libp2p()
    assert not yamux._yamux_release_on_read()

    monkeypatch.setenv(YAMUX_RELEASE_ON_READ, "1")
    tune_libp2p()
    assert yamux._yamux_release_on_read()
