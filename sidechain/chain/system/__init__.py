"""The system contracts: Solidity contracts (contracts/*.sol) placed in the genesis state at fixed
addresses and run by the EVM like any other, so wallets, tools and other contracts call them with
ordinary transactions and the Solidity ABI. This package is their Python side: the genesis writes
their storage, and the node, consensus, the RPC and the checkpoint builder read it (layout.py).

- VALIDATOR_SET_ADDRESS: validators vote validators in and out (ValidatorSet.sol, validator_set.py);
  after a checkpoint range's last block the node makes the system call `endBlock()`.
- CHECKPOINT_SIGNATURES_ADDRESS: validators post their checkpoint signatures
  (CheckpointSignatures.sol, checkpoint_signatures.py).
- BRIDGE_ADDRESS: deposits affirmed by the validators are minted, withdrawals burn (Bridge.sol,
  bridge.py); it holds the native coin's reserve.
- token_address(l1_token): the ERC-20 of each bridged L1 token (BridgedToken.sol, tokens.py),
  opened by the bridge with CREATE2; only the bridge mints and burns.
"""

from __future__ import annotations

from ...crypto import keccak256
from ..contracts import abi
from ..state import Account
from ..validators import ValidatorSet
from . import bridge, checkpoint_signatures, tokens, validator_set
from .bridge import BRIDGE_ADDRESS
from .checkpoint_signatures import (
    CHECKPOINT_SIGNATURES_ADDRESS, CHECKPOINT_SIGNED_TOPIC, SUBMIT_SIGNATURE_GAS, decode_checkpoint_signed,
    encode_submit_signature,
)
from .tokens import token_address
from .validator_set import END_BLOCK_CALLDATA, VALIDATOR_SET_ADDRESS

__all__ = [
    "BRIDGE_ADDRESS", "CHECKPOINT_SIGNATURES_ADDRESS", "CHECKPOINT_SIGNED_TOPIC", "END_BLOCK_CALLDATA", "SUBMIT_SIGNATURE_GAS",
    "VALIDATOR_SET_ADDRESS", "decode_checkpoint_signed", "encode_submit_signature", "ends_range", "genesis_state",
    "system_contracts", "token_address",
]


def ends_range(block_number: int, checkpoint_interval: int) -> bool:
    """Whether the block ends a checkpoint range: after its transactions the node calls
    ValidatorSet.endBlock() (END_BLOCK_CALLDATA) from the system address."""
    return checkpoint_interval > 0 and block_number % checkpoint_interval == 0


def system_contracts() -> dict[str, dict]:
    """Every system contract's address (or, for bridged tokens, how to find it) and JSON ABI."""
    from eth_utils import to_checksum_address

    return {
        "bridge": {"address": to_checksum_address(BRIDGE_ADDRESS), "abi": abi("Bridge")},
        "validatorSet": {"address": to_checksum_address(VALIDATOR_SET_ADDRESS), "abi": abi("ValidatorSet")},
        "checkpointSignatures": {"address": to_checksum_address(CHECKPOINT_SIGNATURES_ADDRESS), "abi": abi("CheckpointSignatures")},
        "bridgedToken": {"address": None, "addressOf": "bridge.tokenFor(l1Token)", "abi": tokens.token_abi()},
    }


def genesis_state(validators: ValidatorSet, *, checkpoint_interval: int, genesis_supply: int = 0
                  ) -> tuple[dict[bytes, Account], dict[tuple[bytes, bytes], bytes], dict[bytes, bytes]]:
    """The system contracts' accounts, storage and code (by hash) at genesis. `genesis_supply` is the
    sum of the genesis alloc's balances (locked in RootBridge on L1), which the bridge lets exit
    besides deposits."""
    accounts: dict[bytes, Account] = {}
    code: dict[bytes, bytes] = {}
    for address, runtime in ((VALIDATOR_SET_ADDRESS, validator_set.code()), (CHECKPOINT_SIGNATURES_ADDRESS, checkpoint_signatures.code()),
                             (BRIDGE_ADDRESS, bridge.code())):
        code_hash = keccak256(runtime)
        accounts[address] = Account(nonce=1, code_hash=code_hash)  # EIP-161: contracts start at nonce 1
        code[code_hash] = runtime
    accounts[BRIDGE_ADDRESS] = bridge.genesis_account(accounts[BRIDGE_ADDRESS].code_hash)
    storage = {(VALIDATOR_SET_ADDRESS, k): v for k, v in validator_set.genesis_storage(validators, checkpoint_interval).items()}
    storage.update({(BRIDGE_ADDRESS, k): v for k, v in bridge.genesis_storage(genesis_supply).items()})
    return accounts, storage, code
