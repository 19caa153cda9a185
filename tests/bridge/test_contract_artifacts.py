"""The committed artifacts under bridge/artifacts/ are what the sources compile to (run
scripts/build-contracts and commit the result when this fails)."""

from __future__ import annotations

import json
import subprocess

import pytest

from bridge.artifacts import ARTIFACTS_DIR, COMPILE_SCRIPT, REPO_NODE_MODULES, load_artifact


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory):
    if not (REPO_NODE_MODULES / "solc").is_dir():
        pytest.fail("node_modules/solc is missing: run scripts/bootstrap")
    out = tmp_path_factory.mktemp("artifacts")
    subprocess.run(["node", str(COMPILE_SCRIPT), "--out", str(out)], check=True, capture_output=True, timeout=120)
    return out


def test_every_contract_has_a_committed_artifact(fresh_build):
    built = sorted(p.name for p in fresh_build.glob("*.json"))

    assert built == sorted(p.name for p in ARTIFACTS_DIR.glob("*.json"))
    assert "CheckpointManager.json" in built


def test_committed_artifacts_match_the_sources(fresh_build):
    for path in fresh_build.glob("*.json"):
        fresh = json.loads(path.read_text())
        committed = load_artifact(fresh["contractName"])
        stale = [k for k in ("sourceHash", "bytecode", "deployedBytecode", "abi", "compiler") if committed[k] != fresh[k]]
        assert not stale, f"{path.name}: {stale} differ from the sources; run scripts/build-contracts and commit"


def test_artifact_shape():
    artifact = load_artifact("CheckpointManager")

    for key in ("bytecode", "deployedBytecode"):
        assert len(bytes.fromhex(artifact[key].removeprefix("0x"))) > 1000
    assert artifact["compiler"]["version"].startswith("0.8.37")
    assert artifact["compiler"]["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert {e["name"] for e in artifact["abi"] if e["type"] == "event"} == {
        "CheckpointSubmitted", "ValidatorSetUpdated", "EIP712DomainChanged"}
    artifact["abi"].clear()
    assert load_artifact("CheckpointManager")["abi"], "load_artifact must hand out copies"


def test_an_unknown_contract_names_the_build_command():
    with pytest.raises(FileNotFoundError, match="scripts/build-contracts"):
        load_artifact("NoSuchContract")
