"""The project's compiled core (the crate beside this file, built by scripts/bootstrap into `_revm`).

`sidechain.execution.evm` drives revm through `_revm` itself; the rest of the core is the
chain rules' fast path, named here: the state's Merkle-Patricia trie (`MerkleTrie`), batch
transaction decoding with sender recovery (`decode_transactions`, for
sidechain/chain/transactions.py), and the small codecs every block leans on (`decode_account`,
`encode_account`, `ordered_root`, `decode_strings`, and a receipt's encodings: `encode_receipt`,
`encode_stored_receipts`, `receipts_root`, and a block's `logs_bloom`)."""

from ._revm import (
    MerkleTrie, decode_account, decode_strings, decode_transactions, encode_account, encode_receipt, encode_stored_receipts,
    logs_bloom, ordered_root, receipts_root,
)

__all__ = ["MerkleTrie", "decode_account", "decode_strings", "decode_transactions", "encode_account", "encode_receipt",
           "encode_stored_receipts", "logs_bloom", "ordered_root", "receipts_root"]
