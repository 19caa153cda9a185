"""Deploy the L1 contracts from their committed artifacts and send transactions signed locally.

Signing happens here (eth-account), never on the node, so the same code deploys to anvil and to a
public testnet. A transaction whose gas estimate reverts raises web3's ContractCustomError with the
revert data; `bridge.contract_errors.decode_error` names the error.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_account import Account
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from .artifacts import load_artifact


class TransactionFailed(RuntimeError):
    """A mined transaction with status 0."""


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    """The deployed contract `name` (an artifact name) at `address`."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name)["abi"])


def send_transaction(w3: Web3, call, private_key: bytes, *, gas: int | None = None,
                     timeout: float = 60.0) -> TxReceipt:
    """Sign `call` (a bound contract function or constructor) with `private_key`, send it and wait
    for its receipt. Without `gas`, the estimate runs first and raises on a revert."""
    account = Account.from_key(private_key)
    params = {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    if gas is not None:
        params["gas"] = gas
    tx = call.build_transaction(params)
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)
    if receipt["status"] != 1:
        raise TransactionFailed(f"transaction 0x{bytes(tx_hash).hex()} reverted (gas used {receipt['gasUsed']})")
    return receipt


def deploy_contract(w3: Web3, name: str, args: Sequence, private_key: bytes) -> tuple[Contract, TxReceipt]:
    """Deploy the artifact `name` with constructor `args`; returns the contract and the receipt."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = send_transaction(w3, factory.constructor(*args), private_key)
    return contract_at(w3, name, receipt["contractAddress"]), receipt


def deploy_checkpoint_manager(w3: Web3, private_key: bytes, sidechain_chain_id: int,
                              validators: Sequence[str | bytes], powers: Sequence[int]) -> tuple[Contract, TxReceipt]:
    """Deploy CheckpointManager for sidechain `sidechain_chain_id` with its first validator set
    (addresses in strictly ascending order, powers > 0)."""
    addresses = [Web3.to_checksum_address(a) for a in validators]
    return deploy_contract(w3, "CheckpointManager", [sidechain_chain_id, addresses, list(powers)], private_key)
