"""Persistent identity, the guards against a second service on one port or identity, bad configuration."""

from __future__ import annotations

import socket
import stat

import pytest
from p2p_support import NETWORK, free_port, run

from sidechain.p2p import IdentityError, P2PConfig, P2PService, PortInUse
from sidechain.p2p.identity import load_or_create_identity, peer_id_of


def config(tmp_path, name: str, port: int) -> P2PConfig:
    return P2PConfig(listen_port=port, identity_path=tmp_path / name / "identity.key", bootstrap=(), network_id=NETWORK)


def test_identity_is_created_0600_and_loaded_back_as_the_same_peer_id(tmp_path):
    path = tmp_path / "deep" / "dir" / "identity.key"
    first = peer_id_of(load_or_create_identity(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert peer_id_of(load_or_create_identity(path)) == first
    path.chmod(0o644)
    load_or_create_identity(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened again
    assert P2PService(P2PConfig(listen_port=1, identity_path=path, bootstrap=(), network_id=NETWORK)).peer_id == str(first)


def test_a_corrupt_identity_is_a_clear_error_not_a_new_key(tmp_path):
    path = tmp_path / "identity.key"
    path.write_bytes(b"not a key")
    with pytest.raises(IdentityError, match="cannot load the p2p identity"):
        load_or_create_identity(path)
    assert path.read_bytes() == b"not a key"


def test_a_second_service_on_the_same_port_is_refused(tmp_path):
    async def scenario():
        port = free_port()
        first = P2PService(config(tmp_path, "first", port))
        await first.start()
        try:
            second = P2PService(config(tmp_path, "second", port))
            with pytest.raises(PortInUse, match=f"127.0.0.1:{port}"):
                await second.start()
            assert not second.running
        finally:
            await first.stop()
        again = P2PService(config(tmp_path, "second", port))  # free once the first stopped
        await again.start()
        await again.stop()

    run(scenario())


def test_a_port_held_by_another_reuseport_listener_is_refused(tmp_path):
    """libp2p itself listens with SO_REUSEPORT; a plain bind probe still sees such a listener."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]

        async def scenario():
            with pytest.raises(PortInUse):
                await P2PService(config(tmp_path, "x", port)).start()

        run(scenario())


def test_one_identity_runs_in_one_service_at_a_time(tmp_path):
    async def scenario():
        first = P2PService(config(tmp_path, "same", free_port()))
        await first.start()
        try:
            twin = P2PService(config(tmp_path, "same", free_port()))
            with pytest.raises(IdentityError, match="in use by another running service"):
                await twin.start()
        finally:
            await first.stop()

    run(scenario())


@pytest.mark.parametrize("addr", ["/ip4/127.0.0.1/tcp/4001", "not a multiaddr", "/ip4/127.0.0.1/udp/4001/p2p/12D3KooWCxQmutYbB2Y7u4wsco2e5DB6wS8joTbaN6yA3Bzuqdk6"])
def test_a_bad_bootstrap_address_is_refused_up_front(tmp_path, addr):
    with pytest.raises(ValueError, match="bootstrap address"):
        P2PService(P2PConfig(listen_port=free_port(), identity_path=tmp_path / "id.key", bootstrap=(addr,), network_id=NETWORK))
