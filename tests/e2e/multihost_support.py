"""A sidechain network across namespace hosts (netns_support): anvil as the L1 on its own host, the
L1 contracts deployed from that host with `scripts/deploy-l1`'s command, one validator and its
relayer per host, bootstrapped by address as the README's "Run a network across machines" says
(the first validator with no --bootstrap, every other with the first one's address), and a host
for a node that joins later. Every address is a host's own; nothing uses 127.0.0.1.

Also the load the partition tests measure finality under: value transfers submitted at a steady
rate, each stamped when submitted and when it shows up in a block (blocks are final when committed).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path

from eth_account import Account

from sidechain.devtools.anvil import ANVIL, _wait_ready
from sidechain.devtools.l1devnet import DEV_BALANCE_ETH, L1_CHAIN_ID
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import (
    DEV_PASSWORD, DEV_SCRYPT_N, REPO, NodeProcess, init_network, rpc_call, sidechain_command, wait_ready, wait_until,
)
from sidechain.p2p.identity import load_or_create_identity, peer_id_of
from sidechain.rpc.client import rpc_batch

from follower_support import FOLLOWER_DEV_KEY
from netns_support import Lab

RPC_PORT = 8545
P2P_PORT = 30333
"""The same ports on every host, as on separate machines."""
L1_HOST = "l1"
SPARE_HOSTS = ("joiner", "early")
"""Hosts for nodes a test starts itself."""


@dataclass
class HostNode(NodeProcess):
    """A node on a namespace host: reached at the host's IP."""

    host: str = ""
    ip: str = ""

    @property
    def multiaddr(self) -> str:
        return f"/ip4/{self.ip}/tcp/{self.p2p_port}/p2p/{self.peer_id}"

    @property
    def rpc_url(self) -> str:
        return f"http://{self.ip}:{self.rpc_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.ip}:{self.rpc_port}"


