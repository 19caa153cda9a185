// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {ValidatorSet} from "./ValidatorSet.sol";

/// @title CheckpointSignatures: where validators post their signatures of final checkpoints
/// @notice A validator posts its EIP-712 signature of checkpoint `number` (whose range is final);
/// it is kept here (a later post by the same validator replaces it, so a validator that signed with
/// a wrong configuration can correct itself) and emitted as a `CheckpointSigned` log. A relayer
/// reads them (sidechain_getCheckpoint), checks each against the checkpoint digest and submits them
/// to CheckpointManager on L1, which verifies them again. Only a member of the set that signs that
/// checkpoint (the set in force during its range) may post.
/// @dev Placed in the genesis state; the Python side reads the slots below
/// (sidechain/chain/system/checkpoint_signatures.py).
contract CheckpointSignatures {
    ValidatorSet internal constant VALIDATORS = ValidatorSet(0x00000000000000000000000000000000000A11d8);

    mapping(uint64 number => address[] validators) private _signers; // slot 0: in the order they first posted
    mapping(uint64 number => mapping(address validator => bytes signature)) private _signatures; // slot 1

    event CheckpointSigned(uint64 indexed number, address indexed validator, bytes signature);

    function submitCheckpointSignature(uint64 number, bytes calldata signature) external {
        require(number >= 1, "checkpoint numbers start at 1");
        uint256 end = uint256(number) * VALIDATORS.checkpointInterval();
        if (end >= block.number) {
            revert(string.concat("checkpoint ", Strings.toString(number), " ends at block ", Strings.toString(end),
                                 ", which is not final yet"));
        }
        if (signature.length != 65) {
            revert(string.concat("a checkpoint signature is 65 bytes, got ", Strings.toString(signature.length)));
        }
        if (!VALIDATORS.signsCheckpoint(number, msg.sender)) {
            revert(string.concat(Strings.toHexString(msg.sender), " is not in the validator set that signs checkpoint ",
                                 Strings.toString(number)));
        }
        if (_signatures[number][msg.sender].length == 0) _signers[number].push(msg.sender);
        _signatures[number][msg.sender] = signature;
        emit CheckpointSigned(number, msg.sender, signature);
    }

    /// @notice Every signature of checkpoint `number` posted so far, each validator's latest.
    function signaturesOf(uint64 number) external view returns (address[] memory validators, bytes[] memory signatures) {
        validators = _signers[number];
        signatures = new bytes[](validators.length);
        for (uint256 i = 0; i < validators.length; i++) {
            signatures[i] = _signatures[number][validators[i]];
        }
    }
}
