"""Anvil's (and Hardhat's) well-known development keys. PUBLIC KEYS: NEVER HOLD REAL FUNDS WITH THEM.

Every private key here is derived from a mnemonic printed in the Foundry and Hardhat docs, so
anyone can spend from these addresses on any chain. They exist only so that a devnet
(`genesis/devnet.json`) has funded accounts and validator keys that wallets and scripts already
know. Accounts 0..9 are funded in the devnet genesis; accounts 6..9 are its validators.
"""

from __future__ import annotations

from functools import lru_cache

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
"""The mnemonic anvil and hardhat use by default; its accounts are public."""


@lru_cache(maxsize=None)
def anvil_private_key(i: int) -> bytes:
    """The 32-byte private key of anvil's account #i (BIP-44 path m/44'/60'/0'/0/i).

    Derived with eth-account, which is a test extra (`pip install -e '.[test]'`); a node does not
    need it unless it builds a devnet.
    """
    if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < 2**31:
        raise ValueError(f"anvil account index: expected an integer in 0..2**31-1, got {i!r}")
    try:
        from eth_account import Account
    except ImportError:
        raise ModuleNotFoundError(
            "sidechain.devkeys needs eth-account to derive anvil's dev keys; "
            "install the test extra: pip install -e '.[test]'"
        ) from None
    Account.enable_unaudited_hdwallet_features()
    return bytes(Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key)
