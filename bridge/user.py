"""The user's side of the bridge as a Python API: deposit (L1 -> sidechain), withdraw (sidechain ->
L1), exit (claim a withdrawal on L1), claim (what an exit credited when it could not pay) and status.
`bridge deposit | withdraw | exit | claim | status` are thin wrappers; a test or a script calls the
same methods.

Each command goes through the stages the user waits for and reports each one (and progress while
waiting, only as often as `bridge.progress.Waiting` lets it through) to a `report` callback as a `Progress`:

    deposit:  l1-mined -> confirmations k/N -> affirmations (power x of y) -> minted
    withdraw: burned -> checkpoint n final on the sidechain -> checkpoint n on L1 (exit possible)
    exit:     paid (or credited, when the recipient refuses the payment: then `claim`)
    claim:    claimed

With `wait=False` a command returns after its first stage. Anything that cannot proceed (no
balance, unknown id, already exited, checkpoint not on L1 yet, a node unreachable) raises
`BridgeUserError` with a message saying what to do. Amounts are integers in the token's smallest
unit; `to_units` and `format_units` convert from and to whole units ("1.5").

The read-only half (network, units, status, balances, token info) is `bridge.user_view`; its public
names are re-exported here (`from bridge.user import Network, to_units`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import requests
from eth_account import Account
from web3.logs import DISCARD
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted

from .contract_errors import decode_error
from .deploy import TransactionFailed, send_transaction
from .deposits import DEVNET_CONFIRMATIONS
from .relayer import confirmations_of
from .root_bridge import ETH, Withdrawal, claim_credit, deposit_erc20, deposit_eth, exit_withdrawal, l1_erc20
from .progress import REPORT_EVERY, Progress, Reporter, Waiting, round_step
from .user_view import (BridgeUserError, BridgeView, Network, Unreachable, checksum, dev_key, format_units, to_address,
                        to_units)

__all__ = ["BridgeUser", "BridgeUserError", "BridgeView", "ClaimResult", "DepositResult", "ExitResult", "Network", "Progress",
           "Reporter", "Unreachable", "Waiting", "WithdrawResult", "dev_key", "format_units", "round_step", "to_units"]


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
    credited: bool = False
    """The recipient refused the payment: the amount is its claimable balance on RootBridge instead."""


@dataclass(slots=True)
class ClaimResult:
    token: bytes
    amount: int
    to: bytes
    l1_receipt: dict


class BridgeUser(BridgeView):
    """One user's key and the two chains: the commands that send transactions and wait for them."""

    def __init__(self, network: Network, private_key: bytes, *, confirmations: int = DEVNET_CONFIRMATIONS,
                 report: Reporter | None = None, poll: float = 0.2, timeout: float = 300.0,
                 report_every: float = REPORT_EVERY) -> None:
        super().__init__(network, Account.from_key(private_key).address)
        self.key = private_key
        self.confirmations = confirmations
        self.report = report or (lambda progress: None)
        self.poll, self.timeout, self.report_every = poll, timeout, report_every

    def _waiting(self, stage: str) -> Waiting:
        return Waiting(self.report, stage, self.report_every)

    # --- deposit -------------------------------------------------------------------------------------

    def deposit(self, amount: int, token: str | bytes | None = None, to: str | bytes | None = None, *,
                wait: bool = True) -> DepositResult:
        """Lock `amount` of `token` (None or "ETH" for ether, else an L1 ERC-20) on L1 for `to` on the
        sidechain (default: ourselves), then follow it until it is minted (unless `wait` is False)."""
        token, recipient = to_address(token), to_address(to or self.address)
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
                receipt = deposit_eth(self.l1, self.root_bridge, self.key, checksum(recipient), amount)
            else:
                erc20 = l1_erc20(self.l1, token)
                if erc20.functions.allowance(self.address, self.root_bridge.address).call() < amount:
                    approval = send_transaction(self.l1, erc20.functions.approve(self.root_bridge.address, amount),
                                                self.key)
                    result.l1_receipts.append(approval)
                    self.report(Progress("approved", f"approved RootBridge to take {format_units(amount, decimals)} "
                                                     f"{symbol} (L1 tx {approval['transactionHash'].to_0x_hex()})", True))
                receipt = deposit_erc20(self.l1, self.root_bridge, self.key, token, checksum(recipient), amount)
        except (ContractCustomError, ContractLogicError) as exc:
            raise BridgeUserError(f"RootBridge refused the deposit: {self._l1_reason(exc)}") from None
        result.l1_receipts.append(receipt)
        result.deposit_id = self._deposit_id(receipt)
        self.report(Progress("l1-mined", f"L1 tx {receipt['transactionHash'].to_0x_hex()} mined in block "
                                         f"{receipt['blockNumber']}: deposit {result.deposit_id}, "
                                         f"{format_units(amount, decimals)} {symbol} for {checksum(recipient)}", True))
        if not wait:
            return result
        result.deposit_id = self._wait_deposit_confirmed(receipt["transactionHash"], result.deposit_id)
        status = self._wait_minted(result.deposit_id)
        result.minted_in_block = int(status["mintedInBlock"], 16)
        result.sidechain_balance = self.sidechain_balance(token, recipient)
        self.report(Progress("minted", f"minted in sidechain block {result.minted_in_block}: {checksum(recipient)} now "
                                       f"holds {format_units(result.sidechain_balance, decimals)} {symbol} "
                                       "on the sidechain", True))
        return result

    def _deposit_id(self, receipt) -> int:
        events = self.root_bridge.events.Deposited().process_receipt(receipt, errors=DISCARD)
        return events[0].args.depositId

    def _wait_deposit_confirmed(self, tx_hash: bytes, deposit_id: int) -> int:
        """Until the deposit's block has N confirmations; returns its id (which a reorg may change)."""
        waiting, step = self._waiting("confirmations"), round_step(self.confirmations)

        def confirmed():
            nonlocal deposit_id
            found = confirmations_of(self.l1, tx_hash)
            if found is None:
                waiting("the deposit transaction is not in the L1 chain any more (reorg): waiting for it to be mined "
                        "again", "reorg")
                return False
            depth, receipt = found
            deposit_id = self._deposit_id(receipt)
            message = f"L1 confirmations {min(depth, self.confirmations)}/{self.confirmations}"
            if depth >= self.confirmations:
                self.report(Progress("confirmations", message, True))
                return True
            waiting(message, depth // step)
            return False

        self._wait(confirmed, f"{self.confirmations} L1 confirmations of deposit {deposit_id}")
        return deposit_id

    def _wait_minted(self, deposit_id: int) -> dict:
        waiting = self._waiting("affirmations")

        def minted():
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
            waiting(message, message)  # each change of power or state matters
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
        l1_token, recipient = to_address(token), to_address(to or self.address)
        self._check_reachable()
        if amount <= 0:
            raise BridgeUserError(f"a withdrawal must be positive, got {amount}")
        symbol, decimals = self._sidechain_token_info(l1_token)
        held = self.sidechain_balance(l1_token, self.address)
        if held < amount:
            raise BridgeUserError(f"not enough {symbol} on the sidechain: {self.address} holds "
                                  f"{format_units(held, decimals)}, the withdrawal needs {format_units(amount, decimals)}")
        call = self.bridge.functions.withdraw(checksum(l1_token), amount, checksum(recipient))
        receipt = self._send_sidechain(call, amount if l1_token == ETH else 0)
        events = self.bridge.events.WithdrawalRecorded().process_receipt(receipt, errors=DISCARD)
        result = WithdrawResult(events[0].args.withdrawalId, receipt)
        self.report(Progress("burned", f"burned {format_units(amount, decimals)} {symbol} in sidechain tx "
                                       f"{receipt['transactionHash'].to_0x_hex()} (block {receipt['blockNumber']}): "
                                       f"withdrawal {result.withdrawal_id} to {checksum(recipient)} on L1", True))
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
        waiting = self._waiting("checkpoint-final")

        def final():
            reply = self.sidechain.provider.make_request("sidechain_getWithdrawalProof", [hex(withdrawal_id)])
            if "result" in reply:
                return reply["result"]
            height, interval = self.sidechain.eth.block_number, self.checkpoint_interval()
            if interval is None:
                waiting(f"waiting for the checkpoint range holding block {block} to close (sidechain at block "
                        f"{height})", None)
                return None
            end = -(-block // interval) * interval
            if height < end:
                left, step = end - height, round_step(interval)
                waiting(f"waiting for the checkpoint range holding block {block} to close at block {end}: "
                        f"{left} block(s) to go", -(-left // step))
            else:
                waiting(f"the checkpoint range closed at block {end}: waiting for its checkpoint", "closed")
            return None

        proof = self._wait(final, f"the checkpoint of withdrawal {withdrawal_id} to be final on the sidechain")
        checkpoint = self._sidechain_rpc("sidechain_getCheckpoint", [proof["checkpointNumber"]])
        self.report(Progress("checkpoint-final", f"checkpoint {int(proof['checkpointNumber'], 16)} final on the "
                                                 f"sidechain (blocks {int(checkpoint['startBlock'], 16)}-"
                                                 f"{int(checkpoint['endBlock'], 16)})", True))
        return proof

    def _wait_checkpoint_on_l1(self, number: int) -> int:
        """Until checkpoint `number` is on L1 with N confirmations; returns the L1 block holding it."""
        waiting, step = self._waiting("checkpoint-l1"), round_step(self.confirmations)

        def landed():
            on_l1, _ = self.manager.functions.lastCheckpoint().call()
            if on_l1 >= number:
                events = self.manager.events.CheckpointSubmitted().get_logs(
                    from_block=self.network.deploy_block, argument_filters={"number": number})
                found = confirmations_of(self.l1, events[-1].transactionHash) if events else None
                if found is not None:
                    depth, receipt = found
                    if depth >= self.confirmations:
                        return receipt["blockNumber"]
                    waiting(f"checkpoint {number} on L1 in block {receipt['blockNumber']}: confirmations "
                            f"{depth}/{self.confirmations}", (receipt["blockNumber"], depth // step))
                    return None
            waiting(f"checkpoint on L1: L1 has checkpoints up to {on_l1}, waiting for {number}", on_l1)
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
            raise BridgeUserError(f"withdrawal {withdrawal_id} has already been exited (paid on L1, or credited to "
                                  "its recipient's claimable balance when the payment failed: bridge claim)")
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
        recipient = checksum(withdrawal.recipient)
        balance = self.l1_balance(withdrawal.token, recipient)
        tx = f"L1 tx {receipt['transactionHash'].to_0x_hex()} (block {receipt['blockNumber']})"
        if self.root_bridge.events.ExitCredited().process_receipt(receipt, errors=DISCARD):
            token = "ETH" if withdrawal.token == ETH else checksum(withdrawal.token)
            self.report(Progress("credited", f"{recipient} refused the payment: {format_units(withdrawal.amount, decimals)} "
                                             f"{symbol} credited to its claimable balance on RootBridge in {tx}; it "
                                             f"claims them to any address with: bridge claim --token {token} --to ADDRESS",
                                 True))
            return ExitResult(withdrawal_id, receipt, balance, credited=True)
        self.report(Progress("paid", f"paid {format_units(withdrawal.amount, decimals)} {symbol} to {recipient} in {tx}: "
                                     f"L1 balance now {format_units(balance, decimals)} {symbol}", True))
        return ExitResult(withdrawal_id, receipt, balance)

    def claim(self, token: str | bytes | None = None, to: str | bytes | None = None) -> ClaimResult:
        """Have RootBridge pay this key's claimable balance of `token` (None/"ETH" for ether), which
        exits to this address credited when paying it failed, to `to` (default: ourselves)."""
        token, to = to_address(token), to_address(to or self.address)
        try:
            owed = self.root_bridge.functions.claimable(self.address, checksum(token)).call()
        except (requests.exceptions.RequestException, OSError) as exc:
            raise Unreachable(f"cannot reach the L1 at {self.network.l1_rpc}: {type(exc).__name__}") from None
        symbol, decimals = self._l1_token_info(token)
        if owed == 0:
            raise BridgeUserError(f"nothing to claim: RootBridge holds no {symbol} for {self.address} (a claimable "
                                  "balance comes from an exit whose payment to this address failed)")
        try:
            receipt = claim_credit(self.l1, self.root_bridge, self.key, token, to)
        except (ContractCustomError, ContractLogicError) as exc:
            raise BridgeUserError(f"RootBridge refused the claim: {self._l1_reason(exc)}") from None
        self.report(Progress("claimed", f"claimed {format_units(owed, decimals)} {symbol}, paid to {checksum(to)} in L1 tx "
                                        f"{receipt['transactionHash'].to_0x_hex()} (block {receipt['blockNumber']})", True))
        return ClaimResult(token, owed, to, receipt)

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
