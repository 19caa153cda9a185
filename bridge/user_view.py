"""The bridge as a user sees it, read only: where the two chains and the contracts are (`Network`),
amounts in whole units, and `BridgeView`: where a deposit or a withdrawal stands, balances, token
symbols and decimals. `bridge.user.BridgeUser` adds a key and the commands that send transactions;
nothing here signs or sends anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path

import requests
from web3 import Web3
from web3.exceptions import ContractLogicError

from sidechain.errors import SidechainError

from .deploy import contract_at
from .endpoints import NoNodeAnswered, failover_web3, network_rpc_urls
from .relayer import confirmations_of
from .root_bridge import ETH, l1_erc20
from .sidechain_contracts import bridge_contract, ledger


class BridgeUserError(SidechainError):
    """A bridge command that cannot proceed; the message says why and what to do next."""


class Unreachable(BridgeUserError):
    """The sidechain node or the L1 does not answer."""


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
    sidechain_nodes: tuple[str, ...] = ()
    """Every sidechain JSON-RPC URL to try, in order (`bridge.endpoints`); empty: `sidechain_rpc` alone."""

    @property
    def sidechain_urls(self) -> tuple[str, ...]:
        """The sidechain JSON-RPC URLs the commands try in turn, `sidechain_rpc` first."""
        return tuple(dict.fromkeys((self.sidechain_rpc, *self.sidechain_nodes)))

    def with_sidechain_rpc(self, urls: tuple[str, ...]) -> "Network":
        """This network reached through `urls` only (`--sidechain-rpc URL[,URL...]`)."""
        return replace(self, sidechain_rpc=urls[0], sidechain_nodes=tuple(urls))

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
                   l1.get("deployBlock", 0), contracts.get("testToken"), network_rpc_urls(network))


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


def to_address(value: str | bytes | None) -> bytes:
    """A user's token or account argument as 20 bytes: None or "ETH" is ether (`ETH`)."""
    if value is None or (isinstance(value, str) and value.upper() == "ETH"):
        return ETH
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not Web3.is_address(value):
        raise BridgeUserError(f"expected an address (0x followed by 40 hex digits) or ETH, got {value!r}")
    return bytes.fromhex(value[2:])


def checksum(value: bytes) -> str:
    return Web3.to_checksum_address(value)


