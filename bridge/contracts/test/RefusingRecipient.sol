// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IClaims {
    function claim(address token, address to) external returns (uint256);
}

/// @title RefusingRecipient
/// @notice A test withdrawal recipient that cannot receive ETH (no `receive`, no fallback: a
/// transfer to it reverts). Its owner can still claim what RootBridge credited it, to an address
/// of the owner's choosing.
contract RefusingRecipient {
    address public immutable owner;

    error NotOwner(address caller);

    constructor() {
        owner = msg.sender;
    }

    /// @notice Claim this contract's claimable `token` on `bridge`, paid to `to`. Owner only.
    function claimFrom(address bridge, address token, address to) external returns (uint256) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        return IClaims(bridge).claim(token, to);
    }
}

/// @title GasBurningRecipient
/// @notice A RefusingRecipient whose `receive` spends every bit of gas it is given: the costliest
/// way to refuse a payment.
contract GasBurningRecipient is RefusingRecipient {
    receive() external payable {
        while (true) {}
    }
}
