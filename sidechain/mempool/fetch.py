"""Transactions by hash between peers: what completes a compact proposal (consensus/gossip.py).

A proposal names its block's transactions by hash; a peer that lacks some (the proposer took them
from a client a moment ago, their batch is still on its way) asks for them over a request protocol
of its own, first of the proposal's origin, then of up to two other peers, each answer within a
deadline. A node answers from what it has verified (its pool, recent blocks: mempool/known.py).
Every answer is checked as a gossiped batch is: each transaction must hash to what was asked and
decode and recover as any other (on a worker thread), so a peer can only withhold, never forge.
Bounded: at most MAX_FETCH hashes a request, answers within the p2p layer's 4 MiB.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import rlp

from ..chain.codec import decode_byte_strings
from ..chain.transactions import Transaction, decode_transactions
from ..crypto import keccak256
from ..errors import InvalidTransaction, MempoolError, SidechainError

log = logging.getLogger("sidechain.gossip")

TXS_PROTOCOL = "/sidechain/txs/by-hash/1"
MAX_FETCH = 16_384
"""Hashes in one request (512 KiB of them), more than a block holds."""
MAX_ANSWER_BYTES = 4_000_000
"""Raw transaction bytes in one answer; the rest is answered empty (asked again elsewhere)."""
FETCH_TIMEOUT = 0.6
"""Seconds one peer has to answer: three peers asked in turn fit gossip validation's 2 s."""
PEERS_ASKED = 3


def _decode_all(pairs: list[tuple[bytes, bytes]], chain_id: int, gas_limit: int) -> dict[bytes, Transaction]:
    decoded = decode_transactions([raw for _, raw in pairs], chain_id, gas_limit)
    # an invalid one is left out: its proposer's block will not execute; nothing to keep
    return {tx_hash: tx for (tx_hash, _), tx in zip(pairs, decoded) if not isinstance(tx, InvalidTransaction)}


class TransactionFetcher:
    """Serves `TXS_PROTOCOL` from `known` and fetches what a proposal lacks; see the module docstring."""

    def __init__(self, p2p, *, chain_id: int, gas_limit: int, known: Callable[[bytes], Transaction | None],
                 on_fetched: Callable[[int, int], None] = lambda wanted, found: None) -> None:
        """`on_fetched(wanted, found)` after each fetch: how many transactions it asked for and got
        (the node's metrics: a fetch holds a prevote for a round trip, so their count matters)."""
        self.p2p, self.chain_id, self.gas_limit, self.known, self.on_fetched = p2p, chain_id, gas_limit, known, on_fetched
        p2p.set_request_handler(TXS_PROTOCOL, self._serve)

    async def _serve(self, data: bytes, peer: str) -> bytes:
        try:
            hashes = rlp.decode(data)
        except (rlp.DecodingError, ValueError):
            raise MempoolError("malformed transaction request: not an RLP list") from None
        if not isinstance(hashes, list) or len(hashes) > MAX_FETCH or any(not isinstance(h, bytes) or len(h) != 32 for h in hashes):
            raise MempoolError(f"malformed transaction request: expected at most {MAX_FETCH} 32-byte hashes")
        raws, size = [], 0
        for tx_hash in hashes:
            tx = self.known(tx_hash)
            raw = tx.raw if tx is not None and size + len(tx.raw) <= MAX_ANSWER_BYTES else b""
            size += len(raw)
            raws.append(raw)
        return rlp.encode(raws)

    async def fetch(self, hashes: list[bytes], origin: str) -> dict[bytes, Transaction]:
        """Those of `hashes` the peers have, decoded and verified: the origin's first, then others'."""
        wanted = list(dict.fromkeys(hashes))[:MAX_FETCH]
        found: dict[bytes, Transaction] = {}
        peers = [origin] + [p for p in self.p2p.peers() if p != origin]
        for peer in peers[:PEERS_ASKED]:
            asked = [h for h in wanted if h not in found]
            if not asked:
                break
            found.update(await self._ask(peer, asked))
        self.on_fetched(len(wanted), len(found))
        return found

    async def _ask(self, peer: str, asked: list[bytes]) -> dict[bytes, Transaction]:
        try:
            reply = await self.p2p.request(peer, TXS_PROTOCOL, rlp.encode(asked), timeout=FETCH_TIMEOUT)
            raws = decode_byte_strings(reply, len(asked))
        except (SidechainError, ValueError) as exc:  # the p2p layer's RequestError among them
            log.debug("transactions from %s: %s", peer, exc)
            return {}
        if len(raws) != len(asked):
            log.debug("transactions from %s: malformed answer", peer)
            return {}
        pairs = [(tx_hash, raw) for tx_hash, raw in zip(asked, raws) if raw and keccak256(raw) == tx_hash]
        if not pairs:
            return {}
        return await asyncio.get_running_loop().run_in_executor(None, _decode_all, pairs, self.chain_id, self.gas_limit)
