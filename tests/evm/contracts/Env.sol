// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Block and transaction context. Only the chain id (slot 0) must be equal on two chains; the other
/// slots legitimately differ. Every stored value is nonzero on any chain, so the SSTORE gas is equal.
contract Env {
    uint256 public chainId;
    uint256 public number;
    uint256 public timestamp;
    bytes32 public parentHash;
    uint256 public baseFee;
    uint256 public gasPrice;
    uint256 public taggedCoinbase; // the coinbase with bit 160 set: anvil's coinbase is address(0)

    function record() external {
        require(blockhash(block.number - 1) != 0, "no BLOCKHASH of the parent block");
        require(blockhash(block.number) == 0, "BLOCKHASH of the current block");
        require(block.timestamp > 0 && block.basefee > 0, "zero TIMESTAMP or BASEFEE");
        require(tx.gasprice >= block.basefee, "GASPRICE below BASEFEE");
        chainId = block.chainid;
        number = block.number;
        timestamp = block.timestamp;
        parentHash = blockhash(block.number - 1);
        baseFee = block.basefee;
        gasPrice = tx.gasprice;
        taggedCoinbase = uint256(uint160(address(block.coinbase))) | (1 << 160);
    }

    function read()
        external
        view
        returns (uint256 id, uint256 num, uint256 time, bytes32 parent, uint256 fee, uint256 price, address coinbase)
    {
        return (block.chainid, block.number, block.timestamp, blockhash(block.number - 1), block.basefee, tx.gasprice,
            block.coinbase);
    }
}
