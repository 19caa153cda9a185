"""The candidate blocks of the height being decided: each built or executed once, judged once.

A proposal's block is valid(v) of the paper when its proposer is a validator, its evidence proves
fresh offences (consensus/evidence_pool.py) and it executes on the head's state; it is timely when
its timestamp was within reach of our clock when it first arrived. Both verdicts are kept by block
hash for the height, so a block re-proposed in a later round is not executed or judged again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from ..chain.blocks import Block
from ..chain.validation import validate_timestamp_not_ahead
from ..errors import InvalidBlock, InvalidEvidence, InvalidTransaction
from ..execution.executor import ExecutedBlock
from ..interfaces import ChainWriter
from .evidence_pool import EvidencePool
from .messages import ValidatorSet

log = logging.getLogger("sidechain.consensus")


class Candidates:
    def __init__(self, chain: ChainWriter, evidence: EvidencePool, clock: Callable[[], float],
                 on_invalid_block: Callable[[Block, str], None]) -> None:
        self.chain, self.evidence, self.clock, self.on_invalid_block = chain, evidence, clock, on_invalid_block
        self._executed: dict[bytes, ExecutedBlock | None] = {}
        """Candidate blocks of this height by hash; None marks one that failed validation."""
        self._timely: dict[bytes, bool] = {}
        """Whether each candidate's timestamp was within reach of our clock when it first arrived."""

    def clear(self) -> None:
        """A new height: nothing proposed for it yet."""
        self._executed, self._timely = {}, {}

    def get(self, block_hash: bytes) -> ExecutedBlock | None:
        """The executed block, if it is a valid candidate of this height."""
        return self._executed.get(block_hash)

    def build(self, proposer: bytes, timestamp: int, transactions: list) -> ExecutedBlock:
        """Our own proposal: the transactions that execute, and the pending evidence of earlier
        heights (execution does not depend on it; only the header commits to it)."""
        executed = self.chain.build_block(proposer, timestamp, transactions)
        evidence = self.evidence.for_block(executed.block.number)
        if evidence:
            executed = replace(executed, block=executed.block.with_evidence(evidence))
        self._executed[executed.block.hash] = executed
        return executed

    def is_valid(self, block: Block, validators: ValidatorSet, height: int) -> bool:
        if block.hash in self._executed:
            return self._executed[block.hash] is not None
        try:
            if block.header.proposer not in validators.addresses:
                raise InvalidBlock(f"proposer 0x{block.header.proposer.hex()} is not a validator")
            if block.evidence:
                try:
                    self.evidence.check_block(block)
                except InvalidEvidence as exc:
                    raise InvalidBlock(f"block evidence: {exc}") from None
            self._executed[block.hash] = self.chain.execute_block(block)
        except (InvalidBlock, InvalidTransaction) as exc:
            log.warning("invalid block 0x%s: %s", block.hash.hex(), exc, extra={"height": height})
            self._executed[block.hash] = None
            self.on_invalid_block(block, str(exc))
        return self._executed[block.hash] is not None

    def is_timely(self, block: Block, height: int) -> bool:
        """Proposer-based timestamps: a block dated more than MAX_FUTURE_SECONDS past our clock when
        it first arrives gets a nil prevote, so one proposer cannot move the chain's time ahead for
        good (time never goes back). It stays valid: if more than 2/3 still prevote and precommit it
        (their clocks agree with it), this node decides it too, as it imports synced blocks whatever
        their time."""
        if block.hash not in self._timely:
            try:
                validate_timestamp_not_ahead(block.header, self.clock())
                self._timely[block.hash] = True
            except InvalidBlock as exc:
                log.warning("untimely block 0x%s: %s", block.hash.hex(), exc, extra={"height": height})
                self._timely[block.hash] = False
                self.on_invalid_block(block, str(exc))
        return self._timely[block.hash]
