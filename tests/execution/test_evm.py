"""The EVM inside block execution, on hand-assembled bytecode (no compiler): contract creation with
its code and storage committed and hashed as Ethereum hashes them, calls reading and writing
storage, reverts and halts that keep the gas and drop the writes, BLOCKHASH through the chain,
system calls interleaved with EVM transactions, and hostile code (endless loops, memory bombs,
deep recursion) bounded by gas. The exact gas and results of a wider corpus are checked against
anvil in tests/evm."""

from __future__ import annotations

import threading
import time

import pytest
import rlp
from eth_account import Account
from eth_utils import to_checksum_address
from trie import HexaryTrie

from sidechain.chain.execution import BlockEnv
from sidechain.chain.genesis import parse_genesis
from sidechain.chain.state import EMPTY_CODE_HASH, Account as StateAccount, MemoryState
from sidechain.chain.transactions import create_address, decode_transaction
from sidechain.chain.trie import account_trie_key
from sidechain.crypto import keccak256
from sidechain.errors import EvmFailure, NonceTooHigh
from sidechain.execution.block import execute_transactions
from sidechain.execution.calls import halt_message
from sidechain.execution.evm import EvmCall, EvmEnv, simulate
from sidechain.storage.blockchain import Blockchain

CHAIN_ID = 7073
GWEI = 10**9
USER = Account.from_key("0x" + "51" * 32)
SENDER = bytes.fromhex(USER.address[2:])
PROPOSER = b"\x9a" * 20
ENV = BlockEnv(CHAIN_ID, 7, 1_700_000_000, PROPOSER, GWEI, 30_000_000)

RETURN_SLOT0 = bytes.fromhex("60005460005260206000f3")
"""Runtime: return SLOAD(0) as one word."""
STORE_42_AND_DEPLOY = bytes.fromhex("602a600055" "600b6011600039" "600b6000f3") + RETURN_SLOT0
"""Initcode: SSTORE(0, 42), then CODECOPY the 11-byte runtime that follows and RETURN it."""
WRITE_THEN_REVERT = bytes.fromhex("6001600155" "60006000fd")
"""SSTORE(1, 1) then REVERT(0, 0)."""
ENDLESS_LOOP = bytes.fromhex("5b600056")
MEMORY_BOMB = bytes.fromhex("600163ffffffff52")
"""MSTORE(0xffffffff, 1): ~2^32 bytes of memory."""
RECURSE = bytes.fromhex("6000600060006000600030" "5af1" "00")
"""CALL(gas, ADDRESS, 0, 0, 0, 0, 0): calls itself until the depth limit or the gas runs out."""
BLOCKHASH_5 = bytes.fromhex("600540" "60005260206000f3")


