"""Crash safety under contract load: a validator SIGKILLed while the network commits blocks full of
contract calls reopens at its last block, catches up, and then all nodes have the same blocks, state
roots, receipts and contract storage, and that storage is what the calls must leave.

4 validators, 300 ms blocks (the `network4` fixture: processes always killed, then every store
checked for forks and certificates). The load: an OpenZeppelin ERC-20 and three SimpleStorage
contracts of the EVM corpus (tests/evm/contracts), 2,800 pre-signed calls from 40 fresh senders
(token transfers between 57 holders, `set` and `setNote` storage writes), so every block touches
hundreds of slots of four contracts. Every transfer is far below its sender's balance and every
call has gas to spare, so all must succeed, and each holder's final balance and each `setsBy`
counter is known in advance.

Two kill cycles, half the calls each, submitted in batches to node 0 by a thread:
1. validator-2, mid-load: once its latest block holds >= 100 of our calls and node 0's pool still
   holds >= 200;
2. at a commit: the moment node 0 has committed a block full of calls, the first of validators 3,
   1, 2 that has not yet (it answers a lower height, or does not answer at all, its event loop
   busy executing or committing that block); if all three had it every time for COMMIT_MISSES
   such blocks, validator-3 right after the next one.
Each time the others commit a few blocks without the victim, it is restarted, and then: its
reopened head (its own log's "node started: ... head N", before it syncs) >= its last height
before the kill; every call is included; it catches up; and `check_agreement`.

    .venv/bin/python -m pytest tests/e2e/test_evm_durability.py -q
"""

from __future__ import annotations

import time

import pytest
from eth_account import Account

from sidechain.devtools.devnet import wait_until

from evm_load_support import (
    BALANCE_OF, BALANCES_SLOT, CALLS_PER_SENDER, NOTE_SLOT, SENDER_ADDRESSES, SENDERS, SETS_BY, SETS_BY_SLOT, STORES,
    SUBMIT_NODE, SUPPLY, TOTAL_SUPPLY, TOTAL_SUPPLY_SLOT, VALUE_SLOT, Loader, Plan, address_word, batch, call, height,
    mapping_slot, pooled,
)

pytestmark = pytest.mark.e2e

VICTIMS = (2, 3)
"""The validators killed (the second time, another one if it is caught before its commit first)."""
COMMIT_MISSES = 4
"""Blocks full of calls every candidate had committed as soon as node 0 had, before kill_at_commit
settles for killing validator-3 just after its commit."""


# --- the test ---------------------------------------------------------------------------------------


def test_sigkill_during_contract_load_keeps_state_roots_equal(network4, dev_keys):
    net = network4
    urls = [n.rpc_url for n in net.nodes]
    started = time.monotonic()
    deployer = Account.from_key(dev_keys[0]).address
    plan = Plan(dev_keys[0], int(batch(urls[SUBMIT_NODE], [("eth_getTransactionCount", [deployer, "latest"])])[0], 16))
    print(f"\nsigned {len(plan.setup)} setup and {CALLS_PER_SENDER * len(SENDERS)} load transactions in {time.monotonic() - started:.1f}s")

    assert batch(urls[SUBMIT_NODE], [("eth_sendRawTransaction", [raw]) for raw, _ in plan.setup]) == [h for _, h in plan.setup]
    receipts = wait_until(lambda: all(r := batch(urls[SUBMIT_NODE], [("eth_getTransactionReceipt", [h]) for _, h in plan.setup])) and r,
                          60, f"the {len(plan.setup)} setup receipts")
    assert all(r["status"] == "0x1" for r in receipts), [r for r in receipts if r["status"] != "0x1"]
    assert [r["contractAddress"].lower() for r in receipts[:1 + STORES]] == [a.lower() for a in [plan.token, *plan.stores]]

    half = CALLS_PER_SENDER // 2
    for cycle, (victim, kill_moment, rounds) in enumerate([(VICTIMS[0], kill_mid_load, (0, half)),
                                                           (VICTIMS[1], kill_at_commit, (half, CALLS_PER_SENDER))]):
        t0 = time.monotonic()
        chunk = plan.chunk(*rounds)
        loader = Loader(urls[SUBMIT_NODE], chunk)
        loader.start()
        try:
            victim, before = kill_moment(net, victim, loader)
            killed_at, sent = time.monotonic(), loader.sent
            # 3 of 4 are a quorum: the others commit a few blocks without the victim, which it must sync.
            others = [i for i in range(4) if i != victim]
            net.wait_for_height(max(net.height(i) for i in others) + 3, nodes=others, timeout=30)
            net.start(victim)
            reopened = reopened_head(net.nodes[victim])
            print(f"cycle {cycle}: validator-{victim} killed at height {before} ({kill_moment.__name__}, {sent} of "
                  f"{len(chunk)} calls submitted), reopened at {reopened}, restarted {time.monotonic() - killed_at:.1f}s after")
            assert reopened >= before, f"validator-{victim} lost committed blocks: at {before} before SIGKILL, reopened at {reopened}"
            loader.join(timeout=60)
            assert not loader.is_alive(), "the loader did not finish in 60 s"
        finally:
            loader.stop.set()
        assert not loader.errors, loader.errors[:5]
        wait_until(lambda: all(int(n, 16) == rounds[1] for n in batch(
            urls[SUBMIT_NODE], [("eth_getTransactionCount", [a, "latest"]) for a in SENDER_ADDRESSES])), 60,
            f"all {len(chunk)} calls of cycle {cycle} included")
        common = max(height(u) for u in urls)
        net.wait_for_height(common, timeout=60)  # the victim too: it has caught up
        t1 = time.monotonic()
        check_agreement(urls, plan, common, rounds[1])
        print(f"cycle {cycle}: blocks 0-{common} agree on all nodes; cycle {t1 - t0:.1f}s, of which checks {time.monotonic() - t1:.1f}s")

    for node in net.nodes:
        log = node.log_path.read_text(errors="replace")
        assert "Traceback" not in log, f"{node.name} logged a traceback:\n{log[log.index('Traceback'):][:3000]}"
    print(f"total {time.monotonic() - started:.1f}s")


