"""Built-in contracts at fixed system addresses, called with ordinary signed transactions and the
Solidity ABI, so standard tools can call them. No EVM: each is a Python function of the call.

CHECKPOINT_SIGNATURES: `submitCheckpointSignature(uint64 number, bytes signature)`. A validator posts
its EIP-712 signature of checkpoint `number` (whose range is final) as a `CheckpointSigned` log; a
relayer gathers those logs, checks each signature against the checkpoint digest and submits them to
CheckpointManager on L1, which verifies them again. A call that breaks a rule is included with
status 0 and pays its gas, as a reverted call does on Ethereum.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError

from ..crypto import keccak256
from .blocks import Log

CHECKPOINT_SIGNATURES_ADDRESS = bytes.fromhex("00000000000000000000000000000000000c4ec1")
SUBMIT_SIGNATURE_SELECTOR = keccak256(b"submitCheckpointSignature(uint64,bytes)")[:4]
CHECKPOINT_SIGNED_TOPIC = keccak256(b"CheckpointSigned(uint64,address,bytes)")
SYSTEM_CALL_GAS = 5_000
"""Execution gas of a system call on top of the intrinsic gas (what a small contract call costs)."""


@dataclass(frozen=True, slots=True)
class SystemOutcome:
    success: bool
    gas: int
    logs: tuple[Log, ...] = ()


def encode_submit_signature(number: int, signature: bytes) -> bytes:
    """Calldata of submitCheckpointSignature(number, signature)."""
    return SUBMIT_SIGNATURE_SELECTOR + encode(["uint64", "bytes"], [number, signature])


def checkpoint_signed_log(number: int, validator: bytes, signature: bytes) -> Log:
    return Log(CHECKPOINT_SIGNATURES_ADDRESS,
               (CHECKPOINT_SIGNED_TOPIC, number.to_bytes(32, "big"), validator.rjust(32, b"\x00")),
               encode(["bytes"], [signature]))


def decode_checkpoint_signed(log: Log) -> tuple[int, bytes, bytes] | None:
    """(checkpoint number, validator, signature) of a CheckpointSigned log, or None for any other log."""
    if log.address != CHECKPOINT_SIGNATURES_ADDRESS or not log.topics or log.topics[0] != CHECKPOINT_SIGNED_TOPIC:
        return None
    (signature,) = decode(["bytes"], log.data)
    return int.from_bytes(log.topics[1], "big"), log.topics[2][12:], signature


def call_checkpoint_signatures(sender: bytes, data: bytes, *, block_number: int, validators: frozenset[bytes],
                               checkpoint_interval: int) -> SystemOutcome:
    """submitCheckpointSignature: only a validator, only for a checkpoint whose range is final, only
    a 65-byte signature."""
    if data[:4] != SUBMIT_SIGNATURE_SELECTOR:
        return SystemOutcome(False, SYSTEM_CALL_GAS)
    try:
        number, signature = decode(["uint64", "bytes"], data[4:])
    except (DecodingError, ValueError, TypeError):
        return SystemOutcome(False, SYSTEM_CALL_GAS)
    if sender not in validators or number < 1 or number * checkpoint_interval >= block_number or len(signature) != 65:
        return SystemOutcome(False, SYSTEM_CALL_GAS)
    return SystemOutcome(True, SYSTEM_CALL_GAS, (checkpoint_signed_log(number, sender, signature),))
