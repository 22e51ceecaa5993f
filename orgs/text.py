"""Punctuation that differs between the languages of the interface: Chinese puts a full-width
colon between a label and its value and full-width brackets around an aside; English ": " and
" (…)". The template tags of orgs/templatetags/text.py print the same."""

from django.utils.translation import pgettext


def colon() -> str:
    return pgettext("between a label and its value", "：")


def aside(text, note) -> str:
    """`text` with `note` in brackets: 兴宁区总工会（450102）, Medical aid (Serious illness)."""
    return pgettext("a note in brackets after a text", "%(text)s（%(note)s）") % {
        "text": text,
        "note": note,
    }
