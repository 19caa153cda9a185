"""The bridge end to end on the devnet as `scripts/devnet up` runs it (4 validators, anvil, one relayer
per validator), driven with web3.py as a user would: deposit ETH and the test ERC-20 on L1, see them
minted, use the token through the standard ERC-20 ABI, withdraw, wait for the checkpoint, exit, and
find the L1 balances restored exactly. After every test the supply invariant is checked: for each
token, what RootBridge holds = minted on the sidechain - burned + burned-but-not-exited (for ETH, plus
the genesis allocations RootBridge locked at deployment). The genesis lock itself, end to end:
test_backed_genesis.py.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD

from bridge.contract_errors import decode_error
from bridge.deploy import contract_at
from bridge.root_bridge import ETH, Withdrawal, deposit_erc20, deposit_eth, exit_withdrawal
from bridge.supply import supply_report
from sidechain.chain.system import BRIDGE_ADDRESS, system_contracts, token_address
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import NodeProcess, rpc_call, wait_until
from sidechain.devtools.devnet_cli import start_relayer

from e2e_support import devnet_up

ERC20_ABI = json.loads("""[
 {"type":"function","name":"name","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"string"}]},
 {"type":"function","name":"symbol","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"string"}]},
 {"type":"function","name":"decimals","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint8"}]},
 {"type":"function","name":"totalSupply","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint256"}]},
 {"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"account","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
 {"type":"function","name":"allowance","stateMutability":"view","inputs":[{"name":"owner","type":"address"},{"name":"spender","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
 {"type":"function","name":"transfer","stateMutability":"nonpayable","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"}],"outputs":[{"name":"","type":"bool"}]},
 {"type":"function","name":"approve","stateMutability":"nonpayable","inputs":[{"name":"spender","type":"address"},{"name":"value","type":"uint256"}],"outputs":[{"name":"","type":"bool"}]},
 {"type":"function","name":"transferFrom","stateMutability":"nonpayable","inputs":[{"name":"from","type":"address"},{"name":"to","type":"address"},{"name":"value","type":"uint256"}],"outputs":[{"name":"","type":"bool"}]},
 {"type":"event","name":"Transfer","anonymous":false,"inputs":[{"indexed":true,"name":"from","type":"address"},{"indexed":true,"name":"to","type":"address"},{"indexed":false,"name":"value","type":"uint256"}]},
 {"type":"event","name":"Approval","anonymous":false,"inputs":[{"indexed":true,"name":"owner","type":"address"},{"indexed":true,"name":"spender","type":"address"},{"indexed":false,"name":"value","type":"uint256"}]}
]""")
"""OpenZeppelin's IERC20 + IERC20Metadata, as any wallet or script has it."""
USER, FRIEND = Account.from_key(anvil_private_key(1)), Account.from_key(anvil_private_key(2))


class Net:
    """The running devnet seen through web3.py on both chains."""

    def __init__(self, root: Path, network: dict) -> None:
        self.root, self.network = root, network
        self.l1 = Web3(Web3.HTTPProvider(network["l1"]["rpc"]))
        self.side = Web3(Web3.HTTPProvider(network["rpc"]))
        contracts = network["l1"]["contracts"]
        self.bridge = contract_at(self.l1, "RootBridge", contracts["rootBridge"])
        self.manager = contract_at(self.l1, "CheckpointManager", contracts["CheckpointManager"])
        self.token = self.l1.eth.contract(address=contracts["testToken"], abi=ERC20_ABI)
        self.side_bridge = self.side.eth.contract(address=to_checksum_address(BRIDGE_ADDRESS),
                                                  abi=system_contracts()["bridge"]["abi"])
        self.side_token = self.side.eth.contract(address=to_checksum_address(token_address(bytes.fromhex(contracts["testToken"][2:]))),
                                                 abi=ERC20_ABI)

    def send_side(self, account, call, value: int = 0) -> dict:
        tx = call.build_transaction({"from": account.address, "value": value, "chainId": self.network["chainId"],
                                     "nonce": self.side.eth.get_transaction_count(account.address, "pending")})
        tx_hash = self.side.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
        return self.side.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)

    def minted(self, deposit_id: int, timeout: float = 60) -> None:
        wait_until(lambda: rpc_call(self.network["rpc"], "sidechain_getDepositStatus", [hex(deposit_id)])["status"] == "minted",
                   timeout, f"deposit {deposit_id} minted")

    def proof_once_checkpointed(self, withdrawal_id: int) -> tuple[Withdrawal, int, list[bytes]]:
        """(withdrawal, checkpoint number, proof) once the withdrawal's checkpoint is on L1."""
        def proof():
            try:
                served = rpc_call(self.network["rpc"], "sidechain_getWithdrawalProof", [hex(withdrawal_id)])
            except Exception:
                return None
            if self.manager.functions.lastCheckpoint().call()[0] < int(served["checkpointNumber"], 16):
                return None
            return served
        wait_until(lambda: proof() is not None, 180, f"withdrawal {withdrawal_id}'s checkpoint on L1")
        served = proof()
        w = served["withdrawal"]
        withdrawal = Withdrawal(int(w["id"], 16), w["l1Token"], w["l1Recipient"], int(w["amount"], 16))
        return withdrawal, int(served["checkpointNumber"], 16), [bytes.fromhex(p[2:]) for p in served["proof"]]

    def exit_when_checkpointed(self, withdrawal_id: int, key: bytes) -> dict:
        return exit_withdrawal(self.l1, self.bridge, key, *self.proof_once_checkpointed(withdrawal_id))

    def check_supply_invariant(self) -> None:
        """For every token (ETH and each ERC-20 deposited): what RootBridge holds = its books =
        (ETH: genesis locked +) minted + deposited-not-yet-minted - exited; and each ledger's
        totalSupply = minted - burned."""
        report = supply_report(self.l1, self.bridge.address, self.network["rpc"], self.network["l1"]["deployBlock"])
        for token in report:
            assert token.holds, token.describe()
            sidechain_token = rpc_call(self.network["rpc"], "sidechain_getBridgeTotals", ["0x" + token.token.hex()])["sidechainToken"]
            if sidechain_token is not None:  # the ledger opens with the token's first deposit
                ledger = self.side.eth.contract(address=to_checksum_address(sidechain_token), abi=ERC20_ABI)
                assert ledger.functions.totalSupply().call() == token.minted - token.burned


