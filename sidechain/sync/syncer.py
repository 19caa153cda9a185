"""Catching up: ask peers for their head, fetch the final blocks we lack, verify, commit.

A block fetched from a peer is applied only if its commit certificate proves that more than 2/3 of
the validator set precommitted it, and only after re-executing it against our own state, so a
lying peer can waste our time but never make us commit anything but the final chain.

How much time it can waste is bounded too (peers.py): each round asks every peer in good standing
that claims a head above ours, fewest broken promises and lowest claim first, each up to its own
claim; a peer that does not deliver toward its claim is benched and the next one is asked in the
same round, so a peer claiming head 2^63 and answering with nothing costs one request per bench
period, not the sync. The highest block reported (eth_syncing) is the highest head that a peer in
good standing backed by delivering a verified block while claiming it, never a bare claim.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ..chain.blocks import Block
from ..consensus.messages import CommitCertificate
from ..errors import SidechainError
from ..execution.executor import ExecutedBlock
from ..interfaces import ChainWriter
from .peers import PeerBook
from .protocol import (
    BLOCKS_PROTOCOL, MAX_BLOCKS, MAX_RESPONSE_BYTES, STATUS_PROTOCOL, STATUS_REQUEST, PeerStatus, decode_blocks_request,
    decode_blocks_response, encode_blocks_request, encode_blocks_response,
)

log = logging.getLogger("sidechain.sync")


class BlockSyncer:
    def __init__(
        self, chain: ChainWriter, p2p, import_block: Callable[[ExecutedBlock, bytes], None],
        *, poll_interval: float = 1.0, on_reject: Callable[[str], None] = lambda reason: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chain, self.p2p = chain, p2p
        self.evidence = chain.evidence_index()
        """Blocks come back from the store without their evidence; the index holds it."""
        self.import_block = import_block
        self.poll_interval = poll_interval
        self.on_reject = on_reject
        self.peer_book = PeerBook(clock)
        self.starting_block = chain.height
        self._turn = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        p2p.set_request_handler(STATUS_PROTOCOL, self._serve_status)
        p2p.set_request_handler(BLOCKS_PROTOCOL, self._serve_blocks)

    # --- serving ----------------------------------------------------------------------------------

    async def _serve_status(self, data: bytes, peer: str) -> bytes:
        head = self.chain.head
        return PeerStatus(head.number, head.hash, self.chain.genesis_hash).encode()

    async def _serve_blocks(self, data: bytes, peer: str) -> bytes:
        start, count = decode_blocks_request(data)
        items, size = [], 0
        for number in range(max(start, 1), min(start + count, self.chain.height + 1)):
            block = self.chain.block_by_number(number)
            if block.header.evidence_root:
                block = block.with_evidence(self.evidence.for_block(block.hash))
            certificate = self.chain.certificate(block.hash)
            encoded = block.encode()
            if items and size + len(encoded) + len(certificate) > MAX_RESPONSE_BYTES:
                break
            items.append((encoded, certificate))
            size += len(encoded) + len(certificate)
        return encode_blocks_response(items)

    # --- fetching ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    def wake(self) -> None:
        """Something suggests we are behind (a message from a later height): look now."""
        self._wake.set()

    @property
    def highest_seen(self) -> int:
        """The highest block number a connected peer in good standing backed with a verified block
        (eth_syncing's highestBlock), at least our own height."""
        return max(self.chain.height, self.peer_book.highest_backed(self.p2p.peers()))

    @property
    def syncing(self) -> bool:
        return self.highest_seen > self.chain.height + 1

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.sync_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sync round failed")

    async def _status(self, peer: str) -> PeerStatus | None:
        try:
            reply = await self.p2p.request(peer, STATUS_PROTOCOL, STATUS_REQUEST, timeout=2.0)
        except Exception as exc:  # unreachable, slow or not a node of ours: not a protocol breach
            log.debug("status from %s failed: %s", peer, exc)
            return None
        try:
            status = PeerStatus.decode(reply)
        except SidechainError as exc:
            self.on_reject("bad-status")
            log.info("peer %s sent a malformed status: %s", peer, exc)
            return None
        if status.genesis_hash != self.chain.genesis_hash:
            self.on_reject("other-genesis")
            return None
        return status

    async def sync_once(self) -> None:
        """One round: the heads of the peers in good standing, then blocks from each that claims more
        than we have, in the book's order, until it reaches its claim or breaks it."""
        book = self.peer_book
        was_syncing = self.syncing
        peers = [peer for peer in self.p2p.peers() if not book.benched(peer)]
        statuses = await asyncio.gather(*(self._status(peer) for peer in peers))
        ahead = []
        for peer, status in zip(peers, statuses):
            if status is None:
                continue
            book.claimed(peer, status.head_number)
            if status.head_number > self.chain.height:
                ahead.append(peer)
            else:
                book.reached(peer, self.chain.height)
        if not was_syncing:
            self.starting_block = self.chain.height
        self._turn += 1
        for peer in book.order(ahead, self._turn):
            await self._sync_from(peer)

    async def _sync_from(self, peer: str) -> None:
        """Fetch ranges from `peer` up to the head it claims; bench it at the first broken promise."""
        book = self.peer_book
        while not book.benched(peer) and (record := book.get(peer)) is not None and self.chain.height < record.claim:
            before = self.chain.height
            failure = await self._fetch_range(peer, before + 1, min(MAX_BLOCKS, record.claim - before))
            if failure is None and self.chain.height <= before:
                failure = "undelivered-head"  # stale blocks only: an answer that moves nothing
            if failure is not None:
                claim = record.claim
                seconds = book.failed(peer, severe=failure != "undelivered-head")
                self.on_reject(failure)
                log.info("peer %s claimed head %d but %s at block %d: benched for %.0f s", peer[:12], claim,
                         "did not deliver" if failure == "undelivered-head" else "served unprovable blocks",
                         before + 1, seconds)
                return
            book.delivered(peer, self.chain.height)

    async def _fetch_range(self, peer: str, start: int, count: int) -> str | None:
        """Fetch, verify and import blocks start..start+count-1 from `peer`; None, or why it failed:
        "undelivered-head" (no answer, or no blocks), "malformed-blocks", "bad-synced-block"."""
        try:
            reply = await self.p2p.request(peer, BLOCKS_PROTOCOL, encode_blocks_request(start, count), timeout=10.0)
        except Exception as exc:
            log.info("fetching blocks %d+%d from %s failed: %s", start, count, peer[:12], exc)
            return "undelivered-head"
        try:
            items = decode_blocks_response(reply)
        except SidechainError as exc:
            log.warning("peer %s answered blocks %d+%d with garbage: %s", peer[:12], start, count, exc)
            return "malformed-blocks"
        if not items:
            return "undelivered-head"
        for block_bytes, certificate_bytes in items:
            try:
                block = Block.decode(block_bytes, self.chain.genesis.chain_id)
                if block.number <= self.chain.height:
                    continue  # consensus committed it meanwhile
                certificate = CommitCertificate.decode(certificate_bytes)
                certificate.verify(self.chain.genesis.chain_id, self.chain.validators_at(block.number), block.number, block.hash)
                executed = self.chain.execute_block(block)
            except SidechainError as exc:
                log.warning("peer %s served an unprovable block: %s", peer[:12], exc)
                return "bad-synced-block"
            self.import_block(executed, certificate_bytes)
            log.info("synced block %d 0x%s from %s", block.number, block.hash.hex()[:16], peer[:12])
        return None
