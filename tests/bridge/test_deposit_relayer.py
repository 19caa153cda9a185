"""The deposit relayer against a real anvil (blocks mined by the test) and a real one-validator
sidechain node: deposits are affirmed only once they have N confirmations, a reorg before then
replaces a deposit without the removed one ever being affirmed, a reorg below the relayer's cursor
is noticed and rescanned, and a relayer process killed and restarted (even without its state file)
neither loses nor double-affirms a deposit. Tokens whose name is not UTF-8 or far too long for a
sidechain transaction are minted under a sanitised name, and the deposits after them are minted
too. The checkpoint relayer, too, counts a submission as done only after N confirmations, and
submits again when a reorg removes it."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from bridge.supply import supply_report
from sidechain.devtools.anvil import run_anvil
from bridge.deploy import deploy_contract
from bridge.deposits import DepositRelayer
from bridge.relayer import StateFile
from bridge.root_bridge import deposit_erc20
from bridge.sidechain_contracts import ledger
from sidechain.devtools.devnet import wait_until

from bridge_support import ANVIL_ARGS, USER_KEY, VALIDATOR_KEY, deploy_l1_bridge, sidechain_node

REPO = Path(__file__).resolve().parents[2]
USER = Account.from_key(USER_KEY).address
VALIDATOR = Account.from_key(VALIDATOR_KEY).address


@pytest.fixture
def chains(tmp_path):
    """A fresh anvil (automine: one block per transaction, more only when the test mines them),
    RootBridge on it holding the sidechain's genesis allocations, and a one-validator sidechain node."""
    with run_anvil(log_dir=tmp_path, extra_args=ANVIL_ARGS) as anvil, sidechain_node(tmp_path / "sidechain") as sidechain:
        l1 = deploy_l1_bridge(Web3(Web3.HTTPProvider(anvil.url)), sidechain.genesis_supply)
        yield l1, sidechain
        for token in supply_report(l1.w3, l1.bridge.address, sidechain.url, l1.deploy_block):
            assert token.holds, token.describe()  # the supply invariant holds after every test


def relayer_for(l1, sidechain, state: Path, confirmations: int) -> DepositRelayer:
    return DepositRelayer(sidechain.w3, l1.w3, l1.bridge.address, VALIDATOR_KEY, StateFile(state),
                          confirmations=confirmations, from_block=l1.deploy_block)


def deposit_eth(l1, to: str, amount: int) -> int:
    """Send a depositETH from the user; returns its L1 block."""
    tx_hash = l1.w3.eth.send_raw_transaction(l1.deposit_eth_tx(USER_KEY, to, amount))
    return l1.w3.eth.wait_for_transaction_receipt(tx_hash)["blockNumber"]


def test_a_deposit_is_affirmed_only_once_it_has_n_confirmations(chains, tmp_path):
    l1, sidechain = chains
    relayer = relayer_for(l1, sidechain, tmp_path / "relayer.json", confirmations=3)
    recipient = Account.create().address

    block = deposit_eth(l1, recipient, 10**18)  # 1 confirmation
    relayer.step()
    l1.mine()  # 2 confirmations
    relayer.step()
    assert relayer.open == {} and sidechain.deposit_status(1)["status"] == "unseen"
    assert sidechain.affirmations() == []

    l1.mine()  # 3 confirmations
    assert l1.w3.eth.block_number == block + 2
    relayer.step()
    wait_until(lambda: sidechain.deposit_status(1)["status"] == "minted", 20, "deposit 1 minted")
    assert sidechain.w3.eth.get_balance(recipient) == 10**18
    assert sidechain.affirmations() == [(1, VALIDATOR)]

    relayer.step()  # settles: the cursor moves past the deposit
    state = json.loads((tmp_path / "relayer.json").read_text())["deposits"]
    assert state["block"] == block and state["hash"] == l1.w3.eth.get_block(block)["hash"].to_0x_hex()


def test_an_erc20_deposit_carries_the_token_metadata_even_when_registered_before_the_cursor(chains, tmp_path):
    l1, sidechain = chains
    send = lambda call: l1.w3.eth.wait_for_transaction_receipt(l1.w3.eth.send_raw_transaction(  # noqa: E731
        Account.sign_transaction(call.build_transaction({"from": USER, "nonce": l1.w3.eth.get_transaction_count(USER)}),
                                 USER_KEY).raw_transaction))
    send(l1.bridge.functions.depositERC20(l1.token.address, 5_000_000, USER))  # registers the token
    l1.mine()
    first = relayer_for(l1, sidechain, tmp_path / "relayer.json", confirmations=2)
    first.step()
    wait_until(lambda: sidechain.next_deposit_id() == 2, 20, "deposit 1 minted")
    first.step()

    send(l1.bridge.functions.depositERC20(l1.token.address, 7_000_000, USER))
    l1.mine()
    later = relayer_for(l1, sidechain, tmp_path / "relayer.json", confirmations=2)  # starts past the registration
    later.step()
    wait_until(lambda: sidechain.next_deposit_id() == 3, 20, "deposit 2 minted")
    status = sidechain.deposit_status(2)
    assert status["contents"][0]["amount"] == hex(7_000_000)
    ledger = sidechain.w3.eth.contract(address=Web3.to_checksum_address(status["contents"][0]["sidechainToken"]),
                                       abi=l1.token.abi)
    assert ledger.functions.balanceOf(USER).call() == 12_000_000
    assert (ledger.functions.symbol().call(), ledger.functions.decimals().call()) == ("TT", 6)


