"""Hosts made of Linux network namespaces on one machine, for tests that need separate machines.

Each host is a namespace with `lo` and one `eth0` (a veth pair) whose other end is a port of a
bridge, the switch, in the root namespace. The switch has an address of the hosts' subnet (.254),
so the test process reaches every host directly. The subnet is a random 10.213.X.0/24 that no
route of the root namespace covers: traffic only ever goes to the namespaces' own addresses.

Links are cut where a cable would be pulled, at the switch: `ip link set PORT down` (no TCP reset
reaches either side). A partition replugs the cables of one group into a second switch (this
kernel has no VLAN filtering, nftables, iptables or tc actions): the groups cannot reach each
other, while the test still reaches the second group through the second switch's own address
(.253, with a /32 route per host moved there). Hosts left on the first switch (the L1) stay with
the first group.

Every name carries a random tag and the creating pid; `cleanup()` (called by the fixture and by
atexit) kills every process in the namespaces, deletes them and the switches, and `sweep_stale()`
removes what a killed run left behind.
"""

from __future__ import annotations

import atexit
import os
import random
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "scmh"
"""Marks every namespace and link these tests make: `scmh-<pid>-<tag>-<host>`, alias `scmh pid=<pid>`."""


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` failed ({result.returncode}): {result.stderr.strip()}")
    return result


def skip_reason() -> str | None:
    """Why namespace hosts cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespace hosts need root (ip netns add, veth, bridge)"
    probe = f"{PREFIX}-probe-{os.getpid()}"
    try:
        made = run("ip", "netns", "add", probe, check=False)
    except FileNotFoundError:
        return "the `ip` command (iproute2) is not installed"
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    run("ip", "netns", "del", probe, check=False)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_namespace_processes(ns: str) -> None:
    for _ in range(3):
        pids = [int(p) for p in run("ip", "netns", "pids", ns, check=False).stdout.split()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)


def sweep_stale() -> None:
    """Delete namespaces and switches of earlier runs whose creating process is gone (a run killed
    before its atexit could clean up)."""
    for line in run("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = re.fullmatch(rf"{PREFIX}-(\d+)-\w+-[\w.-]+", name)
        if match and not _alive(int(match.group(1))):
            _kill_namespace_processes(name)
            run("ip", "netns", "del", name, check=False)
    for block in run("ip", "-o", "link", "show", check=False).stdout.splitlines():
        match = re.search(rf"^\d+: ([^:@]+)[:@].*alias {PREFIX} pid=(\d+)", block)
        if match and not _alive(int(match.group(2))):
            run("ip", "link", "del", match.group(1), check=False)


def free_subnet() -> str:
    """A 10.213.X prefix (a /24) that no address or route of the root namespace touches."""
    used = run("ip", "-4", "route", "show", "table", "all").stdout + run("ip", "-4", "addr").stdout
    candidates = [x for x in range(1, 255) if f"10.213.{x}." not in used]
    if not candidates or "10.213.0.0/16" in used or re.search(r"\b10\.0\.0\.0/8\b", used):
        raise RuntimeError("no unused 10.213.X.0/24 subnet in the root namespace")
    return f"10.213.{random.choice(candidates)}"


@dataclass
class Host:
    name: str
    ns: str
    ip: str
    port: str
    """The switch-side end of the host's veth: cut it to pull the host's cable."""
    island: bool = False
    """Plugged into the second switch (one side of a partition)."""


@dataclass
class Lab:
    """Namespace hosts on one switch; build with `Lab.create`."""

    tag: str
    subnet: str
    switch: str
    island_switch: str
    hosts: dict[str, Host] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    closed: bool = False

    @property
    def switch_ip(self) -> str:
        return f"{self.subnet}.254"

    @property
    def island_ip(self) -> str:
        return f"{self.subnet}.253"

    @classmethod
    def create(cls, names: list[str]) -> "Lab":
        """Hosts `names`, with IPs .1, .2, ... in order, on one switch."""
        sweep_stale()
        tag = "%04x" % random.randrange(16**4)
        lab = cls(tag, free_subnet(), f"{PREFIX}a{tag}", f"{PREFIX}b{tag}")
        _LABS.append(lab)
        try:
            for bridge, address in ((lab.switch, f"{lab.switch_ip}/24"), (lab.island_switch, f"{lab.island_ip}/32")):
                run("ip", "link", "add", bridge, "type", "bridge")
                run("ip", "link", "set", bridge, "alias", f"{PREFIX} pid={os.getpid()}")
                run("ip", "addr", "add", address, "dev", bridge)
                run("ip", "link", "set", bridge, "up")
            for i, name in enumerate(names, start=1):
                lab._add_host(name, i)
        except BaseException:
            lab.cleanup()
            raise
        return lab

    def _add_host(self, name: str, index: int) -> None:
        assert index < 253
        ns = f"{PREFIX}-{os.getpid()}-{self.tag}-{name}"
        port, inner = f"{PREFIX}{self.tag}p{index}", f"{PREFIX}{self.tag}h{index}"
        host = Host(name, ns, f"{self.subnet}.{index}", port)
        run("ip", "netns", "add", ns)
        self.hosts[name] = host
        run("ip", "link", "add", port, "type", "veth", "peer", "name", inner)
        run("ip", "link", "set", port, "alias", f"{PREFIX} pid={os.getpid()}")
        run("ip", "link", "set", inner, "netns", ns)
        run("ip", "-n", ns, "link", "set", inner, "name", "eth0")
        run("ip", "-n", ns, "addr", "add", f"{host.ip}/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "link", "set", port, "master", self.switch)
        run("ip", "link", "set", port, "up")

    def popen(self, host: str, argv: list[str], log_path: Path, cwd: Path | None = None) -> subprocess.Popen:
        """Start `argv` inside `host` (its own session, so the whole group can be killed); output
        appended to `log_path`."""
        with open(log_path, "ab") as log:
            process = subprocess.Popen(["ip", "netns", "exec", self.hosts[host].ns, *argv], stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd)
        self.processes.append(process)
        return process

    def exec(self, host: str, argv: list[str], timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run `argv` inside `host` to completion."""
        return subprocess.run(["ip", "netns", "exec", self.hosts[host].ns, *argv], capture_output=True, text=True,
                              timeout=timeout, cwd=cwd)

    def cut(self, host: str) -> None:
        """Pull the host's cable at the switch: nothing reaches it, and nothing tells its peers."""
        run("ip", "link", "set", self.hosts[host].port, "down")

    def restore(self, host: str) -> None:
        run("ip", "link", "set", self.hosts[host].port, "up")

    def partition(self, island: list[str]) -> None:
        """Replug the cables of `island` into the second switch: they reach each other and the test,
        nothing else (and the others, on the first switch, cannot reach them)."""
        for name in island:
            host = self.hosts[name]
            run("ip", "link", "set", host.port, "master", self.island_switch)
            run("ip", "route", "replace", f"{host.ip}/32", "dev", self.island_switch, "src", self.island_ip)
            host.island = True

    def heal(self) -> None:
        """Every host back on the first switch."""
        for host in self.hosts.values():
            if host.island:
                run("ip", "link", "set", host.port, "master", self.switch)
                run("ip", "route", "del", f"{host.ip}/32", "dev", self.island_switch, check=False)
                host.island = False

    def kill(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self) -> None:
        """Kill every process started here and every process left in the namespaces; delete the
        namespaces (which deletes their veths) and the switches. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for process in self.processes:
            self.kill(process)
        for host in self.hosts.values():
            _kill_namespace_processes(host.ns)
            run("ip", "netns", "del", host.ns, check=False)
            run("ip", "link", "del", host.port, check=False)
        for bridge in (self.switch, self.island_switch):
            run("ip", "link", "del", bridge, check=False)


_LABS: list[Lab] = []


@atexit.register
def _cleanup_all() -> None:
    for lab in _LABS:
        try:
            lab.cleanup()
        except Exception:  # atexit: clean up what can be cleaned
            pass
