"""The layers, enforced: every import of every module in sidechain/ and bridge/ (lazy ones inside
functions included) runs the allowed way, and no private name crosses a package.

The directions are written once, here (README "Layout" draws the same picture):

    errors <- crypto <- chain (+ evm, the compiled core: revm and the state trie) <- execution <- storage <- interfaces
        <- consensus, p2p, mempool, sync, rpc <- node <- cli
    bridge/ (the L1 side) uses the sidechain's public rules and never the reverse;
    sidechain/devtools (devnet, benchmarks, fuzzing, anvil) sits on top of everything and nothing
    else imports it.

A module's group is its top-level package under sidechain/ (sidechain.consensus, ...) or its
module (sidechain.errors); all of bridge/ is one group. Imports inside a group are free.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ANYTHING = "anything"

ALLOWED: dict[str, set[str] | str] = {
    "sidechain": set(),
    "sidechain.errors": set(),
    "sidechain.logs": set(),
    "sidechain.verdicts": set(),
    "sidechain.explorer": set(),
    "sidechain.crypto": {"sidechain.errors"},
    "sidechain.evm": {"sidechain.errors"},
    "sidechain.chain": {"sidechain.crypto", "sidechain.errors", "sidechain.evm"},
    "sidechain.keystore": {"sidechain.crypto", "sidechain.errors"},
    "sidechain.devkeys": {"sidechain.crypto", "sidechain.errors"},
    "sidechain.genesis_cli": {"sidechain.chain", "sidechain.crypto", "sidechain.errors"},
    "sidechain.execution": {"sidechain.chain", "sidechain.crypto", "sidechain.errors", "sidechain.evm"},
    "sidechain.storage": {"sidechain.chain", "sidechain.crypto", "sidechain.errors", "sidechain.execution"},
    "sidechain.interfaces": {"sidechain.chain", "sidechain.execution", "sidechain.storage"},
    "sidechain.p2p": {"sidechain.errors", "sidechain.logs"},
    "sidechain.consensus": {"sidechain.chain", "sidechain.crypto", "sidechain.errors", "sidechain.execution",
                            "sidechain.interfaces", "sidechain.storage", "sidechain.verdicts"},
    "sidechain.mempool": {"sidechain.chain", "sidechain.crypto", "sidechain.errors", "sidechain.interfaces",
                          "sidechain.p2p", "sidechain.verdicts"},
    "sidechain.sync": {"sidechain.chain", "sidechain.consensus", "sidechain.crypto", "sidechain.errors",
                       "sidechain.execution", "sidechain.interfaces", "sidechain.storage"},
    "sidechain.rpc": {"sidechain", "sidechain.chain", "sidechain.consensus", "sidechain.crypto", "sidechain.errors",
                      "sidechain.execution", "sidechain.interfaces", "sidechain.storage"},
    "sidechain.node": {"sidechain.chain", "sidechain.consensus", "sidechain.crypto", "sidechain.errors",
                       "sidechain.execution", "sidechain.interfaces", "sidechain.keystore", "sidechain.logs",
                       "sidechain.mempool", "sidechain.p2p", "sidechain.rpc", "sidechain.storage", "sidechain.sync",
                       "sidechain.verdicts"},
    "sidechain.cli": {"sidechain.chain", "sidechain.crypto", "sidechain.devkeys", "sidechain.errors",
                      "sidechain.genesis_cli", "sidechain.keystore", "sidechain.logs", "sidechain.node"},
    "bridge": {"sidechain.chain", "sidechain.crypto", "sidechain.errors", "sidechain.keystore", "sidechain.logs",
               "sidechain.rpc"},
    "sidechain.devtools": ANYTHING,
}

CONCRETE: dict[str, set[str]] = {
    "sidechain.storage.blockchain": {"sidechain.node", "sidechain.devtools"},
    "sidechain.storage.history": set(),
    "sidechain.storage.snapshot": set(),
    "sidechain.mempool.pool": {"sidechain.node", "sidechain.devtools"},
}
"""The classes that do the work, which only the node that assembles them (and tooling) names;
every other consumer depends on sidechain/interfaces.py (imports inside the package are free)."""

PRIVATE_CROSSINGS = {
    ("sidechain.execution.evm", "sidechain.evm._revm"),
    # the compiled binding keeps the extension module's conventional underscore name; execution/evm.py
    # (revm) is its one direct user, the chain rules take the rest from sidechain/evm/__init__.py
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def group_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "bridge":
        return "bridge"
    return ".".join(parts[:2])


def imports_of(module: str, is_package: bool, source: str) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names taken from it) for every import in `source`, at any depth."""
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target, [alias.name for alias in node.names]))
    return [(line, target, names) for line, target, names in found if target.split(".")[0] in ("sidechain", "bridge")]


