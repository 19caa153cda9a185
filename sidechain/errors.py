"""One tree of expected failures.

Everything a peer, a client or a configuration file can get wrong raises a subclass of
`SidechainError`. Each subclass is one rule; its message says what was expected and what was got,
so a JSON-RPC error or a log line tells the user exactly what to fix. Anything that is not a
`SidechainError` is a bug.

`rpc_code` is the JSON-RPC error code the API answers with. Transaction rejections use -32000 with
go-ethereum's wording, because wallets and libraries (ethers, web3.py, MetaMask) recognise those
messages ("nonce too low", "insufficient funds", "replacement transaction underpriced").
"""

from __future__ import annotations


class SidechainError(Exception):
    """Root of every expected failure."""

    rpc_code: int = -32000


# --- transactions -------------------------------------------------------------------------------


class InvalidTransaction(SidechainError):
    """A transaction that can never be valid, or is not valid against the current state."""


class MalformedTransaction(InvalidTransaction):
    """The raw bytes are not a well-formed transaction (bad RLP, wrong field count or width)."""


class UnsupportedTransactionType(InvalidTransaction):
    """A typed transaction whose type byte is not 0x01 or 0x02."""


class OversizedTransaction(InvalidTransaction):
    """The encoded transaction is larger than the limit."""


class WrongChainId(InvalidTransaction):
    """Signed for another chain, or without EIP-155 replay protection."""

    @classmethod
    def of(cls, expected: int, got: int | None = None) -> "WrongChainId":
        """`got` is None where the EVM refused it without saying which id it saw."""
        return cls(f"invalid chain id: expected {expected}" + ("" if got is None else f", got {got}"))


class UnprotectedTransaction(InvalidTransaction):
    """A pre-EIP-155 legacy transaction sent to a node that does not take them over RPC."""


class InvalidSignature(InvalidTransaction):
    """The signature does not recover a sender, or its s value is in the upper half (EIP-2)."""


class InitcodeTooLarge(InvalidTransaction):
    """A contract creation whose initcode passes EIP-3860's limit."""

    @classmethod
    def of(cls, size: int, limit: int | None = None) -> "InitcodeTooLarge":
        return cls(f"max initcode size exceeded: code size {size}" + ("" if limit is None else f", limit {limit}"))


class IntrinsicGasTooLow(InvalidTransaction):
    """The gas limit does not cover 21,000 plus the calldata cost."""

    @classmethod
    def of(cls, gas: int, needed: int) -> "IntrinsicGasTooLow":
        return cls(f"intrinsic gas too low: gas {gas}, minimum needed {needed}")


class GasLimitExceeded(InvalidTransaction):
    """The transaction's gas limit is above the block gas limit."""

    @classmethod
    def block_full(cls, gas: int, gas_left: int) -> "GasLimitExceeded":
        return cls(f"gas limit reached: transaction gas {gas}, block gas left {gas_left}")


class TipAboveFeeCap(InvalidTransaction):
    """maxPriorityFeePerGas is higher than maxFeePerGas."""

    @classmethod
    def of(cls, sender: bytes, tip: int, cap: int) -> "TipAboveFeeCap":
        return cls(f"max priority fee per gas higher than max fee per gas: address 0x{sender.hex()}, "
                   f"maxPriorityFeePerGas: {tip}, maxFeePerGas: {cap}")


class FeeCapTooLow(InvalidTransaction):
    """maxFeePerGas (or gasPrice) is below the current base fee."""

    @classmethod
    def of(cls, sender: bytes, cap: int, base_fee: int) -> "FeeCapTooLow":
        return cls(f"max fee per gas less than block base fee: address 0x{sender.hex()}, maxFeePerGas: {cap}, baseFee: {base_fee}")


class NonceTooLow(InvalidTransaction):
    """The nonce was already used by this sender."""

    @classmethod
    def of(cls, next_nonce: int, tx_nonce: int) -> "NonceTooLow":
        return cls(f"nonce too low: next nonce {next_nonce}, tx nonce {tx_nonce}")


class NonceTooHigh(InvalidTransaction):
    """Inside a block: the nonce is not the sender's next nonce."""

    @classmethod
    def of(cls, next_nonce: int, tx_nonce: int) -> "NonceTooHigh":
        return cls(f"nonce too high: next nonce {next_nonce}, tx nonce {tx_nonce}")


