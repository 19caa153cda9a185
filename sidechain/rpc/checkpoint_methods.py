"""sidechain_getCheckpoint and sidechain_getBlockProof: what a relayer submits to CheckpointManager
and what anyone needs to prove a sidechain block there."""

from __future__ import annotations

from ..chain.checkpoints import block_proof, checkpoint_of_block
from ..chain.system import decode_checkpoint_signed
from ..chain.validators import ValidatorSet
from ..storage.checkpoints import final_checkpoint
from . import codec

SIGNATURE_WINDOW = 256
"""Blocks after a range's end in which validators' signatures of it are looked for."""


def _signatures(ctx, number: int, end: int) -> dict[bytes, bytes]:
    """validator -> its first CheckpointSigned signature of checkpoint `number` (the system contract
    only accepts them from the set that signs that checkpoint)."""
    found: dict[bytes, bytes] = {}
    for n in range(end + 1, min(ctx.chain.height, end + SIGNATURE_WINDOW) + 1):
        block_hash = ctx.chain.store.get_canonical_hash(n)
        for receipt in ctx.chain.receipts(block_hash):
            for log in receipt.logs:
                signed = decode_checkpoint_signed(log)
                if signed is not None and signed[0] == number:
                    found.setdefault(signed[1], signed[2])
    return found


def validator_set_view(validators: ValidatorSet) -> dict:
    """A set as CheckpointManager takes it: ascending addresses and their powers."""
    addresses, powers = validators.sorted_for_l1()
    return {"validators": [codec.hex_data(a) for a in addresses], "powers": [hex(p) for p in powers],
            "hash": codec.hex_data(validators.l1_hash())}


def sidechain_getCheckpoint(ctx, number: int) -> dict:
    """The content of checkpoint `number` (CheckpointManager's Checkpoint struct) once its range is
    final, the set that signs it, the next set it hands over (or null), and the validators'
    signatures posted on the sidechain so far (unchecked: verify them against the EIP-712 digest
    before use)."""
    checkpoint = final_checkpoint(ctx.chain, number)
    content = checkpoint.content
    signatures = _signatures(ctx, number, content.end_block)
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
