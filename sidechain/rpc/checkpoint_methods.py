"""sidechain_getCheckpoint and sidechain_getBlockProof: what a relayer submits to CheckpointManager
and what anyone needs to prove a sidechain block there."""

from __future__ import annotations

from ..chain.checkpoints import block_proof, checkpoint_of_block
from ..chain.system.checkpoint_signatures import signatures_of
from ..chain.validators import ValidatorSet
from ..storage.checkpoints import final_checkpoint
from . import codec


def validator_set_view(validators: ValidatorSet) -> dict:
    """A set as CheckpointManager takes it: ascending addresses and their powers."""
    addresses, powers = validators.sorted_for_l1()
    return {"validators": [codec.hex_data(a) for a in addresses], "powers": [hex(p) for p in powers],
            "hash": codec.hex_data(validators.l1_hash())}


def sidechain_getCheckpoint(ctx, number: int) -> dict:
    """The content of checkpoint `number` (CheckpointManager's Checkpoint struct) once its range is
    final, the set that signs it, the next set it hands over (or null), and each validator's latest
    signature posted on the sidechain so far (unchecked: verify them against the EIP-712 digest
    before use)."""
    checkpoint = final_checkpoint(ctx.chain, number)
    content = checkpoint.content
    signatures = signatures_of(ctx.chain.state(), number)
    return {
        "sidechainChainId": hex(content.sidechain_chain_id), "number": hex(content.number),
        "startBlock": hex(content.start_block), "endBlock": hex(content.end_block),
        "blockRoot": codec.hex_data(content.block_root), "withdrawalRoot": codec.hex_data(content.withdrawal_root),
        "nextValidatorSetHash": codec.hex_data(content.next_validator_set_hash),
        "withdrawalCount": hex(len(checkpoint.withdrawals)),
        "signers": validator_set_view(checkpoint.signers),
        "nextValidatorSet": validator_set_view(checkpoint.next_validators) if checkpoint.next_validators else None,
        "signatures": [{"validator": codec.hex_data(v), "signature": codec.hex_data(s)} for v, s in sorted(signatures.items())],
    }


def sidechain_getBlockProof(ctx, block: int) -> dict:
    """What CheckpointManager.verifyBlock needs for final block `block`."""
    number = checkpoint_of_block(block, ctx.chain.genesis.checkpoint_interval)
    checkpoint = final_checkpoint(ctx.chain, number)
    start, hashes = checkpoint.content.start_block, list(checkpoint.block_hashes)
    return {
        "checkpointNumber": hex(number), "blockNumber": hex(block), "blockHash": codec.hex_data(hashes[block - start]),
        "proof": [codec.hex_data(p) for p in block_proof(start, hashes, block)],
    }
