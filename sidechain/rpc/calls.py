"""eth_call and eth_estimateGas without an EVM.

There is no contract code on the chain, so a call to an ordinary address returns empty output and
a transaction costs exactly its intrinsic gas. The hook for what comes next: the system contracts
(each bridged ERC-20 ledger, the bridge, the validator set) sit at fixed addresses and speak the
Solidity ABI. Register each as a `SystemContract` in the `system_contracts` mapping given to
`RpcServer`; eth_call then hands it the call and the state, and eth_estimateGas asks it for the
gas its execution adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ..chain.state import StateReader
from ..chain.transactions import intrinsic_gas
from ..errors import ContractCreationNotSupported, InsufficientFunds, IntrinsicGasTooLow
from .codec import CallArgs


class SystemContract(Protocol):
    """A built-in contract at a fixed address, answering ABI-encoded calls read-only."""

    def call(self, args: CallArgs, state: StateReader) -> bytes:
        """The ABI-encoded return data of `args.data`; raise a SidechainError to revert."""
        ...

    def execution_gas(self, args: CallArgs, state: StateReader) -> int:
        """Gas the call uses on top of the intrinsic gas."""
        ...


def _require_recipient(args: CallArgs) -> bytes:
    if args.to is None:
        raise ContractCreationNotSupported(
            "contract creation is not supported: this chain has no EVM; give the call a 'to' address"
        )
    return args.to


def call(args: CallArgs, state: StateReader, contracts: Mapping[bytes, SystemContract]) -> bytes:
    """eth_call: the output of a read-only call."""
    contract = contracts.get(_require_recipient(args))
    return b"" if contract is None else contract.call(args, state)


def estimate_gas(args: CallArgs, state: StateReader, contracts: Mapping[bytes, SystemContract]) -> int:
    """eth_estimateGas: intrinsic gas (plus a system contract's execution gas).

    With `from` and a value, the sender must hold the value, as go-ethereum checks; with a gas
    allowance, it must cover the estimate.
    """
    to = _require_recipient(args)
    gas = intrinsic_gas(args.data, args.access_list)
    contract = contracts.get(to)
    if contract is not None:
        gas += contract.execution_gas(args, state)
    if args.sender is not None and args.value:
        balance = state.get_account(args.sender).balance
        if balance < args.value:
            raise InsufficientFunds(
                f"insufficient funds for transfer: address 0x{args.sender.hex()} have {balance} want {args.value}"
            )
    if args.gas is not None and args.gas < gas:
        raise IntrinsicGasTooLow(f"gas required exceeds allowance ({args.gas}): needed {gas}")
    return gas
