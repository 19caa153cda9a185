"""eth_call and eth_estimateGas at the edge: the RPC's call object becomes a message, the
requested block its environment (go-ethereum runs a call in the context of the block whose state
it reads), and execution/calls.py runs it."""

from __future__ import annotations

from ..chain.blocks import Header
from ..chain.execution import BlockEnv
from ..chain.state import StateReader
from ..chain.transactions import DYNAMIC_FEE_TX, LEGACY_TX
from ..execution import calls
from ..execution.evm import EvmCall
from .codec import CallArgs

CALL_GAS_CAP = calls.CALL_GAS_CAP


def message(args: CallArgs, gas_cap: int = CALL_GAS_CAP) -> EvmCall:
    """The message of `args`: gas defaults to the cap and never exceeds it; no price means no fee."""
    gas = gas_cap if args.gas is None else min(args.gas, gas_cap)
    if args.max_fee_per_gas is not None or args.max_priority_fee_per_gas is not None:
        tip = args.max_priority_fee_per_gas or 0
        cap = args.max_fee_per_gas if args.max_fee_per_gas is not None else tip
        return EvmCall(args.sender or bytes(20), args.to, gas, args.value, args.data, args.nonce or 0, cap, tip,
                       args.access_list, DYNAMIC_FEE_TX)
    return EvmCall(args.sender or bytes(20), args.to, gas, args.value, args.data, args.nonce or 0, args.gas_price or 0, None,
                   args.access_list, LEGACY_TX if not args.access_list else 1)


def env_of(header: Header, chain_id: int, checkpoint_interval: int, block_hash) -> BlockEnv:
    return BlockEnv(chain_id, header.number, header.timestamp, header.proposer, header.base_fee, header.gas_limit,
                    checkpoint_interval, block_hash)


def call(args: CallArgs, state: StateReader, env: BlockEnv, gas_cap: int = CALL_GAS_CAP) -> bytes:
    return calls.call(state, env, message(args, gas_cap))


def estimate_gas(args: CallArgs, state: StateReader, env: BlockEnv, gas_cap: int = CALL_GAS_CAP) -> int:
    allowance = min(args.gas if args.gas is not None else env.gas_limit, gas_cap)
    msg = message(args, gas_cap)
    return calls.estimate_gas(state, env, EvmCall(msg.sender, msg.to, allowance, msg.value, msg.data, msg.nonce, msg.gas_price,
                                                  msg.priority_fee, msg.access_list, msg.tx_type))
