// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Calls the precompiles 0x01..0x0a with inputs chosen by the test.
contract Precompiles {
    bool public lastOk;
    bytes32 public lastOutputHash;
    uint256 public lastOutputLength;

    event Called(address indexed precompile, bool ok, bytes output);

    /// STATICCALL `precompile` with `input` and `gas`; the outcome is stored and logged.
    function run(address precompile, uint256 gas, bytes calldata input) external returns (bool ok, bytes memory output) {
        (ok, output) = precompile.staticcall{gas: gas}(input);
        (lastOk, lastOutputHash, lastOutputLength) = (ok, keccak256(output), output.length);
        emit Called(precompile, ok, output);
    }

    /// The same for eth_call, with the gas the call took (exact on any EVM).
    function probe(address precompile, uint256 gas, bytes calldata input)
        external
        view
        returns (bool ok, bytes memory output, uint256 gasUsed)
    {
        uint256 before = gasleft();
        (ok, output) = precompile.staticcall{gas: gas}(input);
        gasUsed = before - gasleft();
    }

    /// 0x01..0x03 through Solidity's built-ins.
    function builtins(bytes32 h, uint8 v, bytes32 r, bytes32 s, bytes calldata data)
        external
        pure
        returns (address signer, bytes32 sha, bytes20 ripe)
    {
        return (ecrecover(h, v, r, s), sha256(data), ripemd160(data));
    }

    /// 0x0a with the versioned hash of `commitment` computed here: sha256 with the first byte set to 0x01.
    function pointEvaluation(bytes32 z, bytes32 y, bytes calldata commitment, bytes calldata proof)
        external
        returns (bool ok, bytes memory output)
    {
        bytes32 versioned = (sha256(commitment) & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(1) << 248);
        (ok, output) = address(0x0a).staticcall{gas: 100_000}(abi.encodePacked(versioned, z, y, commitment, proof));
        (lastOk, lastOutputHash, lastOutputLength) = (ok, keccak256(output), output.length);
        emit Called(address(0x0a), ok, output);
    }
}
