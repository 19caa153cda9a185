"""Where a node listens, what it tells peers to dial, and which peer addresses it accepts.

A node binds exactly one address (`--p2p-host`, an IP literal: binding a name could pick an
interface nobody meant to expose). What peers should dial may differ (NAT, a DNS name):
`--p2p-advertise` takes "/ip4/A/tcp/P", "/ip6/A/tcp/P" or "/dns4/NAME/tcp/P", and libp2p's
identify then reports that address instead of the bound one. Peer addresses (bootstrap entries,
the persisted table, peer exchange) are "/ip4|ip6|dns4|dns6/HOST/tcp/PORT/p2p/PEER_ID".
"""

from __future__ import annotations

import ipaddress

from multiaddr import Multiaddr

from .errors import AddressError

HOST_PROTOCOLS = ("ip4", "ip6", "dns4", "dns6")
MAX_ADDR_CHARS = 256
"""Longest multiaddr text accepted from a flag, a file or a peer (a DNS name is at most 253)."""


def parse_listen_host(host: str) -> str:
    """The IP literal `--p2p-host` binds (normalised); raises AddressError for anything else."""
    try:
        return str(ipaddress.ip_address(host.strip()))
    except ValueError:
        raise AddressError(f"--p2p-host {host!r} is not an IP address (e.g. 127.0.0.1, 10.0.0.5 or 0.0.0.0); "
                           "names are for --p2p-advertise") from None


def listen_multiaddr(host: str, port: int) -> Multiaddr:
    """"/ip4/HOST/tcp/PORT" (or /ip6/) for an IP literal from `parse_listen_host`."""
    family = "ip6" if ipaddress.ip_address(host).version == 6 else "ip4"
    return Multiaddr(f"/{family}/{host}/tcp/{port}")


def parse_advertise(addr: str) -> Multiaddr:
    """`--p2p-advertise`: "/ip4|ip6|dns4|dns6/HOST/tcp/PORT", no peer id; raises AddressError."""
    maddr = _parse(addr, "--p2p-advertise")
    names = [p.name for p in maddr.protocols()]
    if len(names) != 2 or names[0] not in HOST_PROTOCOLS or names[1] != "tcp":
        raise AddressError(f"--p2p-advertise {addr!r} must be /ip4/ADDR/tcp/PORT or /dns4/NAME/tcp/PORT "
                           "(without /p2p/PEER_ID: the node adds its own)")
    _check_host_and_port(maddr, addr, "--p2p-advertise")
    return maddr


def parse_peer_addr(addr: str, what: str = "bootstrap address") -> tuple[str, Multiaddr]:
    """(base58 peer id, transport multiaddr) of "/ip4|dns4/HOST/tcp/PORT/p2p/PEER_ID"; raises AddressError."""
    maddr = _parse(addr, what)
    names = [p.name for p in maddr.protocols()]
    if len(names) != 3 or names[0] not in HOST_PROTOCOLS or names[1] != "tcp" or names[2] != "p2p":
        raise AddressError(f"{what} {addr!r} is not /ip4/HOST/tcp/PORT/p2p/PEER_ID (or /dns4/NAME/tcp/PORT/p2p/PEER_ID)")
    _check_host_and_port(maddr, addr, what)
    peer_id = maddr.value_for_protocol("p2p")
    try:
        from libp2p.peer.id import ID

        ID.from_base58(peer_id)
    except Exception:  # noqa: BLE001 - base58 and multihash raise assorted types
        raise AddressError(f"{what} {addr!r}: {peer_id!r} is not a libp2p peer id") from None
    return peer_id, maddr.decapsulate(Multiaddr(f"/p2p/{peer_id}"))


def is_dialable(maddr: Multiaddr) -> bool:
    """False for addresses nobody can dial: the unspecified 0.0.0.0 / :: a node bound to all interfaces."""
    names = [p.name for p in maddr.protocols()]
    if len(names) < 2 or names[0] not in HOST_PROTOCOLS or names[1] != "tcp":
        return False
    if names[0] in ("ip4", "ip6"):
        return not ipaddress.ip_address(maddr.value_for_protocol(names[0])).is_unspecified
    return True


def _parse(addr: str, what: str) -> Multiaddr:
    if not isinstance(addr, str) or not addr or len(addr) > MAX_ADDR_CHARS:
        raise AddressError(f"{what} must be a multiaddr of 1..{MAX_ADDR_CHARS} characters, got {str(addr)[:80]!r}")
    try:
        return Multiaddr(addr)
    except Exception as exc:  # noqa: BLE001 - multiaddr raises assorted types
        raise AddressError(f"{what} {addr!r} is not a valid multiaddr: {exc}") from None


def _check_host_and_port(maddr: Multiaddr, addr: str, what: str) -> None:
    port = int(maddr.value_for_protocol("tcp"))
    if not 0 < port < 65536:
        raise AddressError(f"{what} {addr!r}: TCP port must be 1..65535, got {port}")
    family = maddr.protocols()[0].name
    if family in ("ip4", "ip6") and ipaddress.ip_address(maddr.value_for_protocol(family)).is_unspecified:
        raise AddressError(f"{what} {addr!r}: {maddr.value_for_protocol(family)} cannot be dialled; give the host's real address")
