"""Budgets of requests and batches (time, response size), heavy calls on worker threads over a
consistent chain snapshot, the Content-Type check and the server's limit of requests in flight."""

from __future__ import annotations

import asyncio
import json
import threading

import aiohttp
from rpc_support import ACCOUNTS, addr, h, log_entry, run, serving
from waiting import wait_for

from sidechain.rpc import budget, routes
from sidechain.rpc.budget import Limits
from sidechain.rpc.dispatch import Dispatcher
from sidechain.rpc.methods import Context
from sidechain.rpc.server import RpcConfig

EMITTER = bytes.fromhex("0e" * 20)
TOPIC = b"\x01" * 32


def call(method: str, *params, id: object = 1) -> dict:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": list(params)}


def with_logs(devnet, blocks: int, per_block: int) -> None:
    for _ in range(blocks):
        devnet.commit([devnet.sign("A")], logs={0: [log_entry(EMITTER, TOPIC, data=bytes(32))] * per_block})


def spin(ctx) -> str:
    """A heavy handler that runs until its budget says stop (as eth_getLogs does, block by block)."""
    while True:
        budget.check()


def where(ctx) -> str:
    return threading.current_thread().name


TEST_ROUTES = {**routes.ROUTES, "test_spin": routes.Route(spin, heavy=True), "test_whereHeavy": routes.Route(where, heavy=True),
               "test_whereLight": routes.Route(where)}


async def answer(dispatcher: Dispatcher, payload) -> object:
    text = await dispatcher.handle_body(json.dumps(payload))
    return json.loads(text)


def dispatching(devnet, limits: Limits):
    """A started dispatcher over the devnet with the test routes; stop it with `await d.stop()`."""
    dispatcher = Dispatcher(Context(devnet.backend), TEST_ROUTES, limits=limits)
    dispatcher.start()
    return dispatcher


def test_heavy_calls_run_on_workers_and_light_ones_on_the_loop(devnet):
    async def scenario():
        d = dispatching(devnet, Limits())
        try:
            heavy, light = await answer(d, [call("test_whereHeavy"), call("test_whereLight", id=2)])
            assert heavy["result"].startswith("rpc-worker") and light["result"] == threading.current_thread().name
        finally:
            await d.stop()
    run(scenario())


def test_a_call_over_its_time_answers_request_timed_out_and_its_worker_stops(devnet):
    async def scenario():
        d = dispatching(devnet, Limits(request_timeout=0.2, workers=1))
        try:
            assert await answer(d, call("test_spin")) == {"jsonrpc": "2.0", "id": 1, "error": {"code": -32002, "message": "request timed out"}}
            # the one worker noticed its cancelled budget: the next heavy call gets it
            assert (await answer(d, call("eth_getBlockByNumber", "0x0", False)))["result"]["number"] == "0x0"
        finally:
            await d.stop()
    run(scenario())


def test_a_batch_over_its_time_answers_every_call_left_request_timed_out(devnet):
    async def scenario():
        d = dispatching(devnet, Limits(request_timeout=0.2, batch_timeout=0.3))
        try:
            replies = await answer(d, [call("test_spin", id=i) for i in range(2)] + [call("eth_chainId", id=9)] * 3)
            assert [r["error"]["message"] for r in replies] == ["request timed out"] * 5
            assert [r["id"] for r in replies] == [0, 1, 9, 9, 9]
        finally:
            await d.stop()
    run(scenario())


def test_get_logs_stops_at_the_result_limit_and_at_the_size_budget(devnet):
    with_logs(devnet, blocks=3, per_block=40)
    query = {"fromBlock": "0x0", "toBlock": "latest"}

    async def scenario():
        d = Dispatcher(Context(devnet.backend, max_log_results=100), TEST_ROUTES)
        d.start()
        try:
            error = (await answer(d, call("eth_getLogs", query)))["error"]
            assert error["code"] == -32005 and error["message"].startswith("query returned more than 100 results")
        finally:
            await d.stop()
        d = dispatching(devnet, Limits(max_response_bytes=30_000))
        try:
            # 120 logs of ~500 bytes: over the 30 kB budget, stopped inside get_logs
            assert (await answer(d, call("eth_getLogs", query)))["error"] == {"code": -32003, "message": "response too large"}
            one_block = {"fromBlock": "0x1", "toBlock": "0x1"}
            assert len((await answer(d, call("eth_getLogs", one_block)))["result"]) == 40
        finally:
            await d.stop()
    run(scenario())


