"""Money: amounts of yuan as `Decimal` with two places, never float. One definition for every
app: the column every amount is stored in and the constants rounding and limits are written
with."""

from decimal import Decimal
from functools import cache

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}  # DecimalField options of every amount
CENT = Decimal("0.01")
CENT_PLACES = MONEY["decimal_places"]
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


def yuan_text(amount) -> str:
    """An amount as every page and the admin print it: 15000 → "15,000.00"."""
    return f"{Decimal(amount).quantize(CENT):,.2f}"


class MoneyColumnsAdminMixin:
    """The change list prints its money columns (two-place decimals) as the staff pages do,
    "15,000.00" instead of the admin's "15000.00". Not USE_THOUSAND_SEPARATOR: that would print
    every number of every page with separators, years too ("2,026")."""

    def get_list_display(self, request):
        return [_money_column(self.model, name) for name in super().get_list_display(request)]


@cache
def _money_column(model, name):
    if not isinstance(name, str):
        return name
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    if not isinstance(field, models.DecimalField) or field.decimal_places != CENT_PLACES:
        return name

    def column(obj):
        value = getattr(obj, name)
        return None if value is None else yuan_text(value)  # None: the admin's "-"

    column.__name__ = name  # the cell keeps its class, field-<name>
    column.short_description = field.verbose_name
    column.admin_order_field = name
    return column
