"""The explorer's reads take the same work on a long chain as on a short one (issue 12: no page loads
the whole chain). Each call a page makes is counted in database reads (gets plus keys iterated) on a
160-block and a 2,000-block chain built alike; a read that walks the chain would do ~12 times more.
scripts/bench-explorer measures the pages themselves in a browser on 100,000 blocks."""

from __future__ import annotations

import pytest
from explorer_chain import ALICE, ExplorerNet, INTERVAL
from rpc_support import Client

TX_EVERY = 4
RECIPIENT = bytes.fromhex("5e" * 20)
SHORT, LONG = 160, 2_000


class CountingDb:
    """A plyvel database (or snapshot) that counts what is read through it."""

    def __init__(self, db, reads: list[int]) -> None:
        self._db, self._reads = db, reads

    def get(self, *args, **kwargs):
        self._reads[0] += 1
        return self._db.get(*args, **kwargs)

    def iterator(self, *args, **kwargs):
        for item in self._db.iterator(*args, **kwargs):
            self._reads[0] += 1
            yield item

    def snapshot(self):
        return CountingDb(self._db.snapshot(), self._reads)

    def __getattr__(self, name):
        return getattr(self._db, name)


def chain_of(path, blocks: int) -> ExplorerNet:
    net = ExplorerNet(path)
    for number in range(1, blocks + 1):
        net.commit([net.tx(ALICE, RECIPIENT, value=1, gas=21_000)] if number % TX_EVERY == 0 else [])
    return net


def page_calls(head: int) -> dict[str, tuple]:
    """What the explorer's pages ask, placed alike on a chain whose head is `head`."""
    alice = ALICE.address.lower()
    middle = hex(head // 2)
    oldest_page = 25 * TX_EVERY + 1  # before it: the first 25 transfers
    return {
        "block": ("eth_getBlockByNumber", middle, False),
        "commit": ("sidechain_getCommit", middle),
        "history newest": ("ots_searchTransactionsBefore", alice, 0, 25),
        "history middle": ("ots_searchTransactionsBefore", alice, head // 2, 25),
        "history oldest": ("ots_searchTransactionsBefore", alice, oldest_page, 25),
        "history after": ("ots_searchTransactionsAfter", alice, head // 2, 25),
        "activity": ("sidechain_getValidatorActivity", 100),
        "latest checkpoint": ("sidechain_getCheckpoint", hex(head // INTERVAL)),
        "first checkpoint": ("sidechain_getCheckpoint", "0x1"),
        "network": ("sidechain_getNetworkInfo",),
        "bridge": ("sidechain_getBridgeOverview",),
        "deposits": ("sidechain_getDeposits", "0x1", "0xa"),
        "withdrawals": ("sidechain_getWithdrawals", "0x1", "0xa"),
    }


def reads_per_call(net: ExplorerNet) -> dict[str, int]:
    """Each call cold: a new context, and the chain's caches of headers and validator sets emptied
    (building left the short chain's all in them, the long chain's only the latest)."""
    reads = [0]
    net.chain.store.db = CountingDb(net.chain.store.db, reads)
    out = {}
    for name, (method, *params) in page_calls(net.chain.height).items():
        net.chain._headers.clear()
        net.chain._validator_sets = {}
        before = reads[0]
        Client(net)(method, *params)
        out[name] = reads[0] - before
    return out


@pytest.fixture(scope="module")
def reads(tmp_path_factory):
    counted = {}
    for blocks in (SHORT, LONG):
        net = chain_of(tmp_path_factory.mktemp(f"chain-{blocks}"), blocks)
        try:
            counted[blocks] = reads_per_call(net)
        finally:
            net.chain.close()
    return counted


def test_no_explorer_read_grows_with_the_chain(reads):
    short, long = reads[SHORT], reads[LONG]
    # Tries and LevelDB may grow a level deeper on the long chain: allow that, not a walk of it.
    grew = {name: (short[name], long[name]) for name in short if long[name] > 1.5 * short[name] + 20}
    assert not grew, f"reads on {SHORT} vs {LONG} blocks: {grew} (all: {reads})"


def test_the_counts_are_of_real_reads(reads):
    assert reads[LONG]["activity"] >= 100  # a header and a certificate per block of the window, at least
    assert reads[LONG]["history newest"] >= 25
