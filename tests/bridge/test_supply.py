"""The supply invariant's verdict: every way the two chains can disagree is a mismatch."""

import pytest

from bridge.supply import TokenSupply

ETH = bytes(20)
BALANCED = dict(token=ETH, held=70, locked=70, minted=90, unminted=10, burned=40, exited=30)


def test_balanced_books_hold():
    assert TokenSupply(**BALANCED).holds
    assert TokenSupply(**BALANCED).describe().endswith(": ok")


@pytest.mark.parametrize("change, why", [
    ({"held": 69}, "RootBridge holds less than its books say"),
    ({"locked": 71}, "the books disagree with the holdings"),
    ({"minted": 91}, "more minted than deposited"),
    ({"unminted": 0}, "a deposit vanished without being minted"),
    ({"exited": 41, "held": 59, "locked": 59}, "an exit without a burn behind it"),
    ({"burned": 20}, "more exited than burned"),
])
def test_every_disagreement_is_a_mismatch(change, why):
    supply = TokenSupply(**{**BALANCED, **change})
    assert not supply.holds, why
    assert "MISMATCH" in supply.describe()
