"""Exits whose recipient cannot be paid, on a real anvil: the withdrawal is spent all the same and its
amount credited to the recipient's claimable balance (pull payment), which the recipient alone
claims to an address of its choosing. ETH to a contract without `receive` (or one that burns all
the gas it gets), a token that refuses transfers to a blacklisted address; no replay, no claim
twice, and an exit starved of gas reverts instead of crediting a recipient that would have accepted."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from bridge.contract_errors import decode_error
from bridge.deploy import TransactionFailed, deploy_contract, send_transaction
from bridge.root_bridge import ETH, Withdrawal, deposit_erc20, deposit_eth, exit_withdrawal
from sidechain.devkeys import anvil_private_key

from checkpoint_support import DEPLOYER, address_of
from test_root_bridge import (  # noqa: F401  (bridge: a fixture)
    ETHER, SIDECHAIN_RECIPIENT, USER, bridge, expect_error, fresh_address, land_withdrawals,
)

OWNER = anvil_private_key(3)
"""Owns the refusing recipient contract."""
OWNER_WALLET = anvil_private_key(4)
"""Another address the owner controls: where it has the credit paid."""
BLOCKED = anvil_private_key(5)
ETH_ADDRESS = "0x" + "00" * 20


def books(w3, bridge, token_address: str = ETH_ADDRESS) -> tuple[int, int, int]:
    """(held, lockedBalance, totalClaimable) of a token: RootBridge always holds locked + claimable."""
    held = (w3.eth.get_balance(bridge.address) if token_address == ETH_ADDRESS else
            w3.eth.contract(address=token_address, abi=_BALANCE_OF).functions.balanceOf(bridge.address).call())
    locked = bridge.functions.lockedBalance(token_address).call()
    owed = bridge.functions.totalClaimable(token_address).call()
    assert held == locked + owed
    return held, locked, owed


def test_an_eth_exit_to_a_contract_without_receive_is_credited_and_its_owner_claims_it_elsewhere(w3, bridge, l1):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    refusing, _ = deploy_contract(w3, "RefusingRecipient", [], OWNER)
    withdrawal = Withdrawal(1, ETH, refusing.address, ETHER // 4)
    number, (proof,) = land_withdrawals(l1, [withdrawal], padding=2)

    receipt = exit_withdrawal(w3, bridge, USER, withdrawal, number, proof)  # anyone may submit it

    assert bridge.events.Exited().process_receipt(receipt, errors=DISCARD) == ()
    (credited,) = bridge.events.ExitCredited().process_receipt(receipt, errors=DISCARD)
    assert dict(credited.args) == {"withdrawalId": 1, "token": ETH_ADDRESS, "recipient": refusing.address,
                                   "amount": ETHER // 4}
    assert bridge.functions.isExited(1).call()
    assert w3.eth.get_balance(refusing.address) == 0
    assert bridge.functions.claimable(refusing.address, ETH_ADDRESS).call() == ETHER // 4
    assert books(w3, bridge) == (ETHER, ETHER - ETHER // 4, ETHER // 4)  # out of the locked books, still held

    # No replay: neither of the exit (the id is spent) nor of the credit.
    assert expect_error(bridge, bridge.functions.exit(withdrawal.as_tuple(), number, proof), "AlreadyExited",
                        sender=DEPLOYER) == {"id": 1}
    # Only the recipient claims: anyone else has nothing to claim, and the contract obeys its owner only.
    args = expect_error(bridge, bridge.functions.claim(ETH_ADDRESS, address_of(USER)), "NothingToClaim")
    assert args == {"account": address_of(USER), "token": ETH_ADDRESS}
    with pytest.raises(ContractCustomError):
        refusing.functions.claimFrom(bridge.address, ETH_ADDRESS, address_of(USER)).call({"from": address_of(USER)})
    # A claim paid to the refusing contract itself fails whole: the balance stays claimable.
    with pytest.raises(ContractCustomError) as refused:
        refusing.functions.claimFrom(bridge.address, ETH_ADDRESS, refusing.address).call({"from": address_of(OWNER)})
    assert decode_error(bridge.abi, refused.value.data).name == "EthTransferFailed"

    wallet_before = w3.eth.get_balance(address_of(OWNER_WALLET))
    claim = send_transaction(w3, refusing.functions.claimFrom(bridge.address, ETH_ADDRESS, address_of(OWNER_WALLET)),
                             OWNER)

    assert w3.eth.get_balance(address_of(OWNER_WALLET)) == wallet_before + ETHER // 4
    (claimed,) = bridge.events.Claimed().process_receipt(claim, errors=DISCARD)
    assert dict(claimed.args) == {"account": refusing.address, "token": ETH_ADDRESS,
                                  "to": address_of(OWNER_WALLET), "amount": ETHER // 4}
    assert bridge.functions.claimable(refusing.address, ETH_ADDRESS).call() == 0
    assert books(w3, bridge) == (ETHER - ETHER // 4, ETHER - ETHER // 4, 0)
    with pytest.raises(ContractCustomError) as again:  # claimed once
        refusing.functions.claimFrom(bridge.address, ETH_ADDRESS, address_of(OWNER_WALLET)).call(
            {"from": address_of(OWNER)})
    assert decode_error(bridge.abi, again.value.data).name == "NothingToClaim"


def test_a_token_exit_to_a_blacklisted_address_is_credited_and_claimed_to_another_address(w3, bridge, l1):
    token, _ = deploy_contract(w3, "BlacklistToken", [address_of(USER), 10**6], DEPLOYER)
    deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 1000)
    send_transaction(w3, token.functions.setBlacklisted(address_of(BLOCKED), True), DEPLOYER)
    withdrawal = Withdrawal(1, token.address, address_of(BLOCKED), 400)
    number, (proof,) = land_withdrawals(l1, [withdrawal])

    receipt = exit_withdrawal(w3, bridge, USER, withdrawal, number, proof)

    (credited,) = bridge.events.ExitCredited().process_receipt(receipt, errors=DISCARD)
    assert (credited.args.token, credited.args.recipient, credited.args.amount) == (token.address, address_of(BLOCKED), 400)
    assert books(w3, bridge, token.address) == (1000, 600, 400)
    assert bridge.functions.claimable(address_of(BLOCKED), token.address).call() == 400
    assert bridge.functions.claimable(address_of(BLOCKED), ETH_ADDRESS).call() == 0  # per token
    assert expect_error(bridge, bridge.functions.exit(withdrawal.as_tuple(), number, proof), "AlreadyExited") == {"id": 1}
    expect_error(bridge, bridge.functions.claim(token.address, Web3.to_checksum_address(bytes(20))), "ZeroRecipient",
                 sender=BLOCKED)

    elsewhere = fresh_address()
    send_transaction(w3, bridge.functions.claim(token.address, elsewhere), BLOCKED)

    assert token.functions.balanceOf(elsewhere).call() == 400
    assert books(w3, bridge, token.address) == (600, 600, 0)
    expect_error(bridge, bridge.functions.claim(token.address, elsewhere), "NothingToClaim", sender=BLOCKED)


def test_an_exit_starved_of_gas_reverts_instead_of_crediting_a_recipient_that_accepts(w3, bridge, l1):
    """Whoever submits an exit cannot have a payable recipient credited by giving the payment too
    little gas: below PAYMENT_GAS plus the credit's reserve the exit reverts, and stays open."""
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    recipient = fresh_address()
    withdrawal = Withdrawal(1, ETH, recipient, 1000)
    number, (proof,) = land_withdrawals(l1, [withdrawal])
    call = bridge.functions.exit(withdrawal.as_tuple(), number, proof)
    estimate = call.estimate_gas({"from": address_of(USER)})
    assert estimate > bridge.functions.PAYMENT_GAS().call() == 100_000

    with pytest.raises(ContractCustomError) as starved:
        call.call({"from": address_of(USER), "gas": estimate - 5_000})
    error = decode_error(bridge.abi, starved.value.data)
    assert error.name == "InsufficientGas" and error.args["required"] == 200_000
    with pytest.raises(TransactionFailed):
        send_transaction(w3, call, USER, gas=estimate - 5_000)
    assert not bridge.functions.isExited(1).call()
    assert books(w3, bridge) == (ETHER, ETHER, 0)

    receipt = send_transaction(w3, call, USER, gas=estimate)
    assert len(bridge.events.Exited().process_receipt(receipt, errors=DISCARD)) == 1
    assert w3.eth.get_balance(recipient) == 1000
    assert receipt["gasUsed"] < estimate - 100_000  # the reserve is a limit, not a cost


