"""A batch's consecutive eth_sendRawTransaction calls answered in one go (`Route.many`): the same
answers, in the same order, as one by one, with the same budgets; bad calls in a run keep their own
errors; a run that fails as a whole fails only its own calls."""

from __future__ import annotations

import dataclasses
import json

import pytest
from rpc_support import Devnet, log_entry, run

from sidechain.rpc import dispatch, routes
from sidechain.rpc.budget import Limits
from sidechain.rpc.dispatch import Dispatcher
from sidechain.rpc.methods import Context

SEND = "eth_sendRawTransaction"
EMITTER = bytes.fromhex("0e" * 20)


def call(method: str, *params, id: object = 1) -> dict:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": list(params)}


def send(raw: bytes, id: object) -> dict:
    return call(SEND, "0x" + raw.hex(), id=id)


def notification(raw: bytes) -> dict:
    return {"jsonrpc": "2.0", "method": SEND, "params": ["0x" + raw.hex()]}


def routes_with(many) -> dict:
    return {**routes.ROUTES, SEND: dataclasses.replace(routes.ROUTES[SEND], many=many)}


def answer(devnet: Devnet, payload, table: dict, limits: Limits | None = None) -> list:
    async def scenario():
        return await Dispatcher(Context(devnet.backend), table, limits=limits).handle_body(json.dumps(payload))
    return json.loads(run(scenario()))


def pooled(net: Devnet) -> list[bytes]:
    pending, queued = net.mempool.content()
    return sorted(tx.hash for content in (pending, queued) for by_nonce in content.values() for tx in by_nonce.values())


class Spy:
    """Route.many that records the size of each run it is given."""

    def __init__(self, inner) -> None:
        self.inner, self.runs = inner, []

    async def __call__(self, ctx, calls):
        self.runs.append(len(calls))
        return await self.inner(ctx, calls)


def mixed_batch(net: Devnet) -> list:
    a0, a1, a2, b0 = net.sign("A"), net.sign("A"), net.sign("A"), net.sign("B")
    garbled = net.sign("B", nonce=5)[:-1] + b"\x00"  # its signature recovers some unfunded account, or none
    return [
        call("eth_chainId", id="first"),
        send(a0, 1),
        call(SEND, "nothex", id=2),
        send(a1, 3),
        notification(b0),
        send(a0, 4),
        {"jsonrpc": "2.0", "id": True, "method": SEND, "params": ["0x" + a2.hex()]},
        send(garbled, 5),
        {"jsonrpc": "1.0", "id": 6, "method": SEND, "params": ["0x" + a2.hex()]},
        call("eth_blockNumber", id=7),
        send(a2, 8),
    ]


def test_a_run_of_submissions_answers_as_one_by_one(tmp_path):
    together, alone = Devnet(tmp_path / "together"), Devnet(tmp_path / "alone")
    spy = Spy(routes.ROUTES[SEND].many)
    try:
        got = answer(together, mixed_batch(together), routes_with(spy))
        expected = answer(alone, mixed_batch(alone), routes_with(None))
        assert got == expected
        assert [r["id"] for r in got] == ["first", 1, 2, 3, 4, None, 5, 6, 7, 8]
        assert got[2]["error"]["code"] == -32602 and "already known" in got[4]["error"]["message"]
        assert got[5]["error"]["code"] == -32600 and got[7]["error"]["code"] == -32600
        # the notification (B's) was submitted too; the bad calls never reached the backend
        assert spy.runs == [5, 1]
        assert pooled(together) == pooled(alone) and len(pooled(together)) == 4
    finally:
        together.chain.close()
        alone.chain.close()


def test_runs_are_cut_at_max_run(devnet, monkeypatch):
    monkeypatch.setattr(dispatch, "MAX_RUN", 3)
    spy = Spy(routes.ROUTES[SEND].many)
    replies = answer(devnet, [send(devnet.sign("A"), i) for i in range(7)], routes_with(spy))
    assert spy.runs == [3, 3, 1]
    assert all("result" in r for r in replies) and [r["id"] for r in replies] == list(range(7))


def test_a_run_that_raises_fails_only_its_own_calls(devnet, caplog):
    async def broken(ctx, calls):
        raise RuntimeError("bug")

    batch = [call("eth_chainId", id=0), send(devnet.sign("A"), 1), send(devnet.sign("A"), 2), call("eth_chainId", id=3)]
    replies = answer(devnet, batch, routes_with(broken))
    assert [r.get("error", {}).get("code") for r in replies] == [None, -32603, -32603, None]
    assert replies[1]["error"]["message"] == "internal error"  # the traceback is logged, not answered
    assert "internal error in a run of 2 'eth_sendRawTransaction' calls" in caplog.text


def test_a_parser_bug_fails_only_its_own_call(devnet, caplog):
    def broken(value):
        if value == "0xdead":
            raise RuntimeError("bug")
        return routes.ROUTES[SEND].params[0].parse(value)

    route = dataclasses.replace(routes.ROUTES[SEND], params=(routes.Param("data", broken),))
    batch = [call(SEND, "0xdead", id=0), send(devnet.sign("A"), 1)]
    replies = answer(devnet, batch, {**routes.ROUTES, SEND: route})
    assert replies[0]["error"] == {"code": -32603, "message": "internal error"} and "result" in replies[1]
    assert "RuntimeError: bug" in caplog.text


@pytest.mark.parametrize("many", [routes.ROUTES[SEND].many, None], ids=["together", "alone"])
def test_a_run_after_the_batch_bytes_are_spent_is_not_submitted(devnet, many):
    devnet.commit([devnet.sign("A")], logs={0: [log_entry(EMITTER, b"\x01" * 32, data=bytes(32))] * 30})  # ~17 kB
    one_block = {"fromBlock": "0x1", "toBlock": "0x1"}
    batch = [call("eth_getLogs", one_block, id=0), call("eth_getLogs", one_block, id=1)]
    batch += [send(devnet.sign("A"), 2), send(devnet.sign("A"), 3)]
    replies = answer(devnet, batch, routes_with(many), Limits(max_response_bytes=20_000))
    assert [r.get("error", {}).get("code") for r in replies] == [None, -32003, -32003, -32003]
    assert pooled(devnet) == []