@pytest.fixture
def net(tmp_path):
    root = tmp_path / "devnet"
    with devnet_up(root) as (_, network):
        running = Net(root, network)
        yield running
        running.check_supply_invariant()


def l1_gas_paid(net: Net, receipts) -> int:
    return sum(r["gasUsed"] * r["effectiveGasPrice"] for r in receipts)


def test_deposit_use_withdraw_and_exit_restore_the_l1_balances_exactly(net):
    key = anvil_private_key(1)
    faucet = contract_at(net.l1, "TestToken", net.token.address)
    mint = faucet.functions.mint(USER.address, 500 * 10**18).build_transaction(
        {"from": USER.address, "nonce": net.l1.eth.get_transaction_count(USER.address)})
    net.l1.eth.wait_for_transaction_receipt(net.l1.eth.send_raw_transaction(USER.sign_transaction(mint).raw_transaction))
    eth_before, token_before = net.l1.eth.get_balance(USER.address), net.token.functions.balanceOf(USER.address).call()
    side_eth_before = net.side.eth.get_balance(USER.address)
    l1_receipts = []

    # Deposit 1 ETH and 100 DEV; both are minted on the sidechain.
    l1_receipts.append(deposit_eth(net.l1, net.bridge, key, USER.address, 10**18))
    approve_and_deposit_from = net.l1.eth.block_number
    l1_receipts.append(deposit_erc20(net.l1, net.bridge, key, net.token.address, USER.address, 100 * 10**18))
    approvals = [net.l1.eth.get_transaction_receipt(tx["hash"]) for n in range(approve_and_deposit_from, net.l1.eth.block_number + 1)
                 for tx in net.l1.eth.get_block(n, full_transactions=True)["transactions"]
                 if tx["from"] == USER.address and tx["to"] == net.token.address]
    l1_receipts += approvals
    ids = [e.args.depositId for r in l1_receipts[:2] for e in net.bridge.events.Deposited().process_receipt(r, errors=DISCARD)]
    for deposit_id in ids:
        net.minted(deposit_id)
    assert net.side.eth.get_balance(USER.address) == side_eth_before + 10**18
    token = net.side_token
    assert (token.functions.name().call(), token.functions.symbol().call(), token.functions.decimals().call()) == ("Devnet Token", "DEV", 18)
    assert token.functions.balanceOf(USER.address).call() == 100 * 10**18

    # The standard ERC-20 ABI works unchanged: transfer, approve, transferFrom, logs in receipts and eth_getLogs.
    sent = net.send_side(USER, token.functions.transfer(FRIEND.address, 10 * 10**18))
    [transfer] = token.events.Transfer().process_receipt(sent, errors=DISCARD)
    assert (transfer.args["from"], transfer.args.to, transfer.args.value) == (USER.address, FRIEND.address, 10 * 10**18)
    net.send_side(FRIEND, token.functions.approve(USER.address, 10 * 10**18))
    assert token.functions.allowance(FRIEND.address, USER.address).call() == 10 * 10**18
    net.send_side(USER, token.functions.transferFrom(FRIEND.address, USER.address, 10 * 10**18))
    assert token.functions.balanceOf(FRIEND.address).call() == 0
    logs = token.events.Transfer().get_logs(from_block=0)
    assert [(e.args["from"], e.args.to) for e in logs][-2:] == [(USER.address, FRIEND.address), (FRIEND.address, USER.address)]

    # Withdraw everything that was deposited, then exit both on L1 once their checkpoint is there.
    burned_token = net.send_side(USER, net.side_bridge.functions.withdraw(net.token.address, 100 * 10**18, USER.address))
    burned_eth = net.send_side(USER, net.side_bridge.functions.withdraw(to_checksum_address(ETH), 10**18, USER.address),
                               value=10**18)
    assert burned_token["status"] == burned_eth["status"] == 1
    assert token.functions.totalSupply().call() == 0
    next_id = net.side_bridge.functions.nextWithdrawalId().call()
    withdrawal_ids = [next_id - 2, next_id - 1]
    for withdrawal_id in withdrawal_ids:
        l1_receipts.append(net.exit_when_checkpointed(withdrawal_id, key))

    assert net.token.functions.balanceOf(USER.address).call() == token_before
    assert net.l1.eth.get_balance(USER.address) == eth_before - l1_gas_paid(net, l1_receipts)