class BridgeView:
    """The two chains and the bridge contracts, for one `address` (whose balances are the default)."""

    def __init__(self, network: Network, address: str) -> None:
        self.network = network
        self.address = address
        self.l1 = Web3(Web3.HTTPProvider(network.l1_rpc, request_kwargs={"timeout": 15}))
        self.sidechain = failover_web3(network.sidechain_urls, timeout=15)
        self.root_bridge = contract_at(self.l1, "RootBridge", network.root_bridge)
        self.manager = contract_at(self.l1, "CheckpointManager", network.checkpoint_manager)
        self.bridge = bridge_contract(self.sidechain)
        self._checkpoint_interval: int | None = None

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
        symbol, decimals = self._l1_token_info(to_address(event.args.token))
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
        l1_token = to_address(served["l1Token"])
        symbol, decimals = self._l1_token_info(l1_token)
        lines = [f"withdrawal {withdrawal_id}: {format_units(int(served['amount'], 16), decimals)} {symbol} from "
                 f"{checksum(to_address(served['from']))} to {checksum(to_address(served['l1Recipient']))} on L1",
                 f"  sidechain: burned in block {int(served['blockNumber'], 16)}"]
        reply = self.sidechain.provider.make_request("sidechain_getWithdrawalProof", [hex(withdrawal_id)])
        if "error" in reply:
            return lines + ["  checkpoint: its range is not final yet"]
        number = int(reply["result"]["checkpointNumber"], 16)
        on_l1, _ = self.manager.functions.lastCheckpoint().call()
        if on_l1 < number:
            return lines + [f"  checkpoint {number}: final on the sidechain, not on L1 yet (L1 has up to {on_l1})"]
        if self.root_bridge.functions.isExited(withdrawal_id).call():
            credited = self.root_bridge.events.ExitCredited().get_logs(from_block=self.network.deploy_block,
                                                                       argument_filters={"withdrawalId": withdrawal_id})
            if credited:  # the recipient could not be paid: the amount waits for its claim
                recipient = credited[-1].args.recipient
                return lines + [f"  checkpoint {number}: on L1",
                                f"  exited: credited to {recipient}, who claims it with `bridge claim`"]
            return lines + [f"  checkpoint {number}: on L1", "  exited: paid on L1"]
        return lines + [f"  checkpoint {number}: on L1", f"  not exited yet: bridge exit --withdrawal {withdrawal_id}"]

    def checkpoint_interval(self) -> int | None:
        """Blocks per checkpoint range (all as long as checkpoint 1's), or None while none is final."""
        if self._checkpoint_interval is None:
            reply = self.sidechain.provider.make_request("sidechain_getCheckpoint", ["0x1"])
            if "result" in reply:
                first = reply["result"]
                self._checkpoint_interval = int(first["endBlock"], 16) - int(first["startBlock"], 16) + 1
        return self._checkpoint_interval

    # --- balances and tokens -------------------------------------------------------------------------

    def l1_balance(self, token: str | bytes | None, owner: str | bytes | None = None) -> int:
        token, owner = to_address(token), checksum(to_address(owner or self.address))
        return self.l1.eth.get_balance(owner) if token == ETH else l1_erc20(self.l1, token).functions.balanceOf(owner).call()

    def sidechain_balance(self, l1_token: str | bytes | None, owner: str | bytes | None = None) -> int:
        """Balance on the sidechain of what was bridged from `l1_token` (ETH: the native coin)."""
        l1_token, owner = to_address(l1_token), checksum(to_address(owner or self.address))
        if l1_token == ETH:
            return self.sidechain.eth.get_balance(owner)
        if int(self.bridge.functions.tokenFor(checksum(l1_token)).call(), 16) == 0:
            return 0
        return ledger(self.sidechain, l1_token).functions.balanceOf(owner).call()

    def l1_decimals(self, token: str | bytes | None) -> int:
        return self._l1_token_info(to_address(token))[1]

    def sidechain_decimals(self, l1_token: str | bytes | None) -> int:
        return self._sidechain_token_info(to_address(l1_token))[1]

    def _l1_token_info(self, token: bytes) -> tuple[str, int]:
        if token == ETH:
            return "ETH", 18
        if not self.l1.eth.get_code(checksum(token)):
            raise BridgeUserError(f"{checksum(token)} is not a token contract on L1")
        contract = l1_erc20(self.l1, token)
        try:
            return contract.functions.symbol().call(), contract.functions.decimals().call()
        except (ContractLogicError, ValueError):
            return checksum(token), 18

    def _sidechain_token_info(self, l1_token: bytes) -> tuple[str, int]:
        if l1_token == ETH:
            return "ETH", 18
        if int(self.bridge.functions.tokenFor(checksum(l1_token)).call(), 16) == 0:
            raise BridgeUserError(f"L1 token {checksum(l1_token)} has not been bridged to the sidechain (deposit it first)")
        contract = ledger(self.sidechain, l1_token)
        return contract.functions.symbol().call(), contract.functions.decimals().call()

    # --- plumbing ------------------------------------------------------------------------------------

    def _sidechain_rpc(self, method: str, params: list):
        reply = self.sidechain.provider.make_request(method, params)
        if "error" in reply:
            raise BridgeUserError(f"{method}: {reply['error'].get('message')}")
        return reply["result"]

    def _check_reachable(self) -> None:
        try:
            self.sidechain.eth.chain_id
        except NoNodeAnswered as exc:
            raise Unreachable(str(exc)) from None
        try:
            self.l1.eth.chain_id
        except (requests.exceptions.RequestException, OSError) as exc:
            raise Unreachable(f"cannot reach the L1 at {self.network.l1_rpc}: {type(exc).__name__}") from None
