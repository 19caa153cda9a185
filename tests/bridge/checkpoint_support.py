"""A CheckpointManager deployed on the test anvil, with the sidechain blocks its checkpoints cover.

`L1Checkpoints` builds the next contiguous checkpoint over made-up block hashes, signs it with
chosen keys (optionally for another domain), submits it, and asserts custom-error reverts.
"""

from __future__ import annotations

import dataclasses

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError

from sidechain.chain.checkpoint_signing import eip712_digest, pack_signatures, sign_checkpoint
from sidechain.chain.checkpoints import Checkpoint
from bridge.contract_errors import decode_error
from bridge.deploy import deploy_checkpoint_manager, send_transaction
from bridge.merkle import EMPTY_ROOT, leaf, merkle_proof, merkle_root
from sidechain.crypto import keccak256, private_key_to_address
from sidechain.devkeys import anvil_private_key

L1_CHAIN_ID = 31337
SIDECHAIN_CHAIN_ID = 7070
DEPLOYER = anvil_private_key(0)


def address_of(key: bytes) -> str:
    return Web3.to_checksum_address(private_key_to_address(key))


def by_address(keys: list[bytes]) -> list[bytes]:
    """Keys in ascending address order, the order the contract wants signers and validator sets in."""
    return sorted(keys, key=private_key_to_address)


def block_hash(number: int, fork: str = "") -> bytes:
    """A made-up hash for sidechain block `number`."""
    return keccak256(f"sidechain block {number}{fork}".encode())


class L1Checkpoints:
    """One deployed CheckpointManager and the sidechain's view of what it accepted."""

    def __init__(self, w3: Web3, keys: list[bytes], powers: list[int] | None = None) -> None:
        self.w3 = w3
        self.keys = by_address(keys)
        self.powers = powers or [1] * len(keys)
        self.contract, self.deploy_receipt = deploy_checkpoint_manager(
            w3, DEPLOYER, SIDECHAIN_CHAIN_ID, [private_key_to_address(k) for k in self.keys], self.powers)
        self.address = self.contract.address
        self.number = 0
        self.end_block = 0
        self.leaves: dict[int, list[bytes]] = {}
        """Checkpoint number -> the leaves of its blockRoot, in block order."""

    def next_checkpoint(self, blocks: int = 8, **changes) -> Checkpoint:
        """The checkpoint that follows the last accepted one, over `blocks` blocks; `changes` override fields."""
        start = self.end_block + 1
        leaves = [leaf(n, block_hash(n)) for n in range(start, start + blocks)]
        checkpoint = Checkpoint(SIDECHAIN_CHAIN_ID, self.number + 1, start, start + blocks - 1,
                                merkle_root(leaves), EMPTY_ROOT)
        return dataclasses.replace(checkpoint, **changes)

    def digest(self, checkpoint: Checkpoint, *, l1_chain_id: int = L1_CHAIN_ID, address: str | None = None) -> bytes:
        return eip712_digest(checkpoint, l1_chain_id, address or self.address)

    def sign(self, checkpoint: Checkpoint, keys: list[bytes], **domain) -> bytes:
        """The packed, ordered signatures of `keys` over `checkpoint` (on this contract unless overridden)."""
        digest = self.digest(checkpoint, **domain)
        return pack_signatures(digest, [sign_checkpoint(digest, k) for k in keys])

    def call(self, checkpoint: Checkpoint, signatures: bytes, next_set: tuple[list, list] = ([], [])):
        return self.contract.functions.submitCheckpoint(checkpoint.as_tuple(), signatures, *next_set)

    def submit(self, checkpoint: Checkpoint, signatures: bytes, next_set: tuple[list, list] = ([], [])) -> dict:
        """Send the checkpoint in a real transaction; on success, remember its range and leaves."""
        receipt = send_transaction(self.w3, self.call(checkpoint, signatures, next_set), DEPLOYER)
        self.leaves[checkpoint.number] = [leaf(n, block_hash(n))
                                          for n in range(checkpoint.start_block, checkpoint.end_block + 1)]
        self.number, self.end_block = checkpoint.number, checkpoint.end_block
        return receipt

    def land(self, blocks: int = 8, keys: list[bytes] | None = None) -> Checkpoint:
        """Sign (by every current key unless told) and submit the next checkpoint."""
        checkpoint = self.next_checkpoint(blocks)
        self.submit(checkpoint, self.sign(checkpoint, keys or self.keys))
        return checkpoint

    def expect_error(self, checkpoint: Checkpoint, signatures: bytes, name: str,
                     next_set: tuple[list, list] = ([], [])) -> dict:
        """Assert submitCheckpoint reverts with custom error `name` and changes nothing; returns its args."""
        before = self.contract.functions.lastCheckpoint().call()
        with pytest.raises(ContractCustomError) as raised:
            self.call(checkpoint, signatures, next_set).call({"from": address_of(DEPLOYER)})
        error = decode_error(self.contract.abi, raised.value.data)
        assert error.name == name, f"expected {name}, got {error}"
        assert self.contract.functions.lastCheckpoint().call() == before
        return error.args

    def proof(self, checkpoint_number: int, block_number: int) -> list[bytes]:
        leaves = self.leaves[checkpoint_number]
        first = self.contract.functions.checkpoint(checkpoint_number).call()[0]
        return merkle_proof(leaves, block_number - first)
