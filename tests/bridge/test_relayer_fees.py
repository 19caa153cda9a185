"""A submission priced below a risen base fee (refused, as anvil does, or left unmined, as geth does) is
sent again with bumped fees and the same nonce, and lands once."""

from __future__ import annotations

from web3 import Web3

from sidechain.devtools.anvil import run_anvil
from bridge.deploy import deploy_checkpoint_manager
from bridge.relayer import send_with_fee_bump
from sidechain.crypto import private_key_to_address
from sidechain.devkeys import anvil_private_key

KEY = anvil_private_key(0)


def test_a_submission_priced_below_a_risen_base_fee_is_sent_again_with_bumped_fees_and_mined_once():
    with run_anvil(extra_args=["--block-time", "1"]) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        manager, _ = deploy_checkpoint_manager(w3, KEY, 7070, [private_key_to_address(anvil_private_key(6))], [1])
        sender = Web3.to_checksum_address(private_key_to_address(KEY))
        nonce = w3.eth.get_transaction_count(sender)
        low_base = w3.eth.get_block("latest")["baseFeePerGas"]
        # The next block's base fee jumps far above the cap the first attempt will compute from the latest block.
        w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(low_base * 50)])
        call = manager.functions.validators()  # any call that estimates; a view works as a transaction too
        receipt, replacements = send_with_fee_bump(w3, call, KEY, wait=2.5)
        assert receipt["status"] == 1 and replacements >= 1
        assert w3.eth.get_transaction_count(sender) == nonce + 1, "exactly one transaction of that nonce was mined"
        mined = w3.eth.get_transaction(receipt["transactionHash"])
        assert mined["maxFeePerGas"] > 2 * low_base + 10**9
