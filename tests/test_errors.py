"""go-ethereum's wording of the transaction errors, each built by one constructor on its class
(wallets and libraries match these strings), and the errors that are also built-in exceptions."""

from __future__ import annotations

from sidechain.errors import (
    InitcodeTooLarge, InsufficientFunds, MissingTrieNode, SenderNotEoa, SidechainError, StorageError, TransactionFailed,
    WrongChainId,
)

SENDER = bytes.fromhex("a1" * 20)


def test_chain_id_and_initcode_name_the_other_value_when_it_is_known():
    assert str(WrongChainId.of(7070, 1)) == "invalid chain id: expected 7070, got 1"
    assert str(WrongChainId.of(7070)) == "invalid chain id: expected 7070"
    assert str(InitcodeTooLarge.of(49153, 49152)) == "max initcode size exceeded: code size 49153, limit 49152"
    assert str(InitcodeTooLarge.of(49153)) == "max initcode size exceeded: code size 49153"
    assert str(SenderNotEoa.of(SENDER)) == f"sender not an eoa: address 0x{'a1' * 20}"


def test_insufficient_funds_as_the_executor_the_pool_and_eth_call_word_it():
    assert str(InsufficientFunds.of(SENDER, 5, 9)) == (
        f"insufficient funds for gas * price + value: address 0x{'a1' * 20} have 5 want 9")
    assert str(InsufficientFunds.overdraft(100, 0, 130)) == (
        "insufficient funds for gas * price + value: balance 100, tx cost 130, overshot 30")
    assert str(InsufficientFunds.overdraft(100, 40, 70)) == (
        "insufficient funds for gas * price + value: balance 100, queued cost 40, tx cost 70, overshot 10")
    assert str(InsufficientFunds.for_transfer(SENDER, 1, 2)) == (
        f"insufficient funds for transfer: address 0x{'a1' * 20} have 1 want 2")


def test_errors_that_joined_the_tree_stay_catchable_as_the_built_ins_they_were():
    missing = MissingTrieNode(b"\x01" * 32)
    assert isinstance(missing, StorageError) and isinstance(missing, KeyError)
    assert str(missing) == f"trie node 0x{'01' * 32} is missing" and missing.node_hash == b"\x01" * 32
    assert isinstance(TransactionFailed("reverted"), SidechainError) and isinstance(TransactionFailed("x"), RuntimeError)
