"""The system contracts over JSON-RPC: eth_call and eth_estimateGas run the code blocks execute,
reverts carry their reason, and eth_getCode / eth_getStorageAt / eth_getProof read contract state
as they do on Ethereum."""

from __future__ import annotations

import rlp
from eth_abi import decode, encode
from rpc_support import PROPOSER, RICH, h, hexaddr
from trie import HexaryTrie

from sidechain.chain.contracts import runtime_code
from sidechain.chain.system import VALIDATOR_SET_ADDRESS
from sidechain.crypto import keccak256


def test_calls_run_the_system_contracts_and_reverts_carry_the_reason(devnet, client):
    validator_set = h(VALIDATOR_SET_ADDRESS)
    assert client("eth_getCode", validator_set, "latest") == h(runtime_code("ValidatorSet"))
    output = client("eth_call", {"to": validator_set, "input": h(keccak256(b"validators()")[:4])})
    assert decode(["address[]", "uint256[]"], bytes.fromhex(output[2:])) == (("0x" + PROPOSER.hex(),), (1,))
    vote = keccak256(b"voteRemoveValidator(address)")[:4] + encode(["address"], [PROPOSER])
    error = client.error("eth_estimateGas", {"from": hexaddr("A"), "to": validator_set, "input": h(vote)})
    assert error["code"] == 3
    assert error["message"].startswith("execution reverted: only a validator may vote")
    assert decode(["string"], bytes.fromhex(error["data"][10:]))[0] in error["message"]
    # A view that reads one slot costs its intrinsic gas and a cold read, not a block's worth.
    ok = keccak256(b"validatorSetId()")[:4]
    assert 21_000 + 4 * 16 + 2_100 < int(client("eth_estimateGas", {"to": validator_set, "input": h(ok)}), 16) < 30_000


def test_storage_reads_and_proofs_of_a_system_contract_verify_against_the_state_root(devnet, client):
    from sidechain.chain.system.validator_set import SET_ID_KEY as set_id_key

    address = h(VALIDATOR_SET_ADDRESS)
    assert client("eth_getStorageAt", address, h(set_id_key), "latest") == "0x" + "00" * 31 + "01"
    proof = client("eth_getProof", address, [h(set_id_key)], "latest")
    root = devnet.chain.head.state_root
    account = rlp.decode(HexaryTrie.get_from_proof(root, keccak256(VALIDATOR_SET_ADDRESS),
                                                   [rlp.decode(bytes.fromhex(p[2:])) for p in proof["accountProof"]]))
    assert "0x" + account[2].hex() == proof["storageHash"]
    [entry] = proof["storageProof"]
    assert entry["value"] == "0x1"
    stored = HexaryTrie.get_from_proof(account[2], keccak256(set_id_key), [rlp.decode(bytes.fromhex(p[2:])) for p in entry["proof"]])
    assert rlp.decode(stored) == b"\x01"


def test_bridge_totals_name_the_genesis_supply_for_ether_only(client):
    # the RPC devnet's genesis funds A and B with RICH each: that is what RootBridge locked for it
    ether = client("sidechain_getBridgeTotals", "0x" + "00" * 20)
    assert (ether["minted"], ether["burned"], ether["genesisSupply"], ether["sidechainToken"]) == ("0x0", "0x0", hex(2 * RICH), None)
    token = client("sidechain_getBridgeTotals", "0x" + "77" * 20)
    assert token["genesisSupply"] == "0x0" and token["sidechainToken"] is None
