"""The JSON-RPC routes table: each method name, its handler and the parsers of its positional
parameters (`codec`). The dispatcher decodes the parameters, so a handler only sees ints, bytes and
typed objects and returns JSON-ready values (cometbft's rpc/core/routes.go)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import codec
from .bridge_methods import (
    sidechain_getBridgeTotals, sidechain_getDepositStatus, sidechain_getWithdrawal, sidechain_getWithdrawalProof,
)
from .checkpoint_methods import sidechain_getBlockProof, sidechain_getCheckpoint
from .evidence_methods import ALL_EVIDENCE, evidence_query, sidechain_getEvidence
from .explorer_bridge_methods import list_count, sidechain_getBridgeOverview, sidechain_getDeposits, sidechain_getWithdrawals
from .explorer_methods import (
    DEFAULT_ACTIVITY_WINDOW, activity_window, sidechain_getCommit, sidechain_getNetworkInfo, sidechain_getValidatorActivity,
)
from .ots_methods import json_quantity, ots_searchTransactionsAfter, ots_searchTransactionsBefore
from .debug_methods import debug_traceCall, debug_traceTransaction, eth_createAccessList
from .polling import eth_getFilterChanges, eth_getFilterLogs, eth_newBlockFilter, eth_newFilter, eth_uninstallFilter
from .system_methods import sidechain_getSystemContracts, sidechain_getValidators
from .methods import (
    eth_accounts, eth_blockNumber, eth_call, eth_chainId, eth_estimateGas, eth_feeHistory, eth_gasPrice, eth_getBalance,
    eth_getBlockByHash, eth_getBlockByNumber, eth_getBlockReceipts, eth_getBlockTransactionCountByHash,
    eth_getBlockTransactionCountByNumber, eth_getCode, eth_getLogs, eth_getProof, eth_getStorageAt,
    eth_getTransactionByBlockHashAndIndex, eth_getTransactionByBlockNumberAndIndex, eth_getTransactionByHash,
    eth_getTransactionCount, eth_getTransactionReceipt, eth_maxPriorityFeePerGas, eth_sendRawTransaction,
    eth_sendRawTransaction_many, eth_subscribe, eth_syncing, eth_unsubscribe, net_listening, net_peerCount, net_version,
    sidechain_consensusStatus, txpool_content, txpool_status, web3_clientVersion, web3_sha3,
)

@dataclass(frozen=True, slots=True)
class Param:
    name: str
    parse: Callable[[object], object]
    required: bool = True
    default: object = None


@dataclass(frozen=True, slots=True)
class Route:
    handler: Callable
    params: tuple[Param, ...] = ()
    session: bool = False
    """The handler also takes the caller's WebSocket session (None over HTTP)."""
    heavy: bool = False
    """It may read much (many blocks, receipts, an EVM run): answered on a worker thread over a
    chain snapshot, never on the event loop that drives consensus (dispatch.py)."""
    many: Callable | None = None
    """`async many(ctx, [args of each call])` -> each call's result or the SidechainError it raised,
    in order: how a batch's consecutive calls of this method are answered in one go (dispatch.py).
    Heavy and session routes have none: a run is answered on the loop, without the caller's session."""


def _opt(name: str, parse: Callable[[object], object], default: object = None) -> Param:
    return Param(name, parse, False, default)


_ADDRESS = Param("address", codec.address)
_BLOCK = _opt("block", codec.block_id, "latest")
_BLOCK_NUMBER = Param("block", codec.block_number)
_BLOCK_HASH = Param("blockHash", codec.hash32)
_TX_HASH = Param("transactionHash", codec.hash32)
_FULL = _opt("fullTransactions", codec.boolean, False)
_INDEX = Param("index", codec.uint64)
_CALL = Param("transaction", codec.call_args)
_OVERRIDES = _opt("stateOverrides", codec.anything)
_FILTER_ID = Param("filterId", codec.string)
_OTS_SEARCH = (_ADDRESS, Param("blockNumber", json_quantity), Param("pageSize", json_quantity))
_LIST = (Param("fromId", json_quantity), Param("count", list_count))