def test_tokens_with_hostile_metadata_are_minted_under_sanitised_names_and_do_not_stall_later_deposits(
        chains, tmp_path):
    l1, sidechain = chains
    recipient = Account.create().address
    # 0xff never occurs in UTF-8; the symbol is a cut-off euro sign
    bad, _ = deploy_contract(l1.w3, "RawMetadataToken", [b"Bad \xff\xfe name", 1, b"\xe2\x82", USER, 10**6], USER_KEY)
    # a 135,000-byte name, more than a sidechain transaction may hold; byte 64 cuts a euro sign
    long, _ = deploy_contract(l1.w3, "RawMetadataToken", ["ab€".encode(), 27_000, b"LONG", USER, 10**6], USER_KEY)
    assert len(long.functions.name().call()) == 3 * 27_000
    deposit_erc20(l1.w3, l1.bridge, USER_KEY, bad.address, recipient, 100)
    deposit_erc20(l1.w3, l1.bridge, USER_KEY, long.address, recipient, 200)
    deposit_eth(l1, recipient, 10**18)
    l1.mine()

    relayer_for(l1, sidechain, tmp_path / "relayer.json", confirmations=2).step()
    wait_until(lambda: sidechain.next_deposit_id() == 4, 20, "deposits 1-3 minted")
    assert sidechain.w3.eth.get_balance(recipient) == 10**18
    bad_ledger, long_ledger = ledger(sidechain.w3, bad.address), ledger(sidechain.w3, long.address)
    assert bad_ledger.functions.name().call() == "Bad \ufffd\ufffd name"
    assert bad_ledger.functions.symbol().call() == "\ufffd"
    assert long_ledger.functions.name().call() == "ab€" * 12 + "ab\ufffd"
    assert long_ledger.functions.symbol().call() == "LONG"
    assert bad_ledger.functions.balanceOf(recipient).call() == 100
    assert long_ledger.functions.balanceOf(recipient).call() == 200

    # A relayer that starts past the registration reads it back by itself, to the same content.
    relayer_for(l1, sidechain, tmp_path / "relayer.json", confirmations=2).step()
    deposit_erc20(l1.w3, l1.bridge, USER_KEY, long.address, recipient, 300)
    l1.mine()
    relayer_for(l1, sidechain, tmp_path / "relayer.json", confirmations=2).step()
    wait_until(lambda: sidechain.next_deposit_id() == 5, 20, "deposit 4 minted")
    assert long_ledger.functions.balanceOf(recipient).call() == 500
    assert sidechain.affirmations() == [(i, VALIDATOR) for i in range(1, 5)]


def test_a_reorg_before_the_confirmations_replaces_a_deposit_and_only_the_replacement_is_minted(chains, tmp_path):
    l1, sidechain = chains
    relayer = relayer_for(l1, sidechain, tmp_path / "relayer.json", confirmations=3)
    removed_to, replacement_to = Account.create().address, Account.create().address
    nonce = l1.w3.eth.get_transaction_count(USER)

    deposit_eth(l1, removed_to, 10**18)
    l1.mine()  # 2 of 3 confirmations
    relayer.step()
    assert sidechain.deposit_status(1)["status"] == "unseen"

    # Both blocks are replaced; the new first one holds another deposit with the same nonce, so the
    # same deposit id 1 but another recipient and amount.
    replacement = l1.deposit_eth_tx(USER_KEY, replacement_to, 3 * 10**18, nonce=nonce)
    reply = l1.w3.provider.make_request("anvil_reorg", [2, [["0x" + bytes(replacement).hex(), 0]]])
    assert "error" not in reply, reply
    relayer.step()  # the replacement has 2 confirmations: still nothing
    assert sidechain.deposit_status(1)["status"] == "unseen"

    l1.mine()
    relayer.step()
    wait_until(lambda: sidechain.deposit_status(1)["status"] == "minted", 20, "deposit 1 minted")
    status = sidechain.deposit_status(1)
    assert [(c["recipient"], c["amount"]) for c in status["contents"]] == [(replacement_to.lower(), hex(3 * 10**18))]
    assert sidechain.w3.eth.get_balance(replacement_to) == 3 * 10**18
    assert sidechain.w3.eth.get_balance(removed_to) == 0
    assert sidechain.affirmations() == [(1, VALIDATOR)]


