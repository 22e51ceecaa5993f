"""One scoping mechanism: a user sees their organisation's subtree and nothing else."""

import pytest

from orgs.models import Organisation, User
from orgs.scoping import user_can_reach


def codes(queryset):
    return sorted(queryset.values_list("code", flat=True))


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("clerk_450102", ["450102", "450102001", "450102002"]),
        ("supervisor_450103", ["450103", "450103001", "450103002"]),
        (
            "viewer_450100",
            ["450100", "450102", "450102001", "450102002", "450103", "450103001", "450103002"],
        ),
        (
            "viewer_450000",
            [
                "450000",
                "450100",
                "450102",
                "450102001",
                "450102002",
                "450103",
                "450103001",
                "450103002",
            ],
        ),
    ],
)
def test_visible_to_is_the_subtree(users, username, visible):
    assert codes(Organisation.objects.visible_to(users[username])) == visible


def test_user_without_organisation_sees_nothing(orgs):
    loner = User.objects.create_user("loner", password="x")
    assert not Organisation.objects.visible_to(loner).exists()


def test_scoping_follows_relations(users):
    # Users are scoped through their organisation: a county supervisor sees only its own staff.
    names = set(
        User.objects.visible_to(users["supervisor_450102"]).values_list("username", flat=True)
    )
    assert "clerk_450102" in names and "clerk_450103" not in names and "viewer_450100" not in names


def test_prefix_match_does_not_leak_to_similar_codes(orgs):
    # 4501020 is not below 450102 although its code starts with it: the path ends in "/".
    odd = Organisation.objects.create(code="4501020", name="x", level="base", parent=orgs["450100"])
    clerk = User.objects.create_user("c", organisation=orgs["450102"])
    assert odd not in Organisation.objects.visible_to(clerk)
    assert not user_can_reach(clerk, odd)
    assert user_can_reach(clerk, orgs["450102001"])


def test_moving_an_organisation_moves_its_subtree(orgs):
    county = orgs["450103"]
    county.parent = orgs["450000"]
    county.save()
    base = Organisation.objects.get(code="450103001")
    assert base.path == "/450000/450103/450103001/"


def test_settings_are_inherited_from_ancestors(orgs):
    region, county = orgs["450000"], orgs["450102"]
    region.notice_min_working_days = 7
    region.save()
    county = Organisation.objects.get(pk=county.pk)
    assert county.setting("notice_min_working_days") == 7
    county.notice_min_working_days = 5
    county.save()
    assert Organisation.objects.get(pk=county.pk).setting("notice_min_working_days") == 5
    assert county.setting("survey_interval_months") == 6  # the built-in default


# Admin pages answer 404 for another county's objects, and read-only roles cannot change.
def admin_change_url(obj):
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


@pytest.mark.parametrize(
    ("username", "target", "expected"),
    [
        ("admin_450102", "450102001", 200),
        ("admin_450102", "450103001", 404),
        ("admin_450102", "450100", 404),
        ("admin_450000", "450103001", 200),
        ("supervisor_450102", "450102001", 200),  # view permission only: a read-only page
        ("supervisor_450102", "450103", 404),
    ],
)
def test_admin_object_pages_are_scoped(login, orgs, username, target, expected):
    response = login(username).get(admin_change_url(orgs[target]))
    assert response.status_code == expected


def test_viewer_cannot_use_the_admin(login, orgs):
    response = login("viewer_450100").get(admin_change_url(orgs["450102"]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_supervisor_cannot_change_organisations(login, orgs):
    org = orgs["450102001"]
    response = login("supervisor_450102").post(
        admin_change_url(org), {"code": org.code, "name": "changed", "level": "base"}
    )
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.name != "changed"


def test_admin_user_list_is_scoped(login):
    response = login("admin_450102").get("/admin/orgs/user/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "clerk_450102" in body and "clerk_450103" not in body
