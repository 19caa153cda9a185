"""`scripts/bench-gas`: the L1 gas of CheckpointManager and RootBridge, measured on a fresh anvil.

For each validator-set size it deploys the contract (equal powers), lands one warm-up checkpoint,
then measures `submitCheckpoint` signed by the minimum more-than-2/3 and by every validator, each
on a new contiguous checkpoint so every measurement pays the same storage writes. A least-squares
line over (signers, gas) gives the fixed base and the per-signer slope. Also measured: deployment,
a checkpoint that rotates the validator set, and `verifyBlock` over a 16-block range.

RootBridge: deployment (locking a GENESIS_SUPPLY of 1 ETH, as every deployment locks its sidechain
genesis's allocations), `depositETH` and `depositERC20` (a token's first deposit, which registers it,
and a later one), and `exit` of ETH and of an ERC-20 with a proof of depth 10 (a checkpoint of 1,024
withdrawals), paid to a recipient that already holds the asset and to a new one. Exits are measured
after a first one, so the spent-id bitmap's slot already exists; the first exit is reported apart.

Gas figures are receipts' gasUsed (or eth_estimateGas for the view), so they include the 21,000
intrinsic gas and the calldata. Prints one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from web3 import Web3

from sidechain.crypto import keccak256, private_key_to_address
from sidechain.devkeys import anvil_private_key

from sidechain.devtools.anvil import run_anvil
from sidechain.chain.checkpoint_signing import eip712_digest, pack_signatures, sign_checkpoint
from sidechain.chain.checkpoints import Checkpoint
from sidechain.chain.validators import validator_set_hash
from bridge.deploy import deploy_checkpoint_manager, send_transaction
from bridge.merkle import EMPTY_ROOT, leaf, merkle_levels, merkle_proof, merkle_root, proof_from_levels
from bridge.root_bridge import (
    ETH, Withdrawal, deploy_root_bridge, deploy_test_token, deposit_erc20, deposit_eth, exit_withdrawal,
)

L1_CHAIN_ID = 31337
SIDECHAIN_CHAIN_ID = 7070
RANGE = 16
EXIT_TREE_LEAVES = 1024
TARGET_PER_SIGNER_GAS = 8_000
GENESIS_SUPPLY = 10**18
"""The sidechain genesis allocations RootBridge locks at deployment in the benchmark."""
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def log(message: str) -> None:
    print(f"bench-gas: {message}", file=sys.stderr, flush=True)


def bench_keys(count: int, tag: str) -> list[bytes]:
    """`count` deterministic private keys, ordered by ascending address (the contract's order)."""
    keys = [(int.from_bytes(keccak256(f"bench-gas {tag} {i}".encode()), "big") % (SECP256K1_N - 1) + 1)
            .to_bytes(32, "big") for i in range(count)]
    return sorted(keys, key=private_key_to_address)


def calldata_gas(data: bytes) -> int:
    """Calldata gas before EIP-7623's floor: 4 per zero byte, 16 per non-zero byte."""
    return sum(4 if b == 0 else 16 for b in data)


class Chain:
    """One deployed CheckpointManager and the checkpoints it has accepted."""

    def __init__(self, w3: Web3, deployer: bytes, keys: list[bytes]) -> None:
        self.w3, self.deployer, self.keys = w3, deployer, keys
        addresses = [private_key_to_address(k) for k in keys]
        self.contract, receipt = deploy_checkpoint_manager(w3, deployer, SIDECHAIN_CHAIN_ID, addresses,
                                                           [1] * len(keys))
        self.deploy_gas = receipt["gasUsed"]
        self.number = 0
        self.end_block = 0

    def next_checkpoint(self, next_set_hash: bytes = bytes(32)) -> tuple[Checkpoint, list[bytes], list[bytes]]:
        start = self.end_block + 1
        hashes = [keccak256(f"block {n}".encode()) for n in range(start, start + RANGE)]
        leaves = [leaf(n, h) for n, h in zip(range(start, start + RANGE), hashes)]
        checkpoint = Checkpoint(SIDECHAIN_CHAIN_ID, self.number + 1, start, start + RANGE - 1, merkle_root(leaves),
                                EMPTY_ROOT, next_set_hash)
        return checkpoint, hashes, leaves

    def submit(self, checkpoint: Checkpoint, signers: list[bytes], next_set: tuple[list, list] = ([], [])) -> dict:
        digest = eip712_digest(checkpoint, L1_CHAIN_ID, self.contract.address)
        signatures = pack_signatures(digest, [sign_checkpoint(digest, k) for k in signers])
        call = self.contract.functions.submitCheckpoint(checkpoint.as_tuple(), signatures, *next_set)
        receipt = send_transaction(self.w3, call, self.deployer)
        self.number, self.end_block = checkpoint.number, checkpoint.end_block
        data = bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))
        return {"gas": receipt["gasUsed"], "calldata_gas": calldata_gas(data), "calldata_bytes": len(data)}


