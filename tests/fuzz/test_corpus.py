"""Replays the fuzzers' corpus and crashers (issue 10 item 9); `scripts/fuzz` makes them.

`corpus/<target>/*.bin`: one input per distinct outcome a fuzz run saw (accepted, or each allowed
error); each must still raise nothing outside its target's documented error tree
(`sidechain.devtools.fuzz.targets`). `corpus/<target>/crash-*.bin`: inputs that escaped it. Those listed in
`crashers.json` (with the exception they raise today) are strict xfails, so the fix of each turns
its test into an XPASS, which fails until the entry is removed; an unlisted one is a fixed crasher,
replayed as an ordinary regression test.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path

import pytest

from sidechain.devtools.fuzz.targets import NAMES, build

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
CRASHERS = json.loads((HERE / "crashers.json").read_text())


@cache
def target(name: str):
    return build(name)


def _replay(name: str, data: bytes) -> None:
    t = target(name)
    try:
        t.run(data)
    except t.allowed or ():
        pass


@pytest.mark.parametrize("name", NAMES)
def test_corpus_raises_only_the_documented_errors(name):
    files = sorted(p for p in (CORPUS / name).glob("*.bin") if not p.name.startswith("crash-"))
    assert files, f"no corpus for {name}: run scripts/fuzz --target {name}"
    for path in files:
        _replay(name, path.read_bytes())


def test_every_listed_crasher_is_on_disk():
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/crash-*.bin")}
    assert set(CRASHERS) <= on_disk


def _exception(dotted: str) -> type[BaseException]:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _crasher(path: str):
    entry = CRASHERS.get(path)
    if entry is None:
        return pytest.param(path, id=path)
    return pytest.param(path, marks=pytest.mark.xfail(strict=True, raises=_exception(entry["raises"]),
                                                      reason=f'{entry["exception"]} at {entry["where"]}: {entry["why"]}'),
                        id=path)


@pytest.mark.parametrize("path", [_crasher(str(p.relative_to(CORPUS))) for p in sorted(CORPUS.glob("*/crash-*.bin"))])
def test_crasher(path):
    _replay(path.split("/")[0], (CORPUS / path).read_bytes())
