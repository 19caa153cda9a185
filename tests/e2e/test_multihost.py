"""Validators on separate hosts (issue 11 part 4): each validator, the L1 and a joining node on a
network namespace of its own (tests/e2e/netns_support.py), bound to that host's address, bootstrapped
by address as the README's "Run a network across machines" says, with links cut at the switch.

One network serves the whole module (its fixture cleans every namespace and process up, failure or
not); the tests run in file order, each leaving every link up: finality with a deposit and a
checkpoint, a flapping link under load, a fifth host joining from one address (late, so it syncs a
few hundred blocks), and partitions (one of four cut; two and two) with the safety checker over
every store at the end.

The numbers (sync time, restore-to-final, submit-to-final p50/p99 per phase) are printed as
`MULTIHOST {json}` lines (run with -s) and recorded as test properties.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from bridge.deploy import contract_at
from bridge.root_bridge import deposit_eth
from sidechain.chain.genesis import load_genesis
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import rpc_call, wait_ready, wait_until

from multihost_support import L1_HOST, SPARE_HOSTS, MultihostNetwork, TransferLoad
from needs import require
from netns_support import Lab, skip_reason
from safety import check_safety

BLOCK_TIME_MS = 400
VALIDATORS = 4
FLAP_SECONDS = 60
CUT_SECONDS = 10
EARLY_PEER_BOUND = 15
"""Seconds a node started before its only bootstrap peer may take to reach it once that peer listens."""
"""How long the one cut validator and the 2|2 partition last at least (TCP's retransmission backoff grows meanwhile)."""
FLAP_DOWNS, FLAP_UP = (2.0, 5.0), 3.0
"""The link is down for 2 s and 5 s in turn (shorter and longer than the keepalive's 4 s), up 3 s between."""
pytestmark = pytest.mark.e2e
KEEPALIVE = "[part 5: keepalive] "
"""Marks assertions that fail when a cut link is not noticed or never recovers: what the libp2p
keepalive of issue 11 part 5 fixes."""


def report(record_property, name: str, values: dict) -> None:
    record_property(name, json.dumps(values))
    print("MULTIHOST " + json.dumps({name: values}), flush=True)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    require(skip_reason(), "the multi-host tests")
    root = tmp_path_factory.mktemp("multihost")
    lab = Lab.create([f"v{i}" for i in range(VALIDATORS)] + [L1_HOST, *SPARE_HOSTS])
    network = None
    try:
        network = MultihostNetwork(root, lab, VALIDATORS, BLOCK_TIME_MS)
        network.start_l1()
        network.start_validators()
        network.start_relayers()
        yield network
    finally:
        stores = []
        if network is not None:
            network.stop_nodes()
            stores = [n.data_dir for n in network.nodes if (n.data_dir / "chaindata").exists()]
        lab.cleanup()
        if stores:
            check_safety(stores, root / "genesis.json")


@pytest.fixture
def links_up(net):
    """Whatever a test cut, every host is back on the one switch afterwards."""
    yield
    for host in net.lab.hosts:
        net.lab.restore(host)
    net.lab.heal()


def failed_dials(node) -> int:
    """The node's failed libp2p dials so far (its /metrics p2p counters)."""
    with urllib.request.urlopen(node.rpc_url + "/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith('sidechain_p2p_events{counter="dials_failed"}'):
                return int(float(line.split()[-1]))
    return 0


def peers(node) -> int:
    return int(rpc_call(node.rpc_url, "net_peerCount"), 16)


def test_four_validators_on_four_hosts_finalize_mint_a_deposit_and_checkpoint_to_l1(net, record_property):
    start = time.monotonic()
    net.wait_for_height(3, net.validators, timeout=60)
    # Only v0's address was given to the others: they found each other by peer exchange.
    wait_until(lambda: all(peers(n) >= VALIDATORS - 1 for n in net.validators), 30, "every validator connected to the 3 others")
    for node in net.validators:
        assert f"p2p listening on /ip4/{node.ip}/tcp/" in node.log_path.read_text(errors="replace"), net.log_tail(node)
        assert not any("127.0.0.1" in arg for arg in node.process.args), node.process.args

    l1 = Web3(Web3.HTTPProvider(net.l1_url, request_kwargs={"timeout": 10}))
    bridge = contract_at(l1, "RootBridge", net.deployment["RootBridge"])
    manager = contract_at(l1, "CheckpointManager", net.deployment["CheckpointManager"])
    recipient = Account.create().address
    deposited = deposit_eth(l1, bridge, anvil_private_key(5), recipient, 10**17)
    deposit_id = bridge.events.Deposited().process_receipt(deposited, errors=DISCARD)[0].args.depositId
    sent = time.monotonic()
    wait_until(lambda: rpc_call(net.validators[2].rpc_url, "sidechain_getDepositStatus", [hex(deposit_id)])["status"] == "minted",
               90, f"deposit {deposit_id} minted")
    minted_after = time.monotonic() - sent
    balance = lambda node: int(rpc_call(node.rpc_url, "eth_getBalance", [recipient, "latest"]), 16)  # noqa: E731
    wait_until(lambda: all(balance(n) > 0 for n in net.validators), 10, "the minted deposit on every validator")
    assert {n.name: balance(n) for n in net.validators} == {n.name: 10**17 for n in net.validators}
    wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= 1, 120, "checkpoint 1 on L1")
    number, end_block = manager.functions.lastCheckpoint().call()[:2]
    proof = rpc_call(net.validators[3].rpc_url, "sidechain_getBlockProof", [hex(end_block)])
    block_hash = rpc_call(net.validators[3].rpc_url, "eth_getBlockByNumber", [hex(end_block), False])["hash"]
    assert manager.functions.verifyBlock(int(proof["checkpointNumber"], 16), end_block, bytes.fromhex(block_hash[2:]),
                                         [bytes.fromhex(p[2:]) for p in proof["proof"]]).call()
    report(record_property, "finality", {"heights": net.heights(net.validators), "deposit_minted_s": round(minted_after, 2),
                                         "checkpoint": number, "checkpoint_end_block": end_block,
                                         "seconds": round(time.monotonic() - start, 1)})


def test_a_host_whose_link_flaps_under_load_ends_with_the_same_chain(net, links_up, record_property):
    flapping = net.validators[3]
    chain_id = load_genesis(net.genesis_path).chain_id
    downs = 0
    with TransferLoad(net, observer=net.validators[1], chain_id=chain_id, phase="flap", targets=[0, 1, 2]) as load:
        start_height = net.height(net.validators[0])
        deadline = time.monotonic() + FLAP_SECONDS
        pause = threading.Event()
        while time.monotonic() < deadline:
            net.lab.cut(flapping.host)
            pause.wait(FLAP_DOWNS[downs % len(FLAP_DOWNS)])  # the fault's duration, not a wait for anything
            downs += 1
            net.lab.restore(flapping.host)
            pause.wait(FLAP_UP)
        flap_end = time.monotonic()
        load.phase = "after-flap"
        others = [n for n in net.nodes if n is not flapping]
        target = max(net.height(n) for n in others)
        try:
            net.wait_for_height(target, [flapping], timeout=30)
        except TimeoutError as exc:
            raise AssertionError(f"{KEEPALIVE}the flapping host never caught up after its link stayed up: {exc}\n"
                                 f"{net.log_tail(flapping)}") from None
        try:
            net.wait_for_height(target + 3, net.nodes, timeout=30)
        except TimeoutError as exc:
            raise AssertionError(f"{KEEPALIVE}the network stalled after the flapping ended: {exc}\n"
                                 + "\n".join(f"--- {n.name}\n{net.log_tail(n, 12)}" for n in net.nodes)) from None
        caught_up = time.monotonic() - flap_end
        load.targets = [0, 1, 2, 3]
        wait_until(lambda: load.final_in("after-flap") >= 20, 30, "20 transactions submitted after the flapping final")
        load.wait_all_final(30)
    end = min(net.height(n) for n in net.nodes)
    net.assert_same_chain(net.nodes, end)
    report(record_property, "flap", {"link_downs": downs, "down_s": FLAP_DOWNS, "up_s": FLAP_UP,
                                     "blocks_during_flap": target - start_height, "caught_up_after_s": round(caught_up, 2),
                                     "compared_heights": end + 1, "latency": load.latencies(), "submit_errors": len(load.errors)})


def test_a_fifth_host_given_one_address_finds_every_peer_and_syncs_to_the_head(net, record_property):
    joiner = net.prepare_follower("joiner", bootstrap=net.validators[2])
    head = max(net.height(n) for n in net.validators)
    started = time.monotonic()
    net.start_follower(joiner)
    wait_ready(joiner, timeout=60)
    ready = time.monotonic() - started
    net.wait_for_height(head, [joiner], timeout=60)
    synced = time.monotonic() - started
    wait_until(lambda: peers(joiner) >= VALIDATORS, 30, f"the joiner connected to all {VALIDATORS} validators")
    found_all = time.monotonic() - started
    table = joiner.data_dir / "p2p" / "peers.json"
    wait_until(lambda: table.exists() and all(v.peer_id in table.read_text() for v in net.validators), 20,
               f"every validator in the joiner's persisted {table}")
    reference = rpc_call(net.validators[0].rpc_url, "eth_getBlockByNumber", [hex(head), False])["hash"]
    assert rpc_call(joiner.rpc_url, "eth_getBlockByNumber", [hex(head), False])["hash"] == reference
    report(record_property, "join", {"height": head, "rpc_ready_s": round(ready, 2), "synced_s": round(synced, 2),
                                     "synced_after_rpc_ready_s": round(synced - ready, 2), "all_peers_s": round(found_all, 2),
                                     "blocks_per_s_after_rpc_ready": round(head / max(synced - ready, 1e-3), 1)})


def test_a_node_started_before_its_only_bootstrap_peer_connects_soon_after_that_peer_listens(net, record_property):
    v3 = net.validators[3]
    early = net.prepare_follower("early", bootstrap=v3)
    net.stop_node(v3)
    try:
        net.start_follower(early)
        wait_ready(early)
        wait_until(lambda: failed_dials(early) >= 2, 20, "the early node's dials of v3 failing")  # the case under test
        net.start_node(v3)
        wait_ready(v3)
        listening = time.monotonic()
        try:
            wait_until(lambda: peers(early) >= 1, EARLY_PEER_BOUND, "the early node connected to v3")
            connected = True
        except TimeoutError:
            connected = False
        report(record_property, "early", {"connected": connected, "waited_s": round(time.monotonic() - listening, 2)})
        assert connected, (f"the node started 3 s before its only bootstrap peer (v3) had no peer {EARLY_PEER_BOUND} s after v3 "
                           f"listened (py-libp2p's negative cache would block redials for 60 s; PeerKeeper._dial lifts it)")
    finally:
        net.stop_node(early)
        net.followers.remove(early)
        if v3.process is None or v3.process.poll() is not None:
            net.start_node(v3)
            wait_ready(v3)


def halted(net, nodes, window: float, timeout: float) -> dict[str, int]:
    """Heights once no node of `nodes` advanced for `window` seconds (polled), within `timeout`."""
    deadline = time.monotonic() + timeout
    last = net.heights(nodes)
    since = time.monotonic()
    while time.monotonic() < deadline:
        now = net.heights(nodes)
        if None in now.values():  # a node too busy to answer in time: no evidence either way
            time.sleep(0.2)
            continue
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= window:
            return now
        time.sleep(0.2)
    raise AssertionError(f"the chain did not halt: heights still moving after {timeout}s ({last})")


def test_partitions_one_of_four_goes_on_two_and_two_halt_without_fork_and_resume(net, links_up, record_property):
    validators = net.validators
    v0, v1, v2, v3 = validators
    chain_id = load_genesis(net.genesis_path).chain_id
    numbers: dict = {}
    with TransferLoad(net, observer=v1, chain_id=chain_id, phase="baseline", targets=[0, 1, 2, 3]) as load:
        wait_until(lambda: load.final_in("baseline") >= 30, 30, "30 transactions final before any cut")

        # One of four cut: the other three finalize on.
        load.phase, load.targets = "one-cut", [1, 2, 3]
        load.wait_final_before(time.monotonic(), 30)  # nothing of the baseline is held up by the cut
        net.lab.cut(v0.host)
        cut_started = time.monotonic()
        cut_at = max(net.height(n) for n in (v1, v2, v3))
        gone_on = net.wait_for_height(cut_at + 5, [v1, v2, v3], timeout=30)
        cut_blocks_per_s = 5 / gone_on
        pause = threading.Event()
        pause.wait(max(0.0, CUT_SECONDS - gone_on))  # the fault's duration, not a wait for anything
        net.lab.restore(v0.host)
        restored = time.monotonic()
        load.phase, load.targets = "one-cut-restored", [0, 1, 2, 3]
        head = max(net.height(n) for n in (v1, v2, v3))
        try:
            net.wait_for_height(head, [v0], timeout=30)
        except TimeoutError as exc:
            raise AssertionError(f"{KEEPALIVE}the cut validator did not catch up within 30 s of its link "
                                 f"coming back: {exc}\n{net.log_tail(v0)}") from None
        caught_up = time.monotonic() - restored
        pause.wait(3.0)  # load on the restored network: its own phase, before the next fault
        numbers["one_cut"] = {"cut_s": round(restored - cut_started, 2), "blocks_per_s_without_v0": round(cut_blocks_per_s, 2),
                              "v0_caught_up_s": round(caught_up, 2)}

        # Two and two: neither side has more than 2/3, both halt, neither forks.
        load.phase = "two-two"
        load.wait_final_before(time.monotonic(), 30)
        net.lab.partition([v2.host, v3.host])
        parted = time.monotonic()
        heights = halted(net, validators, window=CUT_SECONDS, timeout=CUT_SECONDS + 15)
        top = max(heights.values())
        low = min(heights.values())
        at_low = {rpc_call(n.rpc_url, "eth_getBlockByNumber", [hex(low), False])["hash"] for n in validators}
        assert len(at_low) == 1, f"FORK at height {low} during the partition: {at_low}"
        net.lab.heal()
        healed = time.monotonic()
        held = healed - parted
        load.phase = "healed"
        try:
            wait_until(lambda: any((h or 0) > top for h in net.heights(validators).values()), 30,
                       f"a block final after height {top} within 30 s of the links coming back", interval=0.05)
        except TimeoutError as exc:
            raise AssertionError(f"{KEEPALIVE}{exc}\n" + "\n".join(net.log_tail(n, 15) for n in validators)) from None
        restore_to_final = time.monotonic() - healed
        try:
            all_on = net.wait_for_height(top + 1, validators, timeout=30)
        except TimeoutError as exc:
            raise AssertionError(f"{KEEPALIVE}both sides did not resume: {exc}") from None
        numbers["two_two"] = {"halted_at": heights, "held_s": round(held, 2), "restore_to_next_final_s": round(restore_to_final, 2),
                              "restore_to_all_four_past_it_s": round(restore_to_final + all_on, 2)}
        wait_until(lambda: load.final_in("healed") >= 20, 30, "20 transactions submitted after the heal final")
        load.wait_all_final(30)
    numbers["latency"] = load.latencies()
    assert restore_to_final <= 30
    end = min(net.height(n) for n in net.nodes)
    net.assert_same_chain(net.nodes, end)
    net.stop_nodes()
    finals = check_safety([n.data_dir for n in net.nodes], net.genesis_path)
    numbers["safety_final_heights"] = {str(d.name): h for d, h in finals.items()}
    report(record_property, "partitions", numbers)
