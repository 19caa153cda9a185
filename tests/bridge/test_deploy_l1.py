"""`scripts/deploy-l1` against a real anvil posing as a testnet (chain id 11155111), and the devnet's
L1: anvil started by `scripts/devnet up`, contracts deployed once and found again after down/up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from web3 import Web3

from bridge.anvil import run_anvil
from bridge.deploy import contract_at
from sidechain.chain.genesis import load_genesis
from sidechain.devkeys import anvil_private_key
from sidechain.devnet import free_port_base
from sidechain.keystore import encrypt_key, save_keystore

from checkpoint_support import address_of

REPO = Path(__file__).resolve().parents[2]


def test_deploy_l1_deploys_the_checkpoint_manager_for_the_genesis_and_the_root_bridge_on_it(tmp_path):
    keystore, password = tmp_path / "deployer.json", tmp_path / "password.txt"
    save_keystore(keystore, encrypt_key(anvil_private_key(0), "s3cret", scrypt_n=2**14))
    password.write_text("s3cret\n")
    with run_anvil(chain_id=11155111) as anvil:
        out = subprocess.run(
            [sys.executable, "-m", "bridge.deploy_cli", "--rpc-url", anvil.url, "--keystore", str(keystore),
             "--password-file", str(password), "--genesis", str(REPO / "genesis/devnet.json"), "--out", str(tmp_path / "d.json")],
            capture_output=True, text=True, timeout=120, cwd=REPO,
        )
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result == json.loads((tmp_path / "d.json").read_text())
        assert result["chainId"] == 11155111 and result["sidechainChainId"] == 7070
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        manager = contract_at(w3, "CheckpointManager", result["CheckpointManager"])
        genesis = load_genesis(REPO / "genesis/devnet.json")
        addresses, powers = manager.functions.validators().call()
        assert [bytes.fromhex(a[2:]) for a in addresses] == sorted(v.address for v in genesis.validators)
        assert powers == [1, 1, 1, 1]
        assert manager.functions.sidechainChainId().call() == 7070
        bridge = contract_at(w3, "RootBridge", result["RootBridge"])
        assert bridge.functions.checkpointManager().call() == result["CheckpointManager"]
        assert bridge.functions.nextDepositId().call() == 1


def test_deploy_l1_refuses_a_wrong_password_clearly(tmp_path):
    keystore, password = tmp_path / "deployer.json", tmp_path / "password.txt"
    save_keystore(keystore, encrypt_key(anvil_private_key(0), "right", scrypt_n=2**14))
    password.write_text("wrong\n")
    out = subprocess.run(
        [sys.executable, "-m", "bridge.deploy_cli", "--rpc-url", "http://127.0.0.1:1", "--keystore", str(keystore),
         "--password-file", str(password)], capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert out.returncode == 1 and "MAC mismatch" in out.stderr


def _free_base(n: int) -> int:
    """RPC ports base..base+n-1, libp2p base+100.., and the L1 at base+199."""
    return free_port_base([*range(n), *range(100, 100 + n), 199])


def _devnet(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sidechain.devnet_cli", "--dir", str(root), *args],
                          capture_output=True, text=True, timeout=180, cwd=REPO)


def test_devnet_up_starts_an_l1_with_the_contracts_and_keeps_them_across_down_and_up(tmp_path):
    root, base = tmp_path / "devnet", _free_base(1)
    up = ["up", "--validators", "1", "--rpc-base-port", str(base), "--l1-port", str(base + 199)]
    try:
        first = _devnet(root, *up)
        assert first.returncode == 0, first.stderr + first.stdout
        network = json.loads((root / "network.json").read_text())
        l1 = network["l1"]
        assert l1["rpc"] == f"http://127.0.0.1:{base + 199}" and l1["chainId"] == 31337
        address = l1["contracts"]["CheckpointManager"]
        w3 = Web3(Web3.HTTPProvider(l1["rpc"]))
        assert contract_at(w3, "CheckpointManager", address).functions.sidechainChainId().call() == 7070
        bridge = contract_at(w3, "RootBridge", l1["contracts"]["rootBridge"])
        assert bridge.functions.checkpointManager().call() == address
        token = contract_at(w3, "TestToken", l1["contracts"]["testToken"])
        assert (token.functions.symbol().call(), token.functions.decimals().call()) == ("DEV", 18)
        assert token.functions.balanceOf(address_of(anvil_private_key(0))).call() >= 10**6 * 10**18
        status = _devnet(root, "status")
        assert "CheckpointManager" in status.stdout and "validator-0" in status.stdout
        assert _devnet(root, "down").returncode == 0
        again = _devnet(root, *up)
        assert again.returncode == 0, again.stderr + again.stdout
        resumed = json.loads((root / "network.json").read_text())["l1"]
        assert resumed["contracts"] == l1["contracts"], "the L1 state was not kept across down/up"
        assert Web3(Web3.HTTPProvider(resumed["rpc"])).eth.get_code(address) != b""
    finally:
        _devnet(root, "down")
