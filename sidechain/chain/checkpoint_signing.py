"""Checkpoints as CheckpointManager on L1 sees them: the EIP-712 digest validators sign, the
signature format it accepts, and the hash that announces the next validator set.

Pure functions, no I/O: the sidechain's validators sign with them, the relayer (bridge/) checks and
packs what they signed, and CheckpointManager.sol verifies the same bytes.

- Digest: EIP-712, domain {name "SidechainCheckpoints", version "1", chainId = the L1 chain id,
  verifyingContract = the CheckpointManager address}, primary type CHECKPOINT_TYPE. The struct
  carries the sidechain chain id, so neither another sidechain, another L1 chain nor another
  contract accepts the signature.
- Signature: 65 bytes r || s || v with v = 27 or 28 and s in the lower half of the curve order
  (what libsecp256k1 produces and OpenZeppelin's ECDSA requires). submitCheckpoint takes them
  concatenated into one `bytes`, one per signer, in ascending signer-address order: `pack_signatures`.
- Next validator set: `validators.validator_set_hash` (keccak256 of abi.encode(address[], uint256[])
  with the addresses strictly ascending); bytes32(0) means "no change".
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_abi import encode
from eth_utils import to_canonical_address, to_checksum_address

from ..crypto import keccak256, recover_address, sign
from .checkpoints import Checkpoint

DOMAIN_NAME = "SidechainCheckpoints"
DOMAIN_VERSION = "1"
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
CHECKPOINT_TYPE = (
    "Checkpoint(uint64 sidechainChainId,uint64 number,uint64 startBlock,uint64 endBlock,"
    "bytes32 blockRoot,bytes32 withdrawalRoot,bytes32 nextValidatorSetHash)"
)
_DOMAIN_TYPEHASH = keccak256(DOMAIN_TYPE.encode())
_CHECKPOINT_TYPEHASH = keccak256(CHECKPOINT_TYPE.encode())
_STRUCT_TYPES = ["bytes32", "uint64", "uint64", "uint64", "uint64", "bytes32", "bytes32", "bytes32"]


def domain_separator(l1_chain_id: int, contract_address: bytes | str) -> bytes:
    """The EIP-712 domain separator of the CheckpointManager at `contract_address` on L1 chain `l1_chain_id`."""
    return keccak256(encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [_DOMAIN_TYPEHASH, keccak256(DOMAIN_NAME.encode()), keccak256(DOMAIN_VERSION.encode()), l1_chain_id,
         to_canonical_address(contract_address)],
    ))


def struct_hash(checkpoint: Checkpoint) -> bytes:
    """EIP-712 hashStruct(checkpoint): every field is a static type, so abi.encode(typehash, fields...)."""
    return keccak256(encode(_STRUCT_TYPES, [_CHECKPOINT_TYPEHASH, *checkpoint.as_tuple()]))


def eip712_digest(checkpoint: Checkpoint, l1_chain_id: int, contract_address: bytes | str) -> bytes:
    """The 32-byte digest validators sign: keccak256(0x1901 ++ domainSeparator ++ hashStruct(checkpoint))."""
    return keccak256(b"\x19\x01" + domain_separator(l1_chain_id, contract_address) + struct_hash(checkpoint))


def typed_data(checkpoint: Checkpoint, l1_chain_id: int, contract_address: bytes | str) -> dict:
    """The same message as eth_signTypedData_v4 JSON, for wallets and external signers."""
    field_types = CHECKPOINT_TYPE[len("Checkpoint("):-1].split(",")
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"},
                             {"name": "verifyingContract", "type": "address"}],
            "Checkpoint": [{"name": n, "type": t} for t, n in (f.split(" ") for f in field_types)],
        },
        "primaryType": "Checkpoint",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": l1_chain_id,
                   "verifyingContract": to_checksum_address(contract_address)},
        "message": checkpoint.as_typed_dict(),
    }


def sign_checkpoint(digest: bytes, private_key: bytes) -> bytes:
    """A 65-byte r || s || v signature of `digest` (v = 27 or 28, low s), as CheckpointManager takes it."""
    if len(digest) != 32:
        raise ValueError(f"checkpoint digest must be 32 bytes, got {len(digest)}")
    v, r, s = sign(digest, private_key)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + v])


def recover_signer(digest: bytes, signature: bytes) -> bytes:
    """The 20-byte address that made `signature` over `digest`; raises for a malformed signature
    (wrong length, v not 27/28, high s), exactly where the contract would revert."""
    if len(signature) != 65:
        raise ValueError(f"checkpoint signature must be 65 bytes, got {len(signature)}")
    v = signature[64]
    if v not in (27, 28):
        raise ValueError(f"checkpoint signature v must be 27 or 28, got {v}")
    return recover_address(digest, v - 27, int.from_bytes(signature[:32], "big"),
                           int.from_bytes(signature[32:64], "big"))


def order_signatures(digest: bytes, signatures: Iterable[bytes]) -> list[bytes]:
    """The signatures ordered by ascending signer address, one per signer, as submitCheckpoint wants them."""
    by_signer = {recover_signer(digest, sig): sig for sig in signatures}
    return [by_signer[signer] for signer in sorted(by_signer)]


def pack_signatures(digest: bytes, signatures: Iterable[bytes]) -> bytes:
    """The `signatures` argument of submitCheckpoint: one signature per signer, ordered, concatenated."""
    return b"".join(order_signatures(digest, signatures))
