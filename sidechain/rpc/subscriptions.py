"""eth_subscribe over WebSocket: `newHeads` and `logs` notifications pushed after each commit.

A `Session` is one connection's outgoing side: a bounded queue drained by the transport. The
node's commit path only ever calls `Session.push`, which never waits: a subscriber that falls
`queue_limit` messages behind is dropped (its `on_overflow` closes the connection), so a slow
client can never hold up the node.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from ..chain.blocks import Block, Receipt
from .filters import LogFilter
from .views import header_view, log_view

log = logging.getLogger(__name__)

NEW_HEADS = "newHeads"
LOGS = "logs"
KINDS = (NEW_HEADS, LOGS)

_NOTIFICATION = '{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"%s","result":%s}}'


class Session:
    """One WebSocket connection's outgoing queue and its subscriptions."""

    def __init__(self, queue_limit: int, on_overflow: Callable[["Session"], None] | None = None) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_limit)
        self.subscriptions: dict[str, LogFilter | None] = {}
        """Subscription id -> its log filter (None for newHeads)."""
        self.on_overflow = on_overflow
        self.closed = False

    def push(self, text: str) -> None:
        """Queue a message without waiting; on overflow the session is dropped."""
        if self.closed:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.closed = True
            log.warning("dropping a WebSocket subscriber: %d messages behind", self.queue.maxsize)
            if self.on_overflow is not None:
                self.on_overflow(self)

    async def send(self, text: str) -> None:
        """Queue a response to the client's own request (waits for room: backpressure on it alone)."""
        if not self.closed:
            await self.queue.put(text)


@dataclass(frozen=True, slots=True)
class _Subscription:
    session: Session
    log_filter: LogFilter | None


class SubscriptionHub:
    """Every live subscription; `publish` fans a committed block out to them."""

    def __init__(self) -> None:
        self._heads: dict[str, Session] = {}
        self._logs: dict[str, _Subscription] = {}

    def subscribe(self, session: Session, kind: str, log_filter: LogFilter | None = None) -> str:
        subscription_id = "0x" + secrets.token_hex(16)
        if kind == NEW_HEADS:
            self._heads[subscription_id] = session
            session.subscriptions[subscription_id] = None
        else:
            log_filter = log_filter or LogFilter()
            self._logs[subscription_id] = _Subscription(session, log_filter)
            session.subscriptions[subscription_id] = log_filter
        return subscription_id

    def unsubscribe(self, session: Session, subscription_id: str) -> bool:
        """False if the id is not one of this session's subscriptions."""
        if subscription_id not in session.subscriptions:
            return False
        del session.subscriptions[subscription_id]
        self._heads.pop(subscription_id, None)
        self._logs.pop(subscription_id, None)
        return True

    def drop(self, session: Session) -> None:
        """Forget a closed session's subscriptions."""
        for subscription_id in list(session.subscriptions):
            self.unsubscribe(session, subscription_id)

    def __len__(self) -> int:
        return len(self._heads) + len(self._logs)

    def publish(self, block: Block, receipts: list[Receipt] | tuple[Receipt, ...]) -> None:
        """Notify newHeads subscribers of the block and logs subscribers of each matching log."""
        if self._heads:
            result = json.dumps(header_view(block.header, block.hash), separators=(",", ":"))
            for subscription_id, session in list(self._heads.items()):
                session.push(_NOTIFICATION % (subscription_id, result))
        if self._logs and any(r.logs for r in receipts):
            self._publish_logs(block, receipts)

    def _publish_logs(self, block: Block, receipts: list[Receipt] | tuple[Receipt, ...]) -> None:
        entries = []
        log_index = 0
        for tx_index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
            for entry in receipt.logs:
                view = log_view(entry, block.hash, block.number, tx.hash, tx_index, log_index)
                entries.append((entry, json.dumps(view, separators=(",", ":"))))
                log_index += 1
        bloom = block.header.logs_bloom
        for subscription_id, subscription in list(self._logs.items()):
            log_filter = subscription.log_filter
            if not log_filter.bloom_may_match(bloom):
                continue
            for entry, text in entries:
                if log_filter.matches(entry):
                    subscription.session.push(_NOTIFICATION % (subscription_id, text))