def product_files() -> list[Path]:
    return sorted(p for top in ("sidechain", "bridge") for p in (REPO / top).rglob("*.py"))


def check(where: str, importer: str, is_package: bool, source: str) -> list[str]:
    """What is wrong with the imports of module `importer` (file `where`)."""
    group = group_of(importer)
    allowed = ALLOWED.get(group)
    if allowed is None:
        return [f"{where}: group {group} is not in tests/test_layers.py ALLOWED; give it its place"]
    found = []
    for line, target, names in imports_of(importer, is_package, source):
        at = f"{where}:{line}"
        target_group = group_of(target)
        if target_group == group:
            continue
        if allowed != ANYTHING and target_group not in allowed:
            found.append(f"{at}: {group} may not import {target} ({target_group}); allowed: {sorted(allowed)}")
        for named in [target] + [f"{target}.{n}" for n in names]:
            if named in CONCRETE and group not in CONCRETE[named]:
                found.append(f"{at}: {group} names the concrete {named}; depend on sidechain.interfaces instead")
        if target_group == "sidechain.devtools":
            found.append(f"{at}: the product imports devtools ({target}); only tooling and tests may")
        private = [n for n in names if n.startswith("_") and not n.startswith("__")
                   and (importer, f"{target}.{n}") not in PRIVATE_CROSSINGS]
        private_module = any(p.startswith("_") and not p.startswith("__") for p in target.split("."))
        if private or (private_module and (importer, target) not in PRIVATE_CROSSINGS):
            found.append(f"{at}: private {', '.join(private or [target])} of {target_group} used from {group}")
    return found


def violations() -> list[str]:
    found = []
    for path in product_files():
        found += check(str(path.relative_to(REPO)), module_name(path), path.name == "__init__.py", path.read_text())
    return found


def test_every_import_runs_the_allowed_way_and_no_private_name_crosses_a_package():
    assert violations() == []


def test_the_rules_name_only_groups_that_exist():
    groups = {group_of(module_name(p)) for p in product_files()}
    named = set(ALLOWED) | {g for deps in ALLOWED.values() if deps != ANYTHING for g in deps}
    assert named <= groups, f"ALLOWED names groups with no module: {sorted(named - groups)}"


@pytest.mark.parametrize("source, expected", [
    ("from sidechain.node.node import Node\n", "sidechain.consensus may not import sidechain.node.node"),
    ("from bridge.deploy import contract_at\n", "sidechain.consensus may not import bridge.deploy"),
    ("from sidechain.devtools.devnet import rpc_call\n", "the product imports devtools"),
    ("def later():\n    from ..node import node\n", "sidechain.consensus may not import sidechain.node"),
    ("from ..storage.store import _helper\n", "private _helper of sidechain.storage"),
    ("from ..storage.blockchain import Blockchain\n", "names the concrete sidechain.storage.blockchain"),
    ("from ..mempool import pool\n", "names the concrete sidechain.mempool.pool"),
])
def test_a_wrong_way_import_is_named_with_its_file_and_line(source, expected):
    """The checker itself: a consensus module importing upwards, into bridge/ or devtools, lazily,
    by a private name or the concrete chain, is reported with its file and line."""
    report = check("sidechain/consensus/planted.py", "sidechain.consensus.planted", False, source)
    assert any(expected in v and v.startswith("sidechain/consensus/planted.py:") for v in report), report


def test_imports_inside_a_group_and_allowed_ones_pass():
    source = "from .machine import ConsensusMachine\nfrom ..chain.blocks import Block\nfrom ..errors import SidechainError\n"
    assert check("sidechain/consensus/planted.py", "sidechain.consensus.planted", False, source) == []
