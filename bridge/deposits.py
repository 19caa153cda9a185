"""The deposit relayer: one per validator, affirming each L1 deposit on the sidechain once it has
N L1 confirmations (the block holding it plus N - 1 on top).

It follows RootBridge's `Deposited` events from a cursor (the last L1 block fully scanned and its
hash) and scans only blocks that already have N confirmations, so a deposit a reorg removes before
then is never seen. If the cursor's block is no longer canonical (a reorg deeper than N, or one
that happened while the relayer was down), it rescans from REORG_REWIND blocks further back.

The sidechain is the source of truth for what is done: a deposit below the sidechain's
`nextDepositId()` is minted, and `hasAffirmed(id, me)` says this validator's affirmation landed.
So rescanning is harmless, and the persisted cursor never moves past a deposit that is not minted
yet: a relayer killed at any point, restarted, neither loses a deposit nor affirms one twice (the
contract refuses a second affirmation anyway). An affirmation whose gas estimate reverts (already
minted, content disagreeing with what the others accepted, not a validator) is skipped with the
reason in the log.

The affirmation's metadata rule. Every validator must affirm byte-identical content or nothing
mints, and a token's name and symbol are whatever its name() and symbol() answered on L1: any
bytes, of any length. So an ERC-20 deposit is affirmed with its token's name and its symbol each cut
to their first METADATA_BYTES bytes, then decoded as UTF-8 with every invalid sequence (a multi-byte
character the cut split included) replaced by U+FFFD: `raw[:64].decode("utf-8", "replace")`; the
decimals as emitted. A hostile token is minted under a sanitised name and cannot stall the deposits
after it, and an affirmation stays far below the sidechain's transaction size limit. ETH deposits
carry ETH_METADATA.

Repeated affirmations. The bridge contract checks the quorum when an affirmation arrives; after a
validator-set change, a deposit's affirmers may already hold a quorum of the new set with no one
left to affirm, and since deposits mint in id order every later one would wait. A validator that
repeats its identical affirmation makes the contract check again. So when the sidechain's next
deposit to mint has not moved for STALL_AFTER seconds and this validator affirmed it, the relayer
repeats that affirmation, and those of the deposits right after it that it also affirmed, as long
as the gas estimate says the repeat would be accepted (otherwise it reverts "already affirmed");
at most once every STALL_AFTER seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Container
from dataclasses import dataclass, field

from eth_account import Account
from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound

from sidechain.chain.system.bridge import AFFIRM_MINT_GAS, AFFIRM_OPEN_GAS

from .deploy import contract_at
from .relayer import StateFile
from .root_bridge import ETH, Deposit, TokenMetadata, deposits_in, token_registration
from .sidechain_contracts import ETH_METADATA, bridge_contract

log = logging.getLogger("bridge.deposits")

DEVNET_CONFIRMATIONS = 2
TESTNET_CONFIRMATIONS = 12
REORG_REWIND = 64
"""Blocks rescanned below a cursor that a reorg made stale: deeper than any reorg we expect past N."""
LOG_CHUNK = 2_000
"""Most blocks asked for in one eth_getLogs (public RPCs cap the range)."""
POLL_INTERVAL = 0.25
"""Seconds between passes: the deposit's N-th confirmation to minted is meant to take <= 2 s."""
STATE_KEY = "deposits"
METADATA_BYTES = 64
"""Most bytes of a token's name, and of its symbol, that an affirmation carries (the metadata rule)."""
STALL_AFTER = 10.0
"""Seconds the sidechain's next deposit to mint may stay the same before this validator repeats its
affirmation of it; also the least time between two repeats."""


def affirmed_metadata(registered: TokenMetadata) -> tuple[str, str, int]:
    """(name, symbol, decimals) as every validator affirms them for a token registered with
    `registered`: the metadata rule of the module docstring."""
    return (_affirmed_text(registered.name), _affirmed_text(registered.symbol), registered.decimals)


