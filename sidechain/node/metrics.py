"""Prometheus metrics of one node, served at GET /metrics on the JSON-RPC port."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.height = Gauge("sidechain_height", "Number of the last final block", registry=r)
        self.round = Gauge("sidechain_consensus_round", "Round of the height being decided", registry=r)
        self.peers = Gauge("sidechain_peers", "Connected libp2p peers", registry=r)
        self.mempool_pending = Gauge("sidechain_mempool_pending", "Executable transactions in the pool", registry=r)
        self.mempool_queued = Gauge("sidechain_mempool_queued", "Transactions waiting behind a nonce gap", registry=r)
        self.block_seconds = Histogram(
            "sidechain_block_commit_seconds", "From the start of a height to its commit", buckets=LATENCY_BUCKETS, registry=r
        )
        self.vote_seconds = Histogram(
            "sidechain_vote_delay_seconds", "From the start of a height to each vote received for it", buckets=LATENCY_BUCKETS, registry=r
        )
        self.transactions = Counter("sidechain_transactions_committed", "Transactions in final blocks", registry=r)
        self.p2p = Gauge("sidechain_p2p_events", "libp2p layer counters (published, delivered, rejected_*, penalised_peers, ...)", ["counter"], registry=r)
        self.tx_fetches = Counter(
            "sidechain_tx_fetches", "Fetches from peers of transactions a compact proposal named and this node lacked", registry=r
        )
        self.txs_fetched = Counter(
            "sidechain_txs_fetched", "Transactions those fetches asked for, by outcome (found, missing)", ["outcome"], registry=r
        )
        self.invalid_blocks = Counter("sidechain_invalid_blocks", "Proposed blocks that failed validation", registry=r)
        self.equivocations = Counter(
            "sidechain_equivocations", "Equivocations this node learned of, detected itself or received as verified "
            "evidence, once per offence, by kind (duplicateVote, duplicateProposal)", ["kind"], registry=r
        )
        self.evidence_committed = Counter("sidechain_evidence_committed", "Evidence records in final blocks", registry=r)
        self.evidence_pending = Gauge("sidechain_evidence_pending", "Evidence waiting for a block", registry=r)
        self.rejected = Counter(
            "sidechain_rejected_messages", "Gossip and sync messages refused (verdict reject: the peer broke a rule; "
            "ignore: useless now), by topic and reason", ["topic", "reason", "verdict"], registry=r
        )

    def fetched(self, wanted: int, found: int) -> None:
        self.tx_fetches.inc()
        self.txs_fetched.labels("found").inc(found)
        self.txs_fetched.labels("missing").inc(wanted - found)

    async def handle(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
