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
def percent(value) -> str:
    return f"{Decimal(value) * 100:.1f}%"
