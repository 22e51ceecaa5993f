"""Personal identifiers out of the logs (PIPL art. 51): a logging filter, installed on every
handler in settings.LOGGING, that masks resident ID numbers, mobile and landline phone numbers
and bank accounts in the message and in the traceback before any handler writes them.

It cannot know every personal field, so views and services that receive ID or bank numbers
also use `sensitive_post_parameters` / `sensitive_variables`, which keep them out of Django's
error reports (the request's POST data and the traceback's local variables).
"""

import logging
import re
from datetime import date

from orgs.pii import mask, mask_phone

# 18-character resident ID numbers (17 digits and a digit or X), not part of a longer run.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Mainland mobile numbers: 11 digits from 13x to 19x, not part of a longer run (the workers'
# phones, masked on the pages of those who only read records, were written to logs in full).
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Bank card and account numbers: 12 or more digits in a row, or groups of four split by spaces.
DIGIT_RUN = re.compile(r"(?<!\d)(?<!\d )(?:\d{12,}|\d{4}(?: \d{4}){2,}(?: \d{1,4})?)(?!\d)")
# The shorter numbers, masked but their last four digits. The rule: a run of 8 to 11 digits is
# a number of a person (a bank account, households.services accepts them from 8 digits; a
# landline with its area code, 07715551234; an 8-digit local number), and so is a landline
# written with its area code (0771-5551234) or an extension (5551234-8). Readable: runs under
# 8 digits (ids, counters, amounts; seven digits alone cannot be told from a counter), and an
# 8-digit date of this century (20261207: the dates logs carry are of jobs, periods and files;
# those with separators, 2026-12-07, are no run). An 8-digit date of the last century is masked:
# most likely a birth date, the very digits an ID number's mask hides (450102********1234).
# The price: an account or local number that happens to read as such a date stays readable.
LANDLINE = re.compile(r"(?<!\d)(?:0\d{2,3}-?\d{7,8}(?:-\d{1,4})?|\d{7,8}-\d{1,4})(?!\d)")
SHORT_RUN = re.compile(r"(?<!\d)\d{8,11}(?!\d)")


def _mask_run(match: re.Match) -> str:
    digits = match.group().replace(" ", "")
    return "*" * (len(digits) - 4) + digits[-4:]


def is_readable_date(digits: str) -> bool:
    """20261207, a day of 2000 to 2099 written as 8 digits (LANDLINE says why)."""
    if len(digits) != 8 or not digits.startswith("20"):
        return False
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True


def _mask_but_last_four(match: re.Match) -> str:
    """Every digit starred but the last four, separators kept: 0771-5551234 → ****-***1234."""
    number = match.group()
    if is_readable_date(number.split("-")[0]):
        return number
    to_star = sum(c.isdigit() for c in number) - 4
    out = []
    for c in number:
        if c.isdigit() and to_star > 0:
            out.append("*")
            to_star -= 1
        else:
            out.append(c)
    return "".join(out)


def mask_text(text: str) -> str:
    """450102199001011234 → 450102********1234; 6222021001123456789 → ***************6789;
    13800138000 → 138****8000; 0771-5551234 → ****-***1234; 62220212 → ****0212."""
    text = ID_NUMBER.sub(lambda match: mask(match.group()), text)
    text = MOBILE.sub(lambda match: mask_phone(match.group()), text)
    # Landlines first: one written 075512345678-8 is more than a long run (DIGIT_RUN).
    text = LANDLINE.sub(_mask_but_last_four, text)
    text = DIGIT_RUN.sub(_mask_run, text)
    return SHORT_RUN.sub(_mask_but_last_four, text)


class MaskPersonalDataFilter(logging.Filter):
    """Rewrites the record in place (every handler after this one sees the masked text) and
    never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it itself, the handler goes on
            message = str(record.msg)
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True
