"""The shared cell parsers: what each accepts, and that nothing but ValidationError escapes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from imports import cells

# Every kind of value python-calamine hands over, plus hostile text.
CELL_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet="0123456789.,-+eE ￥¥元，"),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)
LABELS = {"中央财政": "central", "省级财政": "regional", "自治区财政": "regional"}


def message(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (12.3, "12.30"),
        (0.1 + 0.2, "0.30"),  # 0.30000000000000004: read as the 0.3 Excel shows
        (1200, "1200.00"),
        (1200.5, "1200.50"),
        ("1,200.50", "1200.50"),
        (" 1200 ", "1200.00"),
        ("￥1,200.50", "1200.50"),
        ("300元", "300.00"),
        ("0.01", "0.01"),
        (999999999999.99, "999999999999.99"),
    ],
)
def test_money_accepts_numbers_and_numeric_text(value, expected):
    assert cells.money(value) == Decimal(expected)
    assert str(cells.money(value)) == expected


@pytest.mark.parametrize(
    "value, fragment",
    [
        (12.345, "两位小数"),
        ("12.345", "两位小数"),
        (12.345000000000001, "两位小数"),
        ("abc", "不是数字"),
        ("1,20.5", "不是数字"),
        ("1.2.3", "不是数字"),
        ("1e3", "不是数字"),
        (True, "不是数字"),
        (None, "不是数字"),
        ("", "不是数字"),
        (dt.date(2019, 1, 1), "不是数字"),
        (float("nan"), "不是数字"),
        (float("inf"), "不是数字"),
        (-5, "负数"),
        ("-5.00", "负数"),
        (0, "大于零"),
        (1e13, "过大"),
    ],
)
def test_money_refuses(value, fragment):
    with pytest.raises(ValidationError) as error:
        cells.money(value)
    assert fragment in message(error.value)


def test_money_message_names_the_value():
    with pytest.raises(ValidationError) as error:
        cells.money("一百元")
    assert "一百元" in message(error.value)


def test_money_zero_and_negative_when_allowed():
    assert cells.money(0, allow_zero=True) == Decimal("0.00")
    assert cells.money("-0.50", allow_negative=True) == Decimal("-0.50")
    assert str(cells.money("-0", allow_negative=True)) == "0.00"


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2))
def test_money_round_trips_as_float_and_text(amount):
    # Excel stores the number as a double; repr of that double is its shortest decimal text.
    assert cells.money(float(amount)) == amount
    assert cells.money(str(amount)) == amount
    assert cells.money(f"{amount:,}") == amount


# --- day --------------------------------------------------------------------------------------


def test_day_accepts_dates_midnight_datetimes_and_iso_text():
    assert cells.day(dt.date(2019, 3, 31)) == dt.date(2019, 3, 31)
    assert cells.day(dt.datetime(2019, 3, 31))  # noqa: DTZ001 - Excel dates are naive == dt.date(2019, 3, 31)
    assert cells.day(" 2019-3-31 ") == dt.date(2019, 3, 31)


@pytest.mark.parametrize(
    "value", ["2019/3/31", "2019/03/31", "2019.3.31", "2019年3月31日", "2019 年 3 月 31 日"]
)
def test_day_accepts_the_year_first_forms_clerks_type(value):
    assert cells.day(value) == dt.date(2019, 3, 31)


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("2019-02-30", "不存在"),
        ("31/03/2019", "格式不正确"),
        ("03/31/2019", "格式不正确"),
        ("2019/3-31", "格式不正确"),  # two separators
        ("2019年3月31", "格式不正确"),
        ("2019/2/30", "不存在"),
        ("2019年13月1日", "不存在"),
        (43555, "格式不正确"),  # an Excel serial number: the column was not a date
        (43555.0, "格式不正确"),
        (None, "格式不正确"),
        (dt.datetime(2019, 3, 31, 14, 5), "时间"),  # noqa: DTZ001
    ],
)
def test_day_refuses(value, fragment):
    with pytest.raises(ValidationError) as error:
        cells.day(value)
    assert fragment in message(error.value)


@given(st.dates())
def test_day_round_trips(value):
    assert cells.day(value) == value
    assert cells.day(value.isoformat()) == value
    assert cells.day(dt.datetime.combine(value, dt.time())) == value


# --- text, integer, choice, yes_no, required ---------------------------------------------------


def test_text_strips_and_turns_whole_floats_into_digits():
    assert cells.text("  张三 ", 10) == "张三"
    assert cells.text(13800138000.0, 20) == "13800138000"
    assert cells.text(12, 5) == "12"
    assert cells.text(None, 5) == ""


def test_text_too_long_names_value_and_limit():
    with pytest.raises(ValidationError) as error:
        cells.text("桂财行〔2018〕72号", 5)
    assert "桂财行" in message(error.value)
    assert "5" in message(error.value)


def test_text_refuses_nul():
    with pytest.raises(ValidationError):
        cells.text("a\x00b", 10)


@pytest.mark.parametrize("value, expected", [(2019, 2019), (2019.0, 2019), (" 2019 ", 2019)])
def test_integer_accepts(value, expected):
    assert cells.integer(value) == expected


@pytest.mark.parametrize("value", [2019.5, "二〇一九", True, None, "2019.0x", float("inf")])
def test_integer_refuses(value):
    with pytest.raises(ValidationError):
        cells.integer(value)


def test_integer_range():
    assert cells.integer(2019, minimum=1990, maximum=2100) == 2019
    with pytest.raises(ValidationError) as error:
        cells.integer(1989, minimum=1990, maximum=2100)
    assert "1989" in message(error.value)


def test_choice_by_label_and_alias_and_lists_allowed_values():
    assert cells.choice("中央财政", LABELS) == "central"
    assert cells.choice(" 自治区财政", LABELS) == "regional"
    with pytest.raises(ValidationError) as error:
        cells.choice("市财政", LABELS)
    text = message(error.value)
    assert "市财政" in text
    assert "中央财政、省级财政、自治区财政" in text


@pytest.mark.parametrize(
    "value, expected", [("是", True), ("否", False), (True, True), (0, False), (" 是 ", True)]
)
def test_yes_no(value, expected):
    assert cells.yes_no(value) is expected


def test_yes_no_refuses_other_text():
    with pytest.raises(ValidationError) as error:
        cells.yes_no("可能")
    assert "可能" in message(error.value)


def test_required():
    with pytest.raises(ValidationError) as error:
        cells.required("  ", cells.text, 10)
    assert error.value.code == "required"
    assert cells.required(" x ", cells.text, 10) == "x"
    assert cells.optional("", cells.money) is None
    assert cells.optional("", cells.money, default=Decimal(0)) == 0


# --- nothing but ValidationError, whatever the cell holds ------------------------------------


def _only_validation_errors(call):
    try:
        call()
    except ValidationError as error:
        assert error.messages and all(isinstance(m, str) and m for m in error.messages)


@settings(max_examples=300)
@given(CELL_VALUES)
def test_hostile_input_raises_only_validation_error(value):
    _only_validation_errors(lambda: cells.money(value))
    _only_validation_errors(lambda: cells.money(value, allow_negative=True))
    _only_validation_errors(lambda: cells.day(value))
    _only_validation_errors(lambda: cells.text(value, 20))
    _only_validation_errors(lambda: cells.integer(value, minimum=0, maximum=10))
    _only_validation_errors(lambda: cells.choice(value, LABELS))
    _only_validation_errors(lambda: cells.yes_no(value))
    _only_validation_errors(lambda: cells.required(value, cells.text, 20))


@given(CELL_VALUES)
def test_money_is_always_exact_cents(value):
    try:
        amount = cells.money(value)
    except ValidationError:
        return
    assert amount == amount.quantize(Decimal("0.01")) and amount > 0
    assert amount.as_tuple().exponent == -2


def test_text_takes_off_the_quote_exports_add_against_formulas():
    from orgs.spreadsheets import neutralise

    for value in ("=1+1", "-5 元", "+86", "@x", "'plain", "普通"):
        assert cells.text(neutralise(value), 20) == value


def test_messages_quote_values_as_excel_shows_them():
    """A boolean cell is TRUE in Excel, not Python's True; an 18-digit number lost its last
    digits but reads as digits, not 4.5010219810101e+17, and masked, as every ID, bank or phone
    number a message quotes (the admin shows the messages to who sees numbers masked)."""
    with pytest.raises(ValidationError) as error:
        cells.text(True, 10)
    assert "“TRUE”" in message(error.value)
    assert cells.shown(False) == "FALSE"
    assert cells.shown(4.5010219810101e17) == "450102********0000"
    assert cells.shown(6217000012345678) == "6217********5678"
    assert cells.shown("13800138000，0771") == "1******8000，0771"
    # amounts and dates are never that long: quoted as typed
    assert [cells.shown(v) for v in ("1234567.891", "2019-03-31")] == ["1234567.891", "2019-03-31"]


def test_english_lists_the_allowed_values_with_commas():
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as error:
        cells.choice("市财政", LABELS)
    assert "中央财政, 省级财政, 自治区财政" in message(error.value)
