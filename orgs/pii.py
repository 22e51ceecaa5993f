"""Personal identifiers at rest: encrypted columns, keyed hashes for exact search, masking.

PIPL arts. 28 and 51 treat ID numbers and bank accounts as sensitive. They are stored encrypted
with Fernet (AES-128-CBC + HMAC, from `cryptography`) under `PII_ENCRYPTION_KEYS` (newest first;
older keys still decrypt, so keys rotate by prepending one and re-saving). Beside each encrypted
value sits an HMAC-SHA256 under `PII_HASH_KEY`, used for exact search and uniqueness, and a
masked copy for lists, so lists never decrypt anything.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = settings.PII_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("PII_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never fall back to returning the stored token: it would be shown as if it were data.
        raise ImproperlyConfigured("cannot decrypt a PII value: wrong PII_ENCRYPTION_KEYS") from exc


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of a normalised identifier (upper-case, no spaces); hex, 64 characters."""
    normalised = "".join(value.split()).upper()
    return hmac.new(settings.PII_HASH_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def mask(value: str, *, head: int = 6, tail: int = 4) -> str:
    """450102199001011234 → 450102********1234; short values keep only their tail."""
    if not value:
        return ""
    if len(value) <= head + tail:
        return "*" * max(len(value) - tail, 0) + value[-tail:]
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_name(name: str) -> str:
    """张小明 → 张*明, 王芳 → 王*, as public notices show names."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class EncryptedCharField(models.TextField):
    """A text column holding a Fernet token; Python sees the plaintext. Not searchable: search
    the keyed hash column beside it instead."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def rotate_keys_hint() -> str:
    return (
        "Prepend a new key to PII_ENCRYPTION_KEYS, restart, then re-save the records "
        "(python manage.py reencrypt_pii); remove the old key afterwards."
    )
