"""The driver with one validator, on a real LevelDB store: blocks commit with a valid certificate,
and a restart from the write-ahead log neither double-signs nor loses the height."""

import asyncio
import logging
import time

import pytest
from waiting import wait_for
from eth_account import Account

from sidechain.chain.genesis import parse_genesis
from sidechain.consensus.driver import ConsensusDriver
from sidechain.consensus.timeouts import Timeouts
from sidechain.consensus.messages import CommitCertificate, Step, ValidatorSet
from sidechain.consensus.signer import DoubleSignRefused, Signer
from sidechain.consensus.wal import WriteAheadLog
from sidechain.crypto import private_key_to_address
from sidechain.mempool.pool import Mempool
from sidechain.storage.blockchain import Blockchain

CHAIN_ID = 7070
VALIDATOR_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
USER = Account.from_key("0x" + "11" * 32)
VALIDATOR = private_key_to_address(VALIDATOR_KEY)


def genesis():
    return parse_genesis({
        "chainId": CHAIN_ID, "blockTimeMs": 50, "gasLimit": 30_000_000, "baseFeePerGas": "1000000000",
        "checkpointInterval": 16, "validators": [{"address": "0x" + VALIDATOR.hex(), "power": 1}],
        "alloc": {USER.address: {"balance": str(10**21)}},
    })


def make_driver(tmp_path, chain):
    signer = Signer(VALIDATOR_KEY, CHAIN_ID, tmp_path / "signer.json")
    mempool = Mempool()
    driver = ConsensusDriver(chain, mempool, signer, WriteAheadLog(tmp_path / "wal", CHAIN_ID),
                             timeouts=Timeouts(propose=0.2, vote=0.1, delta=0.1), block_time=0.05)
    return driver, mempool


def test_single_validator_commits_blocks_with_verifiable_certificates(tmp_path):
    chain = Blockchain.open(tmp_path, genesis())
    driver, mempool = make_driver(tmp_path, chain)
    raw = USER.sign_transaction({"to": "0x" + "22" * 20, "value": 7, "gas": 21000, "maxFeePerGas": 2 * 10**9,
                                 "maxPriorityFeePerGas": 10**9, "nonce": 0, "chainId": CHAIN_ID, "type": 2}).raw_transaction
    from sidechain.chain.transactions import decode_transaction

    tx = decode_transaction(bytes(raw), CHAIN_ID)

    async def scenario():
        mempool.add(tx, chain.store, chain.next_base_fee(), time.time())
        driver.start()
        await wait_for(lambda: chain.height >= 3)
        driver.stop()

    asyncio.run(scenario())
    validators = ValidatorSet.from_genesis(chain.genesis.validators)
    for number in range(1, chain.height + 1):
        block = chain.block_by_number(number)
        cert = CommitCertificate.decode(chain.store.get_certificate(block.hash))
        cert.verify(CHAIN_ID, validators, number, block.hash)
        assert block.header.proposer == VALIDATOR
    assert chain.transaction_location(tx.hash) is not None
    assert chain.state().get_account(b"\x22" * 20).balance == 7
    assert len(mempool) == 0
    chain.close()


def test_restart_resumes_the_height_without_double_signing(tmp_path):
    chain = Blockchain.open(tmp_path, genesis())
    driver, _ = make_driver(tmp_path, chain)

    async def run_until(height):
        driver.start()
        await wait_for(lambda: chain.height >= height)
        driver.stop()

    asyncio.run(run_until(2))
    head_before = chain.height
    chain.close()
    # Reopen everything from disk, as after a crash: the signer remembers what it signed.
    chain = Blockchain.open(tmp_path, genesis())
    assert chain.height == head_before
    driver, _ = make_driver(tmp_path, chain)
    asyncio.run(run_until(head_before + 2))
    assert chain.height >= head_before + 2
    signer = Signer(VALIDATOR_KEY, CHAIN_ID, tmp_path / "signer.json")
    h, r, s = signer.last_signed
    assert h >= chain.height
    with pytest.raises(DoubleSignRefused):
        signer.sign_vote(Step.PREVOTE, 1, 0, b"\x01" * 32)
    chain.close()


def test_signer_refuses_a_second_value_at_the_same_height_round_and_step(tmp_path):
    signer = Signer(VALIDATOR_KEY, CHAIN_ID, tmp_path / "s.json")
    first = signer.sign_vote(Step.PRECOMMIT, 5, 0, b"\xaa" * 32)
    assert signer.sign_vote(Step.PRECOMMIT, 5, 0, b"\xaa" * 32) == first
    with pytest.raises(DoubleSignRefused):
        signer.sign_vote(Step.PRECOMMIT, 5, 0, b"\xbb" * 32)
    reopened = Signer(VALIDATOR_KEY, CHAIN_ID, tmp_path / "s.json")
    with pytest.raises(DoubleSignRefused):
        reopened.sign_vote(Step.PRECOMMIT, 5, 0, b"\xbb" * 32)
    with pytest.raises(DoubleSignRefused):
        reopened.sign_vote(Step.PREVOTE, 5, 0, b"\xaa" * 32)


def test_a_crash_between_precommit_and_commit_commits_the_same_block_after_restart(tmp_path, caplog):
    chain = Blockchain.open(tmp_path, genesis())
    driver, _ = make_driver(tmp_path, chain)
    real_commit = chain.commit
    doomed = {}

    def crash_at_height_2(executed, certificate):
        if executed.block.number == 2:
            doomed["hash"] = executed.block.hash
            driver.stop()  # the process dies here: WAL and signer state are on disk, the block is not
            raise KeyboardInterrupt
        real_commit(executed, certificate)

    chain.commit = crash_at_height_2

    async def run():
        driver.start()
        await wait_for(lambda: "hash" in doomed)

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda loop, context: None)
    try:
        loop.run_until_complete(run())
    except KeyboardInterrupt:
        pass
    finally:
        loop.close()
    assert chain.height == 1
    chain.close()

    chain = Blockchain.open(tmp_path, genesis())
    driver, mempool = make_driver(tmp_path, chain)
    # A fresh proposal would now include this transaction; the replayed height must not.
    from sidechain.chain.transactions import decode_transaction

    raw = USER.sign_transaction({"to": "0x" + "22" * 20, "value": 7, "gas": 21000, "maxFeePerGas": 2 * 10**9,
                                 "maxPriorityFeePerGas": 10**9, "nonce": 0, "chainId": CHAIN_ID, "type": 2}).raw_transaction
    tx = decode_transaction(bytes(raw), CHAIN_ID)
    mempool.add(tx, chain.store, chain.next_base_fee(), time.time())

    async def resume():
        driver.start()
        await wait_for(lambda: chain.height >= 3)
        driver.stop()

    caplog.set_level(logging.INFO, logger="sidechain.consensus")
    asyncio.run(resume())
    # Replaying the WAL re-derives votes the signer already signed past: refused quietly, not as errors.
    assert not [r.getMessage() for r in caplog.records if r.name == "sidechain.consensus" and r.levelno >= logging.ERROR]
    assert chain.block_by_number(2).hash == doomed["hash"]
    assert chain.block_by_number(2).transactions == ()
    assert chain.transaction_location(tx.hash)[0] >= 3
    chain.close()