def test_refusals_each_with_its_own_error(net):
    key = anvil_private_key(1)
    # L1: a deposit of zero.
    with pytest.raises(ContractCustomError) as refused:
        net.bridge.functions.depositETH(USER.address).estimate_gas({"from": USER.address, "value": 0})
    assert decode_error(net.bridge.abi, refused.value.data).name == "ZeroAmount"

    # Sidechain: a withdrawal above the balance, and an affirmation from a non-validator.
    faucet = contract_at(net.l1, "TestToken", net.token.address)
    mint = faucet.functions.mint(USER.address, 5).build_transaction(
        {"from": USER.address, "nonce": net.l1.eth.get_transaction_count(USER.address)})
    net.l1.eth.wait_for_transaction_receipt(net.l1.eth.send_raw_transaction(USER.sign_transaction(mint).raw_transaction))
    deposited = deposit_erc20(net.l1, net.bridge, key, net.token.address, USER.address, 5)
    net.minted(net.bridge.events.Deposited().process_receipt(deposited, errors=DISCARD)[0].args.depositId)
    with pytest.raises(ContractLogicError, match="withdrawal above the balance: .* holds 5, wants to withdraw 6"):
        net.side_bridge.functions.withdraw(net.token.address, 6, USER.address).estimate_gas({"from": USER.address})
    affirm = net.side_bridge.functions.affirmDeposit(999, to_checksum_address(ETH), USER.address, 10**18, "Ether", "ETH", 18)
    with pytest.raises(ContractLogicError, match="only a validator may affirm"):
        affirm.estimate_gas({"from": USER.address})
    # A single validator affirming a deposit nobody made mints nothing.
    validator = Account.from_key(anvil_private_key(6))
    receipt = net.send_side(validator, net.side_bridge.functions.affirmDeposit(
        999, to_checksum_address(ETH), USER.address, 10**18, "Ether", "ETH", 18))
    assert receipt["status"] == 1
    status = rpc_call(net.network["rpc"], "sidechain_getDepositStatus", [hex(999)])
    assert status["status"] == "affirming" and len(status["contents"]) == 1

    # L1 exits: against a checkpoint that does not exist, with a bad proof, and replayed.
    l1_deposit = deposit_eth(net.l1, net.bridge, key, USER.address, 10**17)
    net.minted(net.bridge.events.Deposited().process_receipt(l1_deposit)[0].args.depositId)
    net.send_side(USER, net.side_bridge.functions.withdraw(to_checksum_address(ETH), 10**17, USER.address), value=10**17)
    withdrawal_id = net.side_bridge.functions.nextWithdrawalId().call() - 1
    future = Withdrawal(withdrawal_id, ETH, USER.address, 10**17)
    with pytest.raises(ContractCustomError) as refused:
        net.bridge.functions.exit(future.as_tuple(), 10**6, []).estimate_gas({"from": USER.address})
    assert decode_error(net.bridge.abi, refused.value.data).name == "UnknownCheckpoint"
    withdrawal, number, proof = net.proof_once_checkpointed(withdrawal_id)
    inflated = Withdrawal(withdrawal_id, ETH, USER.address, 10**18)
    with pytest.raises(ContractCustomError) as refused:
        net.bridge.functions.exit(inflated.as_tuple(), number, proof).estimate_gas({"from": USER.address})
    assert decode_error(net.bridge.abi, refused.value.data).name == "InvalidWithdrawalProof"
    exit_withdrawal(net.l1, net.bridge, key, withdrawal, number, proof)
    with pytest.raises(ContractCustomError) as refused:
        net.bridge.functions.exit(withdrawal.as_tuple(), number, proof).estimate_gas({"from": USER.address})
    assert decode_error(net.bridge.abi, refused.value.data).name == "AlreadyExited"


