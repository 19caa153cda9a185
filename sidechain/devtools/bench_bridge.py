"""scripts/bench-bridge: the bridge's latency and L1 gas on a fresh devnet (validators + anvil + relayers).

Prints one JSON object on stdout; progress goes to stderr. Measures, as a user meets them:
- deposit latency: seconds from the moment the L1 block giving a deposit its N-th confirmation is
  seen to the moment the sidechain reports the deposit minted (the relayers' confirmation wait is N);
- withdraw to "exit possible": seconds from sending `withdraw` on the sidechain to the checkpoint
  holding it being on L1 (CheckpointManager.lastCheckpoint), next to one checkpoint interval;
- L1 gas of depositETH, depositERC20 (first deposit of a token and a later one) and exit.
Every process and directory it starts is removed on exit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from eth_abi import encode
from eth_account import Account
from eth_utils import to_checksum_address
from web3 import Web3
from web3.logs import DISCARD

from sidechain.chain.genesis import load_genesis
from sidechain.chain.system import BRIDGE_ADDRESS
from sidechain.crypto import keccak256
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import free_port_base, rpc_call, wait_until
from sidechain.devtools.devnet_cli import devnet_down, devnet_up

from bridge.deploy import contract_at, send_transaction
from bridge.root_bridge import ETH, Withdrawal, deposit_erc20, deposit_eth, exit_withdrawal

POLL = 0.02
USER_ACCOUNT = 1
"""anvil dev account #1: funded on both chains, not a validator and not the deployer."""


