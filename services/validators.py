"""Checks for what a clerk types at the counter.

The resident ID check lives here until the households app provides the shared one
(`households.idnumbers`); then this module should import it instead.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 11643-1999: weights of the first 17 digits and the check character for each remainder.
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK_CHARS = "10X98765432"

ID_FORMAT_MESSAGE = _("身份证号码应为18位：17位数字加1位数字或X。")
ID_BIRTH_DATE_MESSAGE = _("身份证号码中的出生日期无效。")
ID_CHECK_DIGIT_MESSAGE = _("身份证号码校验位不正确，请核对。")


def normalise_id_number(value: str) -> str:
    """Strip spaces and upper-case the final x, as clerks type both."""
    return "".join((value or "").split()).upper()


def id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def validate_resident_id_number(value: str) -> None:
    """An 18-character resident ID number with a valid birth date and GB 11643 check digit."""
    number = normalise_id_number(value)
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise ValidationError(ID_FORMAT_MESSAGE, code="id_format")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(ID_BIRTH_DATE_MESSAGE, code="id_birth_date") from None
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(ID_CHECK_DIGIT_MESSAGE, code="id_check_digit")
