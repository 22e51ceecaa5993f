"""The admin's guards of accounts and organisations: a superuser out of an administrator's
reach, usernames unique whatever the case, base-union codes under their county, settings in
range, deactivated organisations not offered, and the password pages in the interface
language."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from orgs.models import Holiday, Organisation, User


def test_a_superuser_in_the_county_is_out_of_its_administrators_reach(login, orgs):
    root = User.objects.create_superuser("root_qa", password="x" * 12)
    root.organisation = orgs["450102"]
    root.save()
    client = login("admin_450102")
    assert client.get(reverse("admin:orgs_user_change", args=[root.pk])).status_code == 404
    url = reverse("admin:auth_user_password_change", args=[root.pk])
    url = url.replace("auth/user", "orgs/user")
    response = client.post(url, {"password1": "Tiger-lily-2026", "password2": "Tiger-lily-2026"})
    assert response.status_code == 404
    root.refresh_from_db()
    assert not root.check_password("Tiger-lily-2026")
    assert "root_qa" not in client.get(reverse("admin:orgs_user_changelist")).content.decode()


def test_a_rename_to_another_users_name_in_other_letters_is_refused(login, users):
    client = login("admin_450102")
    clerk = users["clerk_450102"]
    page = client.get(reverse("admin:orgs_user_change", args=[clerk.pk]))
    data = {
        "username": "Admin_450000",
        "full_name": clerk.full_name,
        "organisation": clerk.organisation_id,
        "is_active": "on",
        "groups": list(clerk.groups.values_list("pk", flat=True)),
    }
    assert page.status_code == 200
    response = client.post(reverse("admin:orgs_user_change", args=[clerk.pk]), data)
    assert response.status_code == 200 and "username" in response.context["adminform"].errors
    clerk.refresh_from_db()
    assert clerk.username == "clerk_450102"


def organisation_form(orgs, **changes):
    county = orgs["450102"]
    data = {"code": "450102099", "name": "测试基层工会", "level": "base", "parent": county.pk}
    data.update(changes)
    return data


@pytest.mark.parametrize("code", ["450103999", "450102", "999"])
def test_a_base_unions_code_continues_its_countys(login, orgs, code):
    client = login("admin_450102")
    response = client.post(
        reverse("admin:orgs_organisation_add"), organisation_form(orgs, code=code)
    )
    assert response.status_code == 200
    assert "450102001" in str(response.context["adminform"].errors["code"])
    assert not Organisation.objects.filter(code=code, name="测试基层工会").exists()


def test_a_base_unions_code_continues_its_countys_in_either_letters(login, orgs):
    """Codes are one whatever the case: "4501ab001" continues the county "4501AB", and is
    kept with the county's prefix as it writes it."""
    county = Organisation.objects.create(
        code="4501AB", name="字母区总工会", level="county", parent=orgs["450100"]
    )
    client = login("admin_450000")
    response = client.post(
        reverse("admin:orgs_organisation_add"),
        organisation_form(orgs, code="4501ab001", parent=county.pk),
    )
    assert response.status_code == 302
    assert Organisation.objects.get(name="测试基层工会").path == "/450000/450100/4501AB/4501AB001/"


ORG_CODE_TAKEN = "已有相同的组织代码（组织代码不区分大小写）。"


def test_a_code_taken_in_other_letters_is_refused(login, orgs):
    """Imports find an organisation by its code whatever the case: "450102a01" beside
    "450102A01" would be one code, and on SQLite each one's subtree would take in the other."""
    Organisation.objects.create(
        code="450102A01", name="甲基层工会", level="base", parent=orgs["450102"]
    )
    client = login("admin_450102")
    response = client.post(
        reverse("admin:orgs_organisation_add"), organisation_form(orgs, code="450102a01")
    )
    assert response.status_code == 200
    assert ORG_CODE_TAKEN in response.context["adminform"].form.non_field_errors()
    assert not Organisation.objects.filter(name="测试基层工会").exists()
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database says so too
        Organisation.objects.create(
            code="450102a01", name="乙", level="base", parent=orgs["450102"]
        )


