"""The bridge's supply invariant, per token, read from both chains:

    held by RootBridge on L1 == RootBridge.lockedBalance(token) + RootBridge.totalClaimable(token)
    lockedBalance            == genesis locked + minted on the sidechain + deposited but not minted yet - exited on L1
    totalClaimable (owed)    == credited by exits - claimed
    genesis locked on L1     == the genesis supply the sidechain recorded
    exited <= burned <= genesis supply + minted
    can still exit = genesis supply + minted - exited <= held - owed

The genesis terms are ETH's alone (RootBridge locked the sidechain genesis's allocations at its
deployment; 0 for every ERC-20). Every wei of the native coin is backed: what circulates on the
sidechain, at most genesis supply + minted - burned, plus what was burned and not exited yet is at
most what RootBridge holds.

An exit whose payment failed (a recipient that refuses ETH, a token that refuses the transfer) is
exited all the same: it leaves lockedBalance when it is spent, and its amount counts as owed, held
by RootBridge for its recipient to claim (`ExitCredited`, then `Claimed`), never again as backing.
`bridge supply` prints it; the tests check it after every bridge test. Reads only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from web3 import Web3

from sidechain.errors import SidechainError

from .deploy import contract_at
from .endpoints import failover_web3
from .root_bridge import ETH, deposits_in, l1_erc20
from .sidechain_contracts import bridge_contract

EXITED_TOPIC = Web3.keccak(text="Exited(uint64,address,address,uint256)")
EXIT_CREDITED_TOPIC = Web3.keccak(text="ExitCredited(uint64,address,address,uint256)")
CLAIMED_TOPIC = Web3.keccak(text="Claimed(address,address,address,uint256)")


@dataclass(frozen=True, slots=True)
class TokenSupply:
    token: bytes
    """The L1 token; ETH is the zero address."""
    held: int
    """What RootBridge actually holds on L1."""
    locked: int
    """RootBridge's own books: credited deposits (ETH: and the genesis lock) minus exits."""
    minted: int
    """Minted on the sidechain over its life."""
    unminted: int
    """Deposited on L1 but not minted on the sidechain yet."""
    burned: int
    """Withdrawn (burned) on the sidechain over its life."""
    exited: int
    """Exited on L1: paid to the recipients, or credited to them when the payment failed."""
    genesis_locked: int = 0
    """ETH only: what RootBridge locked at its deployment (RootBridge.genesisLocked())."""
    genesis_supply: int = 0
    """ETH only: the native coin the sidechain's genesis allocated, as its bridge recorded it (genesisSupply())."""
    owed: int = 0
    """Exited but not paid yet: RootBridge's totalClaimable(token), held for recipients to claim."""
    credited: int = 0
    """Exits credited to a claimable balance because paying the recipient failed (ExitCredited)."""
    claimed: int = 0
    """Claimable balances paid out since (Claimed)."""

    @property
    def can_exit(self) -> int:
        """What may still leave through exits: the genesis supply and what was minted, less what exited."""
        return self.genesis_supply + self.minted - self.exited

    @property
    def holds(self) -> bool:
        return (self.held == self.locked + self.owed
                and self.locked == self.genesis_locked + self.minted + self.unminted - self.exited
                and self.owed == self.credited - self.claimed
                and self.genesis_supply == self.genesis_locked
                and self.exited <= self.burned <= self.genesis_supply + self.minted
                and self.can_exit + self.owed <= self.held)

    def describe(self) -> str:
        name = "ETH" if self.token == ETH else "0x" + self.token.hex()
        verdict = "ok" if self.holds else "MISMATCH"
        genesis = (f"genesis locked {self.genesis_locked} on L1 (sidechain genesis supply {self.genesis_supply}), "
                   if self.token == ETH else "")
        owed = (f", owed {self.owed} to claim (credited {self.credited}, claimed {self.claimed})"
                if self.owed or self.credited or self.claimed else "")
        return (f"{name}: held {self.held}, locked {self.locked}, {genesis}minted {self.minted} (+{self.unminted} "
                f"pending), burned {self.burned}, exited {self.exited}{owed}, can still exit {self.can_exit}: {verdict}")


def _served(sidechain: Web3, method: str, params: list):
    reply = sidechain.provider.make_request(method, params)
    if "error" in reply:
        raise SidechainError(f"{method}: {reply['error'].get('message')}")
    return reply["result"]


def supply_report(l1: Web3, root_bridge: str, sidechain_rpc: str | Sequence[str], from_block: int = 0) -> list[TokenSupply]:
    """The invariant's terms for ETH and every token deposited so far; `sidechain_rpc` is one URL
    or several, tried in turn (`bridge.endpoints`)."""
    sidechain = failover_web3(sidechain_rpc)
    bridge = contract_at(l1, "RootBridge", root_bridge)
    head = l1.eth.block_number
    deposits = deposits_in(l1, bridge, from_block, head)
    next_to_mint = int(_served(sidechain, "sidechain_getDepositStatus", ["0x1"])["nextDepositToMint"], 16)
    exited: Counter[bytes] = Counter()
    credited: Counter[bytes] = Counter()
    claimed: Counter[bytes] = Counter()
    for log in l1.eth.get_logs({"address": bridge.address, "fromBlock": from_block, "toBlock": head,
                                "topics": [[EXITED_TOPIC, EXIT_CREDITED_TOPIC, CLAIMED_TOPIC]]}):
        topic, token = bytes(log["topics"][0]), bytes(log["topics"][2])[12:]
        amount = int.from_bytes(bytes(log["data"])[-32:], "big")  # the last word in all three (Claimed: to, amount)
        if topic == CLAIMED_TOPIC:
            claimed[token] += amount
        else:  # paid or credited: exited either way
            exited[token] += amount
            if topic == EXIT_CREDITED_TOPIC:
                credited[token] += amount
    tokens = [ETH] + sorted({d.token for d in deposits} - {ETH})
    genesis_locked = bridge.functions.genesisLocked().call()
    genesis_supply = bridge_contract(sidechain).functions.genesisSupply().call()
    report = []
    for token in tokens:
        totals = _served(sidechain, "sidechain_getBridgeTotals", ["0x" + token.hex()])
        held = l1.eth.get_balance(bridge.address) if token == ETH else \
            l1_erc20(l1, token).functions.balanceOf(bridge.address).call()
        report.append(TokenSupply(
            token=token, held=held, locked=bridge.functions.lockedBalance(Web3.to_checksum_address(token)).call(),
            minted=int(totals["minted"], 16),
            unminted=sum(d.amount for d in deposits if d.token == token and d.deposit_id >= next_to_mint),
            burned=int(totals["burned"], 16), exited=exited[token],
            owed=bridge.functions.totalClaimable(Web3.to_checksum_address(token)).call(),
            credited=credited[token], claimed=claimed[token],
            **({"genesis_locked": genesis_locked, "genesis_supply": genesis_supply} if token == ETH else {}),
        ))
    return report