ROUTES: dict[str, Route] = {
    "web3_clientVersion": Route(web3_clientVersion),
    "web3_sha3": Route(web3_sha3, (Param("data", codec.data),)),
    "net_version": Route(net_version),
    "net_listening": Route(net_listening),
    "net_peerCount": Route(net_peerCount),
    "eth_chainId": Route(eth_chainId),
    "eth_blockNumber": Route(eth_blockNumber),
    "eth_syncing": Route(eth_syncing),
    "eth_accounts": Route(eth_accounts),
    "eth_getBalance": Route(eth_getBalance, (_ADDRESS, _BLOCK)),
    "eth_getTransactionCount": Route(eth_getTransactionCount, (_ADDRESS, _BLOCK)),
    "eth_getCode": Route(eth_getCode, (_ADDRESS, _BLOCK)),
    "eth_getStorageAt": Route(eth_getStorageAt, (_ADDRESS, Param("slot", codec.storage_key), _BLOCK)),
    "eth_getProof": Route(
        eth_getProof, (_ADDRESS, Param("storageKeys", codec.list_of(codec.storage_key, "storage keys")), _BLOCK), heavy=True,
    ),
    "eth_sendRawTransaction": Route(eth_sendRawTransaction, (Param("data", codec.data),), many=eth_sendRawTransaction_many),
    "eth_getTransactionByHash": Route(eth_getTransactionByHash, (_TX_HASH,), heavy=True),
    "eth_getTransactionReceipt": Route(eth_getTransactionReceipt, (_TX_HASH,), heavy=True),
    "eth_call": Route(eth_call, (_CALL, _BLOCK, _OVERRIDES), heavy=True),
    "eth_estimateGas": Route(eth_estimateGas, (_CALL, _BLOCK, _OVERRIDES), heavy=True),
    "eth_getBlockByNumber": Route(eth_getBlockByNumber, (_BLOCK_NUMBER, _FULL), heavy=True),
    "eth_getBlockByHash": Route(eth_getBlockByHash, (_BLOCK_HASH, _FULL), heavy=True),
    "eth_getBlockTransactionCountByNumber": Route(eth_getBlockTransactionCountByNumber, (_BLOCK_NUMBER,), heavy=True),
    "eth_getBlockTransactionCountByHash": Route(eth_getBlockTransactionCountByHash, (_BLOCK_HASH,), heavy=True),
    "eth_getTransactionByBlockNumberAndIndex": Route(eth_getTransactionByBlockNumberAndIndex, (_BLOCK_NUMBER, _INDEX), heavy=True),
    "eth_getTransactionByBlockHashAndIndex": Route(eth_getTransactionByBlockHashAndIndex, (_BLOCK_HASH, _INDEX), heavy=True),
    "eth_getBlockReceipts": Route(eth_getBlockReceipts, (Param("block", codec.block_id),), heavy=True),
    "eth_gasPrice": Route(eth_gasPrice),
    "eth_maxPriorityFeePerGas": Route(eth_maxPriorityFeePerGas),
    "eth_feeHistory": Route(
        eth_feeHistory,
        (Param("blockCount", codec.count), Param("newestBlock", codec.block_number), _opt("rewardPercentiles", codec.percentiles, ())), heavy=True,
    ),
    "eth_getLogs": Route(eth_getLogs, (Param("filter", codec.log_query),), heavy=True),
    "eth_newFilter": Route(eth_newFilter, (Param("filter", codec.log_query),)),
    "eth_newBlockFilter": Route(eth_newBlockFilter),
    "eth_getFilterChanges": Route(eth_getFilterChanges, (_FILTER_ID,), heavy=True),
    "eth_getFilterLogs": Route(eth_getFilterLogs, (_FILTER_ID,), heavy=True),
    "eth_uninstallFilter": Route(eth_uninstallFilter, (_FILTER_ID,)),
    "eth_createAccessList": Route(eth_createAccessList, (_CALL, _BLOCK), heavy=True),
    "debug_traceTransaction": Route(debug_traceTransaction, (_TX_HASH, _opt("options", codec.anything)), heavy=True),
    "debug_traceCall": Route(debug_traceCall, (_CALL, _BLOCK, _opt("options", codec.anything)), heavy=True),
    "eth_subscribe": Route(eth_subscribe, (Param("kind", codec.string), _opt("options", codec.anything)), session=True),
    "eth_unsubscribe": Route(eth_unsubscribe, (Param("subscriptionId", codec.string),), session=True),
    "sidechain_consensusStatus": Route(sidechain_consensusStatus),
    "sidechain_getCheckpoint": Route(sidechain_getCheckpoint, (Param("number", codec.uint64),), heavy=True),
    "sidechain_getBlockProof": Route(sidechain_getBlockProof, (Param("block", codec.uint64),), heavy=True),
    "sidechain_getEvidence": Route(sidechain_getEvidence, (_opt("filter", evidence_query, ALL_EVIDENCE),), heavy=True),
    "sidechain_getDepositStatus": Route(sidechain_getDepositStatus, (Param("depositId", codec.uint64),)),
    "sidechain_getWithdrawal": Route(sidechain_getWithdrawal, (Param("withdrawalId", codec.uint64),)),
    "sidechain_getWithdrawalProof": Route(sidechain_getWithdrawalProof, (Param("withdrawalId", codec.uint64),), heavy=True),
    "sidechain_getValidators": Route(sidechain_getValidators, (_opt("block", codec.block_id, "latest"),)),
    "sidechain_getBridgeTotals": Route(sidechain_getBridgeTotals, (Param("l1Token", codec.address),)),
    "sidechain_getSystemContracts": Route(sidechain_getSystemContracts),
    "sidechain_getCommit": Route(sidechain_getCommit, (_BLOCK_NUMBER,), heavy=True),
    "sidechain_getValidatorActivity": Route(
        sidechain_getValidatorActivity, (_opt("window", activity_window, DEFAULT_ACTIVITY_WINDOW),), heavy=True,
    ),
    "sidechain_getWithdrawals": Route(sidechain_getWithdrawals, _LIST, heavy=True),
    "sidechain_getDeposits": Route(sidechain_getDeposits, _LIST, heavy=True),
    "sidechain_getBridgeOverview": Route(sidechain_getBridgeOverview, heavy=True),
    "sidechain_getNetworkInfo": Route(sidechain_getNetworkInfo),
    "ots_searchTransactionsBefore": Route(ots_searchTransactionsBefore, _OTS_SEARCH, heavy=True),
    "ots_searchTransactionsAfter": Route(ots_searchTransactionsAfter, _OTS_SEARCH, heavy=True),
    "txpool_status": Route(txpool_status),
    "txpool_content": Route(txpool_content),
}
