"""py-libp2p's logging routed into ours (LIBP2P_NOTES pitfall 12).

libp2p configures its `libp2p` logger with `propagate=False` and no handler, so its warnings reach
raw stderr through logging's last-resort handler: dial races logged at ERROR at start-up, handshake
dumps, "GRAFT flood detected" when D < N-1. We attach one handler that re-emits its records (WARNING
and above) under `sidechain.p2p.libp2p`, where the node's own logging configuration decides.
Messages known to be noise in normal operation are lowered to DEBUG.

Its `multiaddr` dependency logs every address parse at DEBUG (several lines per dial and per
identify); it is held at WARNING so a node running with DEBUG logging is not flooded.

If LIBP2P_DEBUG is set, libp2p's own debug logging was asked for: it is left alone.
"""

from __future__ import annotations

import logging
import os

TARGET = logging.getLogger("sidechain.p2p.libp2p")

_NOISE = (
    "fail to deliver message to subscription",  # only after our own queue limit; counted instead
    "Failed to dial",
    "Equivocation detected",
    "GRAFT flood detected",
    "Error in connection handler",
    "connection closed",
    "Failed to open stream to peer",  # an unsupported request protocol: raised to the caller
    "Failed to open TCP stream",  # the redial loop trying a peer that is down
    "MultiselectClient handshake",  # a stream opened while the peer closes the connection
    "TCP connection reset by remote peer",  # a peer stopped or was killed: the redial loop handles it
    "/req/peers/1",  # a peer exchange cut short by a disconnect: counted (peer_exchange_failed), retried
    "failed to negotiate the secure protocol",  # a dial that met a stopping peer mid-handshake: redialled
)


class _Forward(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed libp2p log call must not break the caller
            return
        level = logging.DEBUG if any(noise in message for noise in _NOISE) else record.levelno
        if TARGET.isEnabledFor(level):
            TARGET.log(level, "%s: %s", record.name, message, exc_info=record.exc_info if level >= logging.ERROR else None)


_installed = False


def route_libp2p_logging() -> None:
    """Idempotent: forward the `libp2p` logger to `sidechain.p2p.libp2p` at WARNING."""
    global _installed
    if _installed or os.environ.get("LIBP2P_DEBUG"):
        return
    root = logging.getLogger("libp2p")
    root.handlers.clear()
    handler = _Forward()
    handler.setLevel(logging.WARNING)  # some libp2p modules set their own loggers to INFO
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    root.propagate = False
    logging.getLogger("multiaddr").setLevel(logging.WARNING)
    _installed = True
