"""What the block explorer (sidechain/explorer/static, served at /explorer/) reads beyond the eth_
methods: a block's commit certificate, each validator's recent activity, and the network's settings.

    sidechain_getCommit(blockNumber)            who signed block N, with what power, in which round
    sidechain_getValidatorActivity(window)      the current set over the last `window` blocks
    sidechain_getNetworkInfo()                  chain id, genesis, block time, checkpoints, L1 (if told)

Every committed block is final, so the answers about a block never change, and the activity of a
window is cached per head.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from ..chain.system import system_contracts
from ..consensus.messages import CommitCertificate
from . import codec
from .ots_methods import json_quantity

DEFAULT_ACTIVITY_WINDOW = 256
MAX_ACTIVITY_WINDOW = 1_000


@dataclass(frozen=True, slots=True)
class L1Info:
    """The L1 this network is bridged to, as the operator told the node (`sidechain run --l1-rpc
    --l1-root-bridge --checkpoint-manager --l1-chain-id --l1-deploy-block`): shown to the explorer,
    never dialled."""

    rpc_url: str | None = None
    chain_id: int | None = None
    root_bridge: bytes | None = None
    checkpoint_manager: bytes | None = None
    deploy_block: int | None = None
    """Where the contracts' L1 events start (a public endpoint refuses a log range from block 0)."""

    def view(self) -> dict:
        return {"rpcUrl": self.rpc_url, "chainId": None if self.chain_id is None else hex(self.chain_id),
                "rootBridge": _address_or_none(self.root_bridge), "checkpointManager": _address_or_none(self.checkpoint_manager),
                "deployBlock": None if self.deploy_block is None else hex(self.deploy_block)}


def _address_or_none(value: bytes | None) -> str | None:
    return None if value is None else codec.hex_data(value)


def certificate_of(chain, block_hash: bytes) -> CommitCertificate | None:
    """The stored certificate of a final block; None for the genesis, which has none."""
    data = chain.certificate(block_hash)
    return CommitCertificate.decode(data) if data else None


# --- sidechain_getCommit ----------------------------------------------------------------------------


def sidechain_getCommit(ctx, block: int | str) -> dict | None:
    """The commit certificate of final block `block`: its round, proposer and the validators whose
    precommits it holds, with their power in the set that voted on that block. Null past the head."""
    number = ctx.view.number_of(block)
    header = ctx.chain.header_by_number(number) if number <= ctx.chain.head.number else None
    if header is None:
        return None
    block_hash = ctx.chain.canonical_hash(number)
    certificate = certificate_of(ctx.chain, block_hash)
    validators = ctx.chain.validators_at(number)
    signers = [] if certificate is None else [a for a, _ in certificate.signatures]
    return {
        "blockNumber": hex(number), "blockHash": codec.hex_data(block_hash),
        "round": hex(certificate.round if certificate else 0), "proposer": codec.hex_data(header.proposer),
        "signers": [{"validator": codec.hex_data(a), "power": hex(validators.power_of(a))} for a in signers],
        "signedPower": hex(sum(validators.power_of(a) for a in signers)), "totalPower": hex(validators.total_power),
    }


# --- sidechain_getValidatorActivity -------------------------------------------------------------------


def activity_window(value: object) -> int:
    """The number of recent blocks, 1 to MAX_ACTIVITY_WINDOW (a JSON integer or hex quantity)."""
    window = json_quantity(value)
    if not 1 <= window <= MAX_ACTIVITY_WINDOW:
        raise codec.BadParam(f"expected a window of 1 to {MAX_ACTIVITY_WINDOW} blocks, got {window}")
    return window


