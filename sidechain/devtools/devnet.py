"""A local network on one machine: data directories, node processes, `.devnet/network.json`.

Used by `scripts/devnet` and by the end-to-end tests, so both start nodes the same way a user does:
`sidechain init` then `sidechain run` as separate OS processes. Validator keys are anvil's public
dev keys (accounts #6.. of genesis/devnet.json), written into encrypted keystores.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils import to_checksum_address

from sidechain.chain.genesis import genesis_to_json, load_genesis
from sidechain.crypto import private_key_to_address
from sidechain.errors import ConfigError
from sidechain.rpc.client import rpc_call

REPO = Path(__file__).resolve().parents[2]
DEVNET_GENESIS = REPO / "genesis" / "devnet.json"
DEV_PASSWORD = "devnet"
"""Password of devnet keystores: they hold public dev keys, so it protects nothing but exercises the path."""
DEV_SCRYPT_N = 2**14
FUNDED_DEV_ACCOUNTS = range(0, 6)
"""Anvil accounts #0-#5 are the users' accounts; #6-#9 are validators."""
FIRST_VALIDATOR_ACCOUNT = 6


@dataclass
class NodeProcess:
    name: str
    data_dir: Path
    rpc_port: int
    address: str
    log_path: Path
    p2p_port: int | None = None
    peer_id: str | None = None
    bootstrap: tuple[str, ...] = ()
    """The other validators' multiaddrs, dialled at start."""
    process: subprocess.Popen | None = field(default=None, repr=False)
    pid: int | None = None

    @property
    def multiaddr(self) -> str | None:
        return f"/ip4/127.0.0.1/tcp/{self.p2p_port}/p2p/{self.peer_id}" if self.p2p_port else None

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.rpc_port}"

    @property
    def explorer_url(self) -> str:
        """The block explorer this node serves on its RPC port."""
        return f"http://127.0.0.1:{self.rpc_port}/explorer/"


def free_port_base(offsets) -> int:
    """A base port with base + offset free on 127.0.0.1 for every offset, below the kernel's
    ephemeral range (32768+) so no outgoing connection takes one meanwhile."""
    import random
    import socket

    offsets = list(offsets)
    for _ in range(200):
        base = random.randrange(10_000, 32_000 - max(offsets), 200)
        try:
            for offset in offsets:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no free ports at offsets {offsets}")


