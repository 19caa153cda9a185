"""The checkpoint-signatures contract (contracts/CheckpointSignatures.sol, run by the EVM):
`submitCheckpointSignature(uint64 number, bytes signature)`.

A validator posts its EIP-712 signature of checkpoint `number` (whose range is final); the
contract keeps each validator's latest and emits a `CheckpointSigned` log. A relayer reads them
(`signatures_of`, served by sidechain_getCheckpoint), checks each against the checkpoint digest and
submits them to CheckpointManager on L1, which verifies them again. Only a member of the set that
signs that checkpoint (the set in force during its range) may post.
"""

from __future__ import annotations

from eth_abi import decode, encode

from ...crypto import keccak256
from ..blocks import Log
from ..contracts import runtime_code
from ..state import StateReader
from .layout import array_data, mapping_slot, read_bytes, read_word, word_address

CHECKPOINT_SIGNATURES_ADDRESS = bytes.fromhex("00000000000000000000000000000000000c4ec1")
CHECKPOINT_SIGNED_TOPIC = keccak256(b"CheckpointSigned(uint64,address,bytes)")
SUBMIT_SIGNATURE_SELECTOR = keccak256(b"submitCheckpointSignature(uint64,bytes)")[:4]
SUBMIT_SIGNATURE_GAS = 500_000
"""The gas limit a validator's post carries: the first post of a checkpoint writes six fresh slots
(~140k gas) and the membership check reads one slot per validator (2,100 gas each, cold), so this
covers sets of well over 100 validators; what a post does not use is not paid."""

_SIGNERS, _SIGNATURES = 0, 1
SLOTS = {"_signers": _SIGNERS, "_signatures": _SIGNATURES}
"""The contract's state variables and the slots this module reads them at (a test holds them to the compiler's layout)."""


def code() -> bytes:
    return runtime_code("CheckpointSignatures")


def signatures_of(state: StateReader, number: int) -> dict[bytes, bytes]:
    """validator -> its latest posted signature of checkpoint `number`, in the order they first posted."""
    signers_slot = mapping_slot(_SIGNERS, number)
    first = array_data(signers_slot)
    signers = [word_address(read_word(state, CHECKPOINT_SIGNATURES_ADDRESS, first + i))
               for i in range(read_word(state, CHECKPOINT_SIGNATURES_ADDRESS, signers_slot))]
    by_validator = mapping_slot(_SIGNATURES, number)
    return {v: read_bytes(state, CHECKPOINT_SIGNATURES_ADDRESS, mapping_slot(by_validator, v)) for v in signers}


def encode_submit_signature(number: int, signature: bytes) -> bytes:
    """Calldata of submitCheckpointSignature(number, signature)."""
    return SUBMIT_SIGNATURE_SELECTOR + encode(["uint64", "bytes"], [number, signature])


def decode_checkpoint_signed(log: Log) -> tuple[int, bytes, bytes] | None:
    """(checkpoint number, validator, signature) of a CheckpointSigned log, or None for any other log."""
    if log.address != CHECKPOINT_SIGNATURES_ADDRESS or len(log.topics) != 3 or log.topics[0] != CHECKPOINT_SIGNED_TOPIC:
        return None
    (signature,) = decode(["bytes"], log.data)
    return int.from_bytes(log.topics[1], "big"), log.topics[2][12:], signature
