"""The checkpoint relayer: one per validator, submitting each checkpoint to CheckpointManager on L1
once validators holding more than 2/3 of the power have signed it on the sidechain.

The contract's `lastCheckpoint()` is the cursor: the relayer always works on the checkpoint after
it, so a restart neither skips nor repeats one, and a checkpoint another relayer landed first is
simply seen as done (the gas estimate of a late submission reverts, so no gas is spent on it).
Relayers are staggered by their index so they rarely race for the same checkpoint. Each signature
is checked against the EIP-712 digest before it is packed: what a validator posted on the
sidechain is a claim, not a fact.

A mined submission counts as done only once it has N L1 confirmations (the block holding it plus
N - 1 on top) and is still in the canonical chain; if a reorg removed it, the contract's cursor
falls back and the checkpoint is submitted again.

The sidechain side is read only (final checkpoints and the signatures validators posted), so any
node serves it: the relayer takes a list of sidechain JSON-RPC URLs, its own validator's first, and
fails over to the next when one is unreachable (`bridge.endpoints`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, TransactionNotFound, Web3RPCError

from sidechain.chain.checkpoint_signing import eip712_digest, pack_signatures, recover_signer
from sidechain.chain.checkpoints import Checkpoint
from .deploy import TransactionFailed, contract_at
from .endpoints import failover_web3

log = logging.getLogger("bridge.relayer")


def checkpoint_from_rpc(served: dict) -> Checkpoint:
    return Checkpoint(
        int(served["sidechainChainId"], 16), int(served["number"], 16), int(served["startBlock"], 16),
        int(served["endBlock"], 16), bytes.fromhex(served["blockRoot"][2:]), bytes.fromhex(served["withdrawalRoot"][2:]),
        bytes.fromhex(served["nextValidatorSetHash"][2:]),
    )


_UNDERPRICED = re.compile(r"underpriced|less than block base fee|fee cap|too low", re.IGNORECASE)
"""Refusals that a higher fee cures (nodes word them differently)."""
FEE_BUMP = 1.125
"""Each replacement raises both fee fields by 12.5% (nodes require at least 10% to replace)."""


def send_with_fee_bump(w3: Web3, call, private_key: bytes, *, wait: float = 30.0, bumps: int = 6):
    """Send `call` as an EIP-1559 transaction and wait for it; if it is not mined within `wait`
    seconds, or the node refuses it as underpriced (a base fee that rose past its cap), send it again
    with the same nonce and fees raised by FEE_BUMP, or to twice the pending block's base fee plus
    the tip if that is more. The gas estimate runs
    first and raises on a revert, so nothing is sent for a call that would fail. Returns (receipt,
    replacements sent)."""
    account = Account.from_key(private_key)
    nonce = w3.eth.get_transaction_count(account.address, "latest")  # replaces our own stuck submission, if any
    gas = call.estimate_gas({"from": account.address})
    tip = w3.eth.max_priority_fee
    max_fee = 2 * w3.eth.get_block("latest")["baseFeePerGas"] + tip
    for attempt in range(bumps + 1):
        tx = call.build_transaction({"from": account.address, "nonce": nonce, "gas": gas, "maxFeePerGas": max_fee,
                                     "maxPriorityFeePerGas": tip})
        try:
            tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=wait, poll_latency=0.2)
        except (TimeExhausted, Web3RPCError) as exc:
            if isinstance(exc, Web3RPCError) and not _UNDERPRICED.search(str(exc)):
                raise
            tip = int(tip * FEE_BUMP) + 1
            max_fee = max(int(max_fee * FEE_BUMP) + 1, 2 * w3.eth.get_block("pending")["baseFeePerGas"] + tip)
            log.info("submission not mined or refused (%s): sending it again with maxFeePerGas %d", type(exc).__name__, max_fee)
            continue
        if receipt["status"] != 1:
            raise TransactionFailed(f"transaction 0x{bytes(tx_hash).hex()} reverted (gas used {receipt['gasUsed']})")
        return receipt, attempt
    raise TransactionFailed(f"not mined after {bumps} fee bumps")


class StateFile:
    """The relayer's JSON state file, shared by its checkpoint and deposit parts (one thread each):
    every update merges its keys into the file and replaces it atomically."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def read(self) -> dict:
        with self._lock:
            return self._load()

    def update(self, **fields) -> None:
        with self._lock:
            state = self._load()
            state.update(fields)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state, indent=1))
            tmp.replace(self.path)

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}


def confirmations_of(l1: Web3, tx_hash: bytes) -> tuple[int, dict] | None:
    """(confirmations, receipt) of a mined transaction still in the canonical chain; None if no
    canonical block holds it (never mined, or removed by a reorg). The block holding it counts as 1."""
    try:
        receipt = l1.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None
    if receipt is None:
        return None
    try:
        canonical = l1.eth.get_block(receipt["blockNumber"])["hash"]
    except Exception:  # the chain got shorter than the receipt's block: it is not canonical
        return None
    if bytes(canonical) != bytes(receipt["blockHash"]):
        return None
    return l1.eth.block_number - receipt["blockNumber"] + 1, receipt


