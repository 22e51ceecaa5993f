"""Punctuation that differs between the languages of the interface: Chinese puts a full-width
colon between a label and its value, English ": "."""

from django import template
from django.utils.translation import pgettext

register = template.Library()


@register.simple_tag
def colon() -> str:
    return pgettext("between a label and its value", "：")
