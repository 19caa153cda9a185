// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// SELFDESTRUCT as Cancun defines it (EIP-6780): in the transaction that created the account, the
/// account is removed; in any later transaction only the balance moves and code and storage stay.
contract Doomed {
    uint256 public marker = 1;

    constructor() payable {}

    receive() external payable {}

    function destroy(address payable to) external {
        selfdestruct(to);
    }
}

/// Self-destructs in its own constructor: the account never outlives its creation.
contract Ephemeral {
    constructor(address payable to) payable {
        selfdestruct(to);
    }
}

contract Doomer {
    address public last;

    event Made(address indexed doomed, bool destroyed);

    /// CREATE2 then SELFDESTRUCT in the same transaction: the address is free again afterwards.
    function createAndDestroy(bytes32 salt, address payable to) external payable returns (address d) {
        Doomed doomed = new Doomed{salt: salt, value: msg.value}();
        doomed.destroy(to);
        d = address(doomed);
        last = d;
        emit Made(d, true);
    }

    function create(bytes32 salt) external payable returns (address d) {
        d = address(new Doomed{salt: salt, value: msg.value}());
        last = d;
        emit Made(d, false);
    }

    function createEphemeral(address payable to) external payable returns (address d) {
        d = address(new Ephemeral{value: msg.value}(to));
        emit Made(d, true);
    }
}
