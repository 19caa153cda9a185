"""The validator-set system contract: validators vote to add or remove a validator; a change that
more than 2/3 of the current voting power voted for takes effect at the next checkpoint boundary.

    voteAddValidator(address validator, uint64 power)
    voteRemoveValidator(address validator)
    validators() -> (address[], uint256[])          the set voting now
    pendingValidators() -> (address[], uint256[])   the set from the next boundary on
    validatorSetId() -> uint64                      1 at genesis, + 1 at every change

Timeline of a change: votes gather during checkpoint c's range; the vote that crosses 2/3 applies
the change to the pending set. At the end of the range's last block E = c * K, the pending set
becomes current from block E + 1 on (`end_block`). Checkpoint c is signed by the old set, and its
nextValidatorSetHash hands the new set to CheckpointManager on L1.

Storage: the set of every id (kept: signatures of older checkpoints are checked against theirs),
the set id each checkpoint was signed under, and each open proposal's voters. Votes count only
for the set id they were cast under, so a change of set discards stale ones.
"""

from __future__ import annotations

from ...errors import mismatch
from ..state import StateOverlay, StateReader
from ..validators import ValidatorSet
from .base import (
    Call, Event, Function, Revert, function_table, read_record, read_uint, record_key, topic_address, write_record,
    write_uint,
)

VALIDATOR_SET_ADDRESS = bytes.fromhex("00000000000000000000000000000000000a11d8")
VOTE_GAS = 20_000
VIEW_GAS = 2_000
MAX_POWER = 2**32

_SET_ID = record_key("validators.set-id")
_PENDING = record_key("validators.pending")

EVENTS = (
    Event("ValidatorVoteCast", ("address indexed voter", "address indexed validator", "bool add", "uint64 power")),
    Event("ValidatorChangeScheduled", ("address indexed validator", "bool add", "uint64 power")),
)
"""ValidatorChangeScheduled: the change passed and takes effect after the current checkpoint range."""
VOTE_CAST_TOPIC, CHANGE_SCHEDULED_TOPIC = (e.topic for e in EVENTS)


def _set_key(set_id: int) -> bytes:
    return record_key("validators.set", set_id)


def _checkpoint_set_key(number: int) -> bytes:
    return record_key("validators.checkpoint-set", number)


def _change_key(number: int) -> bytes:
    return record_key("validators.changed-after-checkpoint", number)


def _proposal_key(set_id: int, add: bool, validator: bytes, power: int) -> bytes:
    return record_key("validators.proposal", set_id, int(add), validator, power)


# --- reads for the node, the RPC and other system contracts ---------------------------------------


def current_set_id(state: StateReader) -> int:
    return read_uint(state, VALIDATOR_SET_ADDRESS, _SET_ID)


def validator_set(state: StateReader, set_id: int) -> ValidatorSet:
    data = state.get_storage(VALIDATOR_SET_ADDRESS, _set_key(set_id))
    if not data:
        raise LookupError(f"no validator set {set_id} in the state")
    return ValidatorSet.decode(data)


def current_set(state: StateReader) -> ValidatorSet:
    """The set that votes on the block after this state."""
    return validator_set(state, current_set_id(state))


def pending_set(state: StateReader) -> ValidatorSet:
    """The set that will vote from the next checkpoint boundary on (the current one if no change passed)."""
    data = state.get_storage(VALIDATOR_SET_ADDRESS, _PENDING)
    return ValidatorSet.decode(data) if data else current_set(state)


def checkpoint_set(state: StateReader, number: int) -> ValidatorSet | None:
    """The set that signs checkpoint `number`; None until its last block has been executed."""
    set_id = read_uint(state, VALIDATOR_SET_ADDRESS, _checkpoint_set_key(number))
    return validator_set(state, set_id) if set_id else None


def set_after_checkpoint(state: StateReader, number: int) -> ValidatorSet | None:
    """The set that took over right after checkpoint `number`, or None if the set did not change there."""
    set_id = read_uint(state, VALIDATOR_SET_ADDRESS, _change_key(number))
    return validator_set(state, set_id) if set_id else None


def genesis_storage(validators: ValidatorSet) -> dict[bytes, bytes]:
    """The contract's storage at genesis: set 1 is the genesis set."""
    return {_SET_ID: (1).to_bytes(1, "big"), _set_key(1): validators.encode()}


