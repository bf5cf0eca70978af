"""AES-256-GCM for spooled batches (through `cryptography`; nothing hand-rolled).

Each batch gets a fresh random 96-bit nonce; its sequence number is authenticated as associated
data, so rows cannot be swapped or replayed into another position without the tag failing.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ucsiem.errors import SpoolError

NONCE_BYTES = 12
KEY_CHECK = b"ucsiem spool key check"


class SpoolCipher:
    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != 32:
            raise SpoolError(f"{source}: an AES-256 key is 32 bytes, this one has {len(key)}")
        self._aead = AESGCM(key)
        self.source = source

    @classmethod
    def from_file(cls, path: Path) -> SpoolCipher:
        """Read a key file: 32 raw bytes, or 64 hex digits, or base64 of 32 bytes (`ucsiem spool keygen`)."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SpoolError(f"spool.encryption_key_file: cannot read {path}: {exc.strerror}") from None
        return cls(decode_key(raw, str(path)), f"spool.encryption_key_file {path}")

    def seal(self, seq: int, data: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, _aad(seq))

    def open(self, seq: int, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(seq))
        except InvalidTag:
            raise SpoolError(f"spooled batch {seq} fails authentication with the key in {self.source}: "
                             "wrong key, or the spool file was altered") from None

    def check_value(self) -> bytes:
        return self.seal(-1, KEY_CHECK)

    def matches(self, check: bytes) -> bool:
        try:
            return self.open(-1, check) == KEY_CHECK
        except SpoolError:
            return False


def decode_key(raw: bytes, source: str) -> bytes:
    if len(raw) == 32:
        return raw
    text = raw.strip()
    if len(text) == 64:
        try:
            return binascii.unhexlify(text)
        except binascii.Error:
            pass
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error:
        key = b""
    if len(key) == 32:
        return key
    raise SpoolError(f"{source}: not an AES-256 key (need 32 raw bytes, 64 hex digits or base64 of 32 bytes); "
                     "make one with `ucsiem spool keygen PATH`")


def write_new_key(path: Path) -> None:
    """A fresh random key, base64, readable by the owner only; never overwrites an existing key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(AESGCM.generate_key(bit_length=256)) + b"\n")


def _aad(seq: int) -> bytes:
    return b"ucsiem-spool:" + seq.to_bytes(8, "big", signed=True)
