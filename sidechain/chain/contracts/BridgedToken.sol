// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// What the bridge tells a token it is opening.
interface IBridgeOpening {
    function opening() external view returns (address l1Token, string memory name, string memory symbol, uint8 decimals);
}

/// @title BridgedToken: the sidechain's ERC-20 of one L1 token
/// @notice An OpenZeppelin ERC-20 that only the bridge mints (a deposit the validators affirmed) and
/// burns (a withdrawal to L1). The bridge opens it with CREATE2 at an address anyone derives from
/// the L1 token (salt: the L1 token's address as a word), so the creation code takes no arguments:
/// the constructor reads the name, symbol, decimals and L1 token back from the bridge. Any contract
/// can hold, transfer and `transferFrom` bridged tokens as on Ethereum.
/// @dev Storage: OpenZeppelin's ERC20 (balances 0, allowances 1, total supply 2, name 3, symbol 4),
/// then `_l1Token` and `_decimals` packed in slot 5. The sidechain's Python side reads these slots.
contract BridgedToken is ERC20 {
    /// The sidechain's system contracts (Bridge.sol, ValidatorSet.sol, CheckpointSignatures.sol).
    address internal constant BRIDGE = 0x0000000000000000000000000000000000b41d9E;
    address internal constant VALIDATOR_SET = 0x00000000000000000000000000000000000A11d8;
    address internal constant CHECKPOINT_SIGNATURES = 0x00000000000000000000000000000000000C4EC1;

    address private _l1Token;
    uint8 private _decimals;

    /// A caller other than the bridge tried to mint, burn or open a token.
    error BridgedTokenOnlyBridge(address caller);
    /// Tokens sent to a system contract (or to this token) would be locked for good; withdraw through the bridge instead.
    error BridgedTokenLockedRecipient(address recipient);

    constructor() ERC20(_openingName(), _openingSymbol()) {
        if (msg.sender != BRIDGE) revert BridgedTokenOnlyBridge(msg.sender);
        (address l1, , , uint8 places) = IBridgeOpening(BRIDGE).opening();
        (_l1Token, _decimals) = (l1, places);
    }

    function _openingName() private view returns (string memory name) {
        (, name, , ) = IBridgeOpening(BRIDGE).opening();
    }

    function _openingSymbol() private view returns (string memory symbol) {
        (, , symbol, ) = IBridgeOpening(BRIDGE).opening();
    }

    /// @notice The L1 token this one mirrors.
    function l1Token() external view returns (address) {
        return _l1Token;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != BRIDGE) revert BridgedTokenOnlyBridge(msg.sender);
        _mint(to, amount);
    }

    function burn(address from, uint256 amount) external {
        if (msg.sender != BRIDGE) revert BridgedTokenOnlyBridge(msg.sender);
        _burn(from, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to == address(this) || to == BRIDGE || to == VALIDATOR_SET || to == CHECKPOINT_SIGNATURES) {
            revert BridgedTokenLockedRecipient(to);
        }
        super._update(from, to, value);
    }
}
