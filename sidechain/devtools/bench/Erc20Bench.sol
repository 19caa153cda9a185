// SPDX-License-Identifier: MIT
// The contracts of the benchmarks (scripts/bench --workload erc20, scripts/bench-evm), compiled by
// sidechain/bench/solc.mjs for cancun with the optimizer on. Not deployed anywhere else.
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// OpenZeppelin's ERC-20 as it is: the whole supply goes to whoever deploys it (the bench's funder).
contract Erc20Bench is ERC20 {
    constructor(uint256 supply) ERC20("Bench Token", "BENCH") {
        _mint(msg.sender, supply);
    }
}

/// KECCAK256 in a loop over 64 bytes of memory (the previous hash and the counter), so each
/// round depends on the last; the final hash is stored so the work cannot be skipped.
contract KeccakLoop {
    bytes32 public last;

    function run(uint256 rounds) external {
        bytes32 h = last;
        assembly {
            for { let i := 0 } lt(i, rounds) { i := add(i, 1) } {
                mstore(0, h)
                mstore(32, i)
                h := keccak256(0, 64)
            }
        }
        last = h;
    }
}
