"""scripts/bench-explorer: does the block explorer stay responsive on a long chain (issue 12)?

For each chain length (`--blocks`, default 100,000, and `--compare`, default 1,000) it takes the
chain from the cache (explorer_chain.py builds it there the first time), runs `sidechain run` over a
copy of it (one validator, 1 s blocks, so the head moves while the pages load), and loads every
explorer page afresh in headless Chromium (explorer_driver.mjs): home, the blocks list (first and
last page), block N/2, a transaction, the address with the longest history (newest, a middle and
its oldest page), validators (100 and 1,000 blocks), checkpoints (first and last page), bridge, and
search by number, block hash and transaction hash. Each page counts until the router marks it
rendered (`#view[aria-busy=false]`); the figure is the median of `--runs` loads, with the JSON-RPC
calls it made, their bytes, and the node's CPU time and RSS.

A page whose time or calls grow with the chain's length is the bug this looks for: `scaling` in the
output puts each page's figures on the long chain over the short one. One JSON object on stdout,
progress on stderr.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from sidechain.devtools.devnet import REPO, NodeProcess, free_port_base, rpc_call, start_node, wait_until
from sidechain.errors import ConfigError
from sidechain.devtools.bench.explorer_chain import BuiltChain, cached_chain
from sidechain.devtools.bench.measure import progress
from sidechain.devtools.bench.report import run_benchmark
from sidechain.devtools.bench.targets import python_info
from sidechain.devtools.processes import stop_group
from sidechain.devtools.jsonlines import JsonLinesProcess

DRIVER = Path(__file__).with_name("explorer_driver.mjs")
PAGE_ROWS = 25
"""Rows per page of the blocks list and an address's history (pages/home.js, pages/address.js)."""
CHECKPOINT_ROWS = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench-explorer", description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=100_000, help="blocks of the long chain (default 100000)")
    parser.add_argument("--compare", type=int, default=1_000, help="blocks of the short chain beside it; 0 for none (default 1000)")
    parser.add_argument("--tx-every", type=int, default=100, help="one transfer every this many blocks (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="loads of each page; the median counts (default 3)")
    parser.add_argument("--rebuild", action="store_true", help="build the chains again even if cached")
    parser.add_argument("--json-out", type=Path, help="also write the JSON result to this file")
    args = parser.parse_args(argv)
    for name in ("blocks", "tx_every", "runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected at least 1, got {getattr(args, name)}")
    if args.blocks < 4 * args.tx_every:
        parser.error(f"--blocks: expected at least 4 transfers' worth ({4 * args.tx_every}), got {args.blocks}")
    if args.compare and args.compare < 4 * args.tx_every:
        parser.error(f"--compare: expected 0 or at least {4 * args.tx_every}, got {args.compare}")
    return args


class Driver:
    """The Chromium driver process (explorer_driver.mjs)."""

    def __init__(self) -> None:
        self.driver = JsonLinesProcess(["node", str(DRIVER)], REPO)

    def load(self, url: str, page: str, rpc: str) -> dict:
        return self.driver.call("load", url=url, page=page, rpc=rpc)

    def close(self) -> None:
        self.driver.close()


def process_cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_memory_mb(pid: int) -> dict:
    """VmRSS now and VmHWM (the peak RSS so far) in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return {"rss_mb": values.get("VmRSS"), "peak_rss_mb": values.get("VmHWM")}


def pages_of(chain: BuiltChain, rpc: str) -> list[tuple[str, str, str]]:
    """(name, hash route, the router's page name once it is there) for every page measured."""
    n = chain.blocks
    middle = n // 2
    tx_blocks = chain.tx_blocks()
    tx_block = min(tx_blocks, key=lambda b: abs(b - middle))
    block_hash = rpc_call(rpc, "eth_getBlockByNumber", [hex(middle), False])["hash"]
    tx_hash = rpc_call(rpc, "eth_getBlockByNumber", [hex(tx_block), False])["transactions"][0]
    sender = "0x" + chain.sender.hex()
    history = len(tx_blocks)
    oldest_page_before = tx_blocks[min(PAGE_ROWS, history) - 1] + 1  # before it: the first PAGE_ROWS transfers
    latest_checkpoint = n // int(rpc_call(rpc, "sidechain_getNetworkInfo")["checkpointInterval"], 16)
    return [
        ("home", "#/", "home"),
        ("blocks_page_1", "#/blocks", "blocks"),
        ("blocks_last_page", f"#/blocks?page={n // PAGE_ROWS}", "blocks"),
        ("block_middle", f"#/block/{middle}", "block"),
        ("tx", f"#/tx/{tx_hash}", "tx"),
        ("address_newest", f"#/address/{sender}", "address"),
        ("address_middle_page", f"#/address/{sender}?before={tx_block}", "address"),
        ("address_oldest_page", f"#/address/{sender}?before={oldest_page_before}", "address"),
        ("recipient", f"#/address/0x{chain.recipients[0].hex()}", "address"),
        ("validators", "#/validators", "validators"),
        ("validators_1000", "#/validators?window=1000", "validators"),
        ("checkpoints_page_1", "#/checkpoints", "checkpoints"),
        ("checkpoints_last_page", f"#/checkpoints?page={(latest_checkpoint - 1) // CHECKPOINT_ROWS}", "checkpoints"),
        ("bridge", "#/bridge", "bridge"),
        ("search_number", f"#/search/{middle}", "block"),
        ("search_block_hash", f"#/search/{block_hash}", "block"),
        ("search_tx_hash", f"#/search/{tx_hash}", "tx"),
    ]


def measure_chain(chain: BuiltChain, runs: int, driver: Driver, work: Path) -> dict:
    """Run a node over a copy of `chain` and load every page `runs` times."""
    copy = work / f"chain-{chain.blocks}"
    started = time.perf_counter()
    shutil.copytree(chain.root, copy)
    copied = time.perf_counter() - started
    node, ready = start_over(copy, chain.blocks, work / f"node-{chain.blocks}.log")
    try:
        wait_until(lambda: int(rpc_call(node.rpc_url, "eth_blockNumber"), 16) > chain.blocks, 60,
                   f"a block past {chain.blocks} (the node going on with the chain)")
        progress(f"{chain.blocks} blocks: node answering {ready:.1f}s after start, committing blocks past the "
                 f"cached head; loading pages")
        memory_idle = process_memory_mb(node.pid)
        base = node.explorer_url
        driver.load(base + "#/", "home", node.rpc_url)  # a first load, not counted: the browser's own warm-up
        pages = {}
        load = [os.getloadavg()[0]]
        pages_started, cpu_started = time.perf_counter(), process_cpu_seconds(node.pid)
        for name, route, page in pages_of(chain, node.rpc_url):
            loads = []
            for _ in range(runs):
                cpu = process_cpu_seconds(node.pid)
                result = driver.load(base + route, page, node.rpc_url)
                result["node_cpu_ms"] = round(1000 * (process_cpu_seconds(node.pid) - cpu))
                loads.append(result)
            last = loads[-1]
            if last["message"] or last["errors"]:
                raise RuntimeError(f"page {name} ({route}) shows {last['message']!r}, errors {last['errors']}")
            pages[name] = {
                "route": route, "ms": statistics.median(r["ms"] for r in loads), "ms_runs": [r["ms"] for r in loads],
                "rpc_requests": last["requests"], "rpc_calls": last["calls"], "rpc_bytes_in": last["bytesIn"],
                "rpc_bytes_out": last["bytesOut"], "methods": last["methods"],
                "node_cpu_ms": statistics.median(r["node_cpu_ms"] for r in loads),
                "network_changed_retries": sum(r["networkChangedRetries"] for r in loads),
            }
            progress(f"  {name}: {pages[name]['ms']} ms, {last['calls']} calls in {last['requests']} requests, "
                     f"{last['bytesIn']} bytes")
        load.append(os.getloadavg()[0])
        pages_seconds = time.perf_counter() - pages_started
        cpu_total = process_cpu_seconds(node.pid) - cpu_started
        return {
            "blocks": chain.blocks, "tx_every": chain.tx_every, "sender_history_txs": len(chain.tx_blocks()),
            "build_seconds": chain.build_seconds, "reused_cache": chain.reused, "cache": str(chain.root),
            "data_dir_mb": round(_size(chain.data_dir) / 2**20, 1), "copy_seconds": round(copied, 1),
            "node": {"rpc_ready_seconds": round(ready, 1), "idle": memory_idle, "after_pages": process_memory_mb(node.pid),
                     "cpu_seconds_during_pages": round(cpu_total, 2), "pages_wall_seconds": round(pages_seconds, 1),
                     "cpu_share_during_pages": round(cpu_total / pages_seconds, 3),
                     "head_after": int(rpc_call(node.rpc_url, "eth_blockNumber"), 16)},
            "loadavg_1m": {"before": round(load[0], 2), "after": round(load[1], 2)},
            "pages": pages,
        }
    finally:
        stop_group(node.pid)


def start_over(root: Path, blocks: int, log: Path, attempts: int = 3) -> tuple[NodeProcess, float]:
    """`sidechain run` over root/validator-0 on a free port; (the node, seconds until its JSON-RPC
    answered). Another process on the machine may take the port between the check and the bind:
    then the node exits, and starts again on another."""
    for attempt in range(1, attempts + 1):
        node = NodeProcess("validator-0", root / "validator-0", free_port_base([0]), "", log)
        started = time.perf_counter()
        start_node(node, root)

        def ready() -> bool:
            if node.process.poll() is not None:
                raise ConfigError(f"exited with code {node.process.returncode}")
            return rpc_call(node.rpc_url, "eth_chainId") is not None and node.process.poll() is None

        try:
            wait_until(ready, 120, f"the node over {blocks} blocks")
            return node, time.perf_counter() - started
        except ConfigError as exc:
            progress(f"the node over {blocks} blocks on port {node.rpc_port} {exc} (attempt {attempt}); see {log}")
        except BaseException:
            stop_group(node.pid)
            raise
    raise RuntimeError(f"the node over {blocks} blocks did not start in {attempts} attempts; see {log}")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def scaling(long: dict, short: dict) -> dict:
    """Per page: the long chain's time and response bytes over the short chain's, and both call
    counts; `slower_2x` names the pages at least twice as slow on the long chain. (An address page
    holds up to 25 transactions and a checkpoint page 10, so on the short chain the last pages
    and its address histories are shorter.)"""
    pages = {}
    for name, page in long["pages"].items():
        other = short["pages"].get(name)
        if other is None:
            continue
        pages[name] = {
            "ms": round(page["ms"] / other["ms"], 2) if other["ms"] else None,
            "rpc_calls": f"{page['rpc_calls']} vs {other['rpc_calls']}",
            "rpc_bytes_in": round(page["rpc_bytes_in"] / other["rpc_bytes_in"], 2) if other["rpc_bytes_in"] else None,
        }
    return {"long_over_short": pages, "slower_2x": [name for name, p in pages.items() if p["ms"] and p["ms"] >= 2]}


def run(args: argparse.Namespace, work: Path) -> dict:
    sizes = [args.blocks] + ([args.compare] if args.compare else [])
    chains = []
    for blocks in sizes:
        progress(f"chain of {blocks} blocks")
        chain = cached_chain(blocks, args.tx_every, rebuild=args.rebuild)
        if not chain.reused:
            progress(f"built {blocks} blocks in {chain.build_seconds} s ({blocks / max(chain.build_seconds, 0.1):.0f} blocks/s)")
        chains.append(chain)
    driver = Driver()
    try:
        measured = {str(chain.blocks): measure_chain(chain, args.runs, driver, work) for chain in chains}
    finally:
        driver.close()
    out = {"config": {"blocks": args.blocks, "compare": args.compare, "tx_every": args.tx_every, "runs": args.runs,
                      "browser": "Debian chromium, headless, via playwright-core"},
           "chains": measured}
    if args.compare:
        out["scaling"] = scaling(measured[str(args.blocks)], measured[str(args.compare)])
    out["machine"] = {"cpus": os.cpu_count(), "python": python_info(), "platform": platform.platform()}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def show_logs(work: Path) -> None:
        for log in work.glob("node-*.log"):
            progress(f"--- {log} (last lines)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))

    return run_benchmark("bench-explorer", lambda work: run(args, work), json_out=args.json_out, on_error=show_logs)


if __name__ == "__main__":
    sys.exit(main())
