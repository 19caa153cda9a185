"""RootBridge on L1 from Python: deployment, deposits, exits, claims, reading deposits back, and the
L1 ERC-20s it holds (`l1_erc20`).

The small functions here are what the user commands (`deposit`, `exit`, `claim`) and the relayer call; each
signs locally (bridge/deploy.py) and returns the mined receipt. A call the contract refuses raises
web3's ContractCustomError; `bridge.contract_errors.decode_error(bridge.abi, exc.data)` names it.

Deposits are read back from raw logs, not through web3's event decoding: TokenRegistered carries
whatever a token's name() and symbol() answered (any bytes, any length), and web3 decodes `string`
strictly as UTF-8, so one hostile token would make every scan of its block raise. A `string` is
ABI-encoded exactly as `bytes`, so it is decoded as bytes and handed on as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode
from eth_account import Account
from eth_utils import keccak, to_canonical_address
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from sidechain.chain.system.bridge import ETH  # noqa: F401  (the zero address RootBridge and the sidechain's bridge name ether by)

from .deploy import contract_at, deploy_contract, send_transaction
from .merkle import withdrawal_leaf

DEPOSITED_TOPIC = keccak(text="Deposited(uint64,address,address,address,uint256)")
TOKEN_REGISTERED_TOPIC = keccak(text="TokenRegistered(address,string,string,uint8)")


def _address(value: str | bytes) -> bytes:
    return bytes(value) if isinstance(value, (bytes, bytearray)) else to_canonical_address(value)


def _checksum(value: str | bytes) -> str:
    return Web3.to_checksum_address(_address(value))


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A sidechain withdrawal as RootBridge.exit takes it (struct Withdrawal)."""

    id: int
    """The sidechain's withdrawal id."""
    token: bytes
    """The L1 token to pay (20 bytes); ETH is the zero address. Hex strings are accepted too."""
    recipient: bytes
    """Who is paid on L1 (20 bytes). Hex strings are accepted too."""
    amount: int
    """Amount in the token's smallest unit."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "token", _address(self.token))
        object.__setattr__(self, "recipient", _address(self.recipient))

    def as_tuple(self) -> tuple[int, str, str, int]:
        """The struct as web3.py encodes it: (id, token, recipient, amount), addresses checksummed."""
        return (self.id, _checksum(self.token), _checksum(self.recipient), self.amount)

    def leaf(self) -> bytes:
        """Its leaf in a checkpoint's withdrawalRoot, the one RootBridge.exit rebuilds."""
        return withdrawal_leaf(self.id, self.token, self.recipient, self.amount)


@dataclass(frozen=True, slots=True)
class TokenMetadata:
    """What RootBridge read from a token on its first deposit (event TokenRegistered), as emitted."""

    name: bytes
    """What the token's name() answered: the token chooses it, so not necessarily UTF-8, and of any length."""
    symbol: bytes
    """What its symbol() answered, likewise."""
    decimals: int


@dataclass(frozen=True, slots=True)
class Deposit:
    """One Deposited event and where it sits on L1."""

    deposit_id: int
    token: bytes
    """The L1 token (20 bytes); ETH is the zero address."""
    sender: bytes
    recipient: bytes
    """The recipient on the sidechain."""
    amount: int
    """The amount credited (what the bridge received, for fee-on-transfer tokens)."""
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int
    registered: TokenMetadata | None
    """The token's metadata when this is its first deposit (TokenRegistered in the same transaction)."""


def deploy_root_bridge(w3: Web3, private_key: bytes, checkpoint_manager: str | bytes,
                       genesis_supply: int) -> tuple[Contract, TxReceipt]:
    """Deploy RootBridge trusting the checkpoints of `checkpoint_manager`, locking `genesis_supply`
    wei (the sidechain genesis's allocations, `bridge.deploy.genesis_supply`) sent with the deployment:
    the constructor refuses any other amount (GenesisNotLocked)."""
    return deploy_contract(w3, "RootBridge", [_checksum(checkpoint_manager), genesis_supply], private_key,
                           value=genesis_supply)


def deploy_test_token(w3: Web3, private_key: bytes, name: str, symbol: str, decimals: int,
                      holder: str | bytes, supply: int) -> tuple[Contract, TxReceipt]:
    """Deploy a TestToken (a faucet token anyone can mint: devnets and tests only) with `supply` to `holder`."""
    return deploy_contract(w3, "TestToken", [name, symbol, decimals, _checksum(holder), supply], private_key)


def l1_erc20(l1: Web3, token: str | bytes) -> Contract:
    """An ERC-20 on L1 (the standard functions, from the TestToken artifact's ABI)."""
    return contract_at(l1, "TestToken", token)


