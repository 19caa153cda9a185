"""Every LevelDB key the node writes, built here and nowhere else.

One byte of prefix per record kind keeps kinds apart and scans cheap. Bump SCHEMA_VERSION whenever
a key or a value encoding changes; a node refuses a database of another version.
"""

from __future__ import annotations

SCHEMA_VERSION = 5
"""5: the explorer's indexes (transactions by address, bridged tokens, highest affirmed deposit), which
an older database lacks for its blocks; 4: the system contracts are Solidity contracts (their storage
laid out as solc lays it out), block headers may carry an evidence root, committed evidence is
indexed; 3: contract code table."""

SCHEMA_VERSION_KEY = b"m:schema"
GENESIS_HASH_KEY = b"m:genesis"
"""keccak of the genesis configuration: which chain this database belongs to."""
HEAD_KEY = b"m:head"
"""Hash of the last committed (final) block."""


def canonical_hash_key(number: int) -> bytes:
    """Block number -> hash of the final block at that height."""
    return b"n" + number.to_bytes(8, "big")


def header_key(block_hash: bytes) -> bytes:
    return b"h" + block_hash


def body_key(block_hash: bytes) -> bytes:
    """RLP list of [raw transaction, sender] pairs."""
    return b"b" + block_hash


def receipts_key(block_hash: bytes) -> bytes:
    return b"r" + block_hash


def certificate_key(block_hash: bytes) -> bytes:
    """The commit certificate (precommit signatures) that made the block final."""
    return b"c" + block_hash


def tx_lookup_key(tx_hash: bytes) -> bytes:
    """Transaction hash -> RLP [block number, index in block]."""
    return b"t" + tx_hash


def account_key(address: bytes) -> bytes:
    """Latest state, flat: address -> RLP account. Reads at the head skip the trie."""
    return b"a" + address


def storage_key(address: bytes, key: bytes) -> bytes:
    """Latest state, flat: (contract address, 32-byte storage key) -> value. Reads at the head skip the tries."""
    return b"s" + address + key


def code_key(code_hash: bytes) -> bytes:
    """keccak(code) -> contract code; content-addressed, so every version of the state shares it."""
    return b"C" + code_hash


def trie_node_key(node_hash: bytes) -> bytes:
    """keccak(node) -> RLP node of the account trie or a storage trie; historical roots stay readable."""
    return b"N" + node_hash


# --- committed equivocation evidence (storage/evidence.py) ----------------------------------------


def evidence_key(block_hash: bytes) -> bytes:
    """rlp([record, ...]): a final block's evidence, for sync."""
    return b"e" + block_hash


EVIDENCE_BY_NUMBER_PREFIX = b"E"
"""+ number (8 bytes) -> block hash: blocks holding evidence, by number."""


def evidence_by_validator_prefix(validator: bytes) -> bytes:
    """+ number (8 bytes) -> block hash: the same, per offending validator."""
    return b"V" + validator


def offence_key(offence: bytes) -> bytes:
    """rlp([number, block hash]): where an offence's evidence was committed."""
    return b"x" + offence


# --- the explorer's indexes (storage/address_index.py), written in each block's batch -------------

ADDRESS_TX_PREFIX = b"A"
"""+ address (20 bytes) + block number (8 bytes) + transaction index (4 bytes) -> empty: the
transactions touching an address, in block order (Otterscan's ots_searchTransactions*)."""


def address_tx_key(address: bytes, number: int, index: int) -> bytes:
    return ADDRESS_TX_PREFIX + address + number.to_bytes(8, "big") + index.to_bytes(4, "big")


def address_tx_keys(addresses, number: int, index: int) -> list[bytes]:
    """`address_tx_key` of each address, for one transaction (on the commit path: built once)."""
    suffix = number.to_bytes(8, "big") + index.to_bytes(4, "big")
    return [ADDRESS_TX_PREFIX + address + suffix for address in addresses]


BRIDGED_TOKEN_PREFIX = b"T"
"""+ L1 token address -> sidechain token address: the tokens the bridge has minted (Bridge.sol keeps
only a mapping, which cannot be listed)."""


def bridged_token_key(l1_token: bytes) -> bytes:
    return BRIDGED_TOKEN_PREFIX + l1_token


HIGHEST_AFFIRMED_DEPOSIT_KEY = b"m:deposit-affirmed"
"""The highest deposit id any final block holds an affirmation of (8 bytes), absent before the first."""
