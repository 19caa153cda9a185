"""The safety checker: reads every node's store (processes stopped) and fails if two different
blocks are final at one height, a block does not extend its parent, or a certificate does not prove
more than 2/3 of the validators precommitted it."""

from __future__ import annotations

from pathlib import Path

from sidechain.chain.genesis import load_genesis
from sidechain.consensus.messages import CommitCertificate, ValidatorSet
from sidechain.storage.store import ChainStore


def read_final_chain(data_dir: Path, genesis) -> dict[int, bytes]:
    store = ChainStore(data_dir / "chaindata", genesis.chain_id)
    try:
        validators = ValidatorSet.from_genesis(genesis.validators)
        head = store.get_header(store.head_hash())
        chain: dict[int, bytes] = {}
        parent = None
        for number in range(head.number + 1):
            block_hash = store.get_canonical_hash(number)
            assert block_hash is not None, f"{data_dir}: no block at height {number} below head {head.number}"
            header = store.get_header(block_hash)
            assert header.number == number
            if parent is not None:
                assert header.parent_hash == parent, f"{data_dir}: block {number} does not extend block {number - 1}"
            if number > 0:
                certificate = CommitCertificate.decode(store.get_certificate(block_hash))
                certificate.verify(genesis.chain_id, validators, number, block_hash)
            chain[number] = block_hash
            parent = block_hash
        return chain
    finally:
        store.close()


def check_safety(data_dirs: list[Path], genesis_path: Path) -> dict[Path, int]:
    """Returns each node's final height; raises AssertionError on any fork or bad certificate."""
    genesis = load_genesis(genesis_path)
    chains = {d: read_final_chain(d, genesis) for d in data_dirs}
    agreed: dict[int, tuple[bytes, Path]] = {}
    for data_dir, chain in chains.items():
        for number, block_hash in chain.items():
            other = agreed.setdefault(number, (block_hash, data_dir))
            assert other[0] == block_hash, (
                f"FORK at height {number}: {data_dir} has 0x{block_hash.hex()}, {other[1]} has 0x{other[0].hex()}"
            )
    return {d: max(c) for d, c in chains.items()}