def signed(nonce: int, to: bytes | None, data: bytes = b"", gas: int = 300_000, value: int = 0):
    fields = {"chainId": CHAIN_ID, "nonce": nonce, "gas": gas, "value": value, "data": data, "type": 2,
              "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI}
    if to is not None:
        fields["to"] = to_checksum_address(to)
    return decode_transaction(bytes(USER.sign_transaction(fields).raw_transaction), CHAIN_ID)


def with_contracts(**codes: bytes) -> tuple[MemoryState, dict[str, bytes]]:
    """A funded USER and one contract per keyword, at addresses 0xc1.., 0xc2.., ..."""
    state = MemoryState({SENDER: StateAccount(0, 10**20)})
    addresses = {}
    for i, (name, code) in enumerate(codes.items(), start=1):
        address = bytes([0xC0 + i]) * 20
        state.accounts[address] = StateAccount(1, 0, code_hash=keccak256(code))
        state.code[keccak256(code)] = code
        addresses[name] = address
    return state, addresses


def test_creation_deploys_code_and_storage_at_the_derived_address():
    state, _ = with_contracts()
    result = execute_transactions(state, ENV, [signed(0, None, STORE_42_AND_DEPLOY)], skip_invalid=False)

    contract = create_address(SENDER, 0)
    assert result.contract_addresses == (contract,) and result.receipts[0].status == 1
    account = result.changes[contract]
    assert account.nonce == 1 and account.code_hash == keccak256(RETURN_SLOT0)  # EIP-161: contracts start at nonce 1
    assert result.code == {keccak256(RETURN_SLOT0): RETURN_SLOT0}
    assert result.storage == {contract: {bytes(32): b"\x2a"}}
    assert result.changes[SENDER].nonce == 1


def test_a_call_sees_the_storage_an_earlier_transaction_of_the_block_wrote():
    state, _ = with_contracts()
    contract = create_address(SENDER, 0)
    deploy, read = signed(0, None, STORE_42_AND_DEPLOY), signed(1, contract)
    result = execute_transactions(state, ENV, [deploy, read], skip_invalid=False)
    assert [r.status for r in result.receipts] == [1, 1]
    # a plain call of 21,000 + SLOAD (warm after the creation? no: a new transaction, cold) 2,100 + the rest
    assert result.receipts[1].gas_used > 21_000 + 2_100


def test_revert_keeps_the_gas_and_drops_the_writes():
    state, at = with_contracts(reverter=WRITE_THEN_REVERT)
    result = execute_transactions(state, ENV, [signed(0, at["reverter"], gas=100_000)], skip_invalid=False)
    (receipt,) = result.receipts
    assert receipt.status == 0 and 21_000 < receipt.gas_used < 100_000
    assert at["reverter"] not in result.storage and at["reverter"] not in result.changes
    fee = receipt.gas_used * (ENV.base_fee + GWEI)
    assert result.changes[SENDER] == StateAccount(1, 10**20 - fee)


@pytest.mark.parametrize("code", [ENDLESS_LOOP, MEMORY_BOMB], ids=["endless loop", "memory bomb"])
def test_hostile_code_is_bounded_by_its_gas(code):
    state, at = with_contracts(hostile=code)
    result = execute_transactions(state, ENV, [signed(0, at["hostile"], gas=1_000_000)], skip_invalid=False)
    (receipt,) = result.receipts
    assert receipt.status == 0 and receipt.gas_used == 1_000_000  # an exceptional halt spends all the gas


def test_deep_recursion_stops_at_the_limits_without_harm():
    state, at = with_contracts(recurse=RECURSE)
    result = execute_transactions(state, ENV, [signed(0, at["recurse"], gas=10_000_000)], skip_invalid=False)
    assert result.receipts[0].status == 1  # the innermost call fails, every outer one goes on and stops


def test_blockhash_reads_the_chain_through_the_environment():
    state, at = with_contracts(reader=BLOCKHASH_5)
    asked = []
    env = BlockEnv(CHAIN_ID, 7, 1_700_000_000, PROPOSER, GWEI, 30_000_000, block_hash=lambda n: asked.append(n) or bytes([n]) * 32)
    result = execute_transactions(state, env, [signed(0, at["reader"])], skip_invalid=False)
    assert result.receipts[0].status == 1 and asked == [5]


def test_an_invalid_transaction_after_valid_ones_is_left_out_when_proposing():
    state, at = with_contracts(reader=RETURN_SLOT0)
    txs = [signed(0, at["reader"]), signed(5, at["reader"]), signed(1, at["reader"])]
    result = execute_transactions(state, ENV, txs, skip_invalid=True)
    assert [tx.nonce for tx in result.transactions] == [0, 1]
    ((left_out, reason),) = result.rejected
    assert left_out.nonce == 5 and isinstance(reason, NonceTooHigh) and "next nonce 1, tx nonce 5" in str(reason)


class _BrokenState(MemoryState):
    def get_storage(self, address: bytes, key: bytes) -> bytes:
        return b"\x01" * 33  # no EVM word is this wide: a broken database


def test_a_broken_state_answer_raises_instead_of_crashing():
    state, at = with_contracts(reader=RETURN_SLOT0)
    broken = _BrokenState(state.accounts, state.storage, state.code)
    with pytest.raises(EvmFailure, match="storage value: expected at most 32 bytes, got 33"):
        execute_transactions(broken, ENV, [signed(0, at["reader"])], skip_invalid=False)


def test_storage_and_state_roots_are_ethereums(tmp_path):
    genesis = parse_genesis({
        "chainId": CHAIN_ID, "timestamp": 1_700_000_000, "blockTimeMs": 1000, "gasLimit": 30_000_000,
        "baseFeePerGas": GWEI, "checkpointInterval": 16, "validators": [{"address": to_checksum_address(PROPOSER), "power": 1}],
        "alloc": {USER.address: {"balance": str(10**21)}},
    })
    chain = Blockchain.open(tmp_path, genesis)
    executed = chain.build_block(PROPOSER, genesis.timestamp + 1, [signed(0, None, STORE_42_AND_DEPLOY)])
    chain.commit(executed, b"")
    contract = create_address(SENDER, 0)

    # The storage trie, built independently: keccak(slot) -> rlp(the word without leading zeros).
    expected_storage = HexaryTrie({})
    expected_storage[keccak256(bytes(32))] = rlp.encode(b"\x2a")
    account = chain.state().get_account(contract)
    assert account.storage_root == expected_storage.root_hash
    assert chain.state().get_code(account.code_hash) == RETURN_SLOT0
    leaf = chain.state_trie().get(account_trie_key(contract))
    assert rlp.decode(leaf) == [b"\x01", b"", expected_storage.root_hash, keccak256(RETURN_SLOT0)]

    # History reads the same through the tries; the reopened store too.
    assert chain.state(1).get_account(contract) == account
    chain.close()
    reopened = Blockchain.open(tmp_path, genesis)
    assert reopened.state().get_code(account.code_hash) == RETURN_SLOT0
    assert reopened.state().get_code(EMPTY_CODE_HASH) == b""
    reopened.close()


def test_an_eth_call_past_its_deadline_halts_with_timeout():
    state, at = with_contracts(loop=ENDLESS_LOOP)
    env = EvmEnv(CHAIN_ID, 7, 1_700_000_000, PROPOSER, GWEI, 30_000_000, lambda n: bytes(32))
    message = EvmCall(SENDER, at["loop"], 50_000_000)
    assert simulate(state, env, message).halt.startswith("OutOfGas")  # the gas runs out first
    stopped = simulate(state, env, message, deadline_ms=0)
    assert not stopped.success and stopped.halt == "Timeout"
    assert halt_message(stopped.halt) == "execution aborted (timeout = 5s)"


def test_an_eth_call_computes_without_holding_the_gil():
    # Long calls on a worker thread must leave the node's event loop running. Measured as how much
    # of the calls' time the main thread spent stalled (pauses over 5 ms): holding the GIL, that is
    # all of it; released, next to nothing.
    state, at = with_contracts(loop=ENDLESS_LOOP)
    env = EvmEnv(CHAIN_ID, 7, 1_700_000_000, PROPOSER, GWEI, 30_000_000, lambda n: bytes(32))
    durations: list[float] = []

    def calls() -> None:
        for _ in range(8):
            started = time.perf_counter()
            assert simulate(state, env, EvmCall(SENDER, at["loop"], 50_000_000)).halt.startswith("OutOfGas")
            durations.append(time.perf_counter() - started)

    worker = threading.Thread(target=calls)
    last, stalled = time.perf_counter(), 0.0
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        if now - last > 0.005:
            stalled += now - last
        last = now
    worker.join()
    assert len(durations) == 8
    assert stalled < sum(durations) / 2, (stalled, sum(durations))
