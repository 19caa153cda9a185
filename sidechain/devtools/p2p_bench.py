"""Gossip throughput and latency of the p2p layer: 4 nodes, each in its own process, as deployed.

    python -m sidechain.devtools.p2p_bench [--duration 3] [--json-only]

Every node publishes at the same rate for `duration` seconds; each message carries its send time,
so every receiver measures delivery latency (one machine, one clock). Prints one JSON document:
per phase (rate per node, message size) the messages published, the deliveries seen against the
3 * published expected, msgs/s, p50/p99 latency and the CPU spent per delivery. Bounded: under 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NODES = 4
TOPIC = "bench/1"
PHASES = ((200, 10), (200, 25), (200, 50), (50_000, 10), (50_000, 25))
"""(message bytes, messages per second per node)."""
HEADER = struct.Struct(">HBIQ")  # phase, sender, sequence, send time (ns)
REPLY_TIMEOUT = 20.0


# --- worker: one node ----------------------------------------------------------------------------


async def worker(index: int, port: int, root: Path, bootstrap: list[str]) -> None:
    from sidechain.p2p import P2PConfig, P2PService, ValidationResult

    received: dict[int, list[float]] = {}

    def on_message(data: bytes, peer: str) -> None:
        phase, _, _, sent_ns = HEADER.unpack_from(data)
        received.setdefault(phase, []).append((time.time_ns() - sent_ns) / 1e6)

    service = P2PService(P2PConfig(
        listen_port=port, identity_path=root / f"node{index}" / "identity.key", bootstrap=tuple(bootstrap),
        network_id=b"bench", redial_interval=0.5,
    ))
    service.subscribe(TOPIC, lambda data, peer: ValidationResult.ACCEPT, on_message)
    await service.start()
    reply({"addr": service.listen_addr()})
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            command = json.loads(line)
            if command["cmd"] == "ready":
                await until(lambda: service.peer_count() >= NODES - 1 and len(service.mesh_peers(TOPIC)) >= NODES - 1, 15)
                reply({"peers": service.peer_count()})
            elif command["cmd"] == "phase":
                reply(await run_phase(service, index, command, received))
            elif command["cmd"] == "quit":
                return
    finally:
        await service.stop()


async def run_phase(service, index: int, command: dict, received: dict[int, list[float]]) -> dict:
    phase, size, rate, duration = command["phase"], command["size"], command["rate"], command["duration"]
    padding = b"\0" * (size - HEADER.size)
    cpu, wall = time.process_time(), time.monotonic()
    sent, next_at = 0, time.monotonic()
    while time.monotonic() - wall < duration:
        service.publish(TOPIC, HEADER.pack(phase, index, sent, time.time_ns()) + padding)
        sent += 1
        next_at += 1 / rate
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    expected = command["expected_per_node"]
    await until(lambda: len(received.get(phase, ())) >= expected, command["drain"])
    return {"sent": sent, "latencies_ms": [round(x, 3) for x in received.get(phase, [])],
            "cpu_s": time.process_time() - cpu, "wall_s": time.monotonic() - wall}


async def until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def reply(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# --- controller ----------------------------------------------------------------------------------


class Node:
    def __init__(self, index: int, port: int, root: Path, bootstrap: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sidechain.devtools.p2p_bench", "--worker", str(index), "--port", str(port), "--root", str(root),
             *(["--bootstrap", ",".join(bootstrap)] if bootstrap else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def send(self, obj: dict) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(obj) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"bench node exited with code {self.process.wait()}")
        return json.loads(line)

    def close(self) -> None:
        try:
            self.send({"cmd": "quit"})
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - already gone, or stuck: kill
            self.process.kill()
            self.process.wait()


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def measure(duration: float) -> dict:
    started = time.monotonic()
    nodes: list[Node] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            addrs: list[str] = []
            for index, port in enumerate(free_ports(NODES)):
                node = Node(index, port, Path(tmp), addrs)
                nodes.append(node)
                addrs.append(node.receive()["addr"])
            for node in nodes:
                node.send({"cmd": "ready"})
            for node in nodes:
                node.receive()
            phases = []
            for number, (size, rate) in enumerate(PHASES):
                expected_per_node = round(rate * duration) * (NODES - 1)
                command = {"cmd": "phase", "phase": number, "size": size, "rate": rate, "duration": duration,
                           "expected_per_node": expected_per_node, "drain": 3.0}
                for node in nodes:
                    node.send(command)
                results = [node.receive() for node in nodes]
                phases.append(summarise(size, rate, duration, results))
        finally:
            for node in nodes:
                node.close()
    return {"nodes": NODES, "processes": "one per node", "cpus": os.cpu_count(), "duration_per_phase_s": duration,
            "phases": phases, "total_s": round(time.monotonic() - started, 1)}


def summarise(size: int, rate: int, duration: float, results: list[dict]) -> dict:
    published = sum(r["sent"] for r in results)
    latencies = [x for r in results for x in r["latencies_ms"]]
    wall = max(r["wall_s"] for r in results)
    cpu = sum(r["cpu_s"] for r in results)
    return {
        "message_bytes": size, "rate_per_node": rate, "published": published,
        "deliveries": len(latencies), "expected_deliveries": published * (NODES - 1),
        "delivered_ratio": round(len(latencies) / max(1, published * (NODES - 1)), 4),
        "published_msgs_per_s": round(published / duration, 1),
        "delivered_msgs_per_s": round(len(latencies) / wall, 1),
        "delivered_mb_per_s": round(len(latencies) * size / wall / 1e6, 2),
        "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "cpu_ms_per_delivery": round(1000 * cpu / max(1, len(latencies) + published), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sidechain.devtools.p2p_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of publishing per phase (default 3)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        asyncio.run(worker(args.worker, args.port, args.root, [b for b in args.bootstrap.split(",") if b]))
        return
    if not 0.5 <= args.duration <= 5:
        parser.error("--duration must be 0.5..5 s (the whole run stays under 60 s)")
    print(json.dumps(measure(args.duration), indent=2))


if __name__ == "__main__":
    main()
