"""Solidity's storage layout, for the Python side of the system contracts: the genesis writes their
initial storage and the node, the RPC and the checkpoint builder read it, slot by slot, exactly as
the compiled contracts (contracts/*.sol) lay it out.

Slots are ints here; `key` turns one into the 32-byte storage key. Values are stored as the state
stores them: big-endian without leading zeros (zero is b"").
"""

from __future__ import annotations

from ...crypto import keccak256
from ..codec import uint
from ..state import StateOverlay, StateReader

_ADDRESS_MASK = 2**160 - 1


def key(slot: int) -> bytes:
    return slot.to_bytes(32, "big")


def mapping_slot(slot: int, map_key: bytes | int) -> int:
    """The slot of `mapping[map_key]` for a mapping at `slot` (a value type key: an address, an
    integer or a bytes32, as a word left-padded to 32 bytes)."""
    word = map_key.to_bytes(32, "big") if isinstance(map_key, int) else map_key.rjust(32, b"\x00")
    return int.from_bytes(keccak256(word + key(slot)), "big")


def array_data(slot: int) -> int:
    """The first element's slot of a dynamic array (or a long bytes/string) whose length is at `slot`."""
    return int.from_bytes(keccak256(key(slot)), "big")


def read_word(state: StateReader, address: bytes, slot: int) -> int:
    return int.from_bytes(state.get_storage(address, key(slot)), "big")


def write_word(state: StateOverlay, address: bytes, slot: int, value: int) -> None:
    state.set_storage(address, key(slot), uint(value))


def word_address(word: int) -> bytes:
    """The address in a word's low 160 bits."""
    return (word & _ADDRESS_MASK).to_bytes(20, "big")


def read_words(state: StateReader, address: bytes, slot: int) -> list[int]:
    """The elements of a one-word-per-element dynamic array whose length is at `slot`."""
    first = array_data(slot)
    return [read_word(state, address, first + i) for i in range(read_word(state, address, slot))]


def array_storage(slot: int, words: list[int]) -> dict[bytes, bytes]:
    """The storage words of a one-word-per-element dynamic array at `slot`."""
    first = array_data(slot)
    words_at = {key(slot): uint(len(words))}
    words_at.update({key(first + i): uint(w) for i, w in enumerate(words) if w})
    return words_at


def bytes_storage(slot: int, value: bytes) -> dict[bytes, bytes]:
    """The storage words of `bytes`/`string` `value` at `slot`: shorter than 32 bytes, in the slot
    itself with its length * 2 in the last byte; otherwise length * 2 + 1 there and the bytes from
    slot keccak(slot) on."""
    if len(value) < 32:
        return {key(slot): uint(int.from_bytes(value.ljust(31, b"\x00") + bytes([len(value) * 2]), "big"))}
    words = {key(slot): uint(len(value) * 2 + 1)}
    first = array_data(slot)
    for i in range(0, len(value), 32):
        words[key(first + i // 32)] = uint(int.from_bytes(value[i:i + 32].ljust(32, b"\x00"), "big"))
    return words


def read_bytes(state: StateReader, address: bytes, slot: int) -> bytes:
    """A `bytes` or `string` stored at `slot` (see bytes_storage)."""
    word = read_word(state, address, slot)
    if word & 1 == 0:
        return word.to_bytes(32, "big")[:(word & 0xFF) // 2]
    length = (word - 1) // 2
    first = array_data(slot)
    data = b"".join(read_word(state, address, first + i).to_bytes(32, "big") for i in range((length + 31) // 32))
    return data[:length]