class Relayer:
    def __init__(self, sidechain_rpc: str | Sequence[str], l1: Web3, manager_address: str, private_key: bytes,
                 state: Path | StateFile, *, index: int = 0, stagger: float = 2.0, confirmations: int = 1) -> None:
        self.sidechain_rpc, self.l1, self.key = sidechain_rpc, l1, private_key
        self.sidechain = failover_web3(sidechain_rpc, timeout=10)
        """The sidechain nodes, tried in turn: what they serve here is final, so any of them will do."""
        self.manager = contract_at(l1, "CheckpointManager", manager_address)
        self.l1_chain_id = l1.eth.chain_id
        self.state = state if isinstance(state, StateFile) else StateFile(state)
        self.delay = index * stagger
        self.confirmations = max(1, confirmations)
        self._ready_since: dict[int, float] = {}
        self._awaiting: tuple[int, bytes] | None = None
        """(checkpoint number, tx hash) of our mined submission still short of its confirmations."""

    def step(self) -> str:
        """One pass: returns what happened (for logs and tests)."""
        if self._awaiting is not None:
            outcome = self._follow_submission()
            if outcome is not None:
                return outcome
        last, _ = self.manager.functions.lastCheckpoint().call()
        number = last + 1
        reply = self.sidechain.provider.make_request("sidechain_getCheckpoint", [hex(number)])
        if "error" in reply:
            return f"checkpoint {number}: range not final yet"
        checkpoint = checkpoint_from_rpc(reply["result"])
        digest = eip712_digest(checkpoint, self.l1_chain_id, self.manager.address)
        addresses, powers = self.manager.functions.validators().call()
        power_of = {bytes.fromhex(a[2:]): p for a, p in zip(addresses, powers)}
        signatures, power = [], 0
        for item in reply["result"]["signatures"]:
            validator, signature = bytes.fromhex(item["validator"][2:]), bytes.fromhex(item["signature"][2:])
            try:
                if recover_signer(digest, signature) != validator or validator not in power_of:
                    continue
            except ValueError:
                continue
            signatures.append(signature)
            power += power_of[validator]
        if 3 * power <= 2 * sum(powers):
            return f"checkpoint {number}: waiting for signatures ({power} of {sum(powers)} power)"
        ready = self._ready_since.setdefault(number, time.monotonic())
        if time.monotonic() - ready < self.delay:
            return f"checkpoint {number}: ready, leaving it to an earlier relayer for {self.delay:.0f} s"
        next_set = reply["result"].get("nextValidatorSet")
        next_validators = [Web3.to_checksum_address(a) for a in next_set["validators"]] if next_set else []
        next_powers = [int(p, 16) for p in next_set["powers"]] if next_set else []
        call = self.manager.functions.submitCheckpoint(checkpoint.as_tuple(), pack_signatures(digest, signatures),
                                                       next_validators, next_powers)
        try:
            receipt, _ = send_with_fee_bump(self.l1, call, self.key)
        except (ContractCustomError, ContractLogicError) as exc:
            return f"checkpoint {number}: not submitted ({exc}); another relayer was first or the chain moved"
        self.state.update(lastSubmitted=number, tx="0x" + bytes(receipt["transactionHash"]).hex(),
                          l1Block=receipt["blockNumber"])
        log.info("submitted checkpoint %d (blocks %d-%d) in L1 block %d, gas %d%s", number, checkpoint.start_block,
                 checkpoint.end_block, receipt["blockNumber"], receipt["gasUsed"],
                 f", handing over validator set {next_set['hash']}" if next_set else "")
        self._awaiting = (number, bytes(receipt["transactionHash"]))
        return self._follow_submission() or f"checkpoint {number}: submitted"

    def _follow_submission(self) -> str | None:
        """Where our last submission stands: a message while it gathers confirmations, None once
        it is confirmed or gone (the caller then goes on with the contract's cursor)."""
        number, tx_hash = self._awaiting
        found = confirmations_of(self.l1, tx_hash)
        if found is None:
            log.warning("checkpoint %d: submission 0x%s is no longer in the L1 chain (reorg); submitting it again",
                        number, tx_hash.hex())
            self._awaiting = None
            return None
        depth, receipt = found
        if depth < self.confirmations:
            return f"checkpoint {number}: submitted, {depth}/{self.confirmations} confirmations"
        self._awaiting = None
        self.state.update(lastConfirmed=number)
        log.info("checkpoint %d confirmed on L1: %d confirmations on block %d", number, depth, receipt["blockNumber"])
        return f"checkpoint {number}: confirmed"

    def run_forever(self, interval: float = 1.0) -> None:
        backoff = interval
        while True:
            try:
                outcome = self.step()
                log.debug("%s", outcome)
                backoff = interval
            except Exception as exc:  # L1 or sidechain unreachable: try again, more slowly
                log.warning("relayer pass failed: %s: %s (retrying in %.0f s)", type(exc).__name__, exc, backoff)
                backoff = min(backoff * 2, 10.0)
            time.sleep(backoff)
