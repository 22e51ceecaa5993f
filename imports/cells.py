"""Parsers for the cells of an uploaded workbook, shared by every importer.

Values arrive as python-calamine gives them: str, int, float, bool, datetime.date,
datetime.datetime, datetime.time, datetime.timedelta or None (an empty cell may also be "").
Each parser returns a clean Python value or raises `ValidationError` with one translated
message that names the bad value; the importer adds the sheet, row and column.

Decisions:
- Money is yuan with at most two decimals. Numbers are accepted, and so is numeric text
  ("1200.50", "1,200.50", "￥1,200.50", "1200元"), because clerks often type amounts as text.
  A float from Excel is read as the 15 significant digits Excel shows (never its binary
  expansion), so 12.3 is 12.30 and 12.345 is refused rather than rounded.
- Dates are Excel dates (or date-times at midnight) or text with the year first, as clerks
  type it: '2019-03-31', '2019/3/31', '2019.3.31', '2019年3月31日'; any other text is
  refused, since '03/04/2019' is ambiguous. Excel serial numbers are refused: a date column
  that arrives as a number was not formatted as a date.
- Text strips whitespace; a whole float from Excel (a phone typed as a number,
  13800138000.0) becomes '13800138000'; the quote our exports put before text that a
  spreadsheet would run as a formula ('=…, see orgs.spreadsheets.neutralise) is taken off.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from orgs.money import CENT, MAX_AMOUNT
from orgs.pii import mask_numbers
from orgs.spreadsheets import FORMULA_PREFIXES
from orgs.text import listing

MAX_SHOWN = 40  # characters of a bad value quoted in a message
# Integers beyond this are not what anyone typed into a cell (and keep Decimal work small).
MAX_INTEGER = 10**15

YES = ("是", "Y", "YES", "TRUE", "1")
NO = ("否", "N", "NO", "FALSE", "0")
# The year first, one separator throughout (2019-03-31, 2019/3/31, 2019.3.31), or 2019年3月31日.
DATE_TEXT = re.compile(
    r"^(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)$"
)
MONEY_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def shown(value) -> str:
    """A bad value as the message quotes it, as Excel shows it (TRUE, 450102******0000 rather
    than True, 4.5010219810101e+17): short, on one line, and any ID, bank or phone number in it
    masked (orgs.pii.mask): the messages are kept with the job, and whoever reads the job in the
    admin may see such numbers only masked. The row and column still find the cell."""
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer() and abs(value) < 10**30:
        # as digits (a bank account has up to 30), to Excel's 15 significant digits
        text = str(int(Decimal(f"{value:.15g}")))
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    else:
        text = str(value)
    text = mask_numbers(" ".join(text.split()))
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 1] + "…"
    return text


def _invalid(message: str, value) -> ValidationError:
    return ValidationError(message % {"value": shown(value)}, code="invalid")


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def required(value, parser=None, /, *args, **kwargs):
    """`parser(value, ...)` after refusing an empty cell; without a parser, the value itself."""
    if is_blank(value):
        raise ValidationError(_("必填项，不能为空。"), code="required")
    if parser is None:
        return value
    return parser(value, *args, **kwargs)


def optional(value, parser, /, *args, default=None, **kwargs):
    """`default` for an empty cell, else `parser(value, ...)`."""
    if is_blank(value):
        return default
    return parser(value, *args, **kwargs)


def _number_text(value) -> str:
    """The decimal text of a number cell. A float is read with the 15 significant digits Excel
    itself shows (the shortest round-trip text, repr, whenever that is 15 digits or fewer), so
    12.3 (stored as 12.300000000000000710…) reads as 12.3 and a sum computed in Excel,
    0.1 + 0.2 = 0.30000000000000004, as the 0.3 on screen; 12.345 stays 12.345."""
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value)


def money(value, *, allow_zero: bool = False, allow_negative: bool = False) -> Decimal:
    """An amount of yuan, two decimals at most; positive unless told otherwise."""
    if isinstance(value, bool) or is_blank(value):
        raise _invalid(_("金额“%(value)s”不是数字。"), value)
    if isinstance(value, int | float):
        text = _number_text(value)
    elif isinstance(value, str):
        text = value.strip().replace("，", ",").replace(" ", "")
        text = text.removeprefix("￥").removeprefix("¥").removesuffix("元")
        if not MONEY_TEXT.match(text):
            raise _invalid(_("金额“%(value)s”不是数字。"), value)
        text = text.replace(",", "")
    else:
        raise _invalid(_("金额“%(value)s”不是数字。"), value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _invalid(_("金额“%(value)s”不是数字。"), value) from None
    if not amount.is_finite():
        raise _invalid(_("金额“%(value)s”不是数字。"), value)
    if abs(amount) > MAX_AMOUNT:
        raise _invalid(_("金额“%(value)s”过大。"), value)
    if amount != amount.quantize(CENT):
        raise _invalid(_("金额“%(value)s”最多保留两位小数（到分）。"), value)
    if amount < 0 and not allow_negative:
        raise _invalid(_("金额“%(value)s”不能为负数。"), value)
    if amount == 0 and not (allow_zero or allow_negative):
        raise _invalid(_("金额“%(value)s”必须大于零。"), value)
    return amount.quantize(CENT) + 0  # + 0 turns -0.00 into 0.00


def day(value) -> dt.date:
    """A date: an Excel date (or a date-time at midnight) or text with the year first."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise _invalid(_("日期“%(value)s”带有时间，请只填写日期。"), value)
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = DATE_TEXT.match(value.strip())
        if match:
            year, _separator, *month_day = match.groups()
            try:
                return dt.date(int(year), *(int(part) for part in month_day if part))
            except ValueError:
                raise _invalid(_("日期“%(value)s”不存在。"), value) from None
    raise _invalid(_("日期“%(value)s”格式不正确，应为日期或“2019-03-31”的形式。"), value)


