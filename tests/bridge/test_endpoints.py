"""bridge.endpoints against real HTTP servers on 127.0.0.1: a closed port and a node that does not
answer in time are left for the next URL, a JSON-RPC error answer is returned without trying
another node, none answering names every URL, and a raw transaction resent after a failover counts
as accepted where the next node already knows it."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from aiohttp import web
from eth_account import Account
from eth_utils import keccak
from web3.exceptions import Web3RPCError

from bridge.endpoints import FailoverProvider, NoNodeAnswered, failover_web3, network_rpc_urls, parse_rpc_list
from sidechain.errors import SidechainError

KEY = b"\x11" * 32


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class Node:
    """A JSON-RPC server on 127.0.0.1 answering from `answers` (method -> reply body fields), counting requests."""

    def __init__(self, answers: dict, *, hang: bool = False) -> None:
        self.answers, self.hang, self.requests = answers, hang, []
        self.release = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body["method"])
        if self.hang:  # holds the request until the test ends: the client's timeout must fire first
            await self.release.wait()
        answer = self.answers.get(body["method"], {"error": {"code": -32601, "message": "method not found"}})
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], **answer})


class Servers:
    """Node servers on one asyncio loop in a thread; stopped at teardown even if a test failed."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners = []
        self.nodes = []

    def start(self, node: Node) -> str:
        async def serve():
            node.release = asyncio.Event()
            app = web.Application()
            app.router.add_post("/", node.handle)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.runners.append(runner)
            return runner.addresses[0][1]

        port = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(timeout=10)
        self.nodes.append(node)
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        async def stop():
            for node in self.nodes:
                node.release.set()
            for runner in self.runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def servers():
    running = Servers()
    yield running
    running.stop()


CHAIN = {"eth_chainId": {"result": "0x1b9e"}, "eth_blockNumber": {"result": "0x10"}}


def test_a_closed_port_is_left_for_the_next_node_which_is_then_kept(servers):
    node = Node(CHAIN)
    dead, live = closed_port_url(), servers.start(node)
    w3 = failover_web3(f"{dead},{live}", timeout=5)

    assert w3.eth.chain_id == 0x1B9E
    assert w3.provider.current_url == live
    assert w3.eth.block_number == 0x10
    assert node.requests == ["eth_chainId", "eth_blockNumber"]


def test_a_node_that_does_not_answer_in_time_is_left_for_the_next(servers):
    slow, node = Node(CHAIN, hang=True), Node(CHAIN)
    w3 = failover_web3([servers.start(slow), servers.start(node)], timeout=0.5)

    assert w3.eth.chain_id == 0x1B9E
    assert slow.requests == ["eth_chainId"] and node.requests == ["eth_chainId"]


def test_a_json_rpc_error_is_the_answer_and_no_other_node_is_asked(servers):
    refusing = Node({"eth_chainId": {"error": {"code": -32000, "message": "node is syncing"}}})
    other = Node(CHAIN)
    w3 = failover_web3([servers.start(refusing), servers.start(other)], timeout=5)

    with pytest.raises(Web3RPCError, match="node is syncing"):
        w3.eth.chain_id
    assert refusing.requests == ["eth_chainId"]
    assert other.requests == []


def test_none_answering_names_every_url_tried(servers):
    first, second = closed_port_url(), closed_port_url()
    w3 = failover_web3([first, second], timeout=5)

    with pytest.raises(NoNodeAnswered) as raised:
        w3.eth.chain_id
    message = str(raised.value)
    assert message.startswith("cannot reach any of the 2 sidechain nodes: tried ")
    assert f"{first} (connection refused)" in message and f"{second} (connection refused)" in message
    assert isinstance(raised.value, ConnectionError) and isinstance(raised.value, SidechainError)


def test_one_url_unreachable_reads_as_before():
    url = closed_port_url()
    with pytest.raises(NoNodeAnswered, match=rf"^cannot reach the sidechain node at {url} \(connection refused\)$"):
        failover_web3(url, timeout=5).eth.block_number


def signed_raw() -> tuple[str, str]:
    tx = {"to": "0x" + "22" * 20, "value": 1, "gas": 21000, "gasPrice": 10**9, "nonce": 0, "chainId": 7070}
    raw = Account.sign_transaction(tx, KEY).raw_transaction
    return "0x" + bytes(raw).hex(), "0x" + keccak(bytes(raw)).hex()


def test_a_raw_transaction_resent_after_a_failover_counts_as_accepted_where_the_next_node_knows_it(servers):
    raw, tx_hash = signed_raw()
    slow = Node({}, hang=True)  # took the transaction (perhaps) and then stopped answering
    knows = Node({"eth_sendRawTransaction": {"error": {"code": -32000, "message": "already known"}},
                  "eth_getTransactionByHash": {"result": {"hash": tx_hash}}})
    provider = FailoverProvider([servers.start(slow), servers.start(knows)], timeout=0.5)

    reply = provider.make_request("eth_sendRawTransaction", [raw])
    assert reply["result"] == tx_hash
    assert knows.requests == ["eth_sendRawTransaction", "eth_getTransactionByHash"]


def test_a_refused_transaction_stays_refused_after_a_failover_and_without_one(servers):
    raw, _ = signed_raw()
    refusing = {"eth_sendRawTransaction": {"error": {"code": -32000, "message": "nonce too low: expected 3, got 0"}},
                "eth_getTransactionByHash": {"result": None}}
    after_failover = FailoverProvider([closed_port_url(), servers.start(Node(refusing))], timeout=5)
    assert after_failover.make_request("eth_sendRawTransaction", [raw])["error"]["message"].startswith("nonce too low")

    direct = Node({"eth_sendRawTransaction": {"error": {"code": -32000, "message": "already known"}}})
    provider = FailoverProvider([servers.start(direct)], timeout=5)
    assert provider.make_request("eth_sendRawTransaction", [raw])["error"]["message"] == "already known"
    assert direct.requests == ["eth_sendRawTransaction"]  # no failover: the node's answer as it gave it


def test_rpc_lists_parse_in_order_without_repeats_and_refuse_what_is_not_a_url():
    assert parse_rpc_list("http://127.0.0.1:1, http://127.0.0.1:2,http://127.0.0.1:1") == \
        ("http://127.0.0.1:1", "http://127.0.0.1:2")
    for bad in ["", "http://127.0.0.1:1,", "127.0.0.1:9545", "ws://127.0.0.1:9545"]:
        with pytest.raises(SidechainError, match="--sidechain-rpc: expected one or more http:// or https:// URLs"):
            parse_rpc_list(bad)


def test_a_network_file_lists_its_rpc_first_then_every_node():
    network = {"rpc": "http://127.0.0.1:9545",
               "nodes": [{"rpc": f"http://127.0.0.1:{9545 + i}"} for i in range(4)]}
    assert network_rpc_urls(network) == tuple(f"http://127.0.0.1:{9545 + i}" for i in range(4))
