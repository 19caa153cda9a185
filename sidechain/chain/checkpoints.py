"""What a checkpoint says about the sidechain: the block range of checkpoint n and its roots.

Checkpoint n (from 1) covers blocks (n-1)*K+1 .. n*K, K being the genesis checkpointInterval. Its
blockRoot is the OpenZeppelin-convention Merkle root over (number, hash) of those blocks, so
CheckpointManager.verifyBlock on L1 accepts `block_proof`. Pure: the caller supplies the hashes.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

from ..errors import UnknownBlock
from . import ozmerkle

NO_VALIDATOR_SET_CHANGE = bytes(32)
"""nextValidatorSetHash of a checkpoint that keeps the current validator set."""

_TYPED_NAMES = ("sidechainChainId", "number", "startBlock", "endBlock", "blockRoot", "withdrawalRoot", "nextValidatorSetHash")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """CheckpointManager.Checkpoint on L1: a contiguous range of final sidechain blocks and what it
    commits to. The node builds it from its blocks (`checkpoint_content`), validators sign it
    (checkpoint_signing.py), the relayer submits it."""

    sidechain_chain_id: int
    """The sidechain's chain id (uint64)."""
    number: int
    """1 for the first checkpoint, then + 1 each (uint64)."""
    start_block: int
    """First block of the range: 1 for the first checkpoint, then the previous end block + 1."""
    end_block: int
    """Last block of the range, inclusive (>= start_block)."""
    block_root: bytes
    """ozmerkle.merkle_root of ozmerkle.leaf(n, hash) for every block n of the range, in order."""
    withdrawal_root: bytes = ozmerkle.EMPTY_ROOT
    """Root of the range's withdrawals; the empty-tree value when there are none."""
    next_validator_set_hash: bytes = NO_VALIDATOR_SET_CHANGE
    """ValidatorSet.l1_hash of the set taking over after this checkpoint; 32 zero bytes = unchanged."""

    def __post_init__(self) -> None:
        for name in ("sidechain_chain_id", "number", "start_block", "end_block"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**64:
                raise ValueError(f"Checkpoint.{name}: expected a uint64, got {value!r}")
        for name in ("block_root", "withdrawal_root", "next_validator_set_hash"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != 32:
                raise ValueError(f"Checkpoint.{name}: expected 32 bytes, got {value!r}")

    def as_tuple(self) -> tuple:
        """The struct as the ABI encodes it (field order of CheckpointManager.Checkpoint), for web3 calls."""
        return astuple(self)

    def as_typed_dict(self) -> dict:
        """The struct as EIP-712 typed data's `message` (camelCase names, 0x-hex bytes)."""
        values = [getattr(self, f.name) for f in fields(self)]
        return {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in zip(_TYPED_NAMES, values)}


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
                       next_validator_set_hash: bytes = NO_VALIDATOR_SET_CHANGE) -> Checkpoint:
    """The checkpoint of the `interval` final blocks whose hashes are `hashes`, in block order."""
    start, end = checkpoint_bounds(number, interval)
    if len(hashes) != end - start + 1:
        raise UnknownBlock(f"checkpoint {number} needs blocks {start}..{end}, got {len(hashes)} hashes")
    return Checkpoint(chain_id, number, start, end, ozmerkle.merkle_root(block_leaves(start, hashes)),
                             withdrawal_root, next_validator_set_hash)


def block_proof(start_block: int, hashes: list[bytes], block_number: int) -> list[bytes]:
    """Siblings proving block `block_number` against the blockRoot of its checkpoint."""
    return ozmerkle.merkle_proof(block_leaves(start_block, hashes), block_number - start_block)
