"""The permission matrix (tests/security/matrix.py) against the running site.

The URLconf is walked as tests/test_urls.py does, so a page or admin action missing from the
table fails here. Then every URL is requested by every role (GET, and an empty POST where the
table says so, each POST rolled back), anonymous included, and by the same roles from another
county for county A's records. Responses that a role may read are also searched for what it must
never see: county B's names on a county A user's page, a full ID number on a viewer's page."""

import re
from io import BytesIO

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from orgs.models import User
from tests.security.matrix import (
    ADMIN_ACTIONS,
    ADMIN_MODELS,
    LOGIN,
    MATRIX,
    OK,
    ROLES,
    expected,
    roles_of,
)
from tests.security.world import B_MARKER, IN_SCOPE, OUT_OF_SCOPE

LOGIN_PAGES = ("/accounts/login/", "/admin/login/")


# --- The table covers the site ------------------------------------------------------------------


def _route(pattern) -> str:
    route = getattr(pattern.pattern, "_route", None)
    return route if route is not None else pattern.pattern.regex.pattern.lstrip("^")


def url_keys(patterns=None, prefix="/", namespace=""):
    """Every URL pattern as the matrix names it: "namespace:name", or its route if unnamed."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_keys(pattern.url_patterns, prefix + _route(pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else prefix + _route(pattern)


def test_every_url_is_in_the_matrix():
    site = set(url_keys())
    table = {name.split("[")[0] for name in MATRIX}
    assert not site - table, f"URLs missing from tests/security/matrix.py: {sorted(site - table)}"
    assert not table - site, f"matrix rows for URLs that no longer exist: {sorted(table - site)}"


def test_every_admin_action_and_model_is_in_the_matrix():
    registered = {
        model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()
    }
    assert set(ADMIN_MODELS) == set(registered)
    actions = set()
    for label, model_admin in registered.items():
        for _func, name, _description in model_admin._get_base_actions():
            actions.add(f"{label}:{name}")
    assert actions == set(ADMIN_ACTIONS)


# --- Requests -----------------------------------------------------------------------------------


def url_for(name: str, rule, world) -> str:
    args = [world.get(arg, arg) if isinstance(arg, str) else arg for arg in rule.args]
    if name.startswith("/"):
        if "(?P<url>" in name:
            return "/admin/no-such-page/"
        return re.sub(r"<[^>]+>", str(args[0]), name)
    url = reverse(name.split("[")[0], args=args)
    return f"{url}?{rule.query.format_map(world)}" if rule.query else url


def body_text(response) -> str:
    """What a reader of the response sees: the page, the cells of an Excel download or the
    text of a PDF."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(BytesIO(content), read_only=True)
        return " ".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    if kind.startswith(("text/", "application/json")):
        return content.decode("utf-8", "replace")
    # A PDF rendered here (the file form, a notice): its text. An uploaded document is streamed
    # from storage as it was uploaded, and is not read.
    if kind == "application/pdf" and not response.streaming:
        from tests.households.test_notice_pdf import pdftotext

        return pdftotext(content)
    return ""


def matches(outcome, response) -> bool:
    status = response.status_code
    location = response.get("Location", "")
    if outcome == LOGIN:
        return status == 302 and location.startswith(LOGIN_PAGES)
    if outcome == OK:
        return status == 200 or (status in (302, 303) and not location.startswith(LOGIN_PAGES))
    return status == outcome


def describe(response) -> str:
    location = response.get("Location")
    return f"{response.status_code}" + (f" → {location}" if location else "")


def request(client, method, url):
    if method == "get":
        return client.get(url)
    with transaction.atomic():  # whatever an allowed POST writes is undone
        response = client.post(url, {})
        transaction.set_rollback(True)
    return response


