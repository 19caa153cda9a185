"""`scripts/devnet up | status | down`: the user's commands over the devnet library (sidechain.devtools.devnet).

State lives in .devnet/: network.json (endpoints, pids, funded dev accounts), genesis, data
directories, logs, and the L1's state file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sidechain.chain.genesis import load_genesis
from sidechain.devtools.devnet import (
    REPO, NodeProcess, init_network, rpc_call, start_node, wait_ready, write_network_file,
)
from sidechain.devtools.processes import stop_pid
from sidechain.crypto import keccak256
from sidechain.errors import ConfigError

LAST_CHECKPOINT = keccak256(b"lastCheckpoint()")[:4].hex()

DEVNET_DIR = REPO / ".devnet"


def _load_network(root: Path) -> dict | None:
    path = root / "network.json"
    return json.loads(path.read_text()) if path.exists() else None


def _running(pid: int | None, name: bytes) -> bool:
    """`pid` still runs a process whose command line names `name` (guards against a recycled pid)."""
    try:
        return bool(pid) and name in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def start_l1(root: Path, port: int, nodes: list[NodeProcess]) -> dict:
    """anvil as the devnet's L1, with CheckpointManager deployed for the devnet's validators and
    RootBridge holding the devnet genesis's allocations (locked by the deployer, anvil's account #0)."""
    from bridge.deploy import genesis_supply
    from sidechain.devtools.l1devnet import ensure_contracts, start_anvil

    from sidechain.devkeys import anvil_private_key

    genesis = load_genesis(root / "genesis.json")
    process = start_anvil(root, port)
    try:
        deployment = ensure_contracts(
            f"http://127.0.0.1:{port}", root / "l1-deployment.json", deployer_key=anvil_private_key(0),
            sidechain_chain_id=genesis.chain_id, validators=[v.address for v in genesis.validators],
            powers=[v.power for v in genesis.validators], genesis_supply=genesis_supply(genesis),
        )
    except Exception:
        stop_pid(process.pid)
        raise
    return {"rpc": f"http://127.0.0.1:{port}", "chainId": deployment["chainId"], "pid": process.pid,
            "contracts": {"CheckpointManager": deployment["CheckpointManager"], "rootBridge": deployment["RootBridge"],
                          "testToken": deployment["TestToken"]}, "deployBlock": deployment["deployBlock"],
            "genesisLocked": deployment["genesisLocked"], "log": str(root / "l1.log")}


def start_relayer(root: Path, node: NodeProcess, index: int, l1: dict, other_rpcs: list[str] | tuple[str, ...] = ()) -> int:
    """The relayer of validator `index`: checkpoints to L1 (paying L1 gas from the validator's own
    account) and L1 deposits affirmed on the sidechain. It talks to its validator's node, and to the
    nodes at `other_rpcs` in turn while that one is unreachable."""
    import subprocess

    sidechain_rpcs = ",".join(dict.fromkeys([node.rpc_url, *other_rpcs]))
    with open(root / f"relayer-{index}.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge.cli", "relayer", "--sidechain-rpc", sidechain_rpcs, "--l1-rpc", l1["rpc"],
             "--checkpoint-manager", l1["contracts"]["CheckpointManager"], "--keystore", str(node.data_dir / "keystore.json"),
             "--password-file", str(root / "password.txt"), "--state", str(node.data_dir / "relayer.json"), "--index", str(index),
             "--root-bridge", l1["contracts"]["rootBridge"], "--from-block", str(l1.get("deployBlock", 0))],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO,
        )
    return process.pid


def devnet_up(root: Path, validators: int, rpc_base_port: int, l1_port: int | None = 8545,
              block_time_ms: int | None = None) -> None:
    network = _load_network(root)
    if network and (any(_running(n["pid"], b"sidechain") for n in network["nodes"])
                    or _running((network.get("l1") or {}).get("pid"), b"anvil")):
        raise ConfigError(f"the devnet in {root} is already running (`scripts/devnet status`, `scripts/devnet down`)")
    existing = root / "genesis.json"
    if existing.exists():
        have = len(load_genesis(existing).validators)
        if have != validators:
            raise ConfigError(
                f"{root} holds a {have}-validator devnet; `scripts/devnet down --wipe` first to start one with {validators}"
            )
    nodes = init_network(root, validators, rpc_base_port=rpc_base_port, block_time_ms=block_time_ms)
    l1 = start_l1(root, l1_port, nodes) if l1_port else None
    # --l1-rpc, --l1-root-bridge and --l1-deploy-block are only shown to the explorer (sidechain_getNetworkInfo)
    checkpointing = ["--checkpoint-manager", l1["contracts"]["CheckpointManager"], "--l1-chain-id", str(l1["chainId"]),
                     "--l1-rpc", l1["rpc"], "--l1-root-bridge", l1["contracts"]["rootBridge"],
                     "--l1-deploy-block", str(l1.get("deployBlock", 0))] if l1 else []
    started: list[int] = []
    try:
        for node in nodes:
            started.append(start_node(node, root, checkpointing).pid)
        for node in nodes:
            wait_ready(node)
        if l1:
            l1["relayers"] = [start_relayer(root, node, i, l1, [n.rpc_url for n in nodes if n is not node])
                              for i, node in enumerate(nodes)]
            started += l1["relayers"]
    except Exception:
        for pid in started:
            stop_pid(pid)
        if l1:
            stop_pid(l1["pid"])
        raise
    path = write_network_file(root, nodes, l1)
    print(f"devnet up: {len(nodes)} validator(s), chain id {load_genesis(root / 'genesis.json').chain_id}")
    for node in nodes:
        print(f"  {node.name}  {node.rpc_url}  (ws {node.ws_url})  explorer {node.explorer_url}  validator {node.address}  "
              f"log {node.log_path}")
    if l1:
        from bridge.deploy import format_eth

        contracts = l1["contracts"]
        print(f"  L1 (anvil)   {l1['rpc']}  chain id {l1['chainId']}  CheckpointManager {contracts['CheckpointManager']}")
        print(f"               RootBridge {contracts['rootBridge']} (genesis allocations locked: "
              f"{format_eth(int(l1['genesisLocked']))} ETH)  test token (DEV) {contracts['testToken']}")
    print(f"endpoints and funded dev accounts: {path}")


