"""RootBridge on a real anvil: the sidechain genesis's allocations locked at deployment (exactly, or
the deployment reverts), deposits locked under sequential ids, exits paid once against real signed
checkpoints whose withdrawalRoot the test chooses, and every refusal with its own error."""

from __future__ import annotations

import os

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from bridge.artifacts import load_artifact
from bridge.contract_errors import decode_error
from bridge.deploy import TransactionFailed, constructor_call, contract_at, deploy_contract, send_transaction
from bridge.merkle import merkle_proof, merkle_root
from bridge.root_bridge import (
    ETH, Withdrawal, deploy_root_bridge, deploy_test_token, deposit_erc20, deposit_eth, deposits_in, exit_withdrawal,
)
from sidechain.devkeys import anvil_private_key

from checkpoint_support import DEPLOYER, L1Checkpoints, address_of

USER = anvil_private_key(1)
SIDECHAIN_RECIPIENT = Web3.to_checksum_address("0x" + "5c" * 20)
ETHER = 10**18


@pytest.fixture
def bridge(w3, l1):
    """RootBridge for a sidechain genesis without allocations (nothing to lock), so what it holds is deposits."""
    contract, _ = deploy_root_bridge(w3, DEPLOYER, l1.address, 0)
    return contract


@pytest.fixture
def token(w3):
    contract, _ = deploy_test_token(w3, DEPLOYER, "Test Token", "TT", 6, address_of(USER), 10**12)
    return contract


def fresh_address() -> str:
    """An address nobody has used, so its balance starts at 0."""
    return Web3.to_checksum_address(os.urandom(20))


def land_withdrawals(l1: L1Checkpoints, withdrawals: list[Withdrawal], padding: int = 0) -> tuple[int, list[list[bytes]]]:
    """Land the next checkpoint with the withdrawalRoot over `withdrawals` (plus `padding` made-up
    leaves); returns its number and each withdrawal's proof."""
    leaves = [w.leaf() for w in withdrawals]
    leaves += [Withdrawal(10**6 + i, ETH, bytes(20), 1).leaf() for i in range(padding)]
    checkpoint = l1.next_checkpoint(withdrawal_root=merkle_root(leaves))
    l1.submit(checkpoint, l1.sign(checkpoint, l1.keys))
    return checkpoint.number, [merkle_proof(leaves, i) for i in range(len(withdrawals))]


def expect_error(bridge, call, name: str, sender: bytes = USER, value: int = 0) -> dict:
    """Assert `call` reverts with RootBridge's custom error `name`; returns its arguments."""
    with pytest.raises(ContractCustomError) as raised:
        call.call({"from": address_of(sender), "value": value})
    error = decode_error(bridge.abi, raised.value.data)
    assert error.name == name, f"expected {name}, got {error}"
    return error.args


def test_deployment_points_at_the_checkpoint_manager_and_starts_at_deposit_1(bridge, l1):
    assert bridge.functions.checkpointManager().call() == l1.address
    assert bridge.functions.nextDepositId().call() == 1
    assert bridge.functions.lockedBalance(address_of(USER)).call() == 0
    assert bridge.functions.genesisLocked().call() == 0


def test_deployment_locks_the_genesis_supply_sent_with_it(w3, l1):
    supply = 7 * ETHER + 3
    contract, receipt = deploy_root_bridge(w3, DEPLOYER, l1.address, supply)

    assert w3.eth.get_balance(contract.address) == supply
    assert contract.functions.genesisLocked().call() == supply
    assert contract.functions.lockedBalance(ETH).call() == supply
    (event,) = contract.events.GenesisLocked().process_receipt(receipt, errors=DISCARD)
    assert event.args.amount == supply


