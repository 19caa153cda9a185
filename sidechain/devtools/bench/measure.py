"""One measured run against one target: the submitter process pushes, the watcher sees blocks, then statistics.

Finality: a committed sidechain block is final, so a transaction is final when the client first
sees the block that holds it, announced by a `newHeads` notification over WebSocket (polling
`eth_blockNumber` if the subscription fails). On anvil "final" means the same thing: mined and
visible to the client. A transaction's latency runs from the moment its batch request started.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field

from sidechain.chain.transactions import Transaction, decode_transactions
from sidechain.rpc.client import rpc_call_async as _rpc
from sidechain.devtools.bench.loadgen import Load
from sidechain.devtools.bench.submit import MAX_DISTINCT_ERRORS, SubmitResult, submitter_main
from sidechain.devtools.bench.targets import Target

IDLE_TIMEOUT = 30.0
"""After the last submission, stop waiting once no new bench transaction is final for this long."""


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass
class BlockSeen:
    number: int
    seen_at: float
    seen_wall: float
    """time.time() when seen, to compare with the node's own log of the commit."""
    txs: int
    bench_txs: int
    gas_used: int = 0


@dataclass
class Watch:
    """What the watcher saw so far."""

    wanted: dict[str, int]
    """Hex hash of each bench transaction -> its index in the load."""
    final_at: dict[int, float] = field(default_factory=dict)
    """Load index -> monotonic time its block was first seen."""
    blocks: list[BlockSeen] = field(default_factory=list)
    last_number: int = -1
    mode: str = "newHeads"
    last_progress: float = field(default_factory=time.monotonic)


async def _catch_up(session, url: str, watch: Watch, head: int, seen_at: float) -> None:
    """Fetch every block up to `head` not seen yet; each counts as seen at `seen_at`."""
    for number in range(watch.last_number + 1, head + 1):
        block = await _rpc(session, url, "eth_getBlockByNumber", [hex(number), False])
        bench = 0
        for tx_hash in block["transactions"]:
            index = watch.wanted.get(tx_hash.lower())
            if index is not None and index not in watch.final_at:
                watch.final_at[index] = seen_at
                bench += 1
        wall = time.time() - (time.monotonic() - seen_at)
        watch.blocks.append(BlockSeen(number, seen_at, wall, len(block["transactions"]), bench, int(block["gasUsed"], 16)))
        watch.last_number = number
        if bench:
            watch.last_progress = seen_at
            progress(f"  block {number}: {len(block['transactions'])} txs, {len(watch.final_at)}/{len(watch.wanted)} final")


