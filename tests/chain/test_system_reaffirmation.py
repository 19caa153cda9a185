"""Re-affirming a deposit the validators already affirmed: it completes a deposit whose affirmers
became a quorum only through a validator-set change (a stuck deposit would block every later one),
and it still reverts while they are no quorum."""

from eth_account import Account

from sidechain.chain.system import BRIDGE_ADDRESS, VALIDATOR_SET_ADDRESS
from sidechain.chain.system.bridge import ETH, next_deposit_id
from sidechain.chain.system.validator_set import current_set

from system_chain import MemoryChain, addr, calldata

INTERVAL = 4
VALIDATORS = [Account.from_key(bytes([0x60 + i]) * 32) for i in range(4)]
A, B, C, D = VALIDATORS
ALICE = bytes.fromhex("a1" * 20)


def affirmation(deposit_id: int, amount: int = 1000) -> bytes:
    return calldata("affirmDeposit(uint64,address,address,uint256,string,string,uint8)",
                    deposit_id, ETH, ALICE, amount, "Ether", "ETH", 18)


class Chain(MemoryChain):
    """Only the validators funded; each transaction names its contract."""

    def __init__(self):
        super().__init__(VALIDATORS, VALIDATORS, interval=INTERVAL, gas=300_000)


def test_a_deposit_whose_affirmers_become_a_quorum_after_a_set_change_can_still_be_minted():
    """A and B affirm deposit 1 (2 of 4: no quorum). C and D are then voted out (a planned
    decommission: their relayers were already stopped). From the next range on A and B hold all
    the power, so their affirmations are a quorum; but acceptance was only ever checked when an
    affirmation arrived, and both already affirmed: deposit 1, and with it every later deposit
    (minted in id order), could never be minted. A re-affirmation of the same content must be
    able to complete it."""
    chain = Chain()
    assert chain.statuses(*(chain.tx(v, affirmation(1), to=BRIDGE_ADDRESS) for v in (A, B))) == [1, 1]
    assert next_deposit_id(chain.state) == 1
    remove_d = calldata("voteRemoveValidator(address)", addr(D))
    remove_c = calldata("voteRemoveValidator(address)", addr(C))
    assert chain.statuses(*(chain.tx(v, remove_d, to=VALIDATOR_SET_ADDRESS) for v in (A, B, C))) == [1, 1, 1]
    assert chain.statuses(*(chain.tx(v, remove_c, to=VALIDATOR_SET_ADDRESS) for v in (A, B, C))) == [1, 1, 1]
    chain.until_after_boundary()
    assert current_set(chain.state).addresses == (addr(A), addr(B))

    assert chain.statuses(chain.tx(A, affirmation(1), to=BRIDGE_ADDRESS)) == [1]
    assert next_deposit_id(chain.state) == 2
    assert chain.state.get_account(ALICE).balance == 1000


def test_a_repeated_affirmation_without_a_quorum_still_reverts():
    chain = Chain()
    assert chain.statuses(*(chain.tx(v, affirmation(1), to=BRIDGE_ADDRESS) for v in (A, B))) == [1, 1]
    assert chain.statuses(chain.tx(A, affirmation(1), to=BRIDGE_ADDRESS)) == [0]
    assert next_deposit_id(chain.state) == 1
