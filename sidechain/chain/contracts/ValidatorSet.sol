// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title ValidatorSet: who votes on the sidechain's blocks, with what power
/// @notice Validators vote to add or remove a validator; a change that more than 2/3 of the current
/// voting power voted for becomes pending at once and takes effect at the next checkpoint boundary.
/// Consensus reads the set from this contract's storage at every height.
///
/// Timeline of a change: votes gather during checkpoint c's range; the vote that crosses 2/3
/// applies the change to the pending set. After the range's last block E = c * K, the node calls
/// `endBlock` (a system call from 0xff..fe, as EIP-4788's beacon-roots contract is called): the
/// pending set becomes current from block E + 1 on. Checkpoint c is signed by the old set, and its
/// nextValidatorSetHash hands the new set to CheckpointManager on L1.
///
/// Every set that ever voted is kept (signatures of older checkpoints are checked against theirs),
/// with the set id each checkpoint was signed under. Votes count only for the set id they were cast
/// under, so a change of set discards stale ones.
/// @dev The genesis state holds this contract's runtime code and storage (no constructor runs):
/// the Python side writes and reads the slots below (sidechain/chain/system/validator_set.py).
/// A validator is one word: its address in the low 160 bits, its power in the next 64.
contract ValidatorSet {
    struct Validator {
        address addr;
        uint64 power;
    }

    /// The node's system calls come from here (EIP-4788's SYSTEM_ADDRESS).
    address internal constant SYSTEM = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    uint256 internal constant MAX_POWER = 2 ** 32;

    // One slot each (no packing), so the Python side's slot numbers stay plain.
    uint256 private _setId; // slot 0: 1 at genesis, + 1 at every change
    uint256 private _checkpointInterval; // slot 1: blocks per checkpoint range (0: no checkpoints, no switch)
    uint256 private _hasPending; // slot 2: 1 if a change passed in the current range
    Validator[] private _pending; // slot 3: the set from the next boundary on, if _hasPending
    mapping(uint256 setId => Validator[]) private _sets; // slot 4
    mapping(uint256 checkpoint => uint256 setId) private _checkpointSetId; // slot 5: who signs each checkpoint
    mapping(uint256 checkpoint => uint256 setId) private _setAfterCheckpoint; // slot 6: 0 unless the set changed there
    mapping(bytes32 proposal => address[] voters) private _voters; // slot 7

    event ValidatorVoteCast(address indexed voter, address indexed validator, bool add, uint64 power);
    /// The change passed and takes effect after the current checkpoint range.
    event ValidatorChangeScheduled(address indexed validator, bool add, uint64 power);

    function voteAddValidator(address validator, uint64 power) external {
        _vote(true, validator, power);
    }

    function voteRemoveValidator(address validator) external {
        _vote(false, validator, 0);
    }

    /// @notice The set voting now.
    function validators() external view returns (address[] memory addresses, uint256[] memory powers) {
        return _split(_sets[_setId]);
    }

    /// @notice The set voting from the next checkpoint boundary on (the current one if no change passed).
    function pendingValidators() external view returns (address[] memory addresses, uint256[] memory powers) {
        return _split(_pendingOrCurrent());
    }

    function validatorSetId() external view returns (uint64) {
        return uint64(_setId);
    }

    function checkpointInterval() external view returns (uint64) {
        return uint64(_checkpointInterval);
    }

    /// @notice The voting power of `validator` in the current set (0 for anyone else).
    function powerOf(address validator) external view returns (uint256) {
        return _powerIn(_sets[_setId], validator);
    }

    /// @notice Whether `voters` (each counted once) hold more than 2/3 of the current voting power.
    function hasQuorum(address[] calldata voters) external view returns (bool) {
        Validator[] storage current = _sets[_setId];
        uint256 power = 0;
        for (uint256 i = 0; i < voters.length; i++) {
            bool repeated = false;
            for (uint256 j = 0; j < i && !repeated; j++) {
                repeated = voters[j] == voters[i];
            }
            if (!repeated) power += _powerIn(current, voters[i]);
        }
        return 3 * power > 2 * _total(current);
    }

    /// @notice Whether `validator` is in the set that signs checkpoint `number` (known once its
    /// range's last block is executed).
    function signsCheckpoint(uint64 number, address validator) external view returns (bool) {
        uint256 setId = _checkpointSetId[number];
        return setId != 0 && _powerIn(_sets[setId], validator) != 0;
    }

    /// @notice The node's call after each block that ends a checkpoint range: record which set
    /// signs the checkpoint, and switch to the pending set if a change passed during the range.
    function endBlock() external {
        require(msg.sender == SYSTEM, "only the node calls endBlock");
        uint256 interval = _checkpointInterval;
        if (interval == 0 || block.number % interval != 0) return;
        uint256 number = block.number / interval;
        uint256 setId = _setId;
        _checkpointSetId[number] = setId;
        if (_hasPending == 0) return;
        _hasPending = 0;
        Validator[] storage current = _sets[setId];
        if (_same(_pending, current)) {
            delete _pending; // changes that cancelled out
            return;
        }
        Validator[] storage next = _sets[setId + 1];
        for (uint256 i = 0; i < _pending.length; i++) {
            next.push(_pending[i]);
        }
        delete _pending;
        _setId = setId + 1;
        _setAfterCheckpoint[number] = setId + 1;
    }

    function _vote(bool add, address validator, uint64 power) private {
        uint256 setId = _setId;
        Validator[] storage current = _sets[setId];
        if (_powerIn(current, msg.sender) == 0) {
            revert(string.concat("only a validator may vote: ", Strings.toHexString(msg.sender), " is not in validator set ",
                                 Strings.toString(setId)));
        }
        Validator[] storage pending = _pendingOrCurrent();
        if (add) {
            require(validator != address(0), "cannot add the zero address");
            if (power == 0 || power > MAX_POWER) {
                revert(string.concat("voting power: expected 1..", Strings.toString(MAX_POWER), ", got ", Strings.toString(power)));
            }
            if (_powerIn(pending, validator) != 0) {
                revert(string.concat(Strings.toHexString(validator), " is already a validator (or is being added)"));
            }
        } else {
            if (_powerIn(pending, validator) == 0) {
                revert(string.concat(Strings.toHexString(validator), " is not a validator (or is already being removed)"));
            }
            require(pending.length > 1, "cannot remove the last validator");
        }
        address[] storage voters = _voters[keccak256(abi.encode(setId, add, validator, power))];
        uint256 voted = _powerIn(current, msg.sender);
        for (uint256 i = 0; i < voters.length; i++) {
            if (voters[i] == msg.sender) {
                revert(string.concat(Strings.toHexString(msg.sender), " already voted for this change"));
            }
            voted += _powerIn(current, voters[i]);
        }
        emit ValidatorVoteCast(msg.sender, validator, add, power);
        if (3 * voted <= 2 * _total(current)) {
            voters.push(msg.sender);
            return;
        }
        delete _voters[keccak256(abi.encode(setId, add, validator, power))];
        _schedule(add, validator, power);
        emit ValidatorChangeScheduled(validator, add, power);
    }

    /// Apply a passed change to the pending set (a copy of the current one at the range's first change).
    function _schedule(bool add, address validator, uint64 power) private {
        if (_hasPending == 0) {
            Validator[] storage current = _sets[_setId];
            for (uint256 i = 0; i < current.length; i++) {
                _pending.push(current[i]);
            }
            _hasPending = 1;
        }
        if (add) {
            _pending.push(Validator(validator, power)); // appended: members keep their rotation order
            return;
        }
        uint256 n = _pending.length;
        uint256 index = 0;
        while (_pending[index].addr != validator) index++;
        for (uint256 i = index; i + 1 < n; i++) {
            _pending[i] = _pending[i + 1];
        }
        _pending.pop();
    }

    function _pendingOrCurrent() private view returns (Validator[] storage) {
        return _hasPending != 0 ? _pending : _sets[_setId];
    }

    function _powerIn(Validator[] storage set, address who) private view returns (uint256) {
        for (uint256 i = 0; i < set.length; i++) {
            if (set[i].addr == who) return set[i].power;
        }
        return 0;
    }

    function _total(Validator[] storage set) private view returns (uint256 total) {
        for (uint256 i = 0; i < set.length; i++) {
            total += set[i].power;
        }
    }

    function _same(Validator[] storage a, Validator[] storage b) private view returns (bool) {
        if (a.length != b.length) return false;
        for (uint256 i = 0; i < a.length; i++) {
            if (a[i].addr != b[i].addr || a[i].power != b[i].power) return false;
        }
        return true;
    }

    function _split(Validator[] storage set) private view returns (address[] memory addresses, uint256[] memory powers) {
        addresses = new address[](set.length);
        powers = new uint256[](set.length);
        for (uint256 i = 0; i < set.length; i++) {
            (addresses[i], powers[i]) = (set[i].addr, set[i].power);
        }
    }
}
