// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";

import {CheckpointManager} from "./CheckpointManager.sol";

/// @title RootBridge
/// @notice The L1 end of the bridge. Locks ETH and ERC-20 deposits under sequential deposit ids for
/// the sidechain's validators to mint against, and pays each withdrawal made on the sidechain once,
/// when it is proven against the withdrawal root of a checkpoint accepted by CheckpointManager.
/// There is no owner: funds leave only through `exit` with a proof against a signed checkpoint.
/// Every wei of the sidechain's native coin is backed by ETH held here: the deployment locks the
/// sidechain genesis's allocations (their sum, `genesisLocked`), and deposits lock the rest, so the
/// ETH that can ever leave is genesisLocked + ETH deposited, and any holder may withdraw and exit.
/// @dev Token address(0) stands for ETH throughout. A withdrawal's leaf follows OpenZeppelin's
/// conventions: `keccak256(bytes.concat(keccak256(abi.encode(id, token, recipient, amount))))`,
/// sorted-pair hashing (sidechain.chain.ozmerkle.withdrawal_leaf builds the same leaf in Python).
/// Tokens that charge a fee on transfer are credited with what the bridge actually received;
/// rebasing tokens are not supported (their locked balance drifts from what is held).
contract RootBridge is ReentrancyGuard {
    using SafeERC20 for IERC20;
    using BitMaps for BitMaps.BitMap;

    /// @notice A withdrawal recorded on the sidechain, as committed in a checkpoint's withdrawalRoot.
    struct Withdrawal {
        /// The sidechain's withdrawal id, unique across the sidechain's history.
        uint64 id;
        /// The L1 token to pay, address(0) for ETH.
        address token;
        /// Who receives the funds on L1 (anyone may submit the exit; the funds go here).
        address recipient;
        /// How much to pay, in the token's smallest unit (wei for ETH).
        uint256 amount;
    }

    CheckpointManager private immutable _checkpointManager;
    /// The sidechain genesis's native supply, locked (sent along) at deployment.
    uint256 private immutable _genesisLocked;

    uint64 private _nextDepositId;
    /// token => deposits credited minus exits paid; address(0) = ETH, which starts at the genesis lock.
    mapping(address => uint256) private _locked;
    mapping(address => bool) private _registered;
    /// Withdrawal ids already paid. A bitmap: sequential ids share storage slots.
    BitMaps.BitMap private _exited;

    /// @notice The deployment sent `sent` wei, not the sidechain genesis's supply of `required` wei.
    error GenesisNotLocked(uint256 sent, uint256 required);
    /// @notice A deposit of nothing, or of a fee-on-transfer token that delivered nothing.
    error ZeroAmount();
    /// @notice A deposit to address(0).
    error ZeroRecipient();
    /// @notice `token` is not a contract (address(0) is ETH: use depositETH).
    error NotAToken(address token);
    /// @notice No checkpoint `number` has been accepted by CheckpointManager.
    error UnknownCheckpoint(uint64 number);
    /// @notice The proof does not lead from the withdrawal's leaf to the checkpoint's withdrawalRoot.
    error InvalidWithdrawalProof();
    /// @notice Withdrawal `id` has been paid already.
    error AlreadyExited(uint64 id);
    /// @notice The bridge holds `locked` of `token` from deposits (ETH: and the genesis lock), less
    /// than the `amount` to pay.
    error ExceedsLockedBalance(address token, uint256 locked, uint256 amount);
    /// @notice `recipient` refused the ETH (reverted or ran out of gas).
    error EthTransferFailed(address recipient);

    /// @notice The sidechain genesis's allocations, `amount` wei in all, locked at deployment.
    event GenesisLocked(uint256 amount);
    /// @notice `token`'s metadata, read from it on its first deposit (name "", symbol "" and
    /// decimals 18 when the token does not answer).
    event TokenRegistered(address indexed token, string name, string symbol, uint8 decimals);
    /// @notice `amount` of `token` (address(0) = ETH) locked by `sender` for `recipient` on the sidechain.
    event Deposited(
        uint64 indexed depositId, address indexed token, address indexed sender, address recipient, uint256 amount
    );
    /// @notice Withdrawal `withdrawalId` paid `amount` of `token` to `recipient`.
    event Exited(uint64 indexed withdrawalId, address indexed token, address indexed recipient, uint256 amount);

    /// @param checkpointManager_ The CheckpointManager whose checkpoints prove withdrawals.
    /// @param genesisSupply The sum of the sidechain genesis's `alloc` balances: the deployment must
    /// send exactly this much ETH, which backs the genesis coins as a deposit backs minted ones.
    constructor(address checkpointManager_, uint256 genesisSupply) payable {
        if (msg.value != genesisSupply) revert GenesisNotLocked(msg.value, genesisSupply);
        _checkpointManager = CheckpointManager(checkpointManager_);
        _nextDepositId = 1;
        _genesisLocked = genesisSupply;
        _locked[address(0)] = genesisSupply;
        emit GenesisLocked(genesisSupply);
    }

    /// @notice Lock the ETH sent for `to` on the sidechain.
    function depositETH(address to) external payable nonReentrant {
        if (to == address(0)) revert ZeroRecipient();
        if (msg.value == 0) revert ZeroAmount();
        _locked[address(0)] += msg.value;
        emit Deposited(_takeDepositId(), address(0), msg.sender, to, msg.value);
    }

    /// @notice Lock `amount` of `token` (approved to this contract beforehand) for `to` on the
    /// sidechain. The deposit is credited with the amount the bridge received, which is less than
    /// `amount` for a token that charges a fee on transfer.
    function depositERC20(address token, uint256 amount, address to) external nonReentrant {
        if (to == address(0)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        if (token.code.length == 0) revert NotAToken(token);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
        _locked[token] += received;
        if (!_registered[token]) {
            _registered[token] = true;
            emit TokenRegistered(token, _readString(token, IERC20Metadata.name.selector),
                _readString(token, IERC20Metadata.symbol.selector), _readDecimals(token));
        }
        emit Deposited(_takeDepositId(), token, msg.sender, to, received);
    }

    /// @notice Pay withdrawal `w` to its recipient, proven against checkpoint `checkpointNumber`'s
    /// withdrawalRoot. Anyone may submit it; each withdrawal id is paid at most once.
    /// @param proof The sibling hashes from the withdrawal's leaf up to the root (sorted-pair hashing).
    function exit(Withdrawal calldata w, uint64 checkpointNumber, bytes32[] calldata proof) external nonReentrant {
        (uint64 last,) = _checkpointManager.lastCheckpoint();
        if (checkpointNumber == 0 || checkpointNumber > last) revert UnknownCheckpoint(checkpointNumber);
        if (_exited.get(w.id)) revert AlreadyExited(w.id);
        bytes32 root = _checkpointManager.checkpoint(checkpointNumber).withdrawalRoot;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(w.id, w.token, w.recipient, w.amount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidWithdrawalProof();

        _exited.set(w.id);
        uint256 locked = _locked[w.token];
        if (w.amount > locked) revert ExceedsLockedBalance(w.token, locked, w.amount);
        unchecked {
            _locked[w.token] = locked - w.amount;
        }
        if (w.token == address(0)) {
            (bool ok,) = w.recipient.call{value: w.amount}("");
            if (!ok) revert EthTransferFailed(w.recipient);
        } else {
            IERC20(w.token).safeTransfer(w.recipient, w.amount);
        }
        emit Exited(w.id, w.token, w.recipient, w.amount);
    }

    /// @notice The CheckpointManager whose checkpoints prove withdrawals.
    function checkpointManager() external view returns (address) {
        return address(_checkpointManager);
    }

    /// @notice The id the next deposit gets (1 before the first deposit).
    function nextDepositId() external view returns (uint64) {
        return _nextDepositId;
    }

    /// @notice Whether withdrawal `id` has been paid.
    function isExited(uint64 id) external view returns (bool) {
        return _exited.get(id);
    }

    /// @notice The sidechain genesis's native supply, locked at deployment.
    function genesisLocked() external view returns (uint256) {
        return _genesisLocked;
    }

    /// @notice Deposits of `token` credited so far, minus the exits paid in it; for ETH
    /// (address(0)) the genesis lock counts as a deposit.
    function lockedBalance(address token) external view returns (uint256) {
        return _locked[token];
    }

    /// @notice Whether `token` has been deposited at least once (and its TokenRegistered emitted).
    function tokenRegistered(address token) external view returns (bool) {
        return _registered[token];
    }

    function _takeDepositId() private returns (uint64 id) {
        id = _nextDepositId;
        _nextDepositId = id + 1;
    }

    /// @dev A string metadata field, "" when the call reverts or returns something that is not an
    /// ABI-encoded string. A 32-byte answer is read as a zero-padded bytes32 (old tokens such as MKR).
    /// Decoding by hand because try/catch does not catch a failure to decode the return data.
    function _readString(address token, bytes4 selector) private view returns (string memory) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeWithSelector(selector));
        if (!ok) return "";
        if (data.length == 32) {
            uint256 n;
            while (n < 32 && data[n] != 0) ++n;
            assembly ("memory-safe") {
                mstore(data, n)
            }
            return string(data);
        }
        if (data.length < 64) return "";
        uint256 offset = abi.decode(data, (uint256));
        if (offset > data.length - 32) return "";
        uint256 length;
        assembly ("memory-safe") {
            length := mload(add(add(data, 0x20), offset))
        }
        if (length > data.length - 32 - offset) return "";
        return abi.decode(data, (string));
    }

    /// @dev The token's decimals, 18 when the call reverts or answers something that is not a uint8.
    function _readDecimals(address token) private view returns (uint8) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeCall(IERC20Metadata.decimals, ()));
        if (!ok || data.length < 32) return 18;
        uint256 value = abi.decode(data, (uint256));
        return value > type(uint8).max ? 18 : uint8(value);
    }
}
