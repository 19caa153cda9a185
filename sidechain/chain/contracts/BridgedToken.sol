// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BridgedToken: the sidechain's ERC-20 of one L1 token
/// @notice An OpenZeppelin ERC-20 that only the bridge mints (a deposit the validators affirmed) and
/// burns (a withdrawal to L1). The bridge opens it at an address derived from the L1 token, with
/// its name, symbol, decimals and L1 token written into the storage below (no constructor runs),
/// so any contract can hold, transfer and `transferFrom` bridged tokens as on Ethereum.
/// @dev Storage: OpenZeppelin's ERC20 (balances 0, allowances 1, total supply 2, name 3, symbol 4),
/// then `_l1Token` and `_decimals` packed in slot 5. The sidechain's Python side reads these slots.
contract BridgedToken is ERC20 {
    /// The sidechain's bridge system contract (sidechain/chain/system/bridge.py, BRIDGE_ADDRESS).
    address internal constant BRIDGE = 0x0000000000000000000000000000000000b41d9E;
    /// keccak256(0xfe): the code every built-in system contract shows. Tokens sent there are lost.
    bytes32 internal constant SYSTEM_CODE_HASH = keccak256(hex"fe");

    address private _l1Token;
    uint8 private _decimals;

    /// A caller other than the bridge tried to mint or burn.
    error BridgedTokenOnlyBridge(address caller);
    /// Tokens sent to a system contract (or to this token) would be locked for good; withdraw through the bridge instead.
    error BridgedTokenLockedRecipient(address recipient);

    constructor() ERC20("", "") {}

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
        if (to == address(this) || (to != address(0) && to.codehash == SYSTEM_CODE_HASH)) {
            revert BridgedTokenLockedRecipient(to);
        }
        super._update(from, to, value);
    }
}
