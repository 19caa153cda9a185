"""Deploy the L1 contracts from their committed artifacts and send transactions signed locally.

Signing happens here (eth-account), never on the node, so the same code deploys to anvil and to a
public testnet. A transaction whose gas estimate reverts raises web3's ContractCustomError with the
revert data; `bridge.contract_errors.decode_error` names the error.

RootBridge is deployed with the sidechain genesis's allocations locked in it (`genesis_supply`):
every wei of the sidechain's native coin is then backed by ETH on L1. `require_deployment_funds`
refuses, before anything is sent, a deployer that cannot pay for that lock and the gas.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_account import Account
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from sidechain.chain.genesis import GenesisConfig
from sidechain.errors import ConfigError, TransactionFailed  # noqa: F401  (callers import it from here)

from .artifacts import load_artifact


class DeployerCannotAfford(ConfigError):
    """The deployer's L1 balance cannot cover the genesis lock plus the deployment's gas."""


def genesis_supply(genesis: GenesisConfig) -> int:
    """The sidechain's native coin at genesis: the sum of the genesis `alloc` balances, in wei. RootBridge
    is deployed with exactly this much ETH locked in it."""
    return sum(balance for _, balance in genesis.alloc)


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    """The deployed contract `name` (an artifact name) at `address`."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name)["abi"])


def send_transaction(w3: Web3, call, private_key: bytes, *, gas: int | None = None, value: int = 0,
                     timeout: float = 60.0) -> TxReceipt:
    """Sign `call` (a bound contract function or constructor) with `private_key`, send it (with `value`
    wei) and wait for its receipt. Without `gas`, the estimate runs first and raises on a revert."""
    account = Account.from_key(private_key)
    params = {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    if value:
        params["value"] = value
    if gas is not None:
        params["gas"] = gas
    tx = call.build_transaction(params)
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)
    if receipt["status"] != 1:
        raise TransactionFailed(f"transaction 0x{bytes(tx_hash).hex()} reverted (gas used {receipt['gasUsed']})")
    return receipt


def constructor_call(w3: Web3, name: str, args: Sequence):
    """The bound constructor of the artifact `name` with `args` (to estimate or send)."""
    artifact = load_artifact(name)
    return w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"]).constructor(*args)


def deploy_contract(w3: Web3, name: str, args: Sequence, private_key: bytes, *,
                    value: int = 0) -> tuple[Contract, TxReceipt]:
    """Deploy the artifact `name` with constructor `args` (and `value` wei); returns the contract and the receipt."""
    receipt = send_transaction(w3, constructor_call(w3, name, args), private_key, value=value)
    return contract_at(w3, name, receipt["contractAddress"]), receipt


def require_deployment_funds(w3: Web3, deployer: str, lock: int, deployments: Sequence[tuple[str, Sequence, int]]) -> int:
    """Refuse, before anything is sent, a `deployer` whose balance cannot pay `lock` wei (the genesis
    supply RootBridge locks) plus the gas of `deployments` ((artifact name, constructor args, value)
    each) at the fee per gas the transactions will offer (twice the base fee plus the suggested tip).
    Returns that total; raises DeployerCannotAfford naming the genesis supply and the balance."""
    balance = w3.eth.get_balance(deployer)

    def refuse(needed: str) -> DeployerCannotAfford:
        return DeployerCannotAfford(
            f"the deployer {deployer} holds {format_eth(balance)} ETH ({balance} wei) on L1 chain {w3.eth.chain_id}, "
            f"but RootBridge must lock the sidechain genesis supply of {format_eth(lock)} ETH ({lock} wei), the sum of "
            f"the genesis allocations, {needed}: fund the deployer or make the genesis allocations smaller")

    if balance < lock:
        raise refuse("and pay the deployment's gas on top")
    sender = {"from": deployer}
    gas = sum(constructor_call(w3, name, args).estimate_gas({**sender, "value": value} if value else sender)
              for name, args, value in deployments)
    fee_per_gas = 2 * w3.eth.get_block("latest").get("baseFeePerGas", 0) + w3.eth.max_priority_fee
    needed = lock + gas * fee_per_gas
    if balance < needed:
        raise refuse(f"plus about {format_eth(gas * fee_per_gas)} ETH of gas ({gas} gas), {format_eth(needed)} ETH in all")
    return needed


def format_eth(wei: int) -> str:
    """`wei` in ETH, exactly (no trailing zeros)."""
    whole, fraction = divmod(wei, 10**18)
    return f"{whole:,}" + (f".{fraction:018d}".rstrip("0") if fraction else "")


def deploy_checkpoint_manager(w3: Web3, private_key: bytes, sidechain_chain_id: int,
                              validators: Sequence[str | bytes], powers: Sequence[int]) -> tuple[Contract, TxReceipt]:
    """Deploy CheckpointManager for sidechain `sidechain_chain_id` with its first validator set
    (addresses in strictly ascending order, powers > 0)."""
    addresses = [Web3.to_checksum_address(a) for a in validators]
    return deploy_contract(w3, "CheckpointManager", [sidechain_chain_id, addresses, list(powers)], private_key)
