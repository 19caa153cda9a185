"""The validator set: who votes, with what power, and how L1 sees it.

A pure record shared by the chain rules (the validator-set system contract stores it), consensus
(proposer rotation, quorums, certificates) and the relayer (CheckpointManager's next-set hash).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import rlp
from eth_abi import encode
from eth_utils import to_canonical_address

from ..crypto import keccak256
from .codec import encode_items, uint


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """Validators in a fixed order with their voting power."""

    addresses: tuple[bytes, ...]
    powers: tuple[int, ...]

    @classmethod
    def from_genesis(cls, validators) -> "ValidatorSet":
        return cls(tuple(v.address for v in validators), tuple(v.power for v in validators))

    @property
    def total_power(self) -> int:
        return sum(self.powers)

    def power_of(self, address: bytes) -> int:
        try:
            return self.powers[self.addresses.index(address)]
        except ValueError:
            return 0

    def has_quorum(self, power: int) -> bool:
        """More than 2/3 of the total voting power."""
        return 3 * power > 2 * self.total_power

    def exceeds_one_third(self, power: int) -> bool:
        """More than 1/3: at least one honest validator is among them (f + 1)."""
        return 3 * power > self.total_power

    def proposer(self, height: int, round_: int) -> bytes:
        """Round-robin over the set by height and round."""
        return self.addresses[(height + round_) % len(self.addresses)]

    def with_member(self, address: bytes, power: int) -> "ValidatorSet":
        """This set plus `address` (appended, so existing members keep their rotation order)."""
        return ValidatorSet(self.addresses + (address,), self.powers + (power,))

    def without_member(self, address: bytes) -> "ValidatorSet":
        keep = [(a, p) for a, p in zip(self.addresses, self.powers) if a != address]
        return ValidatorSet(tuple(a for a, _ in keep), tuple(p for _, p in keep))

    def sorted_for_l1(self) -> tuple[list[bytes], list[int]]:
        """(addresses, powers) in the strictly ascending address order CheckpointManager requires."""
        pairs = sorted(zip(self.addresses, self.powers))
        return [a for a, _ in pairs], [p for _, p in pairs]

    def l1_hash(self) -> bytes:
        """`validator_set_hash` of the sorted set: a checkpoint's nextValidatorSetHash when this set takes over."""
        return validator_set_hash(*self.sorted_for_l1())

    def encode(self) -> bytes:
        return encode_items([[a, uint(p)] for a, p in zip(self.addresses, self.powers)])

    @classmethod
    def decode(cls, data: bytes) -> "ValidatorSet":
        items = rlp.decode(data)
        return cls(tuple(a for a, _ in items), tuple(int.from_bytes(p, "big") for _, p in items))


def validator_set_hash(addresses: Sequence[bytes | str], powers: Sequence[int]) -> bytes:
    """keccak256(abi.encode(address[] addresses, uint256[] powers)), as CheckpointManager hashes a set
    (the caller orders the addresses ascending, as the contract requires)."""
    return keccak256(encode(["address[]", "uint256[]"], [[to_canonical_address(a) for a in addresses], list(powers)]))
