"""What travels on the consensus topics, and the rule that admits each message.

Every check answers ACCEPT, IGNORE or REJECT with a reason (sidechain.verdicts). Transactions have
their own topic and checks on the mempool side (mempool/gossip.py).

A proposal is compact: its block travels as the header, the transactions' hashes and the evidence,
since a peer holds most of the transactions already from their gossip. The check takes each one
from what the node has verified (`known`); when some are missing it answers MISSING_TRANSACTIONS
with a `PendingProposal`, which the node completes with the transactions it fetches from its peers
(mempool/fetch.py), then delivers as any other. The header commits to the transactions (their
root), so a block assembled from other transactions than its proposer's does not execute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import rlp


from ..chain.blocks import Block, Header
from ..chain.transactions import Transaction
from ..chain.validation import MAX_BLOCK_TX_BYTES
from ..errors import InvalidBlock, InvalidEvidence, InvalidVote
from ..verdicts import Checked, Verdict
from .evidence import MAX_EVIDENCE_AGE, MAX_EVIDENCE_BYTES, decode_evidence, offence_of
from .messages import Proposal, ValidatorSet, Vote

TOPIC_PROPOSALS = "consensus/proposals/2"
"""Version 2: compact blocks (version 1 carried every transaction whole)."""
TOPIC_VOTES = "consensus/votes/1"
TOPIC_EVIDENCE = "consensus/evidence/1"

FUTURE_HEIGHTS = 2
"""How far ahead of our height a message may be and still be useful; beyond that we sync instead."""


def _height_verdict(height: int, current: int) -> Checked | None:
    if height < current:
        return Checked(Verdict.IGNORE, "stale-height")
    if height > current + FUTURE_HEIGHTS:
        return Checked(Verdict.IGNORE, "future-height")
    return None


MAX_PROPOSAL_TRANSACTIONS = MAX_BLOCK_TX_BYTES // 64
"""More transactions than a block's bytes can hold (no valid transaction is 64 bytes or smaller)."""
MISSING_TRANSACTIONS = "missing-transactions"
"""The check's reason when the block names transactions this node does not have (not a verdict
sent to libp2p: the node fetches them, then decides)."""


def encode_proposal(proposal: Proposal, block: Block) -> bytes:
    """[proposal, header fields, [transaction hash, ...], [evidence, ...]]."""
    return rlp.encode([proposal.encode(), block.header.raw_fields(), [tx.hash for tx in block.transactions], list(block.evidence)])


@dataclass(frozen=True, slots=True)
class PendingProposal:
    """A proposal that passed every check but whose block names transactions not here yet."""

    proposal: Proposal
    header: Header
    tx_hashes: tuple[bytes, ...]
    evidence: tuple[bytes, ...]
    verdict: Verdict
    """What the check answers once the block is whole: ACCEPT, or IGNORE for an unknown validator set."""
    reason: str

    def missing(self, known: Callable[[bytes], Transaction | None]) -> list[bytes]:
        return [tx_hash for tx_hash in dict.fromkeys(self.tx_hashes) if known(tx_hash) is None]

    def complete(self, known: Callable[[bytes], Transaction | None]) -> Checked | None:
        """The check's answer with the whole block, or None while a transaction is still missing."""
        txs = [known(tx_hash) for tx_hash in self.tx_hashes]
        if any(tx is None for tx in txs):
            return None
        return Checked(self.verdict, self.reason, (self.proposal, Block(self.header, tuple(txs), self.proposal.block_hash, self.evidence)))


ROUND_TAKEN = "proposal-round-taken"
"""The verdict reason of a proposal for a round that already has one (see `future.refusal`)."""
UNKNOWN_VALIDATOR_SET = "unknown-validator-set"
"""The verdict reason of a message whose height's validator set is not decided yet: IGNOREd (not
relayed), with the decoded message attached for the local driver to check when the height comes."""

ValidatorsAt = Callable[[int], ValidatorSet | None]
"""Height -> its validator set, or None if this node cannot know it yet."""

Refusal = Callable[[int, int, bytes, int], str | None]
"""(height, round, signer, size) -> why the driver would not keep such a message now (a round beyond
its window, a signer over its quota or outside the sets that can vote there), or None. Asked before
any signature or block is checked: what the driver would drop is IGNOREd, never relayed."""


def _keeps_all(height: int, round_: int, signer: bytes, size: int) -> str | None:
    return None


def check_vote(data: bytes, *, chain_id: int, validators_at: ValidatorsAt, current_height: int,
               refusal: Refusal = _keeps_all) -> Checked:
    # REJECT: not a well-formed vote.
    try:
        vote = Vote.decode(data)
    except InvalidVote:
        return Checked(Verdict.REJECT, "malformed-vote")
    # IGNORE: for a height we are past, or too far ahead to use.
    if (stale := _height_verdict(vote.height, current_height)) is not None:
        return stale
    validators = validators_at(vote.height)
    # REJECT: the signer is not a validator of this chain.
    if validators is not None and validators.power_of(vote.validator) == 0:
        return Checked(Verdict.REJECT, "vote-from-non-validator")
    # IGNORE: a round or a signer the driver would not keep now.
    if (reason := refusal(vote.height, vote.round, vote.validator, len(data))) is not None:
        return Checked(Verdict.IGNORE, reason)
    if validators is None:
        # IGNORE (not relayed) but kept: the height is in a checkpoint range whose set this node
        # cannot know before the range before it ends. The vote goes to the driver unverified,
        # which checks signer and signature once that height is current.
        return Checked(Verdict.IGNORE, UNKNOWN_VALIDATOR_SET, vote)
    # REJECT: the signature is not the named validator's over this chain id, height, round and step.
    try:
        vote.verify(chain_id)
    except InvalidVote:
        return Checked(Verdict.REJECT, "vote-bad-signature")
    return Checked(Verdict.ACCEPT, "ok", vote)


