"""The eth_, net_, web3_ and txpool_ handlers, on typed values (routes.py decodes their parameters).

Handlers are synchronous. The light ones (a LevelDB get or a cache hit, the pool) run on the event
loop; the heavy ones (routes.py marks them) on a worker thread, over `Context.fork(snapshot)`: the
chain as one snapshot of it saw it, so a commit meanwhile never shows half-way.

Block tags: committed blocks are final, so `latest`, `safe`, `finalized` and `pending` all mean the
head (there is no pending-block preview); `pending` differs only for eth_getTransactionCount, which
then counts the sender's pooled transactions.
"""

from __future__ import annotations

import copy

from .. import CLIENT_NAME
from ..chain.state import StateReader
from ..chain.trie import MerkleTrie, account_trie_key, storage_trie_key
from ..crypto import keccak256
from ..errors import SidechainError
from ..interfaces import ChainHistory
from . import codec
from .calls import CALL_GAS_CAP, call, env_of, estimate_gas
from .codec import BlockId, CallArgs, LogQuery
from .errors import InvalidParams, MethodNotFound
from .fees import FeeOracle
from .filters import MAX_BLOCK_RANGE, MAX_RESULTS, LogFilter, get_logs
from .polling import FilterRegistry
from .reader import ChainView
from .subscriptions import KINDS, LOGS, Session, SubscriptionHub
from .views import block_receipts_view, block_view, receipt_view, transaction_view



class Context:
    """What every handler gets: the backend, the cached chain view, the fee oracle, the hub."""

    def __init__(
        self,
        backend,
        *,
        hub: SubscriptionHub | None = None,
        max_log_range: int = MAX_BLOCK_RANGE,
        max_log_results: int = MAX_RESULTS,
        gas_cap: int = CALL_GAS_CAP,
    ) -> None:
        self.backend = backend
        self.chain = backend.chain
        self.view = ChainView(backend.chain)
        self.fees = FeeOracle(self.view, min_tip=getattr(backend.mempool, "min_tip", 0))
        self.hub = hub if hub is not None else SubscriptionHub()
        self.max_log_range = max_log_range
        self.max_log_results = max_log_results
        self.gas_cap = gas_cap
        """Most gas an eth_call or eth_estimateGas may use (--rpc-gas-cap)."""
        self.filters = FilterRegistry()
        """The filters eth_newFilter and eth_newBlockFilter installed (polled from worker threads too)."""

    def fork(self, chain: ChainHistory) -> "Context":
        """This context over `chain` (a snapshot), sharing the caches, filters and hub."""
        ctx = copy.copy(self)
        ctx.chain = chain
        ctx.view = self.view.fork(chain)
        ctx.fees = self.fees.fork(ctx.view)
        return ctx

    def state(self, ref: BlockId) -> StateReader:
        return self.chain.state(self.view.state_number(ref))

    def call_context(self, ref: BlockId):
        """(state, block environment) of a call at `ref`: the block's state and its header's context."""
        number = self.view.state_number(ref)
        header = self.chain.header_by_number(number)
        genesis = self.chain.genesis
        return self.chain.state(number), env_of(header, genesis.chain_id, genesis.checkpoint_interval, self.chain.block_hash)


# --- web3_, net_ ----------------------------------------------------------------------------------


def web3_clientVersion(ctx: Context) -> str:
    return CLIENT_NAME


def web3_sha3(ctx: Context, payload: bytes) -> str:
    return codec.hex_data(keccak256(payload))


def net_version(ctx: Context) -> str:
    return str(ctx.backend.chain_id)


def net_listening(ctx: Context) -> bool:
    return True


def net_peerCount(ctx: Context) -> str:
    return hex(ctx.backend.peer_count())


# --- chain and state ------------------------------------------------------------------------------


def eth_chainId(ctx: Context) -> str:
    return hex(ctx.backend.chain_id)


def eth_blockNumber(ctx: Context) -> str:
    return hex(ctx.chain.head.number)


def eth_syncing(ctx: Context) -> dict | bool:
    status = ctx.backend.sync_status()
    return False if status is None else {key: hex(value) for key, value in status.items()}


def eth_accounts(ctx: Context) -> list:
    return []


