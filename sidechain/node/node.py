"""A validator node: chain, pool, consensus driver and JSON-RPC in one asyncio process.

The node owns the plumbing only; the rules live in chain/, agreement in consensus/, the API in
rpc/. It is the RpcBackend the API serves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ..chain.genesis import GenesisConfig, load_genesis
from ..chain.state import CachingReader
from ..chain.transactions import Transaction, decode_transaction, decode_transactions
from ..consensus.driver import ConsensusDriver
from ..consensus.messages import ValidatorSet
from ..consensus.signer import Signer
from ..consensus.timeouts import Timeouts
from ..consensus.wal import WriteAheadLog
from ..errors import ConfigError, InvalidTransaction, SidechainError, UnknownBlock, UnprotectedTransaction
from ..keystore import load_keystore
from ..mempool.known import KnownTransactions
from ..mempool.pool import Mempool
from ..rpc.backend import consensus_status_json
from ..rpc.explorer_methods import L1Info
from ..rpc.server import RpcServer
from ..execution.executor import ExecutedBlock
from ..storage.blockchain import Blockchain
from .checkpoint_signer import CheckpointSigner
from .heap import HeapPolicy
from .listen import rpc_exposure_warning
from .metrics import NodeMetrics
from prometheus_client import Gauge, Histogram

log = logging.getLogger("sidechain.node")

STALE_EVICTION_INTERVAL = 60.0
LAG_PROBE_INTERVAL = 0.05
"""The loop-lag probe sleeps this long and records how late it wakes (sidechain_event_loop_lag_seconds)."""
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
DECODE_OFF_LOOP_FROM = 8
"""Submissions in one JSON-RPC batch from which they are decoded on the decoder thread: the native
decoder keeps the GIL below 8 (evm/src/transactions.rs DETACH_FROM), so fewer gain nothing there."""


def _decode_all(raws: list[bytes], chain_id: int, gas_limit: int) -> list:
    return list(decode_transactions(raws, chain_id, gas_limit))


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Everything `sidechain run` needs; see `sidechain run --help` for each field."""

    data_dir: Path
    rpc_host: str = "127.0.0.1"
    rpc_port: int = 8545
    password: str | None = None
    """Password of the validator keystore (data_dir/keystore.json); None runs a non-validating node."""
    cors_origins: tuple[str, ...] = ("*",)
    rpc_gas_cap: int = 50_000_000
    """Most gas one eth_call or eth_estimateGas may use."""
    allow_unprotected_txs: bool = False
    """Take pre-EIP-155 legacy transactions (valid on any chain) over RPC, as go-ethereum's flag does."""
    p2p_port: int | None = None
    """libp2p TCP port, bound on `p2p_host`; None runs without peers (a one-validator network)."""
    bootstrap: tuple[str, ...] = ()
    """Multiaddrs of peers to dial: /ip4/HOST/tcp/PORT/p2p/PEER_ID or /dns4/NAME/tcp/PORT/p2p/PEER_ID."""
    p2p_host: str = "127.0.0.1"
    """The one IP address libp2p binds."""
    p2p_advertise: str | None = None
    """What peers should dial when it differs from the bound address: /ip4/ADDR/tcp/PORT or /dns4/NAME/tcp/PORT."""
    l1_chain_id: int | None = None
    """Chain id of the L1 holding CheckpointManager; with `checkpoint_manager`, the validator signs
    every checkpoint (EIP-712 domain: this chain id and that address)."""
    checkpoint_manager: bytes | None = None
    l1_rpc: str | None = None
    """JSON-RPC URL of the L1, shown to the explorer; the node never dials it."""
    l1_root_bridge: bytes | None = None
    """RootBridge's address on the L1, shown to the explorer."""
    l1_deploy_block: int | None = None
    """The L1 block the bridge contracts were deployed in: where the explorer starts reading their events."""

    @property
    def genesis_path(self) -> Path:
        return self.data_dir / "genesis.json"

    @property
    def keystore_path(self) -> Path:
        return self.data_dir / "keystore.json"


