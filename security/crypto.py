"""Field-level protection of ID numbers: Fernet encryption (rotatable keys) and a keyed hash for lookups.

Keys come from the environment:
- CPD_ID_NUMBER_KEYS: comma-separated Fernet keys, newest first. Encryption uses the first;
  decryption tries each (MultiFernet), so a new key is put in front and
  `manage.py rotate_id_number_keys` re-encrypts every row before an old key is dropped.
- CPD_ID_NUMBER_HASH_KEY: the HMAC-SHA256 key of the lookup/uniqueness column. Changing it
  needs every hash recomputed (`rotate_id_number_keys --rehash`, with the old key still able
  to decrypt).
Unset (development and tests) both derive from SECRET_KEY, so a local database stays readable.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

FERNET_PREFIX = "gAAAAA"  # every Fernet token starts with version byte 0x80 + timestamp, base64


def _derived(label: str) -> bytes:
    return hashlib.sha256(f"{label}:{settings.SECRET_KEY}".encode()).digest()


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def development_key() -> str:
    """The key used while CPD_ID_NUMBER_KEYS is unset (derived from SECRET_KEY)."""
    return base64.urlsafe_b64encode(_derived("cpd-id-number-key")).decode()


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.CPD_ID_NUMBER_KEYS) or (development_key(),))


def hash_key() -> bytes:
    key = settings.CPD_ID_NUMBER_HASH_KEY
    return key.encode() if key else _derived("cpd-id-number-hash")


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """The plain value; a value that is not a Fernet token (a row from before encryption) is returned as is."""
    if not value.startswith(FERNET_PREFIX):
        return value
    try:
        return fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        raise ValueError("An ID number cannot be decrypted: is CPD_ID_NUMBER_KEYS missing a key?") from None


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of the normalised value: equal ID numbers give equal hashes, without the key nobody can test a guess."""
    return hmac.new(hash_key(), value.strip().upper().encode(), hashlib.sha256).hexdigest()
