"""The sidechain's JSON-RPC over several nodes: a web3.py provider that tries them in turn.

Every validator serves the same final chain, so a client that knows several nodes (`--sidechain-rpc
URL[,URL...]`, or every node a devnet's network.json lists) need not stop when one is down.
`FailoverProvider` sends each request to the node that answered last; when that node cannot be
reached (connection refused or reset, or no answer within the timeout) it tries the next one, in
the order given, wrapping around, and sticks to the first that answers. When none answers, the
error (`NoNodeAnswered`, a `ConnectionError`) names every URL tried and what each did.

A JSON-RPC error answer is the node's answer, not a failure to reach it: it is returned as is and
nothing is tried elsewhere (a revert or a refused transaction would be refused by every node).

Transactions. Resending a signed raw transaction to another node is safe: it is the same transaction
with the same hash, included at most once. So `eth_sendRawTransaction` fails over like a read, and
when it had to (the previous node may have taken the transaction before it stopped answering) an
error answer from the next node is checked against that node's view: if it knows the transaction
already ("already known", or mined), the send counts as accepted and the hash is returned.

Nonces. Because the provider only moves on when a node is unreachable, the reads and sends of one
logical step (read the pending nonce, send one or a few transactions) go to one node unless that
node dies in the middle. Then the sends reach a node that may not have seen the dead node's
mempool: a transaction with a nonce past what it knows is refused or left pending there, and the
callers (the user commands wait for a receipt with a deadline; the deposit relayer checks each of
its affirmations next pass and sends it again with a fresh nonce when the node does not know it)
recover without mixing two nodes' nonces in one step by design.

The provider does not return to an earlier node on its own once it moved on: a relayer that failed
over from its own validator's node stays on the node that answers until that one fails too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import requests
from eth_utils import keccak
from web3 import Web3
from web3.providers import JSONBaseProvider
from web3.providers.rpc import HTTPProvider

from sidechain.errors import SidechainError

log = logging.getLogger("bridge.endpoints")

DEFAULT_TIMEOUT = 15.0
"""Seconds a node may take to answer one request before the next one is tried."""
_GATEWAY_DOWN = {502, 503, 504}
"""HTTP statuses of a proxy whose node behind it does not answer: as unreachable as a refused connection."""
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\"\)]+)")


class NoNodeAnswered(SidechainError, ConnectionError):
    """None of the sidechain JSON-RPC URLs could be reached."""

    def __init__(self, method: str, failures: Sequence[tuple[str, Exception]]) -> None:
        self.method = method
        self.failures = list(failures)
        tried = ", ".join(f"{url} ({describe_failure(exc)})" for url, exc in self.failures)
        if len(self.failures) == 1:
            message = f"cannot reach the sidechain node at {tried}"
        else:
            message = f"cannot reach any of the {len(self.failures)} sidechain nodes: tried {tried}"
        super().__init__(message)


def describe_failure(exc: Exception) -> str:
    """A short reason for a failed request: "connection refused", "no answer within 15 s"."""
    if isinstance(exc, requests.Timeout):
        return "no answer within the timeout"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    found = _ERRNO.search(str(exc))
    return found.group(1).strip().lower() if found else type(exc).__name__


def parse_rpc_list(text: str) -> tuple[str, ...]:
    """`--sidechain-rpc URL[,URL...]` as a tuple of URLs, in the order given, without repeats."""
    urls = [part.strip() for part in text.split(",")]
    if not all(urls) or not all(re.match(r"https?://[^/\s]+", url) for url in urls):
        raise SidechainError(f"--sidechain-rpc: expected one or more http:// or https:// URLs separated by commas, "
                             f"got {text!r}")
    return tuple(dict.fromkeys(urls))


def network_rpc_urls(network: dict) -> tuple[str, ...]:
    """Every sidechain JSON-RPC URL a network.json lists: its "rpc" first, then each node's."""
    urls = [network.get("rpc")] + [node.get("rpc") for node in network.get("nodes", [])]
    return tuple(dict.fromkeys(url for url in urls if url))


def _unreachable(exc: Exception) -> bool:
    if isinstance(exc, requests.HTTPError):
        return exc.response is not None and exc.response.status_code in _GATEWAY_DOWN
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


class FailoverProvider(JSONBaseProvider):
    """JSON-RPC over HTTP to the first of `urls` that answers (see the module docstring)."""

    def __init__(self, urls: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        if not urls:
            raise SidechainError("no sidechain JSON-RPC URL given")
        self.urls = tuple(urls)
        # No retries inside one URL: a dead node is left at once for the next one.
        self._nodes = [HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
                       for url in self.urls]
        self._current = 0

    @property
    def current_url(self) -> str:
        """The URL that answered last (where the next request goes first)."""
        return self.urls[self._current]

    def __str__(self) -> str:
        return f"sidechain JSON-RPC at {', '.join(self.urls)}"

    def make_request(self, method, params):
        return self._first_answer(method, lambda node: node.make_request(method, params),
                                  lambda index, failures, reply: self._resent(index, params, reply)
                                  if method == "eth_sendRawTransaction" and failures else reply)

    def make_batch_request(self, batch_requests):
        return self._first_answer("batch", lambda node: node.make_batch_request(batch_requests),
                                  lambda index, failures, reply: reply)

    def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            return "result" in self.make_request("web3_clientVersion", [])
        except NoNodeAnswered:
            if show_traceback:
                raise
            return False

    def _first_answer(self, method: str, send, settle):
        failures: list[tuple[str, Exception]] = []
        start = self._current
        for step in range(len(self.urls)):
            index = (start + step) % len(self.urls)
            try:
                reply = send(self._nodes[index])
            except Exception as exc:
                if not _unreachable(exc):
                    raise
                failures.append((self.urls[index], exc))
                log.warning("sidechain node %s unreachable for %s (%s)%s", self.urls[index], method,
                            describe_failure(exc), "; trying the next one" if step + 1 < len(self.urls) else "")
                continue
            if index != self._current:
                log.info("sidechain JSON-RPC now through %s", self.urls[index])
                self._current = index
            return settle(index, failures, reply)
        raise NoNodeAnswered(method, failures)

    def _resent(self, index: int, params, reply):
        """A raw transaction sent again after a node failed: an error answer from a node that
        already knows the transaction means it was accepted (by the failed node, then gossiped)."""
        if "error" not in reply or not params:
            return reply
        raw = params[0]
        tx_hash = "0x" + keccak(hexstr=raw if isinstance(raw, str) else "0x" + bytes(raw).hex()).hex()
        try:
            known = self._nodes[index].make_request("eth_getTransactionByHash", [tx_hash])
        except Exception:
            return reply
        if known.get("result"):
            log.info("transaction %s already known to %s after a failover: accepted", tx_hash, self.urls[index])
            return {"jsonrpc": "2.0", "id": reply.get("id"), "result": tx_hash}
        return reply


def failover_web3(urls: str | Sequence[str], *, timeout: float = DEFAULT_TIMEOUT) -> Web3:
    """A Web3 over `urls` (one URL, a comma list, or a sequence) through a FailoverProvider."""
    if isinstance(urls, str):
        urls = parse_rpc_list(urls)
    return Web3(FailoverProvider(urls, timeout=timeout))
