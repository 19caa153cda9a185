"""Issue 11 part 2: `sidechain genesis new` writes what the genesis loader reads, refuses what it refuses
with the same message, and prints the hash operators compare."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sidechain.chain.genesis import genesis_to_json, load_genesis, parse_genesis
from sidechain.cli import main
from sidechain.errors import GenesisError

REPO = Path(__file__).resolve().parents[2]
V1 = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
V2 = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
FUNDED = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def args(out: Path, *extra: str) -> list[str]:
    return ["genesis", "new", "--chain-id", "4242", "--validator", f"{V1}:3", "--validator", V2,
            "--alloc", f"{FUNDED}=10000000000000000000000", "--block-time-ms", "500", "--checkpoint-interval", "8",
            "--out", str(out), *extra]


def loader_error(obj: dict) -> str:
    with pytest.raises(GenesisError) as info:
        parse_genesis(obj)
    return str(info.value)


def test_written_genesis_round_trips_and_prints_its_hash(tmp_path, capsys):
    out = tmp_path / "genesis" / "mynet.json"
    assert main(args(out, "--description", "four operators")) == 0
    printed = capsys.readouterr().out
    genesis = load_genesis(out)
    assert parse_genesis(json.loads(out.read_text())) == genesis
    assert genesis_to_json(genesis) == json.loads(out.read_text())
    assert (genesis.chain_id, genesis.block_time_ms, genesis.checkpoint_interval) == (4242, 500, 8)
    assert [(("0x" + v.address.hex()).lower(), v.power) for v in genesis.validators] == [(V1.lower(), 3), (V2.lower(), 1)]
    assert genesis.alloc == ((bytes.fromhex(FUNDED[2:]), 10**22),)
    assert genesis.description == "four operators"
    hashes = re.findall(r"genesis hash (0x[0-9a-f]{64})", printed)
    assert hashes == ["0x" + genesis.hash().hex()]


@pytest.mark.parametrize("change, field_in_file", [
    (["--chain-id", "0"], ("chainId", 0)),
    (["--block-time-ms", "10"], ("blockTimeMs", 10)),
    (["--checkpoint-interval", "many"], ("checkpointInterval", "many")),
    (["--base-fee", "-1"], ("baseFeePerGas", -1)),
    (["--gas-limit", "0x10"], ("gasLimit", "0x10")),
])
def test_bad_scalar_gives_the_loaders_message(tmp_path, capsys, change, field_in_file):
    out = tmp_path / "g.json"
    argv = args(out)
    flag = change[0]
    if flag in argv:
        argv[argv.index(flag) + 1] = change[1]
    else:
        argv += change
    assert main(argv) == 1
    base = json.loads((REPO / "genesis" / "devnet.json").read_text())
    base[field_in_file[0]] = field_in_file[1]
    assert capsys.readouterr().err.strip() == f"error: {loader_error(base)}"
    assert not out.exists()


def test_bad_validator_and_alloc_give_the_loaders_message(tmp_path, capsys):
    out = tmp_path / "g.json"
    assert main(["genesis", "new", "--chain-id", "1", "--validator", f"{V1}:zero", "--block-time-ms", "500",
                 "--checkpoint-interval", "8", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "genesis field 'validators[0].power'" in err and "'zero'" in err
    assert main(["genesis", "new", "--chain-id", "1", "--validator", "0x1234", "--block-time-ms", "500",
                 "--checkpoint-interval", "8", "--out", str(out)]) == 1
    assert "genesis field 'validators[0].address': expected a 0x-prefixed 20-byte hex address" in capsys.readouterr().err
    assert main(["genesis", "new", "--chain-id", "1", "--validator", V1, "--alloc", f"{V1}=lots", "--block-time-ms", "500",
                 "--checkpoint-interval", "8", "--out", str(out)]) == 1
    assert f"genesis field 'alloc[{V1}].balance'" in capsys.readouterr().err
    assert main(["genesis", "new", "--chain-id", "1", "--validator", V1, "--alloc", V1, "--block-time-ms", "500",
                 "--checkpoint-interval", "8", "--out", str(out)]) == 1
    assert "expected ADDRESS=WEI" in capsys.readouterr().err
    assert main(["genesis", "new", "--chain-id", "1", "--validator", V1, "--validator", V1, "--block-time-ms", "500",
                 "--checkpoint-interval", "8", "--out", str(out)]) == 1
    assert "genesis field 'validators[1]" in capsys.readouterr().err
    assert not out.exists()


def test_existing_file_is_kept_unless_forced(tmp_path, capsys):
    out = tmp_path / "g.json"
    out.write_text("keep me")
    assert main(args(out)) == 1
    assert "already exists (--force replaces it)" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    assert main(args(out, "--force")) == 0
    load_genesis(out)


def test_sidechain_init_takes_the_new_genesis(tmp_path):
    out = tmp_path / "mynet.json"
    assert main(args(out)) == 0
    password = tmp_path / "pw"
    password.write_text("pw\n")
    done = subprocess.run([sys.executable, "-m", "sidechain.cli", "init", "--data-dir", str(tmp_path / "v1"), "--genesis", str(out),
                           "--password-file", str(password), "--scrypt-n", "2"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"genesis 0x{load_genesis(out).hash().hex()}" in done.stdout
