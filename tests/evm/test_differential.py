"""Differential test of the EVM: the Solidity corpus of tests/evm/contracts runs on anvil (Cancun)
and on a single-validator sidechain node, as the same pre-signed transactions from one fresh
account, so every contract lands at the same address on both. Per transaction the receipts (status,
gas used, contract address, logs), the eth_call replies (output, or error code and revert data) and
the state of every account the transaction touched (code, balance, nonce, storage root, slots) must
be equal. Block context (number, timestamp, coinbase, base fee, gas price, block hashes) legitimately
differs: only the chain id of it is compared. Transactions go one at a time (each waits for its
receipt on both chains), except the last group's, which are submitted together so the sidechain puts
several in one block. Besides the comparison, the reference must do what Ethereum's rules say
(`ok=False` marks the transactions and calls that must fail; `expect_word` the values that are known).

DIFF_TARGET=anvil runs the same corpus against a second anvil instead of the sidechain (started at
another height, timestamp, base fee and coinbase), which checks the harness itself.

    .venv/bin/python -m pytest tests/evm -x -q
"""

from __future__ import annotations

import hashlib
import os
import signal
from contextlib import ExitStack

import pytest
from eth_abi import decode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from py_ecc.bn128 import G1, G2, neg

from sidechain.devtools.anvil import run_anvil
from evm_support import (CHAIN_ID, Chain, Differ, Fatal, RunningNode, Sender, compiled_corpus, create2_address,
                         create_address, fund, rpc)
from sidechain.devkeys import anvil_private_key

pytestmark = pytest.mark.e2e

TARGET = os.environ.get("DIFF_TARGET", "sidechain")
ANVIL_ARGS = ["--hardfork", "cancun"]
OTHER_ANVIL_ARGS = ["--number", "1000", "--timestamp", "1700000000", "--base-fee", "3000000000"]
ETH = 10**18
SENDER_KEY = keccak(b"sidechain EVM differential corpus: sender")
"""A key no genesis funds: its nonces, hence the contract addresses, start at 0 on both chains."""


def someone(name: str) -> str:
    """A fresh address, untouched on both chains until the corpus pays it."""
    return to_checksum_address(keccak(name.encode())[12:])


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def slot(i: int) -> str:
    return "0x" + word(i).hex()


def expect_word(d: Differ, target: str, fn: str, value: int) -> None:
    """eth_call of a view on both chains, whose first word must be `value` on the reference too."""
    result = d.call(target, fn)
    d.expect(f"call {target}.{fn}()", result.get("result", "")[2:66] == word(value).hex(), f"{value}, got {result}")


class _Node(RunningNode):
    """A RunningNode that kills its process when it does not come up, so nothing outlives the test."""

    def start(self) -> None:
        try:
            super().start()
        except BaseException:
            _shutdown(self)
            raise


