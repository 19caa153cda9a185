// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ReentrantRecipient
/// @notice A test withdrawal recipient that, on receiving ETH, calls back into the bridge with
/// calldata armed beforehand (e.g. another `exit`) and records how that call ended instead of
/// reverting, so a test can check the re-entry failed while the outer payment went through.
contract ReentrantRecipient {
    address private _target;
    bytes private _reentry;
    uint256 private _received;
    bool private _reentered;
    bool private _reentrySucceeded;
    bytes private _reentryResult;

    /// @notice On the next ETH received, call `target` with `data` once.
    function arm(address target, bytes calldata data) external {
        _target = target;
        _reentry = data;
    }

    receive() external payable {
        _received += msg.value;
        if (_reentered || _target == address(0)) return;
        _reentered = true;
        (_reentrySucceeded, _reentryResult) = _target.call(_reentry);
    }

    /// @notice Wei received in total, whether the re-entry was tried, whether it succeeded, and its
    /// return or revert data.
    function outcome() external view returns (uint256 received, bool reentered, bool succeeded, bytes memory result) {
        return (_received, _reentered, _reentrySucceeded, _reentryResult);
    }
}