def integer(value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number: an int, a whole float from Excel (2019.0) or digits as text."""
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if value.is_integer() and abs(value) < MAX_INTEGER:
            number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,15}", value.strip()):
        number = int(value.strip())
    if number is None:
        raise _invalid(_("“%(value)s”不是整数。"), value)
    if minimum is not None and number < minimum or maximum is not None and number > maximum:
        low = "" if minimum is None else minimum
        high = "" if maximum is None else maximum
        raise ValidationError(
            _("“%(value)s”超出范围（%(low)s～%(high)s）。")
            % {"value": shown(value), "low": low, "high": high},
            code="invalid",
        )
    return number


def text(value, max_length: int) -> str:
    """Stripped text of at most `max_length` characters. A whole float from Excel loses its
    '.0' (a phone number typed as a number); other numbers keep their shortest form."""
    if value is None:
        return ""
    if isinstance(value, str):  # first: nearly every cell is text
        result = value.strip()
        if result[:1] == "'" and result[1:].startswith(FORMULA_PREFIXES):
            result = result[1:]  # the quote our exports add against formula injection
    elif isinstance(value, bool):
        raise _invalid(_("“%(value)s”应为文字。"), value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _invalid(_("“%(value)s”应为文字。"), value)
        result = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, int):
        result = str(value)
    elif isinstance(value, dt.datetime):
        result = value.isoformat(sep=" ")
    elif isinstance(value, dt.date):
        result = value.isoformat()
    else:
        raise _invalid(_("“%(value)s”应为文字。"), value)
    if "\x00" in result:
        raise _invalid(_("“%(value)s”含有无效字符。"), result.replace("\x00", ""))
    if len(result) > max_length:
        raise ValidationError(
            _("“%(value)s”过长：最多%(max)d个字符，实有%(length)d个。")
            % {"value": shown(result), "max": max_length, "length": len(result)},
            code="max_length",
        )
    return result


def choice(value, labels: dict[str, str]) -> str:
    """The code whose label is the cell's text; `labels` maps label -> code (aliases allowed:
    several labels may map to one code). The message lists the allowed labels."""
    label = text(value, 200) if not isinstance(value, bool) else shown(value)
    code = labels.get(label)
    if code is None:
        allowed = listing(dict.fromkeys(labels))
        raise ValidationError(
            _("“%(value)s”不是可选的值，可选：%(allowed)s。")
            % {"value": shown(value), "allowed": allowed},
            code="invalid_choice",
        )
    return code


def yes_no(value) -> bool:
    """是/否 (Excel's TRUE/FALSE and 1/0 too)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().upper()
        if word in YES:
            return True
        if word in NO:
            return False
    raise _invalid(_("“%(value)s”应为“是”或“否”。"), value)
