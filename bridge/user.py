"""The user's side of the bridge as a Python API: deposit (L1 -> sidechain), withdraw (sidechain ->
L1), exit (claim a withdrawal on L1) and status. `bridge deposit | withdraw | exit | status` are
thin wrappers; a test or a script calls the same methods.

Each command goes through the stages the user waits for and reports each one (and progress while
waiting) to a `report` callback as a `Progress`:

    deposit:  l1-mined -> confirmations k/N -> affirmations (power x of y) -> minted
    withdraw: burned -> checkpoint n final on the sidechain -> checkpoint n on L1 (exit possible)
    exit:     paid

With `wait=False` a command returns after its first stage. Anything that cannot proceed (no
balance, unknown id, already exited, checkpoint not on L1 yet, a node unreachable) raises
`BridgeUserError` with a message saying what to do. Amounts are integers in the token's smallest
unit; `to_units` and `format_units` convert from and to whole units ("1.5").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path

import requests
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted

from sidechain.errors import SidechainError

from .contract_errors import decode_error
from .deploy import TransactionFailed, contract_at, send_transaction
from .deposits import DEVNET_CONFIRMATIONS
from .relayer import confirmations_of
from .root_bridge import Withdrawal, deposit_erc20, deposit_eth, exit_withdrawal
from .sidechain_bridge import ETH, bridge_contract, l1_erc20, ledger


class BridgeUserError(SidechainError):
    """A bridge command that cannot proceed; the message says why and what to do next."""


class Unreachable(BridgeUserError):
    """The sidechain node or the L1 does not answer."""


@dataclass(frozen=True, slots=True)
class Progress:
    """One report from a command while it runs."""

    stage: str
    """Which stage: "l1-mined", "confirmations", "affirmations", "minted", "burned", "checkpoint-final",
    "checkpoint-l1", "paid" (or "approved" before an ERC-20 deposit)."""
    message: str
    """What a person reads."""
    done: bool = False
    """True when the stage is complete; False for progress within it."""


Reporter = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class Network:
    """Where the bridge lives: endpoints and contract addresses."""

    sidechain_rpc: str
    l1_rpc: str
    root_bridge: str
    checkpoint_manager: str
    deploy_block: int = 0
    """The L1 block RootBridge was deployed in (where event searches start)."""
    test_token: str | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> "Network":
        """Read `.devnet/network.json` as `scripts/devnet up` writes it."""
        try:
            network = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise BridgeUserError(f"no network file at {path}: start a devnet (`scripts/devnet up`) or pass --network") from None
        l1 = network.get("l1")
        if not l1:
            raise BridgeUserError(f"{path} describes a devnet without an L1: there is no bridge to use")
        contracts = l1["contracts"]
        return cls(network["rpc"], l1["rpc"], contracts["rootBridge"], contracts["CheckpointManager"],
                   l1.get("deployBlock", 0), contracts.get("testToken"))


def dev_key(path: str | Path, index: int = 0) -> bytes:
    """The private key of funded dev account `index` in a devnet's network.json (public dev keys)."""
    accounts = json.loads(Path(path).read_text())["accounts"]
    return bytes.fromhex(accounts[index]["privateKey"].removeprefix("0x"))


def to_units(text: str, decimals: int) -> int:
    """'1.5' whole units -> the integer amount in the smallest unit, refusing excess precision."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BridgeUserError(f"amount: expected a number such as 1.5, got {text!r}") from None
    with localcontext() as context:
        context.prec = 200  # exact: no rounding of long amounts
        scaled = value.scaleb(decimals)
    if not value.is_finite() or value <= 0 or scaled != scaled.to_integral_value():
        raise BridgeUserError(f"amount: expected a positive number with at most {decimals} decimals, got {text!r}")
    return int(scaled)


def format_units(amount: int, decimals: int) -> str:
    """The integer `amount` in whole units, without trailing zeros."""
    whole, fraction = divmod(amount, 10**decimals)
    digits = str(fraction).rjust(decimals, "0").rstrip("0") if decimals else ""
    return f"{whole}.{digits}" if digits else str(whole)


@dataclass(slots=True)
class DepositResult:
    deposit_id: int
    token: bytes
    amount: int
    l1_receipts: list = field(default_factory=list)
    """Every L1 transaction the deposit sent (an approval, then the deposit), for gas accounting."""
    minted_in_block: int | None = None
    sidechain_balance: int | None = None
    """The recipient's balance on the sidechain right after the mint."""


