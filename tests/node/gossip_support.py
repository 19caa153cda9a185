"""Fakes for the gossip wiring tests: the slice of P2PService that gossip uses, and the consensus
driver as gossip sees it (sidechain.node.network.ConsensusInbox); the validators and the signed
transactions they share."""

from __future__ import annotations

import inspect
import time

from eth_account import Account

from sidechain.consensus.messages import ValidatorSet
from sidechain.crypto import private_key_to_address
from sidechain.devkeys import anvil_private_key
from sidechain.p2p import RequestTimeout, ValidationResult

HEIGHT = 10
"""The height the fake driver is deciding."""
CHAIN_ID = 7070
GAS_LIMIT = 30_000_000
KEYS = [anvil_private_key(6 + i) for i in range(4)]
ADDRESSES = [private_key_to_address(k) for k in KEYS]
VALIDATORS = ValidatorSet(tuple(ADDRESSES), (1, 1, 1, 1))
USER = Account.from_key(anvil_private_key(0))
"""Who signs the transactions the tests gossip."""


def signed(nonce: int, chain_id: int = CHAIN_ID, *, gas: int = 21_000, data: bytes = b"") -> bytes:
    """A raw EIP-1559 transfer of 1 wei from USER."""
    return bytes(USER.sign_transaction({
        "type": 2, "chainId": chain_id, "nonce": nonce, "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 2 * 10**9,
        "gas": gas, "to": "0x" + "22" * 20, "value": 1, "data": data,
    }).raw_transaction)


class FakeP2P:
    """Records subscriptions and publishes; `deliver` runs a peer's message through the registered
    validator and, when it ACCEPTs, the handler, as P2PService does."""

    def __init__(self) -> None:
        self.topics: dict[str, tuple] = {}
        self.published: list[tuple[str, bytes]] = []

    def subscribe(self, topic, validator, handler) -> None:
        self.topics[topic] = (validator, handler)

    def publish(self, topic: str, data: bytes) -> None:
        self.published.append((topic, data))

    async def deliver(self, topic: str, data: bytes, peer: str = "peer") -> ValidationResult:
        validator, handler = self.topics[topic]
        result = validator(data, peer)
        if inspect.isawaitable(result):
            result = await result
        if result is ValidationResult.ACCEPT:
            handler(data, peer)
        return result


class FakeInbox:
    """The consensus driver as gossip sees it: deciding HEIGHT, refusing what `refuse` returns."""

    def __init__(self, height: int = HEIGHT) -> None:
        self.height, self.height_started = height, time.time() - 0.5
        self.refuse: str | None = None
        self.got: list[tuple] = []

    def refusal(self, height, round_, signer, size, *, proposal=False):
        return self.refuse

    def receive_proposal(self, proposal, block, *, verified=False):
        self.got.append(("proposal", proposal, block, verified))

    def receive_vote(self, vote, *, verified=False):
        self.got.append(("vote", vote, verified))

    def receive_duplicate_proposal(self, proposal):
        self.got.append(("duplicate", proposal))

    def receive_evidence(self, evidence):
        self.got.append(("evidence", evidence))

    def knows_evidence(self, offence):
        return False


class LinkedP2P(FakeP2P):
    """A FakeP2P that also asks and answers requests, between the endpoints sharing `links`
    (name -> endpoint); a request to a name not there, or unserved, times out."""

    def __init__(self, name: str, links: dict) -> None:
        super().__init__()
        self.name, self.links = name, links
        self.handlers: dict[str, object] = {}
        self.requests: list[tuple[str, str]] = []
        links[name] = self

    def set_request_handler(self, protocol: str, handler) -> None:
        self.handlers[protocol] = handler

    def peers(self) -> list[str]:
        return [name for name in self.links if name != self.name]

    async def request(self, peer: str, protocol: str, data: bytes, timeout: float = 10.0) -> bytes:
        self.requests.append((peer, protocol))
        endpoint = self.links.get(peer)
        if endpoint is None or protocol not in endpoint.handlers:
            raise RequestTimeout(f"no response from {peer} to {protocol} within {timeout} s")
        return await endpoint.handlers[protocol](data, self.name)
