"""An in-memory chain for the system-contract tests: genesis state in a MemoryState, transactions
signed with eth_account, each block executed and committed at the next height. A module of its own,
not conftest, so test modules can import it by a name no other test folder uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import decode, encode
from eth_utils import function_abi_to_4byte_selector, function_signature_to_4byte_selector, to_checksum_address

from sidechain.chain.execution import BlockEnv, ExecutionResult
from sidechain.execution.block import execute_transactions
from sidechain.chain.state import Account as StateAccount
from sidechain.chain.state import MemoryState
from sidechain.chain.system import genesis_state
from sidechain.chain.system.tokens import token_abi
from sidechain.chain.transactions import decode_transaction
from sidechain.chain.validators import ValidatorSet
from sidechain.execution.calls import revert_reason, run_message
from sidechain.execution.evm import EvmCall

CHAIN_ID = 7070
BASE_FEE = 10**9
FUNDS = 10**20
"""The native balance each funded account starts with."""
VIEW_GAS = 100_000


def addr(account) -> bytes:
    return bytes.fromhex(account.address[2:])


@dataclass(frozen=True)
class CallOutcome:
    """A call run on the chain's state and kept nowhere."""

    success: bool
    output: bytes
    gas: int
    revert_reason: str | None
    """Error(string)'s reason, or a custom error of the bridged token spelled Name(args), or None."""


def _custom_error(data: bytes) -> str | None:
    for item in token_abi():
        if item["type"] == "error" and function_abi_to_4byte_selector(item) == data[:4]:
            args = decode([i["type"] for i in item["inputs"]], data[4:])
            return f"{item['name']}({', '.join(map(str, args))})"
    return None


def calldata(signature: str, *args) -> bytes:
    types = signature[signature.index("(") + 1:-1]
    return function_signature_to_4byte_selector(signature) + encode([t for t in types.split(",") if t], list(args))


class MemoryChain:
    """A chain of MemoryState blocks: each `block` executes and commits at the next height."""

    def __init__(self, validators: Sequence, funded: Sequence, *, interval: int, gas: int,
                 call_gas: int = VIEW_GAS, contract: bytes | None = None, powers: Sequence[int] | None = None,
                 genesis_supply: int = 0) -> None:
        """`validators` (each of power 1 unless `powers` says otherwise) form the genesis set;
        `funded` accounts start with FUNDS; transactions carry `gas`, calls `call_gas`, and both go
        to `contract` unless told otherwise; checkpoint ranges are `interval` blocks long; the bridge
        records `genesis_supply` as the native coin allocated at genesis."""
        genesis = ValidatorSet(tuple(addr(v) for v in validators), tuple(powers or (1,) * len(validators)))
        accounts, storage, code = genesis_state(genesis, checkpoint_interval=interval, genesis_supply=genesis_supply)
        accounts.update({addr(a): StateAccount(balance=FUNDS) for a in funded})
        self.state = MemoryState(accounts, storage, code)
        self.interval = interval
        self.gas = gas
        self.call_gas = call_gas
        self.contract = contract
        self.number = 1
        self.nonces: dict[bytes, int] = {}
        self.fees = 0

    def tx(self, account, data: bytes, value: int = 0, to: bytes | None = None, gas: int | None = None):
        """A signed type-2 transaction from `account` at its next nonce."""
        nonce = self.nonces.get(addr(account), 0)
        self.nonces[addr(account)] = nonce + 1
        raw = account.sign_transaction({
            "to": to_checksum_address(self.contract if to is None else to), "value": value,
            "gas": self.gas if gas is None else gas, "data": data, "maxFeePerGas": 2 * BASE_FEE,
            "maxPriorityFeePerGas": 0, "nonce": nonce, "chainId": CHAIN_ID, "type": 2,
        }).raw_transaction
        return decode_transaction(bytes(raw), CHAIN_ID)

    def block(self, *txs) -> ExecutionResult:
        env = BlockEnv(CHAIN_ID, self.number, self.number, b"\x00" * 20, BASE_FEE, 30_000_000, self.interval)
        result = execute_transactions(self.state, env, txs, skip_invalid=False)
        self.state.apply(result.changes, {(a, k): v for a, words in result.storage.items() for k, v in words.items()}, result.code)
        self.number += 1
        self.fees += result.gas_used * BASE_FEE
        return result

    def statuses(self, *txs) -> list[int]:
        """One block of `txs`; the status of each receipt."""
        return [r.status for r in self.block(*txs).receipts]

    def send(self, account, data: bytes, value: int = 0, to: bytes | None = None):
        """One transaction in a block of its own; returns (receipt, result)."""
        result = self.block(self.tx(account, data, value, to))
        return result.receipts[0], result

    def run_to(self, number: int) -> None:
        """Execute empty blocks up to and including `number`."""
        while self.number <= number:
            self.block()

    def until_after_boundary(self) -> None:
        """Execute empty blocks until the last one executed ends a checkpoint range."""
        while (self.number - 1) % self.interval:
            self.block()

    def outcome(self, account, data: bytes, value: int = 0, *, to: bytes | None = None, gas: int | None = None,
                read_only: bool = False) -> CallOutcome:
        """The outcome of a call on the current state (as eth_call runs it), written nowhere."""
        to = self.contract if to is None else to
        # eth_call's context: the head's block; system contracts see the next one, where a call lands
        env = BlockEnv(CHAIN_ID, self.number - 1, self.number - 1, b"\x00" * 20, BASE_FEE, 30_000_000, self.interval)
        message = EvmCall(addr(account), to, 21_000 + (self.call_gas if gas is None else gas), value, data)
        result = run_message(self.state, env, message)
        reason = None if result.success else (revert_reason(result.output) or _custom_error(result.output))
        return CallOutcome(result.success, result.output, result.gas_used, reason)

    def read(self, caller, signature: str, args: tuple, outputs: list[str]) -> tuple:
        """A read-only call that must succeed, its output decoded as `outputs`."""
        outcome = self.outcome(caller, calldata(signature, *args), gas=VIEW_GAS, read_only=True)
        assert outcome.success, outcome.revert_reason
        return decode(outputs, outcome.output)
