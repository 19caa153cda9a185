"""What a checkpoint says about the sidechain: the block range of checkpoint n and its roots.

Checkpoint n (from 1) covers blocks (n-1)*K+1 .. n*K, K being the genesis checkpointInterval. Its
blockRoot is the OpenZeppelin-convention Merkle root over (number, hash) of those blocks, so
CheckpointManager.verifyBlock on L1 accepts `block_proof`. Pure: the caller supplies the hashes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnknownBlock
from . import ozmerkle

NO_VALIDATOR_SET_CHANGE = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class CheckpointContent:
    """The fields of CheckpointManager's Checkpoint struct for one range of final blocks."""

    sidechain_chain_id: int
    number: int
    start_block: int
    end_block: int
    block_root: bytes
    withdrawal_root: bytes = ozmerkle.EMPTY_ROOT
    """Root of the range's withdrawals; the empty-tree value until the bridge records any."""
    next_validator_set_hash: bytes = NO_VALIDATOR_SET_CHANGE


def checkpoint_bounds(number: int, interval: int) -> tuple[int, int]:
    """First and last block of checkpoint `number` (1-based)."""
    if number < 1:
        raise UnknownBlock(f"checkpoint numbers start at 1, got {number}")
    return (number - 1) * interval + 1, number * interval


def checkpoint_of_block(block_number: int, interval: int) -> int:
    """The checkpoint whose range holds `block_number` (block 0, the genesis, is in none)."""
    if block_number < 1:
        raise UnknownBlock("the genesis block is in no checkpoint")
    return (block_number - 1) // interval + 1


def block_leaves(start_block: int, hashes: list[bytes]) -> list[bytes]:
    return [ozmerkle.leaf(start_block + i, h) for i, h in enumerate(hashes)]


def checkpoint_content(chain_id: int, number: int, interval: int, hashes: list[bytes], *,
                       withdrawal_root: bytes = ozmerkle.EMPTY_ROOT,
                       next_validator_set_hash: bytes = NO_VALIDATOR_SET_CHANGE) -> CheckpointContent:
    """The checkpoint of the `interval` final blocks whose hashes are `hashes`, in block order."""
    start, end = checkpoint_bounds(number, interval)
    if len(hashes) != end - start + 1:
        raise UnknownBlock(f"checkpoint {number} needs blocks {start}..{end}, got {len(hashes)} hashes")
    return CheckpointContent(chain_id, number, start, end, ozmerkle.merkle_root(block_leaves(start, hashes)),
                             withdrawal_root, next_validator_set_hash)


def block_proof(start_block: int, hashes: list[bytes], block_number: int) -> list[bytes]:
    """Siblings proving block `block_number` against the blockRoot of its checkpoint."""
    return ozmerkle.merkle_proof(block_leaves(start_block, hashes), block_number - start_block)
