"""Bridged tokens compose with users' contracts, end to end on the devnet with anvil: DEV deposited
from L1 is pulled into a user's Solidity escrow with transferFrom, paid out to another user, who
withdraws it to L1 and exits; the supply invariant holds throughout (checked after the test)."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from bridge.deploy import contract_at
from bridge.root_bridge import deposit_erc20
from sidechain.devkeys import anvil_private_key

from contract_tools import artifacts
from test_bridge_devnet import FRIEND, USER, net  # noqa: F401  (net: the devnet fixture, supply checked after the test)

pytestmark = pytest.mark.e2e
AMOUNT = 40 * 10**18


def test_an_escrow_pulls_bridged_tokens_pays_them_out_and_the_payee_exits_on_l1(net):
    key = anvil_private_key(1)
    faucet = contract_at(net.l1, "TestToken", net.token.address)
    mint = faucet.functions.mint(USER.address, AMOUNT).build_transaction(
        {"from": USER.address, "nonce": net.l1.eth.get_transaction_count(USER.address)})
    net.l1.eth.wait_for_transaction_receipt(net.l1.eth.send_raw_transaction(USER.sign_transaction(mint).raw_transaction))
    friend_l1_before = net.token.functions.balanceOf(FRIEND.address).call()

    receipt = deposit_erc20(net.l1, net.bridge, key, net.token.address, USER.address, AMOUNT)
    [deposited] = net.bridge.events.Deposited().process_receipt(receipt, errors=DISCARD)
    net.minted(deposited.args.depositId)
    token = net.side_token
    assert token.functions.balanceOf(USER.address).call() == AMOUNT

    compiled = artifacts()["Escrow"]
    factory = net.side.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    created = net.send_side(USER, factory.constructor())
    escrow = net.side.eth.contract(address=created["contractAddress"], abi=compiled["abi"])

    # The escrow pulls the bridged tokens with transferFrom: the user's approval is spent.
    assert net.send_side(USER, token.functions.approve(escrow.address, AMOUNT))["status"] == 1
    opened = net.send_side(USER, escrow.functions.open(FRIEND.address, token.address, AMOUNT))
    assert opened["status"] == 1
    assert token.functions.balanceOf(escrow.address).call() == AMOUNT
    assert token.functions.allowance(USER.address, escrow.address).call() == 0
    [event] = escrow.events.Opened().process_receipt(opened, errors=DISCARD)
    assert (event.args.payer, event.args.payee, event.args.amount) == (USER.address, FRIEND.address, AMOUNT)

    # Only the payer releases it, once; the payee then holds the tokens.
    with pytest.raises(ContractCustomError):
        escrow.functions.release(0).call({"from": FRIEND.address})
    assert net.send_side(USER, escrow.functions.release(0))["status"] == 1
    assert token.functions.balanceOf(FRIEND.address).call() == AMOUNT
    assert token.functions.balanceOf(escrow.address).call() == 0
    with pytest.raises(ContractCustomError):
        escrow.functions.release(0).call({"from": USER.address})

    # The payee withdraws to L1 and exits there.
    burned = net.send_side(FRIEND, net.side_bridge.functions.withdraw(net.token.address, AMOUNT, FRIEND.address))
    assert burned["status"] == 1 and token.functions.totalSupply().call() == 0
    withdrawal_id = net.side_bridge.functions.nextWithdrawalId().call() - 1
    net.exit_when_checkpointed(withdrawal_id, anvil_private_key(2))
    assert net.token.functions.balanceOf(FRIEND.address).call() == friend_l1_before + AMOUNT
