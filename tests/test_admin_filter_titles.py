"""The admin's filter titles read inside "By …" in English ("By status", not "By Status"), while
the same names keep their capital where they head a column or a form."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from households.models import Household
from orgs.models import User
from orgs.text import in_sentence

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.fixture
def english(client, orgs):
    client.force_login(User.objects.create_superuser("root", password="x"))  # every filter
    client.cookies["django_language"] = "en"
    return client


def filter_titles(page: str) -> list[str]:
    return re.findall(r"<summary>\s*By (.*?)\s*</summary>", page, re.S)


def test_a_label_in_a_sentence():
    assert in_sentence("Status") == "status"
    assert in_sentence("Attempt Time") == "attempt time"  # django-axes' title case
    assert in_sentence("Make-up working day") == "make-up working day"
    assert in_sentence("ID number") == "ID number"
    assert in_sentence("状态") == "状态"


def test_the_reported_filters_read_in_lower_case(english):
    page = english.get(reverse("admin:households_household_changelist")).content.decode()
    titles = filter_titles(page)
    assert {"status", "primary cause", "hardship category", "organisation"} <= set(titles)
    with translation.override("en"):  # the name itself keeps its capital, for the headings
        assert str(Household._meta.get_field("status").verbose_name) == "Status"
    years = filter_titles(
        english.get(reverse("admin:funds_ledgerentry_changelist")).content.decode()
    )
    assert "year" in years


@pytest.mark.parametrize("model", REGISTERED, ids=[m._meta.label for m in REGISTERED])
def test_no_filter_title_is_capitalised_in_english(english, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    titles = filter_titles(english.get(url).content.decode())
    assert [title for title in titles if re.search(r"\b[A-Z][a-z]", title)] == []


def test_chinese_filter_titles_are_unchanged(client, orgs):
    client.force_login(User.objects.get(username="supervisor_450102"))
    page = client.get(reverse("admin:households_household_changelist")).content.decode()
    assert re.search(r"<summary>\s*以 状态\s*</summary>", page)
