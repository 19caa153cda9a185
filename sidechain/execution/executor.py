"""The block executor: build a proposal, check a received block, seal genesis, and compute the
post-state tries; pure inputs (a parent header, its state and trie), immutable results.

Building and checking are speculative: they produce an `ExecutedBlock` (the block, its execution
result and its post-state tries) without writing anything, so a proposal that never commits costs
nothing to drop. The chain (storage/blockchain.py) commits the one that becomes final; it also
serves the head and history, which this module never reads beyond what it is handed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..chain.blocks import ZERO_ADDRESS, ZERO_HASH, Block, Header, receipts_root, transactions_root
from ..chain.bloom import EMPTY_BLOOM
from ..chain.execution import BlockEnv, ExecutionResult, next_base_fee
from ..chain.genesis import GenesisConfig
from ..chain.predeploys import genesis_accounts as predeploy_accounts
from ..chain.state import Account, MemoryState, StateReader
from ..chain.system import genesis_state
from ..chain.transactions import Transaction
from ..chain.trie import MerkleTrie, account_trie_key, storage_trie_key, storage_trie_value
from ..chain.validation import validate_body, validate_header_against_parent, validate_result
from ..chain.validators import ValidatorSet
from .block import execute_transactions


@dataclass(frozen=True, slots=True)
class ExecutedBlock:
    """A block whose transactions ran against its parent's state; ready to commit."""

    block: Block
    result: ExecutionResult
    trie: MerkleTrie
    """The account trie after the block (not yet persisted)."""
    storage_tries: tuple[MerkleTrie, ...] = ()
    """The storage tries of the contracts the block wrote to (not yet persisted)."""

    def new_nodes(self) -> dict[bytes, bytes]:
        nodes = self.trie.new_nodes()
        for trie in self.storage_tries:
            nodes.update(trie.new_nodes())
        return nodes

    def mark_committed(self) -> None:
        self.trie.mark_committed()
        for trie in self.storage_tries:
            trie.mark_committed()


@dataclass(frozen=True, slots=True)
class ParentState:
    """What a block executes on: its parent, the state after it, and the trie of that state."""

    header: Header
    state: StateReader
    trie: MerkleTrie
    block_hash: Callable[[int], bytes]
    """Hash of an earlier block by number (the EVM's BLOCKHASH)."""


