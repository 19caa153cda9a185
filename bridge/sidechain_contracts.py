"""The sidechain's bridge system contract and bridged-token ledgers, as web3.py contract objects
(their L1 counterparts are in root_bridge.py).

The bridge is a Solidity contract in the sidechain's genesis (sidechain/chain/contracts/Bridge.sol)
and each bridged token an OpenZeppelin ERC-20 it opened, so the relayer and the user commands call
them with ordinary web3.py contracts over the sidechain's JSON-RPC. Their ABIs are the compiled
contracts' (`sidechain.chain.system.system_contracts`, also served by `sidechain_getSystemContracts`).
"""

from __future__ import annotations

from functools import cache

from web3 import Web3
from web3.contract import Contract

from sidechain.chain.system import BRIDGE_ADDRESS, system_contracts, token_address

ETH_METADATA = ("Ether", "ETH", 18)
"""What validators affirm as the metadata of an ETH deposit (name, symbol, decimals)."""


@cache
def _abis() -> dict[str, list]:
    contracts = system_contracts()
    return {"bridge": contracts["bridge"]["abi"], "ledger": contracts["bridgedToken"]["abi"]}


def bridge_contract(sidechain: Web3) -> Contract:
    """The bridge system contract on the sidechain."""
    return sidechain.eth.contract(address=Web3.to_checksum_address(BRIDGE_ADDRESS), abi=_abis()["bridge"])


def ledger_address(l1_token: str | bytes) -> str:
    """The checksummed sidechain address of the ledger bridged from `l1_token`."""
    raw = l1_token if isinstance(l1_token, (bytes, bytearray)) else bytes.fromhex(l1_token.removeprefix("0x"))
    return Web3.to_checksum_address(token_address(bytes(raw)))


def ledger(sidechain: Web3, l1_token: str | bytes) -> Contract:
    """The sidechain ERC-20 ledger of what was bridged from `l1_token`."""
    return sidechain.eth.contract(address=ledger_address(l1_token), abi=_abis()["ledger"])
