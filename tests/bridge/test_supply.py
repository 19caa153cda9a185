"""The supply invariant's verdict: every way the two chains can disagree is a mismatch, the genesis
lock included (RootBridge holds the sidechain genesis's allocations besides the deposits)."""

import pytest

from bridge.supply import TokenSupply

ETH = bytes(20)
TOKEN = bytes.fromhex("77" * 20)
BALANCED = dict(token=TOKEN, held=70, locked=70, minted=90, unminted=10, burned=40, exited=30)
# Genesis 1000 locked; 90 deposited and minted, 10 pending; 1040 withdrawn, 1030 of it exited: held 1000 + 100 - 1030.
BALANCED_ETH = dict(token=ETH, held=70, locked=70, minted=90, unminted=10, burned=1040, exited=1030,
                    genesis_locked=1000, genesis_supply=1000)


def test_balanced_books_hold():
    assert TokenSupply(**BALANCED).holds
    assert TokenSupply(**BALANCED).describe().endswith(": ok")


def test_balanced_books_with_the_genesis_lock_hold_and_genesis_eth_may_exit():
    supply = TokenSupply(**BALANCED_ETH)
    assert supply.holds, supply.describe()
    assert supply.can_exit == 1000 + 90 - 1030 == 60  # still on the sidechain or burned and not exited yet
    assert supply.describe() == ("ETH: held 70, locked 70, genesis locked 1000 on L1 (sidechain genesis supply 1000), "
                                 "minted 90 (+10 pending), burned 1040, exited 1030, can still exit 60: ok")


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


@pytest.mark.parametrize("change, why", [
    ({"genesis_supply": 1001}, "the sidechain allocated more at genesis than RootBridge locked"),
    ({"genesis_supply": 999}, "the sidechain's genesis is not the one RootBridge locked"),
    ({"genesis_locked": 0, "genesis_supply": 0}, "RootBridge pays genesis ETH it never locked"),
    ({"burned": 1091}, "more burned than ever existed on the sidechain"),
    ({"held": 69, "locked": 69}, "RootBridge holds less than genesis + deposits - exits"),
])
def test_every_disagreement_about_the_genesis_lock_is_a_mismatch(change, why):
    supply = TokenSupply(**{**BALANCED_ETH, **change})
    assert not supply.holds, why
    assert "MISMATCH" in supply.describe()


# Of 30 exited, 12 could not be paid and were credited; 5 of those claimed since: RootBridge holds 7 more.
OWED = dict(BALANCED, held=77, owed=7, credited=12, claimed=5)


def test_credited_exits_count_as_exited_and_what_is_still_owed_is_held_beside_the_locked_books():
    supply = TokenSupply(**OWED)
    assert supply.holds, supply.describe()
    assert supply.describe().endswith("exited 30, owed 7 to claim (credited 12, claimed 5), can still exit 60: ok")


@pytest.mark.parametrize("change, why", [
    ({"held": 70}, "RootBridge paid out a credit that is still owed"),
    ({"owed": 6}, "the claimable balances disagree with the credits less the claims"),
    ({"claimed": 6, "owed": 7}, "a claim the balances did not lose"),
    ({"locked": 77, "owed": 0, "credited": 5}, "a credited exit left in the locked books (counted twice)"),
])
def test_every_disagreement_about_what_is_owed_is_a_mismatch(change, why):
    supply = TokenSupply(**{**OWED, **change})
    assert not supply.holds, why
    assert "MISMATCH" in supply.describe()