class Node:
    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        if not config.genesis_path.exists():
            raise ConfigError(f"{config.data_dir} is not initialised: no genesis.json (run `sidechain init` first)")
        self.genesis: GenesisConfig = load_genesis(config.genesis_path)
        self.chain = Blockchain.open(config.data_dir, self.genesis)
        self.mempool = Mempool()
        self.known = KnownTransactions(self.mempool.get)
        self.signer = self._load_signer()
        self.metrics = NodeMetrics()
        self.heap = HeapPolicy()
        self.p2p = self.network = self.tx_gossip = self.syncer = None
        if config.p2p_port is not None:
            from ..mempool.fetch import TransactionFetcher
            from ..mempool.gossip import TransactionGossip
            from ..p2p import P2PConfig, P2PService
            from ..sync.syncer import BlockSyncer
            from .network import GossipNetwork

            self.p2p = P2PService(P2PConfig(
                listen_port=config.p2p_port, identity_path=config.data_dir / "p2p" / "identity.key",
                bootstrap=config.bootstrap, network_id=self.chain.genesis_hash,
                listen_host=config.p2p_host, advertise=config.p2p_advertise,
                peers_path=config.data_dir / "p2p" / "peers.json",
            ))
            self.fetcher = TransactionFetcher(self.p2p, chain_id=self.chain_id, gas_limit=self.genesis.gas_limit,
                                              known=self.known.get, on_fetched=self.metrics.fetched)
            self.tx_gossip = TransactionGossip(
                self.p2p, chain_id=self.chain_id, gas_limit=self.genesis.gas_limit,
                is_known=self.known.is_settled, decoded=self.known.get, saw=self.known.saw, admit=self.pool_transaction,
                on_rejected=self._count_rejected,
            )
            self.network = GossipNetwork(
                self.p2p, chain_id=self.chain_id, validators_at=self.validators_for, known=self.known.get,
                saw=self.known.saw, fetch=self.fetcher.fetch,
                batches_checked=self.tx_gossip.batches_checked,
                before_proposal=self.tx_gossip.flush,
                on_rejected=self._count_rejected, on_behind=lambda: self.syncer.wake(),
                on_vote_delay=self.metrics.vote_seconds.observe,
            )
        self.driver = ConsensusDriver(
            self.chain, self.mempool, self.signer,
            WriteAheadLog(config.data_dir / "consensus" / "wal", self.genesis.chain_id),
            network=self.network,
            timeouts=Timeouts(propose=max(1.0, 2 * self.genesis.block_time_ms / 1000)),
            block_time=self.genesis.block_time_ms / 1000,
            on_commit=self._on_commit,
            on_invalid_block=lambda block, reason: self.metrics.invalid_blocks.inc(),
            on_evidence=lambda evidence: self.metrics.equivocations.labels(evidence.name).inc(),
        )
        if self.p2p is not None:
            self.network.serve(self.driver)
            self.syncer = BlockSyncer(
                self.chain, self.p2p, self.driver.import_synced,
                on_reject=lambda reason: self._count_rejected("sync", reason, "reject"),
            )
        self.rpc = RpcServer(self, cors_origins=config.cors_origins, gas_cap=config.rpc_gas_cap)
        self._pool_state: CachingReader | None = None
        self._pool_state_root = b""
        self._decoder = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tx-decode")
        """Decodes the submissions of JSON-RPC batches (`submit_transactions`)."""
        self.rpc.add_route("GET", "/metrics", self._serve_metrics)
        self._eviction_task: asyncio.Task | None = None
        self._lag_task: asyncio.Task | None = None
        self.loop_lag = Histogram("sidechain_event_loop_lag_seconds", "How late a 50 ms sleep on the event loop that "
                                  "drives consensus wakes up", buckets=LAG_BUCKETS, registry=self.metrics.registry)
        self.loop_lag_max = Gauge("sidechain_event_loop_lag_max_seconds", "Largest event-loop lag seen in the last minute",
                                  registry=self.metrics.registry)

    @property
    def l1_info(self) -> L1Info | None:
        """What the operator said about the L1 (sidechain_getNetworkInfo), None if nothing."""
        c = self.config
        if c.l1_rpc is None and c.l1_root_bridge is None and c.checkpoint_manager is None and c.l1_chain_id is None:
            return None
        return L1Info(c.l1_rpc, c.l1_chain_id, c.l1_root_bridge, c.checkpoint_manager, c.l1_deploy_block)

    def validators_for(self, height: int) -> ValidatorSet | None:
        """The set voting on block `height`, or None when it is not known yet (a later range)."""
        try:
            return self.chain.validators_at(height)
        except UnknownBlock:
            return None

    def _count_rejected(self, topic: str, reason: str, verdict: str) -> None:
        self.metrics.rejected.labels(topic, reason, verdict).inc()

    def _load_signer(self) -> Signer | None:
        self._checkpoints = None
        if self.config.password is None:
            return None
        if not self.config.keystore_path.exists():
            raise ConfigError(f"no validator keystore at {self.config.keystore_path}")
        key = load_keystore(self.config.keystore_path, self.config.password)
        self._checkpoints = CheckpointSigner(key, self.genesis, self.config.l1_chain_id, self.config.checkpoint_manager) \
            if self.config.checkpoint_manager and self.config.l1_chain_id else None
        signer = Signer(key, self.genesis.chain_id, self.config.data_dir / "consensus" / "signer-state.json")
        if not self.chain.validators_at(self.chain.height + 1).power_of(signer.address):
            log.warning("key 0x%s is not in the validator set: following without voting", signer.address.hex())
        return signer

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        (self.config.data_dir / "consensus").mkdir(exist_ok=True)
        if self.p2p is not None:
            await self.p2p.start()
            self.tx_gossip.start()
        await self.rpc.start(self.config.rpc_host, self.config.rpc_port)
        exposed = rpc_exposure_warning(self.config.rpc_host, self.rpc.port)
        if exposed:
            log.warning("%s", exposed)
        self.driver.start()
        if self.syncer is not None:
            self.syncer.start()
        self._eviction_task = asyncio.create_task(self._evict_stale_forever())
        self._lag_task = asyncio.create_task(self._probe_loop_lag_forever())
        log.info(
            "node started: chain id %d, head %d, rpc http://%s:%d, validator %s", self.genesis.chain_id,
            self.chain.height, self.config.rpc_host, self.rpc.port,
            "0x" + self.signer.address.hex() if self.signer else "none",
        )

    async def stop(self) -> None:
        self.driver.stop()
        if self._eviction_task:
            self._eviction_task.cancel()
        if self._lag_task:
            self._lag_task.cancel()
        if self.syncer is not None:
            await self.syncer.stop()
        if self.p2p is not None:
            await self.tx_gossip.stop()
            await self.p2p.stop()
        await self.rpc.stop()
        self._decoder.shutdown(wait=True)
        self.chain.close()
        self.heap.close()

    async def _evict_stale_forever(self) -> None:
        while True:
            await asyncio.sleep(STALE_EVICTION_INTERVAL)
            dropped = self.mempool.evict_stale(time.monotonic())
            if dropped:
                log.info("evicted %d stale queued transactions", len(dropped))

    async def _probe_loop_lag_forever(self) -> None:
        loop = asyncio.get_running_loop()
        recent: list[tuple[float, float]] = []
        while True:
            start = loop.time()
            await asyncio.sleep(LAG_PROBE_INTERVAL)
            now = loop.time()
            lag = max(0.0, now - start - LAG_PROBE_INTERVAL)
            self.loop_lag.observe(lag)
            recent.append((now, lag))
            while recent[0][0] < now - 60.0:
                recent.pop(0)
            self.loop_lag_max.set(max(v for _, v in recent))

    def _on_commit(self, executed: ExecutedBlock) -> None:
        self.known.committed(executed.block.transactions)
        self.rpc.publish_block(executed.block, executed.result.receipts)
        if self._checkpoints is not None:
            raw = self._checkpoints.on_block(self.chain, self.mempool)
            if raw is not None:
                try:
                    self.submit_transaction(raw)
                except SidechainError as exc:
                    log.warning("could not pool the checkpoint signature: %s", exc)
        m = self.metrics
        m.height.set(executed.block.number)
        m.transactions.inc(len(executed.block.transactions))
        m.evidence_committed.inc(len(executed.block.evidence))
        m.block_seconds.observe(max(0.0, time.time() - self.driver.height_started))
        self.heap.after_commit()  # last: what this block left is frozen out of the collector's way

    async def _serve_metrics(self, request):
        m = self.metrics
        m.round.set(max(self.driver.machine.round, 0) if self.driver.machine else 0)
        m.peers.set(self.peer_count())
        m.mempool_pending.set(self.mempool.pending_count)
        m.mempool_queued.set(self.mempool.queued_count)
        m.evidence_pending.set(len(self.driver.evidence))
        if self.p2p is not None:
            for name, value in self.p2p.stats.items():
                m.p2p.labels(name).set(value)
        return await m.handle(request)

    # --- RpcBackend -----------------------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        return self.genesis.chain_id

    def peer_count(self) -> int:
        return self.p2p.peer_count() if self.p2p is not None else 0

    def sync_status(self) -> dict | None:
        if self.syncer is None or not self.syncer.syncing:
            return None
        return {"startingBlock": self.syncer.starting_block, "currentBlock": self.chain.height, "highestBlock": self.syncer.highest_seen}

    def submit_transaction(self, raw: bytes) -> bytes:
        return self._submit(decode_transaction(raw, self.genesis.chain_id, self.genesis.gas_limit))

    async def submit_transactions(self, raws: list[bytes]) -> list[bytes | SidechainError]:
        """Several submissions decoded in one pass, on the decoder thread once there are enough
        for the native decoder to let go of the GIL (sender recovery then runs beside the loop),
        and pooled in order."""
        decode = functools.partial(_decode_all, raws, self.genesis.chain_id, self.genesis.gas_limit)
        if len(raws) < DECODE_OFF_LOOP_FROM:
            decoded = decode()
        else:
            decoded = await asyncio.get_running_loop().run_in_executor(self._decoder, decode)
        outcomes: list[bytes | SidechainError] = []
        for tx in decoded:
            if isinstance(tx, InvalidTransaction):
                outcomes.append(tx)
                continue
            try:
                outcomes.append(self._submit(tx))
            except SidechainError as exc:
                outcomes.append(exc)
        return outcomes

    def _submit(self, tx: Transaction) -> bytes:
        if not tx.protected and not self.config.allow_unprotected_txs:
            raise UnprotectedTransaction("only replay-protected (EIP-155) transactions allowed over RPC "
                                         "(start the node with --allow-unprotected-txs to accept them)")
        self.pool_transaction(tx)
        if self.tx_gossip is not None:
            self.tx_gossip.announce_transaction(tx)
        return tx.hash

    def pool_transaction(self, tx: Transaction) -> None:
        """Add a decoded transaction to the pool (from a client or a peer); raises what it breaks."""
        self.mempool.add(tx, self._head_state(), self.chain.next_base_fee(), time.monotonic())

    def _head_state(self) -> CachingReader:
        """The head's state for the pool's checks, each account read once per state root: the pool
        reads its sender's account for every transaction, and a burst holds ~100 per sender."""
        root = self.chain.head.state_root
        if self._pool_state is None or self._pool_state_root != root:
            self._pool_state, self._pool_state_root = CachingReader(self.chain.state()), root
        return self._pool_state

    def consensus_status(self) -> dict:
        return consensus_status_json(self.driver.status(), peers=self.peer_count(),
                                     peer_id=self.p2p.peer_id if self.p2p is not None else None, finalized=self.chain.head)


async def run_node(config: NodeConfig) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    node = Node(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await node.start()
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await node.stop()
