"""Bridged ERC-20s: OpenZeppelin ERC-20 contracts (BridgedToken.sol) run by the EVM, with OpenZeppelin's
semantics, events, custom errors and storage slots, through ordinary signed transactions to the
token's address; only the bridge mints and burns."""

import pytest
from eth_abi import decode
from eth_account import Account
from eth_utils import keccak

from sidechain.chain.system import BRIDGE_ADDRESS, token_address

from system_chain import BASE_FEE, FUNDS, MemoryChain, addr, calldata

VALIDATORS = [Account.from_key(bytes([0x30 + i]) * 32) for i in range(4)]
ALICE = Account.from_key(b"\x41" * 32)
BOB = Account.from_key(b"\x42" * 32)
CAROL = Account.from_key(b"\x43" * 32)
L1_TOKEN = bytes.fromhex("77" * 20)
TOKEN = token_address(L1_TOKEN)
MAX_UINT256 = 2**256 - 1
TRANSFER = keccak(text="Transfer(address,address,uint256)")
APPROVAL = keccak(text="Approval(address,address,uint256)")


def word(account_or_address) -> bytes:
    raw = account_or_address if isinstance(account_or_address, bytes) else addr(account_or_address)
    return raw.rjust(32, b"\x00")


def transfer(to, amount: int) -> bytes:
    return calldata("transfer(address,uint256)", to if isinstance(to, bytes) else addr(to), amount)


def approve(spender, amount: int) -> bytes:
    return calldata("approve(address,uint256)", spender if isinstance(spender, bytes) else addr(spender), amount)


def transfer_from(owner, to, amount: int) -> bytes:
    return calldata("transferFrom(address,address,uint256)", addr(owner), to if isinstance(to, bytes) else addr(to), amount)


class Chain(MemoryChain):
    """A chain of MemoryState blocks whose first block mints 1000 of the bridged token to Alice."""

    def __init__(self, opening_deposit: bool = True):
        super().__init__(VALIDATORS, [*VALIDATORS, ALICE, BOB, CAROL], interval=4, gas=3_000_000, contract=TOKEN)
        if opening_deposit:
            self.deposit(1, ALICE, 1000)

    def deposit(self, deposit_id: int, recipient, amount: int) -> None:
        data = calldata("affirmDeposit(uint64,address,address,uint256,string,string,uint8)",
                        deposit_id, L1_TOKEN, addr(recipient), amount, "Devnet Token", "DEV", 6)
        assert self.statuses(*(self.tx(v, data, to=BRIDGE_ADDRESS) for v in VALIDATORS[:3])) == [1] * 3

    def view(self, signature: str, *args):
        outputs = {"name": "string", "symbol": "string", "decimals": "uint8", "l1Token": "address"}
        return self.read(CAROL, signature, args, [outputs.get(signature.split("(")[0], "uint256")])[0]

    def balance(self, account) -> int:
        return self.view("balanceOf(address)", addr(account))

    def allowance(self, owner, spender) -> int:
        return self.view("allowance(address,address)", addr(owner), addr(spender))


def test_the_views_describe_the_ledger_opened_by_a_deposit():
    chain = Chain()
    assert chain.view("name()") == "Devnet Token"
    assert chain.view("symbol()") == "DEV"
    assert chain.view("decimals()") == 6
    assert chain.view("l1Token()") == "0x" + L1_TOKEN.hex()
    assert chain.view("totalSupply()") == 1000
    assert (chain.balance(ALICE), chain.balance(BOB)) == (1000, 0)
    assert chain.allowance(ALICE, BOB) == 0


def test_a_transfer_moves_the_amount_and_logs_it():
    chain = Chain()
    assert decode(["bool"], chain.outcome(ALICE, transfer(BOB, 300)).output) == (True,)
    receipt, _ = chain.send(ALICE, transfer(BOB, 300))
    assert receipt.status == 1
    assert (chain.balance(ALICE), chain.balance(BOB), chain.view("totalSupply()")) == (700, 300, 1000)
    (log,) = receipt.logs
    assert (log.address, log.topics, log.data) == (TOKEN, (TRANSFER, word(ALICE), word(BOB)), (300).to_bytes(32, "big"))


def test_a_transfer_to_oneself_changes_no_balance():
    chain = Chain()
    receipt, _ = chain.send(ALICE, transfer(ALICE, 400))
    assert receipt.status == 1
    assert chain.balance(ALICE) == 1000


@pytest.mark.parametrize("data, reason", [
    (transfer(BOB, 1001), f"ERC20InsufficientBalance({ALICE.address.lower()}, 1000, 1001)"),
    (transfer(bytes(20), 1), f"ERC20InvalidReceiver(0x{'00' * 20})"),
    (approve(bytes(20), 1), f"ERC20InvalidSpender(0x{'00' * 20})"),
    (transfer(BRIDGE_ADDRESS, 1), f"BridgedTokenLockedRecipient(0x{BRIDGE_ADDRESS.hex()})"),
    (transfer(TOKEN, 1), f"BridgedTokenLockedRecipient(0x{TOKEN.hex()})"),
    (calldata("mint(address,uint256)", addr(ALICE), 5), f"BridgedTokenOnlyBridge({ALICE.address.lower()})"),
    (calldata("burn(address,uint256)", addr(ALICE), 5), f"BridgedTokenOnlyBridge({ALICE.address.lower()})"),
    (b"\xde\xad\xbe\xef" + bytes(64), None),  # no such function: Solidity reverts with no data
    (transfer(BOB, 1)[:20], None),  # calldata too short for the arguments: likewise
])
def test_a_call_that_breaks_a_rule_reverts_and_changes_no_balance(data, reason):
    chain = Chain()
    refused = chain.outcome(ALICE, data)
    assert not refused.success and refused.revert_reason == reason
    receipt, result = chain.send(ALICE, data)
    assert receipt.status == 0 and receipt.logs == ()
    assert TOKEN not in result.storage
    assert (chain.balance(ALICE), chain.balance(BOB)) == (1000, 0)