@pytest.mark.parametrize("sent", [0, 7 * ETHER + 2, 7 * ETHER + 4])
def test_a_deployment_that_does_not_send_exactly_the_genesis_supply_reverts(w3, l1, sent):
    supply = 7 * ETHER + 3
    constructor = constructor_call(w3, "RootBridge", [l1.address, supply])
    with pytest.raises(ContractCustomError) as refused:
        constructor.estimate_gas({"from": address_of(DEPLOYER), "value": sent})
    error = decode_error(load_artifact("RootBridge")["abi"], refused.value.data)
    assert (error.name, error.args) == ("GenesisNotLocked", {"sent": sent, "required": supply})

    before = w3.eth.get_balance(address_of(DEPLOYER))
    with pytest.raises(TransactionFailed):  # sent anyway (gas given, no estimate): mined, reverted, nothing kept
        send_transaction(w3, constructor, DEPLOYER, gas=2_000_000, value=sent)
    (tx_hash,) = w3.eth.get_block("latest")["transactions"]  # anvil automines: one transaction per block
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 0 and receipt["contractAddress"] is not None
    assert w3.eth.get_code(receipt["contractAddress"]) == b""
    assert w3.eth.get_balance(address_of(DEPLOYER)) == before - receipt["gasUsed"] * receipt["effectiveGasPrice"]


def test_genesis_eth_exits_like_deposited_eth_and_the_total_never_exceeds_genesis_plus_deposits(w3, l1):
    bridge, _ = deploy_root_bridge(w3, DEPLOYER, l1.address, 1000)
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, 500)
    withdrawals = [Withdrawal(1, ETH, fresh_address(), 1200), Withdrawal(2, ETH, fresh_address(), 300),
                   Withdrawal(3, ETH, fresh_address(), 1)]
    number, proofs = land_withdrawals(l1, withdrawals)

    exit_withdrawal(w3, bridge, USER, withdrawals[0], number, proofs[0])  # more than was deposited: genesis ETH
    assert w3.eth.get_balance(Web3.to_checksum_address(withdrawals[0].recipient)) == 1200
    assert bridge.functions.lockedBalance(ETH).call() == w3.eth.get_balance(bridge.address) == 300
    exit_withdrawal(w3, bridge, USER, withdrawals[1], number, proofs[1])
    assert bridge.functions.lockedBalance(ETH).call() == w3.eth.get_balance(bridge.address) == 0

    args = expect_error(bridge, bridge.functions.exit(withdrawals[2].as_tuple(), number, proofs[2]), "ExceedsLockedBalance")
    assert args == {"token": "0x" + "00" * 20, "locked": 0, "amount": 1}
    assert bridge.functions.genesisLocked().call() == 1000  # what was locked, not what is left


def test_eth_and_erc20_deposits_get_sequential_ids_and_are_locked(w3, bridge, token):
    start = w3.eth.block_number + 1

    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, 2 * ETHER)
    deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 500)
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, 3)

    deposits = deposits_in(w3, bridge, start, w3.eth.block_number)
    assert [(d.deposit_id, d.token, d.amount) for d in deposits] == [
        (1, ETH, 2 * ETHER), (2, bytes.fromhex(token.address[2:]), 500), (3, ETH, 3)]
    assert all(d.sender == bytes.fromhex(address_of(USER)[2:]) for d in deposits)
    assert all(d.recipient == bytes.fromhex(SIDECHAIN_RECIPIENT[2:]) for d in deposits)
    assert bridge.functions.nextDepositId().call() == 4
    assert w3.eth.get_balance(bridge.address) == 2 * ETHER + 3
    assert token.functions.balanceOf(bridge.address).call() == 500
    assert bridge.functions.lockedBalance(ETH).call() == 2 * ETHER + 3
    assert bridge.functions.lockedBalance(token.address).call() == 500


def test_deposits_in_reports_where_each_deposit_sits_on_l1(w3, bridge):
    receipt = deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, 7)

    (deposit,) = deposits_in(w3, bridge, receipt["blockNumber"], receipt["blockNumber"])

    assert deposit.block_number == receipt["blockNumber"]
    assert deposit.block_hash == bytes(receipt["blockHash"])
    assert deposit.tx_hash == bytes(receipt["transactionHash"])
    assert deposit.log_index == receipt["logs"][0]["logIndex"]
    assert deposit.registered is None


def test_token_registered_is_emitted_before_the_first_deposit_only(w3, bridge, token):
    assert not bridge.functions.tokenRegistered(token.address).call()

    first = deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 10)
    later = deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 20)

    (registered,) = bridge.events.TokenRegistered().process_receipt(first, errors=DISCARD)
    (deposited,) = bridge.events.Deposited().process_receipt(first, errors=DISCARD)
    assert dict(registered.args) == {"token": token.address, "name": "Test Token", "symbol": "TT", "decimals": 6}
    assert registered.logIndex < deposited.logIndex
    assert bridge.events.TokenRegistered().process_receipt(later, errors=DISCARD) == ()
    assert bridge.functions.tokenRegistered(token.address).call()
    first_deposit, later_deposit = deposits_in(w3, bridge, first["blockNumber"], later["blockNumber"])
    assert (first_deposit.registered.name, first_deposit.registered.symbol, first_deposit.registered.decimals) == (
        b"Test Token", b"TT", 6)
    assert later_deposit.registered is None


