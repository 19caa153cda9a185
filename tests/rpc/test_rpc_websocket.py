"""WebSocket: JSON-RPC calls, eth_subscribe newHeads and logs pushed by publish_block, unsubscribe,
and a slow subscriber dropped instead of holding up the node."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from rpc_support import log_entry, run, serving
from web3 import AsyncWeb3, WebSocketProvider

from sidechain.rpc.server import RpcConfig

EMITTER = bytes.fromhex("0e" * 20)
OTHER = bytes.fromhex("0f" * 20)
T1, T2 = b"\x01" * 32, b"\x02" * 32
DEADLINE = 5.0


def h(value: bytes) -> str:
    return "0x" + value.hex()


async def call(ws, method: str, params: list | None = None, id: int = 1) -> dict:
    await ws.send_json({"jsonrpc": "2.0", "id": id, "method": method, "params": params or []})
    return await receive(ws)


async def receive(ws) -> dict:
    return json.loads(await ws.receive_str(timeout=DEADLINE))


def test_calls_and_batches_over_websocket(devnet):
    async def scenario():
        async with serving(devnet) as server, aiohttp.ClientSession() as session:
            async with session.ws_connect(server.url) as ws:
                assert (await call(ws, "eth_blockNumber"))["result"] == "0x0"
                await ws.send_str(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "net_version"}, {"jsonrpc": "2.0", "method": "net_version"}]))
                assert [r["id"] for r in await receive(ws)] == [1]
                await ws.send_str("{not json")
                assert (await receive(ws))["error"]["code"] == -32700

    run(scenario())


def test_new_heads_subscription_and_unsubscribe(devnet):
    async def scenario():
        async with serving(devnet) as server, aiohttp.ClientSession() as session:
            async with session.ws_connect(server.url) as ws:
                subscription = (await call(ws, "eth_subscribe", ["newHeads"]))["result"]
                block = devnet.commit([devnet.sign("A")])
                note = await receive(ws)
                assert note["method"] == "eth_subscription"
                assert note["params"]["subscription"] == subscription
                head = note["params"]["result"]
                assert head["hash"] == h(block.hash) and head["number"] == "0x1"
                assert head["parentHash"] == h(block.header.parent_hash)

                assert (await call(ws, "eth_unsubscribe", [subscription], id=2))["result"] is True
                assert (await call(ws, "eth_unsubscribe", [subscription], id=3))["result"] is False
                devnet.commit()
                # Responses and notifications share one ordered queue: had block 2 been notified,
                # its notification would arrive before this response.
                assert (await call(ws, "eth_blockNumber", id=4)) == {"jsonrpc": "2.0", "id": 4, "result": "0x2"}
            assert len(server.context.hub) == 0

    run(scenario())


def test_logs_subscription_filters_like_get_logs(devnet):
    async def scenario():
        async with serving(devnet) as server, aiohttp.ClientSession() as session:
            async with session.ws_connect(server.url) as ws:
                by_topic = (await call(ws, "eth_subscribe", ["logs", {"address": h(EMITTER), "topics": [None, h(T2)]}]))["result"]
                anything = (await call(ws, "eth_subscribe", ["logs"], id=2))["result"]
                block = devnet.commit(
                    [devnet.sign("A"), devnet.sign("B")],
                    logs={0: [log_entry(EMITTER, T1), log_entry(EMITTER, T1, T2)], 1: [log_entry(OTHER, T1, T2)]},
                )
                received = [await receive(ws) for _ in range(4)]
                assert {n["params"]["subscription"] for n in received} == {by_topic, anything}
                mine = [n["params"]["result"] for n in received if n["params"]["subscription"] == by_topic]
                assert len(mine) == 1
                assert mine[0]["logIndex"] == "0x1" and mine[0]["topics"] == [h(T1), h(T2)]
                assert mine[0]["transactionHash"] == h(block.transactions[0].hash) and mine[0]["removed"] is False
                everything = [n["params"]["result"]["logIndex"] for n in received if n["params"]["subscription"] == anything]
                assert everything == ["0x0", "0x1", "0x2"]

                error = (await call(ws, "eth_subscribe", ["newPendingTransactions"], id=3))["error"]
                assert error["code"] == -32602 and "unsupported subscription" in error["message"]
                error = (await call(ws, "eth_subscribe", ["logs", {"topics": ["0x01"]}], id=4))["error"]
                assert error["code"] == -32602 and "argument 1 (filter)" in error["message"]

    run(scenario())


def test_publish_from_another_thread_reaches_subscribers(devnet):
    async def scenario():
        async with serving(devnet) as server, aiohttp.ClientSession() as session:
            async with session.ws_connect(server.url) as ws:
                await call(ws, "eth_subscribe", ["newHeads"])
                devnet.server = None  # commit without publishing, then publish from a worker thread
                block = devnet.commit()
                receipts = devnet.chain.receipts(block.hash)
                await asyncio.to_thread(server.publish_block, block, receipts)
                assert (await receive(ws))["params"]["result"]["hash"] == h(block.hash)

    run(scenario())


def test_a_slow_subscriber_is_dropped_without_blocking_the_node(devnet):
    async def scenario():
        async with serving(devnet, RpcConfig(ws_queue_limit=2)) as server, aiohttp.ClientSession() as session:
            async with session.ws_connect(server.url) as ws:
                await call(ws, "eth_subscribe", ["newHeads"])
                for _ in range(5):  # the loop never yields here, so the queue cannot drain
                    devnet.commit()
                while True:
                    message = await ws.receive(timeout=DEADLINE)
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        break
                assert ws.close_code == 1008
            assert len(server.context.hub) == 0
            async with session.ws_connect(server.url) as ws:  # the server itself carries on
                assert (await call(ws, "eth_blockNumber"))["result"] == "0x5"

    run(scenario())


def test_web3_websocket_subscription(devnet):
    async def scenario():
        async with serving(devnet) as server:
            async with AsyncWeb3(WebSocketProvider(server.url.replace("http", "ws"))) as w3:
                subscription = await w3.eth.subscribe("newHeads")
                block = devnet.commit()
                stream = w3.socket.process_subscriptions()
                message = await asyncio.wait_for(stream.__anext__(), DEADLINE)
                assert message["subscription"] == subscription
                assert message["result"]["hash"] == block.hash and message["result"]["number"] == 1
                assert await w3.eth.unsubscribe(subscription) is True

    run(scenario())
