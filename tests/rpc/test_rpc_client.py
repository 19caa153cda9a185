"""The JSON-RPC client (sidechain/rpc/client.py) against a canned HTTP server: results,
error replies (a SidechainError that is still the RuntimeError callers caught), batches in order."""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sidechain.errors import RpcReplyError, SidechainError
from sidechain.rpc.client import rpc_batch, rpc_call, rpc_call_async, rpc_reply


def _answer(request: dict) -> dict:
    if request["method"] == "fail":
        return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32001, "message": "unknown block"}}
    return {"jsonrpc": "2.0", "id": request["id"], "result": [request["method"], request["params"]]}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        # a batch is answered in reverse: JSON-RPC lets a server answer a batch in any order
        reply = [_answer(r) for r in reversed(body)] if isinstance(body, list) else _answer(body)
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def canned_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_call_returns_its_result():
    with canned_server() as url:
        assert rpc_call(url, "eth_chainId") == ["eth_chainId", []]
        assert rpc_call(url, "eth_getBalance", ["0x01", "latest"]) == ["eth_getBalance", ["0x01", "latest"]]


def test_an_error_reply_raises_with_the_error_object_and_is_still_a_runtime_error():
    with canned_server() as url:
        with pytest.raises(RpcReplyError, match="-32001") as raised:
            rpc_call(url, "fail")
        assert raised.value.error == {"code": -32001, "message": "unknown block"}
        assert isinstance(raised.value, RuntimeError) and isinstance(raised.value, SidechainError)
        assert rpc_reply(url, "fail")["error"]["code"] == -32001


def test_a_batch_comes_back_in_the_order_of_its_calls():
    with canned_server() as url:
        replies = rpc_batch(url, [("a", [1]), ("fail", []), ("c", [3])])
    assert [r.get("result") for r in replies] == [["a", [1]], None, ["c", [3]]]
    assert replies[1]["error"]["code"] == -32001


def test_an_unreachable_server_is_an_os_error():
    with canned_server() as url:
        pass
    with pytest.raises(OSError):
        rpc_call(url, "eth_chainId", timeout=1)


def test_the_asyncio_call_answers_and_fails_as_the_blocking_one():
    import aiohttp

    async def both(url: str):
        async with aiohttp.ClientSession() as session:
            result = await rpc_call_async(session, url, "eth_blockNumber", ["x"])
            with pytest.raises(RpcReplyError, match="-32001"):
                await rpc_call_async(session, url, "fail")
            return result

    with canned_server() as url:
        assert asyncio.run(both(url)) == ["eth_blockNumber", ["x"]]
