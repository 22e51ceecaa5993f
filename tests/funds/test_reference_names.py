"""Reference rows in the reader's language: the seeded causes, categories, fund sources,
assistance types and windows show in English on English pages; a name an administrator typed
shows as typed; workbooks and documents keep the stored Chinese names whatever the language."""

import io
from datetime import date

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from funds.models import AssistanceType, FundSource
from households.exports import export_households
from households.models import Category, Cause
from orgs.reference import translated_name
from services.models import Window

YEAR = timezone.localdate().year


def english(login, username):
    client = login(username)
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.parametrize(
    ("model", "code", "chinese", "english_name"),
    [
        (Cause, "illness", "因病", "Illness"),
        (Category, "near_dibao", "低保边缘户", "Near-dibao household"),
        (FundSource, "central", "中央财政", "Central government funds"),
        (AssistanceType, "medical", "医疗救助", "Medical aid"),
        (Window, "petition", "信访接待", "Petitions"),
    ],
)
def test_each_seeded_name_reads_in_the_interface_language(db, model, code, chinese, english_name):
    row = model.objects.get(code=code)
    assert str(row) == chinese
    with translation.override("en"):
        assert str(row) == english_name
    assert row.name == chinese  # what is stored, exported and reported


def test_a_name_typed_by_an_administrator_shows_as_typed(db):
    cause = Cause.objects.get(code="other")
    cause.name = "因工伤残"
    with translation.override("en"):
        assert str(cause) == "因工伤残"
        assert translated_name("") == ""  # not the catalogue's header


def test_english_pages_name_the_cause_category_type_and_source(login, filed, receive, ask, users):
    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed(category="deep")
    request = ask(household, "300.00", kind="medical", on=date(YEAR, 1, 5))
    client = english(login, "clerk_450102")
    detail = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert "<dd>Illness</dd>" in detail and "<dd>Deep hardship</dd>" in detail
    assert "<dd>因病</dd>" not in detail and "深度困难" not in detail
    listing = client.get(reverse("households:list")).content.decode()
    assert "<td>Illness</td>" in listing and "<td>Deep hardship</td>" in listing
    assert ">Illness</option>" in listing  # the cause filter
    page = client.get(reverse("funds:request_detail", args=[request.pk])).content.decode()
    assert "Medical aid" in page and "Central government funds" in page
    assert "医疗救助" not in page
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert "<dd>因病</dd>" in chinese


def test_an_export_in_english_keeps_the_chinese_names_it_reimports_by(db, users, make_household):
    make_household(category=Category.objects.get(code="deep"))
    with translation.override("en"):
        data = export_households(user=users["clerk_450102"])
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["households"]
    header, row = list(sheet.iter_rows(min_row=1, max_row=2, values_only=True))
    assert row[header.index("主要致困原因")] == "因病"
    assert row[header.index("困难类别")] == "深度困难"


def test_asides_in_brackets_follow_the_language(db, orgs, types):
    from orgs.text import aside

    county = orgs["450102"]
    assert str(county) == "兴宁区总工会（450102）"
    assert aside(types["medical"], "重大疾病") == "医疗救助（重大疾病）"
    with translation.override("en"):
        assert str(county) == "兴宁区总工会 (450102)"
        assert aside(types["medical"], "Serious illness") == "Medical aid (Serious illness)"


def test_the_funds_cards_count_one_request_in_the_singular(login, filed, receive, ask):
    receive("10000.00", on=date(YEAR, 1, 2))
    ask(filed(), "100.00", kind="living", on=date(YEAR, 1, 5))
    page = english(login, "finance_450102").get(reverse("funds:index")).content.decode()
    assert "1</a> request<" in page and "0</a> requests<" in page


def test_an_approval_reads_as_a_decision_taken(db):
    from funds.models import Approval

    with translation.override("en"):
        assert str(Approval.Decision.APPROVE.label) == "Approved"
        assert str(Approval.Decision.REJECT.label) == "Not approved"
    assert str(Approval.Decision.APPROVE.label) == "批准"