def reopened_head(node) -> int:
    """The head a restarted node opened its store at, from its last start's log line ("node started:
    ... head N", logged before its syncer has fetched anything)."""
    def logged():
        starts = [line for line in node.log_path.read_text(errors="replace").splitlines() if "node started:" in line]
        return len(starts) >= 2 and starts[-1]

    return int(wait_until(logged, 10, f"{node.name} logging its restart").split(", head ")[1].split(",")[0])


def kill_mid_load(net, victim: int, loader: Loader) -> tuple[int, int]:
    """SIGKILL `victim` once its latest block holds >= 100 of our calls and node 0's pool >= 200
    more; returns (victim, that block's number)."""
    url = net.nodes[victim].rpc_url

    def moment():
        block = batch(url, [("eth_getBlockByNumber", ["latest", False])])[0]
        return len(block["transactions"]) >= 100 and pooled(net.nodes[SUBMIT_NODE].rpc_url) >= 200 and int(block["number"], 16)

    before = wait_until(moment, 30, "a block full of contract calls, with more pooled")
    net.kill(victim)
    return victim, before


def kill_at_commit(net, victim: int, loader: Loader) -> tuple[int, int]:
    """SIGKILL a validator the moment node 0 has committed a block of >= 50 calls that it has not:
    the first of `victim` and the other validators but node 0 that answers a lower height, or does
    not answer within 30 ms (its event loop, which serves JSON-RPC too, is busy executing or
    committing that block). If all had it every time for COMMIT_MISSES such blocks, or the load is
    ending (all submitted, < 150 pooled), `victim` right after that block (it is then just past its
    commit). Returns (the validator killed, its last answered height)."""
    watch = net.nodes[SUBMIT_NODE].rpc_url
    candidates = [victim, *(i for i in range(len(net.nodes)) if i not in (victim, SUBMIT_NODE))]
    last = {i: height(net.nodes[i].rpc_url) for i in candidates}
    seen = height(watch)
    misses = []

    def moment():
        nonlocal seen
        ahead = height(watch, 2.0)
        if ahead <= seen:
            return None
        seen = ahead
        answers = {}
        for i in candidates:
            try:
                answers[i] = last[i] = height(net.nodes[i].rpc_url, 0.03)
            except OSError:  # timed out
                answers[i] = None
            if answers[i] is None or answers[i] < ahead:
                break
        if len(batch(watch, [("eth_getBlockByNumber", [hex(ahead), False])])[0]["transactions"]) < 50:
            return None
        for i, mine in answers.items():
            if mine is None:
                return i, f"not answering while node {SUBMIT_NODE} is at {ahead} (its last answer: {last[i]})"
            if mine < ahead:
                return i, f"at {mine} while node {SUBMIT_NODE} is at {ahead}"
        misses.append(ahead)
        if len(misses) > COMMIT_MISSES or loader.sent == len(loader.txs) and pooled(watch) < 150:
            return victim, f"just past its commit of {ahead} (validators {candidates} all had their commits of {misses[:-1]} too)"
        return None

    killed, how = wait_until(moment, 30, f"node {SUBMIT_NODE} committing a block full of calls", interval=0.002)
    net.kill(killed)
    print(f"killed validator-{killed} at a commit: {how}")
    return killed, last[killed]


