"""The ERC-20 workload: OpenZeppelin's ERC-20 (Erc20Bench.sol) compiled with solcjs, deployed by a
funder, its tokens handed out to many holders (setup, not timed), then the holders' pre-signed
`transfer(to, amount)` calls, to random recipients among the holders, as the timed load.

Every setup transaction is signed once and sent as the same bytes to each chain, so the funder
deploys at the same nonce, thus the same address, on the sidechain and on anvil.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from coincurve import PrivateKey

from sidechain.chain.transactions import create_address
from sidechain.crypto import keccak256, private_key_to_address
from sidechain.devtools.devnet import REPO, rpc_call, wait_until
from sidechain.devtools.bench.loadgen import TokenCalls, sign_transfer, transfer_calldata
from sidechain.devtools.bench.submit import encode_batches, submit_all
from sidechain.devtools.bench.targets import Target

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "Erc20Bench.sol"
COMPILER = HERE / "solc.mjs"
TOKEN_SUPPLY = 10**36
HOLDER_SHARE = 10**24
"""Tokens (in base units) the funder hands each holder; a transfer of the load moves 1."""
DEPLOY_GAS = 2_000_000
SETUP_TX_GAS = 60_000
SETUP_CHUNK = 1000
"""Funder transactions in flight at once: the sidechain's pool holds at most 1,024 per sender."""
BALANCE_OF = bytes.fromhex("70a08231")
"""keccak256("balanceOf(address)")[:4]"""


@cache
def compile_contracts() -> dict:
    """{name: {"abi", "bytecode", "deployedBytecode"}} of Erc20Bench.sol, plus "compiler" and "settings"."""
    done = subprocess.run(["node", str(COMPILER), str(SOURCE)], cwd=REPO, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"compiling {SOURCE.name} failed:\n{done.stderr.strip()}")
    output = json.loads(done.stdout)
    return {**output["contracts"], "compiler": output["compiler"], "settings": output["settings"]}


def creation_code(name: str, *args: int) -> bytes:
    """The initcode of contract `name` with uint256 constructor arguments."""
    code = bytes.fromhex(compile_contracts()[name]["bytecode"][2:])
    return code + b"".join(a.to_bytes(32, "big") for a in args)


@dataclass(frozen=True, slots=True)
class TokenSetup:
    """The funder's pre-signed setup: the deployment (nonce 0), then one transfer per holder."""

    funder: bytes
    token: bytes
    holders: tuple[bytes, ...]
    raws: tuple[bytes, ...]

    def calls(self, gas: int, amount: int = 1) -> TokenCalls:
        """The timed load's kind: transfers of `amount` between the holders."""
        return TokenCalls(self.token, self.holders, amount, gas)


def token_setup(funder_key: bytes, chain_id: int, senders: list[bytes], holders: int, seed: int | None) -> TokenSetup:
    """The setup for `holders` holders: the senders first, then fresh addresses."""
    if holders < len(senders):
        raise ValueError(f"--holders {holders}: at least one per sender ({len(senders)}) is needed")
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    everyone = tuple(senders) + tuple(rng.randbytes(20) for _ in range(holders - len(senders)))
    key = PrivateKey(funder_key)
    raws = [sign_transfer(key, chain_id, 0, None, gas=DEPLOY_GAS, value=0, data=creation_code("Erc20Bench", TOKEN_SUPPLY))]
    funder = private_key_to_address(funder_key)
    token = create_address(funder, 0)
    raws += [sign_transfer(key, chain_id, nonce, token, gas=SETUP_TX_GAS, value=0, data=transfer_calldata(holder, HOLDER_SHARE))
             for nonce, holder in enumerate(everyone, start=1)]
    return TokenSetup(funder, token, everyone, tuple(raws))


def token_balance(url: str, token: bytes, holder: bytes) -> int:
    data = BALANCE_OF + bytes(12) + holder
    return int(rpc_call(url, "eth_call", [{"to": "0x" + token.hex(), "data": "0x" + data.hex()}, "latest"], timeout=10), 16)


def run_setup(target: Target, setup: TokenSetup, batch: int = 200, timeout: float = 120) -> None:
    """Send the setup to `target` in chunks the pool takes, wait until each is mined, check the result."""
    url = target.rpc_url
    for start in range(0, len(setup.raws), SETUP_CHUNK):
        chunk = list(setup.raws[start:start + SETUP_CHUNK])
        sent = asyncio.run(submit_all(url, encode_batches(chunk, batch), batch, len(chunk), connections=1, rate=0))
        if sent.rejected:
            raise RuntimeError(f"{target.name}: {len(sent.rejected)} setup transactions refused: {dict(sent.errors)}")
        end = start + len(chunk)
        wait_until(lambda: int(rpc_call(url, "eth_getTransactionCount", ["0x" + setup.funder.hex(), "latest"]), 16) >= end,
                   timeout, f"{target.name}: the funder's first {end} setup transactions mined")
    receipt = rpc_call(url, "eth_getTransactionReceipt", ["0x" + keccak256(setup.raws[0]).hex()])
    deployed = receipt and int(receipt["status"], 16) == 1 and (receipt.get("contractAddress") or "").lower()
    if deployed != "0x" + setup.token.hex():
        raise RuntimeError(f"{target.name}: the token deployment failed: {receipt}")
    left = TOKEN_SUPPLY - len(setup.holders) * HOLDER_SHARE  # so every hand-out succeeded
    for holder, expected in ((setup.funder, left), (setup.holders[0], HOLDER_SHARE), (setup.holders[-1], HOLDER_SHARE)):
        balance = token_balance(url, setup.token, holder)
        if balance != expected:
            raise RuntimeError(f"{target.name}: 0x{holder.hex()} holds {balance} tokens, expected {expected}")

