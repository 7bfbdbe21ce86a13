"""Cipher on the embedded backend: AES-256-GCM envelope encryption under a local key file.

The key-encryption key (KEK) is 32 random bytes in ``<data dir>/local.key``, created on first
use with mode 0600 and read on every later start; losing the file loses every secret sealed
under it, exactly as destroying a Cloud KMS key would. Each message gets a fresh random data key
(DEK); the DEK encrypts the plaintext and the KEK encrypts (wraps) the DEK, both with AES-GCM and
both with ``context`` bound as associated data, so a token sealed for ``tenants/t1/...`` does not
open as ``tenants/t2/...``.

Wire format, version 1 (all lengths fixed by the version byte)::

    offset  size  field
    0       1     version = 0x01
    1       4     key id: the first 4 bytes of SHA-256(KEK), to tell "another key file" apart
    5       12    wrap nonce
    17      48    wrapped DEK (32-byte DEK + 16-byte GCM tag)
    65      12    data nonce
    77      n+16  ciphertext + GCM tag

AAD of both layers = header (version byte and key id) + a layer label + ``context`` (UTF-8), so
neither the version nor the key id can be swapped, and a wrapped DEK cannot be replayed as data.

Decision: no key rotation here. The embedded backend is for laptops, demos and tests; the key id
and version byte leave room for a second key or format later without breaking old ciphertexts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:  # pragma: no cover
    from shared.config import Settings

log = logging.getLogger("z3.local.cipher")

VERSION = 1
KEY_FILE = "local.key"
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_ID_SIZE = 4
WRAPPED_SIZE = KEY_SIZE + TAG_SIZE
HEADER_SIZE = 1 + KEY_ID_SIZE
OVERHEAD = HEADER_SIZE + NONCE_SIZE + WRAPPED_SIZE + NONCE_SIZE + TAG_SIZE

_WRAP_LABEL = b"z3.local.kek\x00"
_DATA_LABEL = b"z3.local.dek\x00"


def _context_bytes(context: str) -> bytes:
    if not isinstance(context, str):
        raise TypeError(f"context must be a str, not {type(context).__name__}")
    return context.encode("utf-8")


def load_or_create_key(path: Path) -> bytes:
    """The KEK at ``path``; created (0600, atomically, race-free) when the file does not exist.

    Creation writes a temporary file with mode 0600 in the same directory and hard-links it into
    place, so a concurrent starter either wins or reads the complete key the winner wrote; no
    reader ever sees a partial file.
    """
    path = Path(path)
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_SIZE)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".local.key-")  # mkstemp opens with 0600
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process created the key first
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system: exclusive create instead
            _create_exclusive(path, key)
    finally:
        os.unlink(tmp)
    return _read_key(path)


def _create_exclusive(path: Path, key: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())


def _read_key(path: Path) -> bytes:
    with open(path, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        key = fh.read()
    if len(key) != KEY_SIZE:
        raise ValueError(f"{path} is not a Z3 local key (expected {KEY_SIZE} bytes, found {len(key)})")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Not fatal: some file systems (bind mounts, drvfs) cannot represent 0600 at all.
        log.warning("local key file %s is accessible to group/others (mode %o); chmod 600 it",
                    path, stat.S_IMODE(mode))
    return key


class LocalCipher:
    """AES-256-GCM envelope encryption with a local KEK (see the module docstring)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"the key-encryption key must be {KEY_SIZE} bytes")
        self._kek = AESGCM(key)
        self._header = bytes([VERSION]) + hashlib.sha256(key).digest()[:KEY_ID_SIZE]

    @classmethod
    def from_key_file(cls, path: Path) -> "LocalCipher":
        return cls(load_or_create_key(path))

    @classmethod
    def from_settings(cls, settings: "Settings") -> "LocalCipher":
        return cls.from_key_file(Path(settings.z3_data_dir) / KEY_FILE)

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        ctx = _context_bytes(context)
        dek = AESGCM.generate_key(bit_length=256)
        wrap_nonce = os.urandom(NONCE_SIZE)
        data_nonce = os.urandom(NONCE_SIZE)
        wrapped = self._kek.encrypt(wrap_nonce, dek, self._header + _WRAP_LABEL + ctx)
        sealed = AESGCM(dek).encrypt(data_nonce, bytes(plaintext), self._header + _DATA_LABEL + ctx)
        return b"".join((self._header, wrap_nonce, wrapped, data_nonce, sealed))

    def decrypt(self, ciphertext: bytes, context: str) -> bytes:
        ctx = _context_bytes(context)
        blob = bytes(ciphertext)
        if len(blob) < OVERHEAD:
            raise ValueError("ciphertext is truncated")
        if blob[0] != VERSION:
            raise ValueError(f"unknown ciphertext version {blob[0]}")
        header = blob[:HEADER_SIZE]
        if header != self._header:
            raise ValueError("ciphertext was sealed under a different local key (or tampered)")
        pos = HEADER_SIZE
        wrap_nonce = blob[pos:pos + NONCE_SIZE]
        pos += NONCE_SIZE
        wrapped = blob[pos:pos + WRAPPED_SIZE]
        pos += WRAPPED_SIZE
        data_nonce = blob[pos:pos + NONCE_SIZE]
        pos += NONCE_SIZE
        try:
            dek = self._kek.decrypt(wrap_nonce, wrapped, header + _WRAP_LABEL + ctx)
            return AESGCM(dek).decrypt(data_nonce, blob[pos:], header + _DATA_LABEL + ctx)
        except InvalidTag:
            raise ValueError("ciphertext failed authentication (tampered, or wrong context)") from None
