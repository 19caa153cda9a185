"""Four validator processes gossiping over libp2p on loopback: they finalize one chain, survive
crashes of up to f = 1 of them, halt (without forking) when more are down, and catch up by sync.
The `network4` fixture runs the safety checker over every node's store after each test."""

from __future__ import annotations

import os
import signal
import threading
import time

from eth_account import Account
from eth_utils import to_checksum_address

from e2e_support import CHAIN_ID, presign, submit_batches
from safety import check_safety
from sidechain.consensus.timeouts import Timeouts
from sidechain.devtools.devnet import rpc_call, start_node, wait_ready, wait_until

RECIPIENT = to_checksum_address("0x" + "3c" * 20)


def send(net, node_index: int, key: bytes, nonce: int, value: int = 1) -> str:
    raw = Account.from_key(key).sign_transaction({
        "to": RECIPIENT, "value": value, "gas": 21_000, "maxFeePerGas": 50 * 10**9, "maxPriorityFeePerGas": 10**9,
        "nonce": nonce, "chainId": CHAIN_ID, "type": 2}).raw_transaction
    return net.rpc(node_index, "eth_sendRawTransaction", ["0x" + bytes(raw).hex()])


def receipt_everywhere(net, tx_hash: str, nodes) -> dict:
    receipts = [wait_until(lambda i=i: net.rpc(i, "eth_getTransactionReceipt", [tx_hash]), 60, f"receipt on node {i}") for i in nodes]
    assert all(r["blockHash"] == receipts[0]["blockHash"] and r["status"] == "0x1" for r in receipts)
    return receipts[0]


def assert_no_progress(net, nodes, seconds: float) -> int:
    """Heights of `nodes` settle, then stay put for `seconds`; returns the height they stopped at."""
    settled = max(net.height(i) for i in nodes)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert max(net.height(i) for i in nodes) <= settled + 1, "a block was finalized without a 2/3 quorum"
        time.sleep(0.1)  # polling interval of a check, not synchronisation
    return max(net.height(i) for i in nodes)


