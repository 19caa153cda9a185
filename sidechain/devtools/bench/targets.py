"""The systems under test as OS processes: a sidechain network or anvil, each in its own process group.

Every process is started with `start_new_session=True`, so stopping a target signals its whole group
(anvil's npm shim runs the real binary as a child) and CPU time is summed over the group.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sidechain.devtools.processes import stop_group
from sidechain.devtools.devnet import REPO, NodeProcess, free_port_base, init_network, rpc_call, start_node, wait_until
from sidechain.rpc.client import rpc_batch

ANVIL_SHIM = REPO / "node_modules" / ".bin" / "anvil"
ANVIL_BINARY = REPO / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    """One system under test: where to send transactions, where to watch blocks, which processes to account."""

    name: str
    rpc_url: str
    ws_url: str
    pids: list[int] = field(default_factory=list)
    """Process-group leaders; each group's CPU time counts as the target's."""
    logs: list[Path] = field(default_factory=list)
    metrics_urls: list[str] = field(default_factory=list)
    """Each sidechain node's Prometheus page (none for anvil)."""

    def cpu_seconds(self) -> float:
        return sum(group_cpu_seconds(pid) for pid in self.pids)

    def runqueue_wait_seconds(self) -> float:
        return sum(group_runqueue_wait_seconds(pid) for pid in self.pids)

    def tx_fetches(self) -> int | None:
        """Fetches of a proposal's missing transactions so far, summed over the nodes (None for anvil):
        each holds that validator's prevote for a round trip, so a run should make few."""
        if not self.metrics_urls:
            return None
        total = 0.0
        for url in self.metrics_urls:
            with urllib.request.urlopen(url, timeout=5) as response:
                total += sum(float(line.split()[-1]) for line in response.read().decode().splitlines()
                             if line.startswith("sidechain_tx_fetches_total "))
        return int(total)

    def commit_times(self) -> dict[int, float]:
        """Block number -> wall-clock time validator-0 logged its commit (empty for anvil)."""
        return commit_wall_times(self.logs[0]) if self.name == "sidechain" and self.logs else {}

    def stop(self) -> None:
        for pid in self.pids:
            stop_group(pid)


def _group_stats(pgid: int) -> list[tuple[str, list[str]]]:
    """(pid, /proc/<pid>/stat fields from field 3 on) of every live process in group `pgid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:  # fields[0] is field 3 (state), so field 5 (pgrp) is fields[2]
            members.append((entry, fields))
    return members


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime + cutime + cstime (fields 14-17) of every live process in group `pgid`."""
    return sum(sum(int(x) for x in fields[11:15]) for _, fields in _group_stats(pgid)) / CLOCK_TICKS


def group_runqueue_wait_seconds(pgid: int) -> float:
    """Time the group's threads were runnable but waiting for a CPU (/proc/<pid>/task/<tid>/schedstat, field 2).

    A node that is slow because other processes hold the cores shows it here, not in its CPU time.
    """
    waited = 0
    for pid, _ in _group_stats(pgid):
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                waited += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return waited / 1e9


_COMMIT_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .*committed block (\d+) ")


def commit_wall_times(log_path: Path) -> dict[int, float]:
    """Parse `committed block N` lines of a node log (logging's local-time asctime, ms resolution)."""
    times = {}
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return times
    for line in lines:
        match = _COMMIT_LINE.match(line)
        if match:
            stamp = time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S"))
            times[int(match.group(3))] = stamp + int(match.group(2)) / 1000
    return times


