"""Contracts every chain's tools expect at well-known addresses, placed in the genesis state.

- MULTICALL3_ADDRESS: Multicall3's interface (contracts/Multicall3.sol, compiled by
  `scripts/build-contracts`), which viem, ethers' multicall providers and wallets batch reads with.
- DEPLOYMENT_PROXY_ADDRESS: the deterministic deployment proxy that CREATE2 factories and Safe's
  deployments use. A contract's CREATE2 address depends on the deployer's address, the salt and
  the initcode, never on the deployer's code, so every contract deployed through it lands where it
  lands on every other chain. Its code here is our own assembly of the same behaviour: calldata is
  a 32-byte salt and the initcode; it CREATE2s with the call's value, returns the 20-byte address,
  and reverts with no data if the creation fails.
"""

from __future__ import annotations

from ..crypto import keccak256
from .contracts import runtime_code
from .state import Account

MULTICALL3_ADDRESS = bytes.fromhex("ca11bde05977b3631167028862be2a173976ca11")
DEPLOYMENT_PROXY_ADDRESS = bytes.fromhex("4e59b44847b379578588920ca78fbf26c0b4956c")

DEPLOYMENT_PROXY_CODE = bytes.fromhex(
    "3660209003"      # size = CALLDATASIZE - 32
    "8060206000" "37"  # CALLDATACOPY(0, 32, size): the initcode to memory
    "600035" "90"     # salt = CALLDATALOAD(0)
    "600034" "f5"     # CREATE2(CALLVALUE, 0, size, salt)
    "80" "15" "6020" "57"  # if the address is zero, jump to the revert
    "600052" "6014600cf3"  # MSTORE(0, address); RETURN(12, 20)
    "5b" "600080fd"   # REVERT(0, 0)
)


def predeploys() -> dict[bytes, bytes]:
    """Address -> runtime code of every predeploy."""
    return {MULTICALL3_ADDRESS: runtime_code("Multicall3"), DEPLOYMENT_PROXY_ADDRESS: DEPLOYMENT_PROXY_CODE}


def genesis_accounts() -> tuple[dict[bytes, Account], dict[bytes, bytes]]:
    """The predeploys' accounts (nonce 1, as contracts start, EIP-161) and their code by hash."""
    accounts, code = {}, {}
    for address, runtime in predeploys().items():
        code_hash = keccak256(runtime)
        accounts[address] = Account(nonce=1, code_hash=code_hash)
        code[code_hash] = runtime
    return accounts, code
