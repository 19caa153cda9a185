"""Support of the contract end-to-end tests: Solidity folders (tests/e2e/contracts, the corpus of
tests/evm) compiled by the npm `solc` through bridge/contracts/compile.mjs once per machine, and the
node tools (ethers scripts, Foundry's `cast` from the npm package) run with deadlines.

Artifacts are cached in ~/.cache/sidechain/test-artifacts/<hash>/, where the hash covers every source,
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
COMPILER = REPO / "bridge" / "contracts" / "compile.mjs"
"""The project's one compiler driver (npm solc, standard JSON), with --src and --evm-version."""
EVM_VERSION = "cancun"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sidechain" / "test-artifacts"
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


def sources_hash(src: Path) -> str:
    """Hash of what decides the artifacts: the sources, the driver, the compiler and library versions."""
    digest = hashlib.sha256()
    for path in sorted(src.rglob("*.sol")):
        digest.update(f"{path.relative_to(src)}\0".encode() + path.read_bytes() + b"\0")
    digest.update(COMPILER.read_bytes())
    digest.update(f"solc {package_version('solc')} oz {package_version('@openzeppelin/contracts')} {EVM_VERSION}".encode())
    return digest.hexdigest()[:24]


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js is required (scripts/bootstrap checks for it)")
    return node


def artifacts_dir(src: Path = SOURCES) -> Path:
    """The directory of the compiled artifacts of `src` (one <Contract>.json each), compiling on first use."""
    target = CACHE / sources_hash(src)
    if (target / "complete").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="compiling-", dir=CACHE))
    try:
        done = subprocess.run([require_node(), str(COMPILER), "--src", str(src), "--evm-version", EVM_VERSION, "--out", str(scratch)],
                              capture_output=True, text=True, timeout=300, cwd=REPO)
        if done.returncode != 0:
            raise RuntimeError(f"compiling {src} failed:\n{done.stderr}")
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
def compiled(src: Path = SOURCES) -> dict[str, dict]:
    """Contract name -> {"abi", "bytecode", "deployedBytecode"} of every contract under `src`."""
    found = {}
    for path in sorted(artifacts_dir(src).glob("*.json")):
        artifact = json.loads(path.read_text())
        found[artifact["contractName"]] = {k: artifact[k] for k in ("abi", "bytecode", "deployedBytecode")}
    return found


def artifacts() -> dict[str, dict]:
    """The contracts of tests/e2e/contracts, compiled."""
    return compiled(SOURCES)


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
