// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Transient storage (EIP-1153): a reentrancy lock, and a value every call frame of one transaction
/// sees but the next transaction does not; a reverted frame's TSTORE is undone; TSTORE in a static
/// context fails.
contract TransientLock {
    uint256 public entries;
    uint256 public blockedReentries;
    uint256 public seenInTx;
    uint256 public seenLater = 99;
    bool public staticWriteFailed;

    modifier nonReentrant() {
        bool locked;
        assembly {
            locked := tload(0)
        }
        require(!locked, "reentrant call");
        assembly {
            tstore(0, 1)
        }
        _;
        assembly {
            tstore(0, 0)
        }
    }

    function enter(bool reenter) external nonReentrant {
        entries++;
        if (reenter) {
            try this.enter(false) {} catch Error(string memory) {
                blockedReentries++;
            }
        }
    }

    function setTransient(uint256 v) external {
        assembly {
            tstore(1, v)
        }
        seenInTx = this.peek();
    }

    function peek() external view returns (uint256 v) {
        assembly {
            v := tload(1)
        }
    }

    function recordLater() external {
        seenLater = this.peek();
    }

    function writeAndRevert(uint256 v) external {
        assembly {
            tstore(1, v)
        }
        revert("undone");
    }

    /// Sets 7, lets a frame write `v` and revert: 7 stays.
    function rollback(uint256 v) external {
        assembly {
            tstore(1, 7)
        }
        try this.writeAndRevert(v) {} catch {}
        seenInTx = this.peek();
    }

    function staticWrite(uint256 gas) external {
        (bool ok,) = address(this).staticcall{gas: gas}(abi.encodeCall(this.setTransient, (5)));
        staticWriteFailed = !ok;
    }
}
