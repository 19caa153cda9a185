"""The explorer's bridge reads on a chain whose one validator affirms deposits (its affirmation
alone is a quorum): deposits listed with their status up to the highest affirmed, withdrawals with
the checkpoint holding them and whether its range is final, and each token's supply; a deposit's
recipient finds the deposit in its address history."""

from __future__ import annotations

import pytest
from explorer_chain import ALICE, VALIDATORS, ExplorerNet, addr, calldata
from rpc_support import Client

from sidechain.chain.system import BRIDGE_ADDRESS, token_address

ETH = bytes(20)
L1_TOKEN = bytes.fromhex("77" * 20)
L1_RECIPIENT = bytes.fromhex("99" * 20)
VALIDATOR = VALIDATORS[0]


def affirm(deposit_id: int, l1_token: bytes = ETH, amount: int = 1000, name: str = "", symbol: str = "", decimals: int = 18):
    return calldata("affirmDeposit(uint64,address,address,uint256,string,string,uint8)",
                    deposit_id, l1_token, addr(ALICE), amount, name, symbol, decimals)


def withdraw(l1_token: bytes, amount: int) -> bytes:
    return calldata("withdraw(address,uint256,address)", l1_token, amount, L1_RECIPIENT)


@pytest.fixture
def net(tmp_path):
    net = ExplorerNet(tmp_path, validators=[VALIDATOR])
    yield net
    net.chain.close()


def h(value: bytes) -> str:
    return "0x" + value.hex()


def build(net) -> dict[str, str]:
    """1: ETH deposit 1 minted; 2: token deposit 2 minted (opens the token); 3: two withdrawals;
    4: deposit 4 affirmed (accepted, waits for 3); 5: an ETH withdrawal in checkpoint 2's range."""
    txs = {}
    for name, account, data, value in (
        ("eth deposit", VALIDATOR, affirm(1), 0),
        ("token deposit", VALIDATOR, affirm(2, L1_TOKEN, 500, "Devnet Token", "DEV", 6), 0),
        ("withdrawals", None, None, None),
        ("deposit 4", VALIDATOR, affirm(4, amount=7), 0),
        ("late withdrawal", ALICE, withdraw(ETH, 1), 1),
    ):
        if name == "withdrawals":
            block, receipts = net.commit([net.tx(ALICE, BRIDGE_ADDRESS, withdraw(ETH, 100), 100),
                                          net.tx(ALICE, BRIDGE_ADDRESS, withdraw(L1_TOKEN, 50))])
        else:
            block, receipts = net.commit([net.tx(account, BRIDGE_ADDRESS, data, value)])
        assert all(r.status == 1 for r in receipts), name
        txs[name] = h(block.transactions[-1].hash)
        if name == "withdrawals":
            txs["first withdrawal"] = h(block.transactions[0].hash)
    return txs


def test_withdrawals_name_their_checkpoint_and_whether_its_range_is_final(net):
    build(net)
    client = Client(net)
    listed = client("sidechain_getWithdrawals", 1, 10)
    assert listed["count"] == "0x3"
    assert [(w["id"], w["amount"], w["blockNumber"], w["checkpointNumber"], w["final"]) for w in listed["withdrawals"]] == [
        ("0x1", hex(100), "0x3", "0x1", True), ("0x2", hex(50), "0x3", "0x1", True), ("0x3", "0x1", "0x5", "0x2", False)]
    for entry in listed["withdrawals"]:
        assert {k: v for k, v in entry.items() if k not in ("checkpointNumber", "final")} == \
            client("sidechain_getWithdrawal", entry["id"])
    assert client("sidechain_getWithdrawalProof", "0x1")["checkpointNumber"] == "0x1"  # final: the proof is served
    assert [w["id"] for w in client("sidechain_getWithdrawals", "0x2", "0x1")["withdrawals"]] == ["0x2"]
    assert client("sidechain_getWithdrawals", 4, 10) == {"count": "0x3", "withdrawals": []}
    assert client("sidechain_getWithdrawals", 1, 0) == {"count": "0x3", "withdrawals": []}
    error = client.error("sidechain_getWithdrawals", 1, 101)
    assert error["code"] == -32602 and "at most 100, got 101" in error["message"]


def test_deposits_are_listed_up_to_the_highest_affirmed(net):
    build(net)
    client = Client(net)
    listed = client("sidechain_getDeposits", 0, 100)
    assert (listed["nextDepositToMint"], listed["highestSeen"]) == ("0x3", "0x4")
    assert [(d["depositId"], d["status"]) for d in listed["deposits"]] == [
        ("0x1", "minted"), ("0x2", "minted"), ("0x3", "unseen"), ("0x4", "accepted")]
    assert listed["deposits"][1] == client("sidechain_getDepositStatus", "0x2")
    assert [d["depositId"] for d in client("sidechain_getDeposits", 2, 2)["deposits"]] == ["0x2", "0x3"]
    assert client("sidechain_getDeposits", 1, "0x0")["deposits"] == []
    assert client.error("sidechain_getDeposits", 1, "0x65")["code"] == -32602
    assert client.error("sidechain_getDeposits", "one", 1)["code"] == -32602


def test_deposits_before_any_affirmation(net):
    assert Client(net)("sidechain_getDeposits", 1, 10) == {"nextDepositToMint": "0x1", "highestSeen": None, "deposits": []}


def test_the_overview_holds_each_token_supply_invariant(net):
    build(net)
    overview = Client(net)("sidechain_getBridgeOverview")
    assert (overview["nextDepositToMint"], overview["withdrawalCount"]) == ("0x3", "0x3")
    ether, token = overview["tokens"]
    genesis = net.funded_total
    assert ether == {"l1Token": h(ETH), "sidechainToken": None, "name": "Ether", "symbol": "ETH", "decimals": "0x12",
                     "minted": hex(1000), "burned": hex(101), "genesisSupply": hex(genesis),
                     "totalSupply": hex(genesis + 1000 - 101)}
    assert token == {"l1Token": h(L1_TOKEN), "sidechainToken": h(token_address(L1_TOKEN)), "name": "Devnet Token",
                     "symbol": "DEV", "decimals": "0x6", "minted": hex(500), "burned": hex(50), "genesisSupply": "0x0",
                     "totalSupply": hex(450)}


def test_a_deposit_recipient_finds_its_mints_in_its_history(net):
    txs = build(net)
    page = Client(net)("ots_searchTransactionsBefore", ALICE.address.lower(), 0, 25)
    # the deposits are the validator's transactions: the mint's Transfer (token) and DepositMinted
    # (ETH) logs name ALICE; deposit 4 is not minted yet, so it is not in her history
    assert [tx["hash"] for tx in page["txs"]] == [txs["late withdrawal"], txs["withdrawals"], txs["first withdrawal"],
                                                  txs["token deposit"], txs["eth deposit"]]
    assert page["txs"][4]["from"] == VALIDATOR.address.lower() and page["lastPage"]
