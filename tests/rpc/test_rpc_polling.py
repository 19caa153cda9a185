"""Polled filters (eth_newFilter, eth_newBlockFilter, eth_getFilterChanges, eth_getFilterLogs,
eth_uninstallFilter): each poll reports what came since the last one, filters are bounded in
number and expire when nobody polls them."""

from __future__ import annotations

from rpc_support import Client, h, log_entry

from sidechain.rpc.polling import FilterRegistry

EMITTER, OTHER = bytes.fromhex("0e" * 20), bytes.fromhex("0f" * 20)
T1, T2 = bytes([1]) * 32, bytes([2]) * 32


def test_a_log_filter_reports_each_matching_log_once(devnet, client):
    filter_id = client("eth_newFilter", {"address": h(EMITTER), "topics": [h(T1)]})
    assert client("eth_getFilterChanges", filter_id) == []
    devnet.commit([devnet.sign("A")], logs={0: [log_entry(EMITTER, T1), log_entry(OTHER, T1), log_entry(EMITTER, T2)]})
    devnet.commit([devnet.sign("A")], logs={0: [log_entry(EMITTER, T1, data=b"\x02")]})

    changes = client("eth_getFilterChanges", filter_id)
    assert [(c["blockNumber"], c["address"], c["data"]) for c in changes] == [("0x1", h(EMITTER), "0x"), ("0x2", h(EMITTER), "0x02")]
    assert client("eth_getFilterChanges", filter_id) == []  # each log is reported once
    # eth_getFilterLogs answers the filter's own range, latest..latest: block 2
    assert [c["blockNumber"] for c in client("eth_getFilterLogs", filter_id)] == ["0x2"]


def test_a_filter_with_a_fixed_range_stops_at_its_end(devnet, client):
    filter_id = client("eth_newFilter", {"fromBlock": "0x1", "toBlock": "0x1"})
    for _ in range(2):
        devnet.commit([devnet.sign("A")], logs={0: [log_entry(EMITTER, T1)]})
    assert [c["blockNumber"] for c in client("eth_getFilterChanges", filter_id)] == ["0x1"]
    assert [c["blockNumber"] for c in client("eth_getFilterLogs", filter_id)] == ["0x1"]


def test_a_block_filter_reports_new_block_hashes(devnet, client):
    filter_id = client("eth_newBlockFilter")
    blocks = [devnet.commit([devnet.sign("A")]) for _ in range(3)]
    assert client("eth_getFilterChanges", filter_id) == [h(b.hash) for b in blocks]
    assert client("eth_getFilterChanges", filter_id) == []
    assert client.error("eth_getFilterLogs", filter_id)["message"].startswith("filter not found")


def test_uninstalled_unknown_and_expired_filters(devnet):
    now = [1000.0]
    client = Client(devnet)
    client.context.filters = FilterRegistry(clock=lambda: now[0], max_filters=2, timeout=300)
    first = client("eth_newBlockFilter")
    second = client("eth_newFilter", {})
    error = client.error("eth_newBlockFilter")
    assert error["code"] == -32005 and "too many filters installed: the limit is 2" in error["message"]

    assert client("eth_uninstallFilter", first) is True
    assert client("eth_uninstallFilter", first) is False
    assert client.error("eth_getFilterChanges", first) == {"code": -32000, "message": "filter not found"}

    now[0] += 299
    assert client("eth_getFilterChanges", second) == []  # a poll keeps it alive
    now[0] += 301
    assert client.error("eth_getFilterChanges", second)["message"] == "filter not found"
    assert client("eth_newBlockFilter").startswith("0x")


def test_concurrent_polls_of_one_filter_never_report_a_block_twice():
    import threading

    registry = FilterRegistry()
    filter_id = registry.install(None, 0)
    reported: list[int] = []
    heads = iter(range(1, 2001))
    lock = threading.Lock()

    def poll() -> None:
        for _ in range(200):
            with lock:
                head = next(heads)
            _, first, last = registry.claim(filter_id, head)
            reported.extend(range(first, last + 1))

    threads = [threading.Thread(target=poll) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(reported) == len(set(reported))  # each block once
    assert set(reported) <= set(range(1, 2001))
