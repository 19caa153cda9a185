"""Regression tests for bugs found in review of the bridge and validator-set system contracts."""

from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from sidechain.chain.execution import BlockEnv, execute_transactions
from sidechain.chain.state import Account as StateAccount
from sidechain.chain.state import MemoryState
from sidechain.chain.system import BRIDGE_ADDRESS, VALIDATOR_SET_ADDRESS, genesis_state
from sidechain.chain.system.bridge import next_deposit_id
from sidechain.chain.system.validator_set import current_set
from sidechain.chain.transactions import decode_transaction
from sidechain.chain.validators import ValidatorSet

CHAIN_ID = 7070
BASE_FEE = 10**9
FUNDS = 10**20
INTERVAL = 4
VALIDATORS = [Account.from_key(bytes([0x60 + i]) * 32) for i in range(4)]
A, B, C, D = VALIDATORS
ALICE = bytes.fromhex("a1" * 20)
ETH = bytes(20)


def addr(account) -> bytes:
    return bytes.fromhex(account.address[2:])


def calldata(signature: str, *args) -> bytes:
    types = signature[signature.index("(") + 1:-1]
    return function_signature_to_4byte_selector(signature) + encode([t for t in types.split(",") if t], list(args))


def affirmation(deposit_id: int, amount: int = 1000) -> bytes:
    return calldata("affirmDeposit(uint64,address,address,uint256,string,string,uint8)",
                    deposit_id, ETH, ALICE, amount, "Ether", "ETH", 18)


class Chain:
    def __init__(self):
        accounts, storage = genesis_state(ValidatorSet(tuple(addr(v) for v in VALIDATORS), (1,) * 4))
        accounts.update({addr(v): StateAccount(balance=FUNDS) for v in VALIDATORS})
        self.state = MemoryState(accounts, storage)
        self.number = 1
        self.nonces: dict[bytes, int] = {}

    def tx(self, account, data: bytes, to: bytes):
        nonce = self.nonces.get(addr(account), 0)
        self.nonces[addr(account)] = nonce + 1
        raw = account.sign_transaction({
            "to": to_checksum_address(to), "value": 0, "gas": 300_000, "data": data, "maxFeePerGas": 2 * BASE_FEE,
            "maxPriorityFeePerGas": 0, "nonce": nonce, "chainId": CHAIN_ID, "type": 2,
        }).raw_transaction
        return decode_transaction(bytes(raw), CHAIN_ID)

    def block(self, *txs):
        env = BlockEnv(self.number, self.number, b"\x00" * 20, BASE_FEE, 30_000_000, INTERVAL)
        result = execute_transactions(self.state, env, txs, skip_invalid=False)
        self.state.apply(result.changes, {(a, k): v for a, words in result.storage.items() for k, v in words.items()})
        self.number += 1
        return [r.status for r in result.receipts]

    def until_after_boundary(self) -> None:
        while (self.number - 1) % INTERVAL:
            self.block()


def test_a_deposit_whose_affirmers_become_a_quorum_after_a_set_change_can_still_be_minted():
    """A and B affirm deposit 1 (2 of 4: no quorum). C and D are then voted out (a planned
    decommission: their relayers were already stopped). From the next range on A and B hold all
    the power, so their affirmations are a quorum; but acceptance was only ever checked when an
    affirmation arrived, and both already affirmed: deposit 1, and with it every later deposit
    (minted in id order), could never be minted. A re-affirmation of the same content must be
    able to complete it."""
    chain = Chain()
    assert chain.block(*(chain.tx(v, affirmation(1), BRIDGE_ADDRESS) for v in (A, B))) == [1, 1]
    assert next_deposit_id(chain.state) == 1
    remove_d = calldata("voteRemoveValidator(address)", addr(D))
    remove_c = calldata("voteRemoveValidator(address)", addr(C))
    assert chain.block(*(chain.tx(v, remove_d, VALIDATOR_SET_ADDRESS) for v in (A, B, C))) == [1, 1, 1]
    assert chain.block(*(chain.tx(v, remove_c, VALIDATOR_SET_ADDRESS) for v in (A, B, C))) == [1, 1, 1]
    chain.until_after_boundary()
    assert current_set(chain.state).addresses == (addr(A), addr(B))

    assert chain.block(chain.tx(A, affirmation(1), BRIDGE_ADDRESS)) == [1]
    assert next_deposit_id(chain.state) == 2
    assert chain.state.get_account(ALICE).balance == 1000


def test_a_repeated_affirmation_without_a_quorum_still_reverts():
    chain = Chain()
    assert chain.block(*(chain.tx(v, affirmation(1), BRIDGE_ADDRESS) for v in (A, B))) == [1, 1]
    assert chain.block(chain.tx(A, affirmation(1), BRIDGE_ADDRESS)) == [0]
    assert next_deposit_id(chain.state) == 1
