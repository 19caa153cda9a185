// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title RawMetadataToken
/// @notice A test ERC-20 whose `name()` is any bytes (`namePiece` repeated `nameRepeats` times) and
/// whose `symbol()` is any bytes, each ABI-encoded as a string whether or not it is UTF-8. For tests
/// of hostile metadata: invalid UTF-8 and names far longer than a sidechain transaction may be.
contract RawMetadataToken is ERC20 {
    bytes private _namePiece;
    uint256 private immutable _nameRepeats;
    bytes private _symbol;

    constructor(bytes memory namePiece, uint256 nameRepeats, bytes memory rawSymbol, address initialHolder,
                uint256 initialSupply) ERC20("", "") {
        _namePiece = namePiece;
        _nameRepeats = nameRepeats;
        _symbol = rawSymbol;
        _mint(initialHolder, initialSupply);
    }

    function name() public view override returns (string memory) {
        bytes memory piece = _namePiece;
        uint256 repeats = _nameRepeats;
        bytes memory out = new bytes(piece.length * repeats);
        assembly ("memory-safe") {
            let length := mload(piece)
            let to := add(out, 0x20)
            for { let i := 0 } lt(i, repeats) { i := add(i, 1) } {
                mcopy(add(to, mul(i, length)), add(piece, 0x20), length)
            }
        }
        return string(out);
    }

    function symbol() public view override returns (string memory) {
        return string(_symbol);
    }
}
