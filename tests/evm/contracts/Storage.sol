// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Plain storage: a word, a mapping, a long string, and events with indexed arguments.
contract SimpleStorage {
    uint256 public value;
    mapping(address => uint256) public setsBy;
    string public note;

    event ValueChanged(address indexed who, uint256 indexed newValue, uint256 oldValue);
    event Noted(address indexed who, string note);

    function set(uint256 newValue) external {
        emit ValueChanged(msg.sender, newValue, value);
        value = newValue;
        setsBy[msg.sender] += 1;
    }

    function setNote(string calldata text) external {
        note = text;
        emit Noted(msg.sender, text);
    }

    function get() external view returns (uint256) {
        return value;
    }
}
