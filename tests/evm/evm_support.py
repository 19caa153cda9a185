"""Helpers of the EVM tests: the Solidity corpus (tests/evm/contracts) compiled once per machine,
pre-signed EIP-1559 transactions, plain JSON-RPC calls with deadlines, and `Differ`, which runs the
same transactions on two chains and records every difference.

The corpus is compiled by bridge/contracts/compile.mjs for Cancun through tests/e2e/contract_tools.py,
cached per machine.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import rlp
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from trie import HexaryTrie
from web3 import Web3

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))  # e2e_support, for the tests of this folder

from contract_tools import compiled  # noqa: E402
from e2e_support import CHAIN_ID, RunningNode  # noqa: E402,F401  (re-exported for the tests)
from sidechain.devtools.devnet import wait_until  # noqa: E402
from sidechain.rpc import client as jsonrpc  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "contracts"
GWEI = 10**9
RPC_TIMEOUT = 10.0


def compiled_corpus() -> dict[str, dict]:
    """Contract name -> {"abi", "bytecode", "deployedBytecode"} of every contract of the corpus."""
    return compiled(CORPUS)


# --- addresses and ABI ------------------------------------------------------------------------------


def create_address(sender: str, nonce: int) -> str:
    """The address CREATE gives the `nonce`-th contract of `sender`."""
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def create2_address(deployer: str, salt: bytes, init_code: bytes) -> str:
    return to_checksum_address(keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt + keccak(init_code))[12:])


_W3 = Web3()


def encode_call(abi: list, fn: str, args: tuple | list = ()) -> str:
    """Calldata of `fn(args)` as 0x-hex."""
    return _W3.eth.contract(abi=abi).encode_abi(fn, args=list(args))


def deploy_data(artifact: dict, args: tuple | list = ()) -> str:
    """Init code: the creation bytecode followed by the ABI-encoded constructor arguments."""
    contract = _W3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    return contract.constructor(*args).data_in_transaction


# --- transactions -----------------------------------------------------------------------------------


@dataclass
class Sender:
    """A key whose nonce this object tracks: every transaction it signs is sent to every chain."""

    key: bytes
    chain_id: int
    nonce: int = 0

    @property
    def address(self) -> str:
        return Account.from_key(self.key).address

    def sign(self, to: str | None, data: str = "0x", *, value: int = 0, gas: int, access_list: list | None = None,
             max_fee: int = 100 * GWEI, tip: int = GWEI) -> tuple[str, str]:
        """(raw transaction, hash) of an EIP-1559 transaction with an explicit gas limit; consumes a nonce."""
        tx = {"type": 2, "chainId": self.chain_id, "nonce": self.nonce, "gas": gas, "maxFeePerGas": max_fee,
              "maxPriorityFeePerGas": tip, "value": value, "data": data, "accessList": access_list or []}
        if to is not None:
            tx["to"] = to_checksum_address(to)
        signed = Account.sign_transaction(tx, self.key)
        self.nonce += 1
        return "0x" + signed.raw_transaction.hex().removeprefix("0x"), "0x" + signed.hash.hex().removeprefix("0x")


def rpc(url: str, method: str, params: list | None = None):
    """The result of a JSON-RPC call; an error reply raises RuntimeError."""
    return jsonrpc.rpc_call(url, method, params, timeout=RPC_TIMEOUT)


def rpc_reply(url: str, method: str, params: list | None = None) -> dict:
    """The whole reply, {"result": ...} or {"error": {...}}, for calls whose errors are compared."""
    return jsonrpc.rpc_reply(url, method, params, timeout=RPC_TIMEOUT)


def wait_receipt(url: str, tx_hash: str, timeout: float = 30.0) -> dict:
    return wait_until(lambda: rpc(url, "eth_getTransactionReceipt", [tx_hash]), timeout, f"receipt of {tx_hash} at {url}")


def send_and_wait(url: str, raw: str, timeout: float = 30.0) -> dict:
    return wait_receipt(url, rpc(url, "eth_sendRawTransaction", [raw]), timeout)


def fund(url: str, funder_key: bytes, chain_id: int, to: str, value: int) -> dict:
    """A plain transfer from `funder_key` (its nonce read from the chain); waits for the receipt."""
    funder = Account.from_key(funder_key).address
    nonce = int(rpc(url, "eth_getTransactionCount", [funder, "pending"]), 16)
    raw, _ = Sender(funder_key, chain_id, nonce).sign(to, value=value, gas=21_000)
    receipt = send_and_wait(url, raw)
    if int(receipt["status"], 16) != 1:
        raise RuntimeError(f"funding {to} at {url} failed: {receipt}")
    return receipt


# --- the differential runner ------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    name: str
    url: str
    exact_storage_hash: bool = True
    """False for anvil (1.7.1): its eth_getProof storageHash keeps slots written back to zero in the
    trie (set a slot to 5 then to 0: storageHash is the root of {keccak(slot): rlp(0)}, not the empty
    root), so the storage root compared is the one of its slots' values instead."""


