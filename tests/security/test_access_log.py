"""The personal-data access log: written where full files are viewed, numbers revealed and
personal data exported; searchable but read-only in the admin, scoped to the county; pruned
only after the retention period, which cannot be set below six months."""

from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessLog as LoginLog
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orgs.models import AccessLog
from tests.households.conftest import dibao, make_household, walk  # noqa: F401

CHANGELIST = "admin:orgs_accesslog_changelist"


@pytest.fixture
def household(make_household):  # noqa: F811
    return make_household()


def test_viewing_revealing_and_exporting_are_logged(login, users, household):
    clerk = login("clerk_450102")
    clerk.get(reverse("households:detail", args=[household.pk]))
    clerk.post(reverse("households:reveal", args=[household.pk]))
    today = timezone.localdate().isoformat()
    export = clerk.get(reverse("reports:roster"), {"org": "450102", "on": today, "format": "xlsx"})
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
    logged = list(AccessLog.objects.order_by("pk").values_list("action", "user__username"))
    assert logged == [
        ("view_file", "clerk_450102"),
        ("reveal", "clerk_450102"),
        ("export", "clerk_450102"),
    ]
    reveal = AccessLog.objects.get(action="reveal")
    assert reveal.organisation == household.organisation
    assert reveal.target == f"households.Household:{household.pk}"
    assert reveal.ip_address == "127.0.0.1"


def test_a_refused_reveal_is_not_logged_as_a_reveal(login, household):
    response = login("viewer_450100").post(reverse("households:reveal", args=[household.pk]))
    assert response.status_code == 403
    assert not AccessLog.objects.filter(action="reveal").exists()


def test_administrators_search_and_filter_the_log(login, users, household):
    login("clerk_450102").get(reverse("households:detail", args=[household.pk]))
    login("supervisor_450102").post(reverse("households:reveal", args=[household.pk]))
    admin = login("admin_450102")
    url = reverse(CHANGELIST)
    page = admin.get(url, {"q": "supervisor_450102"})
    assert page.status_code == 200
    rows = list(page.context["cl"].result_list)
    assert [row.action for row in rows] == ["reveal"]
    # The file by its name and number, a link to it, not "households.Household:<pk>".
    link = reverse("admin:households_household_change", args=[household.pk])
    assert f'<a href="{link}">困难职工档案 {household.pk}</a>' in page.content.decode()
    assert "households.Household:" not in page.content.decode()
    filters = {spec.title for spec in page.context["cl"].filter_specs}
    assert {"操作", "时间", "用户"} <= {str(title) for title in filters}
    today = timezone.localdate()
    by_day = admin.get(
        url, {"at__year": today.year, "at__month": today.month, "at__day": today.day}
    )
    assert len(by_day.context["cl"].result_list) == 2
    by_action = admin.get(url, {"action__exact": "view_file"})
    assert [row.action for row in by_action.context["cl"].result_list] == ["view_file"]


