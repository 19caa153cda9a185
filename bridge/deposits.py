"""The deposit relayer: one per validator, affirming each L1 deposit on the sidechain once it has
N L1 confirmations (the block holding it plus N - 1 on top).

It follows RootBridge's `Deposited` events from a cursor (the last L1 block fully scanned and its
hash) and scans only blocks that already have N confirmations, so a deposit a reorg removes before
then is never seen. If the cursor's block is no longer canonical (a reorg deeper than N, or one
that happened while the relayer was down), it rescans from REORG_REWIND blocks further back.

The sidechain is the source of truth for what is done: a deposit below the sidechain's
`nextDepositId()` is minted, and `hasAffirmed(id, me)` says this validator's affirmation landed.
So rescanning is harmless, and the persisted cursor never moves past a deposit whose affirmation
is not on the sidechain yet: a relayer killed at any point, restarted, neither loses a deposit nor
affirms one twice (the contract refuses a second affirmation anyway). An affirmation whose gas
estimate reverts (already minted, content disagreeing with what the others accepted, not a
validator) is skipped with the reason in the log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from eth_account import Account
from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound

from .deploy import contract_at
from .relayer import StateFile
from .root_bridge import Deposit, TokenMetadata, deposits_in
from .sidechain_bridge import ETH, ETH_METADATA, bridge_contract

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
        self._metadata: dict[bytes, TokenMetadata] = {}
        self._chain_id: int | None = None
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
                    self._metadata[deposit.token] = deposit.registered
                known = self.open.get(deposit.deposit_id)
                if known is None or known.tx_hash is None:
                    self.open[deposit.deposit_id] = OpenDeposit(deposit)
                    found += 1
            self.scanned = Cursor(end, end_hash)
            start = end + 1
        return found

    def _affirm_open(self) -> int:
        if not self.open:
            return 0
        next_id = self.bridge.functions.nextDepositId().call()
        for deposit_id in sorted(self.open):
            if deposit_id < next_id or self.bridge.functions.hasAffirmed(deposit_id, self.me).call():
                del self.open[deposit_id]
        due = [entry for _, entry in sorted(self.open.items()) if self._needs_sending(entry)]
        if not due:
            return 0
        nonce = self.sidechain.eth.get_transaction_count(self.me, "pending")
        tip = self.sidechain.eth.max_priority_fee
        max_fee = 2 * self.sidechain.eth.get_block("latest")["baseFeePerGas"] + tip
        if self._chain_id is None:
            self._chain_id = self.sidechain.eth.chain_id
        sent = 0
        for entry in due:
            deposit = entry.deposit
            call = self.bridge.functions.affirmDeposit(deposit.deposit_id, Web3.to_checksum_address(deposit.token),
                                                       Web3.to_checksum_address(deposit.recipient), deposit.amount,
                                                       *self._metadata_of(deposit))
            try:
                gas = call.estimate_gas({"from": self.me})
            except ContractLogicError as exc:
                log.warning("deposit %d not affirmed: %s", deposit.deposit_id, exc)
                del self.open[deposit.deposit_id]
                continue
            tx = call.build_transaction({"from": self.me, "nonce": nonce, "gas": gas, "maxFeePerGas": max_fee,
                                         "maxPriorityFeePerGas": tip, "chainId": self._chain_id})
            entry.tx_hash = bytes(self.sidechain.eth.send_raw_transaction(
                Account.sign_transaction(tx, self.key).raw_transaction))
            entry.sent_at = time.monotonic()
            nonce += 1
            sent += 1
            log.info("deposit %d (%s %d to %s, L1 block %d): affirmation sent in 0x%s", deposit.deposit_id,
                     "ETH" if deposit.token == ETH else Web3.to_checksum_address(deposit.token), deposit.amount,
                     Web3.to_checksum_address(deposit.recipient), deposit.block_number, entry.tx_hash.hex())
        return sent

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
            events = self.root_bridge.events.TokenRegistered().get_logs(
                from_block=self.from_block, to_block=deposit.block_number,
                argument_filters={"token": Web3.to_checksum_address(deposit.token)})
            if not events:
                raise LookupError(f"no TokenRegistered event for 0x{deposit.token.hex()} up to L1 block "
                                  f"{deposit.block_number} (is --from-block after the bridge's deployment?)")
            args = events[0].args
            known = self._metadata[deposit.token] = TokenMetadata(args.name, args.symbol, args.decimals)
        return known.name, known.symbol, known.decimals

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
        block before the lowest deposit still open."""
        if self.scanned is None:
            return
        target = min([e.deposit.block_number - 1 for e in self.open.values()] + [self.scanned.number])
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
