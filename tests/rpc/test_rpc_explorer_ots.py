"""ots_searchTransactionsBefore / After over the address index: a transfer is in both parties'
history, pages come newest first and never split a block, firstPage / lastPage say whether
anything newer / older is left, and each entry is what eth_getTransactionByHash and
eth_getTransactionReceipt answer (the receipt with its block's timestamp)."""

from __future__ import annotations

from rpc_support import ACCOUNTS, hexaddr


def hashes(page: dict) -> list[str]:
    return [tx["hash"] for tx in page["txs"]]


def build(devnet) -> dict[str, list[str]]:
    """Block 1: A->B twice; block 2: B->C; block 3: A->C, A->B, B->A; block 4: C gets nothing."""
    c = ACCOUNTS["C"].address
    b = ACCOUNTS["B"].address
    a = ACCOUNTS["A"].address
    blocks = {
        1: [devnet.sign("A", to=b), devnet.sign("A", to=b)],
        2: [devnet.sign("B", to=c)],
        3: [devnet.sign("A", to=c), devnet.sign("A", to=b), devnet.sign("B", to=a)],
    }
    made = {}
    for number, raws in blocks.items():
        block = devnet.commit(raws)
        made[number] = ["0x" + tx.hash.hex() for tx in block.transactions]
    devnet.commit([])
    return made


def test_a_transfer_is_in_both_parties_history_newest_first_with_receipts(devnet, client):
    made = build(devnet)
    page = client("ots_searchTransactionsBefore", hexaddr("B"), 0, 25)
    assert hashes(page) == [made[3][2], made[3][1], made[2][0], made[1][1], made[1][0]]
    assert (page["firstPage"], page["lastPage"]) == (True, True)
    assert hashes(client("ots_searchTransactionsBefore", hexaddr("C"), 0, 25)) == [made[3][0], made[2][0]]
    assert hashes(client("ots_searchTransactionsBefore", hexaddr("A"), 0, 25)) == [made[3][2], made[3][1], made[3][0],
                                                                                  made[1][1], made[1][0]]
    for tx, receipt in zip(page["txs"], page["receipts"]):
        assert tx == client("eth_getTransactionByHash", tx["hash"])
        block = client("eth_getBlockByNumber", receipt["blockNumber"], False)
        assert receipt == client("eth_getTransactionReceipt", tx["hash"]) | {"timestamp": block["timestamp"]}


def test_pages_never_split_a_block_and_say_what_is_left(devnet, client):
    made = build(devnet)
    # pageSize 1 from the head: block 3 holds two of B's transactions, both come
    first = client("ots_searchTransactionsBefore", hexaddr("B"), 0, 1)
    assert hashes(first) == [made[3][2], made[3][1]] and (first["firstPage"], first["lastPage"]) == (True, False)
    # the next older page starts below the oldest block shown
    second = client("ots_searchTransactionsBefore", hexaddr("B"), 3, 1)
    assert hashes(second) == [made[2][0]] and (second["firstPage"], second["lastPage"]) == (False, False)
    last = client("ots_searchTransactionsBefore", hexaddr("B"), "0x2", "0x1")  # hex quantities work as well
    assert hashes(last) == [made[1][1], made[1][0]] and (last["firstPage"], last["lastPage"]) == (False, True)
    # forward from the genesis: the oldest block first filled the page, given newest first
    oldest = client("ots_searchTransactionsAfter", hexaddr("B"), 0, 1)
    assert hashes(oldest) == [made[1][1], made[1][0]] and (oldest["firstPage"], oldest["lastPage"]) == (False, True)
    newer = client("ots_searchTransactionsAfter", hexaddr("B"), 1, 25)
    assert hashes(newer) == [made[3][2], made[3][1], made[2][0]] and (newer["firstPage"], newer["lastPage"]) == (True, False)
    # past the head and before anything: empty pages, each the end it is at
    assert client("ots_searchTransactionsAfter", hexaddr("B"), 100, 5) == {"txs": [], "receipts": [], "firstPage": True,
                                                                          "lastPage": False}
    nobody = "0x" + "12" * 20
    assert client("ots_searchTransactionsBefore", nobody, 0, 5) == {"txs": [], "receipts": [], "firstPage": True,
                                                                   "lastPage": True}


def test_bad_parameters_are_refused_with_what_was_expected(devnet, client):
    error = client.error("ots_searchTransactionsBefore", hexaddr("A"), 0, 101)
    assert error["code"] == -32602 and "1 to 100" in error["message"] and "101" in error["message"]
    assert client.error("ots_searchTransactionsAfter", hexaddr("A"), 0, 0)["code"] == -32602
    error = client.error("ots_searchTransactionsBefore", "0x1234", 0, 10)
    assert error["code"] == -32602 and "argument 0 (address)" in error["message"]
    error = client.error("ots_searchTransactionsBefore", hexaddr("A"), -1, 10)
    assert error["code"] == -32602 and "argument 1 (blockNumber)" in error["message"]
    assert client.error("ots_searchTransactionsBefore", hexaddr("A"), 0)["code"] == -32602
