"""Issue 11 part 1: what a node binds, advertises and dials, checked before anything starts.

Each bad value is refused with a message naming the flag and the value; `sidechain run` prints it
and exits 1 before it touches the data directory.
"""

from __future__ import annotations

import pytest
from multiaddr import Multiaddr

from sidechain.cli import main
from sidechain.errors import ConfigError, SidechainError
from sidechain.node.listen import MAX_BOOTSTRAP, check_p2p_flags, parse_bootstrap, parse_rpc_host, rpc_exposure_warning
from sidechain.p2p import P2PConfig
from sidechain.p2p.addresses import is_dialable, listen_multiaddr, parse_advertise, parse_listen_host, parse_peer_addr
from sidechain.p2p.errors import AddressError

PEER = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"


@pytest.mark.parametrize("addr, transport", [
    (f"/ip4/10.0.0.5/tcp/30333/p2p/{PEER}", "/ip4/10.0.0.5/tcp/30333"),
    (f"/dns4/validator-1.example.org/tcp/4001/p2p/{PEER}", "/dns4/validator-1.example.org/tcp/4001"),
    (f"/ip6/::1/tcp/4001/p2p/{PEER}", "/ip6/::1/tcp/4001"),
])
def test_peer_addresses_accepted(addr, transport):
    assert parse_peer_addr(addr) == (PEER, Multiaddr(transport))


@pytest.mark.parametrize("addr, says", [
    ("hello", "not a valid multiaddr"),
    ("/ip4/1.2.3/tcp/1/p2p/" + PEER, "not a valid multiaddr"),
    ("/ip4/10.0.0.5/tcp/4001", "is not /ip4/HOST/tcp/PORT/p2p/PEER_ID"),
    ("/ip4/10.0.0.5/udp/4001/p2p/" + PEER, "is not /ip4/HOST/tcp/PORT/p2p/PEER_ID"),
    ("/ip4/0.0.0.0/tcp/4001/p2p/" + PEER, "cannot be dialled"),
    ("/ip4/10.0.0.5/tcp/4001/p2p/QmNotAPeer", "not a valid multiaddr"),
    ("/ip4/10.0.0.5/tcp/4001/p2p/" + PEER + "/p2p/" + PEER, "is not /ip4/HOST/tcp/PORT/p2p/PEER_ID"),
    ("/dns4/" + "a" * 300 + "/tcp/1/p2p/" + PEER, "multiaddr of 1..256 characters"),
])
def test_bad_peer_addresses_refused(addr, says):
    with pytest.raises(AddressError, match="bootstrap address") as info:
        parse_peer_addr(addr)
    assert says in str(info.value)
    assert isinstance(info.value, SidechainError) and isinstance(info.value, ValueError)


def test_listen_host_must_be_an_ip():
    assert parse_listen_host(" 10.0.0.5 ") == "10.0.0.5"
    assert parse_listen_host("::1") == "::1"
    assert listen_multiaddr("10.0.0.5", 4001) == Multiaddr("/ip4/10.0.0.5/tcp/4001")
    assert listen_multiaddr("::1", 4001) == Multiaddr("/ip6/::1/tcp/4001")
    for bad in ("validator.example.org", "10.0.0", "", "/ip4/10.0.0.5"):
        with pytest.raises(AddressError, match="--p2p-host .* is not an IP address"):
            parse_listen_host(bad)


def test_advertise_forms():
    assert parse_advertise("/dns4/v1.example.org/tcp/30333") == Multiaddr("/dns4/v1.example.org/tcp/30333")
    assert parse_advertise("/ip4/203.0.113.7/tcp/30333") == Multiaddr("/ip4/203.0.113.7/tcp/30333")
    with pytest.raises(AddressError, match="without /p2p/PEER_ID"):
        parse_advertise(f"/ip4/203.0.113.7/tcp/30333/p2p/{PEER}")
    with pytest.raises(AddressError, match="cannot be dialled"):
        parse_advertise("/ip4/0.0.0.0/tcp/30333")
    with pytest.raises(AddressError, match="not a valid multiaddr"):
        parse_advertise("203.0.113.7:30333")


