// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {BridgedToken} from "./BridgedToken.sol";
import {ValidatorSet} from "./ValidatorSet.sol";

/// @title Bridge: the sidechain side of the L1 bridge
/// @notice Deposits affirmed by the validators are minted; withdrawals burn and are recorded for
/// the next checkpoint's withdrawal root.
///
/// Deposits. Each validator's relayer affirms an L1 deposit once it has enough L1 confirmations.
/// An affirmation counts for its exact content (token, recipient, amount and the token's
/// metadata); a content is accepted once validators holding more than 2/3 of the current voting
/// power affirmed it, and minted as soon as every lower deposit id is minted: exactly once per id,
/// in id order. ETH (L1 token 0) becomes the native coin; a token's first deposit opens its ledger,
/// a BridgedToken at a CREATE2 address anyone derives from the L1 token.
///
/// Minting is bounded by the gas the call carries: each affirmation (and `mintReady`, which anyone
/// may call) mints the accepted deposits in id order while the gas left covers the next one; what
/// does not fit waits for the next call. An affirmation's own work never fails for want of gas.
///
/// Withdrawals. `withdraw` burns the amount from the caller and records (id, L1 token, L1
/// recipient, amount); the checkpoint whose range holds the block commits to the Merkle root of its
/// withdrawals, which RootBridge.exit on L1 checks the proof against. Every wei of the native coin
/// is backed by ETH locked on L1: the genesis allocations were locked in RootBridge at its
/// deployment (their sum is `genesisSupply`) and deposits lock the rest, so any holder may withdraw
/// ETH, and in all at most minted + genesis supply ever leaves.
///
/// The native coin. The EVM cannot create coin, so this contract holds the native coin that is not
/// circulating: a reserve of 2^128 wei placed in its balance at genesis. A minted ETH deposit is
/// paid out of it (by a self-destructing forwarder, so the recipient's code never runs and cannot
/// refuse), a withdrawal's value returns to it. Circulating supply = genesis supply + minted - burned.
/// @dev Placed in the genesis state with its storage written there (no constructor runs); the
/// Python side reads the slots below (sidechain/chain/system/bridge.py).
contract Bridge {
    struct Content {
        address l1Token;
        address recipient;
        uint256 amount;
        uint256 decimals;
        string name;
        string symbol;
        address[] voters;
    }

    struct Minted {
        bytes32 contentHash;
        uint256 blockNumber;
    }

    struct Withdrawal {
        address l1Token;
        address l1Recipient;
        address sender;
        uint256 amount;
        uint256 blockNumber;
    }

    struct Opening {
        address l1Token;
        uint256 decimals;
        string name;
        string symbol;
    }

    ValidatorSet internal constant VALIDATORS = ValidatorSet(0x00000000000000000000000000000000000A11d8);
    address internal constant ETH = address(0);
    /// Gas the next mint needs to be started: a native or token mint, or opening a token's ledger first.
    uint256 internal constant MINT_GAS = 150_000;
    uint256 internal constant OPEN_GAS = 1_000_000;

    // One slot each (no packing), so the Python side's slot numbers stay plain.
    uint256 private _nextDepositId; // slot 0: the next deposit to mint
    uint256 private _nextWithdrawalId; // slot 1
    uint256 private _genesisSupply; // slot 2: the native coin allocated at genesis (locked in RootBridge on L1)
    mapping(uint256 depositId => mapping(address validator => bytes32 contentHash)) private _affirmations; // slot 3
    mapping(uint256 depositId => mapping(bytes32 contentHash => Content)) private _contents; // slot 4
    mapping(uint256 depositId => bytes32 contentHash) private _accepted; // slot 5
    mapping(uint256 depositId => Minted) private _minted; // slot 6
    mapping(address l1Token => address token) private _tokens; // slot 7
    /// Ids rise with block numbers, so a checkpoint's withdrawals are the ids whose blocks fall in
    /// its range (found by bisection off-chain). Nothing is kept per checkpoint: every withdrawal
    /// writes the same kind of slots, so its gas does not depend on being an interval's first.
    mapping(uint256 withdrawalId => Withdrawal) private _withdrawals; // slot 8
    mapping(address l1Token => uint256) private _totalMinted; // slot 9
    mapping(address l1Token => uint256) private _totalBurned; // slot 10
    Opening private _opening; // slot 11..14: the token being opened, read back by its constructor

    event DepositAffirmed(uint64 indexed depositId, address indexed validator, bytes32 contentHash);
    event DepositMinted(uint64 indexed depositId, address indexed l1Token, address indexed recipient, uint256 amount);
    event WithdrawalRecorded(uint64 indexed withdrawalId, address indexed l1Token, address indexed from, address l1Recipient,
                             uint256 amount);

    // --- deposits ----------------------------------------------------------------------------------

    function affirmDeposit(uint64 depositId, address l1Token, address recipient, uint256 amount, string calldata name,
                           string calldata symbol, uint8 decimals) external {
        if (VALIDATORS.powerOf(msg.sender) == 0) {
            revert(string.concat("only a validator may affirm deposits: ", Strings.toHexString(msg.sender),
                                 " is not in validator set ", Strings.toString(VALIDATORS.validatorSetId())));
        }
        require(depositId >= 1, "deposit ids start at 1");
        string memory id = Strings.toString(depositId);
        if (amount == 0) revert(string.concat("deposit ", id, " is a deposit of zero"));
        if (recipient == address(0)) revert(string.concat("deposit ", id, " has no recipient"));
        if (depositId < _nextDepositId) revert(string.concat("deposit ", id, " is already minted"));
        bytes32 contentHash = keccak256(abi.encode(depositId, l1Token, recipient, amount, name, symbol, decimals));
        bytes32 accepted = _accepted[depositId];
        if (accepted != 0 && accepted != contentHash) {
            revert(string.concat("affirmation disagrees with deposit ", id, " as accepted: content ", _hex(accepted),
                                 ", affirmed ", _hex(contentHash)));
        }
        bytes32 previous = _affirmations[depositId][msg.sender];
        if (previous == contentHash && accepted == 0 && VALIDATORS.hasQuorum(_contents[depositId][contentHash].voters)) {
            // Acceptance is checked only when an affirmation arrives; after a validator-set change
            // the earlier affirmers may hold a quorum of the new set with no one left to affirm.
            // Repeating the same affirmation re-checks it (it still counts once).
            _accept(depositId, contentHash);
            return;
        }
        if (previous == contentHash) {
            revert(string.concat(Strings.toHexString(msg.sender), " already affirmed deposit ", id));
        }
        if (previous != 0) _withdrawVote(depositId, previous);
        _affirmations[depositId][msg.sender] = contentHash;
        Content storage content = _contents[depositId][contentHash];
        if (content.voters.length == 0) {
            (content.l1Token, content.recipient, content.amount, content.decimals) = (l1Token, recipient, amount, decimals);
            (content.name, content.symbol) = (name, symbol);
        }
        content.voters.push(msg.sender);
        emit DepositAffirmed(depositId, msg.sender, contentHash);
        if (accepted == 0 && VALIDATORS.hasQuorum(content.voters)) {
            _accept(depositId, contentHash);
        } else {
            _mintReady();
        }
    }

    /// @notice Mint the accepted deposits that are next in id order, as far as the gas carried allows.
    function mintReady() external {
        _mintReady();
    }

    /// A deposit not accepted yet may be re-affirmed with other content (say, after an L1 reorg
    /// deeper than the relayer's confirmations): the validator's vote moves, so a split can heal
    /// instead of stalling every later deposit.
    function _withdrawVote(uint256 depositId, bytes32 contentHash) private {
        Content storage old = _contents[depositId][contentHash];
        address[] storage voters = old.voters;
        uint256 n = voters.length;
        uint256 index = 0;
        while (index < n && voters[index] != msg.sender) index++;
        if (index == n) return;
        for (uint256 i = index; i + 1 < n; i++) {
            voters[i] = voters[i + 1];
        }
        voters.pop();
        if (n == 1) delete _contents[depositId][contentHash];
    }

    function _accept(uint256 depositId, bytes32 contentHash) private {
        _accepted[depositId] = contentHash;
        _mintReady();
    }

    function _mintReady() private {
        uint256 depositId = _nextDepositId;
        while (true) {
            bytes32 contentHash = _accepted[depositId];
            if (contentHash == 0) break;
            Content storage content = _contents[depositId][contentHash];
            bool opens = content.l1Token != ETH && _tokens[content.l1Token] == address(0);
            if (gasleft() < (opens ? OPEN_GAS : MINT_GAS)) break;
            _mint(depositId, content);
            _minted[depositId] = Minted(contentHash, block.number);
            depositId++;
        }
        _nextDepositId = depositId;
    }

    function _mint(uint256 depositId, Content storage content) private {
        address l1Token = content.l1Token;
        uint256 amount = content.amount;
        if (l1Token == ETH) {
            _pay(content.recipient, amount);
        } else {
            address token = _tokens[l1Token];
            if (token == address(0)) token = _open(l1Token, content);
            BridgedToken(token).mint(content.recipient, amount);
        }
        _totalMinted[l1Token] += amount;
        emit DepositMinted(uint64(depositId), l1Token, content.recipient, amount);
    }

    /// Pay native coin out of the reserve without running the recipient's code: a forwarder created
    /// with the value self-destructs to the recipient in the same transaction (EIP-6780 removes it).
    function _pay(address recipient, uint256 amount) private {
        // initcode: PUSH20 recipient, SELFDESTRUCT
        bytes memory initcode = abi.encodePacked(hex"73", recipient, hex"ff");
        address forwarder;
        assembly ("memory-safe") {
            forwarder := create(amount, add(initcode, 32), mload(initcode))
        }
        require(forwarder != address(0), "paying out a deposit failed");
    }

    function _open(address l1Token, Content storage content) private returns (address token) {
        _opening = Opening(l1Token, content.decimals, content.name, content.symbol);
        token = address(new BridgedToken{salt: bytes32(uint256(uint160(l1Token)))}());
        delete _opening;
        _tokens[l1Token] = token;
    }

    /// @notice What a BridgedToken's constructor reads back while this contract opens it.
    function opening() external view returns (address l1Token, string memory name, string memory symbol, uint8 decimals) {
        Opening storage o = _opening;
        return (o.l1Token, o.name, o.symbol, uint8(o.decimals));
    }

    // --- withdrawals -------------------------------------------------------------------------------

    function withdraw(address l1Token, uint256 amount, address l1Recipient) external payable returns (uint64 withdrawalId) {
        require(amount != 0, "a withdrawal of zero");
        require(l1Recipient != address(0), "a withdrawal needs an L1 recipient");
        if (l1Token == ETH) {
            if (msg.value != amount) {
                revert(string.concat("an ETH withdrawal sends its amount as the call's value: value ", Strings.toString(msg.value),
                                     ", amount ", Strings.toString(amount)));
            }
            uint256 locked = _totalMinted[ETH] + _genesisSupply; // what RootBridge holds for the native coin, exits aside
            uint256 burned = _totalBurned[ETH];
            if (burned + amount > locked) {
                revert(string.concat("withdrawal above the ETH locked on L1: ", Strings.toString(locked - burned),
                                     " wei can still exit, asked for ", Strings.toString(amount)));
            }
            // the value stays here: back in the reserve
        } else {
            if (msg.value != 0) revert(string.concat("a token withdrawal sends no ETH, got value ", Strings.toString(msg.value)));
            address token = _tokens[l1Token];
            if (token == address(0)) revert(string.concat("no token bridged from L1 token ", Strings.toHexString(l1Token)));
            uint256 balance = BridgedToken(token).balanceOf(msg.sender);
            if (balance < amount) {
                revert(string.concat("withdrawal above the balance: ", Strings.toHexString(msg.sender), " holds ",
                                     Strings.toString(balance), ", wants to withdraw ", Strings.toString(amount)));
            }
            BridgedToken(token).burn(msg.sender, amount);
        }
        uint256 id = _nextWithdrawalId;
        _nextWithdrawalId = id + 1;
        _withdrawals[id] = Withdrawal(l1Token, l1Recipient, msg.sender, amount, block.number);
        _totalBurned[l1Token] += amount;
        emit WithdrawalRecorded(uint64(id), l1Token, msg.sender, l1Recipient, amount);
        return uint64(id);
    }

    // --- views -------------------------------------------------------------------------------------

    function nextDepositId() external view returns (uint64) {
        return uint64(_nextDepositId);
    }

    function hasAffirmed(uint64 depositId, address validator) external view returns (bool) {
        return _affirmations[depositId][validator] != 0;
    }

    /// @notice The sidechain ledger of an L1 token (0 before its first deposit).
    function tokenFor(address l1Token) external view returns (address) {
        return _tokens[l1Token];
    }

    function nextWithdrawalId() external view returns (uint64) {
        return uint64(_nextWithdrawalId);
    }

    function withdrawal(uint64 withdrawalId)
        external
        view
        returns (address l1Token, address l1Recipient, uint256 amount, uint64 blockNumber)
    {
        Withdrawal storage w = _withdrawals[withdrawalId];
        if (w.amount == 0) revert(string.concat("no withdrawal ", Strings.toString(withdrawalId)));
        return (w.l1Token, w.l1Recipient, w.amount, uint64(w.blockNumber));
    }

    /// @notice The native coin allocated at genesis (locked in RootBridge on L1).
    function genesisSupply() external view returns (uint256) {
        return _genesisSupply;
    }

    receive() external payable {
        revert(string.concat(Strings.toHexString(address(this)), " is a system contract and takes no plain transfers"));
    }

    fallback() external payable {
        revert(string.concat("no function with selector ", Strings.toHexString(uint32(bytes4(msg.data)), 4), " at ",
                             Strings.toHexString(address(this))));
    }

    function _hex(bytes32 word) private pure returns (string memory) {
        return Strings.toHexString(uint256(word), 32);
    }
}
