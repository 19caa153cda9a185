"""The checkpoint-signatures system contract: `submitCheckpointSignature(uint64 number, bytes signature)`.

A validator posts its EIP-712 signature of checkpoint `number` (whose range is final); it is kept
in the contract's storage (a later post by the same validator replaces it, so a validator that
signed with a wrong configuration can correct itself) and emitted as a `CheckpointSigned` log. A
relayer reads them (`signatures_of`, served by sidechain_getCheckpoint), checks each against the
checkpoint digest and submits them to CheckpointManager on L1, which verifies them again. Only a
member of the set that signs that checkpoint (the set in force during its range) may post.
"""

from __future__ import annotations

from eth_abi import decode, encode

from ..blocks import Log
from ..state import StateReader
from .base import (
    Call, Event, Function, Revert, function_table, read_record, record_key, topic_address, topic_uint, write_record,
)
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
    state = call.state
    signers = read_record(state, CHECKPOINT_SIGNATURES_ADDRESS, _signers_key(number)) or []
    if ctx.sender not in signers:
        write_record(state, CHECKPOINT_SIGNATURES_ADDRESS, _signers_key(number), signers + [ctx.sender])
    state.set_storage(CHECKPOINT_SIGNATURES_ADDRESS, _signature_key(number, ctx.sender), signature)
    call.logs.append(checkpoint_signed_log(number, ctx.sender, signature))
    return ()


def _signers_key(number: int) -> bytes:
    return record_key("checkpoint.signers", number)


def _signature_key(number: int, validator: bytes) -> bytes:
    return record_key("checkpoint.signature", number, validator)


def signatures_of(state: StateReader, number: int) -> dict[bytes, bytes]:
    """validator -> its latest posted signature of checkpoint `number`, in the order they first posted."""
    signers = read_record(state, CHECKPOINT_SIGNATURES_ADDRESS, _signers_key(number)) or []
    return {v: state.get_storage(CHECKPOINT_SIGNATURES_ADDRESS, _signature_key(number, v)) for v in signers}


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
