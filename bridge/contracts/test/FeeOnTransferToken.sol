// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferToken
/// @notice A test ERC-20 that burns 1% (rounded up) of every transfer between two accounts, so the
/// receiver gets less than the amount sent, and nothing of a 1-unit transfer. For tests of how the
/// bridge credits such tokens.
contract FeeOnTransferToken is ERC20 {
    uint256 private constant FEE_PERCENT = 1;

    constructor(address initialHolder, uint256 initialSupply) ERC20("Fee On Transfer Token", "FEE") {
        _mint(initialHolder, initialSupply);
    }

    /// @dev Mints and burns pay no fee; transfers burn theirs from the sender's amount.
    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = (value * FEE_PERCENT + 99) / 100;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
