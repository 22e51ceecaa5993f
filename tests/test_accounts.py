"""Login, logout, roles, the demo seed and the language switch."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.http import HttpRequest

from orgs.demo import DEMO_PASSWORD, demo_users
from orgs.models import Holiday, Organisation, User
from orgs.roles import Role, role_permission_table


def test_wrong_password_and_unknown_user_get_the_same_answer(client, users):
    wrong = client.post("/accounts/login/", {"username": "clerk_450102", "password": "nope"})
    unknown = client.post("/accounts/login/", {"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "正确的" in wrong.content.decode()  # Django's own zh-hans message, translated


def test_login_and_logout(client, users):
    response = client.post(
        "/accounts/login/", {"username": "clerk_450102", "password": DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "兴宁区总工会" in response.content.decode()
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_roles_are_groups_with_existing_permissions(db):
    from django.contrib.auth.models import Group, Permission

    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    for role, perms in role_permission_table().items():
        group = Group.objects.get(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            # A typo in a permissions table would silently grant nothing: every entry must exist.
            assert Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).exists(), dotted
        assert group.permissions.count() == len(perms)


def test_the_roles_get_their_permissions_back_once_per_migrate(db, django_assert_max_num_queries):
    """After every migrate (and every flush of the test database) the role groups get their
    permissions back; the sync runs once, after the last app, not once per app."""
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    for group in Group.objects.all():
        group.permissions.clear()
    # 68 queries today (content types and permissions per app, one sync); a sync per app sent
    # thousands.
    with django_assert_max_num_queries(100):
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    for role, perms in role_permission_table().items():
        granted = Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
        assert {f"{label}.{codename}" for label, codename in granted} == perms


def test_viewer_role_is_read_only(db):
    table = role_permission_table()
    assert table[Role.VIEWER] and all(
        p.split(".")[1].startswith("view_") for p in table[Role.VIEWER]
    )


def test_seed_demo_is_idempotent(db):
    call_command("seed_demo", stdout=StringIO())
    counts = (Organisation.objects.count(), User.objects.count(), Holiday.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert counts == (Organisation.objects.count(), User.objects.count(), Holiday.objects.count())
    assert counts[0] == 8 and counts[1] == len(demo_users())
    codes = set(Organisation.objects.values_list("code", flat=True))
    assert codes == {
        "450000",
        "450100",
        "450102",
        "450103",
        "450102001",
        "450102002",
        "450103001",
        "450103002",
    }


def test_every_county_has_every_role_and_passwords_work(client, users):
    for county in ("450102", "450103"):
        for role in ("clerk", "supervisor", "finance", "admin"):
            user = users[f"{role}_{county}"]
            assert user.organisation.code == county and user.has_role(role)
    # django-axes checks every authentication against the request's address: pass one.
    assert client.login(request=HttpRequest(), username="viewer_450000", password=DEMO_PASSWORD)


def test_language_switch(client, users):
    client.force_login(users["clerk_450102"])
    assert "我的工作" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = client.get("/").content.decode()
    assert "My work" in body and "我的工作" not in body
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "我的工作" in client.get("/").content.decode()
    # Each language named in its own script, whatever the page's language.
    assert '<option value="en">English</option>' in client.get("/").content.decode()


def test_the_sort_order_speaks_the_page_language(client, users):
    client.force_login(users["clerk_450102"])
    assert "档案编号（降序）" in client.get("/households/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/households/").content.decode()
    assert "File number (descending)" in body and "降序" not in body


def test_language_switch_on_login_page(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Log in" in client.get("/accounts/login/").content.decode()


@pytest.mark.parametrize("username", ["clerk_450102", "supervisor_450102", "finance_450103"])
def test_staff_flag_follows_role(users, username):
    assert users[username].is_staff == (not username.startswith("clerk"))


def test_chinese_is_the_default_whatever_the_browser_asks(client, users):
    client.force_login(users["clerk_450102"])
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "我的工作" in body


def test_the_user_list_filters_by_role_name(login):
    from django.urls import reverse

    client = login("admin_450102")
    url = reverse("admin:orgs_user_changelist")
    page = client.get(url).content.decode()
    assert "?role=supervisor" in page and ">审核审批</a>" in page
    found = client.get(url, {"role": "supervisor"}).context["cl"].result_list
    assert {user.username for user in found} == {"supervisor_450102", "supervisor2_450102"}
    everyone = client.get(url, {"role": "nonsense"}).context["cl"].result_list
    assert len(everyone) > 2


def test_who_only_reads_users_gets_no_password_reset_button(login, users):
    """Django draws the read-only password field with a "reset password" button, whose page
    answers 403 to a supervisor (who may only view users), and the hash's details."""
    from django.urls import reverse

    clerk = users["clerk_450102"]
    change = reverse("admin:orgs_user_change", args=[clerk.pk])
    reset = reverse("admin:auth_user_password_change", args=[clerk.pk])
    page = login("supervisor_450102").get(change)
    assert page.status_code == 200 and "clerk_450102" in page.content.decode()
    assert "../password/" not in page.content.decode() and "pbkdf2" not in page.content.decode()
    assert login("supervisor_450102").get(reset).status_code == 403
    administrator = login("admin_450102")
    assert "../password/" in administrator.get(change).content.decode()
    assert administrator.get(reset).status_code == 200
