"""Our adjustments to py-libp2p 0.8.1's pubsub (LIBP2P_NOTES.md pitfalls in brackets): queue limits
[4, 5], a stream handler that survives a peer's bad frame, a validation step that does not print
the message into its error, and flood publishing. node.py assembles them."""

from __future__ import annotations

import logging
import os
from collections import Counter, OrderedDict
from collections.abc import Callable

import libp2p.pubsub.pubsub as pubsub_module
import trio
from libp2p.exceptions import ValidationError
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.rpc_queue import RpcQueue

from . import records
from .links import PeerLinks
from .config import GOSSIP_FRAME_LIMIT

log = logging.getLogger("sidechain.p2p")

SUBSCRIPTION_QUEUE = 8192
OUTGOING_QUEUE = 1024
BACKPRESSURE_AT = OUTGOING_QUEUE * 3 // 4
YAMUX_RELEASE_ON_READ = "PY_YAMUX_RELEASE_ON_READ"


class GuardedPubsub(Pubsub):
    """py-libp2p 0.8.1 lets a protobuf DecodeError (a peer's malformed or truncated RPC frame) escape
    the pubsub stream handler; it then tears down the connection's nursery and with it the whole
    host: one bad frame stopped a node. Contain any failure to the stream it came from, count it
    against the peer and drop that stream."""

    on_bad_stream: Callable[[ID], None] = staticmethod(lambda peer: None)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._failed: OrderedDict[bytes, None] = OrderedDict()

    async def stream_handler(self, stream) -> None:
        peer_id = stream.muxed_conn.peer_id
        try:
            await super().stream_handler(stream)
        except Exception as exc:  # noqa: BLE001 - whatever a peer sends must not stop this node
            log.info("p2p: dropped a pubsub stream from %s: %s: %s", peer_id, type(exc).__name__, exc)
            self.on_bad_stream(peer_id)
            try:
                await stream.reset()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._handle_dead_peer(peer_id)

    def forget_stale_peers(self) -> int:
        """Drop every peer whose pubsub stream runs on a connection that is gone; returns how many.

        py-libp2p 0.8.1 forgets a peer when its pubsub stream fails, which a connection we closed
        ourselves (keepalive.py: a silent peer) does not always make happen: the peer stayed in
        `peers` with its stream on the dead connection, so after the redial `_handle_new_peer` saw
        it "already has a pubsub stream", kept the dead one, and nothing reached that peer again.
        Forgetting it lets the next connection open a fresh stream (libp2p does that itself for a
        peer that is still connected)."""
        network = self.host.get_network()
        stale = [peer for peer, stream in self.peers.items()
                 if not any(conn.muxed_conn is stream.muxed_conn for conn in network.get_connections(peer))]
        for peer in stale:
            self._handle_dead_peer(peer)
        return len(stale)

    FAILED_REMEMBERED = 4096
    """Ids of messages that failed validation, kept so their duplicates are refused unvalidated."""

    async def validate_msg(self, msg_forwarder: ID, msg) -> None:
        """The topic validators as py-libp2p runs them (the validation timeout, the semaphore on
        async validators; a failed message's duplicates refused without validating again), with a
        short error and an O(1) memory of failures. py-libp2p formats the whole protobuf message
        into the ValidationError it raises, ~0.9 ms for a 14 KB transaction batch, for every
        message not ACCEPTed (an IGNOREd batch of known transactions) and for each duplicate; its
        verdict cache scans a list of 1,000 ids on every message. An ACCEPTed message needs no
        memory here: libp2p marks it seen and drops its duplicates before they get this far."""
        msg_id = self._msg_id_constructor(msg)
        failed = self._failed
        if msg_id in failed:
            raise ValidationError("message failed validation before")
        valid = True
        with trio.move_on_after(self.validation_timeout) as scope:
            for topic_validator in self.get_msg_validators(msg):
                if topic_validator.is_async:
                    async with self._validator_semaphore:
                        valid = await topic_validator.validator(msg_forwarder, msg)
                else:
                    valid = topic_validator.validator(msg_forwarder, msg)
                if not valid:
                    break
        if valid and not scope.cancelled_caught:
            return
        failed[msg_id] = None
        if len(failed) > self.FAILED_REMEMBERED:
            failed.popitem(last=False)
        raise ValidationError(f"message 0x{msg.seqno.hex()} from {ID(msg.from_id)} failed validation")


class _RoomyRpcQueue(RpcQueue):
    """libp2p's per-peer outgoing queue (32 RPCs, 1 MiB frames) with room for bursts and big messages."""

    def __init__(self, max_size: int = OUTGOING_QUEUE, max_message_size: int = GOSSIP_FRAME_LIMIT) -> None:
        super().__init__(max_size=max_size, max_message_size=max_message_size)


def tune_libp2p() -> None:
    """Raise libp2p's module-level queue limits, take the per-message cost out of its signed peer
    records (records.py) and batch yamux flow-control credit; idempotent, before any Pubsub
    subscribes.

    py-libp2p's yamux answers every read with a WINDOW_UPDATE frame (`PY_YAMUX_RELEASE_ON_READ`,
    on by default): a second frame, encrypted, written and read back, for each gossip message.
    Off, credit goes back once half the window (128 KiB) has been read, as go-yamux does. The
    setting is py-libp2p's own knob, read at each call; a value the operator set is kept."""
    os.environ.setdefault(YAMUX_RELEASE_ON_READ, "0")
    pubsub_module.SUBSCRIPTION_CHANNEL_SIZE = max(pubsub_module.SUBSCRIPTION_CHANNEL_SIZE, SUBSCRIPTION_QUEUE)
    pubsub_module.RpcQueue = _RoomyRpcQueue
    records.install()


class FloodPublishGossipSub(GossipSub):
    """gossipsub with flood publishing (gossipsub v1.1, go-libp2p's default; py-libp2p 0.8.1 lacks it):
    our own messages go to every connected peer subscribed to the topic, not only to our mesh, so a
    vote or proposal reaches each peer in one hop even where D < n-1; relays still use the mesh,
    less the peers that said they are linked to the message's origin (links.py)."""

    links: PeerLinks | None = None
    stats: Counter | None = None

    def _get_peers_to_send(self, topic_ids, msg_forwarder, origin, msg_id=None):
        peers = set(super()._get_peers_to_send(topic_ids, msg_forwarder, origin, msg_id))
        if self.pubsub is None:
            return peers
        if msg_forwarder == origin == self.pubsub.my_id:
            for topic in topic_ids:
                peers.update(p for p in self.pubsub.peer_topics.get(topic, ()) if p in self.peer_protocol)
        else:
            if self.links is not None and peers:
                source = origin.to_bytes()
                heard = {p for p in peers if self.links.hears(p.to_bytes(), source)}
                peers -= heard
                if self.stats is not None:
                    self.stats["relays_skipped"] += len(heard)
            if self.stats is not None:
                self.stats["relays_sent"] += len(peers)
        return peers
