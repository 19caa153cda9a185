"""A real sidechain range, checkpointed by hand on a real L1: the content that
`sidechain_getCheckpoint` serves, signed by the validator, lands in CheckpointManager, and
`verifyBlock` accepts a final sidechain block with the proof from `sidechain_getBlockProof` and
rejects a forged one. (Validators signing on the sidechain and the relayer come next.)"""

from __future__ import annotations

import pytest
from web3 import Web3

from sidechain.devtools.anvil import run_anvil
from sidechain.chain.checkpoint_signing import eip712_digest, sign_checkpoint
from bridge.relayer import checkpoint_from_rpc
from bridge.deploy import deploy_checkpoint_manager, send_transaction
from sidechain.crypto import private_key_to_address
from sidechain.devkeys import anvil_private_key

VALIDATOR_KEY = anvil_private_key(6)  # the one-validator devnet's validator (public dev key)
DEPLOYER_KEY = anvil_private_key(0)


def test_a_served_checkpoint_lands_on_l1_and_proves_sidechain_blocks(node):
    interval = 16
    node.wait_for_height(interval + 1)
    with pytest.raises(RuntimeError, match="-32001"):
        node.rpc("sidechain_getCheckpoint", ["0x64"])  # a range that is not final yet
    served = node.rpc("sidechain_getCheckpoint", ["0x1"])
    checkpoint = checkpoint_from_rpc(served)
    assert (checkpoint.start_block, checkpoint.end_block, checkpoint.sidechain_chain_id) == (1, interval, 7070)
    with run_anvil() as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        manager, _ = deploy_checkpoint_manager(w3, DEPLOYER_KEY, 7070, [private_key_to_address(VALIDATOR_KEY)], [1])
        signature = sign_checkpoint(eip712_digest(checkpoint, anvil.chain_id, manager.address), VALIDATOR_KEY)
        send_transaction(w3, manager.functions.submitCheckpoint(checkpoint.as_tuple(), signature, [], []), DEPLOYER_KEY)
        assert manager.functions.lastCheckpoint().call() == [1, interval]
        for number in (1, 7, interval):
            proof = node.rpc("sidechain_getBlockProof", [hex(number)])
            block_hash = node.rpc("eth_getBlockByNumber", [hex(number), False])["hash"]
            assert proof["blockHash"] == block_hash and proof["checkpointNumber"] == "0x1"
            siblings = [bytes.fromhex(p[2:]) for p in proof["proof"]]
            assert manager.functions.verifyBlock(1, number, bytes.fromhex(block_hash[2:]), siblings).call()
            forged = bytes.fromhex(block_hash[2:])[:-1] + bytes([bytes.fromhex(block_hash[2:])[-1] ^ 1])
            assert not manager.functions.verifyBlock(1, number, forged, siblings).call()
