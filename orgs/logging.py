"""Personal identifiers out of the logs (PIPL art. 51): a logging filter, installed on every
handler in settings.LOGGING, that masks resident ID numbers, mobile phone numbers and long digit
runs (bank accounts) in the message and in the traceback before any handler writes them.

It cannot know every personal field, so views and services that receive ID or bank numbers
also use `sensitive_post_parameters` / `sensitive_variables`, which keep them out of Django's
error reports (the request's POST data and the traceback's local variables).
"""

import logging
import re

from orgs.pii import mask, mask_phone

# 18-character resident ID numbers (17 digits and a digit or X), not part of a longer run.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Mainland mobile numbers: 11 digits from 13x to 19x, not part of a longer run (the workers'
# phones, masked on the pages of those who only read records, were written to logs in full).
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Bank card and account numbers: 12 or more digits in a row, or groups of four split by spaces.
DIGIT_RUN = re.compile(r"(?<!\d)(?<!\d )(?:\d{12,}|\d{4}(?: \d{4}){2,}(?: \d{1,4})?)(?!\d)")


def _mask_run(match: re.Match) -> str:
    digits = match.group().replace(" ", "")
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str) -> str:
    """450102199001011234 → 450102********1234; 6222021001123456789 → ***************6789;
    13800138000 → 138****8000."""
    text = ID_NUMBER.sub(lambda match: mask(match.group()), text)
    text = MOBILE.sub(lambda match: mask_phone(match.group()), text)
    return DIGIT_RUN.sub(_mask_run, text)


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
