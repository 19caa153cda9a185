"""The HTTP transport over a real loopback socket: JSON-RPC 2.0 framing, limits, CORS, health,
and web3.py's result formatters accepting every object the server returns."""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import pytest
from rpc_support import CHAIN_ID, GWEI, hexaddr, log_entry, run, serving
from web3 import AsyncHTTPProvider, AsyncWeb3, Web3

from sidechain.rpc import routes
from sidechain.rpc.server import RpcConfig

EMITTER = bytes.fromhex("0e" * 20)
TOPIC = b"\x01" * 32


def request(method: str, params: list | None = None, id: object = 1) -> dict:
    body = {"jsonrpc": "2.0", "method": method, "params": params or []}
    if id is not None:
        body["id"] = id
    return body


async def post(server, payload, headers=None) -> tuple[int, str]:
    data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    async with aiohttp.ClientSession() as session:
        async with session.post(server.url, data=data, headers=headers or {"Content-Type": "application/json"}) as r:
            return r.status, await r.text()


def test_single_call_and_batch_with_a_notification(devnet):
    async def scenario():
        async with serving(devnet) as server:
            status, body = await post(server, request("eth_chainId"))
            assert status == 200 and json.loads(body) == {"jsonrpc": "2.0", "id": 1, "result": hex(CHAIN_ID)}
            batch = [request("eth_blockNumber", id="a"), request("net_version", id=None), request("eth_nope", id=7)]
            status, body = await post(server, batch)
            assert json.loads(body) == [
                {"jsonrpc": "2.0", "id": "a", "result": "0x0"},
                {"jsonrpc": "2.0", "id": 7, "error": {"code": -32601, "message": "the method eth_nope does not exist/is not available"}},
            ]
            status, body = await post(server, [request("eth_blockNumber", id=None), request("eth_nope", id=None)])
            assert status == 200 and body == ""  # only notifications: nothing to answer
            status, body = await post(server, request("eth_blockNumber", id=None))
            assert body == ""

    run(scenario())