def test_a_token_with_broken_metadata_registers_with_the_fallbacks(w3, bridge):
    token, _ = deploy_contract(w3, "OddMetadataToken", [address_of(USER), 10**6], DEPLOYER)

    receipt = deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 100)

    (registered,) = bridge.events.TokenRegistered().process_receipt(receipt, errors=DISCARD)
    # name() answers a bare bytes32, symbol() reverts, decimals() answers 300
    assert (registered.args.name, registered.args.symbol, registered.args.decimals) == ("Odd Token", "", 18)
    assert bridge.functions.lockedBalance(token.address).call() == 100


def test_metadata_that_is_not_utf8_is_emitted_as_is_and_read_back_as_bytes(w3, bridge):
    name, symbol = b"Bad \xff\xfe name", b"\xe2\x82"  # 0xff never occurs in UTF-8; a cut-off euro sign
    token, _ = deploy_contract(w3, "RawMetadataToken", [name, 1, symbol, address_of(USER), 10**6], DEPLOYER)

    receipt = deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 100)

    (deposit,) = deposits_in(w3, bridge, receipt["blockNumber"], receipt["blockNumber"])
    assert (deposit.registered.name, deposit.registered.symbol, deposit.registered.decimals) == (name, symbol, 18)
    assert (deposit.deposit_id, deposit.amount) == (1, 100)
    with pytest.raises(UnicodeDecodeError):  # why deposits_in does not use web3's event decoding
        bridge.events.TokenRegistered().process_receipt(receipt, errors=DISCARD)


def test_zero_deposits_are_refused_with_zero_amount(bridge, token):
    expect_error(bridge, bridge.functions.depositETH(SIDECHAIN_RECIPIENT), "ZeroAmount")
    expect_error(bridge, bridge.functions.depositERC20(token.address, 0, SIDECHAIN_RECIPIENT), "ZeroAmount")
    assert bridge.functions.nextDepositId().call() == 1


def test_deposits_to_the_zero_recipient_are_refused(w3, bridge, token):
    zero = Web3.to_checksum_address(bytes(20))
    send_transaction(w3, token.functions.approve(bridge.address, 10), USER)

    expect_error(bridge, bridge.functions.depositETH(zero), "ZeroRecipient", value=1)
    expect_error(bridge, bridge.functions.depositERC20(token.address, 10, zero), "ZeroRecipient")
    assert bridge.functions.nextDepositId().call() == 1


def test_a_deposit_of_an_address_without_code_is_refused(bridge):
    nothing = fresh_address()

    args = expect_error(bridge, bridge.functions.depositERC20(nothing, 10, SIDECHAIN_RECIPIENT), "NotAToken")

    assert args == {"token": nothing}
    assert bridge.functions.nextDepositId().call() == 1


def test_fee_on_transfer_tokens_are_credited_with_the_amount_received(w3, bridge):
    token, _ = deploy_contract(w3, "FeeOnTransferToken", [address_of(USER), 10**6], DEPLOYER)

    receipt = deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 1000)

    (event,) = bridge.events.Deposited().process_receipt(receipt, errors=DISCARD)
    assert event.args.amount == 990
    assert token.functions.balanceOf(bridge.address).call() == 990
    assert bridge.functions.lockedBalance(token.address).call() == 990


def test_a_fee_on_transfer_deposit_that_delivers_nothing_is_refused(w3, bridge):
    token, _ = deploy_contract(w3, "FeeOnTransferToken", [address_of(USER), 10**6], DEPLOYER)
    send_transaction(w3, token.functions.approve(bridge.address, 1), USER)

    # the fee rounds up: of a 1-unit transfer the bridge receives nothing
    expect_error(bridge, bridge.functions.depositERC20(token.address, 1, SIDECHAIN_RECIPIENT), "ZeroAmount")
    assert bridge.functions.nextDepositId().call() == 1
    assert not bridge.functions.tokenRegistered(token.address).call()