def test_relayers_killed_and_restarted_mid_deposits_lose_none_and_mint_none_twice(net):
    key = anvil_private_key(1)
    relayers = net.network["l1"]["relayers"]
    receipts = [deposit_eth(net.l1, net.bridge, key, USER.address, 10**15 * (i + 1)) for i in range(2)]
    for pid in relayers[:2]:
        os.kill(pid, signal.SIGKILL)  # two of four relayers die: the other two are not enough for 2/3
    receipts += [deposit_eth(net.l1, net.bridge, key, USER.address, 10**15 * (i + 3)) for i in range(3)]
    ids = [e.args.depositId for r in receipts for e in net.bridge.events.Deposited().process_receipt(r, errors=DISCARD)]
    restarted = []
    try:
        for i, node in enumerate(net.network["nodes"][:2]):
            process = NodeProcess(node["name"], Path(node["dataDir"]), int(node["rpc"].rsplit(":", 1)[1]),
                                  node["validator"], Path(node["log"]))
            restarted.append(start_relayer(net.root, process, i, net.network["l1"]))
        for deposit_id in ids:
            net.minted(deposit_id)
        minted = net.side_bridge.events.DepositMinted().get_logs(from_block=0)
        assert sorted(e.args.depositId for e in minted) == sorted(ids), "each deposit minted exactly once"
        affirmed = [(e.args.depositId, e.args.validator) for e in net.side_bridge.events.DepositAffirmed().get_logs(from_block=0)]
        assert len(affirmed) == len(set(affirmed)), "no validator affirmed a deposit twice"
        amounts = {e.args.depositId: e.args.amount for e in minted}
        assert [amounts[i] for i in ids] == [10**15 * (k + 1) for k in range(5)]
    finally:
        for pid in restarted:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
