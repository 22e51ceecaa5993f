"""Query strings and action posts that Django's admin does not check answer as it answers other
invalid input, on every registered admin: a filter it cannot run redirects to `?e=1` (Django's
"invalid lookup" page), an action on ids that cannot exist selects nothing. Never a 500."""

import io

import openpyxl
import pytest
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from orgs.models import User
from services.models import Window

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
BIG = "99999999999999999999"  # 20 digits: past 64 bits (OverflowError on SQLite)


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def bad_queries(model, model_admin) -> list[str]:
    """Dates past year 9999 and ids past 64 bits, on every date and relation of the model (any
    lookup on a local field or across one relation is allowed in the admin), and date hierarchy
    drill-downs that Django accepts but cannot turn into a date range."""
    queries = [f"{model._meta.pk.name}__in=1,{BIG}"]
    for field in model._meta.concrete_fields:
        if isinstance(field, models.DateField):  # DateTimeField too
            queries += [f"{field.name}__year=10000", f"{field.name}__year={BIG}"]
        elif field.is_relation:
            queries.append(f"{field.name}__{field.target_field.name}__in={BIG}")
    if hierarchy := model_admin.date_hierarchy:
        queries += [
            f"{hierarchy}__year={year}&{hierarchy}__month={month}&{hierarchy}__day={day}"
            for year, month, day in [(9999, 12, 31), (2025, 13, 1), (2025, 2, 30), (BIG, 1, 1)]
        ]
        queries += [f"{hierarchy}__year=9999", f"{hierarchy}__year=9999&{hierarchy}__month=12"]
    return queries


@pytest.fixture
def root(client, db):
    user = User.objects.create_superuser("root", password="x")
    client.force_login(user)
    return client


def test_the_reported_queries_answer_as_invalid_filters(root):
    for query in [
        "created_at__year=99999",
        "status_changed_on__year=10000",
        f"organisation__id__in=1,{BIG}",
    ]:
        response = root.get(f"/admin/households/household/?{query}")
        assert (response.status_code, response.url) == (302, "/admin/households/household/?e=1")
    response = root.get("/admin/orgs/holiday/?date__year=2025&date__month=13")
    assert (response.status_code, response.url) == (302, "/admin/orgs/holiday/?e=1")
    # Django itself answers an `exact` id past 64 bits: nothing matches it.
    response = root.get(f"/admin/households/household/?organisation__id__exact={BIG}")
    assert (response.status_code, response.context["cl"].result_count) == (200, 0)


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_bad_filters_redirect_to_the_invalid_lookup_page(root, model, model_admin):
    url = changelist(model)
    for query in bad_queries(model, model_admin):
        response = root.get(f"{url}?{query}")
        assert response.status_code == 302, query
        assert response.url == f"{url}?e=1", query


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_actions_on_ids_that_cannot_exist_select_nothing(root, model, model_admin):
    request = RequestFactory().get("/")
    request.user = User.objects.get(username="root")
    url = changelist(model)
    for action in list(model_admin.get_actions(request)) or ["delete_selected"]:  # else ignored
        # What Django says when an action is posted with nothing selected.
        nothing = root.post(url, {"action": action, "index": "0"}, follow=True)
        expected = [str(message) for message in nothing.context["messages"]]
        for selected in ["abc", BIG, ["1", "abc"]]:
            for index in [{"index": "0"}, {}]:  # the list's form, an intermediate page's form
                data = {"action": action, "_selected_action": selected, **index}
                response = root.post(url, data, follow=True)
                assert response.status_code == 200, (action, selected)
                shown = [str(message) for message in response.context["messages"]]
                assert shown == expected, (action, selected)


EXPORTING = [(model, admin) for model, admin in REGISTERED if isinstance(admin, ExportMixin)]


@pytest.mark.parametrize(
    ("model", "model_admin"), EXPORTING, ids=[m._meta.label for m, _ in EXPORTING]
)
def test_bad_filters_of_an_export_redirect_to_the_invalid_lookup_page(root, model, model_admin):
    """django-import-export's export page filters through the changelist's ChangeList."""
    url = changelist(model)
    for query in ["id__in=abc", "nosuch=1", "id__exact=abc", *bad_queries(model, model_admin)]:
        response = root.get(f"{url}export/?{query}")
        assert response.status_code == 302, query
        assert response.url == f"{url}?e=1", query


def test_a_valid_filter_still_narrows_the_export(root):
    response = root.get("/admin/households/cause/export/?code__exact=illness")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["illness"]


HISTORIES = [(model, admin) for model, admin in REGISTERED if isinstance(admin, SimpleHistoryAdmin)]


@pytest.mark.parametrize(
    ("model", "model_admin"), HISTORIES, ids=[m._meta.label for m, _ in HISTORIES]
)
def test_histories_of_ids_that_cannot_exist_are_not_found(root, model, model_admin):
    """django-simple-history's pages take the record's id and the version's from the URL."""
    url = changelist(model)
    for path in ["abc/history/", "abc/history/1/", f"{BIG}/history/", f"{BIG}/history/1/"]:
        assert root.get(f"{url}{path}").status_code == 404, path


def test_a_version_that_cannot_exist_is_not_found(root):
    window = Window.objects.order_by("pk").first()
    window.save()  # a version
    url = f"{changelist(Window)}{window.pk}/history/"
    assert root.get(f"{url}{window.history.latest().history_id}/").status_code == 200
    for version in ["abc", "1.5", BIG]:
        assert root.get(f"{url}{version}/").status_code == 404, version


def test_an_organisation_filter_that_is_no_number_matches_nothing(root, orgs):
    for value in ["²", "abc"]:  # "²" passes str.isdigit(), not int()
        response = root.get(f"/admin/households/household/?org={value}")
        assert (response.status_code, response.context["cl"].result_count) == (200, 0)
