"""Money in templates: {% load money %}{{ amount|yuan }} → "828,833.00";
{{ amount|wanyuan }} → "82.88" (万元, two decimals; `|wanyuan:4` for four)."""

from decimal import Decimal, InvalidOperation

from django import template

from funds.selectors import to_wanyuan
from orgs.money import yuan_text

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def yuan(value) -> str:
    amount = _decimal(value)
    if amount is None:
        return ""
    return yuan_text(amount)


@register.filter
def wanyuan(value, places: int = 4) -> str:
    amount = _decimal(value)
    if amount is None:
        return ""
    places = int(places)
    return f"{to_wanyuan(amount, places):,.{places}f}"
