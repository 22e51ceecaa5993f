"""orgs.pii.mask_numbers: every run of 8 to 30 digits in free text (a document's file name, an
import message) is masked, dates of 8 digits included: an 8-digit bank account or landline may
read as one, and a birth date is what an ID number's mask hides. Dates with separators, amounts
and shorter runs stay as typed."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgs.pii import mask, mask_numbers


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("450102199001011234身份证.pdf", "450102********1234身份证.pdf"),  # ID, 18
        ("450102900101123户口簿.jpg", "450********1123户口簿.jpg"),  # old ID, 15
        ("45010219900101123X.pdf", "450102********123X.pdf"),
        ("诊断证明13812345678.pdf", "诊断证明1******5678.pdf"),  # phone, 11
        ("6222020200112233445 银行卡.jpg", "622202*********3445 银行卡.jpg"),  # bank, 19
        ("存折12345678.jpg", "存折****5678.jpg"),  # the shortest bank account accepted
        # An 8-digit date is masked as well: it may be such an account, or a birth date.
        ("诊断证明20190331.pdf", "诊断证明****0331.pdf"),
        ("出生医学证明19900101.pdf", "出生医学证明****0101.pdf"),
        # Dates with separators, amounts and short runs are no such number.
        ("收入证明2019-03-31.pdf", "收入证明2019-03-31.pdf"),
        ("收入证明2019.03.31.pdf", "收入证明2019.03.31.pdf"),
        ("医疗费1234567.89元", "医疗费1234567.89元"),
        ("电话5551234", "电话5551234"),
        ("1" * 31, "1" * 31),  # longer than any number of a person
    ],
)
def test_what_is_masked(text, shown):
    assert mask_numbers(text) == shown


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_no_birth_date_completes_a_masked_id_number(day):
    """An ID number's mask hides exactly its 8 birth-date digits: a file name giving the date as
    8 digits, shown to the same readers beside the mask, would give the whole number away."""
    digits = day.strftime("%Y%m%d")
    number = f"450102{digits}1234"
    assert mask(number) == "450102********1234"
    assert digits not in mask_numbers(f"出生证明{digits}.pdf")


@given(st.text(alphabet="0123456789", min_size=8, max_size=30))
def test_every_run_of_8_to_30_digits_is_masked(run):
    """As households.services accepts a bank account of 8 to 30 digits."""
    shown = mask_numbers(f"材料{run}.pdf")
    assert shown == f"材料{mask(run)}.pdf" and run not in shown
