"""What the chain holds is shown as text, never run: an L1 token whose name and symbol are HTML
markup is bridged, and the pages that print them (bridge, address, the minting transaction) show
the markup literally, create no element from it and run none of its script."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from bridge.deploy import contract_at
from bridge.root_bridge import deploy_test_token, deposit_erc20
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import rpc_call, wait_until

pytestmark = pytest.mark.e2e

KEY = anvil_private_key(2)
USER = Account.from_key(KEY)
NAME = '<img src=x onerror="window.__pwned=1">'
SYMBOL = "<b>PWN</b>"
AMOUNT = 7 * 10**18
UNTOUCHED = "window.__pwned === undefined && document.querySelectorAll('#view img, #view b, #view script').length === 0"


def test_markup_in_a_bridged_tokens_name_and_symbol_is_shown_as_text_and_never_run(devnet, browser):
    w3 = Web3(Web3.HTTPProvider(devnet.network["l1"]["rpc"]))
    bridge = contract_at(w3, "RootBridge", devnet.network["l1"]["contracts"]["rootBridge"])
    token, _ = deploy_test_token(w3, KEY, NAME, SYMBOL, 18, USER.address, 10**21)
    deposit_erc20(w3, bridge, KEY, token.address, USER.address, AMOUNT)

    def listed():
        tokens = rpc_call(devnet.rpc, "sidechain_getBridgeOverview")["tokens"]
        return next((t for t in tokens if t["l1Token"] == token.address.lower() and int(t["totalSupply"], 16) == AMOUNT), None)

    bridged = wait_until(listed, 90, "the hostile token minted on the sidechain")
    assert (bridged["name"], bridged["symbol"]) == (NAME, SYMBOL)  # the chain keeps the bytes as they are

    pages = {"#/bridge": f"{NAME} ({SYMBOL})", f"#/address/{USER.address.lower()}": f"{NAME} ({SYMBOL})"}
    for route, shown in pages.items():
        browser.goto(devnet.page(route))
        browser.loaded()
        assert shown in browser.text("#view"), f"{route} does not show the token's name and symbol as text"
        assert browser.do("eval", expression=UNTOUCHED) is True, f"{route} turned chain data into page elements"
    assert browser.errors() == []
