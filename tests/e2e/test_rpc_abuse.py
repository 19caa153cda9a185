"""An abusive RPC client cannot slow a validator's consensus (issue 10, item 4).

One validator process (250 ms blocks) holds 11,000 logs. While a 500-call eth_getLogs batch over
the whole chain, 50 parallel eth_getLogs of 9,000 logs each and a batch whose answers would exceed
the response budget run against it, a probe thread asks `eth_blockNumber` every 50 ms. The node's
pace is judged two ways, both from outside and inside the process:

- block production: the longest gap between two new heights the probe saw, and the blocks made
  during the abuse (an idle chain makes one per 250 ms; the gap may grow to a few rounds on a
  loaded 2-core machine, never to the seconds a blocked loop costs);
- the node's own event-loop lag probe (`sidechain_event_loop_lag_seconds` in /metrics, a 50 ms
  sleep whose overshoot it observes): during the abuse no observation above 500 ms and at most
  one in twenty above 200 ms (what the OS scheduler alone costs on a crowded 2-core machine).

The abusive calls get geth's errors (`request timed out`, `response too large`, `query returned
more than 10000 results`) and light calls keep their answers within a second.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request

from eth_account import Account
from web3 import Web3

from sidechain.devkeys import anvil_private_key

LOGS_PER_TX = 1000
RUNTIME = bytes.fromhex("6103e85b8060206000a16001900380600357" + "00")
"""1,000 times LOG1(memory[0:32], topic = counter), then STOP."""
INITCODE = bytes.fromhex("6013600c60003960136000f3") + RUNTIME
CHAIN_ID = 7070
HEAVY_TIMEOUT = 60.0


def post(url: str, payload, timeout: float = HEAVY_TIMEOUT, parse: bool = True):
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if parse else body


def call(url: str, method: str, params: list, timeout: float = 10.0):
    reply = post(url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout)
    assert "error" not in reply, reply
    return reply["result"]


def wait_receipt(url: str, tx_hash: str, deadline: float) -> dict:
    while time.monotonic() < deadline:
        receipt = call(url, "eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            return receipt
        time.sleep(0.05)
    raise AssertionError(f"no receipt for {tx_hash}")


def fill_logs(url: str) -> tuple[int, int, int]:
    """Deploy the log emitter and call it 11 times: (first block, block of the 9th call, last block)."""
    key = anvil_private_key(5)
    me = Account.from_key(key)

    def send(nonce: int, to: str | None, data: bytes, gas: int) -> str:
        tx = {"chainId": CHAIN_ID, "nonce": nonce, "value": 0, "gas": gas, "data": data,
              "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9}
        if to is not None:
            tx["to"] = Web3.to_checksum_address(to)
        return call(url, "eth_sendRawTransaction", ["0x" + me.sign_transaction(tx).raw_transaction.hex()])

    deadline = time.monotonic() + 30
    nonce = int(call(url, "eth_getTransactionCount", [me.address, "latest"]), 16)
    created = wait_receipt(url, send(nonce, None, INITCODE, 200_000), deadline)
    emitter = created["contractAddress"]
    blocks = []
    for batch in (range(9), range(9, 11)):  # the last two in later blocks than the first nine
        hashes = [send(nonce + 1 + i, emitter, b"", 1_200_000) for i in batch]
        receipts = [wait_receipt(url, h, deadline) for h in hashes]
        assert all(len(r["logs"]) == LOGS_PER_TX for r in receipts)
        blocks += [int(r["blockNumber"], 16) for r in receipts]
    return blocks[0], blocks[8], blocks[-1]


class Probe(threading.Thread):
    """eth_blockNumber every 50 ms: (time, height, latency), or the error a call got."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.samples, self.failures = url, [], []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            start = time.monotonic()
            try:
                height = int(call(self.url, "eth_blockNumber", [], timeout=5.0), 16)
            except Exception as exc:  # a stalled node: the probe records it and goes on
                self.failures.append(repr(exc))
                continue
            self.samples.append((start, height, time.monotonic() - start))

    def longest_gap(self) -> float:
        """Longest time between the first sightings of two consecutive new heights."""
        firsts, last = [], None
        for t, height, _ in self.samples:
            if height != last:
                firsts.append(t)
                last = height
        if self.samples:
            firsts.append(self.samples[-1][0])  # the wait for a height still to come counts too
        return max((b - a for a, b in zip(firsts, firsts[1:])), default=float("inf"))