def test_undialable_addresses_are_not_learned():
    assert not is_dialable(Multiaddr("/ip4/0.0.0.0/tcp/1"))
    assert not is_dialable(Multiaddr("/ip4/10.0.0.1/udp/1"))
    assert is_dialable(Multiaddr("/ip4/10.0.0.1/tcp/1")) and is_dialable(Multiaddr("/dns4/a.example/tcp/1"))


def test_p2p_config_validates_host_and_advertise(tmp_path):
    base = dict(listen_port=4001, identity_path=tmp_path / "id", bootstrap=(), network_id=b"n")
    assert P2PConfig(**base, listen_host="10.0.0.5").listen_host == "10.0.0.5"
    with pytest.raises(AddressError):
        P2PConfig(**base, listen_host="example.org")
    with pytest.raises(AddressError):
        P2PConfig(**base, advertise="/ip4/1.2.3.4/udp/1")


def test_p2p_flag_combinations():
    assert check_p2p_flags("127.0.0.1", None, 4001) == ("127.0.0.1", None)
    assert check_p2p_flags(None, None, 4001) == ("127.0.0.1", None) == check_p2p_flags(None, None, None)
    with pytest.raises(ConfigError, match="--p2p-host needs --p2p-port"):
        check_p2p_flags("10.0.0.5", None, None)
    assert check_p2p_flags("0.0.0.0", "/dns4/v1.example/tcp/4001", 4001) == ("0.0.0.0", "/dns4/v1.example/tcp/4001")
    with pytest.raises(ConfigError, match="binds every interface, which peers cannot dial"):
        check_p2p_flags("0.0.0.0", None, 4001)
    with pytest.raises(ConfigError, match="--p2p-advertise needs --p2p-port"):
        check_p2p_flags(None, "/ip4/1.2.3.4/tcp/1", None)
    with pytest.raises(ConfigError, match="--p2p-port must be 1..65535"):
        check_p2p_flags("127.0.0.1", None, 70000)


def test_bootstrap_list():
    a, b = f"/ip4/10.0.0.5/tcp/1/p2p/{PEER}", f"/dns4/v.example/tcp/2/p2p/{PEER}"
    assert parse_bootstrap(f" {a}, {b},,{a} ") == (a, b)
    assert parse_bootstrap("") == ()
    with pytest.raises(AddressError, match="--bootstrap address"):
        parse_bootstrap(f"{a},/ip4/10.0.0.5/tcp/1")
    with pytest.raises(ConfigError, match=f"at most {MAX_BOOTSTRAP}"):
        parse_bootstrap(",".join(f"/ip4/10.0.0.{i % 250}/tcp/{i + 1}/p2p/{PEER}" for i in range(MAX_BOOTSTRAP + 1)))


def test_rpc_host_and_its_warning():
    assert parse_rpc_host("127.0.0.1") == "127.0.0.1" and parse_rpc_host("localhost") == "localhost"
    with pytest.raises(ConfigError, match="--rpc-host 'node.example' is not an IP address"):
        parse_rpc_host("node.example")
    assert rpc_exposure_warning("127.0.0.1", 8545) is None and rpc_exposure_warning("::1", 8545) is None
    assert "http://10.0.0.5:8545" in rpc_exposure_warning("10.0.0.5", 8545)
    assert "every interface" in rpc_exposure_warning("0.0.0.0", 8545)


@pytest.mark.parametrize("flags, says", [
    (["--p2p-host", "example.org", "--p2p-port", "4001"], "--p2p-host 'example.org' is not an IP address"),
    (["--p2p-port", "4001", "--p2p-advertise", "/ip4/1.2.3.4"], "--p2p-advertise '/ip4/1.2.3.4' must be"),
    (["--p2p-port", "4001", "--bootstrap", "/ip4/127.0.0.1/tcp/4002"], "--bootstrap address '/ip4/127.0.0.1/tcp/4002' is not"),
    (["--rpc-host", "my-host"], "--rpc-host 'my-host' is not an IP address"),
])
def test_sidechain_run_refuses_bad_flags_before_starting(tmp_path, capsys, flags, says):
    assert main(["run", "--data-dir", str(tmp_path / "never-made"), *flags]) == 1
    assert says in capsys.readouterr().err
    assert not (tmp_path / "never-made").exists()

