"""Punctuation that differs between the languages of the interface (orgs/text.py): Chinese puts
a full-width colon between a label and its value, English ": "; an aside in brackets."""

from django import template

from orgs import text

register = template.Library()


@register.simple_tag
def colon() -> str:
    return text.colon()


@register.simple_tag
def list_separator() -> str:
    """Between the items of a list looped over in a template: 、 in Chinese, ", " in English."""
    return text.pgettext("between the items of a list", "、")


@register.filter
def unbroken(value) -> str:
    """{{ day|date:"Y-m-d"|unbroken }}: a date that never breaks across two lines."""
    return text.unbroken(value)


@register.simple_tag
def aside(main, note) -> str:
    """{% aside organisation.name organisation.code %} → 兴宁区总工会（450102）."""
    return text.aside(main, note)
