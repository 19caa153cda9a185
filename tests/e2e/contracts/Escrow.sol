// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// A user's contract that composes with bridged tokens: the payer's tokens are pulled in with
/// transferFrom when a deal opens, and paid out to the payee when the payer releases it.
contract Escrow {
    using SafeERC20 for IERC20;

    struct Deal {
        address payer;
        address payee;
        IERC20 token;
        uint256 amount;
        bool released;
    }

    Deal[] public deals;

    event Opened(uint256 indexed id, address indexed payer, address indexed payee, address token, uint256 amount);
    event Released(uint256 indexed id);

    error NotThePayer(address caller);
    error AlreadyReleased(uint256 id);

    function open(address payee, IERC20 token, uint256 amount) external returns (uint256 id) {
        token.safeTransferFrom(msg.sender, address(this), amount);
        id = deals.length;
        deals.push(Deal(msg.sender, payee, token, amount, false));
        emit Opened(id, msg.sender, payee, address(token), amount);
    }

    function release(uint256 id) external {
        Deal storage deal = deals[id];
        if (msg.sender != deal.payer) revert NotThePayer(msg.sender);
        if (deal.released) revert AlreadyReleased(id);
        deal.released = true;
        deal.token.safeTransfer(deal.payee, deal.amount);
        emit Released(id);
    }
}
