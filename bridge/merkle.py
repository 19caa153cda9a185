"""OpenZeppelin-convention Merkle trees: the chain rules' own (sidechain.chain.ozmerkle), re-exported
for the L1 side so both build and check the very same roots and proofs."""

from sidechain.chain.ozmerkle import (  # noqa: F401
    EMPTY_ROOT, abi_leaf, hash_pair, leaf, merkle_levels, merkle_proof, merkle_root, proof_from_levels, verify_proof,
    withdrawal_leaf,
)

__all__ = [
    "EMPTY_ROOT", "abi_leaf", "hash_pair", "leaf", "merkle_levels", "merkle_proof", "merkle_root", "proof_from_levels",
    "verify_proof", "withdrawal_leaf",
]