def lag_histogram(url: str) -> tuple[float, float, float]:
    """(observations, observations above 200 ms, above 500 ms) of the node's loop-lag histogram."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as response:
        text = response.read().decode()
    count = re.search(r"^sidechain_event_loop_lag_seconds_count (\S+)$", text, re.M)
    below = [re.search(r'^sidechain_event_loop_lag_seconds_bucket\{le="' + re.escape(le) + r'"\} (\S+)$', text, re.M)
             for le in ("0.2", "0.5")]
    assert count and all(below), "the node serves no sidechain_event_loop_lag_seconds histogram"
    total = float(count.group(1))
    return total, total - float(below[0].group(1)), total - float(below[1].group(1))


def peak_rss(pid: int) -> str:
    status = open(f"/proc/{pid}/status").read()
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return f"{int(found.group(1)) // 1024} MiB" if found else "unknown"


def run_threads(jobs) -> list:
    """Run the callables in parallel threads, joined with a deadline; their results in order."""
    results: list = [None] * len(jobs)

    def runner(i, job):
        try:
            results[i] = job()
        except Exception as exc:  # recorded: the assertions below name it
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + HEAVY_TIMEOUT + 10
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "abusive requests still unanswered at the deadline"
    return results


def logs_request(i: int, first: int, last: int) -> dict:
    return {"jsonrpc": "2.0", "id": i, "method": "eth_getLogs", "params": [{"fromBlock": hex(first), "toBlock": hex(last)}]}


def test_abusive_rpc_clients_do_not_slow_consensus(node):
    url = node.url
    first, ninth, last = fill_logs(url)
    probe = Probe(url)
    probe.start()
    try:
        observed_before, slow_before, stalled_before = lag_histogram(url)
        height_before = node.wait_for_height(0)
        started = time.monotonic()
        whole = [logs_request(i, 0, last) for i in range(500)]  # > 10,000 logs each
        big = [logs_request(i, first, ninth) for i in range(12)]  # 9,000 logs (~4 MB) each
        jobs = [lambda: post(url, whole), lambda: post(url, big)]
        # answers of 4 MB read but not parsed, so the client's own CPU leaves the node its share
        jobs += [lambda i=i: post(url, logs_request(i, first, ninth), parse=False) for i in range(50)]
        whole_reply, big_reply, *singles = run_threads(jobs)
        elapsed = time.monotonic() - started
        observed_after, slow_after, stalled_after = lag_histogram(url)
        height_after = int(call(url, "eth_blockNumber", []), 16)
    finally:
        probe.stop.set()
        probe.join(10)
    latencies = [s[2] for s in probe.samples if s[0] >= started]
    gap = probe.longest_gap()
    figures = (f"abuse {elapsed:.1f}s, blocks {height_after - height_before}, longest gap {gap:.2f}s, "
               f"probe max latency {max(latencies, default=float('inf')):.2f}s, probe failures {len(probe.failures)}, "
               f"lag observations {observed_after - observed_before:.0f}, above 200 ms {slow_after - slow_before:.0f}, "
               f"above 500 ms {stalled_after - stalled_before:.0f}, "
               f"node peak RSS {peak_rss(node.node.pid)}")
    print(figures)

    # consensus kept its pace, and light calls kept their answers
    assert not probe.failures, (figures, probe.failures[:3])
    assert gap < 2.0, figures
    assert height_after - height_before >= elapsed / 2.0, figures
    assert max(latencies) < 1.0, figures
    assert observed_after - observed_before >= elapsed / 0.5, figures  # the lag probe ran all along
    # the loop never stalled: a 2-core machine shared with 52 client threads may deschedule the
    # node now and then (2 of 111 wake-ups above 200 ms on a slow CI machine), a handler that blocks
    # the loop makes many late wake-ups, and long ones
    assert stalled_after - stalled_before == 0, figures
    assert slow_after - slow_before <= 0.05 * (observed_after - observed_before), figures

    # the abusive requests got geth's errors
    assert not isinstance(whole_reply, Exception), whole_reply
    assert len(whole_reply) == 500 and all("error" in r for r in whole_reply), str(whole_reply)[:300]
    messages = {r["error"]["message"].split(":")[0] for r in whole_reply}
    assert "request timed out" in messages, messages
    assert messages <= {"request timed out", "query returned more than 10000 results"}, messages
    assert not isinstance(big_reply, Exception), big_reply
    answered = [r for r in big_reply if "result" in r]
    assert answered and all(len(r["result"]) == 9 * LOGS_PER_TX for r in answered)
    refused = {r["error"]["message"] for r in big_reply if "error" in r}
    print(f"big batch: {len(answered)} answered, then {sorted(refused)}; whole-chain batch: {sorted(messages)}")
    assert refused and refused <= {"response too large", "request timed out"}, refused
    assert sum(len(json.dumps(r)) for r in answered) <= 25_000_000 + 5_000_000
    for reply in singles:
        assert not isinstance(reply, Exception), reply
        if reply.startswith(b'{"jsonrpc":"2.0","id":') and b'"result":[' in reply[:40]:
            assert reply.count(b'"logIndex"') == 9 * LOGS_PER_TX
        else:
            assert json.loads(reply)["error"] == {"code": -32002, "message": "request timed out"}, reply[:300]
    print("singles answered:", sum(b'"result"' in r[:40] for r in singles), "of", len(singles))
