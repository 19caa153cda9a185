// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

error Insufficient(uint256 have, uint256 want);

contract Inner {
    uint256 public constant HAVE = 10;

    function needs(uint256 want) external pure returns (uint256) {
        require(want <= HAVE, "inner: want too much");
        return HAVE - want;
    }

    function custom(uint256 want) external pure returns (uint256) {
        if (want > HAVE) revert Insufficient(HAVE, want);
        return HAVE - want;
    }

    /// d == 0: Panic(0x12), division by zero.
    function divide(uint256 d) external pure returns (uint256) {
        return HAVE / d;
    }
}

/// Calls into Inner: reverts that propagate, and a try/catch that swallows them.
contract Outer {
    Inner public immutable inner;
    uint256 public calls;
    string public lastReason;
    bytes public lastRaw;
    uint256 public lastHave;
    uint256 public lastWant;
    uint256 public lastPanic;

    constructor(Inner inner_) {
        inner = inner_;
    }

    function viaRequire(uint256 want) external returns (uint256) {
        calls++;
        return inner.needs(want);
    }

    function viaCustom(uint256 want) external returns (uint256) {
        calls++;
        return inner.custom(want);
    }

    function swallow(uint256 want) external returns (bool allOk) {
        calls++;
        allOk = true;
        try inner.needs(want) returns (uint256) {} catch Error(string memory reason) {
            lastReason = reason;
            allOk = false;
        }
        try inner.custom(want) returns (uint256) {} catch (bytes memory raw) {
            lastRaw = raw;
            if (raw.length == 68 && bytes4(raw) == Insufficient.selector) {
                uint256 have;
                uint256 wanted;
                assembly {
                    have := mload(add(raw, 36))
                    wanted := mload(add(raw, 68))
                }
                (lastHave, lastWant) = (have, wanted);
            }
            allOk = false;
        }
        try inner.divide(want > inner.HAVE() ? 0 : 1) returns (uint256) {} catch Panic(uint256 code) {
            lastPanic = code;
            allOk = false;
        }
    }
}
