"""sidechain_getEvidence: the equivocation evidence final blocks hold, with both signed messages.

    sidechain_getEvidence({"fromBlock": "0x0", "toBlock": "latest", "validator": "0x..."})  (each field optional)

Each result names the block that committed it and carries the record itself (`raw`, what
`sidechain.consensus.evidence.decode_evidence` reads) and both signed messages, so anyone holding
the validator set of that height can check it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..consensus.evidence import Evidence, decode_evidence
from ..consensus.messages import Proposal, Step
from ..crypto import keccak256
from . import codec
from .errors import BadParam, LimitExceeded

MAX_EVIDENCE_RESULTS = 1_000
_FIELDS = frozenset(("fromBlock", "toBlock", "validator"))


@dataclass(frozen=True, slots=True)
class EvidenceQuery:
    from_block: int | str
    to_block: int | str
    validator: bytes | None
    """Only evidence against this validator; None for all."""


ALL_EVIDENCE = EvidenceQuery("earliest", "latest", None)
"""No filter: every final block, every validator."""


def evidence_query(value: object) -> EvidenceQuery:
    """The filter object."""
    if type(value) is not dict or not set(value) <= _FIELDS:
        raise BadParam(f"expected a filter object with {', '.join(sorted(_FIELDS))} (each optional), got {codec._show(value)}")
    return EvidenceQuery(
        codec.block_number(value["fromBlock"]) if value.get("fromBlock") is not None else "earliest",
        codec.block_number(value["toBlock"]) if value.get("toBlock") is not None else "latest",
        codec.address(value["validator"]) if value.get("validator") is not None else None,
    )


def sidechain_getEvidence(ctx, query: EvidenceQuery) -> list[dict]:
    """Committed evidence in the block range, oldest first, at most MAX_EVIDENCE_RESULTS."""
    first = ctx.view.number_of(query.from_block)
    last = min(ctx.view.number_of(query.to_block), ctx.chain.head.number)
    results = []
    for block in ctx.chain.evidence_index().query(first, last, query.validator, limit=MAX_EVIDENCE_RESULTS + 1):
        for position, record in enumerate(block.records):
            evidence = decode_evidence(record)
            if query.validator is not None and evidence.validator != query.validator:
                continue
            results.append(evidence_view(evidence, record, block.number, block.block_hash, position))
            if len(results) > MAX_EVIDENCE_RESULTS:
                raise LimitExceeded(f"query returned more than {MAX_EVIDENCE_RESULTS} results: narrow the block range "
                                    f"(the limit was reached at block {block.number})")
    return results


def evidence_view(evidence: Evidence, record: bytes, number: int, block_hash: bytes, position: int) -> dict:
    return {
        "type": evidence.name, "hash": codec.hex_data(keccak256(record)), "raw": codec.hex_data(record),
        "blockNumber": hex(number), "blockHash": codec.hex_data(block_hash), "index": hex(position),
        "validator": codec.hex_data(evidence.validator), "height": hex(evidence.height), "round": hex(evidence.round),
        "step": Step(evidence.step).name.lower(),
        "messages": [_message_view(m) for m in evidence.messages],
    }


def _message_view(message) -> dict:
    view = {"blockHash": codec.hex_data(message.block_hash) if message.block_hash else None,
            "signature": codec.hex_data(message.signature), "raw": codec.hex_data(message.encode())}
    if isinstance(message, Proposal):
        view["polRound"] = hex(message.pol_round) if message.pol_round >= 0 else None
    return view
