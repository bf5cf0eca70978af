"""AES-256-GCM for spooled batches (through `cryptography`; nothing hand-rolled).

Each batch gets a fresh random 96-bit nonce; the spool's random identifier and the batch's sequence
number are authenticated as associated data, so a row moved to another position, or into another spool
encrypted with the same key, fails its tag instead of being delivered.

Key files hold base64 or hex text only (`ucsiem spool keygen` writes base64): a key typed as 32
characters of ASCII is a password with far less than 256 bits of entropy, so it is refused rather than
used as raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ucsiem.errors import SpoolError
from ucsiem.secrets import read_secret

NONCE_BYTES = 12
KEY_CHECK = b"ucsiem spool key check"
KEY_CHECK_SEQ = -1
SPOOL_ID_BYTES = 16

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DamagedBatch(SpoolError):
    """One spooled batch fails authentication (the key itself was checked at open): skip it, keep the rest."""


class SpoolCipher:
    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != 32:
            raise SpoolError(f"{source}: an AES-256 key is 32 bytes, this one has {len(key)}")
        # imported here: OpenSSL's bindings are 6 MiB of the agent's memory, and most spools are not encrypted
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead: AESGCM = AESGCM(key)
        self.source = source

    @classmethod
    def from_file(cls, path: Path) -> SpoolCipher:
        """Read a key file (64 hex digits, or base64 of 32 bytes); ConfigError if others can read it."""
        raw = read_secret(path, "spool.encryption_key_file")
        return cls(decode_key(raw, f"spool.encryption_key_file {path}"), f"spool.encryption_key_file {path}")

    def seal(self, spool_id: bytes, seq: int, data: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, _aad(spool_id, seq))

    def open(self, spool_id: bytes, seq: int, sealed: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(spool_id, seq))
        except InvalidTag:
            raise DamagedBatch(f"spooled batch {seq} fails authentication with the key in {self.source}: "
                               "the row was altered, or moved from another position or another spool") from None

    def check_value(self, spool_id: bytes) -> bytes:
        return self.seal(spool_id, KEY_CHECK_SEQ, KEY_CHECK)

    def matches(self, spool_id: bytes, check: bytes) -> bool:
        try:
            return self.open(spool_id, KEY_CHECK_SEQ, check) == KEY_CHECK
        except DamagedBatch:
            return False


def decode_key(raw: bytes, source: str) -> bytes:
    """64 hex digits or base64 of 32 bytes (surrounding white space ignored); anything else is refused."""
    text = raw.strip()
    key = b""
    if len(text) == 64:
        try:
            key = binascii.unhexlify(text)
        except binascii.Error:
            key = b""
    if not key:
        try:
            key = base64.b64decode(text, validate=True)
        except binascii.Error:
            key = b""
    if len(key) == 32:
        return key
    raise SpoolError(f"{source}: not an AES-256 key: the file must hold 64 hex digits or the base64 of 32 random "
                     "bytes (raw bytes and typed passwords are refused); make one with `ucsiem spool keygen PATH`, "
                     "or keep an older raw 32-byte key with `base64 -w0 OLD > NEW` and point the config at NEW")


def write_new_key(path: Path) -> None:
    """A fresh random key, base64, readable by the owner only; never overwrites an existing key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(AESGCM.generate_key(bit_length=256)) + b"\n")


def new_spool_id() -> bytes:
    return os.urandom(SPOOL_ID_BYTES)


def _aad(spool_id: bytes, seq: int) -> bytes:
    return b"ucsiem-spool:" + spool_id + seq.to_bytes(8, "big", signed=True)