def test_a_superuser_changes_a_code_to_another_in_other_letters_only_if_free(client, orgs):
    county = orgs["450102"]
    upper = Organisation.objects.create(code="450102A01", name="甲", level="base", parent=county)
    other = Organisation.objects.create(code="450102B01", name="乙", level="base", parent=county)
    client.force_login(User.objects.create_superuser("root_qa", password="x" * 12))
    form = {"name": "乙", "level": "base", "parent": county.pk, "is_active": "on"}
    url = reverse("admin:orgs_organisation_change", args=[other.pk])
    response = client.post(url, {**form, "code": "450102a01"})
    assert response.status_code == 200
    assert ORG_CODE_TAKEN in response.context["adminform"].form.non_field_errors()
    other.refresh_from_db()
    assert (other.code, other.path) == ("450102B01", "/450000/450100/450102/450102B01/")
    # Its own code in other letters is no clash.
    url = reverse("admin:orgs_organisation_change", args=[upper.pk])
    assert client.post(url, {**form, "name": "甲", "code": "450102a01"}).status_code == 302
    upper.refresh_from_db()
    assert (upper.code, upper.path) == ("450102a01", "/450000/450100/450102/450102a01/")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("survey_interval_months", "99999"),
        ("notice_min_working_days", "0"),
        ("exit_rate_goal", "5"),
        ("eligibility_multiple", "99.99"),
    ],
)
def test_settings_out_of_range_are_refused(orgs, field, value):
    from django.core.exceptions import ValidationError

    county = Organisation.objects.get(pk=orgs["450102"].pk)
    setattr(county, field, value)
    with pytest.raises(ValidationError) as exc:
        county.full_clean()
    assert field in exc.value.message_dict


def test_a_deactivated_base_union_takes_no_new_files_or_users(login, orgs):
    base = Organisation.objects.filter(parent=orgs["450102"], level="base").first()
    base.is_active = False
    base.save()
    form = login("clerk_450102").get(reverse("households:create")).context["form"]
    assert base not in form.fields["base_union"].queryset
    admin = login("admin_450102").get(reverse("admin:orgs_user_add")).context["adminform"].form
    assert base not in admin.fields["organisation"].queryset


def test_a_second_national_holiday_on_a_day_is_said_in_words(login):
    from django.utils import timezone

    day = f"{timezone.localdate().year + 1}-01-01"
    Holiday.objects.create(date=day, name="元旦")
    client = login("admin_450000")
    response = client.post(reverse("admin:orgs_holiday_add"), {"date": day, "name": "元旦"})
    assert "该日期已有全国节假日" in response.content.decode()
    assert Holiday.objects.filter(date=day).count() == 1


def test_staff_change_their_password_from_every_page(login, users):
    client = login("clerk_450102")
    home = client.get("/").content.decode()
    assert f'href="{reverse("password_change")}"' in home
    short = client.post(
        reverse("password_change"),
        {"old_password": "bangfu-demo-2026", "new_password1": "ab1", "new_password2": "ab1"},
    )
    assert "密码太短。密码至少要包含 10 个字符。" in short.content.decode()
    changed = client.post(
        reverse("password_change"),
        {
            "old_password": "bangfu-demo-2026",
            "new_password1": "Lantern-river-2026",
            "new_password2": "Lantern-river-2026",
        },
        follow=True,
    )
    assert "密码已修改" in changed.content.decode()


