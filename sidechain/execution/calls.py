"""eth_call and eth_estimateGas: a message run on a throw-away copy of a state, as go-ethereum runs it.

A message runs in the EVM in call mode (no nonce check; without a gas price, no fee and a zero base
fee, as go-ethereum's eth_call does). A revert answers as go-ethereum does: code 3,
"execution reverted: <reason>" and the revert data, which web3.py and ethers decode (Error(string)
and custom errors alike). An exceptional halt (out of gas, an invalid opcode) is an error with
go-ethereum's wording. Gas is capped (go-ethereum's RPCGasCap), which also bounds the time a call
can take.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from eth_abi import decode
from eth_abi.exceptions import DecodingError

from ..chain.execution import BlockEnv
from ..chain.state import StateReader
from ..crypto import keccak256
from ..errors import CallFailed, ExecutionReverted, InsufficientFunds, IntrinsicGasTooLow, InvalidTransaction
from . import evm

ERROR_SELECTOR = keccak256(b"Error(string)")[:4]
CALL_GAS_CAP = 50_000_000
"""Gas an eth_call or eth_estimateGas may use at most (go-ethereum's RPCGasCap default)."""

_HALTS = {
    "OutOfGas": "out of gas", "InvalidFEOpcode": "invalid opcode: INVALID", "OpcodeNotFound": "invalid opcode",
    "InvalidJump": "invalid jump destination", "StackUnderflow": "stack underflow", "StackOverflow": "stack limit reached",
    "CallTooDeep": "max call depth exceeded", "CreateCollision": "contract address collision",
    "CreateContractSizeLimit": "max code size exceeded", "CreateContractStartingWithEF": "invalid code: must not begin with 0xef",
    "CreateInitCodeSizeLimit": "max initcode size exceeded", "OutOfFunds": "insufficient balance for transfer",
    "StateChangeDuringStaticCall": "write protection", "CallNotAllowedInsideStatic": "write protection",
    "PrecompileError": "precompile failed", "NonceOverflow": "nonce uint64 overflow", "OutOfOffset": "return data out of bounds",
    "Timeout": f"execution aborted (timeout = {evm.CALL_DEADLINE_MS // 1000}s)",
}


@dataclass(frozen=True, slots=True)
class CallResult:
    """A message that ran to its end: returned, reverted or halted."""

    success: bool
    gas_used: int
    output: bytes
    halt: str | None = None


def revert_reason(data: bytes) -> str | None:
    """The reason of a Solidity `require`/`revert("...")` (Error(string)); None for other data."""
    if data[:4] != ERROR_SELECTOR:
        return None
    try:
        return decode(["string"], data[4:])[0]
    except (DecodingError, ValueError, OverflowError):
        return None


def halt_message(halt: str) -> str:
    """go-ethereum's words for an exceptional halt ("OutOfGas(Basic)" -> "out of gas")."""
    return _HALTS.get(halt.split("(")[0], halt)


def run_message(state: StateReader, env: BlockEnv, message: evm.EvmCall) -> CallResult:
    """Run `message` at `state` without keeping anything; raises InvalidTransaction if it could not
    run at all (the sender cannot pay, the gas is below the intrinsic cost)."""
    priced = message.gas_price > 0
    evm_env = evm.EvmEnv(env.chain_id, env.number, env.timestamp, env.proposer, env.base_fee if priced else 0,
                         max(env.gas_limit, message.gas), env.hash_of)
    outcome = evm.simulate(state, evm_env, message)
    if isinstance(outcome, InvalidTransaction):
        raise outcome
    return CallResult(outcome.success, outcome.gas_used, outcome.output, outcome.halt)


def _raise_failure(result: CallResult) -> None:
    if result.halt is not None:
        raise CallFailed(halt_message(result.halt))
    raise ExecutionReverted(revert_reason(result.output) or "", result.output)


def call(state: StateReader, env: BlockEnv, message: evm.EvmCall) -> bytes:
    """eth_call: the return data, or ExecutionReverted / CallFailed."""
    result = run_message(state, env, message)
    if not result.success:
        _raise_failure(result)
    return result.output


def estimate_gas(state: StateReader, env: BlockEnv, message: evm.EvmCall) -> int:
    """eth_estimateGas: the least gas limit under which `message` succeeds, found by binary search
    as go-ethereum does (a first run at the allowance, then between its gas used and the allowance).
    `message.gas` is the allowance; a message that fails even there is an error."""
    allowance = message.gas
    if message.value:
        balance = state.get_account(message.sender).balance
        if balance < message.value:
            raise InsufficientFunds.for_transfer(message.sender, balance, message.value)
    try:
        first = run_message(state, env, message)
    except IntrinsicGasTooLow:
        raise CallFailed(f"gas required exceeds allowance ({allowance})") from None
    if not first.success:
        if first.halt is not None and first.halt.startswith("OutOfGas"):
            raise CallFailed(f"gas required exceeds allowance ({allowance})")
        _raise_failure(first)
    lo, hi = first.gas_used - 1, allowance
    # Most messages need their gas used plus what the 63/64 rule holds back for calls (EIP-150):
    # try that first, as go-ethereum does, to skip most of the search.
    optimistic = min((first.gas_used + 2300) * 64 // 63, hi)
    if optimistic < hi:
        if _succeeds(state, env, replace(message, gas=optimistic)):
            hi = optimistic
        else:
            lo = optimistic
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _succeeds(state, env, replace(message, gas=mid)):
            hi = mid
        else:
            lo = mid
    return hi


def _succeeds(state: StateReader, env: BlockEnv, message: evm.EvmCall) -> bool:
    try:
        return run_message(state, env, message).success
    except InvalidTransaction:
        return False  # below the intrinsic gas