def test_exit_pays_eth_exactly_and_emits_exited(w3, bridge, l1):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, 5 * ETHER)
    recipient = fresh_address()
    withdrawal = Withdrawal(1, ETH, recipient, 2 * ETHER + 1)
    number, (proof, _) = land_withdrawals(l1, [withdrawal, Withdrawal(2, ETH, fresh_address(), 5)])

    receipt = exit_withdrawal(w3, bridge, DEPLOYER, withdrawal, number, proof)

    assert w3.eth.get_balance(recipient) == 2 * ETHER + 1
    assert w3.eth.get_balance(bridge.address) == 3 * ETHER - 1
    (event,) = bridge.events.Exited().process_receipt(receipt, errors=DISCARD)
    assert dict(event.args) == {"withdrawalId": 1, "token": "0x" + "00" * 20, "recipient": recipient,
                                "amount": 2 * ETHER + 1}
    assert bridge.functions.isExited(1).call() and not bridge.functions.isExited(2).call()


def test_exit_pays_an_erc20_exactly_and_emits_exited(w3, bridge, l1, token):
    deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 1000)
    recipient = fresh_address()
    withdrawal = Withdrawal(7, token.address, recipient, 400)
    number, (proof,) = land_withdrawals(l1, [withdrawal], padding=5)

    receipt = exit_withdrawal(w3, bridge, USER, withdrawal, number, proof)

    assert token.functions.balanceOf(recipient).call() == 400
    assert token.functions.balanceOf(bridge.address).call() == 600
    (event,) = bridge.events.Exited().process_receipt(receipt, errors=DISCARD)
    assert dict(event.args) == {"withdrawalId": 7, "token": token.address, "recipient": recipient, "amount": 400}
    assert bridge.functions.isExited(7).call()


def test_an_exit_with_a_bad_proof_is_refused(w3, bridge, l1):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    withdrawal = Withdrawal(1, ETH, fresh_address(), 100)
    number, (proof,) = land_withdrawals(l1, [withdrawal], padding=3)
    forged = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]

    expect_error(bridge, bridge.functions.exit(withdrawal.as_tuple(), number, forged), "InvalidWithdrawalProof")
    expect_error(bridge, bridge.functions.exit(withdrawal.as_tuple(), number, []), "InvalidWithdrawalProof")
    assert not bridge.functions.isExited(1).call()


def test_a_replayed_exit_is_refused_and_pays_once(w3, bridge, l1):
    """The Nomad-style replay: the same proven withdrawal submitted again, by anyone."""
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    recipient = fresh_address()
    withdrawal = Withdrawal(3, ETH, recipient, 1000)
    number, (proof,) = land_withdrawals(l1, [withdrawal])
    exit_withdrawal(w3, bridge, USER, withdrawal, number, proof)

    args = expect_error(bridge, bridge.functions.exit(withdrawal.as_tuple(), number, proof), "AlreadyExited",
                        sender=DEPLOYER)

    assert args == {"id": 3}
    assert w3.eth.get_balance(recipient) == 1000
    assert bridge.functions.lockedBalance(ETH).call() == ETHER - 1000


def test_a_replay_of_the_same_id_through_a_later_checkpoint_is_refused(w3, bridge, l1):
    """A compromised or buggy sidechain committing one withdrawal id twice still pays it once."""
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    withdrawal = Withdrawal(4, ETH, fresh_address(), 10)
    first, (proof,) = land_withdrawals(l1, [withdrawal])
    exit_withdrawal(w3, bridge, USER, withdrawal, first, proof)
    again = Withdrawal(4, ETH, fresh_address(), 10)
    second, (proof_again,) = land_withdrawals(l1, [again])

    assert expect_error(bridge, bridge.functions.exit(again.as_tuple(), second, proof_again), "AlreadyExited") == {
        "id": 4}


def test_an_exit_against_a_checkpoint_that_does_not_exist_is_refused(w3, bridge, l1):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    withdrawal = Withdrawal(1, ETH, fresh_address(), 100)
    number, (proof,) = land_withdrawals(l1, [withdrawal])

    for missing in (0, number + 1, 2**64 - 1):
        args = expect_error(bridge, bridge.functions.exit(withdrawal.as_tuple(), missing, proof), "UnknownCheckpoint")
        assert args == {"number": missing}
    assert not bridge.functions.isExited(1).call()


