"""The log filter (orgs/logging.py) and the shorter personal numbers: bank accounts of 8 to 11
digits and landlines (0771-5551234, 07715551234, 5551234-8) are masked but their last four
digits; dates of this century written as 8 digits (20261207) or with separators (2026-12-07),
and ids and counters under 8 digits stay readable."""

import io
import logging
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgs.logging import MaskPersonalDataFilter, is_readable_date, mask_text


def masked_but_last_four(number: str) -> str:
    """`number` with every digit but the last four starred, separators kept."""
    digits = sum(c.isdigit() for c in number)
    out, starred = [], 0
    for c in number:
        if c.isdigit() and starred < digits - 4:
            out.append("*")
            starred += 1
        else:
            out.append(c)
    return "".join(out)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("账号 12345678 已停用", "账号 ****5678 已停用"),  # the shortest bank account
        ("account=623456789", "account=*****6789"),
        ("acct 6222021234", "acct ******1234"),
        ("存折62220212345，", "存折*******2345，"),  # 11 digits, no mobile number
        ("电话 0771-5551234", "电话 ****-***1234"),
        ("电话 010-62345678", "电话 ***-****5678"),
        ("电话 07715551234", "电话 *******1234"),
        ("tel=5551234-8 转", "tel=****234-8 转"),
        ("电话 0771-5551234-801", "电话 ****-******4-801"),
        ("电话 020-87654321", "电话 ***-****4321"),
        ("电话 87654321", "电话 ****4321"),  # an 8-digit local number
        ("出生 19780315", "出生 ****0315"),  # an 8-digit date of the last century
        ("rows=10000000000", "rows=*******0000"),  # 11 digits may be an account
        # Readable: dates of this century, short ids and counters, times, amounts.
        ("批次 20261207 开始", "批次 20261207 开始"),
        ("backup-20261207-1.xlsx", "backup-20261207-1.xlsx"),
        ("2026-12-07 10:30:00,123", "2026-12-07 10:30:00,123"),
        ("从 20260101 到 20261231", "从 20260101 到 20261231"),
        ("id=1234567 rows=9999999", "id=1234567 rows=9999999"),
        ("电话 5551234", "电话 5551234"),  # seven digits alone read as a counter
        ("0771-12351", "0771-12351"),  # no local number has five digits
        ("¥12,345.67 1234567.89", "¥12,345.67 1234567.89"),
        ("GET /households/12345/file.pdf HTTP/1.1", "GET /households/12345/file.pdf HTTP/1.1"),
    ],
)
def test_what_is_masked(text, shown):
    assert mask_text(text) == shown


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=11).filter(
        lambda run: not is_readable_date(run) and not re.fullmatch(r"1[3-9]\d{9}", run)
    ),
    st.sampled_from(["账号", "account=", "acct ", "电话：", "(", "x"]),
    st.sampled_from(["", " ", "，", ")", "元"]),
)
def test_every_run_of_8_to_11_digits_is_masked(run, before, after):
    """Every bank account households.services accepts from 8 digits, and landlines with
    their area code written as one run (a mobile number keeps its own mask, 138****5678)."""
    shown = mask_text(f"{before}{run}{after}")
    assert shown == f"{before}{masked_but_last_four(run)}{after}"
    assert run not in shown


@given(
    st.sampled_from(["010", "020", "021", "0771", "0772", "0898"]),
    st.from_regex(r"[2-8]\d{6,7}", fullmatch=True),
    st.sampled_from(["", "-8", "-801", "-1234"]),
    st.sampled_from(["-", ""]),
)
def test_every_landline_is_masked(area, local, extension, separator):
    number = f"{area}{separator}{local}{extension}"
    shown = mask_text(f"联系电话 {number}，")
    assert local not in shown
    assert shown == f"联系电话 {masked_but_last_four(number)}，"


@given(
    st.from_regex(r"[2-8]\d{6,7}", fullmatch=True).filter(lambda n: not is_readable_date(n)),
    st.integers(1, 9999),
)
def test_a_local_number_with_an_extension_is_masked(local, extension):
    """Seven digits alone may be a counter; with an extension they are a phone."""
    number = f"{local}-{extension}"
    shown = mask_text(f"电话{number}")
    assert local not in shown and shown == f"电话{masked_but_last_four(number)}"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_dates_of_this_century_stay_readable(day):
    """Log dates are those of jobs, periods and files, written either way."""
    for text in (
        f"批次 {day:%Y%m%d} 开始",
        f"{day:%Y-%m-%d} 10:30:00",
        f"{day:%Y%m%d}-{day:%Y%m%d}",
        f"report-{day:%Y%m%d}.xlsx",
    ):
        assert mask_text(text) == text


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)))
def test_an_8_digit_date_of_the_last_century_is_masked(day):
    """Most likely a birth date: the very digits an ID number's mask hides."""
    digits = f"{day:%Y%m%d}"
    assert digits not in mask_text(f"出生日期 {digits}")


@given(st.integers(0, 9_999_999), st.integers(0, 9_999_999))
def test_ids_and_counters_under_8_digits_stay_readable(pk, count):
    text = f"household {pk} imported, rows={count}, took {count % 1000}.25s"
    assert mask_text(text) == text


def test_a_log_line_with_a_landline_and_a_short_account_is_masked():
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        logging.getLogger("households.importing").warning(
            "第%s行 电话 %s 账号 %s 批次 %s", 12, "0771-5551234", "62220212", 20261207
        )
    finally:
        handler.setStream(previous)
    written = stream.getvalue()
    assert "第12行 电话 ****-***1234 账号 ****0212 批次 20261207" in written
    assert "5551234" not in written and "62220212" not in written
