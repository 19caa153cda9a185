"""Contract storage through the real Blockchain on LevelDB: storage tries under the accounts'
storage roots, flat head reads equal to trie reads, history, a re-executing follower reaching the
same state roots, a reopened database, and the validator set switching at a checkpoint boundary."""

from __future__ import annotations

import rlp
from eth_abi import encode
from eth_account import Account
from eth_utils import to_checksum_address

from sidechain.chain.genesis import parse_genesis
from sidechain.chain.system import VALIDATOR_SET_ADDRESS
from sidechain.chain.system.validator_set import checkpoint_set, current_set, pending_set
from sidechain.chain.transactions import decode_transaction
from sidechain.chain.trie import MerkleTrie, account_trie_key, storage_trie_key
from sidechain.chain.trie_proof import verify_proof
from sidechain.crypto import keccak256
from sidechain.storage.blockchain import Blockchain

CHAIN_ID = 7072
INTERVAL = 4
VALIDATOR = Account.from_key("0x" + "71" * 32)
NEWCOMER = Account.from_key("0x" + "72" * 32)
V = bytes.fromhex(VALIDATOR.address[2:])
N = bytes.fromhex(NEWCOMER.address[2:])


def genesis():
    return parse_genesis({
        "chainId": CHAIN_ID, "timestamp": 1_700_000_000, "blockTimeMs": 1000, "gasLimit": 30_000_000,
        "baseFeePerGas": 10**9, "checkpointInterval": INTERVAL,
        "validators": [{"address": VALIDATOR.address, "power": 1}],
        "alloc": {VALIDATOR.address: {"balance": str(10**21)}},
    })


def vote_add(nonce: int):
    data = keccak256(b"voteAddValidator(address,uint64)")[:4] + encode(["address", "uint64"], [NEWCOMER.address, 1])
    raw = VALIDATOR.sign_transaction({"to": to_checksum_address(VALIDATOR_SET_ADDRESS), "value": 0, "data": data,
                                      "gas": 500_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 0, "nonce": nonce,
                                      "chainId": CHAIN_ID, "type": 2}).raw_transaction
    return decode_transaction(bytes(raw), CHAIN_ID)


def grow(chain: Blockchain, blocks: int, first_txs=()) -> list:
    made = []
    for i in range(blocks):
        executed = chain.build_block(V, chain.head.timestamp + 1, list(first_txs) if i == 0 else [])
        chain.commit(executed, b"")
        made.append(executed.block)
    return made


def test_storage_is_committed_hashed_and_readable_at_the_head_and_in_history(tmp_path):
    chain = Blockchain.open(tmp_path / "a", genesis())
    blocks = grow(chain, INTERVAL + 1, [vote_add(0)])
    assert blocks[0].transactions and chain.receipts(blocks[0].hash)[0].status == 1

    # The vote passed in block 1 (one validator is all the power) and the set switched after block 4.
    assert pending_set(chain.state(1)).addresses == (V, N)
    assert current_set(chain.state(3)).addresses == (V,)
    assert current_set(chain.state()).addresses == (V, N)
    assert chain.validators_at(INTERVAL).addresses == (V,)
    assert chain.validators_at(INTERVAL + 1).addresses == (V, N)
    assert checkpoint_set(chain.state(), 1).addresses == (V,)

    # Head reads (flat keys) and trie reads agree, and the storage root is proven from the state root.
    account = chain.state().get_account(VALIDATOR_SET_ADDRESS)
    assert chain.state(INTERVAL + 1).get_account(VALIDATOR_SET_ADDRESS) == account
    trie = chain.state_trie()
    proof = trie.proof(account_trie_key(VALIDATOR_SET_ADDRESS))
    assert rlp.decode(verify_proof(chain.head.state_root, account_trie_key(VALIDATOR_SET_ADDRESS), proof))[2] == account.storage_root
    storage = MerkleTrie(account.storage_root, trie.load_node)
    from sidechain.chain.system.validator_set import SET_ID_KEY
    assert rlp.decode(storage.get(storage_trie_key(SET_ID_KEY))) == chain.state().get_storage(VALIDATOR_SET_ADDRESS, SET_ID_KEY) == b"\x02"
    assert chain.state(3).get_storage(VALIDATOR_SET_ADDRESS, SET_ID_KEY) == b"\x01"

    # A follower re-executing the same blocks reaches the same roots; a reopened database keeps it all.
    follower = Blockchain.open(tmp_path / "b", genesis())
    for block in blocks:
        executed = follower.execute_block(block)
        follower.commit(executed, b"")
        assert follower.head.state_root == block.header.state_root
    head_root = chain.head.state_root
    chain.close()
    reopened = Blockchain.open(tmp_path / "a", genesis())
    assert reopened.head.state_root == head_root
    assert current_set(reopened.state()).addresses == (V, N)
    assert reopened.validators_at(INTERVAL + 2).addresses == (V, N)
