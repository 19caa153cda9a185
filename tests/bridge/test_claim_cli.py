"""Exits whose recipient cannot be paid, through the user commands on a one-validator devnet (anvil,
the node signing checkpoints, its relayer): ETH withdrawn to a contract without `receive`, a token
withdrawn to an address the token blacklisted on L1. `bridge exit` spends each withdrawal and says the
amount was credited; `bridge supply` holds with it owed; the contract's owner and the blacklisted
address (`bridge claim`) have it paid elsewhere; nothing exits or claims twice, and the supply
invariant holds at the end (checked by the fixture)."""

from __future__ import annotations

import subprocess
import sys

from eth_account import Account

from bridge.deploy import deploy_contract, send_transaction
from bridge.user import BridgeUser, Network, to_units
from sidechain.devkeys import anvil_private_key
from sidechain.keystore import encrypt_key, save_keystore

from test_bridge_cli import REPO, USER_KEY, bridge_cli, network_file  # noqa: F401  (network_file: the devnet fixture)

OWNER = anvil_private_key(3)
OWNER_WALLET = Account.from_key(anvil_private_key(4)).address
BLOCKED = anvil_private_key(5)


def supply(network) -> str:
    out = subprocess.run([sys.executable, "-m", "bridge.cli", "supply", "--network", str(network)],
                         capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_exits_to_recipients_that_refuse_are_credited_and_claimed_elsewhere(network_file, tmp_path):
    network = Network.from_file(network_file)
    user = BridgeUser(network, USER_KEY, timeout=120)
    l1 = user.l1
    refusing, _ = deploy_contract(l1, "RefusingRecipient", [], OWNER)
    token, _ = deploy_contract(l1, "BlacklistToken", [user.address, 10**9], OWNER)
    blocked = Account.from_key(BLOCKED).address

    user.deposit(to_units("1", 18), None)
    user.deposit(300, token.address)
    to_contract = user.withdraw(to_units("0.4", 18), None, refusing.address)
    to_blocked = user.withdraw(300, token.address, blocked)
    send_transaction(l1, token.functions.setBlacklisted(blocked, True), OWNER)

    for withdrawal in (to_contract, to_blocked):
        exited = bridge_cli(network_file, "exit", "--withdrawal", str(withdrawal.withdrawal_id))
        assert exited.returncode == 0, exited.stdout + exited.stderr
        assert "refused the payment" in exited.stdout and "bridge claim --token" in exited.stdout
        again = bridge_cli(network_file, "exit", "--withdrawal", str(withdrawal.withdrawal_id))
        assert again.returncode == 1 and "already been exited" in again.stderr
        status = bridge_cli(network_file, "status", "withdrawal", str(withdrawal.withdrawal_id))
        assert status.returncode == 0 and "exited: credited to " in status.stdout and "bridge claim" in status.stdout
    books = supply(network_file)  # credited: exited, owed, still held
    assert f"owed {4 * 10**17} to claim (credited {4 * 10**17}, claimed 0)" in books
    assert "owed 300 to claim (credited 300, claimed 0)" in books
    assert user.root_bridge.functions.claimable(refusing.address, "0x" + "00" * 20).call() == 4 * 10**17

    before = l1.eth.get_balance(OWNER_WALLET)
    send_transaction(l1, refusing.functions.claimFrom(user.root_bridge.address, "0x" + "00" * 20, OWNER_WALLET), OWNER)
    assert l1.eth.get_balance(OWNER_WALLET) == before + 4 * 10**17

    keystore, password = tmp_path / "blocked.json", tmp_path / "pw.txt"
    save_keystore(keystore, encrypt_key(BLOCKED, "pw", scrypt_n=2**14))
    password.write_text("pw")
    elsewhere = Account.create().address
    claim = ["claim", "--token", token.address, "--to", elsewhere, "--keystore", str(keystore),
             "--password-file", str(password)]
    claimed = bridge_cli(network_file, *claim)
    assert claimed.returncode == 0, claimed.stdout + claimed.stderr
    assert f"claimed 0.0000000000000003 BLT, paid to {elsewhere}" in claimed.stdout
    assert token.functions.balanceOf(elsewhere).call() == 300
    nothing = bridge_cli(network_file, *claim)
    assert nothing.returncode == 1 and "nothing to claim" in nothing.stderr
    books = supply(network_file)
    assert f"owed 0 to claim (credited {4 * 10**17}, claimed {4 * 10**17})" in books