def _affirmed_text(raw: bytes) -> str:
    return raw[:METADATA_BYTES].decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Stall:
    """How long the sidechain's nextDepositId() has stayed at one deposit."""

    next_id: int
    since: float
    """When (time.monotonic) it was first seen at this deposit."""
    repeated_at: float | None = None
    """When this validator last repeated its affirmations while it stayed there."""

    def observe(self, next_id: int, now: float) -> Stall:
        """The stall after seeing nextDepositId() == `next_id` at `now`: a new one if it moved."""
        return self if next_id == self.next_id else Stall(next_id, now)

    def repeats(self, now: float, affirmed: Container[int]) -> list[int]:
        """The deposits whose affirmations to repeat now, lowest first: none unless the next deposit
        to mint has been stuck for STALL_AFTER seconds, no repeat was tried in the last STALL_AFTER
        seconds and this validator affirmed it; then it and the run of deposits right after it that
        this validator affirmed too."""
        if now - self.since < STALL_AFTER or (self.repeated_at is not None and now - self.repeated_at < STALL_AFTER):
            return []
        run = []
        while self.next_id + len(run) in affirmed:
            run.append(self.next_id + len(run))
        return run

    def repeated(self, now: float) -> Stall:
        return Stall(self.next_id, self.since, now)


@dataclass(frozen=True, slots=True)
class Cursor:
    """An L1 block the relayer has scanned up to (inclusive)."""

    number: int
    hash: bytes
    """Its hash when scanned: if the canonical block at `number` differs, a reorg happened."""


@dataclass(slots=True)
class OpenDeposit:
    """A confirmed deposit whose affirmation by this validator is not on the sidechain yet."""

    deposit: Deposit
    tx_hash: bytes | None = None
    """Our affirmation transaction, once sent."""
    sent_at: float = field(default=0.0)


