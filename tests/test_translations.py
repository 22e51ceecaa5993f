import re

import pytest

from scripts.check_translations import catalogues, problems


def test_english_catalogues_are_complete():
    assert list(catalogues()), "no message catalogues found"
    assert problems() == []


def test_the_chinese_admin_names_the_third_party_apps_in_chinese(login, db):
    """django-axes ships no Chinese and django-simple-history misses a header: the admin of a
    Chinese deployment showed "Axes", "Access attempts", "Access logs" and "CHANGES"."""
    from django.apps import apps
    from django.urls import reverse

    page = login("admin_450102").get(reverse("admin:index")).content.decode()
    assert "登录保护" in page and "访问尝试" in page and "登录记录" in page
    assert "Axes" not in page and "Access attempts" not in page
    assert "Model name" not in page  # the index tables' headers for screen readers
    page = login("admin_450102").get(reverse("admin:orgs_user_add")).content.decode()
    assert "创建用户后，可以编辑更多的用户选项。" in page
    # The roles to tick under their names, not the group codes in an English picker.
    assert 'type="checkbox" name="groups"' in page and "录入员" in page and "审核审批" in page
    assert "Choose all" not in page and "SelectFilter" not in page
    # orgs.apps holds two configurations now: the app keeps its own (and its role sync).
    assert type(apps.get_app_config("orgs")).__name__ == "OrgsConfig"


def test_the_chinese_admin_scripts_have_the_strings_django_left_untranslated(login, db):
    """The group page's two-box permission picker read "Choose all 权限" in a Chinese admin:
    Django 5.2's Chinese JavaScript catalogue lacks its newer strings; the project adds them."""
    from django.urls import reverse

    script = login("admin_450000").get(reverse("admin:jsi18n")).content.decode()
    script = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m[1], 16)), script)  # JSON escapes
    assert "选择全部%s" in script and "移除选中的%s" in script and "（点击清除）" in script
    assert "全选" in script  # Django's own translations are still there


def test_the_english_admin_names_one_thing_in_the_singular_and_many_in_the_plural(login, db):
    """The Chinese model names serve for one and many; English needs both forms."""
    from django.apps import apps
    from django.urls import reverse
    from django.utils import translation

    with translation.override("en"):
        for model in apps.get_models():
            if model.__module__.split(".")[0] not in {"orgs", "households", "funds", "services"}:
                continue
            meta = model._meta
            assert str(meta.verbose_name) != str(meta.verbose_name_plural), meta.label
    client = login("supervisor_450102")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:households_household_changelist")).content.decode()
    assert "Select household file to view" in page or "Select household file to change" in page
    assert "Household files" in client.get(reverse("admin:index")).content.decode()


def test_english_counts_say_one_thing_in_the_singular(db):
    """ "1 household(s)" read badly: the counted messages have both English forms."""
    from django.utils import translation

    from households.admin import APPROVE_APPLICATIONS, REJECT_CLOSURES

    with translation.override("en"):
        assert str(APPROVE_APPLICATIONS.done_message % {"count": 1}) == "Approved 1 file."
        assert str(APPROVE_APPLICATIONS.done_message % {"count": 3}) == "Approved 3 files."
        assert "1 closure request." in str(REJECT_CLOSURES.done_message % {"count": 1})


@pytest.mark.parametrize(
    "username, changelist, filters",
    [
        ("supervisor_450102", "households_transition", ["By action"]),
        ("admin_450102", "orgs_accesslog", ["By action"]),
        ("supervisor_450102", "imports_importjob", ["By action", "By data"]),
    ],
)
def test_english_admin_filters_name_the_field_in_lowercase(login, username, changelist, filters):
    """ "By Action", "By Data": the English verbose names are lowercase, as Django's own; the
    admin capitalises them where a heading needs it (column headers, form labels)."""
    from django.urls import reverse

    client = login(username)
    client.cookies["django_language"] = "en"
    page = client.get(reverse(f"admin:{changelist}_changelist")).content.decode()
    titles = re.findall(r"<summary>\s*(By [^<]*?)\s*</summary>", page)
    assert set(filters) <= set(titles), titles


def test_english_verbose_names_are_lowercase_and_capitalised_where_they_head(db):
    from django.utils import translation

    from households.models import Transition
    from imports.models import ImportJob
    from orgs.models import AccessLog
    from services.models import CaseEvent

    with translation.override("en"):
        assert str(Transition._meta.get_field("action").verbose_name) == "action"
        assert str(AccessLog._meta.get_field("action").verbose_name) == "action"
        assert str(CaseEvent._meta.get_field("action").verbose_name) == "action"
        assert str(ImportJob._meta.get_field("operation").verbose_name) == "action"
        assert str(ImportJob._meta.get_field("kind").verbose_name) == "data"


def test_login_records_are_named_in_the_interface_language(login, db):
    """django-axes names its rows in English ("Attempted Access: 2026-12-07 08:01:02.1+00:00"):
    the titles of their admin pages were English on Chinese pages."""
    from axes.models import AccessAttempt
    from django.urls import reverse

    attempt = AccessAttempt.objects.create(
        username="clerk_450102", ip_address="192.0.2.1", user_agent="t", http_accept="*/*",
        path_info="/accounts/login/", get_data="", post_data="", failures_since_start=1,
    )  # fmt: skip
    client = login("admin_450102")
    url = reverse("admin:axes_accessattempt_change", args=[attempt.pk])
    page = client.get(url).content.decode()
    assert "clerk_450102 的登录失败（" in page and "Attempted Access" not in page
    client.cookies["django_language"] = "en"
    assert "Failed login of clerk_450102 (" in client.get(url).content.decode()


def test_the_chinese_admin_search_box_is_labelled_in_chinese(login, db):
    """The magnifier of the search box (the project's own search form) said alt="Search"."""
    from django.urls import reverse

    page = login("supervisor_450102").get(reverse("admin:households_household_changelist"))
    assert 'alt="搜索"' in page.content.decode() and 'alt="Search"' not in page.content.decode()


def test_a_word_read_two_ways_keeps_both_readings_in_english(db):
    """提示 is the one-project rule's choice (warn rather than block) and the warnings a request
    carries: one English word for both labelled a request's warnings, and the batch preview's
    column of them, "Warn"."""
    from django.utils import translation

    from funds.models import AssistanceRequest, OneProjectRule

    with translation.override("en"):
        assert str(OneProjectRule.WARN.label) == "Warn"
        assert str(AssistanceRequest._meta.get_field("warnings").verbose_name) == "Warnings"


def test_one_chinese_word_reads_as_each_page_means_it_in_english(db):
    """说明 is a closing note, a course's description, an access-log entry's detail, a template's
    column explaining each column and a workbook's notes sheet; one English word for all of them
    (it was "Detail") read wrong on most of those pages. 删除 heads the count of rows an import
    removes ("Delete" read as a button) and 单位 is the organisation a report row is about."""
    from django.utils import translation

    from funds.models import ClosedYear
    from orgs.models import AccessLog
    from services.models import TrainingCourse

    with translation.override("en"):
        assert str(ClosedYear._meta.get_field("note").verbose_name) == "Note"
        assert str(TrainingCourse._meta.get_field("description").verbose_name) == "Description"
        assert str(AccessLog._meta.get_field("detail").verbose_name) == "Detail"
        # Looked up by another name: makemessages would list these calls as the tests' own.
        in_context, plain = translation.pgettext, translation.gettext
        assert in_context("template column", "说明") == "Meaning"
        assert in_context("workbook sheet", "说明") == "Notes"
        assert in_context("rows of an import", "删除") == "Removed"
        assert plain("单位") == "Organisation"