def sidechain_command() -> list[str]:
    return [sys.executable, "-m", "sidechain.cli"]


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """Poll `condition` until it returns a truthy value; raise TimeoutError naming `what`.

    Errors while polling count as "not yet", except ConfigError, which means it never will be.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except ConfigError:
            raise
        except Exception as exc:  # the thing waited for may not answer yet
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


def init_network(root: Path, validators: int, *, rpc_base_port: int = 9545, genesis_path: Path = DEVNET_GENESIS,
                 block_time_ms: int | None = None, p2p_base_port: int | None = None) -> list[NodeProcess]:
    """Write root/genesis.json (the first `validators` of the devnet set) and one data dir per validator.

    With `p2p_base_port` (the default when there is more than one validator: rpc_base_port + 100),
    validator-i listens for peers on p2p_base_port + i and dials all the others.
    """
    if p2p_base_port is None and validators > 1:
        p2p_base_port = rpc_base_port + 100
    from sidechain.devkeys import anvil_private_key

    base = genesis_to_json(load_genesis(genesis_path))
    if validators < 1:
        raise ConfigError(f"--validators: expected at least 1, got {validators}")
    keys = [anvil_private_key(FIRST_VALIDATOR_ACCOUNT + i) for i in range(validators)]
    base["validators"] = [{"address": "0x" + private_key_to_address(k).hex(), "power": 1} for k in keys]
    if block_time_ms is not None:
        base["blockTimeMs"] = block_time_ms
    root.mkdir(parents=True, exist_ok=True)
    genesis_file = root / "genesis.json"
    genesis_file.write_text(json.dumps(base, indent=2) + "\n")
    password_file = root / "password.txt"
    password_file.write_text(DEV_PASSWORD + "\n")
    nodes = []
    for i, key in enumerate(keys):
        node = NodeProcess(
            f"validator-{i}", root / f"validator-{i}", rpc_base_port + i, "0x" + private_key_to_address(key).hex(),
            root / f"validator-{i}.log",
        )
        if not (node.data_dir / "keystore.json").exists():
            key_file = root / f".key-{i}"
            key_file.write_text(key.hex())
            try:
                subprocess.run(
                    sidechain_command() + ["init", "--data-dir", str(node.data_dir), "--genesis", str(genesis_file),
                                           "--private-key-file", str(key_file), "--password-file", str(password_file),
                                           "--scrypt-n", str(DEV_SCRYPT_N)],
                    check=True, capture_output=True, text=True,
                )
            finally:
                key_file.unlink()
        if p2p_base_port is not None:
            from sidechain.p2p.identity import load_or_create_identity, peer_id_of

            node.p2p_port = p2p_base_port + i
            node.peer_id = peer_id_of(load_or_create_identity(node.data_dir / "p2p" / "identity.key")).to_base58()
        nodes.append(node)
    for node in nodes:
        node.bootstrap = tuple(other.multiaddr for other in nodes if other is not node and other.multiaddr)
    return nodes


def start_node(node: NodeProcess, root: Path, extra_args: list[str] | None = None) -> NodeProcess:
    log = open(node.log_path, "ab")
    node.process = subprocess.Popen(
        sidechain_command() + ["run", "--data-dir", str(node.data_dir), "--password-file", str(root / "password.txt"),
                               "--rpc-port", str(node.rpc_port)]
        + (["--p2p-port", str(node.p2p_port), "--bootstrap", ",".join(node.bootstrap)] if node.p2p_port else [])
        + (extra_args or []),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO,
    )
    log.close()
    node.pid = node.process.pid
    return node


def wait_ready(node: NodeProcess, timeout: float = 30.0) -> None:
    def ready():
        if node.process is not None and node.process.poll() is not None:
            raise ConfigError(f"{node.name} exited with code {node.process.returncode}; see {node.log_path}")
        return rpc_call(node.rpc_url, "eth_chainId") is not None

    try:
        wait_until(ready, timeout, f"{node.name} JSON-RPC at {node.rpc_url}")
    except ConfigError:
        raise
    except TimeoutError as exc:
        raise ConfigError(f"{exc}; see {node.log_path}") from None


def write_network_file(root: Path, nodes: list[NodeProcess], l1: dict | None = None) -> Path:
    from sidechain.devkeys import anvil_private_key

    genesis = load_genesis(root / "genesis.json")
    balances = dict(genesis.alloc)
    accounts = []
    for i in FUNDED_DEV_ACCOUNTS:
        key = anvil_private_key(i)
        address = private_key_to_address(key)
        accounts.append({"address": to_checksum_address(address), "privateKey": "0x" + key.hex(),
                         "balance": str(balances.get(address, 0))})
    network = {
        "chainId": genesis.chain_id,
        "genesis": str(root / "genesis.json"),
        "rpc": nodes[0].rpc_url,
        "ws": nodes[0].ws_url,
        "explorer": nodes[0].explorer_url,
        "nodes": [
            {"name": n.name, "validator": to_checksum_address(n.address), "rpc": n.rpc_url, "ws": n.ws_url,
             "explorer": n.explorer_url, "p2p": n.multiaddr,
             "pid": n.pid, "dataDir": str(n.data_dir), "log": str(n.log_path)}
            for n in nodes
        ],
        "l1": l1,
        "accounts": accounts,
        "note": "accounts are anvil's public dev keys: devnet only, never real funds",
    }
    path = root / "network.json"
    path.write_text(json.dumps(network, indent=2) + "\n")
    return path
