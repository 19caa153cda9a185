// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// MCOPY (EIP-5656), memory expansion, and large calldata hashed on chain.
contract Memory {
    bytes32 public lastHash;
    uint256 public lastLength;

    event Absorbed(bytes32 indexed hash, uint256 length);

    /// Copies `len` bytes of `data` from offset `src` to offset `dst` (the ranges may overlap).
    function copy(bytes memory data, uint256 src, uint256 dst, uint256 len) public pure returns (bytes memory) {
        require(src + len <= data.length && dst + len <= data.length, "range");
        assembly {
            mcopy(add(add(data, 32), dst), add(add(data, 32), src), len)
        }
        return data;
    }

    function storeCopy(bytes memory data, uint256 src, uint256 dst, uint256 len) external {
        lastHash = keccak256(copy(data, src, dst, len));
        lastLength = data.length;
    }

    /// MCOPY to a high offset: memory grows, and so does the gas (returned: exact on any EVM).
    function expand(uint256 dst, uint256 len) external view returns (bytes32 lastWord, uint256 gasUsed) {
        uint256 before = gasleft();
        assembly {
            mcopy(dst, 0, len)
            lastWord := mload(sub(add(dst, len), 32))
        }
        gasUsed = before - gasleft();
    }

    function absorb(bytes calldata data) external {
        lastHash = keccak256(data);
        lastLength = data.length;
        emit Absorbed(lastHash, data.length);
    }
}
