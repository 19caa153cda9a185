"""What `sidechain run` binds and advertises, checked before anything starts.

The JSON-RPC server binds `--rpc-host` (default 127.0.0.1); anything but a loopback address exposes
the node's API to whoever can reach it, so the node says so at WARNING with the exposed address.
libp2p binds `--p2p-host` and advertises `--p2p-advertise` (sidechain.p2p.addresses checks both).
"""

from __future__ import annotations

import ipaddress

from ..errors import ConfigError
from ..p2p.addresses import parse_advertise, parse_listen_host, parse_peer_addr

MAX_BOOTSTRAP = 64
"""Bootstrap entries accepted on the command line."""


def parse_rpc_host(host: str) -> str:
    """An IP literal (or "localhost") for the JSON-RPC server; raises ConfigError otherwise."""
    host = host.strip()
    if host == "localhost":
        return host
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise ConfigError(f"--rpc-host {host!r} is not an IP address (e.g. 127.0.0.1, 10.0.0.5 or 0.0.0.0)") from None


def rpc_exposure_warning(host: str, port: int) -> str | None:
    """The warning to log when the JSON-RPC server listens beyond loopback, else None."""
    if host == "localhost" or ipaddress.ip_address(host).is_loopback:
        return None
    where = "every interface of this machine" if ipaddress.ip_address(host).is_unspecified else host
    return (f"JSON-RPC is exposed on http://{host}:{port} ({where}): anyone who can reach it can read the chain "
            "and submit transactions; put it behind a firewall or a reverse proxy")


def parse_bootstrap(text: str) -> tuple[str, ...]:
    """Comma-separated peer multiaddrs (/ip4/ or /dns4/ .../tcp/PORT/p2p/PEER_ID), each checked."""
    entries = tuple(dict.fromkeys(e.strip() for e in text.split(",") if e.strip()))
    if len(entries) > MAX_BOOTSTRAP:
        raise ConfigError(f"--bootstrap takes at most {MAX_BOOTSTRAP} addresses, got {len(entries)}")
    for entry in entries:
        parse_peer_addr(entry, "--bootstrap address")
    return entries


def check_p2p_flags(host: str | None, advertise: str | None, port: int | None) -> tuple[str, str | None]:
    """(normalised --p2p-host, default 127.0.0.1; --p2p-advertise) or an AddressError/ConfigError saying what is wrong."""
    if host is not None and port is None:
        raise ConfigError("--p2p-host needs --p2p-port (the node runs without peers otherwise)")
    host = parse_listen_host("127.0.0.1" if host is None else host)
    if advertise is not None:
        parse_advertise(advertise)
    if port is None and advertise is not None:
        raise ConfigError("--p2p-advertise needs --p2p-port (the node runs without peers otherwise)")
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"--p2p-port must be 1..65535, got {port}")
    if port is not None and advertise is None and ipaddress.ip_address(host).is_unspecified:
        raise ConfigError(f"--p2p-host {host} binds every interface, which peers cannot dial: "
                          "give --p2p-advertise /ip4/PUBLIC_IP/tcp/PORT (or /dns4/NAME/tcp/PORT)")
    return host, advertise
