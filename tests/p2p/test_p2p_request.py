"""Request/response between real services: big payloads, and each failure raised as its own error."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from p2p_support import Cluster, run, wait_connected

from sidechain.errors import SidechainError
from sidechain.p2p import MessageTooLarge, RemoteError, RequestError, RequestTimeout, TransportError, UnsupportedProtocol

BLOCKS = "/sidechain/sync/blocks/1"


async def pair(c: Cluster, **server_extra):
    server = await c.add("server", **server_extra)
    client = await c.add("client", bootstrap=[server.service.listen_addr()])
    await wait_connected([server, client], [(1, 0), (0, 1)])
    return server, client


def test_a_three_megabyte_response_arrives_intact(tmp_path):
    body = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32)
    seen: list[tuple[bytes, str]] = []

    async def serve_blocks(data: bytes, peer: str) -> bytes:
        seen.append((data, peer))
        return body

    async def echo(data: bytes, peer: str) -> bytes:
        return data

    async def with_echo():
        async with Cluster(tmp_path) as c:
            server = await c.add("server")
            client_member = await c.add("client", bootstrap=[server.service.listen_addr()], start=False)
            client_member.service.set_request_handler("/echo", echo)
            await client_member.service.start()
            await wait_connected([server, client_member], [(1, 0), (0, 1)])
            server.service.set_request_handler(BLOCKS, serve_blocks)
            assert await client_member.service.request(server.service.peer_id, BLOCKS, b"from 1, 64 blocks") == body
            assert await server.service.request(client_member.service.peer_id, "/echo", b"e" * 1000) == b"e" * 1000

    run(with_echo())


def test_unknown_protocol_raises_unsupported_protocol(tmp_path):
    async def scenario():
        async with Cluster(tmp_path) as c:
            server, client = await pair(c)
            with pytest.raises(UnsupportedProtocol) as info:
                await client.service.request(server.service.peer_id, "/nobody/serves/this", b"x", timeout=5)
            assert "/nobody/serves/this" in str(info.value)
            assert isinstance(info.value, RequestError) and isinstance(info.value, SidechainError)

    run(scenario())


def test_a_slow_handler_makes_the_request_time_out(tmp_path):
    release = asyncio.Event()

    async def stall(data: bytes, peer: str) -> bytes:
        await release.wait()
        return b"too late"

    async def scenario():
        async with Cluster(tmp_path) as c:
            server, client = await pair(c)
            server.service.set_request_handler("/stall", stall)
            started = asyncio.get_running_loop().time()
            with pytest.raises(RequestTimeout):
                await client.service.request(server.service.peer_id, "/stall", b"x", timeout=0.5)
            assert asyncio.get_running_loop().time() - started < 2.0
            release.set()

    run(scenario())


def test_handler_failure_is_reported_to_the_requester(tmp_path):
    class BadRange(SidechainError):
        pass

    async def picky(data: bytes, peer: str) -> bytes:
        if data == b"expected":
            raise BadRange("block range starts after our head 7")
        raise KeyError("internal detail")

    async def scenario():
        async with Cluster(tmp_path) as c:
            server, client = await pair(c)
            server.service.set_request_handler("/picky", picky)
            with pytest.raises(RemoteError, match="starts after our head 7"):
                await client.service.request(server.service.peer_id, "/picky", b"expected")
            with pytest.raises(RemoteError, match="internal error \\(KeyError\\)") as info:
                await client.service.request(server.service.peer_id, "/picky", b"other")
            assert "internal detail" not in str(info.value)

    run(scenario())


def test_size_limits_and_unreachable_peers(tmp_path):
    async def huge(data: bytes, peer: str) -> bytes:
        return b"h" * (4 * 1024 * 1024 + 1)

    async def scenario():
        async with Cluster(tmp_path) as c:
            server, client = await pair(c)
            server.service.set_request_handler("/huge", huge)
            with pytest.raises(MessageTooLarge):
                await client.service.request(server.service.peer_id, "/huge", b"r" * (4 * 1024 * 1024 + 1))
            with pytest.raises(RemoteError, match="above the 4194304 limit"):
                await client.service.request(server.service.peer_id, "/huge", b"r")
            with pytest.raises(TransportError):
                await client.service.request("not-a-peer-id", "/huge", b"r")
            stranger = (await c.add("stranger", start=False)).service.peer_id  # never listened anywhere
            with pytest.raises(RequestError):
                await client.service.request(stranger, "/huge", b"r", timeout=2)

    run(scenario())
