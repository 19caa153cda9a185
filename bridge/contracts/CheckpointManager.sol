// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title CheckpointManager
/// @notice Holds the sidechain's current validator set and accepts contiguous checkpoints of sidechain
/// blocks signed (EIP-712) by validators holding more than 2/3 of the set's voting power. A checkpoint
/// may hand over the next validator set, which the current set signs for. There is no owner: the only
/// way to change anything is a checkpoint signed by the current set.
/// @dev Signature format: one 65-byte `r || s || v` signature (v = 27 or 28, low s) per signer,
/// concatenated in strictly ascending signer-address order, which makes the duplicate check a single
/// comparison (a packed blob costs ~460 gas less calldata and decoding per signer than bytes[]).
/// Merkle roots follow OpenZeppelin's conventions (double-hashed leaves, sorted-pair hashing).
contract CheckpointManager is EIP712 {
    /// @notice What the validators sign: a contiguous range of sidechain blocks and its commitments.
    struct Checkpoint {
        uint64 sidechainChainId;
        uint64 number;
        uint64 startBlock;
        uint64 endBlock;
        /// Merkle root over `keccak256(bytes.concat(keccak256(abi.encode(blockNumber, blockHash))))`
        /// for every block of the range, in block order.
        bytes32 blockRoot;
        /// Merkle root of the range's withdrawals, or EMPTY_WITHDRAWALS_ROOT when it has none.
        bytes32 withdrawalRoot;
        /// keccak256(abi.encode(address[] validators, uint256[] powers)) of the next set; 0 = unchanged.
        bytes32 nextValidatorSetHash;
    }

    /// @notice What is kept of an accepted checkpoint (the rest is in its CheckpointSubmitted event).
    struct CommittedCheckpoint {
        uint64 startBlock;
        uint64 endBlock;
        bytes32 blockRoot;
        bytes32 withdrawalRoot;
    }

    /// @notice The withdrawal root of a block range without withdrawals: keccak256 of the empty string.
    bytes32 public constant EMPTY_WITHDRAWALS_ROOT = keccak256("");

    bytes32 private constant CHECKPOINT_TYPEHASH = keccak256(
        "Checkpoint(uint64 sidechainChainId,uint64 number,uint64 startBlock,uint64 endBlock,"
        "bytes32 blockRoot,bytes32 withdrawalRoot,bytes32 nextValidatorSetHash)"
    );

    uint256 private constant SIGNATURE_LENGTH = 65;
    uint256 private constant POWER_BITS = 64;
    uint256 private constant POWER_MASK = (1 << POWER_BITS) - 1;

    uint64 private immutable _sidechainChainId;

    // One slot, read and written once per checkpoint.
    uint64 private _lastNumber;
    uint64 private _lastEndBlock;
    uint64 private _setId;
    uint64 private _totalPower;

    /// validator => (set id << 64) | power. An entry counts only while its set id is the current one,
    /// so a rotation never has to delete the old set's entries. Set ids start at 1, so an empty
    /// entry never matches.
    mapping(address => uint256) private _membership;
    address[] private _validators;
    mapping(uint64 => CommittedCheckpoint) private _checkpoints;

    /// @notice The signers hold `signed` of `total` voting power; more than 2/3 is needed.
    error InsufficientVotingPower(uint256 signed, uint256 total);
    /// @notice The signatures' total length is not a multiple of 65 bytes.
    error MalformedSignatures(uint256 length);
    /// @notice `signer` signed twice.
    error DuplicateSigner(address signer);
    /// @notice Signatures must be ordered by ascending signer address; `signer` came after `previous`.
    error SignersNotAscending(address previous, address signer);
    /// @notice `signer` is not in the current validator set (or signed another digest).
    error NotAValidator(address signer);
    /// @notice The checkpoint is for another sidechain.
    error WrongSidechain(uint64 expected, uint64 got);
    /// @notice The checkpoint number is not the last one + 1.
    error WrongCheckpointNumber(uint64 expected, uint64 got);
    /// @notice The range does not start right after the last checkpoint's end (block 1 for the first).
    error NonContiguousRange(uint64 expectedStart, uint64 gotStart);
    /// @notice The range ends before it starts.
    error EmptyRange(uint64 startBlock, uint64 endBlock);
    /// @notice A blockRoot or withdrawalRoot is zero (use EMPTY_WITHDRAWALS_ROOT for no withdrawals).
    error ZeroRoot();
    /// @notice The provided next set does not hash to nextValidatorSetHash (or is given without one).
    error ValidatorSetMismatch();
    /// @notice A validator set is empty, not strictly ascending, has a zero address or power, unequal
    /// lengths, or a total power of 2^64 or more.
    error MalformedValidatorSet();
    /// @notice No checkpoint `number` has been accepted.
    error UnknownCheckpoint(uint64 number);

    event CheckpointSubmitted(
        uint64 indexed number, uint64 startBlock, uint64 endBlock, bytes32 blockRoot, bytes32 withdrawalRoot
    );
    event ValidatorSetUpdated(uint256 indexed setId, address[] validators, uint256[] powers);

    /// @param sidechainChainId_ The chain id of the sidechain whose checkpoints this contract accepts.
    /// @param initialValidators The first validator set, strictly ascending, no zero address.
    /// @param initialPowers The voting power of each validator, all > 0.
    constructor(uint64 sidechainChainId_, address[] memory initialValidators, uint256[] memory initialPowers)
        EIP712("SidechainCheckpoints", "1")
    {
        _sidechainChainId = sidechainChainId_;
        _installValidatorSet(initialValidators, initialPowers);
    }

    /// @notice Accept the next checkpoint, and switch to the next validator set if it carries one.
    /// @param cp The signed checkpoint; its number and range must follow the last one's.
    /// @param signatures Concatenated 65-byte signatures (r || s || v, v = 27 or 28, low s) of
    /// hashCheckpoint(cp) by distinct members of the current set holding more than 2/3 of its power,
    /// ordered by ascending signer address.
    /// @param nextValidators The next set when cp.nextValidatorSetHash != 0 (else empty),
    /// strictly ascending; its hash keccak256(abi.encode(nextValidators, nextPowers)) must match.
    /// @param nextPowers The next set's voting powers, all > 0.
    function submitCheckpoint(
        Checkpoint calldata cp,
        bytes calldata signatures,
        address[] calldata nextValidators,
        uint256[] calldata nextPowers
    ) external {
        uint64 lastNumber = _lastNumber;
        uint64 lastEndBlock = _lastEndBlock;
        _checkRangeAndRoots(cp, lastNumber, lastEndBlock);
        bytes32 nextSetHash = cp.nextValidatorSetHash;
        if (nextSetHash == bytes32(0)) {
            if (nextValidators.length != 0 || nextPowers.length != 0) revert ValidatorSetMismatch();
        } else if (keccak256(abi.encode(nextValidators, nextPowers)) != nextSetHash) {
            revert ValidatorSetMismatch();
        }

        _checkSignatures(hashCheckpoint(cp), signatures);

        uint64 number = cp.number;
        _lastNumber = number;
        _lastEndBlock = cp.endBlock;
        _checkpoints[number] = CommittedCheckpoint(cp.startBlock, cp.endBlock, cp.blockRoot, cp.withdrawalRoot);
        emit CheckpointSubmitted(number, cp.startBlock, cp.endBlock, cp.blockRoot, cp.withdrawalRoot);

        if (nextSetHash != bytes32(0)) _installValidatorSet(nextValidators, nextPowers);
    }

    /// @notice Whether `blockHash` is the hash of sidechain block `blockNumber` committed by checkpoint
    /// `checkpointNumber`, given its Merkle proof against the checkpoint's blockRoot.
    /// @return False for an unknown checkpoint, a block outside its range, or a proof that fails.
    function verifyBlock(uint64 checkpointNumber, uint64 blockNumber, bytes32 blockHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        CommittedCheckpoint storage committed = _checkpoints[checkpointNumber];
        if (committed.blockRoot == bytes32(0)) return false;
        if (blockNumber < committed.startBlock || blockNumber > committed.endBlock) return false;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(blockNumber, blockHash))));
        return MerkleProof.verifyCalldata(proof, committed.blockRoot, leaf);
    }

    /// @notice The EIP-712 digest validators sign for `cp` on this contract and L1 chain.
    function hashCheckpoint(Checkpoint calldata cp) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CHECKPOINT_TYPEHASH, cp)));
    }

    /// @notice The EIP-712 domain separator (name "SidechainCheckpoints", version "1", L1 chain id, this).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The accepted checkpoint `number`; reverts with UnknownCheckpoint if there is none.
    function checkpoint(uint64 number) external view returns (CommittedCheckpoint memory) {
        CommittedCheckpoint memory committed = _checkpoints[number];
        if (committed.blockRoot == bytes32(0)) revert UnknownCheckpoint(number);
        return committed;
    }

    /// @notice The last accepted checkpoint's number and end block; (0, 0) before the first one.
    /// The next checkpoint must have number + 1 and start at endBlock + 1.
    function lastCheckpoint() external view returns (uint64 number, uint64 endBlock) {
        return (_lastNumber, _lastEndBlock);
    }

    /// @notice The current validator set, in ascending address order, with each one's voting power.
    function validators() external view returns (address[] memory addresses, uint256[] memory powers) {
        addresses = _validators;
        powers = new uint256[](addresses.length);
        for (uint256 i = 0; i < addresses.length; ++i) {
            powers[i] = _membership[addresses[i]] & POWER_MASK;
        }
    }

    /// @notice The current validator set's id: 1 for the constructor's set, + 1 at every rotation.
    function validatorSetId() external view returns (uint256) {
        return _setId;
    }

    /// @notice The current validator set's total voting power.
    function totalPower() external view returns (uint256) {
        return _totalPower;
    }

    /// @notice The sidechain chain id every checkpoint must carry.
    function sidechainChainId() external view returns (uint64) {
        return _sidechainChainId;
    }

    /// @dev The checks that need no signature: sidechain, number, contiguity, range and roots.
    function _checkRangeAndRoots(Checkpoint calldata cp, uint64 lastNumber, uint64 lastEndBlock) private view {
        if (cp.sidechainChainId != _sidechainChainId) revert WrongSidechain(_sidechainChainId, cp.sidechainChainId);
        if (cp.number != lastNumber + 1) revert WrongCheckpointNumber(lastNumber + 1, cp.number);
        if (cp.startBlock != lastEndBlock + 1) revert NonContiguousRange(lastEndBlock + 1, cp.startBlock);
        if (cp.endBlock < cp.startBlock) revert EmptyRange(cp.startBlock, cp.endBlock);
        if (cp.blockRoot == bytes32(0) || cp.withdrawalRoot == bytes32(0)) revert ZeroRoot();
    }

    /// @dev Recovers every signer with OZ ECDSA (v 27/28, low s), requires strictly ascending addresses
    /// of current members, and more than 2/3 of the total power: 3 * signed > 2 * total.
    function _checkSignatures(bytes32 digest, bytes calldata signatures) private view {
        if (signatures.length % SIGNATURE_LENGTH != 0) revert MalformedSignatures(signatures.length);
        uint256 setId = _setId;
        uint256 signedPower;
        address previous;
        for (uint256 offset = 0; offset < signatures.length; offset += SIGNATURE_LENGTH) {
            bytes32 r;
            bytes32 s;
            uint8 v;
            // In bounds: offset + 65 <= signatures.length, checked above.
            assembly ("memory-safe") {
                let p := add(signatures.offset, offset)
                r := calldataload(p)
                s := calldataload(add(p, 0x20))
                v := byte(0, calldataload(add(p, 0x40)))
            }
            address signer = ECDSA.recover(digest, v, r, s);
            if (signer <= previous) {
                if (signer == previous) revert DuplicateSigner(signer);
                revert SignersNotAscending(previous, signer);
            }
            uint256 membership = _membership[signer];
            if (membership >> POWER_BITS != setId) revert NotAValidator(signer);
            signedPower += membership & POWER_MASK;
            previous = signer;
        }
        uint256 total = _totalPower;
        if (signedPower * 3 <= total * 2) revert InsufficientVotingPower(signedPower, total);
    }

    /// @dev Checks the set is well-formed (non-empty, equal lengths, strictly ascending non-zero
    /// addresses, powers > 0, total < 2^64), then makes it current under the next set id.
    function _installValidatorSet(address[] memory addresses, uint256[] memory powers) private {
        uint256 n = addresses.length;
        if (n == 0 || powers.length != n) revert MalformedValidatorSet();
        uint256 setId = uint256(_setId) + 1;
        uint256 total;
        address previous;
        for (uint256 i = 0; i < n; ++i) {
            address validator = addresses[i];
            uint256 power = powers[i];
            if (validator <= previous || power == 0) revert MalformedValidatorSet();
            total += power;
            if (total > POWER_MASK) revert MalformedValidatorSet();
            _membership[validator] = (setId << POWER_BITS) | power;
            previous = validator;
        }
        _validators = addresses;
        _setId = uint64(setId);
        _totalPower = uint64(total);
        emit ValidatorSetUpdated(setId, addresses, powers);
    }
}
