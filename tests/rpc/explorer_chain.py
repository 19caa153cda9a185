"""A chain for the explorer's RPC tests whose validators' keys are known: each block is committed
with a real commit certificate (precommits signed by the validators a test names, in the round it
names, proposed by the validator that round's rotation picks), and validators can send the bridge
their deposit affirmations."""

from __future__ import annotations

from collections.abc import Sequence

from eth_account import Account as EthAccount
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from eth_abi import encode
from rpc_support import Backend

from sidechain.chain.genesis import parse_genesis
from sidechain.chain.transactions import decode_transaction
from sidechain.consensus.messages import CommitCertificate, Step, Vote
from sidechain.mempool.pool import Mempool
from sidechain.storage.blockchain import Blockchain

CHAIN_ID = 7074
INTERVAL = 4
FUNDS = 10**21
VALIDATORS = [EthAccount.from_key(bytes([0x30 + i]) * 32) for i in range(4)]
ALICE = EthAccount.from_key(b"\x41" * 32)


def addr(account) -> bytes:
    return bytes.fromhex(account.address[2:])


def calldata(signature: str, *args) -> bytes:
    types = signature[signature.index("(") + 1:-1]
    return function_signature_to_4byte_selector(signature) + encode([t for t in types.split(",") if t], list(args))


class ExplorerNet:
    """`validators` (with `powers`) form the genesis set; they and ALICE are funded."""

    def __init__(self, data_dir, validators: Sequence = VALIDATORS, powers: Sequence[int] | None = None) -> None:
        powers = powers or [1] * len(validators)
        self.validators = list(validators)
        funded = [*validators, ALICE]
        self.genesis = parse_genesis({
            "chainId": CHAIN_ID, "timestamp": 1_700_000_000, "blockTimeMs": 500, "gasLimit": 30_000_000,
            "baseFeePerGas": 10**9, "checkpointInterval": INTERVAL,
            "validators": [{"address": v.address, "power": p} for v, p in zip(validators, powers)],
            "alloc": {a.address: {"balance": str(FUNDS)} for a in funded},
        })
        self.funded_total = FUNDS * len(funded)
        self.chain = Blockchain.open(data_dir, self.genesis)
        self.mempool = Mempool()
        self.backend = Backend(self.chain, self.mempool)
        self.nonces: dict[str, int] = {}

    def tx(self, account, to: bytes, data: bytes = b"", value: int = 0, gas: int = 3_000_000):
        nonce = self.nonces.get(account.address, 0)
        self.nonces[account.address] = nonce + 1
        raw = account.sign_transaction({"to": to_checksum_address(to), "value": value, "data": data, "gas": gas,
                                        "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 0, "nonce": nonce,
                                        "chainId": CHAIN_ID, "type": 2}).raw_transaction
        return decode_transaction(bytes(raw), CHAIN_ID)

    def commit(self, txs=(), *, round_: int = 0, signers: Sequence | None = None):
        """Commit the next block of `txs`, decided in `round_`, its certificate signed by `signers`
        (every validator if None); returns the block and its receipts."""
        height = self.chain.head.number + 1
        validators = self.chain.validators_at(height)
        executed = self.chain.build_block(validators.proposer(height, round_), self.chain.head.timestamp + 1, list(txs))
        assert len(executed.block.transactions) == len(txs), executed.result.rejected
        block = executed.block
        votes = [Vote.create(CHAIN_ID, Step.PRECOMMIT, height, round_, block.hash, bytes(v.key), addr(v))
                 for v in (self.validators if signers is None else signers)]
        certificate = CommitCertificate.from_votes(votes)
        certificate.verify(CHAIN_ID, validators, height, block.hash)
        self.chain.commit(executed, certificate.encode())
        return block, executed.result.receipts
