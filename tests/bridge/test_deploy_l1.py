"""`scripts/deploy-l1` against a real anvil posing as a testnet (chain id 11155111): RootBridge locks
the genesis's allocations, and a deployer that cannot afford the lock is refused before anything is
sent. The devnet's L1: anvil started by `scripts/devnet up`, contracts deployed once (the devnet
genesis locked) and found again after down/up; a RootBridge without this genesis's lock is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from web3 import Web3

from sidechain.devtools.anvil import run_anvil
from bridge.deploy import contract_at, genesis_supply
from sidechain.devtools.l1devnet import DEV_BALANCE_ETH
from bridge.root_bridge import ETH, deploy_root_bridge
from sidechain.chain.genesis import load_genesis
from sidechain.devkeys import anvil_private_key
from sidechain.devtools.devnet import free_port_base
from sidechain.keystore import encrypt_key, save_keystore

from checkpoint_support import address_of

REPO = Path(__file__).resolve().parents[2]
DEVNET_SUPPLY = 100_000 * 10**18
"""genesis/devnet.json: ten accounts with 10,000 ETH each."""
ANVIL_BALANCE = 10_000 * 10**18
"""What each anvil dev account holds unless told otherwise."""


def _keystore(tmp_path: Path) -> tuple[Path, Path]:
    keystore, password = tmp_path / "deployer.json", tmp_path / "password.txt"
    save_keystore(keystore, encrypt_key(anvil_private_key(0), "s3cret", scrypt_n=2**14))
    password.write_text("s3cret\n")
    return keystore, password


def _deploy_l1(url: str, tmp_path: Path, genesis: Path, *extra: str) -> subprocess.CompletedProcess:
    keystore, password = _keystore(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "bridge.deploy_cli", "--rpc-url", url, "--keystore", str(keystore),
         "--password-file", str(password), "--genesis", str(genesis), *extra],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )


def _genesis_with_alloc(tmp_path: Path, total: int) -> Path:
    """genesis/devnet.json with its allocations replaced by one account holding `total` wei."""
    genesis = json.loads((REPO / "genesis/devnet.json").read_text())
    genesis["alloc"] = {"0x" + "ab" * 20: {"balance": str(total)}}
    path = tmp_path / "genesis.json"
    path.write_text(json.dumps(genesis))
    return path


def test_deploy_l1_deploys_the_checkpoint_manager_for_the_genesis_and_the_root_bridge_on_it(tmp_path):
    assert genesis_supply(load_genesis(REPO / "genesis/devnet.json")) == DEVNET_SUPPLY
    with run_anvil(chain_id=11155111, extra_args=["--balance", str(DEV_BALANCE_ETH)]) as anvil:
        out = _deploy_l1(anvil.url, tmp_path, REPO / "genesis/devnet.json", "--out", str(tmp_path / "d.json"))
        assert out.returncode == 0, out.stderr
        assert "locking the genesis supply of 100,000 ETH" in out.stderr
        result = json.loads(out.stdout)
        assert result == json.loads((tmp_path / "d.json").read_text())
        assert result["chainId"] == 11155111 and result["sidechainChainId"] == 7070
        assert result["genesisLocked"] == str(DEVNET_SUPPLY)
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
        assert bridge.functions.genesisLocked().call() == bridge.functions.lockedBalance(ETH).call() == DEVNET_SUPPLY
        assert w3.eth.get_balance(bridge.address) == DEVNET_SUPPLY


def test_deploy_l1_refuses_a_deployer_that_cannot_afford_the_genesis_lock_before_sending_anything(tmp_path):
    with run_anvil(chain_id=11155111) as anvil:  # the deployer holds anvil's 10,000 ETH
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        deployer = address_of(anvil_private_key(0))

        short = _deploy_l1(anvil.url, tmp_path, REPO / "genesis/devnet.json")
        assert short.returncode == 1 and short.stdout == ""
        assert (f"the deployer {deployer} holds 10,000 ETH ({ANVIL_BALANCE} wei) on L1 chain 11155111, but RootBridge "
                f"must lock the sidechain genesis supply of 100,000 ETH ({DEVNET_SUPPLY} wei)") in short.stderr
        assert "fund the deployer or make the genesis allocations smaller" in short.stderr

        # The lock alone fits, the gas on top does not.
        no_gas = _deploy_l1(anvil.url, tmp_path, _genesis_with_alloc(tmp_path, ANVIL_BALANCE))
        assert no_gas.returncode == 1 and no_gas.stdout == ""
        assert f"the sidechain genesis supply of 10,000 ETH ({ANVIL_BALANCE} wei)" in no_gas.stderr
        assert "ETH of gas" in no_gas.stderr

        assert w3.eth.get_transaction_count(deployer) == 0 and w3.eth.get_balance(deployer) == ANVIL_BALANCE
        assert w3.eth.block_number == 0, "nothing was sent"


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
    return subprocess.run([sys.executable, "-m", "sidechain.devtools.devnet_cli", "--dir", str(root), *args],
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
        assert bridge.functions.genesisLocked().call() == w3.eth.get_balance(bridge.address) == DEVNET_SUPPLY
        assert l1["genesisLocked"] == str(DEVNET_SUPPLY) and "genesis allocations locked: 100,000 ETH" in first.stdout
        status = _devnet(root, "status")
        assert "CheckpointManager" in status.stdout and "validator-0" in status.stdout
        assert _devnet(root, "down").returncode == 0
        again = _devnet(root, *up)
        assert again.returncode == 0, again.stderr + again.stdout
        resumed = json.loads((root / "network.json").read_text())["l1"]
        assert resumed["contracts"] == l1["contracts"], "the L1 state was not kept across down/up"
        assert resumed["genesisLocked"] == str(DEVNET_SUPPLY)
        w3 = Web3(Web3.HTTPProvider(resumed["rpc"]))
        assert w3.eth.get_code(address) != b""

        # A RootBridge that does not hold this genesis's allocations is refused, not reused.
        unbacked, _ = deploy_root_bridge(w3, anvil_private_key(0), address, 0)
        assert _devnet(root, "down").returncode == 0
        deployment = json.loads((root / "l1-deployment.json").read_text())
        (root / "l1-deployment.json").write_text(json.dumps({**deployment, "RootBridge": unbacked.address}))
        refused = _devnet(root, *up)
        assert refused.returncode == 1
        assert (f"the devnet's RootBridge {unbacked.address} holds a genesis lock of 0 wei, but this genesis's "
                f"allocations sum to {DEVNET_SUPPLY} wei") in refused.stderr
        assert "`scripts/devnet down --wipe`" in refused.stderr
    finally:
        _devnet(root, "down")
