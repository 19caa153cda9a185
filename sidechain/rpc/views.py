"""Ethereum-shaped JSON objects for blocks, transactions, receipts and logs.

The sidechain's header is its own, so the fields Ethereum has and it lacks take their post-merge
values: nonce zero, difficulty zero, no uncles, a zero mixHash. `miner` is the proposer.

`extraData`: the consensus data of a header can be up to 97 bytes, but web3.py refuses an
`extraData` longer than 32 bytes unless the user adds its proof-of-authority middleware. So
`extraData` holds the bytes themselves when they fit in 32, else their keccak256, and
`consensusData` always holds them in full. The block hash covers the full bytes either way.
"""

from __future__ import annotations

from ..chain.blocks import ETHEREUM_MAX_EXTRA_DATA, Block, Header, Log, Receipt
from ..chain.transactions import ACCESS_LIST_TX, DYNAMIC_FEE_TX, LEGACY_TX, Transaction, create_address
from ..crypto import keccak256

EMPTY_UNCLES_HASH = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"
"""keccak256(rlp([])): sha3Uncles of a block without uncles."""
ZERO_NONCE = "0x0000000000000000"
ZERO_HASH_HEX = "0x" + "00" * 32


def _d(value: bytes) -> str:
    return "0x" + value.hex()


def header_view(header: Header, block_hash: bytes) -> dict:
    """The header fields, as in a block object and in a newHeads notification."""
    extra = header.extra_data
    return {
        "number": hex(header.number),
        "hash": _d(block_hash),
        "parentHash": _d(header.parent_hash),
        "nonce": ZERO_NONCE,
        "sha3Uncles": EMPTY_UNCLES_HASH,
        "logsBloom": _d(header.logs_bloom),
        "transactionsRoot": _d(header.transactions_root),
        "stateRoot": _d(header.state_root),
        "receiptsRoot": _d(header.receipts_root),
        "miner": _d(header.proposer),
        "difficulty": "0x0",
        "extraData": _d(extra if len(extra) <= ETHEREUM_MAX_EXTRA_DATA else keccak256(extra)),
        "consensusData": _d(extra),
        "gasLimit": hex(header.gas_limit),
        "gasUsed": hex(header.gas_used),
        "timestamp": hex(header.timestamp),
        "baseFeePerGas": hex(header.base_fee),
        "mixHash": ZERO_HASH_HEX,
    } | ({"evidenceRoot": _d(header.evidence_root)} if header.evidence_root else {})


def block_size(block: Block) -> int:
    """Bytes of the header's RLP plus the transactions' canonical encodings."""
    return len(block.header.encode()) + sum(len(tx.raw) for tx in block.transactions)


def block_view(block: Block, full_transactions: bool) -> dict:
    view = header_view(block.header, block.hash)
    view["totalDifficulty"] = "0x0"
    view["size"] = hex(block_size(block))
    view["uncles"] = []
    if full_transactions:
        number, block_hash, base_fee = block.number, block.hash, block.header.base_fee
        view["transactions"] = [
            transaction_view(tx, block_hash, number, index, base_fee) for index, tx in enumerate(block.transactions)
        ]
    else:
        view["transactions"] = [_d(tx.hash) for tx in block.transactions]
    return view


def transaction_view(
    tx: Transaction,
    block_hash: bytes | None = None,
    number: int | None = None,
    index: int | None = None,
    base_fee: int | None = None,
) -> dict:
    """A transaction; the block fields are null while it is pending (then gasPrice is the fee cap)."""
    mined = block_hash is not None
    view = {
        "blockHash": _d(block_hash) if mined else None,
        "blockNumber": hex(number) if mined else None,
        "transactionIndex": hex(index) if mined else None,
        "hash": _d(tx.hash),
        "type": hex(tx.tx_type),
        "nonce": hex(tx.nonce),
        "from": _d(tx.sender),
        "to": None if tx.to is None else _d(tx.to),
        "value": hex(tx.value),
        "gas": hex(tx.gas),
        "gasPrice": hex(tx.effective_gas_price(base_fee) if mined and base_fee is not None else tx.max_fee_per_gas),
        "input": _d(tx.data),
        "v": hex(tx.v),
        "r": hex(tx.r),
        "s": hex(tx.s),
    }
    if tx.protected:
        view["chainId"] = hex(tx.chain_id)
    if tx.tx_type != LEGACY_TX:
        view["yParity"] = hex(tx.y_parity)
        view["accessList"] = [
            {"address": _d(address), "storageKeys": [_d(k) for k in keys]} for address, keys in tx.access_list
        ]
    if tx.tx_type == DYNAMIC_FEE_TX:
        view["maxFeePerGas"] = hex(tx.max_fee_per_gas)
        view["maxPriorityFeePerGas"] = hex(tx.max_priority_fee_per_gas)
    elif tx.tx_type not in (LEGACY_TX, ACCESS_LIST_TX):
        raise ValueError(f"unknown transaction type {tx.tx_type}")
    return view


def log_view(log: Log, block_hash: bytes, number: int, tx_hash: bytes, tx_index: int, log_index: int) -> dict:
    """A log; logIndex counts across the whole block."""
    return {
        "address": _d(log.address),
        "topics": [_d(t) for t in log.topics],
        "data": _d(log.data),
        "blockHash": _d(block_hash),
        "blockNumber": hex(number),
        "transactionHash": _d(tx_hash),
        "transactionIndex": hex(tx_index),
        "logIndex": hex(log_index),
        "removed": False,
    }


def receipt_view(tx: Transaction, receipt: Receipt, block_hash: bytes, number: int, index: int, first_log_index: int) -> dict:
    """A receipt; `first_log_index` is the number of logs emitted by earlier transactions in the block."""
    return {
        "transactionHash": _d(tx.hash),
        "transactionIndex": hex(index),
        "blockHash": _d(block_hash),
        "blockNumber": hex(number),
        "from": _d(tx.sender),
        "to": None if tx.to is None else _d(tx.to),
        "cumulativeGasUsed": hex(receipt.cumulative_gas_used),
        "gasUsed": hex(receipt.gas_used),
        "effectiveGasPrice": hex(receipt.effective_gas_price),
        # go-ethereum names the address of every creation, also of one that failed
        "contractAddress": _d(create_address(tx.sender, tx.nonce)) if tx.to is None else None,
        "logs": [
            log_view(log, block_hash, number, tx.hash, index, first_log_index + i) for i, log in enumerate(receipt.logs)
        ],
        "logsBloom": _d(receipt.bloom),
        "status": hex(receipt.status),
        "type": hex(receipt.tx_type),
    }


def block_receipts_view(block: Block, receipts: list[Receipt] | tuple[Receipt, ...]) -> list[dict]:
    """Every receipt of a block, log indices counted across it."""
    views = []
    log_index = 0
    for index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
        views.append(receipt_view(tx, receipt, block.hash, block.number, index, log_index))
        log_index += len(receipt.logs)
    return views
