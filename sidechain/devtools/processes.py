"""Stopping the processes tooling and tests start: politely (SIGTERM, then SIGKILL after a
timeout), a whole process group at once (a node started in a session of its own, anvil's npm shim
and its binary), or at once and for good (a test's cleanup).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after `timeout`."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_group(pgid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it if anything is left after `timeout`, reap our child."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pgid, os.WNOHANG)[0] == pgid:
                break
        except ChildProcessError:
            pass
        if not _group_alive(pgid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pgid, 0)
    except ChildProcessError:
        pass


def kill_group(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGKILL the process group of `process` (started in a session of its own) if it still runs,
    then reap it: a test's cleanup that must leave nothing behind, even on failure."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=timeout)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
