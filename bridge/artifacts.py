"""The compiled L1 contracts committed under bridge/artifacts/ (built by `scripts/build-contracts`).

Each artifact is JSON: contractName, sourceName, abi, bytecode (creation code), deployedBytecode
(runtime code), compiler {name, version, settings} and sourceHash (sha256 over every source fed to
the compiler, OpenZeppelin imports included). tests/bridge checks they match the sources.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
COMPILE_SCRIPT = CONTRACTS_DIR / "compile.mjs"
REPO_NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"


def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> dict:
    """The artifact of contract `name` (e.g. "CheckpointManager"); a copy, so callers may change it."""
    return copy.deepcopy(_read(name, Path(directory)))


@lru_cache(maxsize=None)
def _read(name: str, directory: Path) -> dict:
    path = directory / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no artifact for contract {name!r} at {path}; run scripts/build-contracts") from None