class BlockExecutor:
    """Builds and checks blocks under one genesis configuration's rules."""

    def __init__(self, genesis: GenesisConfig) -> None:
        self.genesis = genesis

    def genesis_block(self, genesis_hash: bytes, load_node: Callable[[bytes], bytes]) -> ExecutedBlock:
        """Block 0: the system contracts and the allocations, sealed under `genesis_hash`."""
        accounts, storage, code = genesis_state(ValidatorSet.from_genesis(self.genesis.validators),
                                                checkpoint_interval=self.genesis.checkpoint_interval,
                                                genesis_supply=sum(balance for _, balance in self.genesis.alloc))
        predeployed, predeployed_code = predeploy_accounts()
        accounts.update(predeployed)
        code.update(predeployed_code)
        for address, balance in self.genesis.alloc:
            before = accounts.get(address)
            accounts[address] = Account(balance=balance) if before is None else Account(before.nonce, balance, before.storage_root,
                                                                                        before.code_hash)
        storage_by_address: dict[bytes, dict[bytes, bytes]] = {}
        for (address, key), value in storage.items():
            storage_by_address.setdefault(address, {})[key] = value
        trie, storage_tries, accounts = post_state(MerkleTrie(load_node=load_node), MemoryState(), accounts, storage_by_address)
        header = Header(
            parent_hash=ZERO_HASH, number=0, timestamp=self.genesis.timestamp, proposer=ZERO_ADDRESS,
            state_root=trie.root_hash, transactions_root=transactions_root(()), receipts_root=receipts_root(()),
            logs_bloom=EMPTY_BLOOM, gas_limit=self.genesis.gas_limit, gas_used=0, base_fee=self.genesis.base_fee,
            extra_data=genesis_hash,
        )
        result = ExecutionResult((), (), 0, EMPTY_BLOOM, accounts, storage_by_address, code=code)
        return ExecutedBlock(Block(header, ()), result, trie, storage_tries)

    def env(self, parent: ParentState, number: int, timestamp: int, proposer: bytes, base_fee: int, gas_limit: int) -> BlockEnv:
        return BlockEnv(self.genesis.chain_id, number, timestamp, proposer, base_fee, gas_limit, self.genesis.checkpoint_interval,
                        parent.block_hash)

    def build(self, parent: ParentState, proposer: bytes, timestamp: int, candidates: Iterable[Transaction],
              extra_data: bytes = b"") -> ExecutedBlock:
        """Execute `candidates` on the parent state, leaving out invalid ones, and seal a block."""
        head = parent.header
        env = self.env(parent, head.number + 1, max(timestamp, head.timestamp), proposer,
                       next_base_fee(head, self.genesis.base_fee), self.genesis.gas_limit)
        result = execute_transactions(parent.state, env, candidates, skip_invalid=True)
        trie, storage_tries, result = self._post_state(parent, result)
        header = Header(
            parent_hash=head.hash, number=env.number, timestamp=env.timestamp, proposer=proposer,
            state_root=trie.root_hash, transactions_root=transactions_root(result.transactions),
            receipts_root=receipts_root(result.receipts), logs_bloom=result.logs_bloom,
            gas_limit=env.gas_limit, gas_used=result.gas_used, base_fee=env.base_fee, extra_data=extra_data,
        )
        return ExecutedBlock(Block(header, result.transactions), result, trie, storage_tries)

    def execute(self, parent: ParentState, block: Block) -> ExecutedBlock:
        """Check a block received from a proposer or a peer against its parent; raises InvalidBlock
        or InvalidTransaction."""
        header = block.header
        validate_header_against_parent(header, parent.header, gas_limit=self.genesis.gas_limit, base_fee_floor=self.genesis.base_fee)
        validate_body(block)
        env = self.env(parent, header.number, header.timestamp, header.proposer, header.base_fee, header.gas_limit)
        result = execute_transactions(parent.state, env, block.transactions, skip_invalid=False)
        trie, storage_tries, result = self._post_state(parent, result)
        validate_result(header, result, trie.root_hash)
        return ExecutedBlock(block, result, trie, storage_tries)

    @staticmethod
    def _post_state(parent: ParentState, result: ExecutionResult) -> tuple[MerkleTrie, tuple[MerkleTrie, ...], ExecutionResult]:
        trie, storage_tries, changes = post_state(parent.trie, parent.state, result.changes, result.storage)
        result.changes.update(changes)  # the touched contracts' new storage roots
        return trie, storage_tries, result


def post_state(trie: MerkleTrie, parent: StateReader, changes: dict[bytes, Account],
               storage: dict[bytes, dict[bytes, bytes]]) -> tuple[MerkleTrie, tuple[MerkleTrie, ...], dict[bytes, Account]]:
    """The account trie after `changes` and `storage`: each written contract's storage trie is
    updated first and its new root goes into its account. Returns (account trie, storage tries,
    the accounts with their storage roots)."""
    changes = dict(changes)
    storage_tries = []
    for address, words in storage.items():
        account = changes.get(address) or parent.get_account(address)
        storage_trie = MerkleTrie(account.storage_root, trie.load_node).update(
            (storage_trie_key(key), storage_trie_value(value)) for key, value in words.items()
        )
        storage_tries.append(storage_trie)
        changes[address] = Account(account.nonce, account.balance, storage_trie.root_hash, account.code_hash)
    account_trie = trie.update(
        (account_trie_key(address), None if account.is_empty else account.encode()) for address, account in changes.items()
    )
    return account_trie, tuple(storage_tries), changes
