"""The Python side reads the system contracts' storage slot by slot: its slot numbers are the
compiler's (the artifacts carry solc's storage layout), so a reordered state variable fails here
rather than as a wrong validator set."""

import json

import pytest

from sidechain.chain.contracts import ARTIFACTS
from sidechain.chain.system import bridge, checkpoint_signatures, validator_set


@pytest.mark.parametrize("contract, slots", [
    ("ValidatorSet", validator_set.SLOTS),
    ("CheckpointSignatures", checkpoint_signatures.SLOTS),
    ("Bridge", bridge.SLOTS),
])
def test_the_slots_the_python_side_reads_are_the_compilers(contract, slots):
    layout = json.loads((ARTIFACTS / f"{contract}.json").read_text())["storageLayout"]
    assert {entry["label"]: (entry["slot"], entry["offset"]) for entry in layout} == {
        label: (slot, 0) for label, slot in slots.items()}
