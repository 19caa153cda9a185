"""The explorer's indexes through the real Blockchain on LevelDB: a transaction is found under its
sender, its recipient and the contract it creates, Transfer logs index their parties, a page never
splits a block, the bridge's mints and affirmations are recorded, and a database of the previous
schema is refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from sidechain.chain.blocks import Log, Receipt
from sidechain.chain.genesis import parse_genesis
from sidechain.chain.system.bridge import BRIDGE_ADDRESS, DEPOSIT_AFFIRMED_TOPIC, DEPOSIT_MINTED_TOPIC
from sidechain.chain.system.tokens import TRANSFER_TOPIC, token_address
from sidechain.chain.transactions import create_address, decode_transaction
from sidechain.errors import StorageError
from sidechain.storage import schema
from sidechain.storage.address_index import AddressIndex, TxLocation, parties, write_block
from sidechain.storage.blockchain import Blockchain
from sidechain.storage.store import ChainStore

CHAIN_ID = 7073
ALICE = Account.from_key("0x" + "81" * 32)
BOB = Account.from_key("0x" + "82" * 32)
CAROL = bytes.fromhex("83" * 20)
A = bytes.fromhex(ALICE.address[2:])
B = bytes.fromhex(BOB.address[2:])
PROPOSER = bytes.fromhex("aa" * 20)


def genesis():
    return parse_genesis({
        "chainId": CHAIN_ID, "timestamp": 1_700_000_000, "blockTimeMs": 1000, "gasLimit": 30_000_000,
        "baseFeePerGas": 10**9, "checkpointInterval": 16,
        "validators": [{"address": "0x" + PROPOSER.hex(), "power": 1}],
        "alloc": {ALICE.address: {"balance": str(10**21)}, BOB.address: {"balance": str(10**21)}},
    })


class Signer:
    def __init__(self) -> None:
        self.nonces: dict[str, int] = {}

    def tx(self, account, to: bytes | None, value: int = 1, data: bytes = b""):
        nonce = self.nonces.get(account.address, 0)
        self.nonces[account.address] = nonce + 1
        raw = account.sign_transaction({"to": to_checksum_address(to) if to else None, "value": value, "data": data,
                                        "gas": 100_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 0,
                                        "nonce": nonce, "chainId": CHAIN_ID, "type": 2}).raw_transaction
        return decode_transaction(bytes(raw), CHAIN_ID)


def commit(chain: Blockchain, txs) -> int:
    executed = chain.build_block(PROPOSER, chain.head.timestamp + 1, txs)
    assert len(executed.block.transactions) == len(txs), executed.result.rejected
    chain.commit(executed, b"")
    return executed.block.number


def test_sender_recipient_and_created_contract_are_indexed_and_survive_a_reopen(tmp_path):
    chain = Blockchain.open(tmp_path, genesis())
    signer = Signer()
    first = commit(chain, [signer.tx(ALICE, B), signer.tx(ALICE, CAROL)])
    creation = signer.tx(BOB, None, 0, data=b"\x00")  # initcode STOP: an empty contract
    second = commit(chain, [creation])
    third = commit(chain, [signer.tx(BOB, A)])
    chain.close()

    chain = Blockchain.open(tmp_path, genesis())
    index = AddressIndex(chain.store.db)
    everything = (0, chain.head.number)
    assert index.page(A, *everything, 10, newest_first=True) == ([TxLocation(third, 0), TxLocation(first, 1),
                                                                  TxLocation(first, 0)], True)
    assert index.page(B, *everything, 10, newest_first=False)[0] == [TxLocation(first, 0), TxLocation(second, 0),
                                                                     TxLocation(third, 0)]
    assert index.page(CAROL, *everything, 10, newest_first=True)[0] == [TxLocation(first, 1)]
    assert index.page(create_address(B, 0), *everything, 10, newest_first=True)[0] == [TxLocation(second, 0)]
    assert index.any_in(A, third, third) and not index.any_in(A, second, second)
    assert index.page(PROPOSER, *everything, 10, newest_first=True) == ([], True)  # fees alone touch nothing
    chain.close()


def test_a_page_ends_with_the_whole_block_where_it_filled_up(tmp_path):
    chain = Blockchain.open(tmp_path, genesis())
    signer = Signer()
    numbers = [commit(chain, [signer.tx(ALICE, B) for _ in range(n)]) for n in (2, 3, 1)]  # blocks 1, 2, 3
    index = AddressIndex(chain.store.db)

    page, done = index.page(B, 0, chain.head.number, 2, newest_first=True)
    assert [p.number for p in page] == [numbers[2], numbers[1], numbers[1], numbers[1]] and not done
    page, done = index.page(B, 0, numbers[1] - 1, 2, newest_first=True)
    assert [(p.number, p.index) for p in page] == [(1, 1), (1, 0)] and done
    page, done = index.page(B, 0, chain.head.number, 2, newest_first=False)
    assert [p.number for p in page] == [1, 1] and not done
    page, done = index.page(B, 2, 2, 1, newest_first=False)
    assert [p.index for p in page] == [0, 1, 2] and done
    chain.close()


def _topic(address: bytes) -> bytes:
    return address.rjust(32, b"\x00")


def _receipt(*logs: Log) -> Receipt:
    return Receipt(2, 1, 21_000, tuple(logs), 21_000, 10**9)


def test_transfer_and_mint_logs_index_their_parties_and_the_bridge_records_tokens_and_affirmations():
    l1_token, recipient = bytes.fromhex("77" * 20), bytes.fromhex("99" * 20)
    tx = SimpleNamespace(sender=A, to=BRIDGE_ADDRESS, nonce=0)
    token = token_address(l1_token)
    receipts = [_receipt(
        Log(BRIDGE_ADDRESS, (DEPOSIT_AFFIRMED_TOPIC, (7).to_bytes(32, "big"), _topic(A)), b""),
        Log(token, (TRANSFER_TOPIC, bytes(32), _topic(recipient)), (5).to_bytes(32, "big")),  # ERC-20 mint
        Log(BRIDGE_ADDRESS, (DEPOSIT_MINTED_TOPIC, (7).to_bytes(32, "big"), _topic(l1_token), _topic(recipient)), b""),
        Log(B, (TRANSFER_TOPIC, _topic(CAROL), _topic(B), (1).to_bytes(32, "big")), b""),  # ERC-721
        Log(B, (TRANSFER_TOPIC, b"\x01" * 32, _topic(CAROL)), b""),  # topic 1 holds no address: skipped
    )]
    block = SimpleNamespace(number=12, transactions=[tx])
    assert parties(tx, receipts[0]) == {A, BRIDGE_ADDRESS, recipient, CAROL, B}

    db, batch = {}, {}
    write_block(db, SimpleNamespace(put=batch.__setitem__), block, receipts)
    assert batch[schema.bridged_token_key(l1_token)] == token
    assert batch[schema.HIGHEST_AFFIRMED_DEPOSIT_KEY] == (7).to_bytes(8, "big")
    assert schema.address_tx_key(recipient, 12, 0) in batch and schema.address_tx_key(bytes(20), 12, 0) not in batch

    # a lower id affirmed later does not move the highest back
    db, batch = {schema.HIGHEST_AFFIRMED_DEPOSIT_KEY: (9).to_bytes(8, "big")}, {}
    write_block(db, SimpleNamespace(put=batch.__setitem__), block, receipts)
    assert schema.HIGHEST_AFFIRMED_DEPOSIT_KEY not in batch


def test_a_database_of_the_previous_schema_is_refused(tmp_path):
    store = ChainStore(tmp_path, CHAIN_ID)
    store.db.put(schema.SCHEMA_VERSION_KEY, str(schema.SCHEMA_VERSION - 1).encode())
    store.close()
    with pytest.raises(StorageError, match=f"expected {schema.SCHEMA_VERSION}, got {schema.SCHEMA_VERSION - 1}"):
        ChainStore(tmp_path, CHAIN_ID)
