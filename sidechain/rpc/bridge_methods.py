"""The bridge over JSON-RPC: where a deposit stands, what a withdrawal's exit on L1 needs, and what
was minted and burned. Reads only; users act through ordinary transactions to the bridge contract."""

from __future__ import annotations

from ..chain.system import bridge, validator_set
from ..chain.system.tokens import token_address
from ..storage.checkpoints import withdrawal_proof
from . import codec


def sidechain_getDepositStatus(ctx, deposit_id: int) -> dict:
    """Where deposit `deposit_id` stands on the sidechain: "minted", "accepted" (more than 2/3
    affirmed; it mints once every lower id has), "affirming" (some affirmations, no quorum yet; a
    disagreement shows as several contents) or "unseen" (no validator affirmed it yet)."""
    state = ctx.chain.state()
    validators = validator_set.current_set(state)
    affirmed = bridge.affirmations(state, deposit_id, validators.addresses)
    contents = []
    for content_hash in dict.fromkeys(affirmed.values()):
        found = bridge.affirmed_content(state, deposit_id, content_hash)
        if found is None:
            continue
        content, voters = found
        contents.append({
            "contentHash": codec.hex_data(content_hash), "l1Token": codec.hex_data(content.l1_token),
            "recipient": codec.hex_data(content.recipient), "amount": hex(content.amount),
            "sidechainToken": None if content.l1_token == bridge.ETH else codec.hex_data(token_address(content.l1_token)),
            "affirmedBy": [codec.hex_data(v) for v in voters],
            "power": hex(sum(validators.power_of(v) for v in voters)),
        })
    minted = bridge.minted(state, deposit_id)
    if minted is not None:
        status = "minted"
    elif bridge.accepted(state, deposit_id):
        status = "accepted"
    else:
        status = "affirming" if contents else "unseen"
    return {
        "depositId": hex(deposit_id), "status": status,
        "mintedInBlock": hex(minted[1]) if minted else None,
        "mintedContentHash": codec.hex_data(minted[0]) if minted else None,
        "nextDepositToMint": hex(bridge.next_deposit_id(state)),
        "contents": contents,
        "totalPower": hex(validators.total_power),
    }


def withdrawal_view(w: bridge.Withdrawal) -> dict:
    return {"id": hex(w.withdrawal_id), "l1Token": codec.hex_data(w.l1_token), "l1Recipient": codec.hex_data(w.l1_recipient),
            "amount": hex(w.amount), "blockNumber": hex(w.block_number), "from": codec.hex_data(w.sender)}


def sidechain_getWithdrawal(ctx, withdrawal_id: int) -> dict | None:
    found = bridge.withdrawal(ctx.chain.state(), withdrawal_id)
    return None if found is None else withdrawal_view(found)


def sidechain_getWithdrawalProof(ctx, withdrawal_id: int) -> dict:
    """What RootBridge.exit needs: the withdrawal, the checkpoint whose withdrawalRoot holds it and
    the Merkle proof. An error (-32001) until the checkpoint's range is final; exit works once that
    checkpoint is on L1 (CheckpointManager.lastCheckpoint)."""
    found, number, proof = withdrawal_proof(ctx.chain, withdrawal_id)
    return {"withdrawal": withdrawal_view(found), "checkpointNumber": hex(number),
            "proof": [codec.hex_data(p) for p in proof]}


def sidechain_getBridgeTotals(ctx, l1_token: bytes) -> dict:
    """Minted and burned amounts of one L1 token (0x0 = ETH) over the chain's life; for ETH also the
    genesis supply (locked in RootBridge when the network was deployed), which may exit as well."""
    state = ctx.chain.state()
    minted, burned = bridge.totals(state, l1_token)
    token = None if l1_token == bridge.ETH else bridge.sidechain_token(state, l1_token)
    genesis = bridge.genesis_supply(state) if l1_token == bridge.ETH else 0
    return {"l1Token": codec.hex_data(l1_token), "minted": hex(minted), "burned": hex(burned), "genesisSupply": hex(genesis),
            "sidechainToken": codec.hex_data(token) if token else None}
