"""Expected failures of the peer-to-peer layer: one root, one subclass per rule."""

from __future__ import annotations

from ..errors import SidechainError


class P2PError(SidechainError):
    """Root of every expected failure of the p2p layer."""


class LoopClosed(P2PError, RuntimeError):
    """The other side of the trio thread is not running (trio finished, or the asyncio loop closed);
    also a RuntimeError, as a call on a closed asyncio loop raises."""


class NotRunning(P2PError):
    """The service is not started, or already stopped."""


class PortInUse(P2PError):
    """Another process (or another service in this one) already listens on the port."""


class IdentityError(P2PError):
    """The identity file is unreadable, corrupt, not ed25519, or held by another running service."""


class MessageTooLarge(P2PError, ValueError):
    """A gossip message or request is above its size limit; also a ValueError, as `publish` promises."""


class RequestError(P2PError):
    """A request/response exchange failed."""


class RequestTimeout(RequestError):
    """No response within the timeout."""


class UnsupportedProtocol(RequestError):
    """The peer does not serve this request protocol."""


class RemoteError(RequestError):
    """The peer's handler failed and said why."""


class TransportError(RequestError):
    """The peer could not be reached, or the stream broke mid-exchange."""


class AddressError(P2PError, ValueError):
    """A listen host, advertised address or peer multiaddr that is malformed or cannot be dialled."""