class DepositRelayer:
    """Affirms confirmed L1 deposits on the sidechain with one validator's key."""

    def __init__(self, sidechain: Web3, l1: Web3, root_bridge: str, private_key: bytes, state: StateFile, *,
                 confirmations: int = DEVNET_CONFIRMATIONS, from_block: int = 0) -> None:
        if confirmations < 1:
            raise ValueError(f"confirmations must be at least 1, got {confirmations}")
        self.sidechain, self.l1, self.key = sidechain, l1, private_key
        self.root_bridge = contract_at(l1, "RootBridge", root_bridge)
        self.bridge = bridge_contract(sidechain)
        self.me = Account.from_key(private_key).address
        self.state = state
        self.confirmations = confirmations
        self.from_block = from_block
        saved = state.read().get(STATE_KEY)
        self.cursor: Cursor | None = (Cursor(saved["block"], bytes.fromhex(saved["hash"][2:]))
                                      if saved else None)
        """Persisted: every deposit up to this block is settled on the sidechain (from our side)."""
        self.scanned: Cursor | None = self.cursor
        """In memory: the last block scanned; deposits found since the cursor wait in `open`."""
        self.open: dict[int, OpenDeposit] = {}
        self.affirmed: dict[int, Deposit] = {}
        """Deposits this validator's affirmation is on the sidechain for, not minted yet: repeated on a stall."""
        self.stall: Stall | None = None
        self._metadata: dict[bytes, tuple[str, str, int]] = {}
        self._chain_id: int | None = None
        self._tx: dict = {}
        """This pass's transaction fields: sender, next nonce, fees, chain id."""
        self._checked_head: bytes | None = None
        """The L1 head whose chain the scanned cursor was last checked against."""

    # --- one pass ------------------------------------------------------------------------------------

    def step(self) -> str:
        """Scan newly confirmed L1 blocks, affirm what needs it, persist the cursor. Returns a summary."""
        latest = self.l1.eth.get_block("latest")
        head = latest["number"]
        found = self._scan(bytes(latest["hash"]), head - self.confirmations + 1)
        sent = self._affirm_open()
        self._persist()
        return f"L1 head {head}, scanned to {self.scanned.number if self.scanned else '-'}: " \
               f"{found} new deposit(s), {sent} affirmation(s) sent, {len(self.open)} open"

    def _scan(self, head_hash: bytes, safe: int) -> int:
        if self.scanned is not None and head_hash != self._checked_head and not self._canonical(self.scanned):
            rewind = max(self.from_block - 1, self.scanned.number - REORG_REWIND)
            log.warning("L1 reorg below the cursor: block %d is no longer 0x%s; rescanning from block %d",
                        self.scanned.number, self.scanned.hash.hex(), rewind + 1)
            self.scanned = self._cursor_at(rewind)
            if self.cursor is not None and self.cursor.number > rewind:
                self._save(self.scanned)
        self._checked_head = head_hash
        start = self.from_block if self.scanned is None else self.scanned.number + 1
        found = 0
        while start <= safe:
            end = min(safe, start + LOG_CHUNK - 1)
            end_hash = bytes(self.l1.eth.get_block(end)["hash"])
            deposits = deposits_in(self.l1, self.root_bridge, start, end)
            if bytes(self.l1.eth.get_block(end)["hash"]) != end_hash:
                log.info("L1 reorganised during the scan of blocks %d-%d; scanning again", start, end)
                break
            for deposit in deposits:
                if deposit.registered is not None:
                    self._metadata[deposit.token] = affirmed_metadata(deposit.registered)
                known = self.open.get(deposit.deposit_id)
                if known is None or known.tx_hash is None:
                    self.open[deposit.deposit_id] = OpenDeposit(deposit)
                    found += 1
            self.scanned = Cursor(end, end_hash)
            start = end + 1
        return found

    def _affirm_open(self) -> int:
        if not self.open and not self.affirmed:
            self.stall = None  # nothing waits: a deposit found later starts its own clock
            return 0
        next_id = self.bridge.functions.nextDepositId().call()
        for deposit_id in sorted(self.open):
            if deposit_id < next_id:
                del self.open[deposit_id]
            elif self.bridge.functions.hasAffirmed(deposit_id, self.me).call():
                self.affirmed[deposit_id] = self.open.pop(deposit_id).deposit
        for deposit_id in [i for i in self.affirmed if i < next_id]:
            del self.affirmed[deposit_id]
        now = time.monotonic()
        self.stall = Stall(next_id, now) if self.stall is None else self.stall.observe(next_id, now)
        repeats = self.stall.repeats(now, self.affirmed)
        if repeats:
            self.stall = self.stall.repeated(now)
        due = [entry for _, entry in sorted(self.open.items()) if self._needs_sending(entry)]
        if not due and not repeats:
            return 0
        self._start_sending()
        sent = 0
        for deposit_id in repeats:
            call = self._affirmation(self.affirmed[deposit_id])
            try:
                gas = call.estimate_gas({"from": self.me})
            except ContractLogicError as exc:  # not a quorum of the current set: the deposits after it wait too
                log.debug("deposit %d stalled, affirmation not repeated: %s", deposit_id, exc)
                break
            tx_hash = self._send(call, gas + self._mint_allowance(self.affirmed[deposit_id]))
            sent += 1
            log.info("deposit %d stalled for %.0f s: affirmation repeated in 0x%s, its affirmers now being a quorum",
                     deposit_id, now - self.stall.since, tx_hash.hex())
        for entry in due:
            deposit = entry.deposit
            call = self._affirmation(deposit)
            try:
                gas = call.estimate_gas({"from": self.me})
            except ContractLogicError as exc:
                log.warning("deposit %d not affirmed: %s", deposit.deposit_id, exc)
                del self.open[deposit.deposit_id]
                continue
            entry.tx_hash = self._send(call, gas + self._mint_allowance(deposit))
            entry.sent_at = time.monotonic()
            sent += 1
            log.info("deposit %d (%s %d to %s, L1 block %d): affirmation sent in 0x%s", deposit.deposit_id,
                     "ETH" if deposit.token == ETH else Web3.to_checksum_address(deposit.token), deposit.amount,
                     Web3.to_checksum_address(deposit.recipient), deposit.block_number, entry.tx_hash.hex())
        return sent

    def _mint_allowance(self, deposit: Deposit) -> int:
        """Gas on top of the estimate: the estimate ran before the other validators' affirmations
        land, and the one that crosses 2/3 also mints (and, for a token's first deposit, opens its ledger)."""
        if deposit.token == ETH or int(self.bridge.functions.tokenFor(Web3.to_checksum_address(deposit.token)).call(), 16):
            return AFFIRM_MINT_GAS
        return AFFIRM_OPEN_GAS

    def _affirmation(self, deposit: Deposit):
        """The affirmDeposit call for `deposit`: the same content every time, from every validator."""
        return self.bridge.functions.affirmDeposit(deposit.deposit_id, Web3.to_checksum_address(deposit.token),
                                                   Web3.to_checksum_address(deposit.recipient), deposit.amount,
                                                   *self._metadata_of(deposit))

    def _start_sending(self) -> None:
        """Read this pass's first nonce and fees."""
        if self._chain_id is None:
            self._chain_id = self.sidechain.eth.chain_id
        tip = self.sidechain.eth.max_priority_fee
        self._tx = {"from": self.me, "nonce": self.sidechain.eth.get_transaction_count(self.me, "pending"),
                    "maxFeePerGas": 2 * self.sidechain.eth.get_block("latest")["baseFeePerGas"] + tip,
                    "maxPriorityFeePerGas": tip, "chainId": self._chain_id}

    def _send(self, call, gas: int) -> bytes:
        """Sign and send `call` with this pass's next nonce; returns the transaction hash."""
        tx = call.build_transaction({**self._tx, "gas": gas})
        tx_hash = bytes(self.sidechain.eth.send_raw_transaction(Account.sign_transaction(tx, self.key).raw_transaction))
        self._tx["nonce"] += 1
        return tx_hash

    def _needs_sending(self, entry: OpenDeposit) -> bool:
        """Not sent yet; or sent, but the transaction failed or the node no longer knows it (its
        mempool was lost in a restart): then send again, the gas estimate deciding whether it still can."""
        if entry.tx_hash is None:
            return True
        try:
            receipt = self.sidechain.eth.get_transaction_receipt(entry.tx_hash)
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            return receipt["status"] != 1
        try:
            return self.sidechain.eth.get_transaction(entry.tx_hash) is None
        except TransactionNotFound:
            return True

    def _metadata_of(self, deposit: Deposit) -> tuple[str, str, int]:
        if deposit.token == ETH:
            return ETH_METADATA
        known = self._metadata.get(deposit.token)
        if known is None:  # registered by an earlier deposit than the ones scanned since the cursor
            registered = token_registration(self.l1, self.root_bridge, deposit.token, self.from_block,
                                            deposit.block_number)
            if registered is None:
                raise LookupError(f"no TokenRegistered event for 0x{deposit.token.hex()} up to L1 block "
                                  f"{deposit.block_number} (is --from-block after the bridge's deployment?)")
            known = self._metadata[deposit.token] = affirmed_metadata(registered)
        return known

    # --- the cursor ----------------------------------------------------------------------------------

    def _canonical(self, cursor: Cursor) -> bool:
        if cursor.number < 0:
            return True
        try:
            return bytes(self.l1.eth.get_block(cursor.number)["hash"]) == cursor.hash
        except BlockNotFound:
            return False

    def _cursor_at(self, number: int) -> Cursor | None:
        if number < 0:
            return None
        return Cursor(number, bytes(self.l1.eth.get_block(number)["hash"]))

    def _persist(self) -> None:
        """Save the last block below which every deposit is settled: the scanned block, or the
        block before the lowest deposit still open or affirmed but not minted (after a restart, a
        stalled deposit must still be known to repeat its affirmation)."""
        if self.scanned is None:
            return
        pending = [e.deposit for e in self.open.values()] + list(self.affirmed.values())
        target = min([d.block_number - 1 for d in pending] + [self.scanned.number])
        if self.cursor is not None and target <= self.cursor.number:
            return
        self._save(self.scanned if target == self.scanned.number else self._cursor_at(target))

    def _save(self, cursor: Cursor | None) -> None:
        self.state.update(**{STATE_KEY: None if cursor is None else {"block": cursor.number,
                                                                     "hash": "0x" + cursor.hash.hex()}})
        self.cursor = cursor

    def run_forever(self, interval: float = POLL_INTERVAL) -> None:
        backoff = interval
        while True:
            try:
                log.debug("%s", self.step())
                backoff = interval
            except Exception as exc:  # L1 or sidechain unreachable: try again, more slowly
                log.warning("deposit pass failed: %s: %s (retrying in %.1f s)", type(exc).__name__, exc, backoff)
                backoff = min(max(backoff, 0.5) * 2, 10.0)
            time.sleep(backoff)