def eth_getBalance(ctx: Context, address: bytes, block: BlockId) -> str:
    return hex(ctx.state(block).get_account(address).balance)


def eth_getTransactionCount(ctx: Context, address: bytes, block: BlockId) -> str:
    if block == "pending":
        return hex(ctx.backend.mempool.pending_nonce(address, ctx.chain.state()))
    return hex(ctx.state(block).get_account(address).nonce)


def eth_getCode(ctx: Context, address: bytes, block: BlockId) -> str:
    """The account's code."""
    state = ctx.state(block)
    return codec.hex_data(state.get_code(state.get_account(address).code_hash))


def eth_getStorageAt(ctx: Context, address: bytes, slot: bytes, block: BlockId) -> str:
    value = ctx.state(block).get_storage(address, slot.rjust(32, b"\x00")[-32:])
    return "0x" + value.rjust(32, b"\x00").hex() if len(value) <= 32 else codec.hex_data(keccak256(value))


def eth_getProof(ctx: Context, address: bytes, keys: tuple[bytes, ...], block: BlockId) -> dict:
    """Account proof from the state trie and storage proofs from the account's storage trie
    (EIP-1186); both verify against the block's state root."""
    number = ctx.view.state_number(block)
    state = ctx.chain.state(number)
    account = state.get_account(address)
    trie = ctx.chain.state_trie(number)
    storage_trie = MerkleTrie(account.storage_root, trie.load_node)
    storage_proofs = []
    for key in keys:
        word = key.rjust(32, b"\x00")[-32:]
        value = state.get_storage(address, word)
        storage_proofs.append({
            "key": codec.hex_data(word), "value": hex(int.from_bytes(value, "big")) if len(value) <= 32 else codec.hex_data(value),
            "proof": [codec.hex_data(node) for node in storage_trie.proof(storage_trie_key(word))],
        })
    return {
        "address": codec.hex_data(address),
        "accountProof": [codec.hex_data(node) for node in trie.proof(account_trie_key(address))],
        "balance": hex(account.balance),
        "nonce": hex(account.nonce),
        "codeHash": codec.hex_data(account.code_hash),
        "storageHash": codec.hex_data(account.storage_root),
        "storageProof": storage_proofs,
    }


# --- transactions -----------------------------------------------------------------------------------


def eth_sendRawTransaction(ctx: Context, raw: bytes) -> str:
    return "0x" + ctx.backend.submit_transaction(raw).hex()


async def eth_sendRawTransaction_many(ctx: Context, calls: list[list]) -> list:
    """A batch's run of eth_sendRawTransaction calls: decoded in one pass off the event loop."""
    outcomes = await ctx.backend.submit_transactions([raw for raw, in calls])
    return [outcome if isinstance(outcome, SidechainError) else "0x" + outcome.hex() for outcome in outcomes]


def eth_getTransactionByHash(ctx: Context, tx_hash: bytes) -> dict | None:
    found = ctx.view.locate(tx_hash)
    if found is not None:
        block, index = found
        return transaction_view(block.transactions[index], block.hash, block.number, index, block.header.base_fee)
    tx = ctx.backend.mempool.get(tx_hash)
    return None if tx is None else transaction_view(tx)


def eth_getTransactionReceipt(ctx: Context, tx_hash: bytes) -> dict | None:
    found = ctx.view.locate(tx_hash)
    if found is None:
        return None
    block, index = found
    receipts = ctx.view.receipts(block)
    first_log_index = sum(len(r.logs) for r in receipts[:index])
    return receipt_view(block.transactions[index], receipts[index], block.hash, block.number, index, first_log_index)


def eth_call(ctx: Context, args: CallArgs, block: BlockId, overrides: object) -> str:
    _refuse_overrides(overrides)
    state, env = ctx.call_context(block)
    return codec.hex_data(call(args, state, env, ctx.gas_cap))


def eth_estimateGas(ctx: Context, args: CallArgs, block: BlockId, overrides: object) -> str:
    _refuse_overrides(overrides)
    state, env = ctx.call_context(block)
    return hex(estimate_gas(args, state, env, ctx.gas_cap))


def _refuse_overrides(overrides: object) -> None:
    if overrides is not None:
        raise InvalidParams("invalid argument 2 (state overrides): state overrides are not supported")