def deposit_eth(w3: Web3, bridge: Contract, private_key: bytes, to: str | bytes, amount: int) -> TxReceipt:
    """Lock `amount` wei for `to` on the sidechain."""
    return send_transaction(w3, _Paying(bridge.functions.depositETH(_checksum(to)), amount), private_key)


def deposit_erc20(w3: Web3, bridge: Contract, private_key: bytes, token: str | bytes, to: str | bytes,
                  amount: int) -> TxReceipt:
    """Approve the bridge for `amount` of `token` (when the allowance is short), then lock it for `to`."""
    erc20 = w3.eth.contract(address=_checksum(token), abi=_ERC20_ABI)
    owner = Account.from_key(private_key).address
    if erc20.functions.allowance(owner, bridge.address).call() < amount:
        send_transaction(w3, erc20.functions.approve(bridge.address, amount), private_key)
    return send_transaction(w3, bridge.functions.depositERC20(_checksum(token), amount, _checksum(to)), private_key)


def exit_withdrawal(w3: Web3, bridge: Contract, private_key: bytes, withdrawal: Withdrawal, checkpoint_number: int,
                    proof: list[bytes]) -> TxReceipt:
    """Pay `withdrawal` to its recipient, proven against checkpoint `checkpoint_number` (anyone may send it)."""
    call = bridge.functions.exit(withdrawal.as_tuple(), checkpoint_number, [bytes(p) for p in proof])
    return send_transaction(w3, call, private_key)


def claim_credit(w3: Web3, bridge: Contract, private_key: bytes, token: str | bytes, to: str | bytes) -> TxReceipt:
    """Have RootBridge pay everything of `token` (ETH: the zero address) that exits credited to the
    key's address, when paying it failed, to `to`. Only the credited recipient itself can claim."""
    return send_transaction(w3, bridge.functions.claim(_checksum(token), _checksum(to)), private_key)


def deposits_in(w3: Web3, bridge: Contract, from_block: int, to_block: int) -> list[Deposit]:
    """The deposits made in L1 blocks from_block..to_block (inclusive), in log order."""
    logs = w3.eth.get_logs({"address": bridge.address, "fromBlock": from_block, "toBlock": to_block,
                            "topics": [["0x" + DEPOSITED_TOPIC.hex(), "0x" + TOKEN_REGISTERED_TOPIC.hex()]]})
    registrations = {(bytes(log["transactionHash"]), bytes(log["topics"][1][12:])): _token_metadata(log)
                     for log in logs if bytes(log["topics"][0]) == TOKEN_REGISTERED_TOPIC}
    deposits = [_deposit(log, registrations) for log in logs if bytes(log["topics"][0]) == DEPOSITED_TOPIC]
    return sorted(deposits, key=lambda d: (d.block_number, d.log_index))


def token_registration(w3: Web3, bridge: Contract, token: str | bytes, from_block: int,
                       to_block: int) -> TokenMetadata | None:
    """The metadata `token` was registered with, if its TokenRegistered is in blocks from_block..to_block."""
    topics = ["0x" + TOKEN_REGISTERED_TOPIC.hex(), "0x" + bytes(12).hex() + _address(token).hex()]
    logs = w3.eth.get_logs({"address": bridge.address, "fromBlock": from_block, "toBlock": to_block, "topics": topics})
    return _token_metadata(logs[0]) if logs else None


def _token_metadata(log) -> TokenMetadata:
    # strict=False: padding is not checked either; only RootBridge emits these, the content is the token's.
    name, symbol, decimals = decode(["bytes", "bytes", "uint8"], bytes(log["data"]), strict=False)
    return TokenMetadata(name, symbol, decimals)


def _deposit(log, registrations: dict[tuple[bytes, bytes], TokenMetadata]) -> Deposit:
    _, deposit_id, token, sender = (bytes(topic) for topic in log["topics"])
    recipient, amount = decode(["address", "uint256"], bytes(log["data"]), strict=False)
    tx_hash = bytes(log["transactionHash"])
    return Deposit(deposit_id=int.from_bytes(deposit_id, "big"), token=token[12:], sender=sender[12:],
                   recipient=_address(recipient), amount=amount, block_number=log["blockNumber"],
                   block_hash=bytes(log["blockHash"]), tx_hash=tx_hash, log_index=log["logIndex"],
                   registered=registrations.get((tx_hash, token[12:])))


class _Paying:
    """A bound contract call that sends `value` wei: send_transaction only needs build_transaction."""

    def __init__(self, call, value: int) -> None:
        self.call, self.value = call, value

    def build_transaction(self, params: dict) -> dict:
        return self.call.build_transaction({**params, "value": self.value})


_ERC20_ABI = [
    {"type": "function", "name": "allowance", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
]
