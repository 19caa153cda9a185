"""The EVM (revm, Cancun) as the executor sees it: run a batch of transactions against a state.

revm lives in the Rust extension `sidechain.evm._revm`, built by `scripts/bootstrap`; this module is
the only one that talks to it. revm reads the state through `_StateView`'s four callbacks (each
account, code and slot crosses once per batch) and hands back each transaction's outcome and the
batch's net writes, which land in the caller's `StateOverlay`: the tries and the store take them
from there as they take any other write. A transaction that cannot be included raises the
`InvalidTransaction` subclass of its rule, worded as go-ethereum words it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..chain.blocks import Log
from ..chain.state import EMPTY_CODE_HASH, EMPTY_TRIE_ROOT, Account, StateOverlay, StateReader
from ..chain.transactions import Transaction
from ..errors import (
    EvmFailure, FeeCapTooLow, GasLimitExceeded, InitcodeTooLarge, InsufficientFunds, IntrinsicGasTooLow, InvalidTransaction,
    NonceTooHigh, NonceTooLow, SenderNotEoa, TipAboveFeeCap, WrongChainId,
)

try:
    from ..evm import _revm
except ImportError as exc:  # pragma: no cover - a checkout without the built extension
    raise ImportError(f"the EVM extension is not built ({exc}): run scripts/bootstrap") from None

SPEC = _revm.SPEC
"""The fork the chain runs: every opcode, precompile and gas rule of it."""
_U128_MAX = 2**128 - 1
CALL_DEADLINE_MS = 5_000
"""How long one eth_call may run (go-ethereum's --rpc.evmtimeout): the gas cap bounds it too."""
_ZERO_WORD = bytes(32)


@dataclass(frozen=True, slots=True)
class EvmEnv:
    """The block a batch runs in, as the EVM sees it."""

    chain_id: int
    number: int
    timestamp: int
    coinbase: bytes
    """Who earns the tips: the block's proposer."""
    base_fee: int
    gas_limit: int
    """Gas the block has left for this batch: transactions draw from it in order."""
    block_hash: Callable[[int], bytes]
    """The hash of an earlier block by number (BLOCKHASH); revm only asks for the last 256."""


@dataclass(frozen=True, slots=True)
class EvmCall:
    """A message to run as a transaction: a decoded transaction, or an eth_call's arguments."""

    sender: bytes
    to: bytes | None
    gas: int
    value: int = 0
    data: bytes = b""
    nonce: int = 0
    gas_price: int = 0
    """gasPrice, or the fee cap of an EIP-1559 transaction."""
    priority_fee: int | None = None
    """The tip cap of an EIP-1559 transaction; None for legacy and EIP-2930."""
    access_list: tuple = ()
    tx_type: int = 0
    protected: bool = True
    """Signed for this chain; False for a pre-EIP-155 legacy transaction, which names no chain."""

    @classmethod
    def of(cls, tx: Transaction) -> "EvmCall":
        return cls(tx.sender, tx.to, tx.gas, tx.value, tx.data, tx.nonce, tx.max_fee_per_gas,
                   tx.max_priority_fee_per_gas if tx.tx_type == 2 else None, tx.access_list, tx.tx_type, tx.protected)

    def args(self, chain_id: int) -> tuple:
        # Fee caps above 2**128 cannot be paid by any balance that exists, so capping them changes
        # no outcome (insufficient funds either way) and keeps revm's u128 fields exact.
        return (self.tx_type, self.sender, self.gas, min(self.gas_price, _U128_MAX),
                None if self.priority_fee is None else min(self.priority_fee, _U128_MAX), self.to,
                self.value.to_bytes(32, "big"), self.data, self.nonce, chain_id if self.protected else None,
                [(address, list(keys)) for address, keys in self.access_list])


@dataclass(frozen=True, slots=True)
class EvmOutcome:
    """One executed transaction."""

    success: bool
    gas_used: int
    """What the receipt reports: after the refund."""
    output: bytes
    """Return data, or revert data (Error(string), a custom error, or empty)."""
    logs: tuple[Log, ...]
    contract_address: bytes | None
    """The address a successful creation deployed to."""
    halt: str | None
    """Why execution stopped exceptionally (OutOfGas, InvalidFEOpcode, ...), if it did."""


def tx_args(tx: Transaction, chain_id: int) -> tuple:
    """EvmCall.of(tx).args(chain_id) without the intermediate object: the block's hot path."""
    tip = tx.max_priority_fee_per_gas if tx.tx_type == 2 else None
    return (tx.tx_type, tx.sender, tx.gas, min(tx.max_fee_per_gas, _U128_MAX), None if tip is None else min(tip, _U128_MAX), tx.to,
            tx.value.to_bytes(32, "big"), tx.data, tx.nonce, chain_id if tx.protected else None,
            [(address, list(keys)) for address, keys in tx.access_list] if tx.access_list else [])


class _StateView:
    """What revm reads: the callbacks of the binding, over a StateReader. `read` keeps each
    account as it was read (once per batch), so folding the batch's writes back needs no reread."""

    __slots__ = ("state", "block_hash", "read")

    def __init__(self, state: StateReader, block_hash: Callable[[int], bytes]) -> None:
        self.state = state
        self.block_hash = block_hash
        self.read: dict[bytes, Account] = {}

    def basic(self, address: bytes) -> tuple | None:
        account = self.read[address] = self.state.get_account(address)
        if account.is_empty:
            return None
        code = None if account.code_hash == EMPTY_CODE_HASH else self.state.get_code(account.code_hash)
        return account.nonce, account.balance.to_bytes(32, "big"), account.code_hash, code

    def code(self, code_hash: bytes) -> bytes:
        return self.state.get_code(code_hash)

    def storage(self, address: bytes, key: bytes) -> bytes:
        return self.state.get_storage(address, key)


def _block_args(env: EvmEnv) -> tuple:
    return env.number, env.timestamp, env.coinbase, env.base_fee, env.gas_limit, _ZERO_WORD


def _invalid(call: EvmCall, env: EvmEnv, kind: str, a: str, b: str, message: str) -> InvalidTransaction:
    """revm's refusal as go-ethereum words it (wallets match these strings)."""
    if kind == "nonce_too_low":
        return NonceTooLow.of(int(b), int(a))
    if kind == "nonce_too_high":
        return NonceTooHigh.of(int(b), int(a))
    if kind == "insufficient_funds":
        if not (a and b):  # an overflowing payment (gas * price + value past 2**256) names no amounts
            return InsufficientFunds.overflowing(call.sender, message)
        return InsufficientFunds.of(call.sender, int(b), int(a))
    if kind == "fee_cap_too_low":
        return FeeCapTooLow.of(call.sender, call.gas_price, env.base_fee)
    if kind == "tip_above_fee_cap":
        return TipAboveFeeCap.of(call.sender, call.priority_fee, call.gas_price)
    if kind == "gas_limit_reached":
        return GasLimitExceeded(message)
    if kind == "intrinsic_gas_too_low":
        return IntrinsicGasTooLow.of(int(b), int(a))
    if kind == "sender_not_eoa":
        return SenderNotEoa.of(call.sender)
    if kind == "initcode_too_large":
        return InitcodeTooLarge.of(len(call.data))
    if kind == "invalid_chain_id":
        return WrongChainId.of(env.chain_id)
    return InvalidTransaction(message)


def _outcome(row: tuple) -> EvmOutcome:
    _, status, gas_used, output, logs, created, halt = row
    return EvmOutcome(status == 1, gas_used, output, tuple([Log(a, tuple(t), d) for a, t, d in logs]) if logs else (), created, halt)


def _binding(entry, state: StateReader, env: EvmEnv, *args, **options):
    """Call a binding entry point on `state`; its own failures become EvmFailure (a callback's
    exception comes back as it was raised)."""
    view = _StateView(state, env.block_hash)
    try:
        return view, entry(view, env.chain_id, _block_args(env), *args, **options)
    except _revm.EvmError as exc:
        raise EvmFailure(str(exc)) from None


def _result(row: tuple, call: EvmCall, env: EvmEnv) -> EvmOutcome | InvalidTransaction:
    return _outcome(row) if row[0] == "ok" else _invalid(call, env, *row[1:])


def execute(state: StateOverlay, env: EvmEnv, transactions: Sequence[Transaction]) -> list[EvmOutcome | InvalidTransaction]:
    """Run a block's `transactions` in order on `state`; their writes land in `state`. Each entry
    of the answer is the transaction's outcome, or the error that kept it out (it changed nothing)."""
    view, (rows, diff) = _binding(_revm.execute, state, env, [tx_args(tx, env.chain_id) for tx in transactions])
    _apply(state, diff, view.read)
    return [_outcome(row) if row[0] == "ok" else _invalid(EvmCall.of(tx), env, *row[1:]) for tx, row in zip(transactions, rows)]


def system_call(state: StateOverlay, env: EvmEnv, target: bytes, data: bytes) -> EvmOutcome:
    """The node's own call to a system contract (from 0xff..fe, no fee, no nonce, 30M gas, as
    EIP-4788 defines it); its writes land in `state`."""
    view, (row, diff) = _binding(_revm.system_call, state, env, target, data)
    _apply(state, diff, view.read)
    return _outcome(row)


def simulate(state: StateReader, env: EvmEnv, call: EvmCall, deadline_ms: int = CALL_DEADLINE_MS) -> EvmOutcome | InvalidTransaction:
    """eth_call's mode: run one message without a nonce check or a base-fee floor; keep nothing.
    A message still running after `deadline_ms` halts with `halt == "Timeout"`."""
    _, row = _binding(_revm.simulate, state, env, call.args(env.chain_id), deadline_ms)
    return _result(row, call, env)


def trace(state: StateReader, env: EvmEnv, call: EvmCall, tracer: str, config: str = "{}", *,
          call_mode: bool = False) -> tuple[EvmOutcome | InvalidTransaction, object]:
    """Run one message under a tracer and keep nothing: "callTracer" answers go-ethereum's call
    frames as JSON text, "accessList" the access list it touched as [(address, [keys])]."""
    _, (row, result) = _binding(_revm.trace, state, env, call.args(env.chain_id), tracer, config, call=call_mode)
    return _result(row, call, env), result


def _apply(state: StateOverlay, diff: list, read: dict[bytes, Account]) -> None:
    """Fold a batch's net writes into `state`: accounts, their storage words, new code. `read`
    holds the accounts as the batch read them (revm reads every account it writes)."""
    for address, nonce, balance, code_hash, code, storage_reset, storage in diff:
        before = read.get(address) or state.get_account(address)
        # A created (or destroyed) account starts from empty storage; no account that can be
        # created holds storage before it (addresses with storage always have code or a nonce).
        storage_root = EMPTY_TRIE_ROOT if storage_reset else before.storage_root
        after = Account(nonce, int.from_bytes(balance, "big"), storage_root, code_hash)
        if after.is_empty and before.is_empty:
            continue  # touched but still empty (a zero tip, a zero-value call): EIP-161 leaves no trace
        state.set_account(address, after)
        if code is not None:
            state.set_code(code_hash, code)
        for key, value in storage:
            state.set_storage(address, key, value)