def test_a_recipient_that_burns_all_its_gas_is_credited_and_the_exit_costs_what_its_gas_limit_allows(w3, bridge, l1):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    burner, _ = deploy_contract(w3, "GasBurningRecipient", [], OWNER)
    withdrawal = Withdrawal(1, ETH, burner.address, 777)
    number, (proof,) = land_withdrawals(l1, [withdrawal])
    call = bridge.functions.exit(withdrawal.as_tuple(), number, proof)

    receipt = send_transaction(w3, call, USER, gas=400_000)

    assert len(bridge.events.ExitCredited().process_receipt(receipt, errors=DISCARD)) == 1
    assert receipt["gasUsed"] <= 400_000
    assert bridge.functions.claimable(burner.address, ETH_ADDRESS).call() == 777
    wallet_before = w3.eth.get_balance(address_of(OWNER_WALLET))
    send_transaction(w3, burner.functions.claimFrom(bridge.address, ETH_ADDRESS, address_of(OWNER_WALLET)), OWNER)
    assert w3.eth.get_balance(address_of(OWNER_WALLET)) == wallet_before + 777
    assert books(w3, bridge) == (ETHER - 777, ETHER - 777, 0)


_BALANCE_OF = [{"type": "function", "name": "balanceOf", "stateMutability": "view",
                "inputs": [{"name": "account", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]}]