def check_leaks(name, role, elsewhere, response, world, problems):
    if response.status_code != 200:
        return
    text = body_text(response)
    if role == "viewer":
        # Upper-level unions read aggregates and masked lists, never a full ID number.
        shown = [number for number in world["full_numbers"] if number in text]
        if shown:
            problems.append(f"{name}: the viewer sees full ID numbers {shown}")
    elif not elsewhere and B_MARKER in text:
        problems.append(f"{name}: {IN_SCOPE[role]} sees county B's {B_MARKER}")


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(name, world, db):
    rule = MATRIX[name]
    if rule.xfail:
        pytest.xfail(rule.xfail)
    url = url_for(name, rule, world)
    client_of = world["clients"]
    problems = []
    for method in ("get", "post"):
        if getattr(rule, method) is None:
            continue
        people = [(None, None, False)]
        people += [(role, IN_SCOPE[role], False) for role in ROLES]
        if rule.scoped:
            # other counties: the roles that would get through, and any role when the record
            # is looked up first (a refused role of county A's gets 403 before any lookup)
            allowed = roles_of(getattr(rule, method))
            people += [
                (role, OUT_OF_SCOPE[role], True)
                for role in ROLES
                if role in allowed or rule.lookup_first
            ]
        for role, username, elsewhere in people:
            response = request(client_of(username), method, url)
            want = expected(name, rule, method, role, elsewhere=elsewhere)
            if not matches(want, response):
                who = username or "anonymous"
                problems.append(f"{method.upper()} {who}: want {want}, got {describe(response)}")
            if method == "get" and role is not None:
                check_leaks(name, role, elsewhere, response, world, problems)
    assert not problems, f"{name} {url}\n" + "\n".join(problems)


# --- Admin actions -------------------------------------------------------------------------------


def changelist(label: str) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_changelist")


CONFIRMATION = ('name="post" value="yes"', 'name="confirm" value="yes"')


@pytest.mark.parametrize("key", sorted(ADMIN_ACTIONS))
def test_admin_action(key, world, db):
    """Choosing an action for a selected record shows its confirmation page to the roles it
    belongs to, without the record to another county; the others are sent back to the list,
    to a login (not staff) or refused (no view right). And a forged confirmation (the final
    POST, valid reason included) from anybody the action is not for changes nothing."""
    label, action = key.split(":")
    spec = ADMIN_ACTIONS[key]
    model_admin = ADMIN_MODELS[label]
    model = apps.get_model(label)
    pk = world[spec.target]
    url = changelist(label)
    selected = f'name="_selected_action" value="{pk}"'
    choose = {"action": action, "_selected_action": [pk], "index": 0, "select_across": 0}
    forged = {"action": action, "_selected_action": [pk], "post": "yes", "confirm": "yes",
              "reason": "同意", "override": ""}  # fmt: skip

    def snapshot():
        row = model._base_manager.filter(pk=pk).values().first()
        return row and {k: v for k, v in row.items() if k != "last_login"}  # signing in sets it

    before = snapshot()
    problems = []
    people = [(None, "anonymous", False)]
    people += [(role, IN_SCOPE[role], False) for role in ROLES]
    people += [(role, OUT_OF_SCOPE[role], True) for role in ROLES]
    for role, who, elsewhere in people:
        client = world["clients"](None if role is None else who)
        allowed = role in roles_of(spec.allowed) and not (elsewhere and spec.scoped)
        with transaction.atomic():
            response = client.post(url, choose)
            again = client.post(url, forged)
            after = snapshot()
            transaction.set_rollback(True)
        page = response.content.decode() if response.status_code == 200 else ""
        confirmation = any(marker in page for marker in CONFIRMATION)
        if role not in ("supervisor", "finance", "admin"):
            ok, want = matches(LOGIN, response), LOGIN
        elif role not in roles_of(model_admin.view):
            ok, want = response.status_code == 403, 403
        elif role not in roles_of(spec.allowed):
            ok = not confirmation and response.status_code in (200, 302)
            want = "no confirmation"
        elif elsewhere and spec.scoped:
            ok = response.status_code == 200 and selected not in page
            want = "a confirmation without the record"
        else:
            ok = confirmation and selected in page
            want = "a confirmation with the record"
        if not ok:
            problems.append(f"{who}: want {want}, got {describe(response)}")
        if not allowed and after != before:
            problems.append(f"{who}: a forged confirmation changed the record ({describe(again)})")
    assert not problems, f"{key}\n" + "\n".join(problems)


# --- The national holiday calendar --------------------------------------------------------------


