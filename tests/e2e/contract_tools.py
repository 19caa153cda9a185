"""Support of the contract-tools end-to-end test: the contracts of tests/e2e/contracts compiled by the
npm `solc` (solcjs, standard JSON, through tests/e2e/compile_contracts.mjs) once per machine, and the
node tools (ethers scripts, Foundry's `cast` from the npm package) run with deadlines.

Artifacts are cached in ~/.cache/sidechain/e2e-artifacts/<hash>/, where the hash covers every source,
the compiler driver and the versions of solc and OpenZeppelin: a second run only reads JSON files.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SOURCES = HERE / "contracts"
COMPILER = HERE / "compile_contracts.mjs"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sidechain" / "e2e-artifacts"
CAST_WRAPPER = REPO / "node_modules" / ".bin" / "cast"
"""The npm package's launcher (node bin.mjs); it exits 0 even when cast fails, so the tests run the
platform binary below, which the launcher itself starts."""
_SYSTEMS = {"Linux": "linux", "Darwin": "darwin"}
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
CAST = (REPO / "node_modules" / "@foundry-rs"
        / f"cast-{_SYSTEMS.get(platform.system(), 'unsupported')}-{_MACHINES.get(platform.machine(), 'unsupported')}"
        / "bin" / "cast")
TOOL_TIMEOUT = 120.0


def package_version(name: str) -> str:
    return json.loads((REPO / "node_modules" / name / "package.json").read_text())["version"]


def sources_hash() -> str:
    """Hash of what decides the artifacts: the sources, the driver, the compiler and library versions."""
    digest = hashlib.sha256()
    for path in sorted(SOURCES.glob("*.sol")):
        digest.update(f"{path.name}\0".encode() + path.read_bytes() + b"\0")
    digest.update(COMPILER.read_bytes())
    digest.update(f"solc {package_version('solc')} oz {package_version('@openzeppelin/contracts')}".encode())
    return digest.hexdigest()[:24]


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js is required (scripts/bootstrap checks for it)")
    return node


def artifacts_dir() -> Path:
    """The directory of the compiled artifacts (one <Contract>.json each), compiling on first use."""
    target = CACHE / sources_hash()
    if (target / "complete").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="compiling-", dir=CACHE))
    try:
        done = subprocess.run([require_node(), str(COMPILER), "--out", str(scratch)],
                              capture_output=True, text=True, timeout=300, cwd=REPO)
        if done.returncode != 0:
            raise RuntimeError(f"compiling tests/e2e/contracts failed:\n{done.stderr}")
        (scratch / "complete").write_text("")
        try:
            scratch.rename(target)  # atomic: a concurrent run either wins or finds it done
        except OSError:
            if not (target / "complete").exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


@lru_cache(maxsize=None)
def artifacts() -> dict[str, dict]:
    """Contract name -> {"abi", "bytecode", "deployedBytecode"}."""
    found = {}
    for path in sorted(artifacts_dir().glob("*.json")):
        artifact = json.loads(path.read_text())
        found[artifact["contractName"]] = {k: artifact[k] for k in ("abi", "bytecode", "deployedBytecode")}
    return found


def run_ethers(*args: str, timeout: float = TOOL_TIMEOUT) -> dict:
    """tests/e2e/ethers_contracts.mjs with `args`; its one line of JSON on stdout, parsed."""
    out = subprocess.run([require_node(), str(HERE / "ethers_contracts.mjs"), *args],
                         capture_output=True, text=True, timeout=timeout, cwd=REPO)
    assert out.returncode == 0, f"ethers_contracts.mjs {args[0] if args else ''} failed:\n{out.stderr}\n{out.stdout}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def cast(*args: str, timeout: float = TOOL_TIMEOUT) -> subprocess.CompletedProcess:
    """Foundry's `cast` (the npm @foundry-rs/cast binary) with `args`; fails the test on a non-zero exit."""
    if not CAST.exists():
        raise RuntimeError(f"{CAST} is missing: scripts/bootstrap installs @foundry-rs/cast from package-lock.json")
    out = subprocess.run([str(CAST), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO,
                         env={**os.environ, "FOUNDRY_DISABLE_NIGHTLY_WARNING": "1", "NO_COLOR": "1"})
    assert out.returncode == 0, f"cast {args[0]} failed ({out.returncode}):\n{out.stderr}\n{out.stdout}"
    return out