@pytest.mark.parametrize("username", ["admin_450102", "supervisor_450102"])
def test_the_parent_outside_ones_scope_is_named_not_linked(login, orgs, username):
    """A county's own page names the city above it as text: its page would answer 404."""
    county, city = orgs["450102"], orgs["450100"]
    client = login(username)
    page = client.get(reverse("admin:orgs_organisation_change", args=[county.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and city.name in body
    parent_url = reverse("admin:orgs_organisation_change", args=[city.pk])
    assert parent_url not in body
    assert client.get(parent_url).status_code == 404


def test_the_parent_within_ones_scope_stays_a_link(login, orgs):
    county, city = orgs["450102"], orgs["450100"]
    client = login("admin_450000")
    body = client.get(reverse("admin:orgs_organisation_change", args=[county.pk])).content
    parent_url = reverse("admin:orgs_organisation_change", args=[city.pk])
    assert f'<a href="{parent_url}">{city}</a>' in body.decode()
    assert client.get(parent_url).status_code == 200


def test_a_holiday_is_dated_from_2000_to_two_years_ahead(login, orgs):
    from django.utils import timezone

    last = timezone.localdate().year + 2
    client = login("admin_450102")
    add = reverse("admin:orgs_holiday_add")
    data = {"name": "调休", "organisation": orgs["450102"].pk}
    for day, message in [
        ("0001-01-01", "日期不能早于 2000-01-01。"),
        ("1999-12-31", "日期不能早于 2000-01-01。"),
        (f"{last + 1}-01-01", f"日期不能晚于 {last}-12-31。"),
    ]:
        response = client.post(add, {**data, "date": day})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["date"] == [message]
    assert not Holiday.objects.filter(organisation=orgs["450102"]).exists()
    assert client.post(add, {**data, "date": f"{last}-12-31"}).status_code == 302
    assert client.post(add, {**data, "date": "2000-01-01"}).status_code == 302


def test_a_holidays_changes_keep_who_and_when(login, orgs, users):
    """Holidays decide when notices end: each change (and a deletion) is kept with who made it,
    on the holiday's history page, which another county's administrator does not open."""
    from django.utils import timezone

    day = f"{timezone.localdate().year + 1}-03-03"
    client = login("admin_450102")
    data = {"date": day, "name": "三月三", "organisation": orgs["450102"].pk}
    assert client.post(reverse("admin:orgs_holiday_add"), data).status_code == 302
    holiday = Holiday.objects.get(organisation=orgs["450102"], date=day)
    change = reverse("admin:orgs_holiday_change", args=[holiday.pk])
    assert client.post(change, {**data, "name": "壮族三月三"}).status_code == 302
    delete = reverse("admin:orgs_holiday_delete", args=[holiday.pk])
    history = reverse("admin:orgs_holiday_history", args=[holiday.pk])
    page = client.get(history).content.decode()
    assert "三月三" in page and "壮族三月三" in page  # the change, old and new
    assert login("admin_450103").get(history).status_code == 404
    assert login("admin_450102").post(delete, {"post": "yes"}).status_code == 302
    versions = Holiday.history.filter(id=holiday.pk).order_by("history_date")
    assert [(v.history_type, v.name, v.history_user) for v in versions] == [
        ("+", "三月三", users["admin_450102"]),
        ("~", "壮族三月三", users["admin_450102"]),
        ("-", "壮族三月三", users["admin_450102"]),
    ]
    assert all(v.history_date <= timezone.now() for v in versions)


# --- The administrator role: kept by the union above -------------------------------------------

ADMIN_ROLE_REFUSED = "系统管理员账号由上级组织的系统管理员设立：您只能为下级组织的用户授予该角色。"


def new_account(orgs, code, *roles, username="new_account"):
    from django.contrib.auth.models import Group

    return {
        "username": username,
        "full_name": "新账号",
        "organisation": orgs[code].pk,
        "groups": [Group.objects.get(name=role).pk for role in roles],
        "password1": "a-long-password-2026",
        "password2": "a-long-password-2026",
    }


def test_a_county_administrator_creates_staff_accounts_but_no_administrator(login, orgs):
    """An administrator making a second administrator account of the county would hold every
    role through accounts of their own: the role comes from the union above."""
    client = login("admin_450102")
    add = reverse("admin:orgs_user_add")
    for roles in (["admin"], ["supervisor", "admin"]):
        response = client.post(add, new_account(orgs, "450102", *roles))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["groups"] == [ADMIN_ROLE_REFUSED]
        assert not User.objects.filter(username="new_account").exists()
    # Lower roles are theirs to give, and the administrator of a union below them.
    assert client.post(add, new_account(orgs, "450102", "supervisor")).status_code == 302
    assert User.objects.get(username="new_account").has_role("supervisor")
    base = new_account(orgs, "450102001", "admin", username="base_admin")
    assert client.post(add, base).status_code == 302
    assert User.objects.get(username="base_admin").has_role("admin")


def test_a_county_administrator_grants_nobody_of_the_county_the_administrator_role(login, users):
    from django.contrib.auth.models import Group

    clerk = users["clerk_450102"]
    client = login("admin_450102")
    data = {
        "username": clerk.username,
        "full_name": clerk.full_name,
        "organisation": clerk.organisation_id,
        "is_active": "on",
        "groups": [group.pk for group in Group.objects.filter(name__in=["clerk", "admin"])],
    }
    response = client.post(reverse("admin:orgs_user_change", args=[clerk.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["groups"] == [ADMIN_ROLE_REFUSED]
    assert set(clerk.groups.values_list("name", flat=True)) == {"clerk"}
    # The region's administrator may: the county lies below it.
    client = login("admin_450000")
    assert client.post(reverse("admin:orgs_user_change", args=[clerk.pk]), data).status_code == 302
    assert set(clerk.groups.values_list("name", flat=True)) == {"clerk", "admin"}


def test_another_administrator_of_the_county_is_read_only_to_its_administrator(login, users):
    """Nor does one administrator change a peer's roles, organisation or password (and so act
    as them): the union above does."""
    from django.contrib.auth.models import Group

    county = users["admin_450102"].organisation
    peer = User.objects.create_user("admin2_450102", password="old-pass-26", organisation=county)
    peer.groups.add(Group.objects.get(name="admin"))
    change = reverse("admin:orgs_user_change", args=[peer.pk])
    password = reverse("admin:auth_user_password_change", args=[peer.pk])
    client = login("admin_450102")
    assert client.get(change).status_code == 200  # still listed and shown
    data = {"username": peer.username, "organisation": peer.organisation_id, "groups": []}
    assert client.post(change, data).status_code == 403
    new = {"password1": "Tiger-lily-2026", "password2": "Tiger-lily-2026"}
    assert client.post(password, new).status_code == 403
    peer.refresh_from_db()
    assert peer.has_role("admin") and peer.check_password("old-pass-26")
    # The city's administrator (above) keeps it.
    above = login("admin_450000")
    assert above.post(password, new).status_code == 302
    peer.refresh_from_db()
    assert peer.check_password("Tiger-lily-2026")


def test_only_the_roles_are_offered_as_groups(login, orgs, users):
    """A group a superuser made beside the roles (with whatever permissions) is not a county
    administrator's to hand out; an account holding one keeps it."""
    from django.contrib.auth.models import Group, Permission

    extra = Group.objects.create(name="auditors")
    extra.permissions.add(Permission.objects.get(codename="change_group"))
    client = login("admin_450102")
    form = client.get(reverse("admin:orgs_user_add")).context["adminform"].form
    assert extra not in form.fields["groups"].queryset
    data = new_account(orgs, "450102", "clerk")
    data["groups"].append(extra.pk)
    response = client.post(reverse("admin:orgs_user_add"), data)
    assert "groups" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="new_account").exists()
    clerk = users["clerk_450102"]
    clerk.groups.add(extra)
    change = client.get(reverse("admin:orgs_user_change", args=[clerk.pk]))
    assert extra in change.context["adminform"].form.fields["groups"].queryset


MOVE_REFUSED = "组织树不保留历史"


def test_a_county_with_files_moves_to_another_parent_only_when_confirmed(client, users, orgs):
    """Reports sum a city's counties by today's tree: a county moved to another city takes its
    files, past years' too, from the one city's reports into the other's. The admin refuses
    the move until the superuser confirms it, saying so; confirmed, it moves and warns."""
    from datetime import date

    from reports.selectors import Period
    from reports.summary import build
    from tests.reports.conftest import build as history

    history(
        users["clerk_450102"],
        orgs["450102"],
        [("applied", date(2023, 1, 5)), ("on_file", date(2023, 2, 1))],
    )
    other_city = Organisation.objects.create(
        code="450200", name="柳州市总工会", level="city", parent=orgs["450000"]
    )
    county = orgs["450102"]
    client.force_login(User.objects.create_superuser("root_qa", password="x" * 12))
    url = reverse("admin:orgs_organisation_change", args=[county.pk])
    assert 'name="confirm_move"' in client.get(url).content.decode()
    form = {"code": "450102", "name": county.name, "level": "county", "is_active": "on"}
    response = client.post(url, {**form, "parent": other_city.pk})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["parent"]
    assert MOVE_REFUSED in errors[0] and "1 户" in errors[0]
    county.refresh_from_db()
    assert county.parent_id == orgs["450100"].pk  # nothing moved
    period = Period(date(2023, 1, 1), date(2023, 12, 31), date(2023, 12, 31), date(2022, 12, 31))
    assert build(orgs["450100"], period)["on_file"]["households"] == 1

    response = client.post(
        url, {**form, "parent": other_city.pk, "confirm_move": "on"}, follow=True
    )
    county.refresh_from_db()
    assert county.parent_id == other_city.pk
    assert county.path == "/450000/450200/450102/"
    warning = [str(m) for m in response.context["messages"]]
    assert any("过去各年的统计报表" in message for message in warning), warning
    assert build(orgs["450100"], period)["on_file"]["households"] == 0  # what it warned of


def test_a_county_without_files_moves_without_confirmation(client, orgs):
    other_city = Organisation.objects.create(
        code="450200", name="柳州市总工会", level="city", parent=orgs["450000"]
    )
    county = orgs["450103"]
    client.force_login(User.objects.create_superuser("root_qa", password="x" * 12))
    url = reverse("admin:orgs_organisation_change", args=[county.pk])
    form = {"code": "450103", "name": county.name, "level": "county", "is_active": "on"}
    assert client.post(url, {**form, "parent": other_city.pk}).status_code == 302
    county.refresh_from_db()
    assert county.parent_id == other_city.pk