def test_a_reorg_below_the_cursor_is_noticed_and_the_new_blocks_are_rescanned(chains, tmp_path, caplog):
    l1, sidechain = chains
    relayer = relayer_for(l1, sidechain, tmp_path / "relayer.json", confirmations=2)
    l1.mine(4)
    relayer.step()
    cursor = relayer.scanned.number
    assert cursor == l1.w3.eth.block_number - 1

    # A reorg deeper than N: a deposit appears in a block the relayer had already scanned (empty).
    recipient = Account.create().address
    deposit = l1.deposit_eth_tx(USER_KEY, recipient, 2 * 10**18)
    l1.w3.provider.make_request("anvil_reorg", [3, [["0x" + bytes(deposit).hex(), 0]]])
    assert l1.w3.eth.get_transaction_receipt(Web3.keccak(deposit))["blockNumber"] < cursor
    with caplog.at_level(logging.WARNING, logger="bridge.deposits"):
        relayer.step()
    assert "reorg below the cursor" in caplog.text
    wait_until(lambda: sidechain.deposit_status(1)["status"] == "minted", 20, "deposit 1 minted")
    assert sidechain.w3.eth.get_balance(recipient) == 2 * 10**18


def start_relayer_process(l1, sidechain, state: Path, log_path: Path) -> subprocess.Popen:
    node = sidechain.node
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bridge.cli", "relayer", "--sidechain-rpc", sidechain.url,
             "--l1-rpc", l1.w3.provider.endpoint_uri, "--root-bridge", l1.bridge.address,
             "--confirmations", "2", "--from-block", str(l1.deploy_block),
             "--keystore", str(node.data_dir / "keystore.json"), "--password-file", str(sidechain.root / "password.txt"),
             "--state", str(state), "--log-level", "debug"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_a_relayer_killed_and_restarted_neither_loses_nor_double_affirms_a_deposit(chains, tmp_path):
    l1, sidechain = chains
    state, log_path = tmp_path / "relayer.json", tmp_path / "relayer.log"
    recipient = Account.create().address
    processes = []

    def cursor() -> int:
        return json.loads(state.read_text())["deposits"]["block"] if state.exists() else -1

    try:
        processes.append(start_relayer_process(l1, sidechain, state, log_path))
        for _ in range(5):
            deposit_eth(l1, recipient, 10**17)
        l1.mine()
        # Killed as soon as the first affirmation is on the sidechain: the rest may be sent, in
        # flight or not yet looked at.
        wait_until(lambda: sidechain.affirmations(), 30, "a first affirmation")
        kill(processes[-1])
        for _ in range(5):
            deposit_eth(l1, recipient, 10**17)
        l1.mine()

        processes.append(start_relayer_process(l1, sidechain, state, log_path))
        wait_until(lambda: sidechain.next_deposit_id() == 11, 30, "deposits 1-10 minted")
        head = l1.w3.eth.block_number
        wait_until(lambda: cursor() >= head - 1, 30, "the cursor past every deposit")
        kill(processes[-1])

        state.unlink()  # a lost state file: everything is rescanned, the sidechain says what is done
        processes.append(start_relayer_process(l1, sidechain, state, log_path))
        wait_until(lambda: cursor() >= head - 1, 30, "a full rescan")
        kill(processes[-1])
    finally:
        for process in processes:
            kill(process)

    assert sidechain.affirmations() == [(i, VALIDATOR) for i in range(1, 11)]
    assert sidechain.w3.eth.get_balance(recipient) == 10 * 10**17
    assert all(p.returncode == -signal.SIGKILL for p in processes)


def test_a_checkpoint_counts_as_done_after_n_confirmations_and_is_submitted_again_if_a_reorg_removes_it(tmp_path, caplog):
    from bridge.deploy import deploy_checkpoint_manager
    from bridge.relayer import Relayer

    with run_anvil(log_dir=tmp_path) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        manager, _ = deploy_checkpoint_manager(w3, VALIDATOR_KEY, 7070, [VALIDATOR], [1])
        args = ["--checkpoint-manager", manager.address, "--l1-chain-id", str(anvil.chain_id)]
        with sidechain_node(tmp_path / "sidechain", checkpoint_interval=4, extra_args=args) as sidechain:
            state = tmp_path / "relayer.json"
            relayer = Relayer(sidechain.url, w3, manager.address, VALIDATOR_KEY, StateFile(state), confirmations=2)
            outcome = wait_until(lambda: "submitted" in (o := relayer.step()) and o, 30, "checkpoint 1 submitted")
            assert outcome == "checkpoint 1: submitted, 1/2 confirmations"
            assert "lastConfirmed" not in json.loads(state.read_text())

            w3.provider.make_request("anvil_reorg", [1, []])  # the block holding the submission is replaced
            assert manager.functions.lastCheckpoint().call()[0] == 0
            with caplog.at_level(logging.WARNING, logger="bridge.relayer"):
                assert relayer.step() == "checkpoint 1: submitted, 1/2 confirmations"
            assert "no longer in the L1 chain" in caplog.text

            w3.provider.make_request("evm_mine", [])
            assert relayer.step() == "checkpoint 1: confirmed"
            assert json.loads(state.read_text())["lastConfirmed"] == 1
            assert [e.args.number for e in manager.events.CheckpointSubmitted.get_logs(from_block=0)] == [1]