def devnet_down(root: Path, wipe: bool) -> None:
    network = _load_network(root)
    stopped = 0
    for node in (network or {}).get("nodes", []):
        if _running(node.get("pid"), b"sidechain"):
            stop_pid(node["pid"])
            stopped += 1
    for pid in ((network or {}).get("l1") or {}).get("relayers", []):
        if _running(pid, b"bridge.cli"):
            stop_pid(pid)
            stopped += 1
    l1_pid = ((network or {}).get("l1") or {}).get("pid")
    if _running(l1_pid, b"anvil"):
        stop_pid(l1_pid)  # SIGTERM: anvil writes its state file for the next `up`
        stopped += 1
    print(f"devnet down: stopped {stopped} process(es)")
    if wipe and root.exists():
        import shutil

        shutil.rmtree(root)
        print(f"removed {root}")


def devnet_status(root: Path) -> int:
    network = _load_network(root)
    if network is None:
        print("no devnet here: `scripts/devnet up` starts one")
        return 1
    print(f"chain id {network['chainId']}")
    if network.get("l1"):
        l1 = network["l1"]
        try:
            last = rpc_call(l1["rpc"], "eth_call", [{"to": l1["contracts"]["CheckpointManager"], "data": "0x" + LAST_CHECKPOINT}, "latest"])
            print(f"L1 {l1['rpc']} chain id {l1['chainId']}: block {int(rpc_call(l1['rpc'], 'eth_blockNumber'), 16)}, "
                  f"CheckpointManager {l1['contracts']['CheckpointManager']}: last checkpoint {int(last[2:66], 16)} "
                  f"(to block {int(last[66:130], 16)})")
        except Exception as exc:
            print(f"L1 {l1['rpc']}: not answering ({type(exc).__name__})")
    print(f"{'node':<13} {'state':<8} {'height':>7} {'round':>5} {'peers':>5}  finalized block")
    for node in network["nodes"]:
        running = _running(node["pid"], b"sidechain")
        try:
            height = int(rpc_call(node["rpc"], "eth_blockNumber"), 16)
            peers = int(rpc_call(node["rpc"], "net_peerCount"), 16)
            consensus = rpc_call(node["rpc"], "sidechain_consensusStatus")
            final = rpc_call(node["rpc"], "eth_getBlockByNumber", ["finalized", False])
            print(f"{node['name']:<13} {'up':<8} {height:>7} {consensus['round']:>5} {peers:>5}  #{int(final['number'], 16)} {final['hash']}")
        except Exception as exc:
            print(f"{node['name']:<13} {'up' if running else 'down':<8} {'-':>7} {'-':>5} {'-':>5}  ({type(exc).__name__}: not answering)")
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="scripts/devnet", description="Run a local sidechain network on this machine.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="start the network (resumes from existing data)")
    up.add_argument("--validators", type=int, default=4, help="number of validator processes (default 4)")
    up.add_argument("--rpc-base-port", type=int, default=9545, help="JSON-RPC port of validator-0; validator-i gets base+i")
    up.add_argument("--l1-port", type=int, default=8545, help="port of the L1 (anvil); 0 runs without an L1")
    up.add_argument("--block-time-ms", type=int, help="override the genesis block time of a new devnet")
    down = sub.add_parser("down", help="stop every process the devnet started")
    down.add_argument("--wipe", action="store_true", help="also delete .devnet/ (chain data, keys, logs)")
    sub.add_parser("status", help="height, round, peers and last finalized block of each node")
    parser.add_argument("--dir", default=str(DEVNET_DIR), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = Path(args.dir)
    try:
        if args.command == "up":
            devnet_up(root, args.validators, args.rpc_base_port, args.l1_port, args.block_time_ms)
        elif args.command == "down":
            devnet_down(root, args.wipe)
        else:
            return devnet_status(root)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
