"""eth_call and eth_estimateGas without an EVM.

An ordinary address has no code: a call returns empty output and a transaction costs exactly its
intrinsic gas. The system contracts (the bridge, each bridged ERC-20 ledger, the validator set,
checkpoint signatures) run here through the very code the block executes (`chain.system.run_call`),
on a throw-away overlay of the requested state. A revert answers as go-ethereum does: code 3,
"execution reverted: <reason>", and the Error(string) revert data, which web3.py and ethers decode.
"""

from __future__ import annotations

from ..chain.state import StateOverlay, StateReader
from ..chain.system import CallContext, Outcome, functions_at, run_call
from ..chain.transactions import intrinsic_gas
from ..errors import ContractCreationNotSupported, ExecutionReverted, InsufficientFunds, IntrinsicGasTooLow
from .codec import CallArgs

CALL_GAS_CAP = 50_000_000
"""Gas an eth_call or eth_estimateGas may use when the caller gives none (go-ethereum's RPCGasCap)."""


def _require_recipient(args: CallArgs) -> bytes:
    if args.to is None:
        raise ContractCreationNotSupported(
            "contract creation is not supported: this chain has no EVM; give the call a 'to' address"
        )
    return args.to


def _run(args: CallArgs, state: StateReader, block_number: int, checkpoint_interval: int) -> Outcome | None:
    to = _require_recipient(args)
    functions = functions_at(state, to)
    if functions is None:
        return None
    ctx = CallContext(args.sender or bytes(20), to, args.value, args.data, block_number, checkpoint_interval, read_only=True)
    gas = (args.gas if args.gas is not None else CALL_GAS_CAP) - intrinsic_gas(args.data, args.access_list)
    outcome = run_call(StateOverlay(state), ctx, functions, max(gas, 0))
    if not outcome.success:
        raise ExecutionReverted(outcome.revert_reason or "", outcome.output)
    return outcome


def call(args: CallArgs, state: StateReader, *, block_number: int, checkpoint_interval: int) -> bytes:
    """eth_call: the output of a read-only call at the state after block `block_number - 1`."""
    outcome = _run(args, state, block_number, checkpoint_interval)
    return b"" if outcome is None else outcome.output


def estimate_gas(args: CallArgs, state: StateReader, *, block_number: int, checkpoint_interval: int) -> int:
    """eth_estimateGas: intrinsic gas plus a system contract's execution gas; a call that would
    revert is an error, as in go-ethereum.

    With `from` and a value, the sender must hold the value; with a gas allowance, it must cover
    the estimate.
    """
    if args.sender is not None and args.value:
        balance = state.get_account(args.sender).balance
        if balance < args.value:
            raise InsufficientFunds(
                f"insufficient funds for transfer: address 0x{args.sender.hex()} have {balance} want {args.value}"
            )
    gas = intrinsic_gas(args.data, args.access_list)
    outcome = _run(args, state, block_number, checkpoint_interval)
    if outcome is not None:
        gas += outcome.gas
    if args.gas is not None and args.gas < gas:
        raise IntrinsicGasTooLow(f"gas required exceeds allowance ({args.gas}): needed {gas}")
    return gas
