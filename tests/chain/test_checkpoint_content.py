"""Checkpoint ranges and roots on the sidechain side: the same numbers CheckpointManager expects."""

import pytest

from sidechain.chain import ozmerkle
from sidechain.chain.checkpoints import (
    NO_VALIDATOR_SET_CHANGE, block_proof, checkpoint_bounds, checkpoint_content, checkpoint_of_block,
)
from sidechain.errors import UnknownBlock


@pytest.mark.parametrize("number, interval, bounds", [(1, 16, (1, 16)), (2, 16, (17, 32)), (3, 256, (513, 768)), (1, 1, (1, 1))])
def test_checkpoint_n_covers_the_nth_run_of_k_blocks(number, interval, bounds):
    assert checkpoint_bounds(number, interval) == bounds
    assert checkpoint_of_block(bounds[0], interval) == number == checkpoint_of_block(bounds[1], interval)


def test_there_is_no_checkpoint_zero_and_the_genesis_is_in_none():
    with pytest.raises(UnknownBlock):
        checkpoint_bounds(0, 16)
    with pytest.raises(UnknownBlock):
        checkpoint_of_block(0, 16)


def test_content_roots_the_block_hashes_in_order_and_proofs_verify():
    hashes = [bytes([n]) * 32 for n in range(17, 33)]
    content = checkpoint_content(7070, 2, 16, hashes)
    leaves = [ozmerkle.leaf(17 + i, h) for i, h in enumerate(hashes)]
    assert (content.start_block, content.end_block) == (17, 32)
    assert content.block_root == ozmerkle.merkle_root(leaves)
    assert content.withdrawal_root == ozmerkle.EMPTY_ROOT != b"\x00" * 32
    assert content.next_validator_set_hash == NO_VALIDATOR_SET_CHANGE
    for block in (17, 24, 32):
        proof = block_proof(17, hashes, block)
        assert ozmerkle.verify_proof(proof, content.block_root, ozmerkle.leaf(block, hashes[block - 17]))
        assert not ozmerkle.verify_proof(proof, content.block_root, ozmerkle.leaf(block, b"\xee" * 32))
    assert checkpoint_content(7070, 2, 16, hashes[::-1]).block_root != content.block_root


def test_content_needs_exactly_the_ranges_hashes():
    with pytest.raises(UnknownBlock, match="needs blocks 1..16, got 15"):
        checkpoint_content(7070, 1, 16, [b"\x01" * 32] * 15)