def test_framing_errors(devnet):
    async def scenario():
        async with serving(devnet, RpcConfig(max_batch=3)) as server:
            _, body = await post(server, b'{"jsonrpc": "2.0", "id": 1, "method"')
            parsed = json.loads(body)
            assert parsed["id"] is None and parsed["error"]["code"] == -32700
            _, body = await post(server, [])
            assert json.loads(body) == {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request: empty batch"}}
            _, body = await post(server, [request("eth_blockNumber")] * 4)
            error = json.loads(body)["error"]
            assert error["code"] == -32600 and "batch of 4 calls exceeds the limit of 3" in error["message"]
            _, body = await post(server, [1, {"id": 2, "method": "eth_blockNumber"}, {"jsonrpc": "2.0", "id": [1], "method": "x"}])
            assert [r["error"]["code"] for r in json.loads(body)] == [-32600, -32600, -32600]
            assert json.loads(body)[1]["id"] == 2
            _, body = await post(server, request("eth_getBalance", ["0x1234", "latest"]))
            error = json.loads(body)["error"]
            assert error["code"] == -32602
            assert error["message"] == "invalid argument 0 (address): expected a 20-byte address as 0x-prefixed hex, got '0x1234'"
            _, body = await post(server, {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": {"address": "0x"}})
            assert json.loads(body)["error"]["code"] == -32602

    run(scenario())


def test_oversized_body_gets_413_with_a_json_rpc_error(devnet):
    async def scenario():
        async with serving(devnet, RpcConfig(max_body_bytes=4096)) as server:
            status, body = await post(server, request("eth_sendRawTransaction", ["0x" + "00" * 4096]))
            assert status == 413
            error = json.loads(body)["error"]
            assert error["code"] == -32600 and "limit of 4096 bytes" in error["message"]
            status, _ = await post(server, request("eth_blockNumber"))
            assert status == 200

    run(scenario())


def test_internal_errors_are_logged_and_not_leaked(devnet, monkeypatch, caplog):
    def broken(ctx):
        raise RuntimeError("secret detail")

    monkeypatch.setitem(routes.ROUTES, "eth_blockNumber", routes.Route(broken))

    async def scenario():
        async with serving(devnet) as server:
            _, body = await post(server, request("eth_blockNumber"))
            return json.loads(body)

    with caplog.at_level(logging.ERROR, logger="sidechain.rpc.dispatch"):
        response = run(scenario())
    assert response["error"] == {"code": -32603, "message": "internal error"}
    assert "secret detail" in caplog.text


def test_cors_preflight_and_allowed_origins(devnet):
    async def scenario():
        async with serving(devnet) as server, aiohttp.ClientSession() as session:
            headers = {"Origin": "http://wallet.example", "Access-Control-Request-Method": "POST",
                       "Access-Control-Request-Headers": "content-type"}
            async with session.options(server.url, headers=headers) as r:
                assert r.status == 204
                assert r.headers["Access-Control-Allow-Origin"] == "*"
                assert "POST" in r.headers["Access-Control-Allow-Methods"]
                assert r.headers["Access-Control-Allow-Headers"] == "content-type"
            async with session.post(server.url, json=request("eth_chainId"), headers={"Origin": "http://wallet.example"}) as r:
                assert r.headers["Access-Control-Allow-Origin"] == "*"
        async with serving(devnet, cors_origins=("http://wallet.example",)) as server, aiohttp.ClientSession() as session:
            async with session.post(server.url, json=request("eth_chainId"), headers={"Origin": "http://wallet.example"}) as r:
                assert r.headers["Access-Control-Allow-Origin"] == "http://wallet.example"
                assert r.headers["Vary"] == "Origin"
            async with session.post(server.url, json=request("eth_chainId"), headers={"Origin": "http://evil.example"}) as r:
                assert "Access-Control-Allow-Origin" not in r.headers
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await session.ws_connect(server.url, headers={"Origin": "http://evil.example"})

    run(scenario())


def test_health_and_plain_get(devnet):
    async def scenario():
        devnet.commit()
        async with serving(devnet) as server, aiohttp.ClientSession() as session:
            async with session.get(server.url + "health") as r:
                assert r.status == 200
                health = await r.json()
                assert health["status"] == "ok" and health["head"] == 1 and health["syncing"] is False
            async with session.get(server.url) as r:
                assert r.status == 405 and r.headers["Allow"] == "POST"

    run(scenario())


def test_extra_routes_are_served(devnet):
    from aiohttp import web

    async def metrics(request):
        return web.Response(text="sidechain_up 1\n")

    async def scenario():
        from sidechain.rpc.server import RpcServer

        server = RpcServer(devnet.backend)
        server.add_route("GET", "/metrics", metrics)
        await server.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as session, session.get(f"{server.url}metrics") as r:
                return await r.text()
        finally:
            await server.stop()

    assert run(scenario()) == "sidechain_up 1\n"


def test_web3_formatters_accept_every_result(devnet):
    """web3.py parses each object; a field of the wrong width or type would raise here."""

    async def scenario():
        async with serving(devnet) as server:
            w3 = AsyncWeb3(AsyncHTTPProvider(server.url))
            try:
                return await _web3_walkthrough(w3, devnet)
            finally:
                await w3.provider.disconnect()

    run(scenario())


async def _web3_walkthrough(w3: AsyncWeb3, devnet) -> None:
    sender = w3.to_checksum_address(hexaddr("A"))
    assert await w3.eth.chain_id == CHAIN_ID
    assert await w3.eth.max_priority_fee == GWEI
    nonce = await w3.eth.get_transaction_count(sender, "pending")
    raw = devnet.sign("A", nonce=nonce, tip=2 * GWEI, access_list=[{"address": "0x" + "0e" * 20, "storageKeys": ["0x" + "01" * 32]}])
    tx_hash = await w3.eth.send_raw_transaction(raw)
    pending = await w3.eth.get_transaction(tx_hash)
    assert pending["blockNumber"] is None and pending["from"] == sender
    legacy = devnet.sign("B", tx_type=0)
    block = devnet.commit([raw, legacy], logs={0: [log_entry(EMITTER, TOPIC, data=b"\x01\x02")]})

    full = await w3.eth.get_block(block.number, True)
    assert full["hash"] == block.hash and full["transactions"][0]["hash"] == tx_hash
    assert (await w3.eth.get_block("latest"))["transactions"][1] == block.transactions[1].hash
    mined = await w3.eth.get_transaction(tx_hash)
    assert mined["blockNumber"] == block.number and mined["accessList"][0]["storageKeys"] == ["0x" + "01" * 32]
    assert (await w3.eth.get_transaction(block.transactions[1].hash))["type"] == 0
    receipt = await w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 1 and receipt["logs"][0]["address"] == w3.to_checksum_address("0x" + "0e" * 20)
    assert receipt["logs"][0]["data"] == b"\x01\x02"
    assert len(await w3.eth.get_block_receipts(block.number)) == 2

    history = await w3.eth.fee_history(2, "latest", [25.0, 75.0])
    assert history["oldestBlock"] == 0 and len(history["baseFeePerGas"]) == 3 and len(history["reward"]) == 2
    # AsyncEth has no get_proof: the synchronous client, in a thread while the loop serves it
    sync_w3 = Web3(Web3.HTTPProvider(w3.provider.endpoint_uri))
    proof = await asyncio.to_thread(sync_w3.eth.get_proof, sender, [0], "latest")
    assert proof["nonce"] == nonce + 1 and proof["storageProof"][0]["value"] == b"\x00"
    logs = await w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": w3.to_checksum_address("0x" + "0e" * 20)})
    assert [entry["topics"] for entry in logs] == [[TOPIC]]
    assert await w3.eth.estimate_gas({"from": sender, "to": sender, "value": 1}) == 21_000
    assert await w3.eth.call({"to": sender, "data": "0x"}) == b""
    assert await w3.eth.gas_price > 0
    assert await w3.eth.get_balance(sender, block_identifier=0) > 0
    assert await w3.eth.syncing is False
    assert await w3.eth.get_code(sender) == b""
