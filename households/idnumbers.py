"""Resident ID numbers (居民身份证号码, GB 11643-1999): 18 characters, birth date, check digit.
A first-generation 15-digit number (cards issued until 2004, in old records and the earlier
systems' files) is taken as its 18-character form, as the standard converts it."""

import unicodedata
from datetime import date
from operator import mul

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.pii import keyed_hash

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_ZEROS = 48 * sum(WEIGHTS)  # the weighted sum of seventeen b"0" bytes


def compact(value: str) -> str:
    """A typed number without spaces, full-width digits and letters made ASCII (NFKC:
    ４５０１ → 4501), so that it is checked, hashed, masked and stored one way only."""
    value = value or ""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return "".join(value.split())


def normalise(value: str) -> str:
    """The number as it is checked, hashed and stored: compact, upper case, and a 15-digit
    first-generation number in its 18-character form (so both find the same person)."""
    number = compact(value).upper()
    if len(number) == 15 and number.isascii() and number.isdigit():
        return upgraded(number)
    return number


def upgraded(old: str) -> str:
    """GB 11643-1999's conversion of a 15-digit number (area, YYMMDD, sequence): the year gets
    its century (19) and the number its check character."""
    first17 = f"{old[:6]}19{old[6:]}"
    return first17 + check_char(first17)


def check_char(first17: str) -> str:
    if len(first17) != len(WEIGHTS):
        raise ValueError("check_char needs the first 17 characters")
    if first17.isascii() and first17.isdigit():
        # The bytes of ASCII digits are 48 + the digit: three times faster than int() on each
        # character, which a large import does for every person.
        total = sum(map(mul, first17.encode(), WEIGHTS)) - _ZEROS
    else:
        total = sum(map(mul, map(int, first17), WEIGHTS))
    return CHECK_CHARS[total % 11]


def birth_date(value: str) -> date | None:
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def validate_id_number(value: str, today: date | None = None) -> str:
    """Return the normalised number or raise ValidationError saying what is wrong with it.
    `today` saves a bulk import asking for the local date once per number."""
    number = normalise(value)
    if len(number) != 18:
        raise ValidationError(_("身份证号码应为18位（或15位旧号码）。"), code="id_length")
    first17, last = number[:17], number[17]
    # ASCII only: isdigit() also takes the digits of other scripts (٣, ३), which NFKC keeps.
    if not (number.isascii() and first17.isdigit() and (last.isdigit() or last == "X")):
        raise ValidationError(_("身份证号码前17位应为数字，末位为数字或X。"), code="id_chars")
    born = birth_date(number)
    if born is None:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="id_birth_date")
    if born > (today or timezone.localdate()) or born.year < 1900:
        raise ValidationError(_("身份证号码中的出生日期不合理。"), code="id_birth_date")
    if check_char(first17) != last:
        raise ValidationError(_("身份证号码校验位错误，请核对。"), code="id_check_digit")
    return number


def id_hash(value: str) -> str:
    return keyed_hash(normalise(value))


def sex_of(value: str) -> str:
    """The 17th digit is odd for men, even for women."""
    return "male" if int(normalise(value)[16]) % 2 else "female"


def make_id_number(area: str, born: date, sequence: int) -> str:
    """A valid number for demo data and tests: area code (6), birth date, sequence (3), check."""
    first17 = f"{area}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)
