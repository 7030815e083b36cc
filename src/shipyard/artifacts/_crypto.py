"""Encryption at rest: AES-256-GCM envelopes around stored files, and the keys to open them.

A sealed file is ``MAGIC (8) | key id (8) | nonce (12) | ciphertext | tag (16)``. The header
is authenticated with the ciphertext (GCM's associated data), so a reader knows which key a
file needs and a changed header fails like a changed body. A file without the magic is
plaintext: written before encryption was switched on, and read as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shipyard.errors import IntegrityError, InvalidInput

if TYPE_CHECKING:
    from shipyard.settings import Settings

__all__ = [
    "HEADER_LEN",
    "MAGIC",
    "Keyring",
    "key_id",
    "keyring_from_settings",
    "parse_keys",
    "sealed_key_id",
    "signing_key_from_settings",
]

MAGIC = b"SHPYENC\x01"
_ID_LEN = 8
_NONCE_LEN = 12
_TAG_LEN = 16
HEADER_LEN = len(MAGIC) + _ID_LEN + _NONCE_LEN
OVERHEAD = HEADER_LEN + _TAG_LEN
"""How many bytes a sealed file has beyond its plaintext."""

_SET_KEY = "Set SHIPYARD_ENCRYPTION_KEY or SHIPYARD_ENCRYPTION_KEY_FILE"


def key_id(key: bytes) -> bytes:
    """The public id of a key that a sealed file's header names: SHA-256's first 8 bytes."""
    return hashlib.sha256(b"shipyard-key-id" + key).digest()[:_ID_LEN]


def sealed_key_id(blob: bytes) -> bytes | None:
    """The id of the key ``blob`` was sealed with; None when it is plaintext."""
    if len(blob) >= HEADER_LEN and blob.startswith(MAGIC):
        return blob[len(MAGIC) : len(MAGIC) + _ID_LEN]
    return None


@dataclass(frozen=True)
class Keyring:
    """Encryption keys: the first seals, every one opens (so that, during a key rotation,
    files under the old key and under the new one are both read)."""

    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise InvalidInput("A keyring needs one key at least.")

    @property
    def ids(self) -> list[str]:
        """The hex ids of the keys, the sealing one first."""
        return [key_id(k).hex() for k in self.keys]

    def seal(self, data: bytes) -> bytes:
        """``data`` encrypted under the first key, with its header."""
        key = self.keys[0]
        header = MAGIC + key_id(key) + os.urandom(_NONCE_LEN)
        return header + AESGCM(key).encrypt(header[-_NONCE_LEN:], data, header)

    def open(self, blob: bytes, what: str) -> bytes:
        """The plaintext of ``blob`` (``blob`` itself when it is not sealed).

        Raises:
            IntegrityError: No key here has the id the header names, or the file does not
                authenticate under it (changed after it was written, or truncated).
        """
        wanted = sealed_key_id(blob)
        if wanted is None:
            return blob
        key = next((k for k in self.keys if key_id(k) == wanted), None)
        if key is None:
            raise IntegrityError(
                f"{what} is encrypted with key id {wanted.hex()}, but the key(s) set have "
                f"id(s) {', '.join(self.ids)}. {_SET_KEY} to the key it was written with (during "
                "a key rotation, list the new key first and the old one after it)."
            )
        return _open_with(key, blob, what)

    def opens(self, blob: bytes) -> bool:
        """Whether ``blob`` is plaintext or sealed under one of these keys."""
        wanted = sealed_key_id(blob)
        return wanted is None or any(key_id(k) == wanted for k in self.keys)


def open_unkeyed(blob: bytes, what: str) -> bytes:
    """``blob`` when it is plaintext, read by a project that has no encryption key.

    Raises:
        IntegrityError: ``blob`` is sealed: the message says which key to set.
    """
    wanted = sealed_key_id(blob)
    if wanted is None:
        return blob
    raise IntegrityError(
        f"{what} is encrypted (key id {wanted.hex()}), but no encryption key is set. "
        f"{_SET_KEY} to the key it was written with."
    )


def _open_with(key: bytes, blob: bytes, what: str) -> bytes:
    header = blob[:HEADER_LEN]
    try:
        return AESGCM(key).decrypt(header[-_NONCE_LEN:], blob[HEADER_LEN:], header)
    except InvalidTag as exc:
        raise IntegrityError(
            f"{what} does not authenticate under its key (id {key_id(key).hex()}): it was "
            "changed or truncated after it was written. Refusing to use it; restore it from a "
            "backup or write it again."
        ) from exc


def parse_keys(text: str, source: str) -> tuple[bytes, ...]:
    """Keys from base64 text (comma- or line-separated), each 32 bytes.

    Raises:
        InvalidInput: A key is not base64, or not 32 bytes long, or there is none.
    """
    parts = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
    if not parts:
        raise InvalidInput(
            f"{source} holds no key. Expected base64 of 32 random bytes, e.g. the output of "
            "`openssl rand -base64 32`."
        )
    keys = []
    for number, part in enumerate(parts, start=1):
        try:
            key = base64.b64decode(part, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise InvalidInput(
                f"Key {number} of {source} must be base64 of exactly 32 bytes (AES-256). Got "
                f"{len(part)} characters that do not decode to 32 bytes instead. Make one "
                "with `openssl rand -base64 32`."
            )
        keys.append(key)
    return tuple(keys)


def read_key_file(path: Path, setting: str) -> str:
    """The text of a key file.

    Raises:
        InvalidInput: It cannot be read.
    """
    try:
        return path.expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InvalidInput(
            f"The {setting} file {path} cannot be read ({reason}). Point {setting} at a "
            "readable file."
        ) from exc


def keyring_from_settings(settings: Settings) -> Keyring | None:
    """The encryption keys the settings give; None when encryption is off.

    Raises:
        InvalidInput: Both the key and the key file are set, or a key is malformed.
    """
    if settings.encryption_key is not None and settings.encryption_key_file is not None:
        raise InvalidInput("Set SHIPYARD_ENCRYPTION_KEY or SHIPYARD_ENCRYPTION_KEY_FILE, not both.")
    if settings.encryption_key is not None:
        value = settings.encryption_key.get_secret_value()
        return Keyring(parse_keys(value, "SHIPYARD_ENCRYPTION_KEY"))
    if settings.encryption_key_file is not None:
        path = settings.encryption_key_file
        text = read_key_file(path, "SHIPYARD_ENCRYPTION_KEY_FILE")
        return Keyring(parse_keys(text, f"SHIPYARD_ENCRYPTION_KEY_FILE ({path})"))
    return None


_MIN_SIGNING = 16


def signing_key_from_settings(settings: Settings) -> bytes | None:
    """The bundle signing key the settings give; None when signing is off.

    Raises:
        InvalidInput: Both are set, the file cannot be read, or the key is too short.
    """
    if settings.signing_key is not None and settings.signing_key_file is not None:
        raise InvalidInput("Set SHIPYARD_SIGNING_KEY or SHIPYARD_SIGNING_KEY_FILE, not both.")
    if settings.signing_key is not None:
        text, source = settings.signing_key.get_secret_value(), "SHIPYARD_SIGNING_KEY"
    elif settings.signing_key_file is not None:
        source = "SHIPYARD_SIGNING_KEY_FILE"
        text = read_key_file(settings.signing_key_file, source)
    else:
        return None
    key = text.strip().encode()
    if len(key) < _MIN_SIGNING:
        raise InvalidInput(
            f"{source} must be at least {_MIN_SIGNING} characters long. Got {len(key)} "
            "instead. Make one with `openssl rand -base64 32`."
        )
    return key
