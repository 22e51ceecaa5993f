from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from funds.templatetags.money import yuan
from reports.render import NOT_APPLICABLE
from reports.sections import WAN_PLACES, wanyuan

register = template.Library()


@register.filter
def get(mapping, key):
    """{{ dict|get:key }} for keys held in variables; 0 when absent."""
    if not mapping:
        return 0
    return mapping.get(key, 0)


@register.filter
def percent(value) -> str:
    """A rate as 12.5%; None (a rate of nothing, e.g. without households at the start) as —."""
    if value is None:
        return NOT_APPLICABLE
    return f"{Decimal(value) * 100:.1f}%"


@register.filter
def wan(value) -> str:
    """An amount of yuan in 万元 with four decimals: 270873.00 → "27.0873"."""
    if value is None or value == "":
        return ""
    return f"{wanyuan(Decimal(value)):,.{WAN_PLACES}f}"


@register.filter
def yuan_wan(value):
    """An amount in 元 and, on a second line, in 万元: "270,873.00" over "27.0873 万元". A zero
    has no second line (0.00 is nothing in either unit): a source that moved no money stays
    one line high."""
    if value is None or value == "":
        return ""
    if not Decimal(value):
        return yuan(value)
    return format_html(
        '{}<br><span class="wan">{}</span>',
        yuan(value),
        _("%(amount)s 万元") % {"amount": wan(value)},
    )