def linear_fit(points: list[tuple[int, int]]) -> tuple[float, float]:
    """Least-squares (intercept, slope) of gas over signers."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in points)
             / sum((x - mean_x) ** 2 for x, _ in points))
    return mean_y - slope * mean_x, slope


def measure_set(w3: Web3, deployer: bytes, size: int) -> tuple[dict, list[dict]]:
    chain = Chain(w3, deployer, bench_keys(size, "validator"))
    minimum = size * 2 // 3 + 1
    chain.submit(chain.next_checkpoint()[0], chain.keys)  # warm-up: the first checkpoint's slots are the same
    rows = []
    for signers in (minimum, size):
        result = chain.submit(chain.next_checkpoint()[0], chain.keys[:signers])
        rows.append({"validators": size, "signers": signers, **result})
        log(f"{size} validators, {signers} signers: {result['gas']} gas")
    new_keys = bench_keys(size, f"rotation {size}")
    new_set = ([private_key_to_address(k) for k in new_keys], [1] * size)
    checkpoint = chain.next_checkpoint(validator_set_hash(*new_set))[0]
    rotation = {"validators": size, "signers": minimum, **chain.submit(checkpoint, chain.keys[:minimum], new_set)}
    return {"validators": size, "deploy_gas": chain.deploy_gas, "rotation_to_new_set": rotation}, rows


def measure_verify_block(w3: Web3, deployer: bytes) -> dict:
    chain = Chain(w3, deployer, bench_keys(4, "validator"))
    checkpoint, hashes, leaves = chain.next_checkpoint()
    chain.submit(checkpoint, chain.keys)
    index = RANGE // 2
    proof = merkle_proof(leaves, index)
    call = chain.contract.functions.verifyBlock(checkpoint.number, checkpoint.start_block + index, hashes[index],
                                                proof)
    if not call.call():
        raise RuntimeError("verifyBlock rejected a valid proof")
    data = bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))
    gas = w3.eth.estimate_gas({"to": chain.contract.address, "data": data})
    return {"range_blocks": RANGE, "proof_length": len(proof), "gas": gas,
            "execution_gas": gas - 21_000 - calldata_gas(data)}


def measure_root_bridge(w3: Web3, deployer: bytes) -> dict:
    chain = Chain(w3, deployer, bench_keys(4, "validator"))
    bridge, receipt = deploy_root_bridge(w3, deployer, chain.contract.address, GENESIS_SUPPLY)
    result: dict = {"deploy_gas": receipt["gasUsed"]}
    depositor, holder = anvil_private_key(1), private_key_to_address(anvil_private_key(2))
    token, _ = deploy_test_token(w3, deployer, "Bench Token", "BENCH", 18, private_key_to_address(depositor), 10**30)
    send_transaction(w3, token.functions.approve(bridge.address, 2**256 - 1), depositor)
    to = private_key_to_address(anvil_private_key(3))
    result["deposit_eth"] = {"first": deposit_eth(w3, bridge, depositor, to, 10**18)["gasUsed"],
                             "later": deposit_eth(w3, bridge, depositor, to, 10**18)["gasUsed"]}
    result["deposit_erc20"] = {
        "first_of_token": deposit_erc20(w3, bridge, depositor, token.address, to, 10**20)["gasUsed"],
        "later": deposit_erc20(w3, bridge, depositor, token.address, to, 10**20)["gasUsed"]}
    send_transaction(w3, token.functions.mint(Web3.to_checksum_address(holder), 1), deployer)
    fresh = [keccak256(f"bench-gas new recipient {i}".encode())[:20] for i in range(2)]
    withdrawals = [Withdrawal(1, ETH, holder, 10**15), Withdrawal(2, ETH, holder, 10**15),
                   Withdrawal(3, ETH, fresh[0], 10**15), Withdrawal(4, token.address, holder, 10**18),
                   Withdrawal(5, token.address, fresh[1], 10**18)]
    padding = [Withdrawal(1000 + i, ETH, holder, 1) for i in range(EXIT_TREE_LEAVES - len(withdrawals))]
    levels = merkle_levels([w.leaf() for w in withdrawals + padding])
    checkpoint = dataclasses.replace(chain.next_checkpoint()[0], withdrawal_root=levels[-1][0])
    chain.submit(checkpoint, chain.keys)
    gas = []
    for index, withdrawal in enumerate(withdrawals):
        proof = proof_from_levels(levels, index)
        gas.append(exit_withdrawal(w3, bridge, deployer, withdrawal, checkpoint.number, proof)["gasUsed"])
    result["exit"] = {"proof_length": len(proof_from_levels(levels, 0)), "first_exit_eth": gas[0],
                      "eth_to_holder": gas[1], "eth_to_new_account": gas[2],
                      "erc20_to_holder": gas[3], "erc20_to_new_account": gas[4]}
    log(f"RootBridge: {result}")
    return result


def run(sizes: list[int]) -> dict:
    deployer = anvil_private_key(0)
    started = time.monotonic()
    with run_anvil(L1_CHAIN_ID) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        log(f"anvil at {anvil.url}")
        sets, rows = [], []
        for size in sizes:
            summary, measured = measure_set(w3, deployer, size)
            sets.append(summary)
            rows.extend(measured)
        verify = measure_verify_block(w3, deployer)
        root_bridge = measure_root_bridge(w3, deployer)
        client = w3.client_version
    base, slope = linear_fit([(r["signers"], r["gas"]) for r in rows])
    residual = max(abs(r["gas"] - (base + slope * r["signers"])) for r in rows)
    calldata_base, calldata_slope = linear_fit([(r["signers"], r["calldata_gas"]) for r in rows])
    return {
        "l1": client,
        "submit_checkpoint": rows,
        "fit": {"base_gas": round(base), "per_signer_gas": round(slope), "max_residual_gas": round(residual),
                "calldata_per_signer_gas": round(calldata_slope)},
        "target_per_signer_gas": TARGET_PER_SIGNER_GAS,
        "meets_target": slope <= TARGET_PER_SIGNER_GAS,
        "validator_sets": sets,
        "verify_block": verify,
        "root_bridge": root_bridge,
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench-gas", description=__doc__.splitlines()[0])
    parser.add_argument("--validators", default="4,7,21",
                        help="comma-separated validator-set sizes (default: 4,7,21)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.validators.split(",") if s.strip()]
    if not sizes or any(s < 1 for s in sizes) or len({s * 2 // 3 + 1 for s in sizes} | set(sizes)) < 2:
        parser.error("--validators needs sizes >= 1 giving at least two distinct signer counts")
    print(json.dumps(run(sizes), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
