"""Money: amounts of yuan as `Decimal` with two places, never float. One definition for every
app: the column every amount is stored in and the constants rounding and limits are written
with."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}  # DecimalField options of every amount
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount a MONEY column holds; checked before quantize, which cannot hold 1e309.
MAX_AMOUNT = Decimal("9" * (MONEY["max_digits"] - MONEY["decimal_places"]) + ".99")
# A form's amount field says what is wrong in the words of the services' own checks, not
# Django's "确认总共不超过 14 个数字".
MONEY_ERRORS = {
    "invalid": _("金额格式不正确。"),
    "max_decimal_places": _("金额最多保留两位小数（到分）。"),
    "max_digits": _("金额过大。"),
    "max_whole_digits": _("金额过大。"),
}


def is_money(field) -> bool:
    """Whether a model field holds an amount of yuan (a MONEY column), not another decimal (a
    multiple of the dibao line, a rate, a number of months)."""
    return (
        isinstance(field, models.DecimalField)
        and field.max_digits == MONEY["max_digits"]
        and field.decimal_places == MONEY["decimal_places"]
    )


def yuan_text(amount) -> str:
    """An amount as every page and the admin print it: 15000 → "15,000.00"."""
    return f"{Decimal(amount).quantize(CENT):,.2f}"
