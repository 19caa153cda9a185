"""Peer exchange and the persisted peer table: how a node that knows one peer comes to know them all.

Every `EXCHANGE_INTERVAL` the keeper asks each connected peer (request/response protocol
"peers/1", namespaced with the network id) for the peers it knows, and dials what is new. A
response holds at most `MAX_RECORDS` records of at most `MAX_ADDRS` addresses each; anything
else is refused whole. The known table is written to `peers.json` beside the identity (at most
`MAX_RECORDS` entries, atomically), so a restarted node redials its peers without `--bootstrap`.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import rlp

from .addresses import is_dialable, parse_peer_addr
from .errors import AddressError, P2PError

log = logging.getLogger("sidechain.p2p")

PROTOCOL = "peers/1"
EXCHANGE_INTERVAL = 5.0
"""Seconds between two rounds of asking the connected peers for theirs."""
MAX_RECORDS = 64
"""Records in one exchange response, and in the persisted table."""
MAX_ADDRS = 4
"""Addresses per record."""
MAX_RESPONSE_BYTES = MAX_RECORDS * (64 + MAX_ADDRS * 260) + 64
"""Bound of an encoded response: peer id (<= 64 bytes) plus addresses (<= 256 chars each, RLP framing)."""
MAX_FILE_BYTES = 256 << 10
FILE_VERSION = 1


class PeerTableError(P2PError):
    """A peer-exchange message or the persisted peer table is malformed or too large."""


@dataclass(frozen=True, slots=True)
class PeerRecord:
    """One known peer, as exchanged between nodes and persisted."""

    peer_id: str
    """Base58 libp2p peer id."""
    addrs: tuple[str, ...]
    """Dialable transport multiaddrs, without /p2p/PEER_ID: "/ip4/10.0.0.5/tcp/30333", "/dns4/v1.example/tcp/30333"."""

    def __post_init__(self) -> None:
        if not 0 < len(self.addrs) <= MAX_ADDRS:
            raise PeerTableError(f"a peer record holds 1..{MAX_ADDRS} addresses, got {len(self.addrs)}")
        for addr in self.addrs:
            _, maddr = parse_peer_addr(f"{addr}/p2p/{self.peer_id}", "peer record address")
            if not is_dialable(maddr):
                raise PeerTableError(f"peer record address {addr!r} cannot be dialled")

    @classmethod
    def make(cls, peer_id: str, addrs) -> PeerRecord | None:
        """A record of the dialable addresses among `addrs` (first MAX_ADDRS), or None if there are none.
        A trailing /p2p/PEER_ID (identify reports addresses with it) is dropped."""
        good: list[str] = []
        for addr in addrs:
            text = str(addr).split("/p2p/", 1)[0]
            try:
                _, maddr = parse_peer_addr(f"{text}/p2p/{peer_id}", "peer address")
            except AddressError:
                continue
            if is_dialable(maddr) and text not in good:
                good.append(text)
        return cls(peer_id, tuple(good[:MAX_ADDRS])) if good else None


def encode_records(records: list[PeerRecord]) -> bytes:
    """RLP [[peer_id, [addr, ...]], ...] of at most MAX_RECORDS records."""
    return rlp.encode([[r.peer_id.encode(), [a.encode() for a in r.addrs]] for r in records[:MAX_RECORDS]])


def bounded_rlp_list(data: bytes, *, max_bytes: int, max_items: int, what: str, error: type[P2PError]) -> list:
    """The items of `data`, an RLP list of at most `max_items` in at most `max_bytes`; raises
    `error` naming `what` otherwise (a peer's answer: refused whole)."""
    if len(data) > max_bytes:
        raise error(f"{what} of {len(data)} bytes is above the {max_bytes}-byte limit")
    try:
        items = rlp.decode(data)
    except Exception as exc:  # noqa: BLE001 - rlp raises assorted DecodingError types
        raise error(f"{what} is not RLP: {exc}") from None
    if not isinstance(items, list) or len(items) > max_items:
        raise error(f"{what} must be a list of at most {max_items} items")
    return items


def decode_records(data: bytes) -> list[PeerRecord]:
    """The inverse of `encode_records`; raises PeerTableError for anything malformed or out of bounds."""
    items = bounded_rlp_list(data, max_bytes=MAX_RESPONSE_BYTES, max_items=MAX_RECORDS, what="peer exchange response",
                             error=PeerTableError)
    records = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], bytes) and isinstance(item[1], list)
                and all(isinstance(a, bytes) for a in item[1])):
            raise PeerTableError("peer exchange record must be [peer_id, [addr, ...]]")
        try:
            records.append(PeerRecord(item[0].decode("ascii"), tuple(a.decode("ascii") for a in item[1])))
        except (UnicodeDecodeError, AddressError) as exc:
            raise PeerTableError(f"bad peer exchange record: {exc}") from None
    return records


def load_peer_file(path: Path) -> list[PeerRecord]:
    """Records persisted by `save_peer_file`; [] if there is no file. A damaged file is logged and
    ignored (the node still has --bootstrap), never fatal."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PeerTableError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
        obj = json.loads(path.read_text())
        if not isinstance(obj, dict) or obj.get("version") != FILE_VERSION or not isinstance(obj.get("peers"), list):
            raise PeerTableError(f"{path} is not a version-{FILE_VERSION} peer table")
        records = []
        for entry in obj["peers"][:MAX_RECORDS]:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("addrs"), list):
                raise PeerTableError(f"{path}: each peer must be {{id, addrs}}")
            records.append(PeerRecord(entry["id"], tuple(str(a) for a in entry["addrs"])))
        return records
    except FileNotFoundError:
        return []
    except (OSError, ValueError, P2PError) as exc:
        log.warning("p2p: ignoring the persisted peer table: %s", exc)
        return []


def save_peer_file(path: Path, records: list[PeerRecord]) -> None:
    """Write at most MAX_RECORDS records atomically (tmp file, fsync, rename)."""
    body = json.dumps({"version": FILE_VERSION, "peers": [{"id": r.peer_id, "addrs": list(r.addrs)} for r in records[:MAX_RECORDS]]},
                      indent=1).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