def test_a_withdrawal_with_an_altered_amount_or_recipient_is_refused(w3, bridge, l1):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    recipient = fresh_address()
    withdrawal = Withdrawal(1, ETH, recipient, 100)
    number, (proof,) = land_withdrawals(l1, [withdrawal], padding=2)
    altered = [Withdrawal(1, ETH, recipient, 101), Withdrawal(1, ETH, address_of(USER), 100),
               Withdrawal(2, ETH, recipient, 100)]

    for forged in altered:
        expect_error(bridge, bridge.functions.exit(forged.as_tuple(), number, proof), "InvalidWithdrawalProof")
    assert w3.eth.get_balance(recipient) == 0
    assert bridge.functions.lockedBalance(ETH).call() == ETHER


def test_a_reentrant_recipient_cannot_exit_again_during_its_payment(w3, bridge, l1):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    attacker, _ = deploy_contract(w3, "ReentrantRecipient", [], DEPLOYER)
    first = Withdrawal(1, ETH, attacker.address, 1000)
    second = Withdrawal(2, ETH, attacker.address, 2000)
    number, (proof_first, proof_second) = land_withdrawals(l1, [first, second])
    reentry = bridge.functions.exit(second.as_tuple(), number, proof_second)._encode_transaction_data()
    send_transaction(w3, attacker.functions.arm(bridge.address, reentry), DEPLOYER)

    exit_withdrawal(w3, bridge, USER, first, number, proof_first)

    received, reentered, succeeded, result = attacker.functions.outcome().call()
    assert reentered and not succeeded
    assert decode_error(bridge.abi, result).name == "ReentrancyGuardReentrantCall"
    assert received == 1000 and w3.eth.get_balance(attacker.address) == 1000
    assert bridge.functions.isExited(1).call() and not bridge.functions.isExited(2).call()
    assert bridge.functions.lockedBalance(ETH).call() == ETHER - 1000


def test_an_exit_above_what_was_deposited_of_the_token_is_refused(w3, bridge, l1, token):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, ETHER)
    deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 50)
    withdrawal = Withdrawal(1, token.address, fresh_address(), 51)
    number, (proof,) = land_withdrawals(l1, [withdrawal])

    args = expect_error(bridge, bridge.functions.exit(withdrawal.as_tuple(), number, proof), "ExceedsLockedBalance")

    assert args == {"token": token.address, "locked": 50, "amount": 51}


def test_locked_balance_tracks_deposits_minus_exits(w3, bridge, l1, token):
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, 10)
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, 5)
    deposit_erc20(w3, bridge, USER, token.address, SIDECHAIN_RECIPIENT, 300)
    withdrawals = [Withdrawal(1, ETH, fresh_address(), 4), Withdrawal(2, token.address, fresh_address(), 120),
                   Withdrawal(3, ETH, fresh_address(), 11)]
    number, proofs = land_withdrawals(l1, withdrawals)

    expected = [(11, 300), (11, 180), (0, 180)]
    for withdrawal, proof, (eth_left, token_left) in zip(withdrawals, proofs, expected):
        exit_withdrawal(w3, bridge, USER, withdrawal, number, proof)
        assert bridge.functions.lockedBalance(ETH).call() == eth_left
        assert bridge.functions.lockedBalance(token.address).call() == token_left
    assert w3.eth.get_balance(bridge.address) == 0
    assert token.functions.balanceOf(bridge.address).call() == 180


def test_the_withdrawal_leaf_matches_the_contracts(w3, bridge, l1):
    """The Python leaf (sidechain.chain.ozmerkle) and Withdrawal.as_tuple agree with exit's encoding:
    a single-leaf tree's root is the leaf, and an empty proof then verifies."""
    deposit_eth(w3, bridge, USER, SIDECHAIN_RECIPIENT, 10)
    withdrawal = Withdrawal(9, "0x" + "00" * 20, fresh_address().lower(), 10)
    number, (proof,) = land_withdrawals(l1, [withdrawal])

    assert proof == []
    exit_withdrawal(w3, bridge, USER, withdrawal, number, proof)
    assert contract_at(w3, "RootBridge", bridge.address).functions.isExited(9).call()