async def watch_blocks(target: Target, watch: Watch, stop: asyncio.Event) -> None:
    """Follow new heads until `stop`; falls back to polling every 10 ms if eth_subscribe is unavailable."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        try:
            async with session.ws_connect(target.ws_url, max_msg_size=0) as ws:
                await ws.send_json({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})
                reply = await asyncio.wait_for(ws.receive_json(), 5)
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                while not stop.is_set():
                    try:
                        message = await asyncio.wait_for(ws.receive(), 0.2)
                    except asyncio.TimeoutError:
                        continue
                    if message.type != aiohttp.WSMsgType.TEXT:
                        raise RuntimeError(f"newHeads subscription ended ({message.type.name})")
                    seen_at = time.monotonic()
                    head = json.loads(message.data).get("params", {}).get("result", {})
                    if "number" in head:
                        await _catch_up(session, target.rpc_url, watch, int(head["number"], 16), seen_at)
                return
        except Exception as exc:  # no WebSocket or no eth_subscribe: poll instead, and say so
            progress(f"  newHeads unavailable on {target.name} ({type(exc).__name__}: {exc}); polling eth_blockNumber")
            watch.mode = "poll 10ms"
        while not stop.is_set():
            head = int(await _rpc(session, target.rpc_url, "eth_blockNumber", []), 16)
            if head > watch.last_number:
                await _catch_up(session, target.rpc_url, watch, head, time.monotonic())
            await asyncio.sleep(0.01)


async def _measure(target: Target, load: Load, watch: Watch, go, conn) -> tuple[SubmitResult, dict]:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        watch.last_number = int(await _rpc(session, target.rpc_url, "eth_blockNumber", []), 16)
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_blocks(target, watch, stop))
    await asyncio.sleep(0.3)  # let the subscription settle before the first transaction leaves
    cpu_before, wait_before, started = target.cpu_seconds(), target.runqueue_wait_seconds(), time.monotonic()
    go.set()
    while not conn.poll():  # not run_in_executor(conn.recv): a Ctrl-C must not wait for that thread
        await asyncio.sleep(0.02)
    submitted = conn.recv()
    if isinstance(submitted, Exception):
        stop.set()
        raise submitted
    progress(f"  submitted {len(load.raws)} txs in {max(submitted.replied_at) - min(submitted.sent_at):.2f}s, "
             f"{len(submitted.rejected)} rejected")
    expected = len(load.raws) - len(set(submitted.rejected))
    watch.last_progress = max(watch.last_progress, time.monotonic())
    while len(watch.final_at) < expected and time.monotonic() - watch.last_progress < IDLE_TIMEOUT:
        if watcher.done():
            watcher.result()  # raises what stopped it
            break
        await asyncio.sleep(0.05)
    stop.set()
    await watcher
    usage = {"cpu": target.cpu_seconds() - cpu_before, "runqueue_wait": target.runqueue_wait_seconds() - wait_before,
             "wall": time.monotonic() - started}
    return submitted, usage


def run_load(target: Target, load: Load, batch: int, connections: int, rate: float) -> dict:
    """Submit the whole load to `target` and return its statistics."""
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    conn, child_conn = ctx.Pipe(duplex=False)
    submitter = ctx.Process(target=submitter_main, args=(target.rpc_url, load.raws, batch, connections, rate, go, child_conn),
                            daemon=True)
    submitter.start()
    child_conn.close()
    try:
        if conn.recv() != "ready":
            raise RuntimeError("submitter did not start")
        load_average = os.getloadavg()[0]
        fetches_before = target.tx_fetches()
        watch = Watch({"0x" + h.hex(): i for i, h in enumerate(load.hashes)})
        cpu_client = time.process_time()
        submitted, usage = asyncio.run(_measure(target, load, watch, go, conn))
        watcher_cpu = time.process_time() - cpu_client
    finally:
        go.set()
        submitter.join(5)
        if submitter.is_alive():
            submitter.kill()
    result = statistics(load, batch, submitted, watch, usage, watcher_cpu, target.commit_times())
    result["machine_loadavg_1m_before"] = round(load_average, 2)
    result["tx_fetches"] = None if fetches_before is None else target.tx_fetches() - fetches_before
    return result


def _commit_to_seen(window: list[BlockSeen], commits: dict[int, float]) -> dict | None:
    """How long after the node logged a commit the client saw the block (node-side delivery delay)."""
    delays = sorted(b.seen_wall - commits[b.number] for b in window if b.number in commits)
    if not delays:
        return None
    return {"p50": round(_percentile(delays, 0.5) * 1000, 1), "max": round(delays[-1] * 1000, 1)}


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def statistics(load: Load, batch: int, sub: SubmitResult, watch: Watch, usage: dict, watcher_cpu: float,
               commits: dict[int, float]) -> dict:
    """The figures of one run; `commits` (block -> node's commit wall time) may be empty."""
    first_send = min(sub.sent_at)
    latencies = sorted(t - sub.sent_at[i // batch] for i, t in watch.final_at.items())
    last_final = max(watch.final_at.values(), default=first_send)
    span = last_final - first_send
    bench_blocks = [b for b in watch.blocks if b.bench_txs]
    if bench_blocks:
        lo, hi = bench_blocks[0].number, bench_blocks[-1].number
        window = [b for b in watch.blocks if lo <= b.number <= hi]
    else:
        window = []
    submit_span = max(sub.replied_at) - first_send
    replies = sorted(done - sent for sent, done in zip(sub.sent_at, sub.replied_at))
    window_txs, window_gas = sum(b.txs for b in window), sum(b.gas_used for b in window)
    return {
        "submitted": len(load.raws),
        "rejected": len(set(sub.rejected)),
        "errors": dict(sub.errors.most_common(MAX_DISTINCT_ERRORS)),
        "finalized": len(watch.final_at),
        "finalized_tps": round(len(watch.final_at) / span, 1) if span > 0 else None,
        "latency_ms": {name: round(_percentile(latencies, q) * 1000, 1)
                       for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))},
        "submit_tps": round(len(load.raws) / submit_span, 1) if submit_span > 0 else None,
        "submit_s": round(submit_span, 3),
        "batch_reply_ms": {"p50": round(_percentile(replies, 0.5) * 1000, 1), "max": round(replies[-1] * 1000, 1)},
        "first_submit_to_last_final_s": round(span, 3),
        "blocks": len(window),
        "txs_per_block": {"avg": round(sum(b.txs for b in window) / len(window), 1) if window else 0,
                          "max": max((b.txs for b in window), default=0)},
        "block_txs": [b.txs for b in window],
        "gas_per_tx": round(window_gas / window_txs) if window_txs else None,
        "mgas_per_s": round(window_gas / span / 1e6, 1) if span > 0 else None,
        "block_seen_s": [round(b.seen_at - first_send, 3) for b in window],
        "commit_to_seen_ms": _commit_to_seen(window, commits),
        "node_cpu_s": round(usage["cpu"], 2),
        "node_cpu_util": round(usage["cpu"] / usage["wall"], 2) if usage["wall"] > 0 else None,
        "node_runqueue_wait_s": round(usage["runqueue_wait"], 2),
        "client_cpu_s": {"submitter": round(sub.cpu_seconds, 2), "watcher": round(watcher_cpu, 2)},
        "wall_s": round(usage["wall"], 2),
        "finality_seen_by": watch.mode,
    }


def sender_recovery_us(load: Load, sample: int = 2000, rounds: int = 3) -> float:
    """The machine's yardstick: microseconds per transaction for the node's own batch decoder
    (RLP, hash, sender recovery with libsecp256k1) on the first `sample` of the load, best of
    `rounds`. Every validator pays this for every transaction it sees, so it says how fast this
    machine is beside the one that made another run's figures."""
    raws = load.raws[:sample]
    if not raws:
        raise ValueError("sender_recovery_us: expected a load with transactions, got none")
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        decoded = list(decode_transactions(raws, load.chain_id))
        best = min(best, time.perf_counter() - started)
    bad = [tx for tx in decoded if not isinstance(tx, Transaction)]
    if bad:
        raise ValueError(f"sender_recovery_us: expected the load to decode, got {len(bad)} invalid: {bad[0]}")
    return round(best / len(raws) * 1e6, 1)
