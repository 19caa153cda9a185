"""Real P2PService instances on 127.0.0.1 for the p2p tests, each with its own trio thread.

`run` drives a coroutine without pytest plugins (waiting on a condition is tests/waiting.py's
`wait_for`); `Cluster` starts services and stops every one of them on the
way out, failure or not.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from sidechain.p2p import P2PConfig, P2PService, ValidationResult
from waiting import wait_for

NETWORK = b"\x11" * 32
TOPIC = "blocks/1"


def run(coro, timeout: float = 60.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accept_all(data: bytes, peer: str) -> ValidationResult:
    return ValidationResult.ACCEPT


class Member:
    """One service plus what its handler received on TOPIC: (data, origin peer)."""

    def __init__(self, service: P2PService) -> None:
        self.service = service
        self.received: list[tuple[bytes, str]] = []

    @property
    def data(self) -> list[bytes]:
        """Received payloads, without the readiness probes."""
        return [d for d, _ in self.received if not d.startswith(b"probe")]


class Cluster:
    """`async with Cluster(tmp_path) as c`: services made with `c.add(...)` are all stopped on exit."""

    def __init__(self, root: Path, redial_interval: float = 0.3) -> None:
        self.root = root
        self.redial_interval = redial_interval
        self.members: list[Member] = []

    def config(self, name: str, port: int | None = None, bootstrap: tuple[str, ...] = (), **extra) -> P2PConfig:
        extra.setdefault("network_id", NETWORK)
        extra.setdefault("redial_interval", self.redial_interval)
        return P2PConfig(listen_port=port or free_port(), identity_path=self.root / name / "identity.key", bootstrap=bootstrap, **extra)

    async def add(self, name: str, *, validator=accept_all, port: int | None = None, bootstrap=(), start=True, **extra) -> Member:
        service = P2PService(self.config(name, port, tuple(bootstrap), **extra))
        member = Member(service)
        service.subscribe(TOPIC, validator, lambda data, peer: member.received.append((data, peer)))
        self.members.append(member)
        if start:
            await service.start()
        return member

    async def __aenter__(self) -> Cluster:
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.gather(*(m.service.stop() for m in self.members), return_exceptions=True)


async def wait_connected(members: list[Member], pairs: list[tuple[int, int]], timeout: float = 10.0) -> None:
    def all_up() -> bool:
        return all(members[b].service.peer_id in members[a].service.peers() for a, b in pairs)

    await wait_for(all_up, timeout, f"connections {pairs}")


async def wait_meshed(members: list[Member], timeout: float = 10.0) -> None:
    """Gossip settled among `members` (so nothing waits for lazy gossip): each knows every linked
    member subscribes to TOPIC (flood publishing reaches them), has a relay mesh peer, and the
    relay meshes are mutual (every GRAFT answered)."""
    by_id = {m.service.peer_id: m for m in members}

    def meshed() -> bool:
        for m in members:
            linked = set(by_id) & set(m.service.peers())
            mesh = set(m.service.mesh_peers(TOPIC)) & linked
            if not linked or not linked <= set(m.service.subscribers(TOPIC)) or not mesh:
                return False
            if any(m.service.peer_id not in by_id[p].service.mesh_peers(TOPIC) for p in mesh):
                return False
        return True

    await wait_for(meshed, timeout, "settled gossip meshes")


async def wait_mesh_ready(sender: Member, receivers: list[Member], timeout: float = 10.0) -> None:
    """Meshes complete, then probes until every receiver got one: gossip from `sender` flows end to end."""
    await wait_meshed([sender, *receivers], timeout)
    deadline = time.monotonic() + timeout
    n = 0
    while not all(any(d.startswith(b"probe") for d, _ in r.received) for r in receivers):
        if time.monotonic() > deadline:
            raise AssertionError(f"gossip from {sender.service.peer_id} did not reach every receiver")
        sender.service.publish(TOPIC, b"probe-%d" % n)
        n += 1
        await asyncio.sleep(0.1)  # the pace of the probes; the condition above is what is awaited
