"""The chain scripts/bench-explorer browses: N final blocks of a one-validator network, built with the
node's own parts as fast as the machine allows, and cached under ~/.cache/sidechain.

A one-validator node paces its heights by the block time (at least 50 ms; about a quarter of it while
transactions wait), so 100,000 blocks through `sidechain run` take 85 minutes here (19.5 blocks/s
measured at 50 ms), and at least 21 with a transaction waiting for every block. Here the consensus
timers are the only part left out: the data directory is made by `sidechain init` (dev key #6, the
devnet's first validator), each block is built by `Blockchain.build_block` (the executor a proposer
uses), certified by that validator's precommit (`Vote.create`, the signature consensus makes, in a
`CommitCertificate`) and made final by `Blockchain.commit` (the commit batch, with the explorer's
address index). The validator's double-sign guard is left at the last height it signed, so
`sidechain run` over the directory goes on from block N+1 at the genesis block time.

Block i is dated genesis + i seconds (a chain that ran at 1 s blocks, ending before the build
started); every `tx_every`-th block carries one transfer from dev account #0 to one of a few fresh
recipients, so that account has a history of N / tx_every transactions.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from coincurve import PrivateKey

from sidechain.chain.genesis import genesis_to_json, load_genesis
from sidechain.chain.transactions import decode_transaction
from sidechain.consensus.messages import CommitCertificate, Step, Vote
from sidechain.consensus.signer import Signer
from sidechain.crypto import keccak256, private_key_to_address
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import DEVNET_GENESIS, FIRST_VALIDATOR_ACCOUNT, init_network
from sidechain.storage import schema
from sidechain.storage.blockchain import Blockchain
from sidechain.devtools.bench.loadgen import sign_transfer
from sidechain.devtools.bench.measure import progress

CACHE = Path.home() / ".cache" / "sidechain"
LAYOUT_VERSION = 1
"""Bumped when what a cached chain holds changes, so an older cache is rebuilt rather than reused
(as it is when the database schema or genesis/devnet.json changes; other changes to what blocks
hold need --rebuild)."""
SENDER_ACCOUNT = 0
RECIPIENTS = 4
TRANSFER_VALUE = 10**15
VERIFY_EVERY = 1_000
"""Every this many blocks the certificate is checked as a syncing node checks it."""


@dataclass(frozen=True, slots=True)
class BuiltChain:
    """A cached chain directory and what is in it."""

    root: Path
    """Holds genesis.json, password.txt and validator-0/, the node's data directory."""
    blocks: int
    tx_every: int
    sender: bytes
    recipients: tuple[bytes, ...]
    build_seconds: float
    """How long building took when it was built (not now, if reused)."""
    reused: bool

    @property
    def data_dir(self) -> Path:
        return self.root / "validator-0"

    def tx_blocks(self) -> range:
        """The blocks holding a transfer."""
        return range(self.tx_every, self.blocks + 1, self.tx_every)


def recipients() -> tuple[bytes, ...]:
    return tuple(keccak256(f"bench-explorer recipient {i}".encode())[12:] for i in range(RECIPIENTS))


def cached_chain(blocks: int, tx_every: int, *, rebuild: bool = False, cache: Path = CACHE) -> BuiltChain:
    """The chain of `blocks` blocks from the cache, built there first if it is missing or stale."""
    root = cache / f"bench-explorer-{blocks}"
    marker = root / "built.json"
    sender = private_key_to_address(anvil_private_key(SENDER_ACCOUNT))
    wanted = {"layout": LAYOUT_VERSION, "schema": schema.SCHEMA_VERSION,
              "devnetGenesis": keccak256(DEVNET_GENESIS.read_bytes()).hex(), "blocks": blocks, "txEvery": tx_every}
    if not rebuild and marker.exists():
        saved = json.loads(marker.read_text())
        if all(saved.get(k) == v for k, v in wanted.items()):
            progress(f"reusing the {blocks}-block chain cached in {root} (built in {saved['buildSeconds']} s on "
                     f"{saved['builtAt']}; --rebuild to build it again)")
            return BuiltChain(root, blocks, tx_every, sender, recipients(), saved["buildSeconds"], True)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.perf_counter()
    build(root, blocks, tx_every)
    seconds = round(time.perf_counter() - started, 1)
    marker.write_text(json.dumps({**wanted, "buildSeconds": seconds,
                                  "builtAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n")
    return BuiltChain(root, blocks, tx_every, sender, recipients(), seconds, False)


def build(root: Path, blocks: int, tx_every: int) -> None:
    """`sidechain init` a one-validator data directory in `root`, then commit `blocks` blocks to it."""
    base = genesis_to_json(load_genesis(DEVNET_GENESIS))
    base["timestamp"] = int(time.time()) - blocks - 60
    base_file = root / "base-genesis.json"
    base_file.write_text(json.dumps(base, indent=2) + "\n")
    (node,) = init_network(root, 1, rpc_base_port=0, genesis_path=base_file, block_time_ms=1000)
    genesis = load_genesis(node.data_dir / "genesis.json")
    key = anvil_private_key(FIRST_VALIDATOR_ACCOUNT)
    validator = private_key_to_address(key)
    sender_key = PrivateKey(anvil_private_key(SENDER_ACCOUNT))
    to = recipients()
    chain = Blockchain.open(node.data_dir, genesis)
    try:
        started = last_report = time.perf_counter()
        nonce = 0
        for number in range(chain.height + 1, blocks + 1):
            txs = []
            if number % tx_every == 0:
                raw = sign_transfer(sender_key, genesis.chain_id, nonce, to[nonce % len(to)], value=TRANSFER_VALUE)
                txs.append(decode_transaction(raw, genesis.chain_id))
            executed = chain.build_block(validator, genesis.timestamp + number, txs)
            result = executed.result
            if len(result.transactions) != len(txs) or any(r.status != 1 for r in result.receipts):
                raise RuntimeError(f"block {number}: the transfer did not execute ({result.rejected})")
            nonce += len(txs)
            precommit = Vote.create(genesis.chain_id, Step.PRECOMMIT, number, 0, executed.block.hash, key, validator)
            certificate = CommitCertificate.from_votes([precommit])
            if number % VERIFY_EVERY == 0:
                certificate.verify(genesis.chain_id, chain.validators_at(number), number, executed.block.hash)
            chain.commit(executed, certificate.encode())
            now = time.perf_counter()
            if now - last_report >= 10:
                last_report = now
                progress(f"  block {number}/{blocks}, {number / (now - started):.0f} blocks/s")
        # The guard a restarted validator reads: it signed the last block's precommit, nothing later.
        (node.data_dir / "consensus").mkdir(exist_ok=True)
        Signer(key, genesis.chain_id, node.data_dir / "consensus" / "signer-state.json").sign_vote(
            Step.PRECOMMIT, blocks, 0, chain.head.hash)
    finally:
        chain.close()
