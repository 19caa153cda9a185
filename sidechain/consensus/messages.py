"""Consensus wire records and their signing domains: proposals, votes, commit certificates.

Each kind of signature has its own domain tag and always covers the chain id, height, round and
step, so a signature made for one purpose, chain or round never verifies for another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import rlp

from ..crypto import keccak256, recover_address, sign
from ..chain.validators import ValidatorSet  # noqa: F401  (consensus code imports it from here)
from ..errors import InvalidCertificate, InvalidSignature, InvalidVote, mismatch

PROPOSAL_DOMAIN = b"\x19sidechain/proposal/v1"
VOTE_DOMAIN = b"\x19sidechain/vote/v1"
NIL = b""
"""The block hash of a vote for nothing (Tendermint's nil)."""


class Step(IntEnum):
    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2


def _signature_bytes(v: int, r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def _recover(digest: bytes, signature: bytes) -> bytes:
    if len(signature) != 65:
        raise InvalidSignature(mismatch("signature length", expected=65, got=len(signature)))
    return recover_address(digest, signature[64], int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"))


def vote_digest(chain_id: int, height: int, round_: int, step: Step, block_hash: bytes) -> bytes:
    return keccak256(VOTE_DOMAIN + rlp.encode([chain_id, height, round_, int(step), block_hash]))


def proposal_digest(chain_id: int, height: int, round_: int, block_hash: bytes, pol_round: int) -> bytes:
    # pol_round is -1 for a fresh value; shifted by one to stay an unsigned RLP integer.
    return keccak256(PROPOSAL_DOMAIN + rlp.encode([chain_id, height, round_, block_hash, pol_round + 1]))


@dataclass(frozen=True, slots=True)
class Vote:
    """A signed prevote or precommit."""

    step: Step
    height: int
    round: int
    block_hash: bytes
    """The block voted for, or NIL."""
    validator: bytes
    """20-byte address the signature must recover to."""
    signature: bytes

    @classmethod
    def create(cls, chain_id: int, step: Step, height: int, round_: int, block_hash: bytes, private_key: bytes, validator: bytes) -> "Vote":
        sig = _signature_bytes(*sign(vote_digest(chain_id, height, round_, step, block_hash), private_key))
        return cls(step, height, round_, block_hash, validator, sig)

    def verify(self, chain_id: int) -> None:
        """Raises InvalidVote unless the signature is the named validator's, for this chain."""
        try:
            signer = _recover(vote_digest(chain_id, self.height, self.round, self.step, self.block_hash), self.signature)
        except InvalidSignature as exc:
            raise InvalidVote(f"vote signature: {exc}") from None
        if signer != self.validator:
            raise InvalidVote(mismatch("vote signer", expected="0x" + self.validator.hex(), got="0x" + signer.hex()))

    def encode(self) -> bytes:
        return rlp.encode([int(self.step), self.height, self.round, self.block_hash, self.validator, self.signature])

    @classmethod
    def decode(cls, data: bytes) -> "Vote":
        try:
            step, height, round_, block_hash, validator, signature = rlp.decode(data)
            vote = cls(Step(_int(step)), _int(height), _int(round_), _bytes(block_hash, (0, 32)), _bytes(validator, (20,)),
                       _bytes(signature))
        except (ValueError, TypeError, rlp.DecodingError) as exc:
            raise InvalidVote(f"malformed vote: {exc}") from None
        if vote.step == Step.PROPOSE or len(vote.validator) != 20 or len(vote.block_hash) not in (0, 32):
            raise InvalidVote("malformed vote: bad step, validator or block hash width")
        return vote


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposer's signed block for (height, round); pol_round is the valid round it re-proposes, or -1."""

    height: int
    round: int
    block_hash: bytes
    pol_round: int
    proposer: bytes
    signature: bytes

    @classmethod
    def create(cls, chain_id: int, height: int, round_: int, block_hash: bytes, pol_round: int, private_key: bytes, proposer: bytes) -> "Proposal":
        sig = _signature_bytes(*sign(proposal_digest(chain_id, height, round_, block_hash, pol_round), private_key))
        return cls(height, round_, block_hash, pol_round, proposer, sig)

    def verify(self, chain_id: int) -> None:
        try:
            signer = _recover(proposal_digest(chain_id, self.height, self.round, self.block_hash, self.pol_round), self.signature)
        except InvalidSignature as exc:
            raise InvalidVote(f"proposal signature: {exc}") from None
        if signer != self.proposer:
            raise InvalidVote(mismatch("proposal signer", expected="0x" + self.proposer.hex(), got="0x" + signer.hex()))

    def encode(self) -> bytes:
        return rlp.encode([self.height, self.round, self.block_hash, self.pol_round + 1, self.proposer, self.signature])

    @classmethod
    def decode(cls, data: bytes) -> "Proposal":
        try:
            height, round_, block_hash, pol, proposer, signature = rlp.decode(data)
            return cls(_int(height), _int(round_), _bytes(block_hash, (32,)), _int(pol) - 1, _bytes(proposer, (20,)), _bytes(signature))
        except (ValueError, TypeError, rlp.DecodingError) as exc:
            raise InvalidVote(f"malformed proposal: {exc}") from None


@dataclass(frozen=True, slots=True)
class CommitCertificate:
    """Precommit signatures from more than 2/3 of the voting power for one block: proof of finality."""

    height: int
    round: int
    block_hash: bytes
    signatures: tuple[tuple[bytes, bytes], ...]
    """(validator address, 65-byte signature), sorted by address."""

    @classmethod
    def from_votes(cls, votes: list[Vote]) -> "CommitCertificate":
        first = votes[0]
        sigs = tuple(sorted((v.validator, v.signature) for v in votes))
        return cls(first.height, first.round, first.block_hash, sigs)

    def encode(self) -> bytes:
        return rlp.encode([self.height, self.round, self.block_hash, [list(s) for s in self.signatures]])

    @classmethod
    def decode(cls, data: bytes) -> "CommitCertificate":
        try:
            height, round_, block_hash, sigs = rlp.decode(data)
            if not isinstance(sigs, list):
                raise TypeError("the signatures must be a list")
            return cls(_int(height), _int(round_), _bytes(block_hash, (32,)),
                       tuple((_bytes(a, (20,)), _bytes(s)) for a, s in (_pair(item) for item in sigs)))
        except (ValueError, TypeError, rlp.DecodingError) as exc:
            raise InvalidCertificate(f"malformed commit certificate: {exc}") from None

    def verify(self, chain_id: int, validators: ValidatorSet, height: int, block_hash: bytes) -> None:
        """Raises InvalidCertificate unless distinct validators with >2/3 power precommitted this block."""
        if self.height != height or self.block_hash != block_hash:
            raise InvalidCertificate(mismatch("certificate for block", expected=(height, "0x" + block_hash.hex()), got=(self.height, "0x" + self.block_hash.hex())))
        digest = vote_digest(chain_id, height, self.round, Step.PRECOMMIT, block_hash)
        seen: set[bytes] = set()
        power = 0
        for validator, signature in self.signatures:
            if validator in seen:
                raise InvalidCertificate(f"certificate lists validator 0x{validator.hex()} twice")
            seen.add(validator)
            weight = validators.power_of(validator)
            if weight == 0:
                raise InvalidCertificate(f"certificate signer 0x{validator.hex()} is not a validator")
            try:
                signer = _recover(digest, signature)
            except InvalidSignature as exc:
                raise InvalidCertificate(f"certificate signature of 0x{validator.hex()}: {exc}") from None
            if signer != validator:
                raise InvalidCertificate(mismatch("certificate signer", expected="0x" + validator.hex(), got="0x" + signer.hex()))
            power += weight
        if not validators.has_quorum(power):
            raise InvalidCertificate(f"certificate power {power} is not more than 2/3 of {validators.total_power}")


def _int(b: bytes) -> int:
    if not isinstance(b, bytes):
        raise TypeError("expected an integer byte string")
    return int.from_bytes(b, "big")


def _bytes(item: object, widths: tuple[int, ...] | None = None) -> bytes:
    """An RLP byte string (not a list), of one of `widths` bytes if given."""
    if not isinstance(item, bytes):
        raise TypeError("expected a byte string, got a list")
    if widths is not None and len(item) not in widths:
        raise ValueError(f"expected {' or '.join(map(str, widths))} bytes, got {len(item)}")
    return item


def _pair(item: object) -> tuple[object, object]:
    """A [validator, signature] entry of a certificate."""
    if not isinstance(item, list) or len(item) != 2:
        raise TypeError("a certificate signature is [validator, signature]")
    return item[0], item[1]