def check_agreement(urls: list[str], plan: Plan, common: int, rounds: int) -> None:
    """Blocks 0..common: the same hash, state root, receipts root and transactions on every node,
    each extending the one before; all our transactions of the setup and the first `rounds` rounds
    are in them, once; every receipt on every node is status 1 and the same; and the contracts'
    state at block `common` (read through the state trie) and at "latest" (the head's flat state;
    no call changes it any more) is the same everywhere and the plan's: the holders' balances
    (eth_call balanceOf, eth_getProof values) add up to the supply, the setsBy counters, the
    storage roots (eth_getProof storageHash)."""
    numbers = list(range(common + 1))
    chains = [batch(u, [("eth_getBlockByNumber", [hex(n), False]) for n in numbers]) for u in urls]
    reference = chains[0]
    for i, chain in enumerate(chains):
        for n, (mine, ref) in enumerate(zip(chain, reference)):
            assert mine is not None, f"node {i} has no block {n} (common height {common})"
            for key in ("hash", "stateRoot", "receiptsRoot", "transactionsRoot", "transactions"):
                assert mine[key] == ref[key], f"block {n}: {key} differs: node {i} {mine[key]}, node 0 {ref[key]}"
            if n:
                assert mine["parentHash"] == chain[n - 1]["hash"], f"node {i}: block {n} does not extend block {n - 1}"
    included = [h for block in reference for h in block["transactions"]]
    assert len(included) == len(set(included)), "a transaction is in two blocks"
    missing = plan.hashes(rounds) - set(included)
    assert not missing, f"{len(missing)} of our transactions are in no block up to {common}"

    with_txs = [n for n in numbers if reference[n]["transactions"]]
    print("transactions per block: " + " ".join(f"{n}:{len(reference[n]['transactions'])}" for n in with_txs))
    views = []
    for i, url in enumerate(urls):
        view = []
        for n, receipts in zip(with_txs, batch(url, [("eth_getBlockReceipts", [hex(n)]) for n in with_txs])):
            assert [r["transactionHash"] for r in receipts] == reference[n]["transactions"], f"node {i}: receipts of block {n}"
            failed = [r["transactionHash"] for r in receipts if r["status"] != "0x1"]
            assert not failed, f"node {i}: block {n}: failed transactions {failed}"
            view += [(r["transactionHash"], r["blockHash"], r["gasUsed"], r["cumulativeGasUsed"], r["logsBloom"], len(r["logs"]))
                     for r in receipts]
        views.append(view)
    assert all(v == views[0] for v in views), f"receipts differ: nodes {[i for i, v in enumerate(views) if v != views[0]]} vs node 0"

    sampled = plan.holders[::5]
    token_slots = [mapping_slot(h, BALANCES_SLOT) for h in sampled]
    sample_senders = SENDER_ADDRESSES[::7]
    for at in (hex(common), "latest"):
        states = []
        for i, url in enumerate(urls):
            balances = [int(r, 16) for r in batch(url, [call(plan.token, BALANCE_OF + address_word(h), at) for h in plan.holders])]
            supply = int(batch(url, [call(plan.token, TOTAL_SUPPLY, at)])[0], 16)
            assert supply == SUPPLY, f"node {i} at {at}: totalSupply {supply}"
            assert sum(balances) == SUPPLY, f"node {i} at {at}: the holders' balances add up to {sum(balances)}, not {SUPPLY}"
            assert int(batch(url, [("eth_getStorageAt", [plan.token, hex(TOTAL_SUPPLY_SLOT), at])])[0], 16) == SUPPLY
            token_proof = batch(url, [("eth_getProof", [plan.token, token_slots, at])])[0]
            assert [int(e["value"], 16) for e in token_proof["storageProof"]] == [balances[plan.holders.index(h)] for h in sampled], (
                f"node {i} at {at}: eth_getProof's balance slots are not balanceOf")
            sets = [int(r, 16) for r in batch(url, [call(s, SETS_BY + address_word(a), at) for s in plan.stores for a in SENDER_ADDRESSES])]
            raw_sets = [int(r, 16) for r in batch(url, [("eth_getStorageAt", [s, mapping_slot(a, SETS_BY_SLOT), at])
                                                        for s in plan.stores for a in sample_senders])]
            assert raw_sets == [sets[j * len(SENDERS) + SENDER_ADDRESSES.index(a)] for j in range(STORES) for a in sample_senders], (
                f"node {i} at {at}: eth_getStorageAt of setsBy slots is not setsBy()")
            slots = batch(url, [("eth_getStorageAt", [s, hex(k), at]) for s in plan.stores for k in (VALUE_SLOT, NOTE_SLOT)])
            store_proofs = batch(url, [("eth_getProof", [s, [hex(VALUE_SLOT)], at]) for s in plan.stores])
            states.append({"balances": balances, "setsBy": sets, "store slots": slots,
                           "token storageHash": token_proof["storageHash"],
                           "store storageHashes": [p["storageHash"] for p in store_proofs],
                           "store values (proofs)": [p["storageProof"][0]["value"] for p in store_proofs]})
        for i, state in enumerate(states):
            differ = [k for k in state if state[k] != states[0][k]]
            assert not differ, f"at {at}: node {i} and node 0 differ in {differ}"
        wrong = [h for h, got, want in zip(plan.holders, states[0]["balances"], plan.balances(rounds)) if got != want]
        assert not wrong, f"at {at}: balances of {wrong[:5]} are not the plan's"
        assert states[0]["setsBy"] == plan.sets_by(rounds), f"at {at}: setsBy counters are not the plan's"
