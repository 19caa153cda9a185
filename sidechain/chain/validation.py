"""Block validity in phases: header alone, header against parent, body against header, result
after execution. Pure rules; the consensus layer adds who may propose and when.
"""

from __future__ import annotations

from ..errors import InvalidBlock, mismatch
from .blocks import MAX_HEADER_EXTRA_DATA, Block, Header, evidence_root, receipts_root, transactions_root
from .execution import ExecutionResult, next_base_fee

MAX_BLOCK_TX_BYTES = 900 * 1024
"""Most transaction bytes in one block: a proposal, block and all, must fit one gossip message (1 MiB)."""
MAX_BLOCK_EVIDENCE = 32
"""Most evidence records in one block (cometbft bounds evidence bytes per block the same way)."""
MAX_EVIDENCE_BYTES = 512
"""Most bytes of one evidence record: two signed votes or proposals take about 300. With the
transactions' 900 KiB, 32 records of 512 bytes keep a proposal inside one 1 MiB gossip message."""
MAX_FUTURE_SECONDS = 5
"""How far a proposed block's timestamp may run ahead of the judging validator's clock. Honest
timestamps are the proposer's clock rounded down, so this only absorbs clock skew; a proposer whose
clock (or intent) is further ahead gets nil prevotes instead of dragging the chain's time along."""


def validate_header(header: Header) -> None:
    """Field widths and bounds that need no context."""
    for name, value, width in (
        ("parentHash", header.parent_hash, 32),
        ("stateRoot", header.state_root, 32),
        ("transactionsRoot", header.transactions_root, 32),
        ("receiptsRoot", header.receipts_root, 32),
        ("proposer", header.proposer, 20),
        ("logsBloom", header.logs_bloom, 256),
    ):
        if len(value) != width:
            raise InvalidBlock(mismatch(f"header {name} length", expected=width, got=len(value)))
    if header.evidence_root and len(header.evidence_root) != 32:
        raise InvalidBlock(mismatch("header evidenceRoot length", expected=32, got=len(header.evidence_root)))
    if len(header.extra_data) > MAX_HEADER_EXTRA_DATA:
        raise InvalidBlock(mismatch("header extraData length at most", expected=MAX_HEADER_EXTRA_DATA,
                                    got=len(header.extra_data)))
    if header.gas_used > header.gas_limit:
        raise InvalidBlock(f"header gasUsed {header.gas_used} above gasLimit {header.gas_limit}")


def validate_header_against_parent(header: Header, parent: Header, *, gas_limit: int, base_fee_floor: int) -> None:
    """Number, parent link, time, gas limit and EIP-1559 base fee follow from the parent."""
    validate_header(header)
    if header.number != parent.number + 1:
        raise InvalidBlock(mismatch("block number", expected=parent.number + 1, got=header.number))
    if header.parent_hash != parent.hash:
        raise InvalidBlock(mismatch("parent hash", expected="0x" + parent.hash.hex(), got="0x" + header.parent_hash.hex()))
    if header.timestamp < parent.timestamp:
        raise InvalidBlock(f"block timestamp {header.timestamp} before parent timestamp {parent.timestamp}")
    if header.gas_limit != gas_limit:
        raise InvalidBlock(mismatch("block gas limit", expected=gas_limit, got=header.gas_limit))
    expected_fee = next_base_fee(parent, base_fee_floor)
    if header.base_fee != expected_fee:
        raise InvalidBlock(mismatch("base fee", expected=expected_fee, got=header.base_fee))


def validate_timestamp_not_ahead(header: Header, now: float, *, max_ahead: float = MAX_FUTURE_SECONDS) -> None:
    """The block's time is at most `max_ahead` seconds past `now`, the judging validator's clock
    reading (passed in: these rules read no clock). Only for proposals still to be voted on: a block
    already certified by more than 2/3 (sync, a decided height) is final whatever its time says."""
    if header.timestamp > now + max_ahead:
        raise InvalidBlock(f"block timestamp {header.timestamp} is {header.timestamp - now:.0f} s ahead of this "
                           f"validator's clock (at most {max_ahead} s allowed)")


def validate_body(block: Block) -> None:
    """The transactions and the evidence fit their caps and are the ones the header commits to
    (what the evidence proves is the consensus layer's check: consensus/evidence.py)."""
    size = sum(len(tx.raw) for tx in block.transactions)
    if size > MAX_BLOCK_TX_BYTES:
        raise InvalidBlock(f"block transactions take {size} bytes, limit {MAX_BLOCK_TX_BYTES}")
    root = transactions_root(block.transactions)
    if root != block.header.transactions_root:
        raise InvalidBlock(mismatch("transactions root", expected="0x" + block.header.transactions_root.hex(), got="0x" + root.hex()))
    if len(block.evidence) > MAX_BLOCK_EVIDENCE:
        raise InvalidBlock(f"block carries {len(block.evidence)} evidence records, limit {MAX_BLOCK_EVIDENCE}")
    if any(len(e) > MAX_EVIDENCE_BYTES for e in block.evidence):
        raise InvalidBlock(f"block carries an evidence record above {MAX_EVIDENCE_BYTES} bytes")
    root = evidence_root(block.evidence)
    if root != block.header.evidence_root:
        raise InvalidBlock(mismatch("evidence root", expected="0x" + block.header.evidence_root.hex(), got="0x" + root.hex()))


def validate_result(header: Header, result: ExecutionResult, state_root: bytes) -> None:
    """What execution produced matches what the header claims."""
    if result.gas_used != header.gas_used:
        raise InvalidBlock(mismatch("gas used", expected=header.gas_used, got=result.gas_used))
    if result.logs_bloom != header.logs_bloom:
        raise InvalidBlock("logs bloom does not match the receipts")
    root = receipts_root(result.receipts)
    if root != header.receipts_root:
        raise InvalidBlock(mismatch("receipts root", expected="0x" + header.receipts_root.hex(), got="0x" + root.hex()))
    if state_root != header.state_root:
        raise InvalidBlock(mismatch("state root", expected="0x" + header.state_root.hex(), got="0x" + state_root.hex()))
