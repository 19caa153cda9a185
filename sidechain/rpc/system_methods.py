"""The other system contracts over JSON-RPC: the validator sets as the ValidatorSet contract holds
them, and every system contract's address and ABI, so a client needs nothing but the node to call them."""

from __future__ import annotations

from ..chain.system import system_contracts, validator_set
from .checkpoint_methods import validator_set_view


def sidechain_getValidators(ctx, block: int | str = "latest") -> dict:
    """The set voting on the block after `block`, the pending set (what it becomes at the next
    checkpoint boundary) and the set id."""
    number = ctx.view.state_number(block)
    state = ctx.chain.state(number)
    return {"setId": hex(validator_set.current_set_id(state)), "current": validator_set_view(validator_set.current_set(state)),
            "pending": validator_set_view(validator_set.pending_set(state))}


def sidechain_getSystemContracts(ctx) -> dict:
    """The system contracts' addresses and JSON ABIs (bridge, validator set, checkpoint signatures,
    and the ABI every bridged ERC-20 ledger answers to)."""
    return system_contracts()
