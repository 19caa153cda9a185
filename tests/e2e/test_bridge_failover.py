"""Clients fail over: on the devnet as `scripts/devnet up` runs it (4 validators, anvil, a relayer per
validator), one validator is killed (validator-0, the node network.json names first, or the last one);
the other three go on finalizing, and every `bridge` command a user runs (deposit, status, withdraw,
exit, claim, supply) succeeds through them, from the network file alone or with `--sidechain-rpc
URL,URL`. The dead validator's relayer, its own node gone, affirms through another node (another
relayer is killed too, so the deposit cannot mint without it).
`scripts/devnet status` shows the dead node as down and the others up."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from eth_utils import to_checksum_address
from web3 import Web3

from bridge.sidechain_contracts import bridge_contract
from sidechain.devtools.devnet import rpc_call, wait_until

from e2e_support import REPO, devnet, devnet_up


def bridge_cli(network_file, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bridge.cli", *args, "--network", str(network_file)],
                          capture_output=True, text=True, timeout=400, cwd=REPO)


def succeeded(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 0, f"exit code {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    return run.stdout


def finalized(url: str) -> int:
    return int(rpc_call(url, "eth_getBlockByNumber", ["finalized", False])["number"], 16)


def unreachable(url: str) -> bool:
    try:
        rpc_call(url, "eth_chainId", timeout=1)
    except OSError:
        return True
    return False


# The first node network.json names (what clients try first) and the last (whose relayer fails
# over to a node before it); validators 1 and 2 take the same paths as 3 (~50 s of CI each).
@pytest.mark.parametrize("killed", [0, 3])
def test_every_bridge_command_succeeds_with_one_validator_killed(tmp_path, killed):
    root = tmp_path / "devnet"
    with devnet_up(root) as (_, network):
        network_file = root / "network.json"
        dead = network["nodes"][killed]
        live = [n for n in network["nodes"] if n is not dead]
        assert network["rpc"] == network["nodes"][0]["rpc"], "the network file names validator-0 first"
        os.killpg(dead["pid"], signal.SIGKILL)
        wait_until(lambda: unreachable(dead["rpc"]), 10, f"validator-{killed} to stop answering")
        # One live validator's relayer goes too: the three relayers left, the dead validator's among
        # them, are just enough to mint, so a deposit minted proves that relayer affirms elsewhere.
        other = (killed + 1) % 4
        os.kill(network["l1"]["relayers"][other], signal.SIGKILL)
        start = finalized(live[0]["rpc"])
        wait_until(lambda: all(finalized(n["rpc"]) >= start + 3 for n in live), 60,
                   "the other three validators to finalize 3 more blocks")

        deposited = succeeded(bridge_cli(network_file, "deposit", "--amount", "1.25", "--timeout", "120"))
        assert "✓ minted in sidechain block" in deposited
        deposit_id = int(re.search(r"deposit (\d+), 1.25 ETH", deposited).group(1))

        status = succeeded(bridge_cli(network_file, "status", "deposit", str(deposit_id)))
        assert f"deposit {deposit_id}: 1.25 ETH" in status and "sidechain: minted" in status

        # Minted with the dead validator's affirmation, sent by its relayer through another node.
        side = bridge_contract(Web3(Web3.HTTPProvider(live[0]["rpc"])))
        assert side.functions.hasAffirmed(deposit_id, to_checksum_address(dead["validator"])).call()
        assert not side.functions.hasAffirmed(deposit_id, to_checksum_address(network["nodes"][other]["validator"])).call()
        assert "sidechain JSON-RPC now through" in (root / f"relayer-{killed}.log").read_text()

        withdrawn = succeeded(bridge_cli(network_file, "withdraw", "--amount", "0.5", "--timeout", "240"))
        assert "exit possible" in withdrawn
        withdrawal_id = int(re.search(r"withdrawal (\d+) to ", withdrawn).group(1))

        status = succeeded(bridge_cli(network_file, "status", "withdrawal", str(withdrawal_id)))
        assert f"not exited yet: bridge exit --withdrawal {withdrawal_id}" in status

        exited = succeeded(bridge_cli(network_file, "exit", "--withdrawal", str(withdrawal_id)))
        assert "✓ paid 0.5 ETH" in exited

        # claim reaches the nodes and answers: nothing was credited, so there is nothing to claim.
        claim = bridge_cli(network_file, "claim")
        assert claim.returncode == 1 and "error: nothing to claim" in claim.stderr, claim.stderr

        supply = bridge_cli(network_file, "supply")
        assert succeeded(supply).startswith("ETH: held ") and ": ok" in supply.stdout
        if killed == 0:  # the first node tried is the dead one: the command says so, then goes on
            assert f"sidechain node {dead['rpc']} unreachable" in supply.stderr and "trying the next one" in supply.stderr

        # --sidechain-rpc takes a list, dead node first; a list of dead nodes only names each one.
        explicit = bridge_cli(network_file, "status", "withdrawal", str(withdrawal_id),
                              "--sidechain-rpc", f"{dead['rpc']},{live[1]['rpc']}")
        assert "exited: paid on L1" in succeeded(explicit)
        nowhere = bridge_cli(network_file, "status", "deposit", str(deposit_id), "--sidechain-rpc", dead["rpc"])
        assert nowhere.returncode == 1
        assert f"error: cannot reach the sidechain node at {dead['rpc']} (connection refused)" in nowhere.stderr

        shown = devnet(root, "status")
        assert shown.returncode == 0, shown.stderr
        rows = {line.split()[0]: line.split()[1] for line in shown.stdout.splitlines() if line.startswith("validator-")}
        assert rows == {f"validator-{i}": "down" if i == killed else "up" for i in range(4)}, shown.stdout
