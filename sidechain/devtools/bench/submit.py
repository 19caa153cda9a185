"""The submitter: pushes pre-signed transactions as JSON-RPC batches of eth_sendRawTransaction.

It runs in its own process so that its CPU time neither slows the block watcher's clock readings nor
hides inside them, and it reports that CPU time. Request bodies are encoded before the start signal;
during the run it only sends, reads replies and notes times (`time.monotonic`, CLOCK_MONOTONIC, the
same clock in every process on the machine).
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter
from dataclasses import dataclass, field

MAX_DISTINCT_ERRORS = 5


@dataclass
class SubmitResult:
    """What the submitter saw; indices are positions in the load."""

    sent_at: list[float]
    """Per batch: monotonic time its request started."""
    replied_at: list[float]
    """Per batch: monotonic time its reply was fully read."""
    rejected: list[int] = field(default_factory=list)
    """Transactions the node answered with an error (or whose batch failed as a whole)."""
    errors: Counter = field(default_factory=Counter)
    """Error message -> how many transactions got it."""
    cpu_seconds: float = 0.0


def encode_batches(raws: list[bytes], batch: int) -> list[bytes]:
    """One JSON-RPC batch body per `batch` transactions; ids are the transactions' indices."""
    bodies = []
    for start in range(0, len(raws), batch):
        calls = [{"jsonrpc": "2.0", "id": start + j, "method": "eth_sendRawTransaction", "params": ["0x" + raw.hex()]}
                 for j, raw in enumerate(raws[start:start + batch])]
        bodies.append(json.dumps(calls, separators=(",", ":")).encode())
    return bodies


async def submit_all(url: str, bodies: list[bytes], batch: int, total: int, connections: int, rate: float) -> SubmitResult:
    """Send every body over `connections` keep-alive connections; at `rate` tx/s if rate > 0."""
    import aiohttp

    result = SubmitResult([0.0] * len(bodies), [0.0] * len(bodies))
    next_batch = iter(range(len(bodies)))
    start = time.monotonic()

    def fail(k: int, message: str) -> None:
        count = min(batch, total - k * batch)
        result.rejected.extend(range(k * batch, k * batch + count))
        result.errors[message] += count

    async def worker(session: aiohttp.ClientSession) -> None:
        for k in next_batch:
            if rate > 0:
                delay = start + k * batch / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            result.sent_at[k] = time.monotonic()
            try:
                async with session.post(url, data=bodies[k], headers={"Content-Type": "application/json"}) as response:
                    text = await response.read()
                    result.replied_at[k] = time.monotonic()
                    if response.status != 200:
                        fail(k, f"HTTP {response.status}: {text[:200].decode(errors='replace')}")
                        continue
                replies = json.loads(text)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                result.replied_at[k] = time.monotonic()
                fail(k, f"{type(exc).__name__}: {exc}")
                continue
            if not isinstance(replies, list):
                fail(k, f"not a batch reply: {str(replies)[:200]}")
                continue
            for reply in replies:
                error = reply.get("error")
                if error is not None:
                    result.rejected.append(reply.get("id"))
                    result.errors[str(error.get("message", error))[:200]] += 1

    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    return result


def submitter_main(url: str, raws: list[bytes], batch: int, connections: int, rate: float, go, conn) -> None:
    """Child-process entry point: encode, say "ready", wait for `go`, submit, send back the SubmitResult."""
    try:
        bodies = encode_batches(raws, batch)
        conn.send("ready")
        go.wait()
        before = resource.getrusage(resource.RUSAGE_SELF)
        result = asyncio.run(submit_all(url, bodies, batch, len(raws), connections, rate))
        after = resource.getrusage(resource.RUSAGE_SELF)
        result.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        conn.send(result)
    except BaseException as exc:  # report anything, including Ctrl-C, to the parent rather than die silently
        conn.send(RuntimeError(f"submitter failed: {type(exc).__name__}: {exc}"))
    finally:
        conn.close()
