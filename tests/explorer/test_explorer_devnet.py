"""The block explorer in a real browser (headless Chromium), loaded from a node's /explorer/ on the
devnet `scripts/devnet up` runs (4 validators, anvil as L1, one relayer each): a deposit's page moves
through its stages to "minted", a withdrawal's to "exit possible" and, once exited on L1, "exited";
checkpoints show their L1 transaction; a killed validator shows as missing and comes back; every
page and the search box answer good and bad input; screenshots of each page at desktop and phone
widths. What the pages show is checked against the JSON-RPC answers, not constants."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import to_checksum_address
from web3 import Web3

from bridge.deploy import contract_at
from bridge.root_bridge import Withdrawal, deposit_erc20, deposit_eth, exit_withdrawal
from sidechain.chain.system import BRIDGE_ADDRESS, system_contracts
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import NodeProcess, rpc_call, start_node, wait_ready, wait_until

from explorer_support import SCREENSHOTS, units

pytestmark = pytest.mark.e2e

KEY = anvil_private_key(1)
USER = Account.from_key(KEY)
DEV_DEPOSIT = 250 * 10**18


def rpc(devnet, method, *params):
    return rpc_call(devnet.rpc, method, list(params))


def l1(devnet) -> Web3:
    return Web3(Web3.HTTPProvider(devnet.network["l1"]["rpc"]))


def root_bridge(devnet):
    return contract_at(l1(devnet), "RootBridge", devnet.network["l1"]["contracts"]["rootBridge"])


def open_page(browser, devnet, route: str) -> None:
    browser.goto(devnet.page(route))
    browser.loaded()


@pytest.fixture(scope="module")
def state():
    """What earlier tests made, for the later ones (deposit and withdrawal ids, transaction hashes)."""
    return {}


def test_a_deposit_page_moves_through_its_stages_to_minted(devnet, browser, state):
    w3, bridge = l1(devnet), root_bridge(devnet)
    deposit_id = bridge.functions.nextDepositId().call()
    open_page(browser, devnet, f"#/deposit/{deposit_id}")
    assert browser.text("[data-field=stage]") == "not seen"

    receipt = deposit_eth(w3, bridge, KEY, USER.address, 3 * 10**18)
    stages = browser.watch("[data-field=stage]", "minted", timeout=60)
    order = ["not seen", "seen on L1", "affirming", "accepted", "minted"]
    assert stages[0] == "not seen" and stages[-1] == "minted", stages
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages), f"stages out of order: {stages}"

    status = rpc(devnet, "sidechain_getDepositStatus", hex(deposit_id))
    [content] = status["contents"]
    assert browser.text("[data-field=l1-tx]") == receipt["transactionHash"].to_0x_hex()
    assert browser.text("[data-field=amount]") == units(int(content["amount"], 16)) == "3"
    assert browser.text("[data-field=recipient]") == USER.address.lower()
    assert browser.text("[data-field=minted-in]") == str(int(status["mintedInBlock"], 16))
    assert browser.text("[data-field=affirmed-power]") == str(int(content["power"], 16))
    confirmations = int(browser.text("[data-field=l1-confirmations]"))
    assert 1 <= confirmations <= w3.eth.block_number - receipt["blockNumber"] + 1
    state["deposit"] = deposit_id

    # An ERC-20 deposit too, for the address page's bridged token balances.
    token = devnet.network["l1"]["contracts"]["testToken"]
    faucet = contract_at(w3, "TestToken", token)
    mint = faucet.functions.mint(USER.address, DEV_DEPOSIT).build_transaction(
        {"from": USER.address, "nonce": w3.eth.get_transaction_count(USER.address)})
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(USER.sign_transaction(mint).raw_transaction))
    deposit_erc20(w3, bridge, KEY, token, USER.address, DEV_DEPOSIT)
    wait_until(lambda: rpc(devnet, "sidechain_getDepositStatus", hex(deposit_id + 1))["status"] == "minted", 60, "the DEV deposit minted")


def test_a_withdrawal_page_shows_exit_possible_then_exited(devnet, browser, state):
    side = Web3(Web3.HTTPProvider(devnet.rpc))
    bridge = side.eth.contract(address=to_checksum_address(BRIDGE_ADDRESS), abi=system_contracts()["bridge"]["abi"])
    amount = 10**18
    tx = bridge.functions.withdraw("0x" + "00" * 20, amount, USER.address).build_transaction(
        {"from": USER.address, "value": amount, "chainId": devnet.network["chainId"],
         "nonce": side.eth.get_transaction_count(USER.address, "pending")})
    receipt = side.eth.wait_for_transaction_receipt(side.eth.send_raw_transaction(USER.sign_transaction(tx).raw_transaction),
                                                    timeout=30, poll_latency=0.05)
    assert receipt["status"] == 1
    withdrawal_id = bridge.functions.nextWithdrawalId().call() - 1
    state["withdrawal"], state["withdraw_tx"] = withdrawal_id, receipt["transactionHash"].to_0x_hex()

    open_page(browser, devnet, f"#/withdrawal/{withdrawal_id}")
    stages = browser.watch("[data-field=stage]", "exit possible", timeout=120)
    assert stages[-1] == "exit possible" and set(stages) <= {"burned", "in checkpoint", "exit possible"}, stages
    [listed] = rpc(devnet, "sidechain_getWithdrawals", hex(withdrawal_id), "0x1")["withdrawals"]
    assert browser.text("[data-field=amount]") == units(int(listed["amount"], 16)) == "1"
    assert browser.text("[data-field=block]") == str(int(listed["blockNumber"], 16)) == str(receipt["blockNumber"])
    assert browser.text("[data-field=checkpoint]") == str(int(listed["checkpointNumber"], 16))
    manager = contract_at(l1(devnet), "CheckpointManager", devnet.network["l1"]["contracts"]["CheckpointManager"])
    assert manager.functions.lastCheckpoint().call()[0] >= int(listed["checkpointNumber"], 16)

    served = rpc(devnet, "sidechain_getWithdrawalProof", hex(withdrawal_id))
    w = served["withdrawal"]
    withdrawal = Withdrawal(int(w["id"], 16), w["l1Token"], w["l1Recipient"], int(w["amount"], 16))
    exited = exit_withdrawal(l1(devnet), root_bridge(devnet), KEY, withdrawal, int(served["checkpointNumber"], 16),
                             [bytes.fromhex(p[2:]) for p in served["proof"]])
    browser.watch("[data-field=stage]", "exited", timeout=30)
    assert browser.text("[data-field=exit-tx]") == exited["transactionHash"].to_0x_hex()
    assert root_bridge(devnet).functions.isExited(withdrawal_id).call()


def test_checkpoints_show_their_l1_transaction(devnet, browser):
    manager = contract_at(l1(devnet), "CheckpointManager", devnet.network["l1"]["contracts"]["CheckpointManager"])
    wait_until(lambda: manager.functions.lastCheckpoint().call()[0] >= 1, 60, "a checkpoint on L1")
    open_page(browser, devnet, "#/checkpoints")
    events = manager.events.CheckpointSubmitted.get_logs(from_block=0)
    shown = [int(n) for n in browser.texts("[data-checkpoint] td:first-child")]
    landed = [e for e in events if e.args.number in shown]
    assert landed, f"no checkpoint on L1 among those shown: {shown}"
    assert shown == sorted(shown, reverse=True), "newest first"
    assert int(browser.text("[data-field=l1-last-checkpoint]")) >= landed[-1].args.number
    for event in landed:
        row = f"[data-checkpoint='{event.args.number}']"
        assert browser.text(f"{row} [data-col=l1-tx]") == event.transactionHash.to_0x_hex()
        served = rpc(devnet, "sidechain_getCheckpoint", hex(event.args.number))
        powers = dict(zip(served["signers"]["validators"], served["signers"]["powers"]))
        signed = sum(int(powers[s["validator"]], 16) for s in served["signatures"])
        assert browser.text(f"{row} [data-col=signed-power]") == str(signed)
        confirmations = int(browser.text(f"{row} [data-col=l1-confirmations]").split()[0])
        assert confirmations >= 1


def activity_of(devnet, address: str) -> dict:
    [found] = [v for v in rpc(devnet, "sidechain_getValidatorActivity", 100)["validators"] if v["address"] == address]
    return found


def test_a_killed_validator_shows_missing_then_back(devnet, browser):
    node = devnet.network["nodes"][3]
    address = node["validator"].lower()
    row = f"[data-validator='{address}']"
    open_page(browser, devnet, "#/validators")
    assert browser.wait_for(f"{row} [data-col=health]", "signing")
    assert int(browser.text("[data-field=height]")) > 0

    os.killpg(node["pid"], signal.SIGKILL)
    browser.wait_for(f"{row} [data-col=health]", "missing", timeout=30)
    first = int(browser.text(f"{row} [data-col=missed]"))
    wait_until(lambda: int(browser.text(f"{row} [data-col=missed]")) > first, 30, "the missed count growing")
    assert int(activity_of(devnet, address)["missed"], 16) > first

    others = [n["p2p"] for n in devnet.network["nodes"] if n is not node]
    restarted = NodeProcess(node["name"], Path(node["dataDir"]), int(node["rpc"].rsplit(":", 1)[1]), node["validator"],
                            Path(node["log"]), p2p_port=int(node["p2p"].split("/")[4]), bootstrap=tuple(others))
    l1_info = devnet.network["l1"]
    start_node(restarted, devnet.root, ["--checkpoint-manager", l1_info["contracts"]["CheckpointManager"],
                                        "--l1-chain-id", str(l1_info["chainId"]), "--l1-rpc", l1_info["rpc"],
                                        "--l1-root-bridge", l1_info["contracts"]["rootBridge"]])
    devnet.extra_processes.append(restarted.process)
    wait_ready(restarted)
    browser.wait_for(f"{row} [data-col=health]", "signing", timeout=60)
    last_signed = int(browser.text(f"{row} [data-col=last-signed]"))
    assert last_signed >= int(activity_of(devnet, address)["lastSigned"], 16) - 5


def log_names(browser) -> list[str]:
    return browser.do("eval", expression="[...document.querySelectorAll('[data-log]')].map(e => e.dataset.log)")


def test_transaction_pages_decode_inputs_logs_and_revert_reasons(devnet, browser, state):
    # The affirmation that minted the DEV deposit: the bridge's input, its DepositMinted and the
    # bridged ERC-20's Transfer, decoded.
    side = Web3(Web3.HTTPProvider(devnet.rpc))
    minted_topic = Web3.keccak(text="DepositMinted(uint64,address,address,uint256)").to_0x_hex()
    [log] = rpc(devnet, "eth_getLogs", {"address": "0x" + BRIDGE_ADDRESS.hex(), "fromBlock": "0x0", "toBlock": "latest",
                                        "topics": [minted_topic, "0x" + hex(state["deposit"] + 1)[2:].rjust(64, "0")]})
    open_page(browser, devnet, f"#/tx/{log['transactionHash']}")
    assert browser.text("[data-field=method]").startswith("affirmDeposit(")
    assert {"Transfer", "DepositMinted"} <= set(log_names(browser)), log_names(browser)
    transfer = browser.text("[data-log=Transfer]")
    assert str(DEV_DEPOSIT) in transfer and USER.address.lower() in transfer, transfer

    # A withdrawal of more DEV than the account holds, sent with a fixed gas limit: mined, reverted.
    bridge = side.eth.contract(address=to_checksum_address(BRIDGE_ADDRESS), abi=system_contracts()["bridge"]["abi"])
    token = devnet.network["l1"]["contracts"]["testToken"]
    tx = bridge.functions.withdraw(token, DEV_DEPOSIT + 1, USER.address).build_transaction(
        {"from": USER.address, "gas": 300_000, "chainId": devnet.network["chainId"],
         "nonce": side.eth.get_transaction_count(USER.address, "pending")})
    tx_hash = side.eth.send_raw_transaction(USER.sign_transaction(tx).raw_transaction)
    assert side.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)["status"] == 0
    trace = rpc(devnet, "debug_traceTransaction", tx_hash.to_0x_hex(), {"tracer": "callTracer"})
    open_page(browser, devnet, f"#/tx/{tx_hash.to_0x_hex()}")
    assert browser.text("[data-field=status]") == "failed"
    assert browser.text("[data-field=revert-reason]") == trace["revertReason"]
    assert "withdrawal above the balance" in trace["revertReason"]


MESSAGES = [
    # (search query, the message kind, words the message must hold)
    ("0xzz", "invalid", "not a valid hash or address"),
    ("99999999", "notfound", "Block 99999999 not found"),
    ("hello world", "invalid", "not a valid search"),
    ("0x1234", "invalid", "4 hex digits"),
    ("0x" + "ab" * 32, "notfound", "No block or transaction has the hash"),
    ("deposit x1", "invalid", "not a valid deposit id"),
    ("", "invalid", "Type a block number"),
]
BAD_URLS = [
    ("#/block/abc", "invalid", "not a valid block number or block hash"),
    ("#/block/99999999", "notfound", "Block 99999999 not found"),
    ("#/tx/0x12", "invalid", "not a valid transaction hash"),
    ("#/tx/0x" + "cd" * 32, "notfound", "not found"),
    ("#/address/0xnothex", "invalid", "not a valid address"),
    ("#/withdrawal/99999", "notfound", "Withdrawal 99999 not found"),
    ("#/deposit/abc", "invalid", "not a valid deposit id"),
    ("#/no/such/page", "notfound", "Page not found"),
]


def row_cells(browser, pager: str, first_cell) -> list[str]:
    """The cells of the row starting with `first_cell` in the table just before `pager`."""
    return browser.do("eval", expression=f"""(() => {{
      const table = document.querySelector({json.dumps(pager)}).previousElementSibling;
      const row = [...table.querySelectorAll('tbody tr')].find(r => r.cells[0].innerText.trim() === {json.dumps(str(first_cell))});
      return row ? [...row.cells].map(c => c.innerText.trim()) : [];
    }})()""")


def message(browser) -> tuple[str, str]:
    browser.loaded()
    kind = browser.do("eval", expression="(document.querySelector('[data-message]') || {dataset: {}}).dataset.message || ''")
    return kind, browser.text("[data-message]")


def test_every_page_and_the_search_box_with_good_and_bad_input(devnet, browser, state):
    head = int(rpc(devnet, "eth_blockNumber"), 16)
    open_page(browser, devnet, "")
    assert int(browser.wait_for("[data-field=head]")) >= head
    assert int(browser.do("eval", expression="document.querySelector('[data-chart-blocks]').dataset.chartBlocks")) >= min(head, 100)
    block_time = int(rpc(devnet, "sidechain_getNetworkInfo")["blockTimeMs"], 16) / 1000
    assert block_time / 2 <= float(browser.text("[data-field=block-time]").split()[0]) <= block_time * 5
    assert float(browser.text("[data-field=tps]")) > 0, "checkpoint signatures are transactions"
    live_head = int(browser.text("[data-field=head]"))
    wait_until(lambda: int(browser.text("[data-field=head]")) > live_head, 15, "the home page following newHeads")
    assert browser.text("[data-field=live]") == "live"

    # Block: header fields and the commit certificate, as the node serves them.
    number = head - 2
    block = rpc(devnet, "eth_getBlockByNumber", hex(number), False)
    commit = rpc(devnet, "sidechain_getCommit", hex(number))
    open_page(browser, devnet, f"#/block/{number}")
    assert browser.text("[data-field=hash]") == block["hash"]
    assert browser.text("[data-field=proposer]") == block["miner"]
    assert browser.text("[data-field=signed-power]") == str(int(commit["signedPower"], 16))
    assert sorted(re.findall(r"0x[0-9a-f]{40}", browser.text("#view h2 + dl + .table-wrap"))) == sorted(s["validator"] for s in commit["signers"])

    # Transaction: the withdrawal, decoded with the bridge's ABI.
    tx_hash = state["withdraw_tx"]
    receipt = rpc(devnet, "eth_getTransactionReceipt", tx_hash)
    open_page(browser, devnet, f"#/tx/{tx_hash}")
    assert browser.text("[data-field=status]") == "success"
    assert browser.text("[data-field=method]").startswith("withdraw(address,uint256,address)")
    assert browser.texts("[data-log]") and browser.do("eval", expression="[...document.querySelectorAll('[data-log]')].map(e => e.dataset.log)") == ["WithdrawalRecorded"]
    assert browser.text("[data-field=fee]") == f"{units(int(receipt['gasUsed'], 16) * int(receipt['effectiveGasPrice'], 16))} ETH"
    assert "CALL" in browser.text("[data-field=calltree]")

    # Address: balance, bridged DEV balance, and its transactions newest first.
    address = USER.address.lower()
    open_page(browser, devnet, f"#/address/{address}")
    assert browser.text("[data-field=balance]") == f"{units(int(rpc(devnet, 'eth_getBalance', address, 'latest'), 16))} ETH"
    assert browser.text("[data-token-balance=DEV]") == units(DEV_DEPOSIT)
    history = rpc(devnet, "ots_searchTransactionsBefore", address, 0, 25)
    first_row = browser.text("#view .table-wrap:last-of-type tbody tr:first-child td:first-child a")
    assert history["txs"][0]["hash"].startswith(first_row.split("…")[0])

    for route, field in (("#/validators", "[data-field=step]"), ("#/checkpoints", "[data-field=latest-checkpoint]"),
                         ("#/bridge", "[data-field=next-deposit]"), ("#/blocks", "[data-field=page]")):
        open_page(browser, devnet, route)
        assert browser.text(field), route
    assert int(browser.text("[data-field=page]").split()[-1]) == 1
    open_page(browser, devnet, "#/bridge")
    overview = rpc(devnet, "sidechain_getBridgeOverview")
    assert browser.text("[data-field=withdrawal-count]") == str(int(overview["withdrawalCount"], 16))
    assert "broken" not in browser.text("#view") and "holds" in browser.text("#view")
    assert row_cells(browser, "[data-pager-for=wpage]", state["withdrawal"])[1] == "exited"
    assert row_cells(browser, "[data-pager-for=dpage]", state["deposit"])[1] == "minted"
    assert browser.text("[data-field=l1-deposits]") == str(root_bridge(devnet).functions.nextDepositId().call() - 1)

    # Lists page: the second page of blocks continues below the first.
    open_page(browser, devnet, "#/blocks")
    first_page = [int(n) for n in browser.texts("#view tbody tr td:first-child")]
    assert first_page == list(range(first_page[0], first_page[0] - len(first_page), -1)) and len(first_page) == 25
    browser.do("click", selector="[data-pager=older]")
    browser.wait_for("[data-field=page]", "page 2")
    browser.loaded()
    second_page = [int(n) for n in browser.texts("#view tbody tr td:first-child")]
    assert second_page[0] < first_page[0] and second_page == list(range(second_page[0], second_page[0] - 25, -1))

    # The search box: good input lands on its page.
    goods = [(str(number), "block", "[data-field=number]", str(number)), (block["hash"], "block", "[data-field=number]", str(number)),
             (tx_hash, "tx", "[data-field=hash]", tx_hash), (USER.address, "address", "[data-field=address]", address),
             (f"deposit {state['deposit']}", "deposit", "[data-field=id]", str(state["deposit"])),
             (f"withdrawal {state['withdrawal']}", "withdrawal", "[data-field=id]", str(state["withdrawal"]))]
    for query, page, field, shown in goods:
        browser.search(query)
        browser.wait_for(f"#view[data-page={page}][aria-busy=false]")
        # Two searches in a row can land on the same kind of page: the wait above may see the last
        # one before the new render starts, so wait for the field itself too.
        browser.wait_for(field, shown)
        assert browser.text(field) == shown, query
    # Bad input shows a plain message, never a blank page or a stack trace.
    for query, kind, words in MESSAGES:
        open_page(browser, devnet, "#/validators")
        browser.search(query)
        browser.wait_for("[data-message]", timeout=10)
        assert message(browser)[0] == kind and words in message(browser)[1], (query, message(browser))
    for route, kind, words in BAD_URLS:
        open_page(browser, devnet, route)
        assert message(browser)[0] == kind and words in message(browser)[1], (route, message(browser))

    # ?rpc= reads another node: node 1's explorer shows what node 2 answers.
    other = devnet.network["nodes"][2]["rpc"]
    browser.goto(devnet.network["nodes"][1]["rpc"] + f"/explorer/?rpc={other}#/block/{number}")
    browser.loaded()
    assert browser.text("#node-url") == other
    assert browser.text("[data-field=hash]") == rpc_call(other, "eth_getBlockByNumber", [hex(number), False])["hash"]
    assert browser.errors() == []


PAGES = [("home", ""), ("blocks", "#/blocks"), ("block", "#/block/{block}"), ("tx", "#/tx/{tx}"), ("address", "#/address/{address}"),
         ("validators", "#/validators"), ("checkpoints", "#/checkpoints"), ("bridge", "#/bridge"), ("deposit", "#/deposit/{deposit}"),
         ("withdrawal", "#/withdrawal/{withdrawal}"), ("bad-search", "#/search/0xzz")]


def test_screenshots_of_every_page_at_desktop_and_phone_widths(devnet, browser, state):
    values = {"block": int(rpc(devnet, "eth_blockNumber"), 16) - 1, "tx": state["withdraw_tx"], "address": USER.address.lower(),
              "deposit": state["deposit"], "withdrawal": state["withdrawal"]}
    for name, route in PAGES:
        route = route.format(**values)
        open_page(browser, devnet, route)
        for path in browser.screenshot(name):
            assert path.exists() and path.stat().st_size > 0, path
        # At phone width nothing is wider than the screen: wide tables scroll inside their box.
        browser.do("viewport", width=375, height=812)
        width = browser.do("eval", expression="document.documentElement.scrollWidth")
        browser.do("viewport", width=1280, height=800)
        assert width <= 375, f"{route or 'home'} is {width} px wide on a 375 px screen"
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 2 * len(PAGES)


def test_the_hand_written_keccak_and_abi_decoder_agree_with_eth_abi(devnet, browser):
    from eth_abi import encode
    from eth_utils import keccak

    open_page(browser, devnet, "#/validators")
    texts = ["", "Transfer(address,address,uint256)", "x" * 135, "y" * 136, "z" * 300]
    hashes = browser.do("eval", expression=f"import('./js/keccak.js').then(m => {json.dumps(texts)}.map(t => m.keccak256(t)))")
    assert hashes == ["0x" + keccak(text=t).hex() for t in texts]

    types = ["uint64", "address[]", "bytes", "string", "(uint256,bool)[2]", "int8", "bytes32", "(string,uint256[])"]
    values = [2**64 - 1, ["0x" + "11" * 20, "0x" + "ab" * 20], b"\x01\x02\x03", "héllo", [(7, True), (2**255, False)], -5,
              b"\xff" * 32, ("nested", [1, 2, 3])]
    params = [{"type": "uint64"}, {"type": "address[]"}, {"type": "bytes"}, {"type": "string"},
              {"type": "tuple[2]", "components": [{"type": "uint256"}, {"type": "bool"}]}, {"type": "int8"}, {"type": "bytes32"},
              {"type": "tuple", "components": [{"type": "string"}, {"type": "uint256[]"}]}]
    data = "0x" + encode(types, values).hex()
    decoded = browser.do("eval", expression=f"""import('./js/abi.js').then(m => JSON.stringify(m.decodeParams({json.dumps(params)}, {json.dumps(data)}),
        (_, v) => typeof v === 'bigint' ? v.toString() : v))""")
    assert json.loads(decoded) == [str(2**64 - 1), ["0x" + "11" * 20, "0x" + "ab" * 20], "0x010203", "héllo",
                                   [["7", True], [str(2**255), False]], "-5", "0x" + "ff" * 32, ["nested", ["1", "2", "3"]]]
