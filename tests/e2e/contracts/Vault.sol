// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A deposit would exceed the vault's limit: `have` is the room left, `want` the amount asked.
error TooMuch(uint256 have, uint256 want);

/// Deposits up to a limit fixed at deployment: a revert reason for a zero amount, a custom error past
/// the limit.
contract Vault {
    uint256 public immutable limit;
    uint256 public total;

    event Deposited(address indexed from, uint256 amount, uint256 total);

    constructor(uint256 limit_) {
        limit = limit_;
    }

    function deposit(uint256 amount) external {
        require(amount > 0, "amount must be positive");
        if (total + amount > limit) revert TooMuch(limit - total, amount);
        total += amount;
        emit Deposited(msg.sender, amount, total);
    }
}