def end_block(state: StateOverlay, block_number: int, interval: int) -> None:
    """After the last block of a checkpoint range: remember which set signs it, and switch to the
    pending set if a change passed during the range."""
    if interval <= 0 or block_number % interval:
        return
    number = block_number // interval
    set_id = current_set_id(state)
    write_uint(state, VALIDATOR_SET_ADDRESS, _checkpoint_set_key(number), set_id)
    pending = state.get_storage(VALIDATOR_SET_ADDRESS, _PENDING)
    if not pending:
        return
    state.set_storage(VALIDATOR_SET_ADDRESS, _PENDING, b"")
    if pending == state.get_storage(VALIDATOR_SET_ADDRESS, _set_key(set_id)):
        return  # changes that cancelled out
    write_uint(state, VALIDATOR_SET_ADDRESS, _SET_ID, set_id + 1)
    state.set_storage(VALIDATOR_SET_ADDRESS, _set_key(set_id + 1), pending)
    write_uint(state, VALIDATOR_SET_ADDRESS, _change_key(number), set_id + 1)


# --- the contract's functions ---------------------------------------------------------------------


def _vote(call: Call, add: bool, validator: bytes, power: int) -> tuple:
    state, voter = call.state, call.ctx.sender
    set_id = current_set_id(state)
    current = validator_set(state, set_id)
    if not current.power_of(voter):
        raise Revert(f"only a validator may vote: 0x{voter.hex()} is not in validator set {set_id}")
    pending = pending_set(state)
    if add:
        if validator == bytes(20):
            raise Revert("cannot add the zero address")
        if not 0 < power <= MAX_POWER:
            raise Revert(mismatch("voting power", expected=f"1..{MAX_POWER}", got=power))
        if pending.power_of(validator):
            raise Revert(f"0x{validator.hex()} is already a validator (or is being added)")
    else:
        if not pending.power_of(validator):
            raise Revert(f"0x{validator.hex()} is not a validator (or is already being removed)")
        if len(pending.addresses) == 1:
            raise Revert("cannot remove the last validator")
    key = _proposal_key(set_id, add, validator, power)
    voters = read_record(state, VALIDATOR_SET_ADDRESS, key) or []
    if voter in voters:
        raise Revert(f"0x{voter.hex()} already voted for this change")
    voters.append(voter)
    call.emit(VALIDATOR_SET_ADDRESS, (VOTE_CAST_TOPIC, topic_address(voter), topic_address(validator)),
              _flag_power(add, power))
    if not current.has_quorum(sum(current.power_of(v) for v in voters)):
        write_record(state, VALIDATOR_SET_ADDRESS, key, voters)
        return ()
    write_record(state, VALIDATOR_SET_ADDRESS, key, None)
    changed = pending.with_member(validator, power) if add else pending.without_member(validator)
    state.set_storage(VALIDATOR_SET_ADDRESS, _PENDING, changed.encode())
    call.emit(VALIDATOR_SET_ADDRESS, (CHANGE_SCHEDULED_TOPIC, topic_address(validator)), _flag_power(add, power))
    return ()


def _flag_power(add: bool, power: int) -> bytes:
    return int(add).to_bytes(32, "big") + power.to_bytes(32, "big")


def _vote_add(call: Call, validator: str, power: int) -> tuple:
    return _vote(call, True, bytes.fromhex(validator[2:]), power)


def _vote_remove(call: Call, validator: str) -> tuple:
    return _vote(call, False, bytes.fromhex(validator[2:]), 0)


def _as_abi(vs: ValidatorSet) -> tuple:
    return (["0x" + a.hex() for a in vs.addresses], list(vs.powers))


FUNCTIONS = function_table(
    Function("voteAddValidator", ("address validator", "uint64 power"), (), VOTE_GAS, _vote_add),
    Function("voteRemoveValidator", ("address validator",), (), VOTE_GAS, _vote_remove),
    Function("validators", (), ("address[] addresses", "uint256[] powers"), VIEW_GAS,
             lambda call: _as_abi(current_set(call.state)), view=True),
    Function("pendingValidators", (), ("address[] addresses", "uint256[] powers"), VIEW_GAS,
             lambda call: _as_abi(pending_set(call.state)), view=True),
    Function("validatorSetId", (), ("uint64",), VIEW_GAS, lambda call: (current_set_id(call.state),), view=True),
)