class _ActivityCache:
    """Answers by (head hash, window): a head's window never changes, and the validators page polls."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[bytes, int], dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[bytes, int]) -> dict | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[bytes, int], value: dict) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_ACTIVITY = _ActivityCache()


@dataclass(slots=True)
class _Tally:
    power: int
    last_proposed: int | None = None
    last_signed: int | None = None
    proposed: int = 0
    signed: int = 0
    missed: int = 0
    missed_proposals: list[int] | None = None

    def view(self, address: bytes) -> dict:
        return {
            "address": codec.hex_data(address), "power": hex(self.power),
            "lastProposed": None if self.last_proposed is None else hex(self.last_proposed),
            "lastSigned": None if self.last_signed is None else hex(self.last_signed),
            "proposed": hex(self.proposed), "signed": hex(self.signed), "missed": hex(self.missed),
            "missedProposals": [hex(n) for n in self.missed_proposals or ()],
        }


def sidechain_getValidatorActivity(ctx, window: int = DEFAULT_ACTIVITY_WINDOW) -> dict:
    """The set voting on the next block, and what each member did in the last `window` final blocks:
    blocks proposed and signed (the latest of each, null if none in the window), blocks whose
    certificate lacks its precommit although it was in the set voting on them (`missed`), and the
    heights where it was the round-0 proposer (ValidatorSet.proposer, as consensus rotates) but the
    block was decided in a later round (`missedProposals`). A certificate holds the precommits this
    node had when it committed (often just past 2/3), so `missed` counts some blocks a live
    validator did precommit, late, and differs from node to node."""
    chain = ctx.chain
    head = chain.head
    key = (chain.canonical_hash(head.number) or b"", window)
    cached = _ACTIVITY.get(key)
    if cached is not None:
        return cached
    current = chain.validators_at(head.number + 1)
    tallies = {a: _Tally(p, missed_proposals=[]) for a, p in zip(current.addresses, current.powers)}
    first = max(1, head.number - window + 1)
    for number in range(first, head.number + 1):
        block_hash = chain.canonical_hash(number)
        header = chain.header_by_hash(block_hash)
        proposer = tallies.get(header.proposer)
        if proposer is not None:
            proposer.proposed += 1
            proposer.last_proposed = number
        certificate = certificate_of(chain, block_hash)
        if certificate is None:
            continue  # no precommits recorded (a block written without consensus)
        voting = chain.validators_at(number)
        signers = {a for a, _ in certificate.signatures}
        for address, tally in tallies.items():
            if address in signers:
                tally.signed += 1
                tally.last_signed = number
            elif voting.power_of(address) > 0:
                tally.missed += 1
        if certificate.round > 0:
            expected = tallies.get(voting.proposer(number, 0))
            if expected is not None:
                expected.missed_proposals.append(number)
    result = {"fromBlock": hex(min(first, head.number)), "toBlock": hex(head.number),
              "validators": [tally.view(address) for address, tally in tallies.items()]}
    _ACTIVITY.put(key, result)
    return result


# --- sidechain_getNetworkInfo -------------------------------------------------------------------------


def latest_final_checkpoint(chain) -> int | None:
    """The highest checkpoint whose whole range is final (every committed block is), or None."""
    number = chain.head.number // chain.genesis.checkpoint_interval
    return number if number >= 1 else None


def sidechain_getNetworkInfo(ctx) -> dict:
    """The network's fixed settings and where its L1 contracts are (null unless the node was told).
    `genesisHash` is block 0's hash, as Ethereum names it; `genesisConfigHash` is the hash of the
    genesis file that `sidechain init` and `sidechain genesis new` print."""
    genesis = ctx.chain.genesis
    latest = latest_final_checkpoint(ctx.chain)
    l1: L1Info | None = getattr(ctx.backend, "l1_info", None)
    return {
        "chainId": hex(genesis.chain_id), "genesisHash": codec.hex_data(ctx.chain.canonical_hash(0)),
        "genesisConfigHash": codec.hex_data(ctx.chain.genesis_hash),
        "blockTimeMs": hex(genesis.block_time_ms), "checkpointInterval": hex(genesis.checkpoint_interval),
        "latestFinalCheckpoint": None if latest is None else hex(latest),
        "systemContracts": system_contracts(),
        "l1": None if l1 is None else l1.view(),
    }
