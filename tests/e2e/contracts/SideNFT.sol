// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// An OpenZeppelin ERC-721 anyone may mint from: token ids 1, 2, 3, ... in mint order.
contract SideNFT is ERC721 {
    uint256 public minted;

    constructor() ERC721("Side NFT", "SNFT") {}

    function mint(address to) external returns (uint256 id) {
        id = ++minted;
        _safeMint(to, id);
    }
}
