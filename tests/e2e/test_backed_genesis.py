"""Every wei of the sidechain's native coin is backed by ETH locked on L1, end to end on the devnet as
`scripts/devnet up` runs it (4 validators, anvil, one relayer per validator). RootBridge locked the
devnet genesis's allocations when it was deployed, so a user's deposit and a genesis-funded
account's own ETH both withdraw and exit, neither at the other's expense; `bridge supply` holds at
every stage, and RootBridge's L1 balance is genesis locked + deposits - exits throughout. And no
RootBridge can be deployed without the lock: the contract reverts with GenesisNotLocked when sent
any other amount, and `scripts/deploy-l1` refuses a deployer that cannot afford it before sending
anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractCustomError

from bridge.artifacts import load_artifact
from bridge.contract_errors import decode_error
from bridge.deploy import constructor_call, contract_at, genesis_supply
from bridge.sidechain_contracts import bridge_contract
from bridge.supply import supply_report
from bridge.user import BridgeUser, Network
from sidechain.chain.genesis import load_genesis
from sidechain.devkeys import anvil_private_key
from sidechain.keystore import encrypt_key, save_keystore

from e2e_support import devnet_up

REPO = Path(__file__).resolve().parents[2]
ETHER = 10**18
DEVNET_GENESIS_SUPPLY = 100_000 * ETHER
"""genesis/devnet.json: ten accounts with 10,000 ETH each."""
GENESIS_HOLDER = anvil_private_key(5)
"""A dev account funded by the genesis on the sidechain; neither the deployer nor a validator."""
L1_FUNDER = anvil_private_key(3)


@pytest.fixture(scope="module")
def devnet(tmp_path_factory):
    """One devnet for the module (the refusals leave the bridge's books untouched); always `down`."""
    root = tmp_path_factory.mktemp("backed-genesis") / "devnet"
    with devnet_up(root) as (_, network):
        yield root, network


def send_eth(l1: Web3, key: bytes, to: str, amount: int) -> None:
    sender = Account.from_key(key).address
    tip = l1.eth.max_priority_fee
    tx = {"to": to, "value": amount, "gas": 21_000, "chainId": l1.eth.chain_id, "nonce": l1.eth.get_transaction_count(sender),
          "maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * l1.eth.get_block("latest")["baseFeePerGas"] + tip}
    receipt = l1.eth.wait_for_transaction_receipt(l1.eth.send_raw_transaction(Account.sign_transaction(tx, key).raw_transaction))
    assert receipt["status"] == 1


def gas_paid(receipt) -> int:
    return receipt["gasUsed"] * receipt["effectiveGasPrice"]


def test_a_depositor_and_a_genesis_account_each_withdraw_and_exit_their_own(devnet):
    root, network = devnet
    network_file = root / "network.json"
    l1 = Web3(Web3.HTTPProvider(network["l1"]["rpc"]))
    bridge = contract_at(l1, "RootBridge", network["l1"]["contracts"]["rootBridge"])
    locked = int(network["l1"]["genesisLocked"])
    assert locked == DEVNET_GENESIS_SUPPLY == bridge.functions.genesisLocked().call()
    side = Web3(Web3.HTTPProvider(network["rpc"]))
    assert bridge_contract(side).functions.genesisSupply().call() == DEVNET_GENESIS_SUPPLY
    books = {"deposited": 0, "exited": 0}

    def books_hold(stage: str) -> None:
        """`bridge supply` says ok, and RootBridge holds exactly genesis locked + deposits - exits."""
        out = subprocess.run([sys.executable, "-m", "bridge.cli", "supply", "--network", str(network_file)],
                             capture_output=True, text=True, timeout=60, cwd=REPO)
        assert out.returncode == 0, f"{stage}: {out.stdout}{out.stderr}"
        eth_line = next(line for line in out.stdout.splitlines() if line.startswith("ETH: "))
        assert eth_line.endswith(": ok") and f"genesis locked {locked} on L1 (sidechain genesis supply {locked})" in eth_line
        held = locked + books["deposited"] - books["exited"]
        assert l1.eth.get_balance(bridge.address) == held, stage
        assert eth_line.startswith(f"ETH: held {held}, locked {held}, "), eth_line

    books_hold("deployed")

    # User A: a fresh account, with ETH on L1 only, deposits 1 ETH.
    a = Account.create()
    send_eth(l1, L1_FUNDER, a.address, 2 * ETHER)
    net = Network.from_file(network_file)
    user_a = BridgeUser(net, a.key, timeout=120)
    deposited = user_a.deposit(ETHER, None)
    books["deposited"] += ETHER
    assert deposited.sidechain_balance == ETHER
    books_hold("A's deposit minted")

    # A genesis-funded account, which never deposited, withdraws 2 ETH of its own (more than every
    # deposit together: under a chain-wide cap of what was bridged in it could not, or would have
    # taken A's ETH) and exits it on L1.
    holder = BridgeUser(net, GENESIS_HOLDER, timeout=120)
    holder_l1_before = holder.l1_balance(None)
    out_holder = holder.withdraw(2 * ETHER, None)  # returns once its checkpoint is on L1
    books_hold("genesis ETH burned, not exited yet")
    paid_holder = holder.exit(out_holder.withdrawal_id)
    books["exited"] += 2 * ETHER
    assert holder.l1_balance(None) == holder_l1_before + 2 * ETHER - gas_paid(paid_holder.l1_receipt)
    books_hold("genesis ETH exited")

    # A withdraws its own (all but what pays the sidechain gas) and exits it: nothing was taken from it.
    a_l1_before = user_a.l1_balance(None)
    out_a = user_a.withdraw(9 * ETHER // 10, None)
    books_hold("A's ETH burned, not exited yet")
    paid_a = user_a.exit(out_a.withdrawal_id)
    books["exited"] += 9 * ETHER // 10
    assert user_a.l1_balance(None) == a_l1_before + 9 * ETHER // 10 - gas_paid(paid_a.l1_receipt)
    books_hold("A's ETH exited")

    (eth, *_) = supply_report(l1, bridge.address, network["rpc"], network["l1"]["deployBlock"])
    assert (eth.genesis_locked, eth.genesis_supply, eth.minted, eth.unminted, eth.burned, eth.exited) == (
        DEVNET_GENESIS_SUPPLY, DEVNET_GENESIS_SUPPLY, ETHER, 0, 29 * ETHER // 10, 29 * ETHER // 10)
    assert eth.held == eth.can_exit == DEVNET_GENESIS_SUPPLY + ETHER - 29 * ETHER // 10


def test_a_root_bridge_cannot_be_deployed_without_locking_the_genesis(devnet, tmp_path):
    root, network = devnet
    l1 = Web3(Web3.HTTPProvider(network["l1"]["rpc"]))
    supply = genesis_supply(load_genesis(root / "genesis.json"))
    assert supply == DEVNET_GENESIS_SUPPLY
    manager = network["l1"]["contracts"]["CheckpointManager"]
    rich = Account.from_key(anvil_private_key(0)).address  # the devnet's deployer: it could afford the lock

    # The contract takes exactly the genesis supply, or nothing is deployed.
    for sent in (0, supply - 1, supply + 1):
        with pytest.raises(ContractCustomError) as refused:
            constructor_call(l1, "RootBridge", [manager, supply]).estimate_gas({"from": rich, "value": sent})
        error = decode_error(load_artifact("RootBridge")["abi"], refused.value.data)
        assert (error.name, error.args) == ("GenesisNotLocked", {"sent": sent, "required": supply})

    # `scripts/deploy-l1` for the devnet genesis from a deployer holding 1 ETH: refused, nothing sent.
    poor = Account.create()
    send_eth(l1, L1_FUNDER, poor.address, ETHER)
    keystore, password = tmp_path / "poor.json", tmp_path / "password.txt"
    save_keystore(keystore, encrypt_key(bytes(poor.key), "pw", scrypt_n=2**14))
    password.write_text("pw\n")
    out = subprocess.run(
        [str(REPO / "scripts/deploy-l1"), "--rpc-url", network["l1"]["rpc"], "--keystore", str(keystore), "--password-file",
         str(password), "--genesis", str(root / "genesis.json"), "--out", str(tmp_path / "deployment.json")],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert out.returncode == 1 and out.stdout == ""
    assert (f"the deployer {poor.address} holds 1 ETH ({ETHER} wei) on L1 chain {network['l1']['chainId']}, but RootBridge "
            f"must lock the sidechain genesis supply of 100,000 ETH ({supply} wei)") in out.stderr
    assert l1.eth.get_transaction_count(poor.address) == 0 and l1.eth.get_balance(poor.address) == ETHER
    assert not (tmp_path / "deployment.json").exists()
    assert json.loads((root / "network.json").read_text())["l1"]["genesisLocked"] == str(supply)
