"""The bridge contract (contracts/Bridge.sol, run by the EVM), as the RPC, the checkpoint builder
and the relayers read it: straight from its storage.

    affirmDeposit(uint64 depositId, address l1Token, address recipient, uint256 amount,
                  string name, string symbol, uint8 decimals)             validators only
    withdraw(address l1Token, uint256 amount, address l1Recipient)  payable: ETH is sent as the value
    mintReady()                              mint accepted deposits a call's gas did not reach
    nextDepositId() -> uint64                the next deposit to mint (deposits mint in id order)
    hasAffirmed(uint64 depositId, address validator) -> bool
    tokenFor(address l1Token) -> address      the sidechain ledger of an L1 token (0 before its first deposit)
    nextWithdrawalId() -> uint64
    withdrawal(uint64 id) -> (address l1Token, address l1Recipient, uint256 amount, uint64 blockNumber)
    genesisSupply() -> uint256               the native coin allocated at genesis (locked in RootBridge on L1)

A deposit's content is accepted once validators holding more than 2/3 of the current power
affirmed it and is minted, exactly once, in id order (see the contract's notes). The native coin a
deposit mints comes out of the reserve the contract holds from genesis (RESERVE), and a
withdrawal's value returns to it: circulating supply = genesis supply + minted - burned.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode

from ...crypto import keccak256
from ..codec import uint
from ..contracts import runtime_code
from ..state import Account, StateReader
from .layout import key, mapping_slot, read_bytes, read_word, read_words, word_address

BRIDGE_ADDRESS = bytes.fromhex("0000000000000000000000000000000000b41d9e")
ETH = bytes(20)
"""The L1 "token" address of ether, as RootBridge names it."""
RESERVE = 2**128
"""The native coin the bridge holds at genesis, out of which deposits are paid (3.4e20 ETH: more
than any L1 will ever lock)."""
AFFIRM_MINT_GAS = 200_000
"""Gas a relayer adds to an affirmation's estimate so that, if it is the one that crosses 2/3, it
also mints the deposit (the estimate runs before the other validators' affirmations land). A
mint starts only with 150,000 gas left (Bridge.MINT_GAS) and costs ~146,000."""
AFFIRM_OPEN_GAS = 1_200_000
"""The same for a token's first deposit, whose mint opens the token's ledger (a CREATE2 of
BridgedToken, ~745,000 gas; it starts only with 1,000,000 left, Bridge.OPEN_GAS)."""

DEPOSIT_AFFIRMED_TOPIC = keccak256(b"DepositAffirmed(uint64,address,bytes32)")
DEPOSIT_MINTED_TOPIC = keccak256(b"DepositMinted(uint64,address,address,uint256)")
WITHDRAWAL_RECORDED_TOPIC = keccak256(b"WithdrawalRecorded(uint64,address,address,address,uint256)")

(_NEXT_DEPOSIT, _NEXT_WITHDRAWAL, _GENESIS_SUPPLY, _AFFIRMATIONS, _CONTENTS, _ACCEPTED, _MINTED, _TOKENS,
 _WITHDRAWALS, _TOTAL_MINTED, _TOTAL_BURNED, _OPENING) = range(12)
SLOTS = {"_nextDepositId": _NEXT_DEPOSIT, "_nextWithdrawalId": _NEXT_WITHDRAWAL, "_genesisSupply": _GENESIS_SUPPLY,
         "_affirmations": _AFFIRMATIONS, "_contents": _CONTENTS, "_accepted": _ACCEPTED, "_minted": _MINTED,
         "_tokens": _TOKENS, "_withdrawals": _WITHDRAWALS, "_totalMinted": _TOTAL_MINTED, "_totalBurned": _TOTAL_BURNED,
         "_opening": _OPENING}
"""The contract's state variables and the slots this module reads them at (a test holds them to the compiler's layout)."""


@dataclass(frozen=True, slots=True)
class DepositContent:
    """What validators affirm about one L1 deposit."""

    deposit_id: int
    l1_token: bytes
    recipient: bytes
    amount: int
    name: str
    symbol: str
    decimals: int

    def content_hash(self) -> bytes:
        """keccak256(abi.encode(...)) of the content, as the contract computes it."""
        return keccak256(encode(["uint64", "address", "address", "uint256", "string", "string", "uint8"],
                                [self.deposit_id, self.l1_token, self.recipient, self.amount, self.name, self.symbol,
                                 self.decimals]))


@dataclass(frozen=True, slots=True)
class Withdrawal:
    withdrawal_id: int
    l1_token: bytes
    l1_recipient: bytes
    amount: int
    block_number: int
    sender: bytes


def code() -> bytes:
    return runtime_code("Bridge")


def _word(state: StateReader, slot: int) -> int:
    return read_word(state, BRIDGE_ADDRESS, slot)


def next_deposit_id(state: StateReader) -> int:
    return _word(state, _NEXT_DEPOSIT)


def next_withdrawal_id(state: StateReader) -> int:
    return _word(state, _NEXT_WITHDRAWAL)


def sidechain_token(state: StateReader, l1_token: bytes) -> bytes | None:
    token = word_address(_word(state, mapping_slot(_TOKENS, l1_token)))
    return None if token == bytes(20) else token


def affirmations(state: StateReader, deposit_id: int, validators: tuple[bytes, ...]) -> dict[bytes, bytes]:
    """validator -> the content hash it affirmed for `deposit_id`, for the given validators."""
    by_validator = mapping_slot(_AFFIRMATIONS, deposit_id)
    found = {}
    for validator in validators:
        content_hash = _word(state, mapping_slot(by_validator, validator))
        if content_hash:
            found[validator] = content_hash.to_bytes(32, "big")
    return found


def affirmed_content(state: StateReader, deposit_id: int, content_hash: bytes) -> tuple[DepositContent, list[bytes]] | None:
    """The content behind `content_hash` and who affirmed it (in order), or None if no one (still) does."""
    base = mapping_slot(mapping_slot(_CONTENTS, deposit_id), content_hash)
    voters = [word_address(w) for w in read_words(state, BRIDGE_ADDRESS, base + 6)]
    if not voters:
        return None
    content = DepositContent(
        deposit_id, word_address(_word(state, base)), word_address(_word(state, base + 1)), _word(state, base + 2),
        read_bytes(state, BRIDGE_ADDRESS, base + 4).decode("utf-8", "replace"),
        read_bytes(state, BRIDGE_ADDRESS, base + 5).decode("utf-8", "replace"), _word(state, base + 3))
    return content, voters


def accepted(state: StateReader, deposit_id: int) -> bytes | None:
    """The content hash more than 2/3 affirmed for `deposit_id`, or None."""
    word = _word(state, mapping_slot(_ACCEPTED, deposit_id))
    return word.to_bytes(32, "big") if word else None


def minted(state: StateReader, deposit_id: int) -> tuple[bytes, int] | None:
    """(content hash, block number) of a minted deposit, or None."""
    base = mapping_slot(_MINTED, deposit_id)
    content_hash = _word(state, base)
    return None if not content_hash else (content_hash.to_bytes(32, "big"), _word(state, base + 1))


def withdrawal(state: StateReader, withdrawal_id: int) -> Withdrawal | None:
    base = mapping_slot(_WITHDRAWALS, withdrawal_id)
    amount = _word(state, base + 3)
    if not amount:
        return None
    return Withdrawal(withdrawal_id, word_address(_word(state, base)), word_address(_word(state, base + 1)), amount,
                      _word(state, base + 4), word_address(_word(state, base + 2)))


def _first_withdrawal_from(state: StateReader, block_number: int) -> int:
    """The lowest withdrawal id recorded in block `block_number` or later (the next id if none):
    ids are handed out in block order, so a bisection over their recorded blocks finds it."""
    low, high = 1, next_withdrawal_id(state)
    while low < high:
        middle = (low + high) // 2
        if _word(state, mapping_slot(_WITHDRAWALS, middle) + 4) < block_number:
            low = middle + 1
        else:
            high = middle
    return low


def withdrawals_between(state: StateReader, first_block: int, last_block: int) -> list[Withdrawal]:
    """The withdrawals recorded in blocks `first_block`..`last_block`, in id order (a checkpoint's,
    for its range)."""
    ids = range(_first_withdrawal_from(state, first_block), _first_withdrawal_from(state, last_block + 1))
    return [w for i in ids if (w := withdrawal(state, i)) is not None]


def genesis_supply(state: StateReader) -> int:
    """The native coin allocated at genesis, which RootBridge locked on L1 at its deployment."""
    return _word(state, _GENESIS_SUPPLY)


def totals(state: StateReader, l1_token: bytes) -> tuple[int, int]:
    """(minted, burned) over the chain's life for `l1_token`: the supply invariant's sidechain side."""
    return _word(state, mapping_slot(_TOTAL_MINTED, l1_token)), _word(state, mapping_slot(_TOTAL_BURNED, l1_token))


def genesis_account(code_hash: bytes) -> Account:
    """The contract's account at genesis: nonce 1 (EIP-161) and the reserve."""
    return Account(nonce=1, balance=RESERVE, code_hash=code_hash)


def genesis_storage(genesis_supply: int) -> dict[bytes, bytes]:
    """The contract's storage at genesis: ids start at 1; `genesis_supply` is the sum of the
    genesis alloc's balances (locked in RootBridge on L1), which may exit besides deposits."""
    words = {key(_NEXT_DEPOSIT): uint(1), key(_NEXT_WITHDRAWAL): uint(1), key(_GENESIS_SUPPLY): uint(genesis_supply)}
    return {k: v for k, v in words.items() if v}
