"""debug_traceTransaction, debug_traceCall and eth_createAccessList: a transaction or a message run
again under a tracer, on the state it ran on (or would run on), keeping nothing.

A final block's transaction is traced on its parent's state after the block's earlier
transactions, replayed exactly as the block ran them. The call frames are go-ethereum's
`callTracer` (revm-inspectors builds them); a call to a built-in system contract, which runs in
Python, is one frame with its input, output or revert.
"""

from __future__ import annotations

import json

from ..chain.blocks import Block
from ..chain.execution import BlockEnv
from ..chain.state import StateReader
from ..chain.system import functions_at
from ..chain.transactions import Transaction
from ..errors import InvalidTransaction
from . import evm
from .block import state_after
from .calls import CallResult, halt_message, revert_reason, run_message

CALL_TRACER = "callTracer"


def _evm_env(env: BlockEnv, gas_left: int, *, priced: bool = True) -> evm.EvmEnv:
    return evm.EvmEnv(env.chain_id, env.number, env.timestamp, env.proposer, env.base_fee if priced else 0, gas_left,
                      env.block_hash or (lambda n: bytes(32)))


def _system_frame(message: evm.EvmCall, result: CallResult) -> dict:
    """The one frame of a system-contract call, in callTracer's shape."""
    frame = {"type": "CALL", "from": "0x" + message.sender.hex(), "to": "0x" + message.to.hex(), "value": hex(message.value),
             "gas": hex(message.gas), "gasUsed": hex(result.gas_used), "input": "0x" + message.data.hex()}
    if result.success:
        frame["output"] = "0x" + result.output.hex()
    else:
        frame["error"] = "execution reverted"
        frame["output"] = "0x" + result.output.hex()
        reason = revert_reason(result.output)
        if reason is not None:
            frame["revertReason"] = reason
    return frame


def _traced(state: StateReader, env: BlockEnv, message: evm.EvmCall, config: dict, gas_left: int, *, call_mode: bool) -> dict:
    if message.to is not None and functions_at(state, message.to) is not None:
        return _system_frame(message, run_message(state, env, message))
    outcome, frame = evm.trace(state, _evm_env(env, gas_left, priced=not call_mode or message.gas_price > 0), message,
                               CALL_TRACER, json.dumps(config), call_mode=call_mode)
    if isinstance(outcome, InvalidTransaction):
        raise outcome
    return json.loads(frame)


def trace_transaction(parent_state: StateReader, env: BlockEnv, block: Block, index: int, config: dict) -> dict:
    """The call frames of transaction `index` of the final block `block`, whose parent's state is
    `parent_state` and whose environment is `env`."""
    state, gas_used = state_after(parent_state, env, block.transactions[:index])
    tx: Transaction = block.transactions[index]
    return _traced(state, env, evm.EvmCall.of(tx), config, env.gas_limit - gas_used, call_mode=False)


def trace_call(state: StateReader, env: BlockEnv, message: evm.EvmCall, config: dict) -> dict:
    """The call frames of `message` run as eth_call runs it."""
    return _traced(state, env, message, config, max(env.gas_limit, message.gas), call_mode=True)


def create_access_list(state: StateReader, env: BlockEnv, message: evm.EvmCall) -> dict:
    """eth_createAccessList: the storage `message` touches outside its sender, recipient and the
    precompiles, and the gas it uses with that list (go-ethereum's answer, `error` if it fails)."""
    if message.to is not None and functions_at(state, message.to) is not None:
        result = run_message(state, env, message)
        answer = {"accessList": [], "gasUsed": hex(result.gas_used)}
    else:
        outcome, items = evm.trace(state, _evm_env(env, max(env.gas_limit, message.gas), priced=message.gas_price > 0), message,
                                   "accessList", call_mode=True)
        if isinstance(outcome, InvalidTransaction):
            raise outcome
        result = CallResult(outcome.success, outcome.gas_used, outcome.output, outcome.halt)
        answer = {"accessList": [{"address": "0x" + address.hex(), "storageKeys": ["0x" + k.hex() for k in keys]}
                                 for address, keys in items],
                  "gasUsed": hex(result.gas_used)}
    if not result.success:
        answer["error"] = halt_message(result.halt) if result.halt else "execution reverted"
    return answer
