"""Signed peer records without the per-message cost (py-libp2p 0.8.1, LIBP2P_NOTES style pitfall).

py-libp2p attaches the host's signed peer record (an Ed25519-signed envelope of its addresses) to
every pubsub RPC it sends, reading the host's addresses to check its cached record first, and every
RPC it receives has that record verified twice (by pubsub and again by gossipsub) and its addresses
stored in the peerstore again. A record changes only when a peer's addresses do, yet this was ~15%
of the p2p thread at low load (py-spy, `scripts/bench --validators 4 --rate 100 --profile-gil`).

`install()` wraps both module-level functions, for the whole process:
- receiving: a record byte-for-byte equal to the last one accepted from the same peer, within
  RECHECK_SECONDS, is taken as accepted (it verified then, and the peerstore holds its addresses);
  any other record is checked and stored as libp2p does, and so is each one again once that time
  has passed, which also renews its addresses' time to live;
- sending: the host's own record is looked up at most once per SEND_CACHE_SECONDS.
"""

from __future__ import annotations

import time
import weakref

import libp2p.pubsub.gossipsub as gossipsub_module
import libp2p.pubsub.pubsub as pubsub_module

RECHECK_SECONDS = 600.0
SEND_CACHE_SECONDS = 1.0
MAX_PEERS_REMEMBERED = 4096

_accepted: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
"""host -> {peer id: (record bytes, when accepted)}."""
_sent: "weakref.WeakKeyDictionary[object, tuple[float, tuple[bytes, bool]]]" = weakref.WeakKeyDictionary()
"""host -> (when looked up, what env_to_send_in_RPC answered)."""


def remembering(consume):
    """`consume(msg, host, peer_id) -> bool` (libp2p's maybe_consume_signed_record), skipping a
    record already accepted from that peer (see the module docstring)."""

    def maybe_consume_signed_record(msg, host, peer_id) -> bool:
        if not msg.HasField("senderRecord"):
            return True
        record = msg.senderRecord
        seen = _accepted.setdefault(host, {})
        last = seen.get(peer_id)
        now = time.monotonic()
        if last is not None and last[0] == record and now - last[1] < RECHECK_SECONDS:
            return True
        accepted = consume(msg, host, peer_id)
        if accepted:
            if len(seen) >= MAX_PEERS_REMEMBERED and peer_id not in seen:
                seen.pop(next(iter(seen)))
            seen[peer_id] = (record, now)
        return accepted

    maybe_consume_signed_record.wrapped = consume
    return maybe_consume_signed_record


def caching(lookup):
    """`lookup(host)` (libp2p's env_to_send_in_RPC), answered from a cache for SEND_CACHE_SECONDS."""

    def env_to_send_in_RPC(host) -> tuple[bytes, bool]:  # noqa: N802 - libp2p's name
        now = time.monotonic()
        cached = _sent.get(host)
        if cached is not None and now - cached[0] < SEND_CACHE_SECONDS:
            return cached[1]
        answer = lookup(host)
        _sent[host] = (now, answer)
        return answer

    env_to_send_in_RPC.wrapped = lookup
    return env_to_send_in_RPC


def install() -> None:
    """Wrap libp2p's record functions where pubsub and gossipsub call them (idempotent)."""
    for module in (pubsub_module, gossipsub_module):
        if not hasattr(module.maybe_consume_signed_record, "wrapped"):
            module.maybe_consume_signed_record = remembering(module.maybe_consume_signed_record)
        if not hasattr(module.env_to_send_in_RPC, "wrapped"):
            module.env_to_send_in_RPC = caching(module.env_to_send_in_RPC)
