"""debug_traceTransaction, debug_traceCall (go-ethereum's callTracer) and eth_createAccessList:
what explorers, debuggers and wallets ask of a node to see inside a transaction."""

from __future__ import annotations

from ..errors import UnknownTransaction
from ..execution import tracing
from .calls import env_of, message
from .codec import BlockId, CallArgs
from .errors import InvalidParams

_CALL_CONFIG_KEYS = {"onlyTopCall", "withLog"}


def _call_tracer_config(options: object) -> dict:
    """The tracerConfig of {"tracer": "callTracer", "tracerConfig": {...}}; other tracers are refused."""
    if options is None:
        options = {}
    if type(options) is not dict:
        raise InvalidParams(f"invalid argument (trace options): expected an object, got {options!r}")
    tracer = options.get("tracer")
    if tracer != tracing.CALL_TRACER:
        raise InvalidParams(f"invalid argument (trace options): tracer {tracer!r} is not supported, use \"callTracer\"")
    config = options.get("tracerConfig") or {}
    if type(config) is not dict or not set(config) <= _CALL_CONFIG_KEYS or any(type(v) is not bool for v in config.values()):
        raise InvalidParams(f"invalid argument (tracerConfig): expected {{onlyTopCall, withLog}} booleans, got {config!r}")
    return config


def debug_traceTransaction(ctx, tx_hash: bytes, options: object) -> dict:
    config = _call_tracer_config(options)
    found = ctx.view.locate(tx_hash)
    if found is None:
        raise UnknownTransaction(f"transaction not found: 0x{tx_hash.hex()}")
    block, index = found
    chain, genesis = ctx.chain, ctx.chain.genesis
    env = env_of(block.header, genesis.chain_id, genesis.checkpoint_interval, chain.block_hash)
    return tracing.trace_transaction(chain.state(block.number - 1), env, block, index, config)


def debug_traceCall(ctx, args: CallArgs, block: BlockId, options: object) -> dict:
    config = _call_tracer_config(options)
    state, env = ctx.call_context(block)
    return tracing.trace_call(state, env, message(args, ctx.gas_cap), config)


def eth_createAccessList(ctx, args: CallArgs, block: BlockId) -> dict:
    state, env = ctx.call_context(block)
    return tracing.create_access_list(state, env, message(args, ctx.gas_cap))
