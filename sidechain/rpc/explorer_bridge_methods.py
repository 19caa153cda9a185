"""The bridge as the explorer lists it: deposits and withdrawals by id, and every token's supply.

    sidechain_getDeposits(fromId, count)       each as sidechain_getDepositStatus
    sidechain_getWithdrawals(fromId, count)    each as sidechain_getWithdrawal, with its checkpoint
    sidechain_getBridgeOverview()              ETH and each bridged token: minted, burned, supply

Lists run from `fromId` upward, at most MAX_LIST of them; ids start at 1 (a `fromId` of 0 starts
there too). The bridged tokens come from the node's index of the bridge's mints
(storage/address_index.py): Bridge.sol keeps them in a mapping, which cannot be listed.
"""

from __future__ import annotations

from ..chain.checkpoints import checkpoint_of_block
from ..chain.system import bridge, tokens
from . import codec
from .bridge_methods import withdrawal_view, sidechain_getDepositStatus
from .ots_methods import json_quantity

MAX_LIST = 100


def list_count(value: object) -> int:
    """How many records a list call returns: 0 to MAX_LIST (a JSON integer or hex quantity)."""
    count = json_quantity(value)
    if count > MAX_LIST:
        raise codec.BadParam(f"expected a count of at most {MAX_LIST}, got {count}")
    return count


def sidechain_getWithdrawals(ctx, from_id: int, count: int) -> dict:
    """Withdrawals `from_id`.. (at most `count`), each with the checkpoint whose range holds its
    block and whether that range is final (then sidechain_getWithdrawalProof answers for it);
    `count` is how many withdrawals the chain has recorded."""
    state = ctx.chain.state()
    next_id = bridge.next_withdrawal_id(state)
    interval = ctx.chain.genesis.checkpoint_interval
    head = ctx.chain.head.number
    views = []
    for withdrawal_id in range(max(from_id, 1), min(max(from_id, 1) + count, next_id)):
        found = bridge.withdrawal(state, withdrawal_id)
        if found is None:
            continue
        number = checkpoint_of_block(found.block_number, interval)
        view = withdrawal_view(found)
        view["checkpointNumber"] = hex(number)
        view["final"] = number * interval <= head
        views.append(view)
    return {"count": hex(max(next_id - 1, 0)), "withdrawals": views}


def sidechain_getDeposits(ctx, from_id: int, count: int) -> dict:
    """Deposits `from_id`.. (at most `count`) up to the highest the sidechain knows of (minted or
    affirmed); ids beyond answer through sidechain_getDepositStatus as "unseen"."""
    next_id = bridge.next_deposit_id(ctx.chain.state())
    highest = ctx.chain.address_index().highest_affirmed_deposit()
    last = max(next_id - 1, highest or 0)
    first = max(from_id, 1)
    deposits = [sidechain_getDepositStatus(ctx, i) for i in range(first, min(first + count, last + 1))]
    return {"nextDepositToMint": hex(next_id), "highestSeen": None if highest is None else hex(highest), "deposits": deposits}


def sidechain_getBridgeOverview(ctx) -> dict:
    """ETH, then every token the bridge has minted (by L1 address): what was minted and burned, and
    the supply on the sidechain (for ETH genesis supply + minted - burned; for a token its ERC-20
    totalSupply), so the explorer shows each token's invariant against what RootBridge locks."""
    state = ctx.chain.state()
    minted, burned = bridge.totals(state, bridge.ETH)
    genesis = bridge.genesis_supply(state)
    entries = [{
        "l1Token": codec.hex_data(bridge.ETH), "sidechainToken": None, "name": "Ether", "symbol": "ETH", "decimals": hex(18),
        "minted": hex(minted), "burned": hex(burned), "genesisSupply": hex(genesis), "totalSupply": hex(genesis + minted - burned),
    }]
    for l1_token, token in ctx.chain.address_index().bridged_tokens():
        meta = tokens.metadata(state, token)
        _, name, symbol, decimals = meta if meta is not None else (l1_token, "", "", 18)
        minted, burned = bridge.totals(state, l1_token)
        entries.append({
            "l1Token": codec.hex_data(l1_token), "sidechainToken": codec.hex_data(token), "name": name, "symbol": symbol,
            "decimals": hex(decimals), "minted": hex(minted), "burned": hex(burned), "genesisSupply": "0x0",
            "totalSupply": hex(tokens.total_supply(state, token)),
        })
    return {"nextDepositToMint": hex(bridge.next_deposit_id(state)), "withdrawalCount": hex(bridge.next_withdrawal_id(state) - 1),
            "tokens": entries}