def test_a_batch_over_its_response_budget_answers_response_too_large_from_there_on(devnet):
    with_logs(devnet, blocks=1, per_block=30)
    one_block = {"fromBlock": "0x1", "toBlock": "0x1"}  # ~17 kB of logs

    async def scenario():
        d = dispatching(devnet, Limits(max_response_bytes=40_000))
        try:
            replies = await answer(d, [call("eth_getLogs", one_block, id=i) for i in range(4)] + [call("eth_chainId", id=4)])
            assert [len(r["result"]) for r in replies[:2]] == [30, 30]
            assert [r["error"] for r in replies[2:]] == [{"code": -32003, "message": "response too large"}] * 3
            assert sum(len(json.dumps(r)) for r in replies[:2]) <= 40_000
        finally:
            await d.stop()
    run(scenario())


def test_a_snapshot_keeps_its_head_and_state_while_blocks_are_committed(devnet):
    devnet.commit([devnet.sign("A", to=ACCOUNTS["B"].address, value=5)])
    context = Context(devnet.backend)
    snapshot = devnet.chain.snapshot()
    ctx = context.fork(snapshot)
    before = ctx.state("latest").get_account(addr("B")).balance
    newer = devnet.commit([devnet.sign("A", to=ACCOUNTS["B"].address, value=7)])
    context.view.remember(newer, [])  # the live view caches the new block, as publish_block does
    try:
        assert ctx.view.head.number == 1 and context.view.head.number == 2
        assert ctx.state("latest").get_account(addr("B")).balance == before  # the flat table of block 1
        assert context.state("latest").get_account(addr("B")).balance == before + 7
        assert ctx.view.block_by_number(2) is None and ctx.view.block_by_hash(newer.hash) is None
        assert ctx.chain.block_by_hash(newer.hash) is None and ctx.chain.transaction_location(newer.transactions[0].hash) is None
        assert context.view.block_by_number(2).hash == newer.hash
    finally:
        snapshot.close()


async def post(server, body: bytes, content_type: str | None) -> tuple[int, str]:
    headers = {} if content_type is None else {"Content-Type": content_type}
    async with aiohttp.ClientSession() as session:
        async with session.post(server.url, data=body, headers=headers, skip_auto_headers=["Content-Type"]) as r:
            return r.status, await r.text()


def test_posts_must_be_json_as_in_geth(devnet):
    body = json.dumps(call("eth_chainId")).encode()

    async def scenario():
        async with serving(devnet) as server:
            for content_type in ("application/json", "application/json; charset=utf-8", "application/json-rpc"):
                status, text = await post(server, body, content_type)
                assert status == 200 and "result" in json.loads(text), (content_type, text)
            for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
                status, text = await post(server, body, content_type)
                assert (status, text) == (415, "invalid content type, only application/json is supported"), content_type
    run(scenario())


def test_requests_beyond_the_in_flight_limit_get_503_and_light_calls_go_on(devnet):
    release = threading.Event()

    def hold(ctx) -> bool:
        while not release.is_set():
            budget.check()
        return True

    async def scenario():
        async with serving(devnet, RpcConfig(limits=Limits(max_in_flight=1))) as server:
            server.dispatcher.routes = {**routes.ROUTES, "test_hold": routes.Route(hold, heavy=True)}
            held = asyncio.ensure_future(post(server, json.dumps(call("test_hold")).encode(), "application/json"))
            await wait_for(lambda: server.in_flight == 1)
            status, text = await post(server, json.dumps(call("eth_chainId")).encode(), "application/json")
            assert status == 503 and json.loads(text)["error"]["code"] == -32005
            release.set()
            status, text = await held
            assert status == 200 and json.loads(text)["result"] is True
            status, text = await post(server, json.dumps(call("eth_chainId")).encode(), "application/json")
            assert status == 200
    run(scenario())


def test_the_budget_of_a_call_in_a_batch_is_the_sooner_deadline_and_the_bytes_left():
    outer = budget.Budget(10.0, 1000)
    outer.charge(400)
    inner = outer.child(0.5)
    assert inner.bytes_left == 600 and inner.remaining <= 0.5
    inner.charge(600)
    try:
        inner.charge(1)
    except budget.ResponseTooLarge as exc:
        assert str(exc) == "response too large" and exc.rpc_code == -32003
    else:
        raise AssertionError("over the budget without an error")
    assert outer.bytes_left == 600  # the dispatcher charges the encoded answer to the batch itself
    outer.cancelled = True
    assert outer.expired()


def test_block_logs_views_are_unchanged_through_the_worker(devnet):
    with_logs(devnet, blocks=1, per_block=2)
    from rpc_support import Client

    async def scenario():
        d = dispatching(devnet, Limits())
        try:
            through_worker = (await answer(d, call("eth_getLogs", {"fromBlock": "0x1", "toBlock": "0x1"})))["result"]
        finally:
            await d.stop()
        assert through_worker == Client(devnet)("eth_getLogs", {"fromBlock": "0x1", "toBlock": "0x1"})
        assert [entry["topics"] for entry in through_worker] == [[h(TOPIC)]] * 2
    run(scenario())
