"""The explorer's indexes, written in each block's own commit batch (ChainStore.commit_block), so a
node killed at any instant holds them for exactly the blocks it holds.

- Transactions by address (Otterscan's ots_searchTransactions*, Erigon's call-from/call-to
  index): a transaction touches its sender, its recipient, the contract it creates, and the
  parties of every ERC-20 / ERC-721 `Transfer` it logs (topics 1 and 2, so a bridged-token
  recipient sees its mint) and of every bridge `DepositMinted` (the ETH a deposit pays out moves
  without a log of its own). Keys sort by address, block, index: a page is one range scan.
- Bridged tokens: each L1 token the bridge has minted, with its sidechain ledger. Bridge.sol keeps
  them in a mapping only, which storage cannot list.
- The highest deposit id affirmed in any final block (`DepositAffirmed`), where the relayers are.

Only successful transactions log (a revert drops its logs), so the logs read here are final effects.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..chain.blocks import Block, Receipt
from ..chain.system.bridge import BRIDGE_ADDRESS, DEPOSIT_AFFIRMED_TOPIC, DEPOSIT_MINTED_TOPIC, ETH
from ..chain.system.tokens import TRANSFER_TOPIC, token_address
from ..chain.transactions import create_address
from . import schema

_ADDRESS_PADDING = bytes(12)
_ZERO_TOPIC = bytes(32)
_LAST_KEY_OF_ADDRESS = b"\xff" * 13
"""Above the number and index of any key of an address (12 bytes), so a scan's stop bound."""


@dataclass(frozen=True, slots=True)
class TxLocation:
    """One transaction an address took part in."""

    number: int
    index: int


def _topic_address(topic: bytes) -> bytes | None:
    """The address an indexed `address` topic holds, or None if the topic is no address."""
    if len(topic) != 32 or topic[:12] != _ADDRESS_PADDING:
        return None
    return topic[12:]


def parties(tx, receipt: Receipt) -> set[bytes]:
    """Every address one transaction touches (see the module docstring)."""
    # a creation's address is indexed even when it failed, as its receipt's contractAddress names it
    found = {tx.sender, tx.to if tx.to is not None else create_address(tx.sender, tx.nonce)}
    for log in receipt.logs:
        topics = log.topics
        if len(topics) >= 3 and topics[0] == TRANSFER_TOPIC:
            candidates = topics[1:3]
        elif len(topics) == 4 and topics[0] == DEPOSIT_MINTED_TOPIC and log.address == BRIDGE_ADDRESS:
            candidates = topics[3:4]
        else:
            continue
        for topic in candidates:
            if topic[:12] == _ADDRESS_PADDING and len(topic) == 32 and topic != _ZERO_TOPIC:  # zero: a mint or burn
                found.add(topic[12:])
    return found


def _bridge_records(receipts: Sequence[Receipt]) -> tuple[set[bytes], int | None]:
    """(L1 tokens minted, the highest deposit id affirmed) in one block's logs."""
    tokens: set[bytes] = set()
    highest = None
    for receipt in receipts:
        for log in receipt.logs:
            if log.address != BRIDGE_ADDRESS or len(log.topics) < 2:
                continue
            if log.topics[0] == DEPOSIT_MINTED_TOPIC and len(log.topics) == 4:
                l1_token = _topic_address(log.topics[2])
                if l1_token is not None and l1_token != ETH:
                    tokens.add(l1_token)
            elif log.topics[0] == DEPOSIT_AFFIRMED_TOPIC:
                deposit_id = int.from_bytes(log.topics[1], "big")
                highest = deposit_id if highest is None else max(highest, deposit_id)
    return tokens, highest


def write_block(db, batch, block: Block, receipts: Sequence[Receipt]) -> None:
    """Add the indexes of `block` to `batch`, the block's own commit batch. `db` is read for the
    highest affirmed deposit so far (the commit path is the only writer)."""
    put = batch.put
    for index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
        for key in schema.address_tx_keys(parties(tx, receipt), block.number, index):
            put(key, b"")
    tokens, highest = _bridge_records(receipts)
    for l1_token in tokens:
        batch.put(schema.bridged_token_key(l1_token), token_address(l1_token))
    if highest is not None:
        stored = db.get(schema.HIGHEST_AFFIRMED_DEPOSIT_KEY)
        if stored is None or int.from_bytes(stored, "big") < highest:
            batch.put(schema.HIGHEST_AFFIRMED_DEPOSIT_KEY, highest.to_bytes(8, "big"))


class AddressIndex:
    """Reads of the indexes over a plyvel database or snapshot."""

    def __init__(self, db) -> None:
        self.db = db

    def _scan(self, address: bytes, first: int, last: int, *, reverse: bool) -> Iterator[TxLocation]:
        """Entries of `address` in blocks `first`..`last` (inclusive), ascending or descending."""
        base = schema.ADDRESS_TX_PREFIX + address
        if first > last:
            return
        start = base + first.to_bytes(8, "big")
        stop = base + (last + 1).to_bytes(8, "big") if last < 2**64 - 1 else base + _LAST_KEY_OF_ADDRESS
        for key in self.db.iterator(start=start, stop=stop, reverse=reverse, include_value=False):
            yield TxLocation(int.from_bytes(key[21:29], "big"), int.from_bytes(key[29:33], "big"))

    def page(self, address: bytes, first: int, last: int, page_size: int, *, newest_first: bool) -> tuple[list[TxLocation], bool]:
        """Entries of `address` in blocks `first`..`last`, scanned from the newest (or the oldest)
        end: at least `page_size` of them if there are as many, but never part of a block (the page
        ends with the whole of the block where it filled up, as Otterscan's does). Returns them in
        scan order and whether the scan reached the far end of the range."""
        found: list[TxLocation] = []
        for location in self._scan(address, first, last, reverse=newest_first):
            if len(found) >= page_size and location.number != found[-1].number:
                return found, False
            found.append(location)
        return found, True

    def any_in(self, address: bytes, first: int, last: int) -> bool:
        """Whether any transaction of blocks `first`..`last` touches `address`."""
        return next(self._scan(address, first, last, reverse=False), None) is not None

    def bridged_tokens(self) -> list[tuple[bytes, bytes]]:
        """(L1 token, sidechain token) of every token the bridge has minted, by L1 address."""
        prefix = schema.BRIDGED_TOKEN_PREFIX
        return [(key[len(prefix):], value) for key, value in self.db.iterator(prefix=prefix)]

    def highest_affirmed_deposit(self) -> int | None:
        stored = self.db.get(schema.HIGHEST_AFFIRMED_DEPOSIT_KEY)
        return None if stored is None else int.from_bytes(stored, "big")
