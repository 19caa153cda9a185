"""The explorer's consensus and network reads: a block's certificate (who signed, with what power,
in which round), each validator's activity over a window of blocks (proposed, signed, missed,
round-0 proposals it missed), and the network's settings with what the operator said of its L1."""

from __future__ import annotations

import pytest
from explorer_chain import CHAIN_ID, INTERVAL, VALIDATORS, ExplorerNet, addr
from rpc_support import Client

from sidechain.chain.system import system_contracts
from sidechain.rpc.explorer_methods import L1Info

POWERS = [1, 1, 1, 2]


@pytest.fixture
def net(tmp_path):
    net = ExplorerNet(tmp_path, powers=POWERS)
    yield net
    net.chain.close()


def h(value: bytes) -> str:
    return "0x" + value.hex()


def test_the_commit_names_the_signers_with_their_power_and_the_round(net):
    client = Client(net)
    v0, v1, v2, v3 = VALIDATORS
    block, _ = net.commit(round_=2, signers=[v3, v0, v2])  # power 4 of 5
    commit = client("sidechain_getCommit", "0x1")
    signers = sorted([v0, v2, v3], key=addr)
    assert commit == {
        "blockNumber": "0x1", "blockHash": h(block.hash), "round": "0x2",
        "proposer": h(addr(VALIDATORS[(1 + 2) % 4])),
        "signers": [{"validator": h(addr(v)), "power": hex(POWERS[VALIDATORS.index(v)])} for v in signers],
        "signedPower": "0x4", "totalPower": "0x5",
    }
    assert client("sidechain_getCommit", "latest") == commit
    genesis = client("sidechain_getCommit", "0x0")
    assert (genesis["signers"], genesis["round"], genesis["signedPower"], genesis["totalPower"]) == ([], "0x0", "0x0", "0x5")
    assert genesis["blockHash"] == client("eth_getBlockByNumber", "0x0", False)["hash"]
    assert client("sidechain_getCommit", "0x2") is None
    assert client.error("sidechain_getCommit", "0xzz")["code"] == -32602


def test_activity_counts_proposals_signatures_misses_and_missed_round_zero_proposals(net):
    client = Client(net)
    v0, v1, v2, v3 = VALIDATORS
    net.commit()                                   # 1: proposer v1, all sign
    net.commit(round_=1, signers=[v0, v1, v3])     # 2: v2 (round-0 proposer of 2) missed it; v3 proposed in round 1
    net.commit(signers=[v0, v1, v3])               # 3: proposer v3, v2 missing
    net.commit(signers=[v1, v2, v3])               # 4: proposer v0, v0 missing
    activity = client("sidechain_getValidatorActivity")
    assert (activity["fromBlock"], activity["toBlock"]) == ("0x1", "0x4")
    by_address = {entry["address"]: entry for entry in activity["validators"]}
    assert list(by_address) == [h(addr(v)) for v in VALIDATORS]

    def expect(v, proposed, last_proposed, signed, last_signed, missed, missed_proposals):
        entry = by_address[h(addr(v))]
        assert entry == {
            "address": h(addr(v)), "power": hex(POWERS[VALIDATORS.index(v)]),
            "proposed": hex(proposed), "lastProposed": None if last_proposed is None else hex(last_proposed),
            "signed": hex(signed), "lastSigned": None if last_signed is None else hex(last_signed),
            "missed": hex(missed), "missedProposals": [hex(n) for n in missed_proposals],
        }, v.address

    expect(v0, 1, 4, 3, 3, 1, [])
    expect(v1, 1, 1, 4, 4, 0, [])
    expect(v2, 0, None, 2, 4, 2, [2])
    expect(v3, 2, 3, 4, 4, 0, [])

    # a window of the last two blocks, as a hex quantity; a new head is a new answer
    recent = client("sidechain_getValidatorActivity", "0x2")
    assert (recent["fromBlock"], recent["toBlock"]) == ("0x3", "0x4")
    assert {e["address"]: e["missed"] for e in recent["validators"]}[h(addr(v2))] == "0x1"
    net.commit(signers=[v0, v1, v3])
    assert client("sidechain_getValidatorActivity", 2)["toBlock"] == "0x5"

    error = client.error("sidechain_getValidatorActivity", 1001)
    assert error["code"] == -32602 and "1 to 1000" in error["message"]
    assert client.error("sidechain_getValidatorActivity", 0)["code"] == -32602


def test_network_info_shows_the_settings_and_the_l1_the_node_was_told_of(net):
    client = Client(net)
    for _ in range(INTERVAL + 1):
        net.commit()
    info = client("sidechain_getNetworkInfo")
    assert info == {
        "chainId": hex(CHAIN_ID), "genesisHash": client("eth_getBlockByNumber", "0x0", False)["hash"],
        "genesisConfigHash": h(net.genesis.hash()), "blockTimeMs": hex(500), "checkpointInterval": hex(INTERVAL),
        "latestFinalCheckpoint": "0x1", "systemContracts": system_contracts(), "l1": None,
    }
    net.backend.l1_info = L1Info("http://127.0.0.1:8545", 31337, b"\x11" * 20, b"\x22" * 20, 4242)
    assert client("sidechain_getNetworkInfo")["l1"] == {
        "rpcUrl": "http://127.0.0.1:8545", "chainId": hex(31337), "rootBridge": "0x" + "11" * 20,
        "checkpointManager": "0x" + "22" * 20, "deployBlock": hex(4242),
    }


def test_no_checkpoint_is_final_before_the_first_range_ends(net):
    net.commit()
    assert Client(net)("sidechain_getNetworkInfo")["latestFinalCheckpoint"] is None
