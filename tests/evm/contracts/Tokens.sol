// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// An OpenZeppelin ERC-20 whose whole supply goes to the deployer.
contract CorpusToken is ERC20 {
    constructor(uint256 supply) ERC20("Corpus Token", "CRP") {
        _mint(msg.sender, supply);
    }
}

/// An OpenZeppelin ERC-721 anyone may mint from; `_safeMint` refuses contracts that are no receivers.
contract CorpusNFT is ERC721 {
    uint256 public nextId = 1;

    constructor() ERC721("Corpus NFT", "CNFT") {}

    function mint(address to) external returns (uint256 id) {
        id = nextId++;
        _safeMint(to, id);
    }
}
