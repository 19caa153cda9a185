"""The system contracts at fixed addresses, called with ordinary signed transactions and the
Solidity ABI, so standard tools can call them.

- CHECKPOINT_SIGNATURES_ADDRESS: validators post their checkpoint signatures
  (contracts/CheckpointSignatures.sol, read by checkpoint_signatures.py).
- VALIDATOR_SET_ADDRESS: validators vote validators in and out (contracts/ValidatorSet.sol, read
  by validator_set.py); the node's system call `endBlock` switches sets at checkpoint boundaries.
- BRIDGE_ADDRESS: deposits affirmed by the validators are minted, withdrawals burn (bridge.py).
  The bridge is still a built-in in Python (see base.py): transactions to it do not enter the
  EVM, and an EVM contract cannot call it yet.
- token_address(l1_token): the ERC-20 of each bridged L1 token (tokens.py), an OpenZeppelin
  contract (contracts/BridgedToken.sol) that the EVM runs; only the bridge mints and burns.

A call runs in a child overlay of the block's state: a revert drops its writes (the value
transfer included), keeps the gas it cost and yields status 0 and Error(string) revert data, as a
reverted call does on Ethereum. eth_call and eth_estimateGas run the very same code.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode

from ...crypto import keccak256
from ..blocks import Log
from ..contracts import abi
from ..state import Account, StateOverlay, StateReader
from ..validators import ValidatorSet
from . import bridge, checkpoint_signatures, tokens, validator_set
from .base import SYSTEM_ACCOUNT, SYSTEM_CODE, SYSTEM_CODE_HASH, Call, CallContext, Function, Revert, contract_abi
from .checkpoint_signatures import (
    CHECKPOINT_SIGNATURES_ADDRESS, CHECKPOINT_SIGNED_TOPIC, SUBMIT_SIGNATURE_GAS, decode_checkpoint_signed,
    encode_submit_signature,
)
from .bridge import BRIDGE_ADDRESS
from .tokens import token_address
from .validator_set import END_BLOCK_CALLDATA, VALIDATOR_SET_ADDRESS

__all__ = [
    "BRIDGE_ADDRESS", "CHECKPOINT_SIGNATURES_ADDRESS", "CHECKPOINT_SIGNED_TOPIC", "END_BLOCK_CALLDATA", "SUBMIT_SIGNATURE_GAS",
    "SYSTEM_CODE", "SYSTEM_CODE_HASH", "VALIDATOR_SET_ADDRESS", "CallContext", "Outcome", "Revert", "decode_checkpoint_signed",
    "encode_submit_signature", "ends_range", "functions_at", "genesis_state", "run_call", "system_contracts", "token_address",
]

FIXED_CONTRACTS: dict[bytes, dict[bytes, Function]] = {BRIDGE_ADDRESS: bridge.FUNCTIONS}
"""The built-ins still in Python, by address."""
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


def ends_range(block_number: int, checkpoint_interval: int) -> bool:
    """Whether the block ends a checkpoint range: after its transactions the node calls
    ValidatorSet.endBlock() (END_BLOCK_CALLDATA) from the system address."""
    return checkpoint_interval > 0 and block_number % checkpoint_interval == 0


def system_contracts() -> dict[str, dict]:
    """Every system contract's address (or, for bridged tokens, how to find it) and JSON ABI."""
    from eth_utils import to_checksum_address

    return {
        "bridge": {"address": to_checksum_address(BRIDGE_ADDRESS), "abi": contract_abi(bridge.FUNCTIONS, bridge.EVENTS)},
        "validatorSet": {"address": to_checksum_address(VALIDATOR_SET_ADDRESS), "abi": abi("ValidatorSet")},
        "checkpointSignatures": {"address": to_checksum_address(CHECKPOINT_SIGNATURES_ADDRESS), "abi": abi("CheckpointSignatures")},
        "bridgedToken": {"address": None, "addressOf": "bridge.tokenFor(l1Token)", "abi": tokens.token_abi()},
    }


def genesis_state(validators: ValidatorSet, *, checkpoint_interval: int, genesis_supply: int = 0
                  ) -> tuple[dict[bytes, Account], dict[tuple[bytes, bytes], bytes], dict[bytes, bytes]]:
    """The system contracts' accounts, storage and code (by hash) at genesis. `genesis_supply` is the
    sum of the genesis alloc's balances (locked in RootBridge on L1), which the bridge lets exit
    besides deposits."""
    accounts = {address: SYSTEM_ACCOUNT for address in FIXED_CONTRACTS}
    code = {SYSTEM_CODE_HASH: SYSTEM_CODE}
    for address, runtime in ((VALIDATOR_SET_ADDRESS, validator_set.code()), (CHECKPOINT_SIGNATURES_ADDRESS, checkpoint_signatures.code())):
        code_hash = keccak256(runtime)
        accounts[address] = Account(nonce=1, code_hash=code_hash)  # EIP-161: contracts start at nonce 1
        code[code_hash] = runtime
    storage = {(VALIDATOR_SET_ADDRESS, k): v for k, v in validator_set.genesis_storage(validators, checkpoint_interval).items()}
    storage.update({(BRIDGE_ADDRESS, k): v for k, v in bridge.genesis_storage(genesis_supply).items()})
    return accounts, storage, code
