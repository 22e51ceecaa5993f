"""Personal identifiers at rest: encrypted columns, keyed hashes for exact search, masking.

PIPL arts. 28 and 51 treat ID numbers and bank accounts as sensitive. They are stored encrypted
with Fernet (AES-128-CBC + HMAC, from `cryptography`) under `PII_ENCRYPTION_KEYS` (newest first;
older keys still decrypt; `manage.py rotate_pii_keys` re-encrypts everything under the newest).
Beside each encrypted value sits an HMAC-SHA256 under `PII_HASH_KEY`, used for exact search and
uniqueness, and a masked copy for lists, so lists never decrypt anything.
"""

import hashlib
import hmac
import re
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver


@cache
def _fernet() -> MultiFernet:
    keys = settings.PII_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("PII_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key) for key in keys])


@receiver(setting_changed)
def _keys_changed(*, setting, **kwargs):
    if setting == "PII_ENCRYPTION_KEYS":  # tests that override the keys
        _fernet.cache_clear()


def is_under_newest_key(token: str) -> bool:
    """Whether a stored token was encrypted with the first (newest) key."""
    try:
        Fernet(settings.PII_ENCRYPTION_KEYS[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def reencrypt(token: str) -> str:
    """The same plaintext encrypted under the newest key (from a token under any listed key)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "cannot decrypt a PII value: its key is not in PII_ENCRYPTION_KEYS"
        ) from exc


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


# A masked copy hides at least half of a value, but need not hide more than this many characters:
# an ID number's mask hides its 8 birth-date digits (450102********1234), as it always has.
MASK_HIDES_AT_MOST_HALF_UP_TO = 8
# ...and never fewer than this many (all of a shorter value).
MASK_HIDES_AT_LEAST = 4


def mask(value: str, *, head: int = 6, tail: int = 4) -> str:
    """The first `head` and last `tail` characters, the rest starred, but never hiding less than
    half of the value (rounded up) up to 8 characters, nor fewer than 4: 450102199001011234 →
    450102********1234 and 6222020200112233445 → 622202*********3445 as before, while a short
    bank account shows fewer leading digits (62220212345 → 6******2345, 622202123456 →
    62******3456, 6222000011112222 → 6222********2222). The tail (尾号, how people recognise an
    account) is kept longest; a value no longer than head + tail keeps only its tail
    (12345678 → ****5678)."""
    if not value:
        return ""
    size = len(value)
    hidden = max(
        size - head - tail,
        min(-(-size // 2), MASK_HIDES_AT_MOST_HALF_UP_TO),
        min(MASK_HIDES_AT_LEAST, size),
    )
    if size <= head + tail:
        hidden = max(hidden, size - tail)
    shown_tail = min(tail, size - hidden)
    shown_head = size - hidden - shown_tail
    return value[:shown_head] + "*" * hidden + value[size - shown_tail :]


# A run of 8 to 30 digits: an ID (18, or 15 old), phone (11, a landline 8) or bank number (8 to
# 30, as households.services accepts them); no amount is that long, and a longer run is no number
# of a person. A date written as 8 digits (20190331) is masked too, on purpose: an 8-digit bank
# account or landline may read as one, and a birth date is exactly what an ID number's mask hides
# (450102********1234), so beside the mask, shown to the same readers, it would complete it. A
# date written with separators (2019-03-31, 2019.03.31) is left as it is.
_NUMBER_RUN = re.compile(r"(?<!\d)\d{7,29}[\dXx](?![\dXx])")


def mask_numbers(text: str) -> str:
    """`text` with every ID, bank or phone number in it masked (`mask`): for free text that
    readers who see numbers masked read (import messages, a document's file name). Any run of 8
    digits or more counts, dates of 8 digits included (_NUMBER_RUN says why)."""
    return _NUMBER_RUN.sub(lambda number: mask(number.group()), text)


# Who sees personal numbers in full (ID, bank, the worker's phone): those who work the files.
FULL_NUMBERS = "households.view_full_identifiers"
# The worker's phone, on the models that hold one.
PHONE_FIELDS = ("phone", "worker_phone")


# The birth date, on the models that hold one: an ID number's mask (450102********1234) hides
# exactly its 8 digits, so beside the mask the date would give the whole number away.
BIRTH_DATE_FIELDS = ("birth_date",)


def hides_birth_dates(user) -> bool:
    """The birth date is not shown to this user, nor filtered by: one who sees ID numbers
    masked."""
    return not user.has_perm(FULL_NUMBERS)


def masks_phones(user) -> bool:
    """The worker's phone is shown masked to this user (one who only reads records)."""
    return not user.has_perm(FULL_NUMBERS)


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; a shorter number keeps only its last two digits (head and
    tail of a seven-digit landline would be the whole number)."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


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
        "Prepend a new key to PII_ENCRYPTION_KEYS, restart, run python manage.py rotate_pii_keys, "
        "then remove the old key."
    )


# --- Key rotation (manage.py rotate_pii_keys) -----------------------------------------------------


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with encrypted columns and their names, field-history tables included
    (django-simple-history copies the columns, encrypted too)."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [
            field.column
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedCharField)
        ]
        if names:
            found.append((model, names))
    return found


def rotate_model(
    model: type[models.Model], columns: list[str], *, batch_size: int = 500, dry_run: bool = False
) -> tuple[int, int]:
    """Re-encrypt one model's columns under the newest key, `batch_size` rows per transaction.
    The stored tokens are read and written as they are (no decryption through the ORM, no save(),
    so no history row and no `updated_at` change). Returns (values checked, values rotated)."""
    from django.db import transaction
    from django.db.models.functions import Cast

    raw = {f"raw_{column}": Cast(column, models.TextField()) for column in columns}
    manager = model._base_manager
    checked = rotated = 0
    last_pk = None
    while True:
        rows = manager.annotate(**raw).order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.values("pk", *raw)[:batch_size])
        if not batch:
            return checked, rotated
        with transaction.atomic():
            for row in batch:
                changes = {}
                for column in columns:
                    token = row[f"raw_{column}"]
                    if not token:
                        continue
                    checked += 1
                    if not is_under_newest_key(token):
                        changes[column] = models.Value(reencrypt(token), models.TextField())
                if changes:
                    rotated += len(changes)
                    if not dry_run:
                        manager.filter(pk=row["pk"]).update(**changes)
        last_pk = batch[-1]["pk"]