def _word(value: str) -> int:
    return int(value, 16)


def _receipt_view(receipt: dict) -> dict:
    """The fields of a receipt two chains must agree on."""
    contract = receipt.get("contractAddress")
    view = {
        "status": _word(receipt["status"]),
        "gasUsed": _word(receipt["gasUsed"]),
        "contractAddress": contract.lower() if contract else None,
        "logs": len(receipt["logs"]),
        "logsBloom": receipt["logsBloom"].lower(),
    }
    for i, log in enumerate(receipt["logs"]):
        view[f"log {i} address"] = log["address"].lower()
        view[f"log {i} topics"] = [t.lower() for t in log["topics"]]
        view[f"log {i} data"] = log["data"].lower()
    return view


def _reply_view(reply: dict) -> dict:
    """An eth_call reply: its output; or a revert (code 3) and its data; or another error, whose code and
    wording are the node's own (out of gas, say), so only "it is an error" must be equal."""
    if "error" not in reply:
        return {"result": reply["result"].lower()}
    if reply["error"].get("code") == 3:
        return {"error": "revert (code 3)", "data": (reply["error"].get("data") or "0x").lower()}
    return {"error": "not a revert (code != 3)"}


class Fatal(AssertionError):
    pass


class Differ:
    """Sends every transaction, pre-signed once, to two chains, waits for both receipts and records
    each difference: in the receipts, in eth_call replies, and in the state of every account and
    storage slot the transaction touched (found by anvil's prestateTracer on chain `a`)."""

    def __init__(self, a: Chain, b: Chain, sender: Sender, artifacts: dict[str, dict]) -> None:
        self.a, self.b, self.sender, self.artifacts = a, b, sender, artifacts
        self.instances: dict[str, tuple[str, str]] = {}
        """instance name -> (address, contract name)."""
        self.touched: dict[str, set[str]] = {}
        """address -> storage slots, of every account a transaction touched."""
        self.equal_slots: dict[str, set[str]] = {}
        """address -> the only slots that must be equal (its storage root then may differ)."""
        self.ignored = {sender.address.lower()}
        self.mismatches: list[str] = []
        self.count = 0
        self._queue: list | None = None
        self._views: list[dict] = []

    # -- steps --

    def deploy(self, name: str, contract: str | None = None, *args, value: int = 0, gas: int = 3_000_000) -> str:
        contract = contract or name
        address = create_address(self.sender.address, self.sender.nonce)
        views = self._transact(f"deploy {name}", None, deploy_data(self.artifacts[contract], args), value, gas, ok=True)
        if views[0]["status"] == 1 and views[0]["contractAddress"] != address.lower():
            raise Fatal(f"deploy {name}: contract at {views[0]['contractAddress']} on {self.a.name}, expected {address}")
        self.instances[name] = (address, contract)
        return address

    def register(self, name: str, address: str, contract: str) -> str:
        self.instances[name] = (to_checksum_address(address), contract)
        return self.instances[name][0]

    def send(self, target: str, fn: str, *args, value: int = 0, gas: int = 1_000_000, access_list: list | None = None,
             ok: bool = True, note: str = "") -> dict:
        """A transaction calling `fn(args)` of instance `target`, which must succeed on chain a (the
        reference) unless `ok` is False; returns chain a's receipt view."""
        address, contract = self.instances[target]
        data = encode_call(self.artifacts[contract]["abi"], fn, args)
        views = self._transact(f"{target}.{fn}{_short(args)}{note}", address, data, value, gas, access_list, ok=ok)
        return views and views[0]

    def send_raw(self, label: str, to: str, data: str = "0x", *, value: int = 0, gas: int = 1_000_000, ok: bool = True) -> dict:
        views = self._transact(label, to, data, value, gas, ok=ok)
        return views and views[0]

    def call(self, target: str, fn: str, *args, gas: int = 5_000_000, project=None, ok: bool = True, note: str = "") -> dict:
        """eth_call of `fn(args)` on both chains at "latest", which must succeed on chain a unless `ok`
        is False; `project` picks what must be equal of a result."""
        address, contract = self.instances[target]
        data = encode_call(self.artifacts[contract]["abi"], fn, args)
        return self.call_raw(f"{target}.{fn}{_short(args)}{note}", address, data, gas=gas, project=project, ok=ok)

    def call_raw(self, label: str, to: str, data: str, *, gas: int = 5_000_000, project=None, ok: bool = True) -> dict:
        call = {"from": self.sender.address, "to": to, "data": data, "gas": hex(gas)}
        views = [_reply_view(rpc_reply(c.url, "eth_call", [call, "latest"])) for c in (self.a, self.b)]
        if project is not None:
            views = [{**v, "result": project(v["result"])} if "result" in v else v for v in views]
        self.expect(f"call {label}", ("result" in views[0]) == ok, f"{'success' if ok else 'an error'}, got {views[0]}")
        self._compare(f"call {label}", views)
        return views[0]

    def expect(self, label: str, holds: bool, detail: str) -> None:
        """A check of the corpus itself on chain a: what Ethereum's semantics say must happen."""
        if not holds:
            self.mismatches.append(f"{label}: on {self.a.name} (the reference) expected {detail}")

    def read_address(self, target: str, fn: str, *args) -> str:
        """An address a view of instance `target` returns on chain a."""
        view = self.call(target, fn, *args)
        if "result" not in view:
            raise Fatal(f"call {target}.{fn}{_short(args)} failed on {self.a.name}: {view}" + self.report())
        return to_checksum_address("0x" + view["result"][-40:])

    # -- engine --

    @contextmanager
    def together(self):
        """Transactions sent inside are all submitted before any receipt is awaited, so a chain may put
        several in one block (the sidechain does, within its block time); each is compared on its own.
        `send` returns None inside."""
        self._queue = []
        try:
            yield
            queue, self._queue = self._queue, None
            blocks = self._settle(queue)
            print(f"{len(queue)} transactions sent together landed in {len(blocks)} block(s) of {self.b.name}")
        finally:
            self._queue = None

    def _transact(self, label: str, to: str | None, data: str, value: int, gas: int, access_list=None, *,
                  ok: bool) -> list[dict] | None:
        self.count += 1
        raw, tx_hash = self.sender.sign(to, data, value=value, gas=gas, access_list=access_list)
        item = (f"tx #{self.count} {label} ({tx_hash})", tx_hash, ok)
        for chain in (self.a, self.b):
            reply = rpc_reply(chain.url, "eth_sendRawTransaction", [raw])
            if "error" in reply:
                raise Fatal(f"{item[0]}: {chain.name} refused it: {reply['error']}" + self.report())
        if self._queue is not None:
            self._queue.append(item)
            return None
        self._settle([item])
        return self._views

    def _settle(self, items: list[tuple[str, str, bool]]) -> set[str]:
        """Waits for every receipt on both chains, then compares receipts and touched state; returns
        the blocks of chain b the transactions landed in."""
        try:
            receipts = [[wait_receipt(chain.url, tx_hash) for chain in (self.a, self.b)] for _, tx_hash, _ in items]
        except TimeoutError as exc:
            raise Fatal(f"{items[0][0]}...: {exc}" + self.report()) from None
        for (label, tx_hash, ok), pair in zip(items, receipts):
            self._views = views = [_receipt_view(r) for r in pair]
            self.expect(label, views[0]["status"] == int(ok), f"status {int(ok)}")
            self._compare(label, views)
            trace = rpc(self.a.url, "debug_traceTransaction", [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {}}])
            block = rpc(self.a.url, "eth_getBlockByNumber", [pair[0]["blockNumber"], False])
            self.ignored.add(block["miner"].lower())
            here = {address.lower(): account for address, account in trace.items() if address.lower() not in self.ignored}
            for address, account in here.items():
                self.touched.setdefault(address, set()).update(account.get("storage", {}))
            self.compare_state(label, here)
        return {pair[1]["blockNumber"] for pair in receipts}

    def compare_state(self, label: str, addresses) -> None:
        """Code, balance, nonce, code hash, storage root and every known slot of each account, at "latest".

        The corpus creates every account it touches, so the slots its transactions touched are all the
        slots an account has: the storage root of a chain whose eth_getProof is not exact is the root of
        a trie of those slots' values (see Chain.exact_storage_hash)."""
        for address in sorted(addresses):
            slots, only = sorted(self.touched.get(address, ())), self.equal_slots.get(address)
            views = []
            for chain in (self.a, self.b):
                proof = rpc(chain.url, "eth_getProof", [address, [], "latest"])
                view = {"code": rpc(chain.url, "eth_getCode", [address, "latest"]).lower(),
                        "balance": _word(proof["balance"]), "nonce": _word(proof["nonce"]),
                        "codeHash": proof["codeHash"].lower()}
                values = {slot: _word(rpc(chain.url, "eth_getStorageAt", [address, slot, "latest"])) for slot in slots}
                if only is None:
                    view["storageHash"] = proof["storageHash"].lower() if chain.exact_storage_hash else storage_root(values)
                view.update((f"slot {slot}", value) for slot, value in values.items() if only is None or slot in only)
                views.append(view)
            self._compare(f"{label} account {address}", views)

    def final_check(self) -> None:
        self.compare_state("after all transactions:", self.touched)

    def _compare(self, label: str, views: list[dict]) -> None:
        va, vb = views
        for key in sorted(set(va) | set(vb), key=str):
            if va.get(key) != vb.get(key):
                self.mismatches.append(f"{label}: {key}: {self.a.name}={_clip(va.get(key))} {self.b.name}={_clip(vb.get(key))}")

    def report(self) -> str:
        if not self.mismatches:
            return ""
        return f"\n{len(self.mismatches)} mismatch(es) between {self.a.name} and {self.b.name}:\n  " + "\n  ".join(self.mismatches)


def storage_root(values: dict[str, int]) -> str:
    """The storage trie root of slot -> value (zero values are absent from the trie, as in Ethereum)."""
    trie = HexaryTrie({})
    for slot, value in values.items():
        if value:
            trie[keccak(bytes.fromhex(slot[2:]))] = rlp.encode(value)
    return "0x" + trie.root_hash.hex()


def _short(args: tuple) -> str:
    text = ", ".join(f"<{len(a)} bytes>" if isinstance(a, bytes) and len(a) > 16 else repr(a) for a in args)
    return f"({_clip(text, 80)})"


def _clip(value, limit: int = 300) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-limit // 2:]} ({len(text)} chars)"
