"""Issue 10, item 3, on real processes: a follower that starts with only a lying peer (it claims head
2^63 and answers every block request with nothing) catches up with the honest validator once that
one is back, and eth_syncing never reports the liar's head.

The validator makes blocks, stops; the liar (an in-test libp2p peer) and the follower start; once
the liar has been asked for blocks, the validator starts again. On the old code the follower asked
only the peer claiming the highest head, so it stayed at height 0 for good.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from sidechain.chain.genesis import load_genesis
from sidechain.devtools.devnet import rpc_call, wait_until
from sidechain.p2p import P2PConfig, P2PService
from sidechain.sync.protocol import BLOCKS_PROTOCOL, STATUS_PROTOCOL, PeerStatus, encode_blocks_response

from follower_support import validator_and_follower

pytestmark = pytest.mark.e2e

LIAR_HEAD = 2**63
HEAD_BEFORE = 20


async def poll(condition, timeout: float, what: str, on_sample=lambda: None):
    deadline = time.monotonic() + timeout
    while True:
        on_sample()
        value = await asyncio.to_thread(condition)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


def test_follower_catches_up_past_a_peer_claiming_head_2_63(tmp_path):
    with validator_and_follower(tmp_path / "net", spare_ports=1) as pair:
        pair.start(pair.validator)
        wait_until(lambda: pair.height(pair.validator) >= HEAD_BEFORE, 30, f"the validator at height {HEAD_BEFORE}")
        pair.stop(pair.validator)
        genesis = load_genesis(pair.root / "genesis.json")
        asked: Counter[str] = Counter()
        reported: list[int] = []

        async def liar_status(data: bytes, peer: str) -> bytes:
            asked["status"] += 1
            return PeerStatus(LIAR_HEAD, b"\xee" * 32, genesis.hash()).encode()

        async def liar_blocks(data: bytes, peer: str) -> bytes:
            asked["blocks"] += 1
            return encode_blocks_response([])

        def sample_syncing() -> None:
            try:
                status = rpc_call(pair.follower.rpc_url, "eth_syncing")
            except Exception:  # not up yet
                return
            if status:
                reported.append(int(status["highestBlock"], 16))

        async def scenario() -> int:
            liar = P2PService(P2PConfig(
                listen_port=pair.spare_p2p_ports[0], identity_path=tmp_path / "liar" / "identity.key",
                bootstrap=(pair.follower.multiaddr,), network_id=genesis.hash(), redial_interval=0.5,
            ))
            liar.set_request_handler(STATUS_PROTOCOL, liar_status)
            liar.set_request_handler(BLOCKS_PROTOCOL, liar_blocks)
            await liar.start()
            try:
                pair.follower.bootstrap = (pair.validator.multiaddr, liar.listen_addr())
                await asyncio.to_thread(pair.start, pair.follower)
                await poll(lambda: asked["blocks"] >= 1, 20, "the follower asking the liar for blocks", sample_syncing)
                assert pair.height(pair.follower) == 0
                await asyncio.to_thread(pair.start, pair.validator)
                head = pair.height(pair.validator)
                await poll(lambda: pair.height(pair.follower) >= head, 30,
                           f"the follower at the validator's head {head}", sample_syncing)
                # Caught up, it follows consensus; the liar's head is all that is left to chase.
                later = pair.height(pair.validator) + 10
                await poll(lambda: pair.height(pair.follower) >= later, 30, f"the follower at {later}", sample_syncing)
                return head
            finally:
                await liar.stop()

        try:
            head = asyncio.run(asyncio.wait_for(scenario(), 120))
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nliar was asked {dict(asked)}\nfollower log:\n{pair.log_tail(pair.follower)}") from None
        assert head >= HEAD_BEFORE
        assert all(r < LIAR_HEAD for r in reported), f"eth_syncing reported the liar's head: {max(reported)}"
        assert asked["blocks"] <= 6, f"expected the liar benched after its empty answers, it was asked {asked['blocks']} times"
