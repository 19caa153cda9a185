"""A node's persistent libp2p identity, and the guards that keep two services apart.

The ed25519 key is stored in libp2p's protobuf key format (the one `libp2p.identity_utils` reads),
written atomically with mode 0600, so the peer id survives restarts.

Two guards run before libp2p is started (LIBP2P_NOTES pitfall 11: libp2p listens with SO_REUSEPORT,
so a second host on the same port binds without error and silently shares the incoming
connections):
- an exclusive `flock` on "<identity>.lock", held while the service runs: one identity, one service;
- a plain bind of the listen host:port (SO_REUSEADDR only, so TIME_WAIT leftovers of our own previous run
  do not count): it fails if anything listens there, whatever options that listener used.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path

from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.keys import KeyPair, KeyType
from libp2p.identity_utils import load_identity
from libp2p.peer.id import ID

from .errors import AddressError, IdentityError, PortInUse


def load_or_create_identity(path: Path) -> KeyPair:
    """Load the ed25519 key at `path`, creating it (mode 0600) if there is none."""
    path = Path(path)
    if not path.exists():
        key_pair = create_new_key_pair()
        _write_atomically(path, key_pair.private_key.serialize())
        return key_pair
    try:
        key_pair = load_identity(path)
    except (OSError, ValueError) as exc:
        raise IdentityError(f"cannot load the p2p identity {path}: {exc}") from exc
    if key_pair.private_key.get_type() != KeyType.Ed25519:
        raise IdentityError(f"the p2p identity {path} is a {key_pair.private_key.get_type().name} key, expected Ed25519")
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return key_pair


def peer_id_of(key_pair: KeyPair) -> ID:
    return ID.from_pubkey(key_pair.public_key)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class ServiceGuard:
    """Holds the identity lock for the life of a service; checks the port is free."""

    def __init__(self, identity_path: Path, port: int, host: str = "127.0.0.1") -> None:
        self.lock_path = Path(identity_path).with_name(Path(identity_path).name + ".lock")
        self.port = port
        self.host = host
        self._fd: int | None = None

    def acquire(self) -> None:
        """Raise IdentityError if another service holds the identity, PortInUse if the port is taken."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise IdentityError(f"the p2p identity {self.lock_path.with_suffix('')} is in use by another running service") from None
        self._fd = fd
        try:
            check_port_free(self.port, self.host)
        except PortInUse:
            self.release()
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {self.port}\n".encode())

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    """Raise PortInUse if a socket is bound to host:port (a listener, with or without SO_REUSEPORT);
    ConfigError if `host` is not an address of this machine."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(f"p2p port {host}:{port} is already in use by another process or service") from exc
        if exc.errno == errno.EADDRNOTAVAIL:
            raise AddressError(f"--p2p-host {host} is not an address of this machine: cannot listen there") from exc
        raise
    finally:
        probe.close()