def start_sidechain(root: Path, genesis: Path, validators: int, block_time_ms: int, started: list[Target]) -> Target:
    """`sidechain init` + `sidechain run` for each validator in `root`, wired over libp2p as the devnet
    wires them; returns validator-0 as the target. The target is appended to `started` as soon as
    its first process exists, so the caller's cleanup sees it even if a later node fails to start.
    Ready means a block got committed."""
    base = free_port_base([*range(validators), *range(100, 100 + validators)])
    nodes = init_network(root, validators, rpc_base_port=base, genesis_path=genesis, block_time_ms=block_time_ms,
                         p2p_base_port=base + 100 if validators > 1 else None)
    target = Target("sidechain", nodes[0].rpc_url, nodes[0].ws_url)
    started.append(target)
    for node in nodes:
        start_node(node, root)
        target.pids.append(node.pid)
        target.logs.append(node.log_path)
        target.metrics_urls.append(node.rpc_url + "/metrics")
    for node in nodes:
        _wait_node(node)
    wait_until(lambda: int(rpc_call(nodes[0].rpc_url, "eth_blockNumber"), 16) >= 1, 60, "the first committed block")
    return target


def _wait_node(node: NodeProcess, timeout: float = 60) -> None:
    """Like devnet.wait_ready, but gives up at once if the process has exited."""
    def ready():
        if node.process.poll() is not None:
            raise RuntimeError(f"{node.name} exited with code {node.process.returncode}")
        try:
            return rpc_call(node.rpc_url, "eth_chainId") is not None
        except OSError:
            return False

    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{node.name} JSON-RPC at {node.rpc_url} not answering after {timeout}s")
        time.sleep(0.05)


def anvil_command(port: int, gas_limit: int, chain_id: int, block_time_s: float) -> list[str]:
    binary = ANVIL_BINARY if ANVIL_BINARY.exists() else ANVIL_SHIM
    block_time = f"{block_time_s:g}"
    return [str(binary), "--port", str(port), "--chain-id", str(chain_id), "--block-time", block_time,
            "--gas-limit", str(gas_limit), "--accounts", "1", "--quiet", "--no-request-size-limit"]


def start_anvil(root: Path, gas_limit: int, chain_id: int, block_time_ms: int, started: list[Target]) -> Target:
    """anvil with the sidechain's chain id, block time and block gas limit."""
    port = free_port_base([0])
    log_path = root / "anvil.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(anvil_command(port, gas_limit, chain_id, block_time_ms / 1000),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    target = Target("anvil", f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", [process.pid], [log_path])
    started.append(target)

    def ready():
        if process.poll() is not None:
            raise RuntimeError(f"anvil exited with code {process.returncode}; see {log_path}")
        return rpc_call(target.rpc_url, "eth_chainId") is not None

    wait_until(ready, 30, f"anvil at {target.rpc_url}")
    return target


def fund_on_anvil(target: Target, senders: list[bytes], balance: int, chunk: int = 500) -> None:
    """anvil_setBalance for every sender, in JSON-RPC batches."""
    for start in range(0, len(senders), chunk):
        calls = [("anvil_setBalance", ["0x" + a.hex(), hex(balance)]) for a in senders[start:start + chunk]]
        replies = rpc_batch(target.rpc_url, calls, timeout=30)
        failed = [r["error"] for r in replies if "error" in r]
        if failed:
            raise RuntimeError(f"anvil_setBalance failed: {failed[0]}")


def start_profilers(target: Target, out_dir: Path, *, gil: bool = False) -> list[subprocess.Popen]:
    """py-spy (collapsed stacks, 100 Hz, on-CPU samples only) on each process of `target`; with
    `gil`, only the thread holding the GIL is sampled, so time spent waiting for it is not counted."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([py_spy, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--nonblocking",
                              *(["--gil"] if gil else []), "--output", str(out_dir / f"{target.name}-{i}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            for i, pid in enumerate(target.pids)]


def stop_profilers(profilers: list[subprocess.Popen]) -> None:
    """SIGINT makes py-spy write its output and exit."""
    for profiler in profilers:
        if profiler.poll() is None:
            profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        try:
            profiler.wait(30)
        except subprocess.TimeoutExpired:
            profiler.kill()


def describe_failure(target: Target) -> str:
    """The tail of each log of a target, for an error message."""
    parts = []
    for path in target.logs:
        try:
            tail = path.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            continue
        parts.append(f"--- {path} (last lines)\n" + "\n".join(tail))
    return "\n".join(parts)


def python_info() -> str:
    return sys.version.split()[0]
