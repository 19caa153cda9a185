// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract Child {
    address public immutable creator;
    uint256 public x;

    constructor(uint256 x_) payable {
        creator = msg.sender;
        x = x_;
    }

    function bump() external returns (uint256) {
        return ++x;
    }
}

/// CREATE and CREATE2 factory; `predict` computes a CREATE2 address the way the EVM does.
contract Factory {
    address public lastCreated;
    address public lastCreated2;
    uint256 public collisions;

    event Deployed(address indexed child, bytes32 indexed salt, bool create2);

    function create(uint256 x) external payable returns (address child) {
        child = address(new Child{value: msg.value}(x));
        lastCreated = child;
        emit Deployed(child, bytes32(0), false);
    }

    function create2(bytes32 salt, uint256 x) public payable returns (address child) {
        child = address(new Child{salt: salt, value: msg.value}(x));
        require(child == predict(salt, x), "predict: wrong address");
        lastCreated2 = child;
        emit Deployed(child, salt, true);
    }

    /// The second CREATE2 with the same salt and init code collides: it fails and burns the gas it got.
    function create2Twice(bytes32 salt, uint256 x, uint256 gas) external returns (bool secondOk) {
        create2(salt, x);
        try this.create2{gas: gas}(salt, x) {
            secondOk = true;
        } catch {
            collisions++;
        }
    }

    function predict(bytes32 salt, uint256 x) public view returns (address) {
        bytes32 initCodeHash = keccak256(abi.encodePacked(type(Child).creationCode, abi.encode(x)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initCodeHash)))));
    }
}
