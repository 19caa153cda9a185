// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title OddMetadataToken
/// @notice A test ERC-20 whose metadata breaks the ERC-20 ABI the ways old tokens do: `name()`
/// answers a bare bytes32 (as MKR does), `symbol()` reverts, and `decimals()` answers 300, which
/// does not fit a uint8. For tests of RootBridge's metadata fallbacks.
contract OddMetadataToken is ERC20 {
    constructor(address initialHolder, uint256 initialSupply) ERC20("", "") {
        _mint(initialHolder, initialSupply);
    }

    function name() public pure override returns (string memory) {
        assembly ("memory-safe") {
            mstore(0, "Odd Token")
            return(0, 32)
        }
    }

    function symbol() public pure override returns (string memory) {
        revert("no symbol");
    }

    function decimals() public pure override returns (uint8) {
        assembly ("memory-safe") {
            mstore(0, 300)
            return(0, 32)
        }
    }
}
