"""scripts/bench-evm: Mgas/s of the block executor alone, no network and no consensus.

Blocks are built with `Blockchain.build_block` on a temporary LevelDB directory and made final with
`Blockchain.commit`, so the figures include the state I/O: the flat tables the EVM reads, the
storage and account tries, the commit's write batch. Two workloads, each on the same chain after an
untimed setup (deployments, the token hand-out):

- keccak: `KeccakLoop.run(rounds)` (Erc20Bench.sol), KECCAK256 over 64 bytes of memory in a loop;
- erc20: OpenZeppelin ERC-20 `transfer(to, 1)` between many holders, as `scripts/bench --workload erc20`.

Transactions are signed and decoded (senders recovered) before any timing. The split: time in
`execute_transactions` (revm and its state callbacks), in `post_state` (storage and account tries
down to the state root), the rest of building (transaction and receipt roots, the header), and
`commit`. One JSON object on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from coincurve import PrivateKey

from sidechain.chain.genesis import load_genesis
from sidechain.chain.transactions import Transaction, create_address, decode_transaction
from sidechain.crypto import private_key_to_address
from sidechain.errors import GasLimitExceeded, NonceTooHigh
from sidechain.execution import executor
from sidechain.storage.blockchain import Blockchain
from sidechain.devtools.bench.erc20 import compile_contracts, creation_code, token_setup
from sidechain.devtools.bench.loadgen import build_load, new_sender_keys, sign_transfer, write_genesis
from sidechain.devtools.bench.measure import progress
from sidechain.devtools.bench.report import run_benchmark
from sidechain.devtools.bench.targets import python_info

RUN_SELECTOR = bytes.fromhex("a444f5e9")
"""keccak256("run(uint256)")[:4]"""
LEFT_FOR_NEXT_BLOCK = (GasLimitExceeded, NonceTooHigh)
"""Why a candidate may be left out of a full block: no gas left, or its sender's previous one left out."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench-evm", description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="keccak,erc20", help="comma-separated: keccak, erc20 (default both)")
    parser.add_argument("--blocks", type=int, default=8, help="timed blocks per workload (default 8)")
    parser.add_argument("--gas-limit", type=int, help="block gas limit (default: genesis/devnet.json's)")
    parser.add_argument("--senders", type=int, default=2000, help="erc20: sender keys, all of them holders (default 2000)")
    parser.add_argument("--holders", type=int, default=10_000, help="erc20: token holders, the recipients (default 10000)")
    parser.add_argument("--tx-gas", type=int, default=60_000, help="erc20: gas limit of each transfer (default 60000)")
    parser.add_argument("--rounds", type=int, default=7_000,
                        help="keccak: KECCAK256 rounds per call, ~120 gas each (default 7000)")
    parser.add_argument("--keccak-gas", type=int, default=1_000_000, help="keccak: gas limit of each call (default 1000000)")
    parser.add_argument("--seed", type=int, default=None, help="make keys and recipients reproducible")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() before each timed workload (the node does not), so collections skip what exists then")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="cProfile the timed blocks: DIR/<workload>.pstats")
    parser.add_argument("--keep", action="store_true", help="keep the temporary chain directory")
    args = parser.parse_args(argv)
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = set(args.workloads) - {"keccak", "erc20"}
    if unknown or not args.workloads:
        parser.error(f"--workloads: expected keccak and/or erc20, got {args.workloads}")
    for name in ("blocks", "senders", "holders", "tx_gas", "rounds", "keccak_gas"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected at least 1, got {getattr(args, name)}")
    return args


@dataclass
class Split:
    """Seconds spent in the executor's stages, summed by wrappers around them (`timing`)."""

    execute_transactions: float = 0.0
    post_state: float = 0.0

    @contextmanager
    def timing(self):
        """Wrap executor.execute_transactions and executor.post_state, the two stages `build` calls."""
        real_execute, real_post_state = executor.execute_transactions, executor.post_state

        def execute(*args, **kwargs):
            start = time.perf_counter()
            try:
                return real_execute(*args, **kwargs)
            finally:
                self.execute_transactions += time.perf_counter() - start

        def post_state(*args, **kwargs):
            start = time.perf_counter()
            try:
                result = real_post_state(*args, **kwargs)
                result[0].root_hash  # the account trie's root: hashed here rather than in the header
                return result
            finally:
                self.post_state += time.perf_counter() - start

        executor.execute_transactions, executor.post_state = execute, post_state
        try:
            yield self
        finally:
            executor.execute_transactions, executor.post_state = real_execute, real_post_state


@dataclass
class Figures:
    """What the timed blocks of one workload did, and where the time went."""

    gas: list[int] = field(default_factory=list)
    txs: list[int] = field(default_factory=list)
    build_s: float = 0.0
    commit_s: float = 0.0
    cpu_s: float = 0.0
    """process_time(): every thread of the process, LevelDB's compaction thread included."""
    split: Split = field(default_factory=Split)
    gc: list[float] = field(default_factory=lambda: [0.0, 0, 0.0])
    """CPython's collections during the blocks: [seconds, count, start of the current one]."""

    def gc_callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.gc[2] = time.perf_counter()
        else:
            self.gc[0] += time.perf_counter() - self.gc[2]
            self.gc[1] += 1

    def report(self) -> dict:
        seconds = self.build_s + self.commit_s
        gas, txs = sum(self.gas), sum(self.txs)
        stages = {"execute_transactions": self.split.execute_transactions, "post_state": self.split.post_state,
                  "build_other": self.build_s - self.split.execute_transactions - self.split.post_state,
                  "commit": self.commit_s}
        return {
            "blocks": len(self.gas), "txs": txs, "gas_per_block": round(gas / len(self.gas)) if self.gas else 0,
            "gas_per_tx": round(gas / txs) if txs else 0, "txs_per_block": self.txs,
            "seconds": round(seconds, 3), "mgas_per_s": round(gas / seconds / 1e6, 1), "tx_per_s": round(txs / seconds),
            "cpu_s": round(self.cpu_s, 3), "mgas_per_cpu_s": round(gas / self.cpu_s / 1e6, 1),
            "split_s": {k: round(v, 3) for k, v in stages.items()},
            "split_share": {k: round(v / seconds, 3) for k, v in stages.items()},
            "per_tx_us": {k: round(v / txs * 1e6, 1) for k, v in stages.items()},
            "gc_collections": {"count": self.gc[1], "seconds": round(self.gc[0], 3), "share": round(self.gc[0] / seconds, 3)},
        }


def run_blocks(chain: Blockchain, pending: list[Transaction], max_blocks: int | None = None,
               figures: Figures | None = None) -> list[Transaction]:
    """Build and commit blocks from `pending` (in order) until it is empty or `max_blocks` are made;
    every block gets as many as fit, the rest waits for the next. Every included transaction must
    succeed. Returns what is left. With `figures`, the blocks are timed into it.

    A block is offered a little more than the last one took (at first, what 21,000 gas each would
    fit), so that it is full while few candidates are turned away (each costs a check)."""
    proposer = chain.genesis.validators[0].address
    cap = most = chain.genesis.gas_limit // 21_000
    made = 0
    while pending and (max_blocks is None or made < max_blocks):
        candidates, rest = pending[:cap], pending[cap:]
        cpu, start = time.process_time(), time.perf_counter()
        executed = chain.build_block(proposer, chain.head.timestamp + 1, candidates)
        built = time.perf_counter()
        chain.commit(executed, b"")
        done = time.perf_counter()
        result = executed.result
        failed = [tx for tx, receipt in zip(result.transactions, result.receipts) if receipt.status != 1]
        wrong = [(tx, err) for tx, err in result.rejected if not isinstance(err, LEFT_FOR_NEXT_BLOCK)]
        if failed or wrong or not result.transactions:
            reason = wrong[0][1] if wrong else f"{len(failed)} failed (out of gas?)" if failed else "nothing fit"
            raise RuntimeError(f"block {executed.block.number}: {reason}")
        pending = [tx for tx, _ in result.rejected] + rest
        cap = min(most, len(result.transactions) + max(16, len(result.transactions) // 50))
        made += 1
        if figures is not None:
            figures.gas.append(result.gas_used)
            figures.txs.append(len(result.transactions))
            figures.build_s += built - start
            figures.commit_s += done - built
            figures.cpu_s += time.process_time() - cpu
            progress(f"  block {executed.block.number}: {len(result.transactions)} txs, {result.gas_used / 1e6:.1f} Mgas, "
                     f"build {1000 * (built - start):.0f} ms, commit {1000 * (done - built):.0f} ms")
    return pending


def timed(chain: Blockchain, name: str, txs: list[Transaction], blocks: int, profile_dir: Path | None,
          gc_freeze: bool) -> dict:
    figures = Figures()
    profiler = cProfile.Profile() if profile_dir else None
    if gc_freeze:
        gc.collect()
        gc.freeze()
    gc.callbacks.append(figures.gc_callback)
    try:
        with figures.split.timing():
            if profiler:
                profiler.enable()
            left = run_blocks(chain, txs, blocks, figures)
            if profiler:
                profiler.disable()
    finally:
        gc.callbacks.remove(figures.gc_callback)
        gc.unfreeze()
    if len(figures.gas) < blocks:
        progress(f"{name}: the load filled only {len(figures.gas)} of {blocks} blocks")
    report = figures.report()
    report["load_left_over"] = len(left)
    if profiler:
        profile_dir.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile_dir / f"{name}.pstats")
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
        (profile_dir / f"{name}.txt").write_text(text.getvalue())
        progress(f"{name}: profile in {profile_dir / (name + '.pstats')} (top 20 by own time in {name}.txt)")
    progress(f"{name}: {report['mgas_per_s']} Mgas/s, {report['tx_per_s']} tx/s; split {report['split_share']}")
    return report


def decoded(raws, chain_id: int) -> list[Transaction]:
    return [decode_transaction(raw, chain_id) for raw in raws]


def keccak_txs(key: bytes, contract: bytes, chain_id: int, count: int, rounds: int, gas: int) -> list[Transaction]:
    """`count` calls of run(rounds) from `key`, from nonce 1 on (its nonce 0 deployed the contract)."""
    data = RUN_SELECTOR + rounds.to_bytes(32, "big")
    signer = PrivateKey(key)
    return decoded([sign_transfer(signer, chain_id, nonce, contract, gas=gas, value=0, data=data)
                    for nonce in range(1, count + 1)], chain_id)


def run(args: argparse.Namespace, root: Path) -> dict:
    keys = new_sender_keys(args.senders + 2, args.seed)
    funder_key, keccak_key = keys.pop(), keys.pop()  # the token's funder; KeccakLoop's deployer and caller
    senders = [private_key_to_address(k) for k in keys]
    funder, keccak_caller = private_key_to_address(funder_key), private_key_to_address(keccak_key)
    write_genesis(root / "genesis.json", senders + [funder, keccak_caller], 1000, args.gas_limit)
    genesis = load_genesis(root / "genesis.json")
    chain = Blockchain.open(root / "data", genesis)
    try:
        compiled = compile_contracts()
        config = {"block_gas_limit": genesis.gas_limit, "blocks": args.blocks, "workloads": args.workloads,
                  "gc_freeze": args.gc_freeze,
                  "compiler": compiled["compiler"], "settings": compiled["settings"], "data_dir": "temporary LevelDB"}
        out: dict = {"config": config}
        # keccak_caller deploys KeccakLoop (nonce 0) in the first setup block, then makes every call.
        keccak = create_address(keccak_caller, 0)
        setup = [decode_transaction(sign_transfer(PrivateKey(keccak_key), genesis.chain_id, 0, None, gas=500_000, value=0,
                                                  data=creation_code("KeccakLoop")), genesis.chain_id)]
        if "erc20" in args.workloads:
            tokens = token_setup(funder_key, genesis.chain_id, senders, args.holders, args.seed)
            setup += decoded(tokens.raws, genesis.chain_id)
        started = time.perf_counter()
        run_blocks(chain, setup)
        progress(f"setup: {len(setup)} txs in {chain.height} blocks, {time.perf_counter() - started:.1f}s (not timed)")
        if "keccak" in args.workloads:
            count = 2 * args.blocks * genesis.gas_limit // args.keccak_gas  # more than fits unless a call uses < half its gas
            txs = keccak_txs(keccak_key, keccak, genesis.chain_id, count, args.rounds, args.keccak_gas)
            config["keccak"] = {"rounds_per_tx": args.rounds, "tx_gas": args.keccak_gas, "contract": "0x" + keccak.hex()}
            out["keccak"] = timed(chain, "keccak", txs, args.blocks, args.profile, args.gc_freeze)
        if "erc20" in args.workloads:
            count = args.blocks * genesis.gas_limit // 30_000  # more than fits: ~34,500 gas each
            load = build_load(keys, count, genesis.chain_id, seed=args.seed or 0, calls=tokens.calls(args.tx_gas))
            config["erc20"] = {"senders": len(keys), "holders": len(tokens.holders), "tx_gas": args.tx_gas,
                               "token": "0x" + tokens.token.hex()}
            out["erc20"] = timed(chain, "erc20", decoded(load.raws, genesis.chain_id), args.blocks, args.profile,
                                 args.gc_freeze)
        out["machine"] = {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2), "python": python_info(),
                          "platform": platform.platform()}
        return out
    finally:
        chain.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("bench-evm", lambda work: run(args, work), keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
