"""The sidechain's own Solidity contracts (the genesis predeploys, the bridged ERC-20), compiled by
`scripts/build-contracts` with the npm solc for Cancun into artifacts/ (committed; a test checks
they match the sources). The chain rules take their runtime code from here."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@cache
def _artifact(name: str) -> dict:
    path = ARTIFACTS / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no artifact {path}: run scripts/build-contracts")
    return json.loads(path.read_text())


def runtime_code(name: str) -> bytes:
    """The deployed bytecode of contract `name`."""
    return bytes.fromhex(_artifact(name)["deployedBytecode"][2:])


def creation_code(name: str) -> bytes:
    """The creation bytecode (initcode) of contract `name`."""
    return bytes.fromhex(_artifact(name)["bytecode"][2:])


def abi(name: str) -> list[dict]:
    """The JSON ABI of contract `name` (a copy)."""
    return json.loads(json.dumps(_artifact(name)["abi"]))