def test_the_log_is_read_only_even_for_a_superuser(client, users, household):
    from orgs.models import User

    login_entry = AccessLog.objects.create(user=users["clerk_450102"], action="reveal", target="x")
    root = User.objects.create_superuser("root", password="Zq8#kLm2pW-root")
    client.force_login(root)
    change = client.get(reverse("admin:orgs_accesslog_change", args=[login_entry.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.get(reverse("admin:orgs_accesslog_add")).status_code == 403
    delete = client.post(
        reverse("admin:orgs_accesslog_delete", args=[login_entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert AccessLog.objects.filter(pk=login_entry.pk).exists()


def test_another_county_does_not_see_the_entries(login, users, household):
    login("clerk_450102").get(reverse("households:detail", args=[household.pk]))
    page = login("admin_450103").get(reverse(CHANGELIST))
    assert list(page.context["cl"].result_list) == []


def test_id_searches_are_filed_under_the_searchers_organisation(login, users, household):
    """A search by ID number of whoever sees numbers masked is logged to show guessing: filed
    with no organisation, no administrator's log (scoped by organisation) ever listed it."""
    login("viewer_450100").post(reverse("households:list"), {"q": household.id_number})
    entry = AccessLog.objects.get(action=AccessLog.Action.ID_SEARCH)
    assert (entry.user, entry.organisation) == (
        users["viewer_450100"],
        users["viewer_450100"].organisation,
    )
    region = login("admin_450000").get(reverse(CHANGELIST))
    assert list(region.context["cl"].result_list) == [entry]
    county = login("admin_450102").get(reverse(CHANGELIST))  # the city's viewer is above it
    assert list(county.context["cl"].result_list) == []


# --- Retention ----------------------------------------------------------------------------------


def age(entry, days):
    AccessLog.objects.filter(pk=entry.pk).update(at=timezone.now() - timedelta(days=days))


def test_prune_deletes_only_entries_past_the_retention(users):
    old = AccessLog.objects.create(user=users["clerk_450102"], action="view_file", target="a")
    kept = AccessLog.objects.create(user=users["clerk_450102"], action="view_file", target="b")
    age(old, 401)
    age(kept, 399)
    login = LoginLog.objects.create(username="clerk_450102", ip_address="10.0.0.1")
    LoginLog.objects.filter(pk=login.pk).update(attempt_time=timezone.now() - timedelta(days=500))

    out = StringIO()
    call_command("prune_access_log", "--dry-run", stdout=out)
    assert AccessLog.objects.count() == 2 and LoginLog.objects.count() == 1
    assert "1 条" in out.getvalue()

    call_command("prune_access_log", stdout=StringIO())
    assert list(AccessLog.objects.values_list("target", flat=True)) == ["b"]
    assert not LoginLog.objects.exists()


@override_settings(ACCESS_LOG_RETENTION_DAYS=190)
def test_retention_is_a_setting(users):
    entry = AccessLog.objects.create(user=users["clerk_450102"], action="view_file", target="a")
    age(entry, 191)
    call_command("prune_access_log", stdout=StringIO())
    assert not AccessLog.objects.exists()


@override_settings(ACCESS_LOG_RETENTION_DAYS=182)
def test_retention_below_six_months_is_refused(users):
    entry = AccessLog.objects.create(user=users["clerk_450102"], action="view_file", target="a")
    age(entry, 300)
    with pytest.raises(CommandError, match="六个月"):
        call_command("prune_access_log", stdout=StringIO())
    assert AccessLog.objects.exists()


def test_default_retention_is_400_days(settings):
    assert settings.ACCESS_LOG_RETENTION_DAYS == 400


def test_a_target_is_a_link_only_where_the_administrator_may_open_it(login, orgs, household):
    """A file moved to another county since, or gone, stays named in the county's log, not
    linked: its admin page would answer 404 there."""
    login("clerk_450102").get(reverse("households:detail", args=[household.pk]))
    gone = household.pk + 1000
    AccessLog.objects.create(
        user=household.created_by,
        action="view_file",
        target=f"households.Household:{gone}",
        organisation=household.organisation,
    )
    link = reverse("admin:households_household_change", args=[household.pk])
    admin = login("admin_450102")
    body = admin.get(reverse(CHANGELIST)).content.decode()
    assert f'<a href="{link}">困难职工档案 {household.pk}</a>' in body
    assert f"困难职工档案 {gone}" in body
    assert reverse("admin:households_household_change", args=[gone]) not in body

    type(household).objects.filter(pk=household.pk).update(organisation=orgs["450103"])
    body = admin.get(reverse(CHANGELIST)).content.decode()
    assert f"困难职工档案 {household.pk}" in body and link not in body
    assert admin.get(link).status_code in (302, 404)  # where the link would have led


def test_the_log_checks_its_page_of_targets_together(login, users, make_household):  # noqa: F811
    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert login("admin_450102").get(reverse(CHANGELIST)).status_code == 200
        return len(queries)

    clerk = users["clerk_450102"]
    first = make_household()
    AccessLog.objects.create(
        user=clerk, action="view_file", target=f"households.Household:{first.pk}"
    )
    page_queries()  # caches warmed (the user's permissions, the site's settings)
    one = page_queries()
    for _n in range(5):
        other = make_household()
        AccessLog.objects.create(
            user=clerk, action="view_file", target=f"households.Household:{other.pk}"
        )
    assert page_queries() == one