def test_the_national_calendar_is_read_only_below_the_top(world, db, client):
    from orgs.models import Holiday

    national = Holiday.objects.filter(organisation=None).first()
    change = reverse("admin:orgs_holiday_change", args=[national.pk])
    county = world["clients"]("admin_450102")
    assert county.get(change).status_code == 200  # shown, read-only
    assert county.post(change, {"date": national.date, "name": "改名"}).status_code == 403
    delete = reverse("admin:orgs_holiday_delete", args=[national.pk])
    assert county.get(delete).status_code == 403
    response = county.post(
        reverse("admin:orgs_holiday_add"),
        {"date": "2026-12-31", "name": "自定", "organisation": ""},
    )
    assert (
        response.status_code == 200 and "organisation" in response.context["adminform"].form.errors
    )
    assert not Holiday.objects.filter(name="自定").exists()
    client.force_login(User.objects.get(username="admin_450000"))  # the region keeps it
    response = client.post(change, {"date": national.date.isoformat(), "name": "改名"})
    assert response.status_code == 302
    assert Holiday.objects.get(pk=national.pk).name == "改名"


def test_an_organisation_cannot_be_moved_under_its_own_subtree(world, db):
    from orgs.models import Organisation

    county = Organisation.objects.get(code="450102")
    url = reverse("admin:orgs_organisation_change", args=[county.pk])
    form = {"code": "450102", "name": county.name, "level": "county", "is_active": "on"}
    client = Client()  # not a world client: logging it in as another user ends its session
    client.force_login(User.objects.create_superuser("root", password="x"))  # the top moves
    for parent in ("450102001", "450102"):  # its base union, itself
        data = {**form, "parent": Organisation.objects.get(code=parent).pk}
        response = client.post(url, data)
        assert response.status_code == 200
        assert "parent" in response.context["adminform"].form.errors
    county.refresh_from_db()
    assert county.path == "/450000/450100/450102/"


def test_a_county_keeps_its_place_in_the_tree(world, db):
    """A county administrator changes the county's settings, never its parent, level or code:
    a blank parent once cut the county loose from the union above, its scope and standards."""
    from orgs.models import Organisation

    county = Organisation.objects.get(code="450102")
    url = reverse("admin:orgs_organisation_change", args=[county.pk])
    client = world["clients"]("admin_450102")
    data = {
        "code": "999",
        "name": county.name,
        "level": "region",
        "parent": "",
        "is_active": "on",
        "notice_min_working_days": "7",
    }
    assert client.post(url, data).status_code == 302
    county.refresh_from_db()
    assert (county.path, county.level, county.notice_min_working_days) == (
        "/450000/450100/450102/",
        "county",
        7,
    )
    add = reverse("admin:orgs_organisation_add")
    new = {"code": "450102009", "name": "新基层工会", "is_active": "on"}
    for fields, error in (
        ({"level": "base", "parent": ""}, "parent"),  # a new root
        ({"level": "county", "parent": county.pk}, "level"),  # not one level below
    ):
        response = client.post(add, {**new, **fields})
        assert error in response.context["adminform"].form.errors
    assert client.post(add, {**new, "level": "base", "parent": county.pk}).status_code == 302
    created = Organisation.objects.get(code="450102009")
    assert created.path == "/450000/450100/450102/450102009/"


def test_nobody_widens_their_own_roles_or_leaves_every_scope(world, db):
    from django.contrib.auth.models import Group

    admin = User.objects.get(username="admin_450102")
    roles = set(admin.groups.values_list("name", flat=True))
    client = world["clients"]("admin_450102")
    url = reverse("admin:orgs_user_change", args=[admin.pk])
    everything = [group.pk for group in Group.objects.all()]
    data = {
        "username": admin.username,
        "full_name": admin.full_name,
        "organisation": "",
        "is_active": "on",
        "groups": everything,
    }
    assert client.post(url, data).status_code == 302
    admin.refresh_from_db()
    assert set(admin.groups.values_list("name", flat=True)) == roles
    assert admin.organisation.code == "450102"
    response = client.post(
        reverse("admin:orgs_user_add"),
        {
            "username": "nowhere",
            "full_name": "无组织",
            "organisation": "",
            "groups": [Group.objects.get(name="admin").pk],
            "password1": "a-long-password-2026",
            "password2": "a-long-password-2026",
        },
    )
    assert "organisation" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="nowhere").exists()