class Load:
    """Transfers from one dev account to any node, in a background thread, until stopped."""

    def __init__(self, net, key: bytes, targets) -> None:
        self.net, self.key, self.targets = net, key, list(targets)
        self.nonce = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            for i in list(self.targets):
                try:
                    send(self.net, i, self.key, self.nonce)
                    self.nonce += 1
                except Exception:
                    pass
            self.stop.wait(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def test_four_validators_finalize_fifty_blocks_and_transactions_sent_to_any_node(network4, dev_keys):
    hashes = [send(network4, i, dev_keys[i], 0, value=1000 + i) for i in range(4)]
    network4.wait_for_height(50, timeout=120)
    for tx_hash in hashes:
        receipt_everywhere(network4, tx_hash, range(4))
    for number in (1, 25, 50):
        blocks = {network4.rpc(i, "eth_getBlockByNumber", [hex(number), False])["hash"] for i in range(4)}
        assert len(blocks) == 1, f"nodes disagree at height {number}: {blocks}"
    proposers = {network4.rpc(0, "eth_getBlockByNumber", [hex(n), False])["miner"] for n in range(1, 51)}
    assert proposers == {n.address for n in network4.nodes}, "the proposer must rotate over every validator"
    status = network4.rpc(0, "sidechain_consensusStatus")
    assert status["peers"] == 3 and int(network4.rpc(0, "net_peerCount"), 16) == 3
    assert status["finalized"]["number"] >= 50 and status["isValidator"] is True
    metrics = network4.metrics(0)
    for sample in ("sidechain_height", "sidechain_consensus_round", "sidechain_peers 3.0", "sidechain_mempool_pending",
                   "sidechain_block_commit_seconds_count", "sidechain_vote_delay_seconds_count",
                   "sidechain_transactions_committed_total", "sidechain_tx_fetches_total"):
        assert sample in metrics, f"/metrics lacks {sample}"
    consensus_lines = [line for line in network4.nodes[0].log_path.read_text().splitlines() if " sidechain.consensus " in line]
    assert consensus_lines and all("height=" in line and "round=" in line for line in consensus_lines)


def test_one_validator_killed_mid_load_the_rest_go_on_and_it_catches_up_and_rejoins(network4, dev_keys):
    network4.wait_for_height(3)
    peer_id = network4.rpc(3, "sidechain_consensusStatus")["peerId"]
    with Load(network4, dev_keys[0], [0, 1, 2]):
        network4.kill(3)
        start = network4.height(0)
        network4.wait_for_height(start + 8, nodes=[0, 1, 2])
        network4.start(3)
        assert network4.rpc(3, "sidechain_consensusStatus")["peerId"] == peer_id, "the libp2p identity must persist"
        target = network4.height(0)
        network4.wait_for_height(target, nodes=[3])  # caught up by sync
        restarted_at = network4.height(3)
        # Rejoined the rounds: it proposes again when its turn comes, and its blocks are final.
        me = network4.nodes[3].address
        wait_until(
            lambda: any(network4.rpc(0, "eth_getBlockByNumber", [hex(n), False])["miner"] == me
                        for n in range(restarted_at + 1, network4.height(0) + 1)),
            60, "a block proposed by the restarted validator",
        )
    tx_hash = send(network4, 3, dev_keys[1], 0)
    receipt_everywhere(network4, tx_hash, range(4))


def test_two_of_four_down_halts_without_forking_and_one_back_resumes(network4):
    network4.wait_for_height(3)
    network4.kill(2)
    network4.kill(3)
    stopped_at = assert_no_progress(network4, [0, 1], seconds=4.0)
    network4.start(3)
    network4.wait_for_height(stopped_at + 3, nodes=[0, 1, 3], timeout=90)


def test_all_four_restarted_at_once_from_their_data_resume(network4):
    network4.wait_for_height(5)
    for i in range(4):
        network4.kill(i)
    for node in network4.nodes:  # all processes first, then wait: they come up together
        start_node(node, network4.root)
    for node in network4.nodes:
        wait_ready(node)
    heights = [network4.height(i) for i in range(4)]
    assert min(heights) >= 5, "a restart lost committed blocks"
    network4.wait_for_height(max(heights) + 5, timeout=90)


def test_a_fresh_node_joins_a_running_network_from_genesis(network4, tmp_path):
    import subprocess

    from e2e_support import free_port_block
    from sidechain.devtools.devnet import NodeProcess, sidechain_command

    network4.wait_for_height(15)
    base = free_port_block(1)
    follower = NodeProcess("follower", tmp_path / "follower", base, "", tmp_path / "follower.log", p2p_port=base + 100,
                           bootstrap=tuple(n.multiaddr for n in network4.nodes))
    subprocess.run(sidechain_command() + ["init", "--data-dir", str(follower.data_dir), "--genesis", str(network4.root / "genesis.json"),
                                          "--password-file", str(network4.root / "password.txt"), "--scrypt-n", "16384"],
                   check=True, capture_output=True)
    start_node(follower, network4.root)
    try:
        wait_ready(follower)
        target = network4.height(0)
        wait_until(lambda: int(rpc_call(follower.rpc_url, "eth_blockNumber"), 16) >= target, 60, "the follower at the head")
        for n in (1, target // 2, target):
            assert rpc_call(follower.rpc_url, "eth_getBlockByNumber", [hex(n), False])["hash"] == \
                network4.rpc(0, "eth_getBlockByNumber", [hex(n), False])["hash"]
        status = rpc_call(follower.rpc_url, "sidechain_consensusStatus")
        assert status["isValidator"] is False
        # It keeps following as new blocks are finalized.
        wait_until(lambda: int(rpc_call(follower.rpc_url, "eth_blockNumber"), 16) >= target + 5, 60, "the follower following")
    finally:
        os.killpg(follower.pid, signal.SIGKILL)
        follower.process.wait(timeout=10)
    check_safety([follower.data_dir], network4.root / "genesis.json")


FREEZE_SECONDS = 20
ONE_ROUND = Timeouts().propose + Timeouts().delta
"""What a height may lose to a silent proposer: its round-0 propose timeout, then round 1 takes over."""


def test_a_frozen_validator_is_dropped_never_waited_on_and_votes_again_when_thawed(network4, dev_keys):
    """SIGSTOP one validator for 20 s under ~100 tx/s: its peers' keepalive drops it within a few
    seconds, no height waits on it beyond one round timeout, and after SIGCONT it is redialled,
    catches up and its precommits are in the certificates again."""
    net = network4
    net.wait_for_height(3)
    txs = presign(dev_keys, 600)  # 3,600 transfers: ~36 s at the offered 100 tx/s
    stop = threading.Event()

    def offer_load() -> None:
        for i, start in enumerate(range(0, len(txs), 20)):
            if stop.wait(0.2):  # the pace of the offered load
                return
            submit_batches(net.nodes[i % 3].rpc_url, txs[start:start + 20], batch=20)

    loader = threading.Thread(target=offer_load, daemon=True)
    loader.start()
    frozen = net.nodes[3]
    peers = lambda i: net.rpc(i, "sidechain_consensusStatus")["peers"]  # noqa: E731
    try:
        wait_until(lambda: all(peers(i) == 3 for i in range(4)), 20, "a full mesh before the freeze")
        os.killpg(frozen.pid, signal.SIGSTOP)  # alive to the kernel, silent to its peers
        frozen_at = time.monotonic()
        wait_until(lambda: all(peers(i) == 2 for i in range(3)), 15, "every peer dropping the frozen validator")
        noticed = time.monotonic() - frozen_at
        final_at = {net.height(0): time.monotonic()}
        while time.monotonic() < frozen_at + FREEZE_SECONDS:  # observe the pace for the rest of the freeze
            final_at.setdefault(net.height(0), time.monotonic())
            time.sleep(0.05)
    finally:
        os.killpg(frozen.pid, signal.SIGCONT)
    thawed_at = time.monotonic()
    try:
        heights = sorted(final_at)
        gaps = [final_at[b] - final_at[a] for a, b in zip(heights, heights[1:])]
        assert len(heights) > FREEZE_SECONDS / 2, f"only {len(heights)} blocks in {FREEZE_SECONDS} s without the frozen validator"
        block_time = net.block_time_ms / 1000
        assert max(gaps) <= block_time + ONE_ROUND + 1.5, \
            f"a height waited {max(gaps):.2f} s with one validator frozen (one round timeout is {ONE_ROUND} s)"
        assert noticed <= 8, f"the frozen validator was dropped after {noticed:.1f} s"

        wait_until(lambda: all(peers(i) == 3 for i in range(4)), 20, "the thawed validator redialled")
        target = net.height(0)
        net.wait_for_height(target, nodes=[3], timeout=30)
        caught_up = time.monotonic() - thawed_at

        def signed_again() -> bool:
            head = net.height(0)
            commits = (net.rpc(0, "sidechain_getCommit", [hex(n)]) for n in range(max(target, head - 5), head + 1))
            return any(frozen.address.lower() in {s["validator"] for s in c["signers"]} for c in commits if c)

        wait_until(signed_again, 30, "a precommit of the thawed validator in a certificate")
        print(f"frozen validator: dropped after {noticed:.1f} s; longest height {max(gaps):.2f} s over {len(gaps)} blocks; "
              f"caught up {caught_up:.1f} s after SIGCONT")
    finally:
        stop.set()
        loader.join(timeout=15)
