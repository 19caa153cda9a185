"""Web3 Secret Storage v3 keystores: the encrypted key files of geth, Foundry and eth-account.

Format: https://ethereum.org/en/developers/docs/data-structures-and-encoding/web3-secret-storage/
A password is stretched by scrypt (or PBKDF2-HMAC-SHA256) into a 32-byte derived key; its first
16 bytes are the AES-128-CTR key that encrypts the private key, and keccak256(derived_key[16:32] +
ciphertext) is the MAC that tells a wrong password from a right one.

Reading is defensive: the KDF parameters come from the file, so a hostile file could ask for
gigabytes of memory or hours of CPU. `decrypt_key` refuses parameters above `MAX_SCRYPT_N`,
`MAX_SCRYPT_MEMORY`, `MAX_SCRYPT_WORK` and `MAX_PBKDF2_ITERATIONS` before deriving anything.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .crypto import SECP256K1_N, keccak256, private_key_to_address
from .errors import KeystoreError, mismatch

KEYSTORE_VERSION = 3
CIPHER = "aes-128-ctr"
PBKDF2_PRF = "hmac-sha256"
DKLEN = 32

DEFAULT_SCRYPT_N = 2**18
"""geth's "standard" scrypt cost (about 1 s and 256 MiB). Devnets pass 2**14 for speed."""
MAX_SCRYPT_N = 2**20
"""Refuse larger n: a hostile file must not make us allocate gigabytes."""
MAX_SCRYPT_MEMORY = 2**30
"""Upper bound on scrypt's 128 * n * r bytes of working memory (1 GiB)."""
MAX_SCRYPT_WORK = 2**23
"""Upper bound on n * r * p, which scrypt's running time is proportional to (n=2**20, r=8, p=1)."""
MAX_PBKDF2_ITERATIONS = 10_000_000
"""eth-account writes 1,000,000 by default; ten times that is still a few seconds."""

_HEX = re.compile(r"(0x)?(?:[0-9a-fA-F]{2})*")


# --- writing ------------------------------------------------------------------------------------


def encrypt_key(
    private_key: bytes,
    password: str,
    *,
    scrypt_n: int = DEFAULT_SCRYPT_N,
    scrypt_r: int = 8,
    scrypt_p: int = 1,
) -> dict:
    """Encrypt a 32-byte secp256k1 private key into a v3 keystore dict (scrypt, AES-128-CTR).

    The default n = 2**18 matches geth and takes about a second; devnet tooling and tests should
    pass `scrypt_n=2**14`, which is fast and still readable by geth, Foundry and eth-account.
    The parameters must stay within the limits `decrypt_key` accepts.
    """
    _check_private_key(private_key)
    _check_scrypt_params(scrypt_n, scrypt_r, scrypt_p)
    salt = os.urandom(32)
    iv = os.urandom(16)
    derived = _scrypt(password, salt, scrypt_n, scrypt_r, scrypt_p)
    ciphertext = _aes_128_ctr(derived[:16], iv, private_key)
    return {
        "address": private_key_to_address(private_key).hex(),
        "crypto": {
            "cipher": CIPHER,
            "cipherparams": {"iv": iv.hex()},
            "ciphertext": ciphertext.hex(),
            "kdf": "scrypt",
            "kdfparams": {"dklen": DKLEN, "n": scrypt_n, "p": scrypt_p, "r": scrypt_r, "salt": salt.hex()},
            "mac": keccak256(derived[16:32] + ciphertext).hex(),
        },
        "id": str(uuid.uuid4()),
        "version": KEYSTORE_VERSION,
    }


def save_keystore(path: str | os.PathLike, keystore: dict) -> None:
    """Write `keystore` as JSON to `path`, mode 0600, atomically (temp file, fsync, os.replace).

    An existing file at `path` is replaced.
    """
    path = Path(path)
    data = json.dumps(keystore, indent=2).encode() + b"\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)  # mkstemp already uses 0600; be explicit since this is a secret
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


# --- reading ------------------------------------------------------------------------------------