# --- blocks -----------------------------------------------------------------------------------------


def eth_getBlockByNumber(ctx: Context, number: int | str, full: bool) -> dict | None:
    block = ctx.view.block(number)
    return None if block is None else block_view(block, full)


def eth_getBlockByHash(ctx: Context, block_hash: bytes, full: bool) -> dict | None:
    block = ctx.view.block_by_hash(block_hash)
    return None if block is None else block_view(block, full)


def eth_getBlockTransactionCountByNumber(ctx: Context, number: int | str) -> str | None:
    block = ctx.view.block(number)
    return None if block is None else hex(len(block.transactions))


def eth_getBlockTransactionCountByHash(ctx: Context, block_hash: bytes) -> str | None:
    block = ctx.view.block_by_hash(block_hash)
    return None if block is None else hex(len(block.transactions))


def eth_getTransactionByBlockNumberAndIndex(ctx: Context, number: int | str, index: int) -> dict | None:
    return _transaction_at(ctx.view.block(number), index)


def eth_getTransactionByBlockHashAndIndex(ctx: Context, block_hash: bytes, index: int) -> dict | None:
    return _transaction_at(ctx.view.block_by_hash(block_hash), index)


def _transaction_at(block, index: int) -> dict | None:
    if block is None or index >= len(block.transactions):
        return None
    return transaction_view(block.transactions[index], block.hash, block.number, index, block.header.base_fee)


def eth_getBlockReceipts(ctx: Context, block: BlockId) -> list | None:
    found = ctx.view.block(block)
    return None if found is None else block_receipts_view(found, ctx.view.receipts(found))


# --- fees ---------------------------------------------------------------------------------------------


def eth_gasPrice(ctx: Context) -> str:
    return hex(ctx.fees.gas_price())


def eth_maxPriorityFeePerGas(ctx: Context) -> str:
    return hex(ctx.fees.suggested_tip())


def eth_feeHistory(ctx: Context, block_count: int, newest: int | str, percentiles: tuple[float, ...]) -> dict:
    return ctx.fees.fee_history(block_count, newest, percentiles)


# --- logs and subscriptions -----------------------------------------------------------------------------


def eth_getLogs(ctx: Context, query: LogQuery) -> list:
    return get_logs(ctx.view, query, ctx.max_log_range, ctx.max_log_results)


def eth_subscribe(ctx: Context, session: Session | None, kind: str, options: object) -> str:
    if session is None:
        raise MethodNotFound("notifications not supported: eth_subscribe needs a WebSocket connection")
    if kind not in KINDS:
        raise InvalidParams(f"invalid argument 0 (kind): unsupported subscription {kind!r}, supported: {', '.join(KINDS)}")
    log_filter = None
    if kind == LOGS:
        try:
            query = codec.log_query(options if options is not None else {})
        except codec.BadParam as exc:
            raise InvalidParams(f"invalid argument 1 (filter): {exc}") from None
        log_filter = LogFilter.of(query)
    elif options is not None:
        raise InvalidParams(f"invalid argument 1: {kind} takes no options")
    return ctx.hub.subscribe(session, kind, log_filter)


def eth_unsubscribe(ctx: Context, session: Session | None, subscription_id: str) -> bool:
    if session is None:
        raise MethodNotFound("notifications not supported: eth_unsubscribe needs a WebSocket connection")
    return ctx.hub.unsubscribe(session, subscription_id)


# --- sidechain_, txpool_ ---------------------------------------------------------------------------------


def sidechain_consensusStatus(ctx: Context) -> dict:
    return ctx.backend.consensus_status()


def txpool_status(ctx: Context) -> dict:
    mempool = ctx.backend.mempool
    return {"pending": hex(mempool.pending_count), "queued": hex(mempool.queued_count)}


def txpool_content(ctx: Context) -> dict:
    pending, queued = ctx.backend.mempool.content()
    return {"pending": _pool_view(pending), "queued": _pool_view(queued)}


def _pool_view(content: dict) -> dict:
    return {
        codec.hex_data(sender): {str(nonce): transaction_view(tx) for nonce, tx in by_nonce.items()}
        for sender, by_nonce in content.items()
    }
