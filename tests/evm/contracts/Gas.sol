// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Out of gas: an unbounded loop, alone or behind a call that forwards a bounded amount of gas.
contract Burner {
    uint256 public counter;
    uint256 public failures;
    uint256 public gasAfter;

    function loop() external {
        while (true) {
            counter++;
        }
    }

    /// Forwards `gas` to loop(), which runs out; stores gasleft() afterwards, which is exact on any EVM.
    function limited(uint256 gas) external {
        try this.loop{gas: gas}() {} catch {
            failures++;
        }
        gasAfter = gasleft();
    }
}

/// Gas refunds: clearing storage slots (EIP-3529 caps the refund at a fifth of the gas used).
contract Refunds {
    uint256[16] public slots;

    function fill(uint256 n, uint256 v) external {
        for (uint256 i; i < n; i++) slots[i] = v;
    }

    function clear(uint256 n) external {
        for (uint256 i; i < n; i++) delete slots[i];
    }

    /// Zero -> nonzero -> zero in one transaction: the refund returns most of the set's cost.
    function fillAndClear(uint256 n) external {
        for (uint256 i; i < n; i++) slots[i] = i + 1;
        for (uint256 i; i < n; i++) delete slots[i];
    }
}
