"""Which peers each connected peer hears directly, so a relay skips the peers that have the message.

Flood publishing (pubsub.py) sends a node's own message to every peer it is connected to; in a
validator network where everyone is linked to everyone, each relay after that is a duplicate:
~45% of the messages a validator received under `scripts/bench --validators 4 --rate 2600`, each
costing a frame decrypted, parsed and dropped, and one encrypted and sent.

So every `LINKS_INTERVAL` a node asks each connected peer ("links/1", request/response) for the
peers it is connected to, and a relay of a message skips a mesh peer whose answer, fresher than
`LINKS_FRESH`, names the message's origin: that peer got it from the origin itself. A peer that
has not answered (yet, or at all: an older node) is relayed to as before, and a peer that lies
only withholds relays from itself. If a link to the origin breaks, the peer misses the origin's
messages until the next answer (at most `LINKS_INTERVAL`) or lazy gossip fetches them
(a heartbeat, 1 s), whichever is first; an origin that withholds its own message from one peer it
is linked to delays that peer by the same bound.

An answer is at most `MAX_LINKS` raw peer ids (at most 64 bytes each), RLP; anything else is refused
whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import rlp

from .errors import P2PError
from .exchange import bounded_rlp_list

PROTOCOL = "links/1"
LINKS_INTERVAL = 2.0
"""Seconds between two rounds of asking the connected peers for their links."""
LINKS_FRESH = 3 * LINKS_INTERVAL
"""An answer older than this is not relied on: the peer is relayed to as if it had not answered."""
MAX_LINKS = 64
MAX_ID_BYTES = 64
MAX_RESPONSE_BYTES = MAX_LINKS * (MAX_ID_BYTES + 2) + 8


class LinksError(P2PError):
    """A links/1 answer is malformed or too large."""


def encode_links(peer_ids: Iterable[bytes]) -> bytes:
    """RLP [peer_id, ...] of at most MAX_LINKS raw peer ids."""
    return rlp.encode(list(peer_ids)[:MAX_LINKS])


def decode_links(data: bytes) -> frozenset[bytes]:
    """The inverse of `encode_links`; raises LinksError for anything malformed or out of bounds."""
    items = bounded_rlp_list(data, max_bytes=MAX_RESPONSE_BYTES, max_items=MAX_LINKS, what="links answer", error=LinksError)
    if not all(isinstance(item, bytes) and 0 < len(item) <= MAX_ID_BYTES for item in items):
        raise LinksError(f"links answer must hold peer ids of 1..{MAX_ID_BYTES} bytes")
    return frozenset(items)


class PeerLinks:
    """The latest answer of each connected peer, with the time it came (trio's clock)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._answers: dict[bytes, tuple[frozenset[bytes], float]] = {}

    def report(self, peer: bytes, links: frozenset[bytes]) -> None:
        self._answers[peer] = (links, self.clock())

    def forget(self, peer: bytes) -> None:
        self._answers.pop(peer, None)

    def keep_only(self, connected: Iterable[bytes]) -> None:
        """Drop the answers of peers we are no longer connected to."""
        keep = set(connected)
        for peer in self._answers.keys() - keep:
            del self._answers[peer]

    def hears(self, peer: bytes, origin: bytes) -> bool:
        """Whether `peer` said, within LINKS_FRESH, that it is connected to `origin`."""
        answer = self._answers.get(peer)
        return answer is not None and origin in answer[0] and self.clock() - answer[1] <= LINKS_FRESH

    def __len__(self) -> int:
        return len(self._answers)
