"""The validator-set contract (contracts/ValidatorSet.sol, run by the EVM like any contract), as
the node, consensus, the RPC and the checkpoint builder read it: straight from its storage.

    voteAddValidator(address validator, uint64 power)
    voteRemoveValidator(address validator)
    validators() -> (address[], uint256[])          the set voting now
    pendingValidators() -> (address[], uint256[])   the set from the next boundary on
    validatorSetId() -> uint64                      1 at genesis, + 1 at every change

A change that more than 2/3 of the current power voted for becomes pending at once; after the last
block E = c * K of checkpoint c's range the node makes the system call `endBlock()`, which records
the set that signs checkpoint c and makes the pending set current from block E + 1 on.

The slots below are the contract's (see its @dev notes); `genesis_storage` writes them at genesis.
"""

from __future__ import annotations

from ...crypto import keccak256
from ..codec import uint
from ..contracts import runtime_code
from ..state import StateReader
from ..validators import ValidatorSet
from .layout import array_storage, key, mapping_slot, read_word, read_words, word_address

VALIDATOR_SET_ADDRESS = bytes.fromhex("00000000000000000000000000000000000a11d8")
MAX_POWER = 2**32
END_BLOCK_CALLDATA = keccak256(b"endBlock()")[:4]
"""The system call the node makes after each block that ends a checkpoint range."""
VOTE_CAST_TOPIC = keccak256(b"ValidatorVoteCast(address,address,bool,uint64)")
CHANGE_SCHEDULED_TOPIC = keccak256(b"ValidatorChangeScheduled(address,bool,uint64)")

_SET_ID, _INTERVAL, _HAS_PENDING, _PENDING, _SETS, _CHECKPOINT_SET, _SET_AFTER_CHECKPOINT, _VOTERS = range(8)
SLOTS = {"_setId": _SET_ID, "_checkpointInterval": _INTERVAL, "_hasPending": _HAS_PENDING, "_pending": _PENDING,
         "_sets": _SETS, "_checkpointSetId": _CHECKPOINT_SET, "_setAfterCheckpoint": _SET_AFTER_CHECKPOINT, "_voters": _VOTERS}
"""The contract's state variables and the slots this module reads them at (a test holds them to the compiler's layout)."""
SET_ID_KEY = key(_SET_ID)
"""The storage key of the current set id (eth_getStorageAt, eth_getProof)."""


def code() -> bytes:
    return runtime_code("ValidatorSet")


def _validator_word(address: bytes, power: int) -> int:
    return (power << 160) | int.from_bytes(address, "big")


def _read_set(state: StateReader, slot: int) -> ValidatorSet:
    words = read_words(state, VALIDATOR_SET_ADDRESS, slot)
    return ValidatorSet(tuple(word_address(w) for w in words), tuple(w >> 160 for w in words))


def current_set_id(state: StateReader) -> int:
    return read_word(state, VALIDATOR_SET_ADDRESS, _SET_ID)


def validator_set(state: StateReader, set_id: int) -> ValidatorSet:
    found = _read_set(state, mapping_slot(_SETS, set_id))
    if not found.addresses:
        raise LookupError(f"no validator set {set_id} in the state")
    return found


def current_set(state: StateReader) -> ValidatorSet:
    """The set that votes on the block after this state."""
    return validator_set(state, current_set_id(state))


def pending_set(state: StateReader) -> ValidatorSet:
    """The set that will vote from the next checkpoint boundary on (the current one if no change passed)."""
    if read_word(state, VALIDATOR_SET_ADDRESS, _HAS_PENDING):
        return _read_set(state, _PENDING)
    return current_set(state)


def checkpoint_set(state: StateReader, number: int) -> ValidatorSet | None:
    """The set that signs checkpoint `number`; None until its last block has been executed."""
    set_id = read_word(state, VALIDATOR_SET_ADDRESS, mapping_slot(_CHECKPOINT_SET, number))
    return validator_set(state, set_id) if set_id else None


def set_after_checkpoint(state: StateReader, number: int) -> ValidatorSet | None:
    """The set that took over right after checkpoint `number`, or None if the set did not change there."""
    set_id = read_word(state, VALIDATOR_SET_ADDRESS, mapping_slot(_SET_AFTER_CHECKPOINT, number))
    return validator_set(state, set_id) if set_id else None


def genesis_storage(validators: ValidatorSet, checkpoint_interval: int) -> dict[bytes, bytes]:
    """The contract's storage at genesis: set 1 is the genesis set."""
    words = {key(_SET_ID): uint(1), key(_INTERVAL): uint(checkpoint_interval)}
    words.update(array_storage(mapping_slot(_SETS, 1), [_validator_word(a, p) for a, p in zip(validators.addresses, validators.powers)]))
    return {k: v for k, v in words.items() if v}
