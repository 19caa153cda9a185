"""The user commands on a one-validator devnet as `scripts/devnet up` runs it (anvil with 1 s blocks,
the node signing checkpoints, its relayer affirming deposits and submitting checkpoints): ETH and
the test token go to the sidechain and back through withdraw, checkpoint and exit, and the user's
L1 balances end exactly where they started, less the L1 gas of the user's own transactions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from bridge.deploy import send_transaction
from bridge.root_bridge import l1_erc20
from bridge.user import BridgeUser, BridgeUserError, Network, Waiting, round_step, to_units
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import free_port_base

REPO = Path(__file__).resolve().parents[2]
USER_KEY = anvil_private_key(1)
"""Funded on both chains; neither the deployer nor a validator, so only this test moves its funds."""


def devnet(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sidechain.devtools.devnet_cli", "--dir", str(root), *args],
                          capture_output=True, text=True, timeout=180, cwd=REPO)


def bridge_cli(network: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bridge.cli", *args, "--network", str(network), "--timeout", "60"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)


@pytest.fixture
def network_file(tmp_path):
    """A one-validator devnet with 250 ms sidechain blocks on free ports; always taken down."""
    root = tmp_path / "devnet"
    base = free_port_base([0, 199])
    try:
        up = devnet(root, "up", "--validators", "1", "--rpc-base-port", str(base), "--l1-port", str(base + 199),
                    "--block-time-ms", "250")
        assert up.returncode == 0, up.stderr + up.stdout
        yield root / "network.json"
        supply = subprocess.run([sys.executable, "-m", "bridge.cli", "supply", "--network", str(root / "network.json")],
                                capture_output=True, text=True, timeout=60, cwd=REPO)  # the invariant, after every test
        assert supply.returncode == 0, supply.stdout + supply.stderr
    finally:
        devnet(root, "down")


def l1_gas(receipts) -> int:
    return sum(r["gasUsed"] * r["effectiveGasPrice"] for r in receipts)


def test_eth_and_a_token_go_to_the_sidechain_and_back_and_l1_balances_are_restored(network_file):
    network = Network.from_file(network_file)
    stages = []
    user = BridgeUser(network, USER_KEY, report=stages.append, timeout=120)
    token = network.test_token
    send_transaction(user.l1, l1_erc20(user.l1, token).functions.mint(user.address, 500 * 10**18), USER_KEY)
    eth_before, token_before = user.l1_balance(None), user.l1_balance(token)
    side_eth_before = user.sidechain_balance(None)
    receipts = []

    eth = user.deposit(to_units("2.501", 18), None)
    assert [s.stage for s in stages if s.done] == ["l1-mined", "confirmations", "affirmations", "minted"]
    assert eth.sidechain_balance == side_eth_before + 2501 * 10**15
    dev = user.deposit(to_units("100", 18), token)
    assert [s.stage for s in stages if s.done][-5:] == ["approved", "l1-mined", "confirmations", "affirmations", "minted"]
    assert dev.deposit_id == eth.deposit_id + 1 and dev.sidechain_balance == 100 * 10**18
    receipts += eth.l1_receipts + dev.l1_receipts

    stages.clear()
    out_eth = user.withdraw(25 * 10**17, "ETH")
    assert [s.stage for s in stages if s.done] == ["burned", "checkpoint-final", "checkpoint-l1"]
    side_gas = out_eth.sidechain_receipt["gasUsed"] * out_eth.sidechain_receipt["effectiveGasPrice"]
    assert user.sidechain_balance(None) == side_eth_before + 10**15 - side_gas
    out_dev = user.withdraw(100 * 10**18, token)
    assert user.sidechain_balance(token) == 0

    for withdrawal in (out_eth, out_dev):
        paid = user.exit(withdrawal.withdrawal_id)
        receipts.append(paid.l1_receipt)
    assert user.l1_balance(token) == token_before
    assert user.l1_balance(None) == eth_before - l1_gas(receipts) - 10**15  # 0.001 ETH is still on the sidechain

    with pytest.raises(BridgeUserError, match="already been exited"):
        user.exit(out_eth.withdrawal_id)
    with pytest.raises(BridgeUserError, match="no withdrawal 99"):
        user.exit(99)
    with pytest.raises(BridgeUserError, match="not enough DEV on the sidechain"):
        user.withdraw(1, token)
    # More than the 0.001 ETH still bridged in: genesis ETH is locked on L1 too, so it may leave as well.
    early = user.withdraw(2 * 10**15, None, wait=False)
    with pytest.raises(BridgeUserError, match="not in a final checkpoint yet|not on L1 yet"):
        user.exit(early.withdrawal_id)


def test_the_commands_show_each_stage_and_say_why_they_cannot_proceed(network_file, tmp_path):
    deposit = bridge_cli(network_file, "deposit", "--amount", "0.25")
    assert deposit.returncode == 0, deposit.stderr
    for stage in ("mined in block", "L1 confirmations 2/2", "affirmations: power 1 of 1", "minted in sidechain block"):
        assert stage in deposit.stdout
    status = bridge_cli(network_file, "status", "deposit", "1")
    assert status.returncode == 0 and "sidechain: minted" in status.stdout

    withdraw = bridge_cli(network_file, "withdraw", "--amount", "0.1", "--no-wait")
    assert withdraw.returncode == 0 and "withdrawal 1 to" in withdraw.stdout
    assert "checkpoint" not in withdraw.stdout  # --no-wait: returned after the burn

    refused = bridge_cli(network_file, "exit", "--withdrawal", "7")
    assert refused.returncode == 1 and "no withdrawal 7" in refused.stderr
    broke = bridge_cli(network_file, "deposit", "--amount", "1", "--token", Account.create().address)
    assert broke.returncode == 1 and "is not a token contract on L1" in broke.stderr
    first_down = json.loads(network_file.read_text())
    first_down["rpc"] = "http://127.0.0.1:1"  # the node listed after it still answers: the command goes on
    (tmp_path / "first-down.json").write_text(json.dumps(first_down))
    fails_over = bridge_cli(tmp_path / "first-down.json", "status", "withdrawal", "1")
    assert fails_over.returncode == 0 and "withdrawal 1:" in fails_over.stdout, fails_over.stderr
    assert "sidechain node http://127.0.0.1:1 unreachable for eth_chainId (connection refused); trying the next one" \
        in fails_over.stderr
    unreachable = dict(first_down, nodes=[dict(node, rpc="http://127.0.0.1:1") for node in first_down["nodes"]])
    (tmp_path / "down.json").write_text(json.dumps(unreachable))
    down = bridge_cli(tmp_path / "down.json", "status", "withdrawal", "1")
    assert down.returncode == 1
    assert "error: cannot reach the sidechain node at http://127.0.0.1:1 (connection refused)" in down.stderr


def test_waiting_progress_is_reported_when_a_milestone_changes_or_every_few_seconds():
    now = [0.0]
    lines = []
    waiting = Waiting(lines.append, "checkpoint-final", every=5.0, clock=lambda: now[0])
    for height in range(100, 160):  # 60 blocks of 250 ms, same milestone: one line per 5 s
        waiting(f"sidechain at block {height}", None)
        now[0] += 0.25
    assert [p.message for p in lines] == ["sidechain at block 100", "sidechain at block 120", "sidechain at block 140"]
    assert all(p.stage == "checkpoint-final" and not p.done for p in lines)

    lines.clear()
    waiting("sidechain at block 140", "closed")  # a new milestone goes out at once, even with the same text
    waiting("sidechain at block 141", "closed")
    assert [p.message for p in lines] == ["sidechain at block 140"]
    assert [round_step(n) for n in (1, 2, 10, 11, 64, 100, 101, 1000)] == [1, 1, 1, 10, 10, 10, 100, 100]