def check_proposal(
    data: bytes, *, chain_id: int, validators_at: ValidatorsAt, current_height: int,
    known: Callable[[bytes], Transaction | None] = lambda tx_hash: None, refusal: Refusal = _keeps_all,
) -> Checked:
    """`known(tx_hash)` finds transactions already verified here (the pool, a recent block): the
    block is assembled from them. Those it lacks make the answer MISSING_TRANSACTIONS, with a
    `PendingProposal` to complete (see the module docstring)."""
    # REJECT: not [proposal, header, hashes, evidence].
    try:
        proposal_bytes, header_fields, hashes, evidence = rlp.decode(data)
        proposal = Proposal.decode(proposal_bytes)
    except (rlp.DecodingError, ValueError, InvalidVote):
        return Checked(Verdict.REJECT, "malformed-proposal")
    # IGNORE: stale or too far ahead.
    if (stale := _height_verdict(proposal.height, current_height)) is not None:
        return stale
    validators = validators_at(proposal.height)
    # REJECT: not the proposer of this height and round (unknowable yet for a later range's height).
    if validators is not None and proposal.proposer != validators.proposer(proposal.height, proposal.round):
        return Checked(Verdict.REJECT, "wrong-proposer")
    # IGNORE: a round already proposed, beyond the window, or a signer the driver would not keep.
    if (reason := refusal(proposal.height, proposal.round, proposal.proposer, len(data))) is not None:
        if reason != ROUND_TAKEN:
            return Checked(Verdict.IGNORE, reason)
        # A second proposal for a round is never executed, but if its proposer signed it, it goes
        # to the driver (another block there is evidence of equivocation); REJECT a forgery.
        try:
            proposal.verify(chain_id)
        except InvalidVote:
            return Checked(Verdict.REJECT, "proposal-bad-signature")
        return Checked(Verdict.IGNORE, reason, proposal)
    # REJECT: not signed by that proposer for this chain.
    try:
        proposal.verify(chain_id)
    except InvalidVote:
        return Checked(Verdict.REJECT, "proposal-bad-signature")
    # REJECT: the block does not decode, or is not the one signed, or names another proposer.
    try:
        header = Header.from_fields(header_fields)
    except InvalidBlock:
        return Checked(Verdict.REJECT, "malformed-block")
    if (not isinstance(hashes, list) or len(hashes) > MAX_PROPOSAL_TRANSACTIONS
            or any(not isinstance(h, bytes) or len(h) != 32 for h in hashes)
            or not isinstance(evidence, list) or any(not isinstance(e, bytes) for e in evidence)):
        return Checked(Verdict.REJECT, "malformed-block")
    if header.hash != proposal.block_hash or header.proposer != proposal.proposer or header.number != proposal.height:
        return Checked(Verdict.REJECT, "proposal-block-mismatch")
    verdict, reason = (Verdict.IGNORE, UNKNOWN_VALIDATOR_SET) if validators is None else (Verdict.ACCEPT, "ok")
    # (IGNORE for an unknown set: kept for the driver, which checks the proposer once the height is current.)
    pending = PendingProposal(proposal, header, tuple(hashes), tuple(evidence), verdict, reason)
    return pending.complete(known) or Checked(Verdict.IGNORE, MISSING_TRANSACTIONS, pending)


def check_evidence(data: bytes, *, chain_id: int, validators_at: ValidatorsAt, current_height: int,
                   is_known: Callable[[bytes], bool]) -> Checked:
    """Equivocation evidence (consensus.evidence); `is_known`: offence key -> pending or committed."""
    # REJECT: larger than any record, or not one in canonical form.
    if len(data) > MAX_EVIDENCE_BYTES:
        return Checked(Verdict.REJECT, "evidence-oversized")
    try:
        evidence = decode_evidence(data)
    except InvalidEvidence:
        return Checked(Verdict.REJECT, "malformed-evidence")
    # IGNORE: of a height not being decided yet, or too old to act on.
    if evidence.height > current_height:
        return Checked(Verdict.IGNORE, "future-evidence")
    if current_height - evidence.height > MAX_EVIDENCE_AGE:
        return Checked(Verdict.IGNORE, "stale-evidence")
    # IGNORE: pending here already, or in a final block.
    if is_known(offence_of(evidence)):
        return Checked(Verdict.IGNORE, "known-evidence")
    validators = validators_at(evidence.height)
    if validators is None:
        return Checked(Verdict.IGNORE, UNKNOWN_VALIDATOR_SET)
    # REJECT: does not prove that a validator of that height signed both messages.
    try:
        evidence.verify(chain_id, validators)
    except InvalidEvidence:
        return Checked(Verdict.REJECT, "evidence-invalid")
    return Checked(Verdict.ACCEPT, "ok", evidence)
