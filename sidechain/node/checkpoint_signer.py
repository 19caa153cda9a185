"""A validator's part in checkpoints: when the last block of a range is final, sign the range's
checkpoint (EIP-712, CheckpointManager's domain) and post the signature to the sidechain's
checkpoint system contract in an ordinary transaction from the validator's account. Only members
of the set that signs a checkpoint (the set in force during its range) sign it. One signature per
committed block at most, so a node catching up does not flood its own pool."""

from __future__ import annotations

import logging

from eth_account import Account
from eth_utils import to_checksum_address

from ..chain.checkpoint_signing import eip712_digest, sign_checkpoint
from ..chain.genesis import GenesisConfig
from ..chain.system import CHECKPOINT_SIGNATURES_ADDRESS, SUBMIT_SIGNATURE_GAS, encode_submit_signature
from ..crypto import private_key_to_address
from ..interfaces import ChainHistory, TxPool
from ..storage.checkpoints import final_checkpoint

log = logging.getLogger("sidechain.checkpoints")

TIP = 10**9


CATCH_UP = 2
"""After a restart, ranges closed while the node was away are signed, back to this many."""


class CheckpointSigner:
    def __init__(self, private_key: bytes, genesis: GenesisConfig, l1_chain_id: int, manager: bytes) -> None:
        self._key = private_key
        self.address = private_key_to_address(private_key)
        self.genesis, self.l1_chain_id, self.manager = genesis, l1_chain_id, manager
        self._signed_up_to: int | None = None

    def on_block(self, chain: ChainHistory, mempool: TxPool) -> bytes | None:
        """The raw signed transaction posting our signature of the newest closed range we have not
        signed since start (the newest CATCH_UP ranges at start, so a restart leaves no hole);
        None when there is none, or we are not in the set that signs it."""
        interval = self.genesis.checkpoint_interval
        closed = chain.height // interval
        if self._signed_up_to is None:
            self._signed_up_to = max(0, closed - CATCH_UP)
        if closed <= self._signed_up_to:
            return None
        number = self._signed_up_to + 1
        self._signed_up_to = number
        return self._sign(chain, mempool, number)

    def _sign(self, chain: ChainHistory, mempool: TxPool, number: int) -> bytes | None:
        final = final_checkpoint(chain, number)
        if not final.signers.power_of(self.address):
            return None
        content = final.content
        signature = sign_checkpoint(eip712_digest(content, self.l1_chain_id, self.manager), self._key)
        data = encode_submit_signature(number, signature)
        base_fee = chain.next_base_fee()
        tx = {
            "to": to_checksum_address(CHECKPOINT_SIGNATURES_ADDRESS), "value": 0, "data": data,
            "gas": SUBMIT_SIGNATURE_GAS, "maxFeePerGas": 2 * base_fee + TIP, "maxPriorityFeePerGas": TIP,
            "nonce": mempool.pending_nonce(self.address, chain.state()), "chainId": self.genesis.chain_id, "type": 2,
        }
        log.info("signed checkpoint %d (blocks %d-%d)", number, content.start_block, content.end_block,
                 extra={"height": chain.height, "round": "-"})
        return bytes(Account.sign_transaction(tx, self._key).raw_transaction)