def _shutdown(node: RunningNode) -> None:
    if node.node.process is not None and node.node.process.poll() is None:
        try:
            os.killpg(node.node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.node.process.wait(timeout=10)


@pytest.fixture
def chains(tmp_path):
    with ExitStack() as stack:
        reference = stack.enter_context(run_anvil(CHAIN_ID, extra_args=ANVIL_ARGS, log_dir=tmp_path))
        if TARGET == "anvil":
            other = stack.enter_context(run_anvil(CHAIN_ID, extra_args=ANVIL_ARGS + OTHER_ANVIL_ARGS, log_dir=tmp_path))
            rpc(other.url, "anvil_setCoinbase", [someone("the other anvil's coinbase")])
            target, log = Chain("anvil-2", other.url, exact_storage_hash=False), other.log_path
        elif TARGET == "sidechain":
            node = _Node(tmp_path / "net")
            stack.callback(_shutdown, node)
            target, log = Chain("sidechain", node.url), node.node.log_path
        else:
            raise pytest.UsageError(f"DIFF_TARGET: expected 'sidechain' or 'anvil', got {TARGET!r}")
        yield Chain("anvil", reference.url, exact_storage_hash=False), target, f"\nlogs: {reference.log_path} {log}"


# --- the corpus, group by group ------------------------------------------------------------------------


def storage_and_events(d: Differ) -> None:
    d.deploy("storage", "SimpleStorage")
    d.send("storage", "set", 42)
    d.send("storage", "set", 7)
    d.send("storage", "setNote", "a note longer than one storage word, so it spills into keccak slots")
    address = d.instances["storage"][0]
    d.send("storage", "set", 9, access_list=[{"address": address, "storageKeys": [slot(0)]}])
    d.call("storage", "get")
    d.call("storage", "note")
    d.call("storage", "setsBy", d.sender.address)


def erc20(d: Differ) -> None:
    d.deploy("token", "CorpusToken", 10**24)
    d.send("token", "transfer", someone("alice"), 1000)
    d.send("token", "approve", someone("bob"), 500)
    d.send("token", "approve", d.sender.address, 100)
    d.send("token", "transferFrom", d.sender.address, someone("bob"), 100)
    d.send("token", "transfer", someone("alice"), 10**30, gas=200_000, ok=False)  # ERC20InsufficientBalance
    d.call("token", "transfer", someone("alice"), 10**30, ok=False)
    for fn, args in (("balanceOf", (d.sender.address,)), ("balanceOf", (someone("alice"),)),
                     ("allowance", (d.sender.address, someone("bob"))), ("totalSupply", ()), ("name", ())):
        d.call("token", fn, *args)


def erc721(d: Differ) -> None:
    d.deploy("nft", "CorpusNFT")
    d.send("nft", "mint", d.sender.address)
    d.send("nft", "mint", someone("carol"))
    d.send("nft", "mint", d.instances["storage"][0], gas=300_000, ok=False)  # ERC721InvalidReceiver
    d.send("nft", "transferFrom", d.sender.address, someone("dave"), 1)
    d.send("nft", "transferFrom", d.sender.address, someone("dave"), 2, gas=200_000, ok=False)  # not the owner
    d.call("nft", "ownerOf", 1)
    d.call("nft", "ownerOf", 99, ok=False)
    d.call("nft", "balanceOf", someone("dave"))


def factories(d: Differ) -> None:
    d.deploy("factory", "Factory")
    d.send("factory", "create", 5, value=1000)
    d.send("factory", "create2", word(1), 6, value=2000)
    d.send("factory", "create2Twice", word(2), 7, 300_000, gas=2_000_000)
    d.send("factory", "create2", word(1), 6, gas=1_000_000, ok=False)  # collides with the first
    d.register("child", d.read_address("factory", "lastCreated"), "Child")
    d.register("child2", d.read_address("factory", "lastCreated2"), "Child")
    d.send("child", "bump")
    d.call("child", "x")
    d.call("child2", "creator")
    d.call("factory", "predict", word(3), 8)
    expect_word(d, "factory", "collisions", 1)


def reverts(d: Differ) -> None:
    inner = d.deploy("inner", "Inner")
    d.deploy("outer", "Outer", inner)
    d.send("outer", "viaRequire", 3)
    d.send("outer", "viaRequire", 11, gas=200_000, ok=False)
    d.send("outer", "viaCustom", 11, gas=200_000, ok=False)
    d.send("outer", "swallow", 11)
    d.send("outer", "swallow", 3)
    d.call("outer", "viaRequire", 11, ok=False)
    d.call("outer", "viaCustom", 11, ok=False)
    d.call("inner", "divide", 0, ok=False)
    for fn in ("swallow", "lastReason", "lastRaw"):
        d.call("outer", fn, *((12,) if fn == "swallow" else ()))
    expect_word(d, "outer", "lastHave", 10)
    expect_word(d, "outer", "lastWant", 11)
    expect_word(d, "outer", "lastPanic", 0x12)


def gas(d: Differ) -> None:
    d.deploy("burner", "Burner")
    d.expect("burner.loop()", d.send("burner", "loop", gas=300_000, ok=False)["gasUsed"] == 300_000, "all gas used")
    d.send("burner", "limited", 100_000, gas=600_000)
    d.call("burner", "gasAfter")
    expect_word(d, "burner", "failures", 1)
    d.call("burner", "limited", 50_000, gas=400_000)
    d.call("burner", "loop", gas=100_000, ok=False)
    d.deploy("refunds", "Refunds")
    d.send("refunds", "fill", 16, 1)
    d.send("refunds", "fill", 16, 2)
    d.send("refunds", "clear", 16)
    d.send("refunds", "fillAndClear", 8)
    d.send("refunds", "fill", 3, 5)
    d.send("refunds", "clear", 2)


def selfdestruct(d: Differ) -> None:
    doomer = d.deploy("doomer", "Doomer")
    init_code = bytes.fromhex(d.artifacts["Doomed"]["bytecode"][2:])
    d.send("doomer", "createAndDestroy", word(1), someone("heir 1"), value=1000)
    d.send("doomer", "createAndDestroy", word(1), someone("heir 1"), value=500)  # the address was freed
    d.send("doomer", "create", word(2), value=777)
    doomed = d.register("doomed", create2_address(doomer, word(2), init_code), "Doomed")
    d.expect("Doomer.last()", d.read_address("doomer", "last") == doomed, f"Doomed at {doomed}")
    destroyed = create2_address(doomer, word(1), init_code)
    d.expect("createAndDestroy", rpc(d.a.url, "eth_getCode", [destroyed, "latest"]) == "0x", f"no code at {destroyed}")
    d.send("doomed", "destroy", someone("heir 2"))  # a later transaction: only the balance moves
    expect_word(d, "doomed", "marker", 1)
    d.send_raw("plain transfer to the destroyed Doomed", doomed, value=5, gas=100_000)
    d.send("doomed", "destroy", doomed)  # to itself: the balance stays
    d.send("doomer", "createEphemeral", someone("heir 3"), value=3)


def precompile_cases(key: bytes) -> list[tuple[str, int, int, bytes, bool, bytes | None]]:
    """(label, precompile, gas, input, whether the precompile succeeds, its output if the test knows it)."""
    digest = keccak(b"differential corpus")
    sig = Account.unsafe_sign_hash(digest, key)
    ecrec = digest + word(sig.v) + word(sig.r) + word(sig.s)

    def modexp(base: bytes, exp: bytes, mod: bytes) -> bytes:
        return word(len(base)) + word(len(exp)) + word(len(mod)) + base + exp + mod

    def g1(p) -> bytes:
        return word(int(p[0])) + word(int(p[1]))

    def g2(q) -> bytes:  # EIP-197: the imaginary part first
        return b"".join(word(int(c.coeffs[1])) + word(int(c.coeffs[0])) for c in q)

    iv = [0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
          0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179]
    h = [iv[0] ^ 0x01010040, *iv[1:]]  # BLAKE2b-512, no key: EIP-152's "abc" vector
    blake = (12).to_bytes(4, "big") + b"".join(x.to_bytes(8, "little") for x in h) + b"abc".ljust(128, b"\0") \
        + (3).to_bytes(16, "little") + b"\x01"
    p = 2**256 - 2**32 - 977
    return [
        ("ecrecover", 1, 10_000, ecrec, True, bytes(12) + bytes.fromhex(Account.from_key(key).address[2:])),
        ("ecrecover, v = 29", 1, 10_000, digest + word(29) + word(sig.r) + word(sig.s), True, None),
        ("ecrecover, short input", 1, 10_000, ecrec[:100], True, None),
        ("sha256", 2, 100_000, b"abc" * 100, True, hashlib.sha256(b"abc" * 100).digest()),
        ("ripemd160", 3, 100_000, b"abc" * 100, True, None),
        ("identity", 4, 100_000, bytes(range(256)) * 4, True, bytes(range(256)) * 4),
        ("identity, out of gas", 4, 20, bytes(1000), False, None),
        ("modexp EIP-198", 5, 100_000, modexp(word(3), word(p - 1), word(p)), True, word(1)),
        ("modexp 1024-bit", 5, 1_000_000, modexp(keccak(b"b") * 4, keccak(b"e"), keccak(b"m") * 4), True, None),
        ("modexp, empty modulus", 5, 100_000, modexp(b"\x05", b"\x03", b""), True, None),
        ("bn254 add", 6, 10_000, g1(G1) + g1(G1), True, None),
        ("bn254 add, point off the curve", 6, 10_000, word(1) + word(3) + g1(G1), False, None),
        ("bn254 mul", 7, 10_000, g1(G1) + word(7), True, None),
        ("bn254 pairing", 8, 200_000, g1(G1) + g2(G2) + g1(neg(G1)) + g2(G2), True, word(1)),
        ("bn254 pairing, empty", 8, 100_000, b"", True, word(1)),
        ("bn254 pairing, bad length", 8, 100_000, bytes(100), False, None),
        ("blake2f", 9, 10_000, blake, True, hashlib.blake2b(b"abc").digest()),
        ("blake2f, bad final flag", 9, 10_000, blake[:-1] + b"\x02", False, None),
        ("blake2f, bad length", 9, 10_000, blake[:-1], False, None),
        ("point evaluation, bad length", 0x0A, 100_000, bytes(10), False, None),
        ("point evaluation, wrong versioned hash", 0x0A, 100_000, bytes(192), False, None),
    ]


def precompiles(d: Differ) -> None:
    d.deploy("pre", "Precompiles")
    for label, address, gas_given, data, succeeds, output in precompile_cases(d.sender.key):
        target = to_checksum_address(word(address)[12:])
        d.send("pre", "run", target, gas_given, data, note=f" [{label}]")
        result = d.call("pre", "probe", target, gas_given, data, note=f" [{label}]")
        if "result" not in result:
            continue  # already recorded
        ok, got, _ = decode(["bool", "bytes", "uint256"], bytes.fromhex(result["result"][2:]))
        d.expect(f"probe [{label}]", ok == succeeds and output in (None, got), f"success = {succeeds}, output {output}")
    digest = keccak(b"builtins")
    sig = Account.unsafe_sign_hash(digest, d.sender.key)
    d.call("pre", "builtins", digest, sig.v, word(sig.r), word(sig.s), b"hello")
    infinity = b"\xc0" + bytes(47)  # the zero polynomial: its commitment and every proof are the point at infinity
    d.send("pre", "pointEvaluation", word(1), word(0), infinity, infinity)  # p(1) = 0: valid
    d.send("pre", "pointEvaluation", word(1), word(1), infinity, infinity)  # p(1) = 1: invalid proof
    for y, valid in ((0, True), (1, False)):
        result = d.call("pre", "pointEvaluation", word(5), word(y), infinity, infinity, note=f" [y = {y}]")
        d.expect(f"pointEvaluation y = {y}", int(result["result"][2:66], 16) == valid, f"success = {valid}")


def transient(d: Differ) -> None:
    d.deploy("lock", "TransientLock")
    d.send("lock", "enter", False)
    d.send("lock", "enter", True)
    d.send("lock", "setTransient", 42)
    d.send("lock", "recordLater")
    d.send("lock", "rollback", 9)
    d.send("lock", "staticWrite", 50_000)
    for fn, value in (("entries", 2), ("blockedReentries", 1), ("seenInTx", 7), ("seenLater", 0),
                      ("staticWriteFailed", 1), ("peek", 0)):
        expect_word(d, "lock", fn, value)


def memory_and_calldata(d: Differ) -> None:
    d.deploy("memory", "Memory")
    data = bytes(range(100))
    d.send("memory", "storeCopy", data, 0, 10, 50)
    d.call("memory", "copy", data, 0, 10, 50)
    d.call("memory", "copy", data, 10, 0, 50)
    d.call("memory", "copy", data, 90, 0, 20, ok=False)  # out of range
    d.call("memory", "expand", 100_000, 64)
    small = bytes((i * 7) % 256 if i % 3 else 0 for i in range(20_000))
    large = b"".join(keccak(word(i)) if i % 4 else bytes(32) for i in range(1500))  # 48,000 bytes
    d.send("memory", "absorb", small, gas=1_500_000)
    d.send("memory", "absorb", large, gas=3_000_000)
    d.call("memory", "lastHash")


def environment(d: Differ) -> None:
    env = d.deploy("env", "Env")
    d.equal_slots[env.lower()] = {slot(0)}  # the chain id; the other slots hold block context
    d.send("env", "record")
    expect_word(d, "env", "chainId", CHAIN_ID)
    d.call("env", "read", project=lambda out: out[:66])  # the chain id, the first word


def creation_rules(d: Differ) -> None:
    """Raw init code: the code size limit (EIP-170), no code starting with 0xEF (EIP-3541), a reverting
    constructor, and a contract created at an address that already holds ETH."""
    d.send_raw("create: 24,576-byte code, the limit", None, "0x620060006000f3", gas=6_000_000)
    d.send_raw("create: 24,577-byte code", None, "0x620060016000f3", gas=6_000_000, ok=False)
    d.send_raw("create: code 0xef", None, "0x60ef60005360016000f3", gas=100_000, ok=False)
    d.send_raw("create: init code reverts", None, "0x60206000fd", gas=100_000, ok=False)
    target = create_address(d.sender.address, d.sender.nonce + 1)
    d.send_raw("pay the next contract's address", target, value=7, gas=21_000)
    d.deploy("prefunded", "SimpleStorage")


def same_block(d: Differ) -> None:
    """Transactions submitted together, which the sidechain puts in one block: transient storage is
    cleared between them, and an account created by the previous transaction of the block is not
    "created in the same transaction" for SELFDESTRUCT."""
    doomer = d.instances["doomer"][0]
    doomed = d.register("doomed 3", create2_address(doomer, word(3), bytes.fromhex(d.artifacts["Doomed"]["bytecode"][2:])),
                        "Doomed")
    with d.together():
        d.send("lock", "setTransient", 5)
        d.send("lock", "recordLater")
        d.send("storage", "set", 100)
        d.send("storage", "set", 101)
        d.send("token", "transfer", someone("erin"), 1)
        d.send("doomer", "create", word(3), value=11)
        d.send("doomed 3", "destroy", someone("heir 4"))
        d.send("doomer", "createAndDestroy", word(4), someone("heir 4"), value=1)
        d.send("doomer", "createAndDestroy", word(4), someone("heir 4"), value=2)
    expect_word(d, "lock", "seenLater", 0)
    d.expect("Doomed 3", rpc(d.a.url, "eth_getCode", [doomed, "latest"]) != "0x", f"code still at {doomed}")


CORPUS = [storage_and_events, erc20, erc721, factories, reverts, gas, selfdestruct, precompiles, transient,
          memory_and_calldata, environment, creation_rules, same_block]


def test_corpus_runs_identically(chains):
    a, b, logs = chains
    artifacts = compiled_corpus()
    sender = Sender(SENDER_KEY, CHAIN_ID)
    for chain in (a, b):
        assert int(rpc(chain.url, "eth_chainId"), 16) == CHAIN_ID, chain
        assert int(rpc(chain.url, "eth_getTransactionCount", [sender.address, "latest"]), 16) == 0, f"{chain}: sender not fresh"
        fund(chain.url, anvil_private_key(0), CHAIN_ID, sender.address, 50 * ETH)
    d = Differ(a, b, sender, artifacts)
    try:
        for group in CORPUS:
            group(d)
    except Fatal as stop:  # a transaction one chain refused or never included: the nonces diverged
        pytest.fail(f"{stop}{logs}", pytrace=False)
    d.final_check()
    if d.mismatches:
        pytest.fail(d.report() + logs, pytrace=False)