def log(message: str) -> None:
    print(f"bench-bridge: {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


class Bench:
    def __init__(self, root: Path, network: dict, confirmations: int) -> None:
        self.network, self.confirmations = network, confirmations
        l1 = network["l1"]
        self.l1 = Web3(Web3.HTTPProvider(l1["rpc"]))
        self.bridge = contract_at(self.l1, "RootBridge", l1["contracts"]["rootBridge"])
        self.manager = contract_at(self.l1, "CheckpointManager", l1["contracts"]["CheckpointManager"])
        self.token = l1["contracts"]["testToken"]
        self.rpc = network["rpc"]
        self.key = anvil_private_key(USER_ACCOUNT)
        self.user = Account.from_key(self.key)
        genesis = load_genesis(root / "genesis.json")
        self.chain_id, self.interval, self.block_time = genesis.chain_id, genesis.checkpoint_interval, genesis.block_time_ms / 1000
        self.gas: dict[str, int] = {}

    def deposit_latency(self, make_deposit) -> float:
        receipt = make_deposit()
        deposit_id = self.bridge.events.Deposited().process_receipt(receipt, errors=DISCARD)[0].args.depositId
        confirmed_at = receipt["blockNumber"] + self.confirmations - 1
        wait_until(lambda: self.l1.eth.block_number >= confirmed_at, 60, "the N-th confirmation", POLL)
        seen_confirmed = time.monotonic()
        wait_until(lambda: rpc_call(self.rpc, "sidechain_getDepositStatus", [hex(deposit_id)])["status"] == "minted", 60,
                   f"deposit {deposit_id} minted", POLL)
        return time.monotonic() - seen_confirmed

    def fund_user_with_test_tokens(self, amount: int) -> None:
        faucet = contract_at(self.l1, "TestToken", self.token)
        send_transaction(self.l1, faucet.functions.mint(self.user.address, amount), self.key)

    def deposits(self, count: int) -> list[float]:
        self.fund_user_with_test_tokens(count * 10**18)
        latencies = []
        for i in range(count):
            if i % 2 == 0:
                def make():
                    receipt = deposit_eth(self.l1, self.bridge, self.key, self.user.address, 10**17)
                    self.gas["depositETH"] = receipt["gasUsed"]
                    return receipt
            else:
                def make():
                    first = not self.bridge.functions.tokenRegistered(self.token).call()
                    receipt = deposit_erc20(self.l1, self.bridge, self.key, self.token, self.user.address, 10**18)
                    self.gas["depositERC20_first" if first else "depositERC20"] = receipt["gasUsed"]
                    return receipt
            latencies.append(self.deposit_latency(make))
            log(f"deposit {i + 1}/{count}: minted {latencies[-1]:.2f} s after its confirmation {self.confirmations}")
        return latencies

    def withdraw_and_exit(self) -> dict:
        amount = 10**16
        data = keccak256(b"withdraw(address,uint256,address)")[:4] + encode(["address", "uint256", "address"],
                                                                          [ETH, amount, self.user.address])
        nonce = int(rpc_call(self.rpc, "eth_getTransactionCount", [self.user.address, "pending"]), 16)
        raw = self.user.sign_transaction({
            "to": to_checksum_address(BRIDGE_ADDRESS), "value": amount, "data": data, "gas": 200_000, "nonce": nonce,
            "maxFeePerGas": 10 * 10**9, "maxPriorityFeePerGas": 10**9, "chainId": self.chain_id, "type": 2,
        }).raw_transaction
        sent = time.monotonic()
        tx_hash = rpc_call(self.rpc, "eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
        wait_until(lambda: rpc_call(self.rpc, "eth_getTransactionReceipt", [tx_hash]) is not None, 30, "withdraw mined", POLL)
        receipt = rpc_call(self.rpc, "eth_getTransactionReceipt", [tx_hash])
        if receipt["status"] != "0x1":
            raise RuntimeError(f"withdraw failed: {receipt}")
        withdrawal_id = int(rpc_call(self.rpc, "eth_call", [{"to": to_checksum_address(BRIDGE_ADDRESS),
                                                             "data": "0x" + keccak256(b"nextWithdrawalId()")[:4].hex()}]), 16) - 1
        number = (int(receipt["blockNumber"], 16) - 1) // self.interval + 1
        wait_until(lambda: self.manager.functions.lastCheckpoint().call()[0] >= number, 300, f"checkpoint {number} on L1", POLL)
        possible = time.monotonic() - sent
        served = rpc_call(self.rpc, "sidechain_getWithdrawalProof", [hex(withdrawal_id)])
        w = served["withdrawal"]
        withdrawal = Withdrawal(int(w["id"], 16), w["l1Token"], w["l1Recipient"], int(w["amount"], 16))
        exit_receipt = exit_withdrawal(self.l1, self.bridge, self.key, withdrawal, int(served["checkpointNumber"], 16),
                                       [bytes.fromhex(p[2:]) for p in served["proof"]])
        self.gas["exitETH"] = exit_receipt["gasUsed"]
        log(f"withdrawal {withdrawal_id}: exit possible {possible:.1f} s after withdraw (checkpoint {number}), exited")
        return {"seconds": round(possible, 2), "checkpoint": number, "proofLength": len(served["proof"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench-bridge", description=__doc__.splitlines()[0])
    parser.add_argument("--validators", type=int, default=4, help="validator processes (default 4)")
    parser.add_argument("--deposits", type=int, default=10, help="deposits to time, alternately ETH and the test token")
    parser.add_argument("--block-time-ms", type=int, help="sidechain block time (default: the devnet genesis, 1000)")
    args = parser.parse_args(argv)
    from bridge.deposits import DEVNET_CONFIRMATIONS

    root = Path(tempfile.mkdtemp(prefix="bench-bridge-"))
    base = free_port_base([*range(args.validators), *range(100, 100 + args.validators), 199])
    try:
        log(f"starting a {args.validators}-validator devnet with anvil in {root}")
        with contextlib.redirect_stdout(sys.stderr):
            devnet_up(root, args.validators, base, base + 199, args.block_time_ms)
        network = json.loads((root / "network.json").read_text())
        bench = Bench(root, network, DEVNET_CONFIRMATIONS)
        latencies = bench.deposits(args.deposits)
        withdrawal = bench.withdraw_and_exit()
        result = {
            "config": {"validators": args.validators, "deposits": args.deposits, "confirmations": DEVNET_CONFIRMATIONS,
                       "sidechainBlockTimeS": bench.block_time, "checkpointInterval": bench.interval,
                       "l1BlockTimeS": 1},
            "depositLatencyS": {"fromNthConfirmationToMinted": {"p50": percentile(latencies, 0.5),
                                                                "max": round(max(latencies), 3),
                                                                "mean": round(statistics.mean(latencies), 3)},
                                "target": 2.0},
            "withdrawToExitPossibleS": {**withdrawal,
                                        "checkpointIntervalS": round(bench.interval * bench.block_time, 2)},
            "l1Gas": bench.gas,
        }
        print(json.dumps(result, indent=2))
        return 0
    finally:
        with contextlib.redirect_stdout(sys.stderr):
            devnet_down(root, wipe=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
