"""What a node configures about its peer-to-peer layer, and the verdict of a gossip validator."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

GOSSIP_FRAME_LIMIT = 2 << 20
"""Bytes of one pubsub RPC frame, in and out (libp2p's default is 1 MiB, too tight for a 1 MiB message
plus its envelope). Every node runs this code, so raising it on all sides is safe."""

MAX_GOSSIP_BYTES = GOSSIP_FRAME_LIMIT - (64 << 10)
"""The largest `max_message_bytes` allowed: room for the topic, signature and sender record."""

MAX_REQUEST_BYTES = 4 << 20
"""Request and response payloads (LIBP2P_NOTES pitfall 9: exchanges above ~6.5 MB fail)."""


@dataclass(frozen=True, slots=True)
class P2PConfig:
    listen_port: int
    """TCP port, bound on `listen_host` only."""
    identity_path: Path
    """ed25519 key of this node (created 0600 if missing): the peer id stays the same across restarts."""
    bootstrap: tuple[str, ...]
    """Peers to dial: "/ip4/HOST/tcp/PORT/p2p/PEER_ID" or "/dns4/NAME/tcp/PORT/p2p/PEER_ID"."""
    network_id: bytes
    """E.g. the genesis hash: topics and request protocols are namespaced with it, so chains never mix."""
    max_message_bytes: int = 1 << 20
    """Largest gossip payload accepted or published."""
    redial_interval: float = 2.0
    """Seconds between passes of the redial loop over known peers."""
    reject_threshold: int = 5
    """REJECTed (or oversized/undecodable) messages from one peer before it is penalised."""
    penalty_seconds: float = 60.0
    """How long a penalised peer is disconnected, not redialled and its gossip ignored."""
    keepalive_interval: float = 1.0
    """Seconds between pings of each connected peer (keepalive.py)."""
    keepalive_timeout: float = 4.0
    """Seconds a ping may go unanswered before the peer counts as gone: disconnected, then redialled."""
    validate_timeout: float = 2.0
    """Seconds the asyncio validator may take before the message is IGNOREd."""
    stop_timeout: float = 5.0
    """Seconds `stop` waits for an orderly shutdown before cancelling everything."""
    listen_host: str = "127.0.0.1"
    """The one IP address bound (`--p2p-host`); 0.0.0.0 binds every interface."""
    advertise: str | None = None
    """What peers should dial when it differs from the bound address (`--p2p-advertise`):
    "/ip4/ADDR/tcp/PORT" or "/dns4/NAME/tcp/PORT"; None advertises the bound address."""
    peers_path: Path | None = None
    """Persisted table of known peers (exchange.py), reloaded at start; None keeps it in memory only."""
    peer_exchange: bool = True
    """Ask connected peers for the peers they know and dial those (exchange.py); off only in tests that
    need a line topology. The table is served either way."""

    def __post_init__(self) -> None:
        if not 0 < self.listen_port < 65536:
            raise ValueError(f"listen_port must be 1..65535, got {self.listen_port}")
        if not self.network_id:
            raise ValueError("network_id must not be empty (it keeps two chains' gossip apart)")
        if not 0 < self.max_message_bytes <= MAX_GOSSIP_BYTES:
            raise ValueError(f"max_message_bytes must be 1..{MAX_GOSSIP_BYTES}, got {self.max_message_bytes}")
        if min(self.redial_interval, self.validate_timeout, self.keepalive_interval, self.keepalive_timeout) <= 0 or self.penalty_seconds < 0:
            raise ValueError("redial_interval, validate_timeout and the keepalive interval and timeout must be > 0, "
                             "penalty_seconds >= 0")
        from .addresses import parse_advertise, parse_listen_host

        object.__setattr__(self, "listen_host", parse_listen_host(self.listen_host))
        if self.advertise is not None:
            parse_advertise(self.advertise)
        if self.reject_threshold < 1:
            raise ValueError(f"reject_threshold must be >= 1, got {self.reject_threshold}")


class ValidationResult(enum.Enum):
    """A gossip validator's verdict (consensus-specs p2p-interface): only ACCEPTed messages are relayed."""

    ACCEPT = "accept"
    """Valid: deliver it to the handler and relay it."""
    IGNORE = "ignore"
    """Not useful (stale, duplicate, not yet checkable): drop it, the sending peer is not at fault."""
    REJECT = "reject"
    """Invalid: drop it and count it against the peer that sent it to us."""