@dataclass(slots=True)
class WithdrawResult:
    withdrawal_id: int
    sidechain_receipt: dict
    checkpoint_number: int | None = None
    checkpoint_l1_block: int | None = None


@dataclass(slots=True)
class ExitResult:
    withdrawal_id: int
    l1_receipt: dict
    l1_balance: int
    """The recipient's L1 balance of the token after the payment."""


def _address(value: str | bytes | None) -> bytes:
    if value is None or (isinstance(value, str) and value.upper() == "ETH"):
        return ETH
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not Web3.is_address(value):
        raise BridgeUserError(f"expected an address (0x followed by 40 hex digits) or ETH, got {value!r}")
    return bytes.fromhex(value[2:])


def _hex(value: bytes) -> str:
    return Web3.to_checksum_address(value)


class BridgeUser:
    """One user's key and the two chains."""

    def __init__(self, network: Network, private_key: bytes, *, confirmations: int = DEVNET_CONFIRMATIONS,
                 report: Reporter | None = None, poll: float = 0.2, timeout: float = 300.0) -> None:
        self.network = network
        self.key = private_key
        self.address = Account.from_key(private_key).address
        self.confirmations = confirmations
        self.report = report or (lambda progress: None)
        self.poll, self.timeout = poll, timeout
        self.l1 = Web3(Web3.HTTPProvider(network.l1_rpc, request_kwargs={"timeout": 15}))
        self.sidechain = Web3(Web3.HTTPProvider(network.sidechain_rpc, request_kwargs={"timeout": 15}))
        self.root_bridge = contract_at(self.l1, "RootBridge", network.root_bridge)
        self.manager = contract_at(self.l1, "CheckpointManager", network.checkpoint_manager)
        self.bridge = bridge_contract(self.sidechain)

    # --- deposit -------------------------------------------------------------------------------------

    def deposit(self, amount: int, token: str | bytes | None = None, to: str | bytes | None = None, *,
                wait: bool = True) -> DepositResult:
        """Lock `amount` of `token` (None or "ETH" for ether, else an L1 ERC-20) on L1 for `to` on the
        sidechain (default: ourselves), then follow it until it is minted (unless `wait` is False)."""
        token, recipient = _address(token), _address(to or self.address)
        self._check_reachable()
        if amount <= 0:
            raise BridgeUserError(f"a deposit must be positive, got {amount}")
        symbol, decimals = self._l1_token_info(token)
        held = self.l1.eth.get_balance(self.address) if token == ETH else \
            l1_erc20(self.l1, token).functions.balanceOf(self.address).call()
        if held < amount:
            raise BridgeUserError(f"not enough {symbol} on L1: {self.address} holds {format_units(held, decimals)}, "
                                  f"the deposit needs {format_units(amount, decimals)}")
        result = DepositResult(0, token, amount)
        try:
            if token == ETH:
                receipt = deposit_eth(self.l1, self.root_bridge, self.key, _hex(recipient), amount)
            else:
                erc20 = l1_erc20(self.l1, token)
                if erc20.functions.allowance(self.address, self.root_bridge.address).call() < amount:
                    approval = send_transaction(self.l1, erc20.functions.approve(self.root_bridge.address, amount),
                                                self.key)
                    result.l1_receipts.append(approval)
                    self.report(Progress("approved", f"approved RootBridge to take {format_units(amount, decimals)} "
                                                     f"{symbol} (L1 tx {approval['transactionHash'].to_0x_hex()})", True))
                receipt = deposit_erc20(self.l1, self.root_bridge, self.key, token, _hex(recipient), amount)
        except (ContractCustomError, ContractLogicError) as exc:
            raise BridgeUserError(f"RootBridge refused the deposit: {self._l1_reason(exc)}") from None
        result.l1_receipts.append(receipt)
        result.deposit_id = self._deposit_id(receipt)
        self.report(Progress("l1-mined", f"L1 tx {receipt['transactionHash'].to_0x_hex()} mined in block "
                                         f"{receipt['blockNumber']}: deposit {result.deposit_id}, "
                                         f"{format_units(amount, decimals)} {symbol} for {_hex(recipient)}", True))
        if not wait:
            return result
        result.deposit_id = self._wait_deposit_confirmed(receipt["transactionHash"], result.deposit_id)
        status = self._wait_minted(result.deposit_id)
        result.minted_in_block = int(status["mintedInBlock"], 16)
        result.sidechain_balance = self.sidechain_balance(token, recipient)
        self.report(Progress("minted", f"minted in sidechain block {result.minted_in_block}: {_hex(recipient)} now "
                                       f"holds {format_units(result.sidechain_balance, decimals)} {symbol} "
                                       "on the sidechain", True))
        return result

    def _deposit_id(self, receipt) -> int:
        events = self.root_bridge.events.Deposited().process_receipt(receipt, errors=DISCARD)
        return events[0].args.depositId

    def _wait_deposit_confirmed(self, tx_hash: bytes, deposit_id: int) -> int:
        """Until the deposit's block has N confirmations; returns its id (which a reorg may change)."""
        last = None

        def confirmed():
            nonlocal last, deposit_id
            found = confirmations_of(self.l1, tx_hash)
            if found is None:
                message = "the deposit transaction is not in the L1 chain any more (reorg): waiting for it to be mined again"
            else:
                depth, receipt = found
                deposit_id = self._deposit_id(receipt)
                message = f"L1 confirmations {min(depth, self.confirmations)}/{self.confirmations}"
                if depth >= self.confirmations:
                    self.report(Progress("confirmations", message, True))
                    return True
            if message != last:
                self.report(Progress("confirmations", message))
                last = message
            return False

        self._wait(confirmed, f"{self.confirmations} L1 confirmations of deposit {deposit_id}")
        return deposit_id

    def _wait_minted(self, deposit_id: int) -> dict:
        last = None

        def minted():
            nonlocal last
            status = self._sidechain_rpc("sidechain_getDepositStatus", [hex(deposit_id)])
            if status["status"] == "minted":
                return status
            total = int(status["totalPower"], 16)
            power = max([int(c["power"], 16) for c in status["contents"]] or [0])
            message = f"affirmations: power {power} of {total}"
            if status["status"] == "accepted":
                message += f" (accepted; deposit {int(status['nextDepositToMint'], 16)} mints first)"
            elif len(status["contents"]) > 1:
                message += f" (validators disagree: {len(status['contents'])} different contents)"
            if message != last:
                self.report(Progress("affirmations", message))
                last = message
            return None

        status = self._wait(minted, f"deposit {deposit_id} to be minted on the sidechain")
        total = int(status["totalPower"], 16)
        power = max([int(c["power"], 16) for c in status["contents"]] or [0])
        self.report(Progress("affirmations", f"affirmations: power {power} of {total}", True))
        return status

    # --- withdraw ------------------------------------------------------------------------------------

    def withdraw(self, amount: int, token: str | bytes | None = None, to: str | bytes | None = None, *,
                 wait: bool = True) -> WithdrawResult:
        """Burn `amount` of the sidechain token bridged from L1 `token` (None/"ETH" for ether) for `to` on
        L1 (default: ourselves), then follow it until its checkpoint is on L1 (unless `wait` is False)."""
        l1_token, recipient = _address(token), _address(to or self.address)
        self._check_reachable()
        if amount <= 0:
            raise BridgeUserError(f"a withdrawal must be positive, got {amount}")
        symbol, decimals = self._sidechain_token_info(l1_token)
        held = self.sidechain_balance(l1_token, self.address)
        if held < amount:
            raise BridgeUserError(f"not enough {symbol} on the sidechain: {self.address} holds "
                                  f"{format_units(held, decimals)}, the withdrawal needs {format_units(amount, decimals)}")
        call = self.bridge.functions.withdraw(_hex(l1_token), amount, _hex(recipient))
        receipt = self._send_sidechain(call, amount if l1_token == ETH else 0)
        events = self.bridge.events.WithdrawalRecorded().process_receipt(receipt, errors=DISCARD)
        result = WithdrawResult(events[0].args.withdrawalId, receipt)
        self.report(Progress("burned", f"burned {format_units(amount, decimals)} {symbol} in sidechain tx "
                                       f"{receipt['transactionHash'].to_0x_hex()} (block {receipt['blockNumber']}): "
                                       f"withdrawal {result.withdrawal_id} to {_hex(recipient)} on L1", True))
        if not wait:
            return result
        proof = self._wait_withdrawal_final(result.withdrawal_id, receipt["blockNumber"])
        result.checkpoint_number = int(proof["checkpointNumber"], 16)
        result.checkpoint_l1_block = self._wait_checkpoint_on_l1(result.checkpoint_number)
        self.report(Progress("checkpoint-l1", f"checkpoint {result.checkpoint_number} on L1 (block "
                                              f"{result.checkpoint_l1_block}): exit possible: "
                                              f"bridge exit --withdrawal {result.withdrawal_id}", True))
        return result

    def _wait_withdrawal_final(self, withdrawal_id: int, block: int) -> dict:
        last = None

        def final():
            nonlocal last
            reply = self.sidechain.provider.make_request("sidechain_getWithdrawalProof", [hex(withdrawal_id)])
            if "result" in reply:
                return reply["result"]
            height = self.sidechain.eth.block_number
            message = f"waiting for the checkpoint range holding block {block} to close (sidechain at block {height})"
            if message != last:
                self.report(Progress("checkpoint-final", message))
                last = message
            return None

        proof = self._wait(final, f"the checkpoint of withdrawal {withdrawal_id} to be final on the sidechain")
        checkpoint = self._sidechain_rpc("sidechain_getCheckpoint", [proof["checkpointNumber"]])
        self.report(Progress("checkpoint-final", f"checkpoint {int(proof['checkpointNumber'], 16)} final on the "
                                                 f"sidechain (blocks {int(checkpoint['startBlock'], 16)}-"
                                                 f"{int(checkpoint['endBlock'], 16)})", True))
        return proof

    def _wait_checkpoint_on_l1(self, number: int) -> int:
        """Until checkpoint `number` is on L1 with N confirmations; returns the L1 block holding it."""
        last = None

        def landed():
            nonlocal last
            on_l1, _ = self.manager.functions.lastCheckpoint().call()
            message = f"checkpoint on L1: L1 has checkpoints up to {on_l1}, waiting for {number}"
            if on_l1 >= number:
                events = self.manager.events.CheckpointSubmitted().get_logs(
                    from_block=self.network.deploy_block, argument_filters={"number": number})
                found = confirmations_of(self.l1, events[-1].transactionHash) if events else None
                if found is not None:
                    depth, receipt = found
                    if depth >= self.confirmations:
                        return receipt["blockNumber"]
                    message = f"checkpoint {number} on L1 in block {receipt['blockNumber']}: confirmations " \
                              f"{depth}/{self.confirmations}"
            if message != last:
                self.report(Progress("checkpoint-l1", message))
                last = message
            return None

        return self._wait(landed, f"checkpoint {number} on L1")

    # --- exit ----------------------------------------------------------------------------------------

    def exit(self, withdrawal_id: int) -> ExitResult:
        """Claim withdrawal `withdrawal_id` on L1, proven against its checkpoint (anyone may send it;
        the recipient recorded on the sidechain is paid)."""
        self._check_reachable()
        served = self.sidechain.provider.make_request("sidechain_getWithdrawal", [hex(withdrawal_id)])
        if served.get("result") is None:
            raise BridgeUserError(f"no withdrawal {withdrawal_id} on the sidechain (next id is "
                                  f"{self.bridge.functions.nextWithdrawalId().call()})")
        if self.root_bridge.functions.isExited(withdrawal_id).call():
            raise BridgeUserError(f"withdrawal {withdrawal_id} has already been exited (paid on L1)")
        reply = self.sidechain.provider.make_request("sidechain_getWithdrawalProof", [hex(withdrawal_id)])
        if "error" in reply:
            raise BridgeUserError(f"withdrawal {withdrawal_id} (sidechain block {int(served['result']['blockNumber'], 16)}) "
                                  "is not in a final checkpoint yet; wait for it: "
                                  f"bridge status withdrawal {withdrawal_id}")
        proof = reply["result"]
        number = int(proof["checkpointNumber"], 16)
        on_l1, _ = self.manager.functions.lastCheckpoint().call()
        if on_l1 < number:
            raise BridgeUserError(f"checkpoint {number}, which holds withdrawal {withdrawal_id}, is not on L1 yet "
                                  f"(L1 has checkpoints up to {on_l1}); the relayers submit it shortly: "
                                  f"bridge status withdrawal {withdrawal_id}")
        w = proof["withdrawal"]
        withdrawal = Withdrawal(withdrawal_id, w["l1Token"], w["l1Recipient"], int(w["amount"], 16))
        try:
            receipt = exit_withdrawal(self.l1, self.root_bridge, self.key, withdrawal, number,
                                      [bytes.fromhex(p[2:]) for p in proof["proof"]])
        except (ContractCustomError, ContractLogicError) as exc:
            raise BridgeUserError(f"RootBridge refused the exit: {self._l1_reason(exc)}") from None
        symbol, decimals = self._l1_token_info(withdrawal.token)
        recipient = _hex(withdrawal.recipient)
        balance = self.l1_balance(withdrawal.token, recipient)
        self.report(Progress("paid", f"paid {format_units(withdrawal.amount, decimals)} {symbol} to {recipient} in L1 "
                                     f"tx {receipt['transactionHash'].to_0x_hex()} (block {receipt['blockNumber']}): "
                                     f"L1 balance now {format_units(balance, decimals)} {symbol}", True))
        return ExitResult(withdrawal_id, receipt, balance)

    # --- status --------------------------------------------------------------------------------------

    def deposit_status(self, deposit_id: int) -> list[str]:
        """Where deposit `deposit_id` stands, on L1 and on the sidechain, as lines to show."""
        self._check_reachable()
        events = self.root_bridge.events.Deposited().get_logs(from_block=self.network.deploy_block,
                                                              argument_filters={"depositId": deposit_id})
        if not events:
            raise BridgeUserError(f"no deposit {deposit_id} on L1 (next id is "
                                  f"{self.root_bridge.functions.nextDepositId().call()})")
        event = events[-1]
        symbol, decimals = self._l1_token_info(_address(event.args.token))
        found = confirmations_of(self.l1, event.transactionHash)
        depth = found[0] if found else 0
        lines = [f"deposit {deposit_id}: {format_units(event.args.amount, decimals)} {symbol} from {event.args.sender} "
                 f"to {event.args.recipient}",
                 f"  L1: tx {event.transactionHash.to_0x_hex()} in block {event.blockNumber}, {depth} confirmation(s)"]
        status = self._sidechain_rpc("sidechain_getDepositStatus", [hex(deposit_id)])
        power = max([int(c["power"], 16) for c in status["contents"]] or [0])
        line = f"  sidechain: {status['status']}, affirmations power {power} of {int(status['totalPower'], 16)}"
        if status["status"] == "minted":
            line += f", minted in block {int(status['mintedInBlock'], 16)}"
        return lines + [line]

    def withdrawal_status(self, withdrawal_id: int) -> list[str]:
        """Where withdrawal `withdrawal_id` stands, as lines to show."""
        self._check_reachable()
        served = self.sidechain.provider.make_request("sidechain_getWithdrawal", [hex(withdrawal_id)]).get("result")
        if served is None:
            raise BridgeUserError(f"no withdrawal {withdrawal_id} on the sidechain")
        l1_token = _address(served["l1Token"])
        symbol, decimals = self._l1_token_info(l1_token)
        lines = [f"withdrawal {withdrawal_id}: {format_units(int(served['amount'], 16), decimals)} {symbol} from "
                 f"{_hex(_address(served['from']))} to {_hex(_address(served['l1Recipient']))} on L1",
                 f"  sidechain: burned in block {int(served['blockNumber'], 16)}"]
        reply = self.sidechain.provider.make_request("sidechain_getWithdrawalProof", [hex(withdrawal_id)])
        if "error" in reply:
            return lines + ["  checkpoint: its range is not final yet"]
        number = int(reply["result"]["checkpointNumber"], 16)
        on_l1, _ = self.manager.functions.lastCheckpoint().call()
        if on_l1 < number:
            return lines + [f"  checkpoint {number}: final on the sidechain, not on L1 yet (L1 has up to {on_l1})"]
        if self.root_bridge.functions.isExited(withdrawal_id).call():
            return lines + [f"  checkpoint {number}: on L1", "  exited: paid on L1"]
        return lines + [f"  checkpoint {number}: on L1", f"  not exited yet: bridge exit --withdrawal {withdrawal_id}"]

    # --- balances and tokens -------------------------------------------------------------------------

    def l1_balance(self, token: str | bytes | None, owner: str | bytes | None = None) -> int:
        token, owner = _address(token), _hex(_address(owner or self.address))
        return self.l1.eth.get_balance(owner) if token == ETH else l1_erc20(self.l1, token).functions.balanceOf(owner).call()

    def sidechain_balance(self, l1_token: str | bytes | None, owner: str | bytes | None = None) -> int:
        """Balance on the sidechain of what was bridged from `l1_token` (ETH: the native coin)."""
        l1_token, owner = _address(l1_token), _hex(_address(owner or self.address))
        if l1_token == ETH:
            return self.sidechain.eth.get_balance(owner)
        if int(self.bridge.functions.tokenFor(_hex(l1_token)).call(), 16) == 0:
            return 0
        return ledger(self.sidechain, l1_token).functions.balanceOf(owner).call()

    def l1_decimals(self, token: str | bytes | None) -> int:
        return self._l1_token_info(_address(token))[1]

    def sidechain_decimals(self, l1_token: str | bytes | None) -> int:
        return self._sidechain_token_info(_address(l1_token))[1]

    def _l1_token_info(self, token: bytes) -> tuple[str, int]:
        if token == ETH:
            return "ETH", 18
        if not self.l1.eth.get_code(_hex(token)):
            raise BridgeUserError(f"{_hex(token)} is not a token contract on L1")
        contract = l1_erc20(self.l1, token)
        try:
            return contract.functions.symbol().call(), contract.functions.decimals().call()
        except (ContractLogicError, ValueError):
            return _hex(token), 18

    def _sidechain_token_info(self, l1_token: bytes) -> tuple[str, int]:
        if l1_token == ETH:
            return "ETH", 18
        if int(self.bridge.functions.tokenFor(_hex(l1_token)).call(), 16) == 0:
            raise BridgeUserError(f"L1 token {_hex(l1_token)} has not been bridged to the sidechain (deposit it first)")
        contract = ledger(self.sidechain, l1_token)
        return contract.functions.symbol().call(), contract.functions.decimals().call()

    # --- plumbing ------------------------------------------------------------------------------------

    def _send_sidechain(self, call, value: int) -> dict:
        """Sign and send `call` on the sidechain (EIP-1559, fees and nonce from the node) and wait for it."""
        params = {"from": self.address, "value": value}
        try:
            gas = call.estimate_gas(params)
        except ContractLogicError as exc:
            raise BridgeUserError(f"the sidechain refuses the transaction: {exc}") from None
        tip = self.sidechain.eth.max_priority_fee
        nonce = self.sidechain.eth.get_transaction_count(self.address, "pending")
        tx = call.build_transaction({**params, "gas": gas, "nonce": nonce,
                                     "maxPriorityFeePerGas": tip,
                                     "maxFeePerGas": 2 * self.sidechain.eth.get_block("latest")["baseFeePerGas"] + tip})
        tx_hash = self.sidechain.eth.send_raw_transaction(Account.sign_transaction(tx, self.key).raw_transaction)
        try:
            receipt = self.sidechain.eth.wait_for_transaction_receipt(tx_hash, timeout=self.timeout, poll_latency=self.poll)
        except TimeExhausted:
            raise BridgeUserError(f"sidechain tx {tx_hash.to_0x_hex()} not mined within {self.timeout:.0f} s") from None
        if receipt["status"] != 1:
            raise TransactionFailed(f"sidechain tx {tx_hash.to_0x_hex()} reverted")
        return receipt

    def _sidechain_rpc(self, method: str, params: list):
        reply = self.sidechain.provider.make_request(method, params)
        if "error" in reply:
            raise BridgeUserError(f"{method}: {reply['error'].get('message')}")
        return reply["result"]

    def _check_reachable(self) -> None:
        for name, w3, url in (("the sidechain node", self.sidechain, self.network.sidechain_rpc),
                              ("the L1", self.l1, self.network.l1_rpc)):
            try:
                w3.eth.chain_id
            except (requests.exceptions.RequestException, OSError) as exc:
                raise Unreachable(f"cannot reach {name} at {url}: {type(exc).__name__}") from None

    def _wait(self, condition, what: str):
        """Poll `condition` until it returns something truthy; an unreachable node counts as "not yet"
        until the deadline."""
        deadline = time.monotonic() + self.timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = condition()
            except (requests.exceptions.RequestException, OSError) as exc:
                value, last_error = None, exc
            if value:
                return value
            time.sleep(self.poll)
        raise BridgeUserError(f"gave up after {self.timeout:.0f} s waiting for {what}"
                              + (f" (last error: {type(last_error).__name__}: {last_error})" if last_error else ""))

    def _l1_reason(self, exc: Exception) -> str:
        data = getattr(exc, "data", None)
        if isinstance(data, (str, bytes)):
            try:
                decoded = decode_error(self.root_bridge.abi, data)
                return f"{decoded.name}({', '.join(f'{k}={v}' for k, v in decoded.args.items())})"
            except ValueError:
                pass
        return str(exc)
