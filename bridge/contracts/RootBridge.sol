// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";

import {CheckpointManager} from "./CheckpointManager.sol";

/// @title RootBridge
/// @notice The L1 end of the bridge. Locks ETH and ERC-20 deposits under sequential deposit ids for
/// the sidechain's validators to mint against, and pays each withdrawal made on the sidechain once,
/// when it is proven against the withdrawal root of a checkpoint accepted by CheckpointManager.
/// There is no owner: funds leave only through `exit` with a proof against a signed checkpoint, and
/// `claim` of what such an exit credited when its recipient could not be paid (pull payment).
/// Every wei of the sidechain's native coin is backed by ETH held here: the deployment locks the
/// sidechain genesis's allocations (their sum, `genesisLocked`), and deposits lock the rest, so the
/// ETH that can ever leave is genesisLocked + ETH deposited, and any holder may withdraw and exit.
/// @dev Token address(0) stands for ETH throughout. A withdrawal's leaf follows OpenZeppelin's
/// conventions: `keccak256(bytes.concat(keccak256(abi.encode(id, token, recipient, amount))))`,
/// sorted-pair hashing (sidechain.chain.ozmerkle.withdrawal_leaf builds the same leaf in Python).
/// Tokens that charge a fee on transfer are credited with what the bridge actually received;
/// rebasing tokens are not supported (their locked balance drifts from what is held).
/// What RootBridge holds of a token is `lockedBalance(token) + totalClaimable(token)`.
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

    /// @notice Gas an exit guarantees its payment (the ETH transfer or the token's `transfer`): the
    /// exit reverts with `InsufficientGas` rather than start a payment with less, so whoever submits
    /// an exit cannot starve a recipient that accepts payments into a mere credit.
    uint256 public constant PAYMENT_GAS = 100_000;
    /// @dev Gas kept back from the payment call: its own cost (cold account, value, new account:
    /// 36,600 at most) and crediting the recipient if it fails (two fresh slots and the event).
    uint256 private constant CREDIT_GAS = 100_000;

    CheckpointManager private immutable _checkpointManager;
    /// The sidechain genesis's native supply, locked (sent along) at deployment.
    uint256 private immutable _genesisLocked;

    uint64 private _nextDepositId;
    /// token => deposits credited minus exits paid; address(0) = ETH, which starts at the genesis lock.
    mapping(address => uint256) private _locked;
    mapping(address => bool) private _registered;
    /// Withdrawal ids already paid. A bitmap: sequential ids share storage slots.
    BitMaps.BitMap private _exited;
    /// recipient => token => what exits credited it when paying it failed, until it claims.
    mapping(address => mapping(address => uint256)) private _claimable;
    /// token => the sum of `_claimable` over recipients: held here, owed, out of `_locked`.
    mapping(address => uint256) private _totalClaimable;

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
    /// @notice `recipient` refused the ETH of a claim (reverted or ran out of gas).
    error EthTransferFailed(address recipient);
    /// @notice Only `gasLeft` gas was left to pay an exit; it needs `required` (PAYMENT_GAS for the
    /// payment, plus what crediting takes): send the exit with more gas.
    error InsufficientGas(uint256 gasLeft, uint256 required);
    /// @notice `account` has no claimable balance of `token`.
    error NothingToClaim(address account, address token);

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
    /// @notice Withdrawal `withdrawalId` is spent, but paying `recipient` failed (an ETH recipient
    /// that refuses ETH, a token that refuses the transfer): `amount` of `token` is now claimable by
    /// `recipient` (`claimable`, `claim`).
    event ExitCredited(uint64 indexed withdrawalId, address indexed token, address indexed recipient, uint256 amount);
    /// @notice `account` claimed its claimable `amount` of `token`, paid to `to`.
    event Claimed(address indexed account, address indexed token, address to, uint256 amount);

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
    /// withdrawalRoot. Anyone may submit it; each withdrawal id is spent at most once. When the
    /// payment fails (with PAYMENT_GAS at least), the amount is credited to the recipient's
    /// claimable balance instead (`ExitCredited`), so no recipient can lock its own exit for good.
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
        if (_tryPay(w.token, w.recipient, w.amount)) {
            emit Exited(w.id, w.token, w.recipient, w.amount);
        } else {
            _claimable[w.recipient][w.token] += w.amount;
            _totalClaimable[w.token] += w.amount;
            emit ExitCredited(w.id, w.token, w.recipient, w.amount);
        }
    }

    /// @notice Pay all of the caller's claimable `token` (address(0) = ETH), credited by exits that
    /// could not pay it, to `to`: the recipient of those exits chooses where its funds go. A payment
    /// that fails reverts the claim, and the balance stays claimable.
    function claim(address token, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroRecipient();
        amount = _claimable[msg.sender][token];
        if (amount == 0) revert NothingToClaim(msg.sender, token);
        _claimable[msg.sender][token] = 0;
        _totalClaimable[token] -= amount;
        if (token == address(0)) {
            if (!LowLevelCall.callNoReturn(to, amount, "")) revert EthTransferFailed(to);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
        emit Claimed(msg.sender, token, to, amount);
    }

    /// @notice The CheckpointManager whose checkpoints prove withdrawals.
    function checkpointManager() external view returns (address) {
        return address(_checkpointManager);
    }

    /// @notice The id the next deposit gets (1 before the first deposit).
    function nextDepositId() external view returns (uint64) {
        return _nextDepositId;
    }

    /// @notice Whether withdrawal `id` has been spent: paid, or credited to its recipient's claimable balance.
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

    /// @notice What `account` may claim of `token`: exits to it whose payment failed.
    function claimable(address account, address token) external view returns (uint256) {
        return _claimable[account][token];
    }

    /// @notice The claimable balances of `token` summed over recipients: exited, held, not paid yet.
    function totalClaimable(address token) external view returns (uint256) {
        return _totalClaimable[token];
    }

    /// @notice Whether `token` has been deposited at least once (and its TokenRegistered emitted).
    function tokenRegistered(address token) external view returns (bool) {
        return _registered[token];
    }

    function _takeDepositId() private returns (uint64 id) {
        id = _nextDepositId;
        _nextDepositId = id + 1;
    }

    /// @dev Pay `amount` of `token` (address(0) = ETH) to `to`, giving the payment all the gas left
    /// but CREDIT_GAS, and at least PAYMENT_GAS: false when the recipient refuses ETH, or when the
    /// token's transfer reverts or answers anything but nothing or true (OpenZeppelin's SafeERC20
    /// rule). Return data is never copied, so a recipient cannot make the exit pay for it.
    function _tryPay(address token, address to, uint256 amount) private returns (bool ok) {
        uint256 left = gasleft();
        if (left < PAYMENT_GAS + CREDIT_GAS) revert InsufficientGas(left, PAYMENT_GAS + CREDIT_GAS);
        uint256 paymentGas = left - CREDIT_GAS;
        if (token == address(0)) {
            assembly ("memory-safe") {
                ok := call(paymentGas, to, amount, 0, 0, 0, 0)
            }
            return ok;
        }
        bytes memory data = abi.encodeCall(IERC20.transfer, (to, amount));
        assembly ("memory-safe") {
            ok := call(paymentGas, token, 0, add(data, 0x20), mload(data), 0, 0x20)
            switch returndatasize()
            case 0 { ok := and(ok, gt(extcodesize(token), 0)) }
            default { ok := and(ok, and(gt(returndatasize(), 31), eq(mload(0), 1))) }
        }
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