def load_keystore(path: str | os.PathLike, password: str) -> bytes:
    """Read a keystore file and decrypt it; errors name the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise KeystoreError(f"keystore file {str(path)!r}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise KeystoreError(f"keystore file {str(path)!r}: not valid JSON (not UTF-8 text)") from None
    try:
        keystore = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeystoreError(
            f"keystore file {str(path)!r}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    try:
        return decrypt_key(keystore, password)
    except KeystoreError as exc:
        raise KeystoreError(f"keystore file {str(path)!r}: {exc}") from None


def decrypt_key(keystore: dict, password: str) -> bytes:
    """The 32-byte private key in a v3 keystore (scrypt or PBKDF2-HMAC-SHA256, AES-128-CTR).

    Accepts the files geth ("Crypto" in old versions), Foundry and eth-account write. Raises
    KeystoreError for a wrong password, an unsupported format, a missing field, KDF parameters
    beyond the safety limits, or an `address` field that does not match the decrypted key.
    """
    if not isinstance(keystore, dict):
        raise KeystoreError(mismatch("keystore", expected="a JSON object", got=type(keystore).__name__))
    version = _field(keystore, "version", "version")
    if type(version) is not int or version != KEYSTORE_VERSION:
        raise KeystoreError(mismatch("unsupported keystore version", expected=KEYSTORE_VERSION, got=repr(version)))
    crypto_key = "crypto" if "crypto" in keystore else "Crypto" if "Crypto" in keystore else None
    if crypto_key is None:
        raise KeystoreError("keystore is missing field 'crypto'")
    crypto = _object(keystore[crypto_key], crypto_key)

    cipher = _field(crypto, "cipher", f"{crypto_key}.cipher")
    if cipher != CIPHER:
        raise KeystoreError(mismatch("unsupported keystore cipher", expected=repr(CIPHER), got=repr(cipher)))
    cipherparams = _object(_field(crypto, "cipherparams", f"{crypto_key}.cipherparams"), f"{crypto_key}.cipherparams")
    iv = _hex(cipherparams, "iv", f"{crypto_key}.cipherparams.iv")
    if len(iv) != 16:
        raise KeystoreError(
            mismatch(f"keystore field '{crypto_key}.cipherparams.iv'", expected="16 bytes", got=f"{len(iv)} bytes")
        )
    ciphertext = _hex(crypto, "ciphertext", f"{crypto_key}.ciphertext")
    mac = _hex(crypto, "mac", f"{crypto_key}.mac")

    derived = _derive_key(crypto, crypto_key, password)
    if not hmac.compare_digest(keccak256(derived[16:32] + ciphertext), mac):
        raise KeystoreError("keystore MAC mismatch: wrong password or corrupted file")

    private_key = _aes_128_ctr(derived[:16], iv, ciphertext)
    try:
        _check_private_key(private_key)
    except KeystoreError as exc:
        raise KeystoreError(f"keystore holds an invalid key: {exc}") from None
    if "address" in keystore:
        _check_address(keystore["address"], private_key_to_address(private_key))
    return private_key


# --- helpers ------------------------------------------------------------------------------------


def _derive_key(crypto: dict, crypto_key: str, password: str) -> bytes:
    """Run the KDF named in the file, after checking its parameters against the limits."""
    kdf = _field(crypto, "kdf", f"{crypto_key}.kdf")
    params = _object(_field(crypto, "kdfparams", f"{crypto_key}.kdfparams"), f"{crypto_key}.kdfparams")
    prefix = f"{crypto_key}.kdfparams"
    salt = _hex(params, "salt", f"{prefix}.salt")
    dklen = _int(params, "dklen", f"{prefix}.dklen")
    if dklen != DKLEN:
        raise KeystoreError(mismatch(f"keystore field '{prefix}.dklen'", expected=DKLEN, got=dklen))
    if kdf == "scrypt":
        n, r, p = (_int(params, name, f"{prefix}.{name}") for name in ("n", "r", "p"))
        _check_scrypt_params(n, r, p)
        return _scrypt(password, salt, n, r, p)
    if kdf == "pbkdf2":
        prf = _field(params, "prf", f"{prefix}.prf")
        if prf != PBKDF2_PRF:
            raise KeystoreError(mismatch("unsupported keystore pbkdf2 prf", expected=repr(PBKDF2_PRF), got=repr(prf)))
        c = _int(params, "c", f"{prefix}.c")
        if not 1 <= c <= MAX_PBKDF2_ITERATIONS:
            raise KeystoreError(
                mismatch(f"keystore field '{prefix}.c'", expected=f"1..{MAX_PBKDF2_ITERATIONS} iterations", got=c)
            )
        return PBKDF2HMAC(algorithm=hashes.SHA256(), length=DKLEN, salt=salt, iterations=c).derive(password.encode())
    raise KeystoreError(mismatch("unsupported keystore kdf", expected="'scrypt' or 'pbkdf2'", got=repr(kdf)))


def _check_scrypt_params(n: int, r: int, p: int) -> None:
    """Refuse costs that are invalid for scrypt or large enough to be a memory or CPU bomb."""
    if n < 2 or n & (n - 1):
        raise KeystoreError(mismatch("keystore scrypt n", expected="a power of 2 greater than 1", got=n))
    if n > MAX_SCRYPT_N:
        raise KeystoreError(mismatch("keystore scrypt n is absurdly large", expected="n <= 2**20", got=n))
    if r < 1 or p < 1:
        raise KeystoreError(mismatch("keystore scrypt r and p", expected="both >= 1", got=f"r={r}, p={p}"))
    if 128 * n * r > MAX_SCRYPT_MEMORY:
        raise KeystoreError(
            mismatch(
                "keystore scrypt memory (128*n*r bytes) is absurdly large", expected="at most 1 GiB", got=f"n={n}, r={r}"
            )
        )
    if n * r * p > MAX_SCRYPT_WORK:
        raise KeystoreError(
            mismatch(
                "keystore scrypt work (n*r*p) is absurdly large", expected="at most 2**23", got=f"n={n}, r={r}, p={p}"
            )
        )


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=DKLEN, n=n, r=r, p=p).derive(password.encode())


def _aes_128_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CTR with the IV as the initial 128-bit big-endian counter; encrypt == decrypt."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _check_private_key(private_key: bytes) -> None:
    if not isinstance(private_key, (bytes, bytearray)) or len(private_key) != 32:
        got = f"{len(private_key)} bytes" if isinstance(private_key, (bytes, bytearray)) else type(private_key).__name__
        raise KeystoreError(mismatch("private key", expected="32 bytes", got=got))
    if not 0 < int.from_bytes(private_key, "big") < SECP256K1_N:
        raise KeystoreError("private key: expected a scalar in 1..secp256k1 n-1, got one out of range")


def _check_address(value: Any, actual: bytes) -> None:
    """The `address` field is informational, but a mismatch means the file was tampered with."""
    if not isinstance(value, str):
        raise KeystoreError(mismatch("keystore field 'address'", expected="a hex string", got=type(value).__name__))
    claimed = value.lower().removeprefix("0x")
    if claimed != actual.hex():
        raise KeystoreError(
            mismatch("keystore address does not match the decrypted key", expected=actual.hex(), got=value)
        )


def _field(obj: dict, name: str, path: str) -> Any:
    if name not in obj:
        raise KeystoreError(f"keystore is missing field '{path}'")
    return obj[name]


def _object(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise KeystoreError(mismatch(f"keystore field '{path}'", expected="a JSON object", got=type(value).__name__))
    return value


def _int(obj: dict, name: str, path: str) -> int:
    value = _field(obj, name, path)
    if not isinstance(value, int) or isinstance(value, bool):
        raise KeystoreError(mismatch(f"keystore field '{path}'", expected="an integer", got=repr(value)))
    return value


def _hex(obj: dict, name: str, path: str) -> bytes:
    value = _field(obj, name, path)
    if isinstance(value, str) and _HEX.fullmatch(value):
        return bytes.fromhex(value.removeprefix("0x"))
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    raise KeystoreError(mismatch(f"keystore field '{path}'", expected="a hex string", got=shown))


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; not every platform lets a directory be opened, so best effort."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
