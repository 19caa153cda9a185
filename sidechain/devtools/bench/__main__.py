"""scripts/bench: finalized TPS and submit-to-final latency, the sidechain beside anvil on the same pre-signed load.

Workloads: `transfer` (default), ETH transfers to random addresses; `erc20`, OpenZeppelin ERC-20
transfers between holders, after a setup (deployment and hand-out of the tokens, erc20.py) that is
not timed.

Prints one JSON object on stdout ({"config", "sidechain", "anvil", "ratio", "machine"}); progress goes
to stderr. Every process and temporary directory it creates is removed on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from sidechain.chain.transactions import TX_GAS
from sidechain.crypto import private_key_to_address
from sidechain.devtools.devnet import rpc_call
from sidechain.devtools.bench.erc20 import TokenSetup, compile_contracts, run_setup, token_setup
from sidechain.devtools.bench.loadgen import SENDER_BALANCE, build_load, new_sender_keys, write_genesis
from sidechain.devtools.bench.measure import IDLE_TIMEOUT, progress, run_load, sender_recovery_us
from sidechain.devtools.bench.report import run_benchmark
from sidechain.devtools.bench.targets import (Target, describe_failure, fund_on_anvil, python_info, start_anvil, start_profilers,
                      start_sidechain, stop_profilers)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("transfer", "erc20"), default="transfer",
                        help="ETH transfers (default), or ERC-20 transfer() calls between token holders")
    parser.add_argument("--validators", type=int, default=1, help="sidechain validator processes (default 1)")
    parser.add_argument("--txs", type=int, default=20_000, help="transactions in the load (default 20000)")
    parser.add_argument("--senders", type=int, default=500, help="fresh funded sender keys (default 500)")
    parser.add_argument("--holders", type=int, default=2000,
                        help="erc20: token holders, the senders among them; recipients are drawn from them (default 2000)")
    parser.add_argument("--tx-gas", type=int, default=60_000, help="erc20: gas limit of each transfer() (default 60000)")
    parser.add_argument("--batch", type=int, default=1000, help="transactions per JSON-RPC batch request (default 1000)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent HTTP connections submitting (default 4)")
    parser.add_argument("--rate", type=float, default=0, help="submission rate in tx/s; 0 = as fast as possible (default)")
    parser.add_argument("--block-time-ms", type=int, default=1000, help="block time of both chains (default 1000)")
    parser.add_argument("--gas-limit", type=int, help="block gas limit of both chains (default: genesis/devnet.json's)")
    parser.add_argument("--no-anvil", action="store_true", help="skip the anvil comparison")
    parser.add_argument("--no-sidechain", action="store_true", help="only run anvil (debugging the bench itself)")
    parser.add_argument("--seed", type=int, default=None, help="make sender keys and recipients reproducible")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, chain data)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record each sidechain node with py-spy during the run (collapsed stacks in DIR)")
    parser.add_argument("--profile-gil", action="store_true",
                        help="with --profile: sample only the thread holding the GIL (a thread waiting for it is not counted)")
    parser.add_argument("--json-out", type=Path, help="also write the JSON result to this file")
    args = parser.parse_args(argv)
    for name in ("validators", "txs", "senders", "holders", "tx_gas", "batch", "connections", "block_time_ms"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected at least 1, got {getattr(args, name)}")
    if args.rate < 0:
        parser.error(f"--rate: expected 0 or a positive tx/s, got {args.rate}")
    if args.no_anvil and args.no_sidechain:
        parser.error("--no-anvil and --no-sidechain leave nothing to measure")
    return args


def _ratio(a: dict | None, b: dict | None, key: str, sub: str | None = None) -> float | None:
    if not a or not b:
        return None
    x, y = (a[key][sub], b[key][sub]) if sub else (a[key], b[key])
    return round(x / y, 3) if x and y else None


def run(args: argparse.Namespace, root: Path, started: list[Target]) -> dict:
    t0 = time.monotonic()
    erc20 = args.workload == "erc20"
    keys = new_sender_keys(args.senders + erc20, args.seed)  # erc20: the last one is the token's funder
    funder_key = keys.pop() if erc20 else None
    funded = [private_key_to_address(k) for k in keys + ([funder_key] if erc20 else [])]
    genesis_file = root / "bench-genesis.json"
    genesis = write_genesis(genesis_file, funded, args.block_time_ms, args.gas_limit)
    chain_id, gas_limit = genesis["chainId"], int(genesis["gasLimit"])
    setup = token_setup(funder_key, chain_id, funded[:len(keys)], args.holders, args.seed) if erc20 else None
    load = build_load(keys, args.txs, chain_id, seed=args.seed or 0, calls=setup.calls(args.tx_gas) if setup else None)
    progress(f"signed {len(load.raws)} {args.workload} txs from {len(keys)} senders in {time.monotonic() - t0:.2f}s "
             f"(sample verified)")
    tx_gas = args.tx_gas if erc20 else TX_GAS
    config = {"workload": args.workload, "validators": args.validators, "txs": args.txs, "senders": args.senders,
              "batch": args.batch, "connections": args.connections, "rate": args.rate, "block_time_ms": args.block_time_ms,
              "block_gas_limit": gas_limit, "chain_id": chain_id,
              "max_txs_per_block_by_gas": gas_limit // tx_gas}
    if setup:
        compiled = compile_contracts()
        config["erc20"] = {"token": "0x" + setup.token.hex(), "holders": len(setup.holders), "tx_gas": args.tx_gas,
                           "setup_txs": len(setup.raws), "compiler": compiled["compiler"], "settings": compiled["settings"]}
    recovery_us = sender_recovery_us(load)
    progress(f"this machine decodes and recovers a sender in {recovery_us} us per transaction")
    results: dict = {"sidechain": None, "anvil": None}
    if not args.no_sidechain:
        progress(f"starting {args.validators} sidechain validator(s) in {root}")
        target = start_sidechain(root / "sidechain", genesis_file, args.validators, args.block_time_ms, started)
        _set_up(target, setup)
        progress(f"sidechain up at {target.rpc_url} (pids {target.pids}); submitting")
        profilers = start_profilers(target, args.profile, gil=args.profile_gil) if args.profile else []
        try:
            results["sidechain"] = _measured(target, load, args)
        finally:
            stop_profilers(profilers)
        target.stop()
    if not args.no_anvil:
        progress("starting anvil")
        (root / "anvil").mkdir()
        target = start_anvil(root / "anvil", gas_limit, chain_id, args.block_time_ms, started)
        fund_on_anvil(target, funded, SENDER_BALANCE)
        _set_up(target, setup)
        progress(f"anvil up at {target.rpc_url}, {len(funded)} accounts funded; submitting")
        results["anvil"] = _measured(target, load, args)
        target.stop()
    sc, an = results["sidechain"], results["anvil"]
    return {
        "config": config,
        **results,
        "ratio": {"finalized_tps": _ratio(sc, an, "finalized_tps"), "latency_p50": _ratio(sc, an, "latency_ms", "p50")},
        "machine": {"cpus": os.cpu_count(), "python": python_info(), "platform": platform.platform(),
                    "sender_recovery_us": recovery_us},
    }


def _set_up(target: Target, setup: TokenSetup | None) -> None:
    if setup is None:
        return
    started = time.monotonic()
    run_setup(target, setup)
    progress(f"{target.name}: token 0x{setup.token.hex()} deployed and handed out to {len(setup.holders)} holders "
             f"in {time.monotonic() - started:.1f}s (setup, not timed)")


def _measured(target: Target, load, args) -> dict:
    for sender in (load.senders[0], load.senders[-1]):  # the load is only meaningful if it is funded
        balance = int(rpc_call(target.rpc_url, "eth_getBalance", ["0x" + sender.hex(), "latest"]), 16)
        if balance != SENDER_BALANCE:
            raise RuntimeError(f"{target.name}: sender 0x{sender.hex()} holds {balance} wei, expected {SENDER_BALANCE}")
    result = run_load(target, load, args.batch, args.connections, args.rate)
    if result["finalized"] < result["submitted"] - result["rejected"]:
        progress(f"{target.name}: WARNING only {result['finalized']} of {result['submitted'] - result['rejected']} "
                 f"accepted transactions became final within {IDLE_TIMEOUT:.0f}s of the last progress")
    progress(f"{target.name}: {result['finalized']}/{result['submitted']} final, {result['finalized_tps']} TPS, "
             f"p50 {result['latency_ms']['p50']} ms, node CPU {result['node_cpu_s']}s")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started: list[Target] = []

    def describe(work: Path) -> None:
        for target in started:
            progress(describe_failure(target))

    def stop() -> None:
        for target in started:
            target.stop()

    return run_benchmark("bench", lambda work: run(args, work, started), keep=args.keep, json_out=args.json_out,
                         on_error=describe, cleanup=stop)


if __name__ == "__main__":
    sys.exit(main())
