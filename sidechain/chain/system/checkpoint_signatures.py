"""The checkpoint-signatures system contract: `submitCheckpointSignature(uint64 number, bytes signature)`.

A validator posts its EIP-712 signature of checkpoint `number` (whose range is final) as a
`CheckpointSigned` log; a relayer gathers those logs, checks each signature against the checkpoint
digest and submits them to CheckpointManager on L1, which verifies them again. Only a member of
the set that signs that checkpoint (the set in force during its range) may post.
"""

from __future__ import annotations

from eth_abi import decode, encode

from ..blocks import Log
from .base import Call, Event, Function, Revert, function_table, topic_address, topic_uint
from .validator_set import checkpoint_set

CHECKPOINT_SIGNATURES_ADDRESS = bytes.fromhex("00000000000000000000000000000000000c4ec1")
EVENTS = (Event("CheckpointSigned", ("uint64 indexed number", "address indexed validator", "bytes signature")),)
CHECKPOINT_SIGNED_TOPIC = EVENTS[0].topic
SYSTEM_CALL_GAS = 5_000
"""Execution gas of submitCheckpointSignature on top of the intrinsic gas."""


def _submit(call: Call, number: int, signature: bytes) -> tuple:
    ctx = call.ctx
    if number < 1:
        raise Revert("checkpoint numbers start at 1")
    if number * ctx.checkpoint_interval >= ctx.block_number:
        raise Revert(f"checkpoint {number} ends at block {number * ctx.checkpoint_interval}, which is not final yet")
    if len(signature) != 65:
        raise Revert(f"a checkpoint signature is 65 bytes, got {len(signature)}")
    signers = checkpoint_set(call.state, number)
    if signers is None or not signers.power_of(ctx.sender):
        raise Revert(f"0x{ctx.sender.hex()} is not in the validator set that signs checkpoint {number}")
    call.logs.append(checkpoint_signed_log(number, ctx.sender, signature))
    return ()


FUNCTIONS = function_table(
    Function("submitCheckpointSignature", ("uint64 number", "bytes signature"), (), SYSTEM_CALL_GAS, _submit),
)
SUBMIT_SIGNATURE_SELECTOR = next(iter(FUNCTIONS))


def encode_submit_signature(number: int, signature: bytes) -> bytes:
    """Calldata of submitCheckpointSignature(number, signature)."""
    return SUBMIT_SIGNATURE_SELECTOR + encode(["uint64", "bytes"], [number, signature])


def checkpoint_signed_log(number: int, validator: bytes, signature: bytes) -> Log:
    return Log(CHECKPOINT_SIGNATURES_ADDRESS, (CHECKPOINT_SIGNED_TOPIC, topic_uint(number), topic_address(validator)),
               encode(["bytes"], [signature]))


def decode_checkpoint_signed(log: Log) -> tuple[int, bytes, bytes] | None:
    """(checkpoint number, validator, signature) of a CheckpointSigned log, or None for any other log."""
    if log.address != CHECKPOINT_SIGNATURES_ADDRESS or not log.topics or log.topics[0] != CHECKPOINT_SIGNED_TOPIC:
        return None
    (signature,) = decode(["bytes"], log.data)
    return int.from_bytes(log.topics[1], "big"), log.topics[2][12:], signature