class MultihostNetwork:
    """Validators v0..v{n-1} on hosts of their own, the L1 on host `l1`, spare hosts for followers."""

    def __init__(self, root: Path, lab: Lab, validators: int, block_time_ms: int) -> None:
        self.root, self.lab = root, lab
        self.genesis_path = root / "genesis.json"
        self.password_file = root / "password.txt"
        nodes = init_network(root, validators, rpc_base_port=RPC_PORT, block_time_ms=block_time_ms, p2p_base_port=P2P_PORT)
        self.validators = [self._on_host(n, f"v{i}") for i, n in enumerate(nodes)]
        self.followers: list[HostNode] = []
        """Non-validating nodes the tests started (stopped and checked for safety with the validators)."""
        self.l1_url = f"http://{lab.hosts[L1_HOST].ip}:{RPC_PORT}"
        self.l1_process: subprocess.Popen | None = None
        self.deployment: dict = {}
        self.relayers: list[subprocess.Popen] = []

    def _on_host(self, node: NodeProcess, host: str) -> HostNode:
        values = {f.name: getattr(node, f.name) for f in fields(NodeProcess)}
        values.update(rpc_port=RPC_PORT, p2p_port=P2P_PORT, bootstrap=())
        return HostNode(**values, host=host, ip=self.lab.hosts[host].ip)

    @property
    def nodes(self) -> list[HostNode]:
        return self.validators + self.followers

    # -- L1 -----------------------------------------------------------------------------------------

    def start_l1(self) -> None:
        """anvil on the L1 host, then CheckpointManager and RootBridge deployed from that host with
        the command `scripts/deploy-l1` runs, by anvil's account #0 from an encrypted keystore."""
        if not ANVIL.exists():
            raise FileNotFoundError(f"{ANVIL} not found; run scripts/bootstrap")
        self.l1_process = self.lab.popen(L1_HOST, [
            str(ANVIL), "--host", self.lab.hosts[L1_HOST].ip, "--port", str(RPC_PORT), "--chain-id", str(L1_CHAIN_ID),
            "--block-time", "1", "--balance", str(DEV_BALANCE_ETH)], self.root / "l1.log")
        if not _wait_ready(self.l1_process, self.l1_url, L1_CHAIN_ID, timeout=30):
            raise RuntimeError(f"anvil exited at start; see {self.root / 'l1.log'}")
        keystore = self.root / "deployer.json"
        keystore.write_text(json.dumps(Account.encrypt(anvil_private_key(0), DEV_PASSWORD, iterations=DEV_SCRYPT_N)))
        out = self.root / "deployment.json"
        deployed = self.lab.exec(L1_HOST, [
            *python(), "-m", "bridge.deploy_cli", "--rpc-url", self.l1_url, "--keystore", str(keystore),
            "--password-file", str(self.password_file), "--genesis", str(self.genesis_path), "--confirmations", "1",
            "--out", str(out)], cwd=REPO)
        assert deployed.returncode == 0, f"deploy-l1 failed: {deployed.stderr}{deployed.stdout}"
        self.deployment = json.loads(out.read_text())

    # -- nodes --------------------------------------------------------------------------------------

    def start_validators(self) -> None:
        """The first validator, then (once it listens: its log says so before JSON-RPC answers) every
        other one with its address, in the README's order. Not all at once: a node whose first dial
        of its only bootstrap peer is refused stays alone for about a minute (py-libp2p's swarm
        refuses to redial a peer for 60 s after all its addresses failed: the `negative cache`)."""
        first = self.validators[0]
        self.start_node(first)
        wait_ready(first)
        for node in self.validators[1:]:
            node.bootstrap = (first.multiaddr,)
            self.start_node(node)
        for node in self.validators[1:]:
            wait_ready(node)

    def start_node(self, node: HostNode, extra_args: list[str] | None = None) -> None:
        checkpointing = (["--checkpoint-manager", self.deployment["CheckpointManager"], "--l1-chain-id", str(L1_CHAIN_ID)]
                         if self.deployment else [])
        node.process = self.lab.popen(node.host, sidechain_command() + [
            "run", "--data-dir", str(node.data_dir), "--password-file", str(self.password_file),
            "--rpc-host", node.ip, "--rpc-port", str(node.rpc_port), "--p2p-host", node.ip, "--p2p-port", str(node.p2p_port),
            *(["--bootstrap", ",".join(node.bootstrap)] if node.bootstrap else []), *checkpointing, *(extra_args or [])],
            node.log_path, cwd=REPO)
        node.pid = node.process.pid

    def start_relayers(self) -> None:
        for i, node in enumerate(self.validators):
            others = [n.rpc_url for n in self.validators if n is not node]
            self.relayers.append(self.lab.popen(node.host, [
                *python(), "-m", "bridge.cli", "relayer", "--sidechain-rpc", ",".join([node.rpc_url, *others]),
                "--l1-rpc", self.l1_url, "--checkpoint-manager", self.deployment["CheckpointManager"],
                "--root-bridge", self.deployment["RootBridge"], "--from-block", str(self.deployment["deployBlock"]),
                "--keystore", str(node.data_dir / "keystore.json"), "--password-file", str(self.password_file),
                "--state", str(node.data_dir / "relayer.json"), "--index", str(i)], self.root / f"relayer-{i}.log", cwd=REPO))

    def prepare_follower(self, host: str, bootstrap: HostNode) -> HostNode:
        """`sidechain init` of a non-validating node on spare host `host` that will know one peer's address."""
        data_dir = self.root / host
        subprocess.run(sidechain_command() + [
            "init", "--data-dir", str(data_dir), "--genesis", str(self.genesis_path), "--dev-key", str(FOLLOWER_DEV_KEY),
            "--password-file", str(self.password_file), "--scrypt-n", str(DEV_SCRYPT_N)],
            check=True, capture_output=True, text=True, timeout=60, cwd=REPO)
        peer_id = peer_id_of(load_or_create_identity(data_dir / "p2p" / "identity.key")).to_base58()
        return HostNode(host, data_dir, RPC_PORT, "", self.root / f"{host}.log", p2p_port=P2P_PORT, peer_id=peer_id,
                        bootstrap=(bootstrap.multiaddr,), host=host, ip=self.lab.hosts[host].ip)

    def start_follower(self, node: HostNode) -> None:
        if node not in self.followers:
            self.followers.append(node)
        self.start_node(node, ["--no-validator"])

    def stop_node(self, node: HostNode) -> None:
        """SIGTERM and wait (a clean shutdown)."""
        if node.process is not None and node.process.poll() is None:
            os.killpg(node.pid, signal.SIGTERM)
            try:
                node.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.lab.kill(node.process)

    def stop_nodes(self) -> None:
        """SIGTERM every node and wait (clean shutdown: the stores can be read), then the relayers."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                os.killpg(node.pid, signal.SIGTERM)
        for node in self.nodes:
            self.stop_node(node)
        for relayer in self.relayers:
            self.lab.kill(relayer)

    # -- views --------------------------------------------------------------------------------------

    def height(self, node: HostNode, timeout: float = 2.0) -> int:
        return int(rpc_call(node.rpc_url, "eth_blockNumber", timeout=timeout), 16)

    def heights(self, nodes: list[HostNode] | None = None) -> dict[str, int | None]:
        """Each node's height, None where it does not answer within 1 s."""
        result: dict[str, int | None] = {}
        for node in nodes or self.nodes:
            try:
                result[node.name] = self.height(node, timeout=1.0)
            except Exception:
                result[node.name] = None
        return result

    def wait_for_height(self, height: int, nodes: list[HostNode], timeout: float) -> float:
        """Seconds until every node in `nodes` is at `height` or above."""
        start = time.monotonic()
        try:
            wait_until(lambda: all(self.height(n) >= height for n in nodes), timeout,
                       f"{[n.name for n in nodes]} at height {height}", interval=0.1)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; heights now {self.heights()}") from None
        return time.monotonic() - start

    def block_hashes(self, node: HostNode, upto: int) -> list[str]:
        """Hashes of blocks 0..upto on `node`, in batches."""
        hashes: list[str] = []
        for start in range(0, upto + 1, 200):
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in range(start, min(upto, start + 199) + 1)]
            for reply in rpc_batch(node.rpc_url, calls, timeout=20):
                assert "result" in reply and reply["result"], f"{node.name}: {reply}"
                hashes.append(reply["result"]["hash"])
        return hashes

    def assert_same_chain(self, nodes: list[HostNode], upto: int) -> None:
        """The same block hash at every height 0..upto on every node in `nodes`."""
        reference = self.block_hashes(nodes[0], upto)
        for node in nodes[1:]:
            theirs = self.block_hashes(node, upto)
            for number, (a, b) in enumerate(zip(reference, theirs)):
                assert a == b, f"FORK at height {number}: {nodes[0].name} has {a}, {node.name} has {b}"

    def log_tail(self, node: HostNode, lines: int = 30) -> str:
        try:
            return "\n".join(node.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def python() -> list[str]:
    return sidechain_command()[:1]


class TransferLoad:
    """Value transfers at `rate` per second, sender k (anvil's account #1+k) always to node k, so a
    node that cannot be reached holds up no other sender's nonces. Each is stamped when submitted and
    when the observer sees it in a block; `phase` labels what the network was going through."""

    def __init__(self, net: MultihostNetwork, observer: HostNode, chain_id: int, *, phase: str, targets: list[int],
                 rate: float = 4.0) -> None:
        self.net, self.observer, self.chain_id, self.rate = net, observer, chain_id, rate
        self.senders = [Account.from_key(anvil_private_key(1 + k)) for k in range(len(net.validators))]
        self.nonces = [int(rpc_call(net.validators[0].rpc_url, "eth_getTransactionCount", [a.address, "pending"]), 16)
                       for a in self.senders]
        self.targets = targets
        """Indexes of the validators transactions go to now (the test narrows it while a node is cut)."""
        self.phase = phase
        self.submitted: dict[str, tuple[float, str]] = {}
        self.final: dict[str, float] = {}
        self.errors: list[str] = []
        self.sent_to: dict[str, tuple[int, int]] = {}
        """Each transaction's sender (= node) index and nonce."""
        self.seen: int | None = None
        """The last block the observer read."""
        self.observer_errors: list[str] = []
        self._stop = threading.Event()
        self._stop_submitting = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._submit, daemon=True), threading.Thread(target=self._observe, daemon=True)]

    def __enter__(self) -> "TransferLoad":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop_submitting.set()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _submit(self) -> None:
        k = 0
        next_at = time.monotonic()
        while not self._stop_submitting.is_set():
            targets = list(self.targets)
            if targets:
                index = targets[k % len(targets)]
                k += 1
                sender = self.senders[index]
                tx = {"to": self.senders[(index + 1) % len(self.senders)].address, "value": 1, "gas": 21_000,
                      "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "nonce": self.nonces[index],
                      "chainId": self.chain_id, "type": 2}
                signed = sender.sign_transaction(tx)
                raw = "0x" + signed.raw_transaction.hex().removeprefix("0x")
                tx_hash = "0x" + signed.hash.hex().removeprefix("0x")
                stamp = time.monotonic()
                try:
                    rpc_call(self.net.validators[index].rpc_url, "eth_sendRawTransaction", [raw], timeout=2.0)
                    accepted = True
                except Exception as exc:  # a node cut just now: the same transaction is sent again next time
                    accepted = "already known" in str(exc)  # the timed-out attempt did arrive
                    self.errors.append(f"{self.net.validators[index].name}: {exc}")
                if accepted:
                    self.nonces[index] += 1
                    with self._lock:
                        self.submitted[tx_hash] = (stamp, self.phase)
                        self.sent_to[tx_hash] = (index, self.nonces[index] - 1)
            next_at += 1.0 / self.rate
            self._stop_submitting.wait(max(0.0, next_at - time.monotonic()))

    def _observe(self) -> None:
        while not self._stop.is_set():
            try:
                head = self.net.height(self.observer)
                if self.seen is None:
                    self.seen = head
                for number in range(self.seen + 1, head + 1):
                    block = rpc_call(self.observer.rpc_url, "eth_getBlockByNumber", [hex(number), False])
                    now = time.monotonic()
                    with self._lock:
                        for tx_hash in block["transactions"]:
                            self.final.setdefault(tx_hash, now)
                    self.seen = number
            except Exception as exc:  # the observer is cut off for a moment: try again
                self.observer_errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(0.1)

    def latencies(self) -> dict[str, dict]:
        """Per phase: transactions submitted, final, p50 and p99 submit-to-final seconds."""
        with self._lock:
            by_phase: dict[str, list[float]] = {}
            counts: dict[str, int] = {}
            slowest: dict[str, tuple[float, str]] = {}
            for tx_hash, (stamp, phase) in self.submitted.items():
                counts[phase] = counts.get(phase, 0) + 1
                if tx_hash in self.final:
                    latency = self.final[tx_hash] - stamp
                    by_phase.setdefault(phase, []).append(latency)
                    if latency > slowest.get(phase, (0.0, ""))[0]:
                        slowest[phase] = (latency, self.net.validators[self.sent_to[tx_hash][0]].name)
        return {phase: {"submitted": counts[phase], "final": len(by_phase.get(phase, [])), **percentiles(by_phase.get(phase, [])),
                        "slowest_sent_to": slowest.get(phase, (0, None))[1]}
                for phase in counts}

    def describe_pending(self) -> str:
        """Transactions not seen final yet: where each was sent, and what every node knows of it."""
        with self._lock:
            waiting = [(h, self.submitted[h][1], *self.sent_to[h]) for h in self.submitted if h not in self.final]
        lines = []
        for tx_hash, phase, index, nonce in waiting[:5]:
            seen = {}
            for node in self.net.nodes:
                try:
                    tx = rpc_call(node.rpc_url, "eth_getTransactionByHash", [tx_hash], timeout=1.0)
                    seen[node.name] = None if tx is None else (tx.get("blockNumber") or "pool")
                    if tx is not None and tx.get("blockNumber"):
                        block = rpc_call(node.rpc_url, "eth_getBlockByNumber", [tx["blockNumber"], False], timeout=1.0)
                        seen[node.name] += (f" {block['hash'][:10]} holds it: {tx_hash in block['transactions']}"
                                            f" (tx says {tx['blockHash'][:10]})")
                except Exception as exc:
                    seen[node.name] = type(exc).__name__
            lines.append(f"{tx_hash} ({phase}, to {self.net.validators[index].name}, nonce {nonce}): {seen}")
        return (f"{len(waiting)} pending; " + "; ".join(lines) + f"; submit errors: {self.errors[-5:]}; observer at {self.seen}"
                f" ({len(self.observer_errors)} errors, last {self.observer_errors[-3:]}); heights {self.net.heights()}")

    def wait_all_final(self, timeout: float) -> None:
        """Stop submitting; wait until every transaction submitted is final."""
        self._stop_submitting.set()
        self._threads[0].join(timeout=10)
        try:
            wait_until(lambda: self.pending() == 0, timeout, "every transaction final")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}: {self.describe_pending()}") from None

    def wait_final_before(self, moment: float, timeout: float) -> None:
        """Wait until every transaction submitted before `moment` (time.monotonic()) is final, so the
        next phase's fault does not count against this one's."""
        def settled() -> bool:
            with self._lock:
                return all(h in self.final for h, (stamp, _) in self.submitted.items() if stamp < moment)
        try:
            wait_until(settled, timeout, "every transaction of the phase final")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}: {self.describe_pending()}") from None

    def final_in(self, phase: str) -> int:
        """Transactions submitted during `phase` that are final."""
        with self._lock:
            return sum(1 for h, (_, p) in self.submitted.items() if p == phase and h in self.final)

    def pending(self) -> int:
        with self._lock:
            return sum(1 for h in self.submitted if h not in self.final)


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p99": None}
    if len(values) == 1:
        return {"p50": round(values[0], 3), "p99": round(values[0], 3)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(statistics.median(values), 3), "p99": round(cuts[98], 3)}
