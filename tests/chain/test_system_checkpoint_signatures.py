"""submitCheckpointSignature at the checkpoint system address: a validator's signature of a final
range becomes a CheckpointSigned log; anything else is included as a failed call that pays its gas."""

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from sidechain.chain.execution import BlockEnv
from sidechain.execution.block import execute_transactions
from sidechain.chain.state import Account as StateAccount
from sidechain.chain.state import MemoryState
from sidechain.chain.system import (
    CHECKPOINT_SIGNATURES_ADDRESS, SUBMIT_SIGNATURE_GAS, decode_checkpoint_signed, encode_submit_signature, genesis_state,
)
from sidechain.chain.system.checkpoint_signatures import signatures_of
from sidechain.chain.validators import ValidatorSet
from sidechain.chain.transactions import decode_transaction, intrinsic_gas

CHAIN_ID = 7070
VALIDATOR = Account.from_key("0x" + "61" * 32)
OUTSIDER = Account.from_key("0x" + "62" * 32)
SIGNATURE = b"\x01" * 65
BASE_FEE = 10**9


def call(account, data: bytes, nonce: int = 0):
    raw = account.sign_transaction({"to": to_checksum_address(CHECKPOINT_SIGNATURES_ADDRESS), "value": 0, "gas": SUBMIT_SIGNATURE_GAS, "data": data,
                                    "maxFeePerGas": 2 * BASE_FEE, "maxPriorityFeePerGas": 0, "nonce": nonce,
                                    "chainId": CHAIN_ID, "type": 2}).raw_transaction
    return decode_transaction(bytes(raw), CHAIN_ID)


def apply(state: MemoryState, result) -> None:
    state.apply(result.changes, {(a, k): v for a, words in result.storage.items() for k, v in words.items()}, result.code)


def after_checkpoint_1() -> MemoryState:
    """A state after block 16, the last of checkpoint 1 (ranges of 16), whose end recorded the set that signs it."""
    accounts, storage, code = genesis_state(ValidatorSet((bytes.fromhex(VALIDATOR.address[2:]),), (1,)), checkpoint_interval=16)
    accounts.update({bytes.fromhex(a.address[2:]): StateAccount(balance=10**18) for a in (VALIDATOR, OUTSIDER)})
    state = MemoryState(accounts, storage, code)
    apply(state, execute_transactions(state, BlockEnv(CHAIN_ID, 16, 1, b"\x00" * 20, BASE_FEE, 30_000_000, 16), [],
                                      skip_invalid=False))
    return state


def run(tx, block_number: int = 17):
    env = BlockEnv(CHAIN_ID, block_number, 1, b"\x00" * 20, BASE_FEE, 30_000_000, 16)
    result = execute_transactions(after_checkpoint_1(), env, [tx], skip_invalid=False)
    return result.receipts[0], result


def test_a_validator_signature_of_a_final_range_becomes_a_log():
    tx = call(VALIDATOR, encode_submit_signature(1, SIGNATURE))
    receipt, result = run(tx, block_number=17)  # checkpoint 1 = blocks 1..16, final before block 17
    assert receipt.status == 1
    assert intrinsic_gas(tx.data) < receipt.gas_used < SUBMIT_SIGNATURE_GAS
    assert [decode_checkpoint_signed(log) for log in receipt.logs] == [(1, bytes.fromhex(VALIDATOR.address[2:]), SIGNATURE)]
    assert result.logs_bloom != b"\x00" * 256


@pytest.mark.parametrize("who, data, block_number, why", [
    (OUTSIDER, encode_submit_signature(1, SIGNATURE), 17, "not a validator"),
    (VALIDATOR, encode_submit_signature(1, SIGNATURE), 16, "range not final yet"),
    (VALIDATOR, encode_submit_signature(0, SIGNATURE), 17, "there is no checkpoint 0"),
    (VALIDATOR, encode_submit_signature(1, b"\x01" * 64), 17, "not a 65-byte signature"),
    (VALIDATOR, b"\xde\xad\xbe\xef" + b"\x00" * 64, 17, "unknown selector"),
    (VALIDATOR, encode_submit_signature(1, SIGNATURE)[:40], 17, "truncated arguments"),
])
def test_a_call_that_breaks_a_rule_is_included_as_failed_and_pays_its_gas(who, data, block_number, why):
    tx = call(who, data)
    receipt, result = run(tx, block_number)
    assert receipt.status == 0, why
    assert receipt.logs == ()
    sender = result.changes[bytes.fromhex(who.address[2:])]
    assert sender.nonce == 1 and sender.balance == 10**18 - receipt.gas_used * BASE_FEE


def test_signatures_are_kept_in_storage_and_a_later_post_replaces_the_earlier_one():
    first = call(VALIDATOR, encode_submit_signature(1, SIGNATURE))
    corrected = call(VALIDATOR, encode_submit_signature(1, b"\x02" * 65), nonce=1)
    state = after_checkpoint_1()
    env = BlockEnv(CHAIN_ID, 17, 1, b"\x00" * 20, BASE_FEE, 30_000_000, 16)
    apply(state, execute_transactions(state, env, [first, corrected], skip_invalid=False))
    assert signatures_of(state, 1) == {bytes.fromhex(VALIDATOR.address[2:]): b"\x02" * 65}
    assert signatures_of(state, 2) == {}
