// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice A devnet and test ERC-20 with a faucet: ANYONE may mint any amount to anyone, so it is
/// worthless by construction. Never deploy it where its balances could be mistaken for value.
contract TestToken is ERC20 {
    uint8 private immutable _decimals;

    /// @param initialHolder Receives `initialSupply` at deployment.
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address initialHolder, uint256 initialSupply)
        ERC20(name_, symbol_)
    {
        _decimals = decimals_;
        _mint(initialHolder, initialSupply);
    }

    /// @notice The faucet: mint `amount` to `to`. Open to every caller on purpose.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
