"""A local L1: anvil (from the npm package @foundry-rs/anvil) as a child process on a free loopback port.

Used by the contract tests and the gas benchmark. The npm shim runs the real binary as its child,
so anvil gets its own session and stopping it signals the whole process group.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sidechain.devtools.processes import stop_group
from sidechain.rpc.client import rpc_call

REPO = Path(__file__).resolve().parents[2]
ANVIL = REPO / "node_modules" / ".bin" / "anvil"


@dataclass(frozen=True, slots=True)
class Anvil:
    """A running anvil."""

    url: str
    """Its HTTP JSON-RPC endpoint."""
    chain_id: int
    """Its chain id."""
    pid: int
    """The process-group leader."""
    log_path: Path
    """Where its stdout and stderr go."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chain_id(url: str) -> int:
    return int(rpc_call(url, "eth_chainId", timeout=1), 16)


@contextmanager
def run_anvil(chain_id: int = 31337, *, timeout: float = 30.0, extra_args: list[str] | None = None,
              log_dir: Path | None = None) -> Iterator[Anvil]:
    """Start anvil on a free 127.0.0.1 port, wait until it answers eth_chainId, stop it on exit.

    Its log goes to `log_dir`, or to a temporary file that is removed unless something failed.
    """
    if not ANVIL.exists():
        raise FileNotFoundError(f"{ANVIL} not found; run scripts/bootstrap")
    for _ in range(3):  # the free port may be taken between the probe and anvil's bind
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = Path(log_dir or tempfile.gettempdir()) / f"anvil-{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id),
                 *(extra_args or [])],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        try:
            if _wait_ready(process, url, chain_id, timeout):
                yield Anvil(url, chain_id, process.pid, log_path)
                if log_dir is None:
                    log_path.unlink(missing_ok=True)
                return
        finally:
            stop_group(process.pid)
    raise RuntimeError(f"anvil did not start after 3 attempts; see {log_path}")


def _wait_ready(process: subprocess.Popen, url: str, chain_id: int, timeout: float) -> bool:
    """True once anvil answers with `chain_id`; False if it exited (e.g. port taken); raises on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            got = _chain_id(url)
        except OSError as exc:  # not listening yet
            last_error = exc
        else:
            if got != chain_id:
                raise RuntimeError(f"anvil at {url} reports chain id {got}, expected {chain_id}")
            return True
        time.sleep(0.05)
    raise TimeoutError(f"anvil at {url} did not answer within {timeout}s (last error: {last_error})")
