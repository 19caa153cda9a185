"""The node's peer-to-peer layer: py-libp2p gossipsub and request/response, usable from asyncio.

`P2PService` (service.py) is the whole API. py-libp2p runs on trio in its own thread; the seam
between the two loops is trio_thread.py and nothing else. node.py is the trio side, identity.py the
persistent key and the port/identity guards, logs.py routes libp2p's logging into ours.
"""

from .config import P2PConfig, ValidationResult
from .errors import (
    IdentityError, MessageTooLarge, NotRunning, P2PError, PortInUse, RemoteError, RequestError, RequestTimeout,
    TransportError, UnsupportedProtocol,
)
from .service import P2PService

__all__ = [
    "IdentityError", "MessageTooLarge", "NotRunning", "P2PConfig", "P2PError", "P2PService", "PortInUse",
    "RemoteError", "RequestError", "RequestTimeout", "TransportError", "UnsupportedProtocol", "ValidationResult",
]