def test_approve_sets_the_allowance_and_logs_it():
    chain = Chain()
    receipt, _ = chain.send(ALICE, approve(BOB, 250))
    assert receipt.status == 1
    assert chain.allowance(ALICE, BOB) == 250 and chain.allowance(BOB, ALICE) == 0
    (log,) = receipt.logs
    assert (log.address, log.topics, log.data) == (TOKEN, (APPROVAL, word(ALICE), word(BOB)), (250).to_bytes(32, "big"))
    chain.send(ALICE, approve(BOB, 40))  # overwrites, as ERC-20 says
    assert chain.allowance(ALICE, BOB) == 40


def test_transfer_from_spends_the_allowance():
    chain = Chain()
    chain.send(ALICE, approve(BOB, 250))
    receipt, _ = chain.send(BOB, transfer_from(ALICE, CAROL, 100))
    assert receipt.status == 1
    assert chain.allowance(ALICE, BOB) == 150
    assert (chain.balance(ALICE), chain.balance(BOB), chain.balance(CAROL)) == (900, 0, 100)
    transfers = [log for log in receipt.logs if log.topics[0] == TRANSFER]
    assert [(log.topics[1:], log.data) for log in transfers] == [((word(ALICE), word(CAROL)), (100).to_bytes(32, "big"))]


def test_an_unlimited_allowance_stays_unlimited():
    chain = Chain()
    chain.send(ALICE, approve(BOB, MAX_UINT256))
    receipt, _ = chain.send(BOB, transfer_from(ALICE, BOB, 600))
    assert receipt.status == 1
    assert chain.allowance(ALICE, BOB) == MAX_UINT256
    assert (chain.balance(ALICE), chain.balance(BOB)) == (400, 600)


@pytest.mark.parametrize("allowed, amount, reason", [
    (0, 1, "ERC20InsufficientAllowance({bob}, 0, 1)"),
    (99, 100, "ERC20InsufficientAllowance({bob}, 99, 100)"),
    (5000, 1001, "ERC20InsufficientBalance({alice}, 1000, 1001)"),
])
def test_transfer_from_beyond_allowance_or_balance_reverts_and_keeps_the_allowance(allowed, amount, reason):
    chain = Chain()
    if allowed:
        chain.send(ALICE, approve(BOB, allowed))
    expected = reason.format(alice=ALICE.address.lower(), bob=BOB.address.lower())
    assert chain.outcome(BOB, transfer_from(ALICE, CAROL, amount)).revert_reason == expected
    receipt, result = chain.send(BOB, transfer_from(ALICE, CAROL, amount))
    assert receipt.status == 0
    assert TOKEN not in result.storage
    assert chain.allowance(ALICE, BOB) == allowed
    assert (chain.balance(ALICE), chain.balance(CAROL)) == (1000, 0)


def test_storage_sits_at_openzeppelin_solidity_slots():
    chain = Chain()
    chain.deposit(2, BOB, 70)
    chain.send(ALICE, approve(BOB, 33))

    def stored(slot: bytes) -> int:
        return int.from_bytes(chain.state.get_storage(TOKEN, slot), "big")

    def balance_slot(owner) -> bytes:  # mapping(address => uint256) _balances at slot 0
        return keccak(word(owner) + (0).to_bytes(32, "big"))

    assert stored(balance_slot(ALICE)) == 1000
    assert stored(balance_slot(BOB)) == 70
    # mapping(address => mapping(address => uint256)) _allowances at slot 1
    assert stored(keccak(word(BOB) + keccak(word(ALICE) + (1).to_bytes(32, "big")))) == 33
    assert stored((2).to_bytes(32, "big")) == 1070  # uint256 _totalSupply at slot 2


def test_plain_ether_sent_to_a_ledger_reverts_and_stays_with_the_sender():
    chain = Chain()
    receipt, _ = chain.send(ALICE, b"", value=10**18)
    assert receipt.status == 0
    assert chain.state.get_account(addr(ALICE)).balance == FUNDS - receipt.gas_used * BASE_FEE
    assert chain.state.get_account(TOKEN).balance == 0


def test_a_payable_looking_call_with_value_reverts():
    chain = Chain()
    receipt, _ = chain.send(ALICE, transfer(BOB, 1), value=1)
    assert receipt.status == 0
    assert chain.state.get_account(TOKEN).balance == 0
    assert chain.balance(BOB) == 0


def test_ether_at_a_ledger_address_before_its_first_deposit_survives_the_opening():
    chain = Chain(opening_deposit=False)
    receipt, _ = chain.send(ALICE, b"", value=10**18)  # anyone can compute the address in advance
    assert receipt.status == 1
    chain.deposit(1, ALICE, 1000)
    assert chain.view("name()") == "Devnet Token"
    assert chain.state.get_account(TOKEN).balance == 10**18
