"""Punctuation that differs between the languages of the interface: Chinese puts a full-width
colon between a label and its value, full-width brackets around an aside and "、" between the
items of a list; English ": ", " (…)" and ", ". The template tags of orgs/templatetags/text.py
print the same. Chinese runs sentences together, English puts a space between them. Also a date
kept on one line inside a translated note, and a label as it reads inside a sentence."""

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import pgettext


def colon() -> str:
    return pgettext("between a label and its value", "：")


def aside(text, note) -> str:
    """`text` with `note` in brackets: 兴宁区总工会（450102）, Medical aid (Serious illness)."""
    return pgettext("a note in brackets after a text", "%(text)s（%(note)s）") % {
        "text": text,
        "note": note,
    }


def listing(items) -> str:
    """`items` as one list: 在档 2020-03-05、脱困 2025-01-01; On file 2020-03-05, Exited …"""
    return pgettext("between the items of a list", "、").join(str(item) for item in items)


def sentences(first, second) -> str:
    """Two sentences as one text: 超出标准……元。比较所用的……; "… yuan. The dibao line …"."""
    return pgettext("two sentences one after the other", "%(first)s%(second)s") % {
        "first": first,
        "second": second,
    }


def in_sentence(text) -> str:
    """A label as it reads inside a sentence: "Status" → "status", "Attempt Time" → "attempt
    time". English verbose names shared with page headings are capitalised, and django-axes'
    are in title case; Django's "By %(filter_title)s" expects them lower case, as its own. A
    word in capitals stays ("ID number"); Chinese has no case and is unchanged."""
    return " ".join(
        word[0].lower() + word[1:] if word[:1].isupper() and word[1:].islower() else word
        for word in str(text).split(" ")
    )


def unbroken(text) -> SafeString:
    """`text` kept on one line: a date such as 2026-04-25 would otherwise break after a
    hyphen when a note wraps in a narrow panel."""
    return format_html('<span class="nowrap">{}</span>', text)


def html_message(message: str, **values) -> SafeString:
    """A translated `message % values` for a template: the message escaped, each value escaped
    unless it is already HTML (a date from `unbroken`)."""
    return mark_safe(  # noqa: S308 - every part is escaped above
        conditional_escape(message) % {name: conditional_escape(v) for name, v in values.items()}
    )
