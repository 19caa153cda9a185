"""A JSON-RPC 2.0 client over HTTP: blocking on the standard library alone, and one asyncio call
over an aiohttp session the caller keeps open.

For what talks to a node (or to anvil) without web3.py's provider stack: devnet tooling, benchmarks,
bridge tooling and tests. One request or one batch per call, no retries: a caller that may resend
knows whether its call is idempotent (the L1 client, bridge/endpoints.py, retries only those).
"""

from __future__ import annotations

import json
import urllib.request

from ..errors import RpcReplyError


def _post(url: str, payload: object, timeout: float):
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def rpc_reply(url: str, method: str, params: list | None = None, timeout: float = 2.0) -> dict:
    """The whole reply to one call, {"result": ...} or {"error": {...}}: for callers that compare errors."""
    return _post(url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout)


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 2.0):
    """The result of one call; an error reply raises RpcReplyError, an unreachable server OSError."""
    reply = rpc_reply(url, method, params, timeout)
    if "error" in reply:
        raise RpcReplyError(method, reply["error"])
    return reply["result"]


async def rpc_call_async(session, url: str, method: str, params: list | None = None):
    """`rpc_call` from an event loop, over `session` (an aiohttp.ClientSession: keep-alive for
    pollers); this module never imports aiohttp itself."""
    async with session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}) as response:
        reply = await response.json(content_type=None)
    if "error" in reply:
        raise RpcReplyError(method, reply["error"])
    return reply["result"]


def rpc_batch(url: str, calls: list[tuple[str, list]], timeout: float = 10.0) -> list[dict]:
    """One JSON-RPC batch; the replies (each with a result or an error) in the order of `calls`."""
    replies = _post(url, [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)],
                    timeout)
    return sorted(replies, key=lambda reply: reply["id"])