class InsufficientFunds(InvalidTransaction):
    """The sender's balance does not cover gas * maxFeePerGas + value."""

    @classmethod
    def of(cls, sender: bytes, have: int, want: int) -> "InsufficientFunds":
        return cls(f"insufficient funds for gas * price + value: address 0x{sender.hex()} have {have} want {want}")

    @classmethod
    def overflowing(cls, sender: bytes, detail: str) -> "InsufficientFunds":
        """gas * price + value past 2**256: no amount to name, so the EVM's own words follow."""
        return cls(f"insufficient funds for gas * price + value: address 0x{sender.hex()}: {detail}")

    @classmethod
    def overdraft(cls, balance: int, spent: int, cost: int) -> "InsufficientFunds":
        """The pool's wording (go-ethereum's txpool): "queued cost" appears when lower nonces
        already hold `spent` of the balance."""
        held = f"queued cost {spent}, " if spent else ""
        return cls(f"insufficient funds for gas * price + value: balance {balance}, {held}tx cost {cost}, "
                   f"overshot {spent + cost - balance}")

    @classmethod
    def for_transfer(cls, sender: bytes, have: int, want: int) -> "InsufficientFunds":
        """eth_call and eth_estimateGas of a value the sender does not hold (go-ethereum's wording)."""
        return cls(f"insufficient funds for transfer: address 0x{sender.hex()} have {have} want {want}")


class SenderNotEoa(InvalidTransaction):
    """The sender's account holds code (EIP-3607): no key can sign for a contract."""

    @classmethod
    def of(cls, sender: bytes) -> "SenderNotEoa":
        return cls(f"sender not an eoa: address 0x{sender.hex()}")


class ExecutionReverted(SidechainError):
    """eth_call or eth_estimateGas of a call that reverts; `data` is the revert data."""

    rpc_code = 3

    def __init__(self, reason: str, data: bytes) -> None:
        super().__init__(f"execution reverted: {reason}" if reason else "execution reverted")
        self.data = data


class CallFailed(SidechainError):
    """eth_call or eth_estimateGas of a call that halted (out of gas, an invalid opcode, ...)."""


class EvmFailure(SidechainError):
    """The EVM binding itself failed (a bug or a broken state database, never a contract's doing)."""


# --- mempool ------------------------------------------------------------------------------------


class MempoolError(SidechainError):
    """The pool refused a transaction that is valid in itself."""


class AlreadyKnown(MempoolError):
    """The same transaction is already in the pool."""


class ReplacementUnderpriced(MempoolError):
    """A replacement must raise both fee fields by at least the replacement bump (10%)."""


class TxPoolOverflow(MempoolError):
    """The pool, or this sender's share of it, is full and the transaction does not outbid."""


class Underpriced(MempoolError):
    """The tip is below the pool's minimum."""


# --- blocks and chain ---------------------------------------------------------------------------


class InvalidBlock(SidechainError):
    """A block that breaks a chain rule (header, body or execution result)."""


class InvalidCertificate(InvalidBlock):
    """A commit certificate that does not prove more than 2/3 of the voting power precommitted."""


class InvalidVote(SidechainError):
    """A proposal or vote with a bad signature, an unknown signer, or for another chain or height."""


class InvalidEvidence(SidechainError):
    """Equivocation evidence that proves nothing: malformed, not two conflicting messages of one
    signer for one height, round and step, a bad signature, a signer outside that height's set, or
    (in a block) too old, from the future, repeated or already committed."""


class UnknownBlock(SidechainError):
    """A block number, hash or tag that this node does not have."""

    rpc_code = -32001


class UnknownTransaction(SidechainError):
    """A transaction hash that is in no final block of this node."""


# --- configuration, keys, storage ---------------------------------------------------------------


class GenesisError(SidechainError):
    """The genesis file is missing a field or holds a bad value; the message names the field."""


class KeystoreError(SidechainError):
    """A keystore file that cannot be read, or a wrong password."""


class StorageError(SidechainError):
    """The database is missing, locked, from another chain or from another schema version."""


class MissingTrieNode(StorageError, KeyError):
    """A node the trie references is not in the database: corruption, or a pruned old root. Also a
    KeyError, which is what a node loader raises for an absent hash."""

    def __init__(self, node_hash: bytes) -> None:
        super().__init__(f"trie node 0x{node_hash.hex()} is missing")
        self.node_hash = node_hash

    def __str__(self) -> str:
        return str(self.args[0])  # not KeyError's repr of the key


class CorruptWal(StorageError):
    """A write-ahead-log record whose checksum holds but whose content is not a record this version
    writes; replay stops at it as at a torn record."""


class ConfigError(SidechainError):
    """A node configuration value that cannot work (a port in use, a missing file)."""


# --- clients ------------------------------------------------------------------------------------


class TransactionFailed(SidechainError, RuntimeError):
    """A transaction this client sent was mined with status 0, or never mined. Also a RuntimeError,
    what it was before it joined the tree."""


class RpcReplyError(SidechainError, RuntimeError):
    """A JSON-RPC server answered a call of ours with an error object (sidechain/rpc/client.py).
    Also a RuntimeError, which is what callers caught before it joined the tree."""

    def __init__(self, method: str, error: dict) -> None:
        super().__init__(f"{method}: {error}")
        self.error = error
        """The error object as the server sent it (code, message, and data if any)."""


def mismatch(what: str, *, expected: object, got: object) -> str:
    """The one wording for a got/expected message."""
    return f"{what}: expected {expected}, got {got}"
