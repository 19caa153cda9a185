"""The bridge is an EVM contract like any other: a user's contract withdraws through it, ETH and
bridged tokens alike, and the withdrawal is recorded under the contract's address."""

from sidechain.chain.state import Account as StateAccount
from sidechain.chain.system import BRIDGE_ADDRESS
from sidechain.chain.system.bridge import Withdrawal, accepted, minted, next_deposit_id, totals, withdrawal
from sidechain.chain.system.tokens import balance_of
from sidechain.crypto import keccak256

from system_chain import MemoryChain, addr, calldata
from system_bridge_support import ALICE, ETH, L1_RECIPIENT, L1_TOKEN, TOKEN, VALIDATORS, affirmation, token_affirmation, withdraw

FORWARDER = bytes.fromhex("f0" * 20)
FORWARDER_CODE = bytes.fromhex(
    "3660006000" "37"                             # CALLDATACOPY(0, 0, CALLDATASIZE)
    "6000600036600034" "73" + BRIDGE_ADDRESS.hex() + "5af1"  # CALL(gas, bridge, CALLVALUE, 0, CALLDATASIZE, 0, 0)
    "3d60006000" "3e"                             # RETURNDATACOPY(0, 0, RETURNDATASIZE)
    "6032" "57" "3d6000fd"                        # if the call failed, REVERT with its data
    "5b" "3d6000f3"                               # RETURN(0, RETURNDATASIZE)
)
"""A contract that passes its calldata and value on to the bridge and answers what the bridge answers."""


class Chain(MemoryChain):
    def __init__(self):
        super().__init__(VALIDATORS, [*VALIDATORS, ALICE], interval=4, gas=3_000_000, contract=BRIDGE_ADDRESS,
                         genesis_supply=5 * 10**20)
        code_hash = keccak256(FORWARDER_CODE)
        self.state.apply({FORWARDER: StateAccount(nonce=1, code_hash=code_hash)}, {}, {code_hash: FORWARDER_CODE})


def test_a_contract_withdraws_ether_through_the_bridge():
    chain = Chain()
    chain.statuses(*(chain.tx(v, affirmation(1, amount=3 * 10**18)) for v in VALIDATORS[:3]))
    receipt, _ = chain.send(ALICE, withdraw(ETH, 10**18), value=10**18, to=FORWARDER)
    assert receipt.status == 1
    assert withdrawal(chain.state, 1) == Withdrawal(1, ETH, L1_RECIPIENT, 10**18, 2, FORWARDER)
    assert totals(chain.state, ETH) == (3 * 10**18, 10**18)


def test_a_contract_withdraws_bridged_tokens_it_holds_and_a_refusal_reaches_it():
    chain = Chain()
    chain.statuses(*(chain.tx(v, token_affirmation(1, 1000)) for v in VALIDATORS[:3]))
    chain.send(ALICE, calldata("transfer(address,uint256)", FORWARDER, 300), to=TOKEN)
    refused = chain.outcome(ALICE, withdraw(L1_TOKEN, 301), to=FORWARDER, gas=1_000_000)
    assert refused.revert_reason == f"withdrawal above the balance: 0x{FORWARDER.hex()} holds 300, wants to withdraw 301"
    receipt, _ = chain.send(ALICE, withdraw(L1_TOKEN, 300), to=FORWARDER)
    assert receipt.status == 1
    assert balance_of(chain.state, TOKEN, FORWARDER) == 0
    assert withdrawal(chain.state, 1) == Withdrawal(1, L1_TOKEN, L1_RECIPIENT, 300, 3, FORWARDER)
    assert balance_of(chain.state, TOKEN, addr(ALICE)) == 700


def test_an_accepted_deposit_its_affirmation_had_no_gas_to_mint_is_minted_by_the_next_call():
    chain = Chain()
    chain.statuses(*(chain.tx(v, affirmation(1, amount=7)) for v in VALIDATORS[:2]))
    # enough for the affirmation itself, not for the mint it would start: accepted, not minted
    (status,) = chain.statuses(chain.tx(VALIDATORS[2], affirmation(1, amount=7), gas=200_000))
    assert status == 1
    assert accepted(chain.state, 1) is not None and minted(chain.state, 1) is None and next_deposit_id(chain.state) == 1
    balance = chain.state.get_account(addr(ALICE)).balance
    receipt, _ = chain.send(ALICE, calldata("mintReady()"))  # anyone may finish it
    assert receipt.status == 1
    assert minted(chain.state, 1) is not None and next_deposit_id(chain.state) == 2
    assert chain.state.get_account(addr(ALICE)).balance == balance + 7 - receipt.gas_used * 10**9
