"""debug_traceTransaction, debug_traceCall and eth_createAccessList: a transaction or a message run
again under a tracer, on the state it ran on (or would run on), keeping nothing.

A final block's transaction is traced on its parent's state after the block's earlier
transactions, replayed exactly as the block ran them. The call frames are go-ethereum's
`callTracer` (revm-inspectors builds them).
"""

from __future__ import annotations

import json

from ..chain.blocks import Block
from ..chain.execution import BlockEnv
from ..chain.state import StateReader
from ..chain.transactions import Transaction
from ..errors import InvalidTransaction
from . import evm
from .block import state_after
from .calls import CallResult, halt_message

CALL_TRACER = "callTracer"


def _evm_env(env: BlockEnv, gas_left: int, *, priced: bool = True) -> evm.EvmEnv:
    return evm.EvmEnv(env.chain_id, env.number, env.timestamp, env.proposer, env.base_fee if priced else 0, gas_left,
                      env.hash_of)


def _traced(state: StateReader, env: BlockEnv, message: evm.EvmCall, config: dict, gas_left: int, *, call_mode: bool) -> dict:
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
    outcome, items = evm.trace(state, _evm_env(env, max(env.gas_limit, message.gas), priced=message.gas_price > 0), message,
                               "accessList", call_mode=True)
    if isinstance(outcome, InvalidTransaction):
        raise outcome
    answer = {"accessList": [{"address": "0x" + address.hex(), "storageKeys": ["0x" + k.hex() for k in keys]}
                             for address, keys in items],
              "gasUsed": hex(outcome.gas_used)}
    result = CallResult(outcome.success, outcome.gas_used, outcome.output, outcome.halt)
    if not result.success:
        answer["error"] = halt_message(result.halt) if result.halt else "execution reverted"
    return answer
