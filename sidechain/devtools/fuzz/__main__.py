"""`python -m sidechain.devtools.fuzz [--target NAME ...] [--inputs N] [--seconds S] [--engine hypothesis|random]`

Runs each target one at a time, stopping at N inputs or S seconds, whichever comes first (the
issue's bar: 1,000,000 inputs or 10 minutes). Each input runs under a wall-clock bound (SIGALRM):
past it, the input is a hang. A crash or hang is saved to tests/fuzz/corpus/<target>/ as
`crash-<sha>.bin` (replayed by tests/fuzz/test_corpus.py) and the run goes on; one JSON line per
target on stdout: inputs, seconds, findings (exception type, message, where, file). The first
input of each distinct accepted outcome (an answer, or one allowed error message) is kept there
too, as the target's corpus (`--no-save` keeps nothing).

Engines: `hypothesis` (default) draws the generators' choices through `st.randoms()`, so its
heuristics steer them; `random` drives the same generators with a seeded PRNG, about 3x faster.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import re
import signal
import sys
import time
import traceback
from pathlib import Path

from sidechain.devtools.fuzz.targets import NAMES, build

MAX_CORPUS = 64
"""Corpus inputs kept per target per run."""
CORPUS = Path(__file__).resolve().parents[3] / "tests" / "fuzz" / "corpus"


class Hang(BaseException):
    """Raised by SIGALRM inside an input past its time bound (a BaseException: `except Exception`
    in the code under test cannot swallow it)."""


def _alarm(signum, frame):
    raise Hang()


class Run:
    def __init__(self, target, timeout: float, save: bool) -> None:
        self.target, self.timeout, self.save = target, timeout, save
        self.count = 0
        self.findings: dict[str, dict] = {}
        self.outcomes: set[str] = set()
        """Distinct answers seen (exception type and message with its numbers blanked): the first
        input of each is kept as the target's corpus, one per rule the decoder enforces."""

    def one(self, data: bytes) -> None:
        self.count += 1
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            answer = self.target.run(data)
            self._outcome(data, f"ok: {answer}" if isinstance(answer, str) else "ok")
        except self.target.allowed or () as exc:
            self._outcome(data, f"{type(exc).__name__}: {re.sub(r'[0-9a-fA-Fx]{2,}|[0-9]+', '#', str(exc))[:60]}")
        except Hang:
            self._found(data, "Hang", f"input ran past {self.timeout}s", "")
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
            self._found(data, type(exc).__name__, str(exc)[:200], where)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _outcome(self, data: bytes, key: str) -> None:
        if self.save and key not in self.outcomes and len(self.outcomes) < MAX_CORPUS and len(data) <= 4096:
            self.outcomes.add(key)
            folder = CORPUS / self.target.name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{hashlib.sha256(key.encode()).hexdigest()[:12]}.bin").write_bytes(data)

    def _found(self, data: bytes, kind: str, message: str, where: str) -> None:
        key = f"{kind} at {where}"
        if key in self.findings:
            self.findings[key]["hits"] += 1
            if len(data) < self.findings[key]["size"]:  # keep the smallest input of each kind
                self._store(key, data)
            return
        self.findings[key] = {"exception": kind, "message": message, "where": where, "hits": 1}
        self._store(key, data)

    def _store(self, key: str, data: bytes) -> None:
        entry = self.findings[key]
        entry["size"] = len(data)
        entry["input"] = data.hex() if len(data) <= 512 else data[:512].hex() + "..."
        if self.save:
            folder = CORPUS / self.target.name
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"crash-{hashlib.sha256(key.encode()).hexdigest()[:12]}.bin"
            path.write_bytes(data)
            entry["file"] = str(path.relative_to(CORPUS.parents[1]))


def run_random(run: Run, inputs: int, seconds: float, seed: int) -> None:
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    while run.count < inputs and (run.count % 256 or time.monotonic() < deadline):
        run.one(run.target.input(rng))


def run_hypothesis(run: Run, inputs: int, seconds: float, seed: int) -> None:
    try:
        from hypothesis import HealthCheck, Phase, given, seed as hseed, settings, strategies as st
    except ImportError:
        sys.exit("scripts/fuzz: hypothesis is missing: .venv/bin/pip install -e '.[fuzz]' (or --engine random)")

    deadline = time.monotonic() + seconds

    class Done(BaseException):
        pass

    @hseed(seed)
    @settings(max_examples=inputs, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.randoms(use_true_random=False).map(run.target.input), st.binary(max_size=1024)))
    def body(data: bytes) -> None:
        if time.monotonic() > deadline:
            raise Done()
        run.one(data)

    try:
        body()
    except Done:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__.split("\n\n")[1])
    parser.add_argument("--target", action="append", choices=NAMES, help="repeatable; default: all, one after another")
    parser.add_argument("--inputs", type=int, default=1_000_000, help="inputs per target (default 1,000,000)")
    parser.add_argument("--seconds", type=float, default=600.0, help="time per target (default 600)")
    parser.add_argument("--engine", choices=("hypothesis", "random"), default="hypothesis")
    parser.add_argument("--timeout", type=float, default=2.0, help="per-input bound in seconds (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-save", action="store_true", help="do not write crashers to tests/fuzz/corpus/")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGALRM, _alarm)
    logging.getLogger("sidechain").setLevel(logging.ERROR)  # each refused input's warning would drown the JSON lines
    failed = False
    for name in args.target or NAMES:
        run = Run(build(name), args.timeout, not args.no_save)
        started = time.monotonic()
        (run_hypothesis if args.engine == "hypothesis" else run_random)(run, args.inputs, args.seconds, args.seed)
        elapsed = time.monotonic() - started
        failed |= bool(run.findings)
        print(json.dumps({"target": name, "engine": args.engine, "inputs": run.count, "seconds": round(elapsed, 1),
                          "per_second": round(run.count / elapsed) if elapsed else None,
                          "findings": list(run.findings.values())}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
