"""Helpers of the bridge system contract's tests (test_system_bridge*.py): the chain with the
validators and two users, the affirmation and withdrawal calldata, the events they look for."""

from eth_account import Account
from eth_utils import keccak

from sidechain.chain.system import BRIDGE_ADDRESS, token_address

from system_chain import FUNDS, MemoryChain, addr, calldata

INTERVAL = 4
VALIDATORS = [Account.from_key(bytes([0x20 + i]) * 32) for i in range(4)]
ALICE = Account.from_key(b"\x41" * 32)
BOB = Account.from_key(b"\x42" * 32)
ETH = bytes(20)
L1_TOKEN = bytes.fromhex("77" * 20)
L1_RECIPIENT = bytes.fromhex("99" * 20)
TRANSFER = keccak(text="Transfer(address,address,uint256)")
DEPOSIT_MINTED = keccak(text="DepositMinted(uint64,address,address,uint256)")
WITHDRAWAL_RECORDED = keccak(text="WithdrawalRecorded(uint64,address,address,address,uint256)")
ZERO_TOPIC = bytes(32)


def affirmation(deposit_id: int, l1_token: bytes = ETH, recipient: bytes | None = None, amount: int = 1000,
                name: str = "", symbol: str = "", decimals: int = 18) -> bytes:
    recipient = addr(ALICE) if recipient is None else recipient
    return calldata("affirmDeposit(uint64,address,address,uint256,string,string,uint8)",
                    deposit_id, l1_token, recipient, amount, name, symbol, decimals)


def token_affirmation(deposit_id: int, amount: int = 1000, recipient: bytes | None = None) -> bytes:
    return affirmation(deposit_id, L1_TOKEN, recipient, amount, "Devnet Token", "DEV", 6)


def withdraw(l1_token: bytes, amount: int, l1_recipient: bytes = L1_RECIPIENT) -> bytes:
    return calldata("withdraw(address,uint256,address)", l1_token, amount, l1_recipient)


class Chain(MemoryChain):
    """Validators and two users funded; transactions go to the bridge contract. The funded accounts are
    the genesis allocations: the bridge records their sum (6 * FUNDS) as the genesis supply, as a real
    genesis does, unless told another `genesis_supply`."""

    def __init__(self, genesis_supply: int = 6 * FUNDS):
        super().__init__(VALIDATORS, [*VALIDATORS, ALICE, BOB], interval=INTERVAL, gas=3_000_000, call_gas=3_000_000,
                         contract=BRIDGE_ADDRESS, genesis_supply=genesis_supply)

    def affirm(self, validators, data: bytes) -> list[int]:
        """One block with an affirmation of `data` from each of `validators`; returns the statuses."""
        return self.statuses(*(self.tx(v, data) for v in validators))

    def view(self, signature: str, args: tuple, outputs: list[str]):
        return self.read(ALICE, signature, args, outputs)

    def balance(self, account) -> int:
        return self.state.get_account(addr(account)).balance

    def next_deposit_id(self) -> int:
        return self.view("nextDepositId()", (), ["uint64"])[0]


TOKEN = token_address(L1_TOKEN)


def minted_logs(receipts_or_result) -> list:
    return [log for r in receipts_or_result.receipts for log in r.logs if log.topics[0] == DEPOSIT_MINTED]
