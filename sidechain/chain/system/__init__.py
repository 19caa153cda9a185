"""Built-in contracts at fixed system addresses, called with ordinary signed transactions and the
Solidity ABI, so standard tools can call them. They run in Python beside the EVM (see base.py);
transactions to them do not enter the EVM, and an EVM contract cannot call them yet.

- CHECKPOINT_SIGNATURES_ADDRESS: validators post their checkpoint signatures (checkpoint_signatures.py).
- VALIDATOR_SET_ADDRESS: validators vote validators in and out (validator_set.py).
- BRIDGE_ADDRESS: deposits affirmed by the validators are minted, withdrawals burn (bridge.py).
- token_address(l1_token): the ERC-20 of each bridged L1 token (tokens.py), an OpenZeppelin
  contract (contracts/BridgedToken.sol) that the EVM runs; only the bridge mints and burns.

A call runs in a child overlay of the block's state: a revert drops its writes (the value
transfer included), keeps the gas it cost and yields status 0 and Error(string) revert data, as a
reverted call does on Ethereum. eth_call and eth_estimateGas run the very same code.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode

from ..blocks import Log
from ..state import Account, StateOverlay, StateReader
from ..validators import ValidatorSet
from . import bridge, checkpoint_signatures, tokens, validator_set
from .base import SYSTEM_ACCOUNT, SYSTEM_CODE, SYSTEM_CODE_HASH, Call, CallContext, Function, Revert, contract_abi
from .checkpoint_signatures import (
    CHECKPOINT_SIGNATURES_ADDRESS, CHECKPOINT_SIGNED_TOPIC, SYSTEM_CALL_GAS, checkpoint_signed_log,
    decode_checkpoint_signed, encode_submit_signature,
)
from .bridge import BRIDGE_ADDRESS
from .tokens import token_address
from .validator_set import VALIDATOR_SET_ADDRESS

__all__ = [
    "BRIDGE_ADDRESS", "CHECKPOINT_SIGNATURES_ADDRESS", "CHECKPOINT_SIGNED_TOPIC", "SYSTEM_CALL_GAS", "SYSTEM_CODE", "SYSTEM_CODE_HASH",
    "VALIDATOR_SET_ADDRESS", "CallContext", "Outcome", "Revert", "checkpoint_signed_log", "decode_checkpoint_signed",
    "encode_submit_signature", "end_block", "functions_at", "genesis_state", "run_call", "system_contracts", "token_address",
]

FIXED_CONTRACTS: dict[bytes, dict[bytes, Function]] = {
    CHECKPOINT_SIGNATURES_ADDRESS: checkpoint_signatures.FUNCTIONS,
    VALIDATOR_SET_ADDRESS: validator_set.FUNCTIONS,
    BRIDGE_ADDRESS: bridge.FUNCTIONS,
}
UNKNOWN_FUNCTION_GAS = 2_000


@dataclass(frozen=True, slots=True)
class Outcome:
    success: bool
    gas: int
    """Execution gas on top of the intrinsic gas."""
    logs: tuple[Log, ...] = ()
    output: bytes = b""
    """The ABI-encoded return values, or the Error(string) revert data."""

    @property
    def revert_reason(self) -> str | None:
        if self.success:
            return None
        return decode(["string"], self.output[4:])[0]


def functions_at(state: StateReader, address: bytes) -> dict[bytes, Function] | None:
    """The function table of the built-in contract at `address`, or None for any other account
    (the EVM runs it). `state` is there for built-ins that may one day live at other addresses."""
    return FIXED_CONTRACTS.get(address)


def run_call(state: StateOverlay, ctx: CallContext, functions: dict[bytes, Function], gas_available: int) -> Outcome:
    """Run one call to a system contract; its writes land in `state` only if it succeeds."""
    fn = functions.get(ctx.data[:4]) if len(ctx.data) >= 4 else None
    gas = fn.gas if fn is not None else UNKNOWN_FUNCTION_GAS
    if gas > gas_available:
        return Outcome(False, gas_available, (), Revert(f"out of gas: the call needs {gas}, {gas_available} left").data())
    call = Call(ctx, state.child())
    try:
        if fn is None:
            raise Revert(f"no function with selector 0x{ctx.data[:4].hex()} at 0x{ctx.to.hex()}"
                         if ctx.data else f"0x{ctx.to.hex()} is a system contract and takes no plain transfers")
        if ctx.value:
            if not fn.payable:
                raise Revert(f"{fn.signature} is not payable")
            _move_value(call.state, ctx.sender, ctx.to, ctx.value)
        output = fn.encode_outputs(fn.handler(call, *fn.decode_inputs(ctx.data[4:])))
    except Revert as exc:
        return Outcome(False, gas, (), exc.data())
    state.absorb(call.state)
    return Outcome(True, gas, tuple(call.logs), output)


def _move_value(state: StateOverlay, sender: bytes, to: bytes, value: int) -> None:
    payer = state.get_account(sender)
    if payer.balance < value:
        raise Revert(f"insufficient balance for the call's value: have {payer.balance}, want {value}")
    state.set_account(sender, Account(payer.nonce, payer.balance - value, payer.storage_root, payer.code_hash))
    payee = state.get_account(to)
    state.set_account(to, Account(payee.nonce, payee.balance + value, payee.storage_root, payee.code_hash))


def end_block(state: StateOverlay, block_number: int, checkpoint_interval: int) -> None:
    """What every block does after its transactions (the validator-set switch at a checkpoint boundary)."""
    validator_set.end_block(state, block_number, checkpoint_interval)


def system_contracts() -> dict[str, dict]:
    """Every system contract's address (or, for bridged tokens, how to find it) and JSON ABI."""
    from eth_utils import to_checksum_address

    return {
        "bridge": {"address": to_checksum_address(BRIDGE_ADDRESS), "abi": contract_abi(bridge.FUNCTIONS, bridge.EVENTS)},
        "validatorSet": {"address": to_checksum_address(VALIDATOR_SET_ADDRESS),
                         "abi": contract_abi(validator_set.FUNCTIONS, validator_set.EVENTS)},
        "checkpointSignatures": {"address": to_checksum_address(CHECKPOINT_SIGNATURES_ADDRESS),
                                 "abi": contract_abi(checkpoint_signatures.FUNCTIONS, checkpoint_signatures.EVENTS)},
        "bridgedToken": {"address": None, "addressOf": "bridge.tokenFor(l1Token)", "abi": tokens.token_abi()},
    }


def genesis_state(validators: ValidatorSet, *, genesis_supply: int = 0
                  ) -> tuple[dict[bytes, Account], dict[tuple[bytes, bytes], bytes]]:
    """The system contracts' accounts and storage at genesis. `genesis_supply` is the sum of the
    genesis alloc's balances (locked in RootBridge on L1), which the bridge lets exit besides deposits."""
    accounts = {address: SYSTEM_ACCOUNT for address in FIXED_CONTRACTS}
    storage = {(VALIDATOR_SET_ADDRESS, k): v for k, v in validator_set.genesis_storage(validators).items()}
    storage.update({(BRIDGE_ADDRESS, k): v for k, v in bridge.genesis_storage(genesis_supply).items()})
    return accounts, storage
