from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """{{ dict|get:key }} for keys held in variables; 0 when absent."""
    if not mapping:
        return 0
    return mapping.get(key, 0)


@register.filter
def yuan(value) -> str:
    """12345.6 → 12,345.60 (yuan, two decimals)."""
    if value in (None, ""):
        return "0.00"
    return f"{Decimal(value):,.2f}"


@register.filter
def percent(value) -> str:
    return f"{Decimal(value) * 100:.1f}%"
