"""A block's transactions, run in order by the EVM in one batch (one crossing into revm), then the
end-of-block system call at a checkpoint boundary. Deterministic: the same parent state,
environment and transactions give the same result on every node.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..chain.blocks import Receipt, logs_bloom
from ..chain.bloom import EMPTY_BLOOM
from ..chain.execution import BlockEnv, ExecutionResult
from ..chain.state import StateOverlay, StateReader
from ..chain.system import END_BLOCK_CALLDATA, VALIDATOR_SET_ADDRESS, ends_range
from ..chain.transactions import Transaction, create_address
from ..errors import EvmFailure, InvalidTransaction
from . import evm


class _Block:
    """The running tally of one block's execution."""

    def __init__(self, parent_state: StateReader, env: BlockEnv, skip_invalid: bool) -> None:
        self.state = StateOverlay(parent_state)
        self.env = env
        self.skip_invalid = skip_invalid
        self.included: list[Transaction] = []
        self.receipts: list[Receipt] = []
        self.created: list[bytes | None] = []
        self.rejected: list[tuple[Transaction, InvalidTransaction]] = []
        self.cumulative = 0

    def include(self, tx: Transaction, gas_used: int, logs: tuple, status: int, created: bytes | None) -> None:
        self.cumulative += gas_used
        self.included.append(tx)
        self.receipts.append(Receipt(tx.tx_type, status, self.cumulative, logs, gas_used, tx.effective_gas_price(self.env.base_fee)))
        self.created.append(created)

    def reject(self, tx: Transaction, error: InvalidTransaction) -> None:
        if not self.skip_invalid:
            raise error
        self.rejected.append((tx, error))

    def evm_env(self) -> evm.EvmEnv:
        env = self.env
        return evm.EvmEnv(env.chain_id, env.number, env.timestamp, env.proposer, env.base_fee, env.gas_limit - self.cumulative,
                          env.hash_of)

    def run_evm(self, batch: Sequence[Transaction]) -> None:
        if not batch:
            return
        for tx, outcome in zip(batch, evm.execute(self.state, self.evm_env(), batch)):
            if isinstance(outcome, InvalidTransaction):
                self.reject(tx, outcome)
            else:
                created = create_address(tx.sender, tx.nonce) if tx.to is None and outcome.success else None
                self.include(tx, outcome.gas_used, outcome.logs, int(outcome.success), created)

    def end(self) -> None:
        """After the last transaction: at a checkpoint boundary, ValidatorSet.endBlock() records who
        signs the range and switches to the pending set. It cannot fail on a sound chain."""
        if not ends_range(self.env.number, self.env.checkpoint_interval):
            return
        outcome = evm.system_call(self.state, self.evm_env(), VALIDATOR_SET_ADDRESS, END_BLOCK_CALLDATA)
        if not outcome.success:
            raise EvmFailure(f"ValidatorSet.endBlock() failed at block {self.env.number}: {outcome.halt or outcome.output.hex()}")


def execute_transactions(
    parent_state: StateReader, env: BlockEnv, transactions: Iterable[Transaction], *, skip_invalid: bool
) -> ExecutionResult:
    """Run `transactions` in order on top of `parent_state`.

    skip_invalid=True (building a proposal): an invalid candidate is left out and reported in
    `rejected`. skip_invalid=False (checking a received block): the first invalid one raises.
    """
    block = _Block(parent_state, env, skip_invalid)
    block.run_evm(list(transactions))
    block.end()
    receipts = block.receipts
    bloom = logs_bloom(receipts) if any(r.logs for r in receipts) else EMPTY_BLOOM
    state = block.state
    return ExecutionResult(tuple(block.included), tuple(receipts), block.cumulative, bloom, state.changes,
                           state.storage_by_address(), tuple(block.rejected), dict(state.code), tuple(block.created))


def state_after(parent_state: StateReader, env: BlockEnv, transactions: Iterable[Transaction]) -> tuple[StateOverlay, int]:
    """The state after `transactions` of a final block, before the end-of-block step, and the gas
    they used: where a tracer replays the block's next transaction."""
    block = _Block(parent_state, env, skip_invalid=False)
    block.run_evm(list(transactions))
    return block.state, block.cumulative
