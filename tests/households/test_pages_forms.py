"""Creating and editing a file with its members through the pages; the live eligibility check."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from households import services
from households.idnumbers import sex_of
from households.models import (
    Category,
    Cause,
    Household,
    IdentityClaim,
    Member,
    Transition,
)
from households.services import MemberData
from tests.households.conftest import kept_members, new_id

CREATE = reverse("households:create")
PREVIEW = reverse("households:preview")


def member_row(index, **values):
    row = {
        "pk": "",
        "relation": "spouse",
        "name": "",
        "id_number": "",
        "health": "healthy",
        "disability": "none",
        "employment": "employed",
        "school_stage": "none",
        "monthly_income": "0.00",
    }
    row.update(values)
    return {f"members-{index}-{key}": value for key, value in row.items()}


def form_data(orgs, *, worker=None, members=(), initial=1, **fields):
    """POST data of the household form: the worker's row first, then `members` (dicts)."""
    data = {
        "organisation": orgs["450102"].pk,
        "base_union": orgs["450102001"].pk,
        "worker_name": "张小明",
        "sex": "",
        "id_number": new_id(),
        "phone": "13800000000",
        "employer": "南宁糖业",
        "address": "民生路1号",
        "bank_name": "",
        "bank_account": "",
        "other_monthly_income": "0.00",
        "rigid_spending_annual": "0.00",
        "accident_spending_annual": "0.00",
        "primary_cause": Cause.objects.get(code="illness").pk,
        "category": "",
        "responsible_staff": "",
        "responsible_chair": "",
        "responsible_chair_phone": "",
    }
    data.update(fields)
    rows = [{"relation": "self", **(worker or {"monthly_income": "600.00"})}, *members]
    for index, row in enumerate(rows):
        data.update(member_row(index, **row))
    data.update(
        {
            "members-TOTAL_FORMS": str(len(rows)),
            "members-INITIAL_FORMS": str(initial),
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "20",
        }
    )
    return data


def nothing_saved():
    assert Household.objects.count() == 0
    assert Member.objects.count() == 0
    assert IdentityClaim.objects.count() == 0
    assert Transition.objects.count() == 0


def test_the_empty_form_starts_with_the_worker_row(login, orgs, dibao):
    response = login("clerk_450102").get(CREATE)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="worker_name"' in page and "autofocus" in page
    assert 'name="members-0-relation" value="self"' in page
    assert 'id="member-template"' in page and "__prefix__" in page
    form = response.context["form"]
    assert form["organisation"].value() == orgs["450102"].pk
    assert set(form.fields["organisation"].queryset) == {orgs["450102"]}
    assert set(form.fields["base_union"].queryset) == {orgs["450102001"], orgs["450102002"]}
    staff = set(form.fields["responsible_staff"].queryset.values_list("username", flat=True))
    assert "clerk_450102" in staff and "clerk_450103" not in staff
    assert "<script>" not in page and "onclick" not in page  # no inline script (CSP)


def test_create_with_a_member(login, orgs, dibao, users):
    spouse_id = new_id(1982)
    data = form_data(
        orgs,
        members=[{"name": "李芳", "id_number": spouse_id, "monthly_income": "300.00"}],
        secondary_causes=[Cause.objects.get(code="schooling").pk],
        owns_business="on",
        bank_account="6222 0000 1111 2222",
    )
    response = login("clerk_450102").post(CREATE, data)
    household = Household.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("households:detail", args=[household.pk])
    assert household.worker_name == "张小明" and household.status == "draft"
    assert household.id_number == data["id_number"] and household.sex == sex_of(data["id_number"])
    assert household.created_by == users["clerk_450102"]
    assert household.owns_business and household.bank_account == "6222000011112222"
    assert [c.code for c in household.secondary_causes.all()] == ["schooling"]
    members = {m.relation: m for m in household.members.all()}
    assert members["self"].name == "张小明" and members["self"].monthly_income == Decimal("600")
    assert members["spouse"].name == "李芳" and members["spouse"].id_number == spouse_id
    assert household.household_size == 2 and household.per_capita_income == Decimal("450.00")
    follow = login("clerk_450102").get(response["Location"])
    assert "已建立档案" in follow.content.decode()


def test_old_15_digit_numbers_are_kept_in_their_18_character_form(login, orgs, dibao):
    worker, spouse = new_id(), new_id(1982)
    data = form_data(
        orgs,
        id_number=worker[:6] + worker[8:17],  # the old cards' 15 digits
        members=[{"name": "李芳", "id_number": spouse[:6] + spouse[8:17]}],
    )
    assert login("clerk_450102").post(CREATE, data).status_code == 302
    household = Household.objects.get()
    assert household.id_number == worker and household.birth_date.year == int(worker[6:10])
    members = {m.relation: m.id_number for m in household.members.all()}
    assert members == {"self": worker, "spouse": spouse}


def test_an_invalid_worker_id_number_is_shown_at_the_field(login, orgs, dibao):
    data = form_data(orgs, id_number="450102198003150012")  # wrong check digit
    response = login("clerk_450102").post(CREATE, data)
    assert response.status_code == 200
    assert "校验位" in response.context["form"].errors["id_number"][0]
    nothing_saved()


def test_an_invalid_member_id_number_is_shown_at_the_members_field(login, orgs, dibao):
    data = form_data(orgs, members=[{"name": "李芳", "id_number": "45010219820315"}])
    response = login("clerk_450102").post(CREATE, data)
    formset = response.context["formset"]
    assert "18位" in formset.forms[1].errors["id_number"][0]
    # The summary at the top names it and links to it (it was an empty list 600 px above).
    page = response.content.decode()
    summary = page[
        page.index('id="form-errors"') : page.index("</div>", page.index('id="form-errors"'))
    ]
    assert 'href="#id_members-1-id_number"' in summary and "家庭成员 2 · 身份证号码" in summary
    assert "autofocus" in summary
    nothing_saved()


def test_a_person_already_on_file_is_refused(login, orgs, dibao, make_household):
    existing = make_household()
    data = form_data(orgs, id_number=existing.id_number, worker_name="张冒名")
    response = login("clerk_450102").post(CREATE, data)
    errors = response.context["form"].errors["id_number"]
    assert "不能重复建档" in errors[0] and existing.file_number in errors[0]
    assert Household.objects.count() == 1
    assert Member.objects.count() == existing.members.count()


def test_a_member_on_another_open_file_is_refused_and_nothing_is_written(
    login, orgs, dibao, make_household
):
    existing = make_household()
    spouse = existing.members.exclude(relation="self").get()
    before = (Household.objects.count(), Member.objects.count(), Transition.objects.count())
    data = form_data(orgs, members=[{"name": "李芳", "id_number": spouse.id_number}])
    response = login("clerk_450102").post(CREATE, data)
    errors = response.context["formset"].non_form_errors()
    assert "不能重复建档" in errors[0]
    assert 'id="member-errors"' in response.content.decode()
    after = (Household.objects.count(), Member.objects.count(), Transition.objects.count())
    assert after == before
    assert IdentityClaim.objects.filter(household__in=[existing]).count() == 2


def test_a_member_listed_twice_is_refused(login, orgs, dibao):
    twin = new_id(2010)
    data = form_data(
        orgs,
        members=[
            {"relation": "child", "name": "小明", "id_number": twin},
            {"relation": "child", "name": "小明", "id_number": twin},
        ],
    )
    response = login("clerk_450102").post(CREATE, data)
    errors = response.context["formset"].non_form_errors()
    assert any("成员重复" in message for message in errors)
    nothing_saved()


def test_the_worker_listed_again_as_a_member_is_refused(login, orgs, dibao):
    data = form_data(orgs)
    data.update(member_row(1, name="张小明", id_number=data["id_number"], relation="child"))
    data["members-TOTAL_FORMS"] = "2"
    response = login("clerk_450102").post(CREATE, data)
    assert any("成员重复" in m for m in response.context["formset"].non_form_errors())
    nothing_saved()


def test_negative_incomes_are_refused_at_their_fields(login, orgs, dibao):
    data = form_data(
        orgs,
        members=[{"name": "李芳", "monthly_income": "-1.00"}],
        other_monthly_income="-5.00",
    )
    response = login("clerk_450102").post(CREATE, data)
    assert response.context["formset"].forms[1].errors["monthly_income"]
    assert response.context["form"].errors["other_monthly_income"]
    nothing_saved()


def test_a_member_needs_a_name(login, orgs, dibao):
    data = form_data(orgs, members=[{"name": "", "monthly_income": "100.00"}])
    response = login("clerk_450102").post(CREATE, data)
    assert "请填写成员姓名" in response.context["formset"].forms[1].errors["name"][0]
    nothing_saved()


def test_at_most_three_secondary_causes(login, orgs, dibao):
    codes = ["schooling", "disability", "low_income", "unemployment"]
    data = form_data(orgs, secondary_causes=[Cause.objects.get(code=c).pk for c in codes])
    response = login("clerk_450102").post(CREATE, data)
    assert "最多选择3项" in response.context["form"].errors["secondary_causes"][0]
    nothing_saved()


def test_the_primary_cause_is_not_also_secondary(login, orgs, dibao):
    data = form_data(orgs, secondary_causes=[Cause.objects.get(code="illness").pk])
    response = login("clerk_450102").post(CREATE, data)
    assert "不能与主要致困原因相同" in response.context["form"].errors["secondary_causes"][0]
    nothing_saved()


def test_another_countys_organisation_cannot_be_chosen(login, orgs, dibao):
    data = form_data(orgs, organisation=orgs["450103"].pk, base_union="")
    response = login("clerk_450102").post(CREATE, data)
    assert response.context["form"].errors["organisation"]
    nothing_saved()


def test_the_page_refuses_another_countys_responsible_person(client, orgs, users, dibao):
    """A city clerk reaches both counties' staff; a 青秀区 file takes only its own (or the
    city's) as first responsible person, told so at the field."""
    from tests.households.test_workflow import city_clerk

    client.force_login(city_clerk(orgs, users))
    data = form_data(
        orgs,
        organisation=orgs["450103"].pk,
        base_union=orgs["450103001"].pk,
        responsible_staff=users["clerk_450102"].pk,
    )
    response = client.post(CREATE, data)
    assert "第一帮扶责任人" in response.context["form"].errors["responsible_staff"][0]
    nothing_saved()
    data["responsible_staff"] = users["clerk_450103"].pk
    assert client.post(CREATE, data).status_code == 302


def test_an_empty_extra_row_is_ignored(login, orgs, dibao):
    data = form_data(orgs, members=[{"relation": "", "name": ""}], initial=1)
    response = login("clerk_450102").post(CREATE, data)
    assert response.status_code == 302
    assert Household.objects.get().members.count() == 1


# --- Editing ------------------------------------------------------------------------------


def edit_data(orgs, household, **fields):
    """The edit form as the page sends it back unchanged (ID boxes left empty)."""
    members = []
    worker = None
    for member in household.members.order_by("id"):
        row = {
            "pk": str(member.pk),
            "relation": member.relation,
            "name": member.name if member.relation != "self" else "",
            "monthly_income": str(member.monthly_income),
        }
        if member.relation == "self":
            worker = row
        else:
            members.append(row)
    data = form_data(
        orgs,
        worker=worker,
        members=members,
        initial=1 + len(members),
        worker_name=household.worker_name,
        id_number="",
        base_union=household.base_union_id or "",
    )
    data.update(fields)
    return data


def test_the_edit_form_never_shows_the_full_numbers(login, make_household, orgs):
    household = make_household(bank_account="6222000011112222")
    spouse = household.members.exclude(relation="self").get()
    response = login("clerk_450102").get(reverse("households:edit", args=[household.pk]))
    page = response.content.decode()
    assert household.id_number not in page and spouse.id_number not in page
    assert "6222000011112222" not in page
    assert household.id_masked in page and spouse.id_masked in page
    assert "留空表示不修改" in page


def test_edit_keeps_blank_numbers_and_saves_changes(login, make_household, orgs):
    household = make_household()
    spouse = household.members.exclude(relation="self").get()
    data = edit_data(orgs, household, worker_name="张晓明", phone="13900000000")
    data["members-1-monthly_income"] = "500.00"
    data.update(member_row(2, relation="child", name="张小小", school_stage="primary"))
    data["members-TOTAL_FORMS"] = "3"
    url = reverse("households:edit", args=[household.pk])
    response = login("clerk_450102").post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    household.refresh_from_db()
    spouse.refresh_from_db()
    assert household.worker_name == "张晓明" and household.phone == "13900000000"
    assert household.members.get(relation="self").name == "张晓明"
    assert spouse.id_number and spouse.monthly_income == Decimal("500.00")
    assert household.members.get(relation="child").school_stage == "primary"
    assert household.household_size == 3
    assert household.id_number == Household.objects.get(pk=household.pk).id_number


def test_an_edit_keeps_a_retired_category_and_causes(login, make_household, orgs, users):
    """A retired cause or category (or a deactivated responsible person) is offered no more for
    new choices, yet the edit form shows the file's own: the clerk who changes the phone number
    sends them back as they were, and the file keeps them (before, the browser sent none and
    the edit dropped them, recorded as a normal edit)."""
    household = make_household(
        primary="single_parent",
        category=Category.objects.get(code="deep"),
        responsible_staff=users["finance_450102"],
    )
    household.secondary_causes.set(Cause.objects.filter(code__in=["illness", "disability"]))
    Category.objects.filter(code="deep").update(is_active=False)
    Cause.objects.filter(code__in=["single_parent", "illness"]).update(is_active=False)
    type(users["finance_450102"]).objects.filter(pk=users["finance_450102"].pk).update(
        is_active=False
    )
    client = login("clerk_450102")
    url = reverse("households:edit", args=[household.pk])
    response = client.get(url)
    form = response.context["form"]
    shown = {
        name: form[name].value() for name in ("primary_cause", "category", "responsible_staff")
    }
    shown["secondary_causes"] = [str(pk) for pk in form["secondary_causes"].value()]
    for name in ("primary_cause", "category", "responsible_staff"):
        assert shown[name] in form.fields[name].queryset.values_list("pk", flat=True)
    page = response.content.decode()
    category = page.split('name="category"')[1].split("</select>")[0]
    assert f'value="{household.category_id}" selected' in category
    data = edit_data(orgs, household, phone="13900000000", **shown)
    assert client.post(url, data).status_code == 302
    household = Household.objects.get(pk=household.pk)
    assert household.phone == "13900000000"
    assert (household.primary_cause.code, household.category.code) == ("single_parent", "deep")
    assert household.responsible_staff == users["finance_450102"]
    causes = sorted(household.secondary_causes.values_list("code", flat=True))
    assert causes == ["disability", "illness"]
    # A new file is offered only what is in force.
    form = client.get(CREATE).context["form"]
    assert not form.fields["category"].queryset.filter(code="deep").exists()
    assert not form.fields["secondary_causes"].queryset.filter(code="illness").exists()


def test_edit_removes_a_member_that_is_ticked(login, make_household, orgs):
    household = make_household()
    data = edit_data(orgs, household)
    data["members-1-DELETE"] = "on"
    response = login("clerk_450102").post(reverse("households:edit", args=[household.pk]), data)
    assert response.status_code == 302
    assert list(household.members.values_list("relation", flat=True)) == ["self"]


def test_edit_refuses_a_duplicate_and_keeps_the_file(login, make_household, orgs):
    other = make_household(worker_name="王五")
    household = make_household()
    data = edit_data(orgs, household, id_number=other.id_number)
    response = login("clerk_450102").post(reverse("households:edit", args=[household.pk]), data)
    assert "不能重复建档" in response.context["form"].errors["id_number"][0]
    assert Household.objects.get(pk=household.pk).id_number != other.id_number


def test_edit_refuses_the_number_of_a_person_with_a_closed_file_at_the_field(
    login, make_household, users, orgs
):
    closed = make_household(worker_name="王五")
    services.transition_apply(
        user=users["clerk_450102"], household=closed, action="withdraw", reason="录入有误"
    )
    household = make_household()
    data = edit_data(orgs, household, id_number=closed.id_number)
    response = login("clerk_450102").post(reverse("households:edit", args=[household.pk]), data)
    [error] = response.context["form"].errors["id_number"]
    assert f"此人已有档案 {closed.file_number}" in error and "重新申请" in error
    assert Household.objects.get(pk=household.pk).id_hash == household.id_hash


def test_a_closed_file_cannot_be_edited(login, make_household, users, orgs):
    from households import services

    household = make_household()
    services.transition_apply(
        user=users["clerk_450102"], household=household, action="withdraw", reason="重复录入"
    )
    household.refresh_from_db()
    response = login("clerk_450102").post(
        reverse("households:edit", args=[household.pk]), edit_data(orgs, household)
    )
    assert "档案已关闭" in str(response.context["form"].non_field_errors())


# --- The live check ----------------------------------------------------------------------------


def test_the_preview_computes_without_writing(login, orgs, dibao):
    data = form_data(
        orgs,
        members=[{"name": "李芳", "monthly_income": "300.00"}],
        id_number="",  # half-typed forms still get a verdict
    )
    client = login("clerk_450102")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(PREVIEW, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
        and "django_session" not in q["sql"]
    ]
    assert writes == []
    nothing_saved()
    page = response.content.decode()
    assert "450.00" in page and "1,000.00" in page  # per capita and the line
    assert "符合建档条件" in page
    assert response.context["category"].code == "deep"
    # Nor does it count as a write for the report replica (each keystroke would otherwise
    # save the session and send the user's reports to the primary database).
    from reports.routing import LAST_WRITE_KEY

    assert LAST_WRITE_KEY not in client.session


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_preview_prints_amounts_as_the_rest_of_the_app(login, orgs, dibao, language):
    """12,345.60 with its thousands separator in both languages, in the figures and the
    reasons, as every other page prints money."""
    data = form_data(orgs, worker={"monthly_income": "24691.20"}, members=[{"name": "李芳"}])
    client = login("clerk_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.post(PREVIEW, data).content.decode()
    assert page.count("12,345.60") == 2  # the per-capita figure and the reason
    assert page.count("1,000.00") == 2  # the dibao line and the reason
    assert "12345.60" not in page and "1000.00" not in page


def test_the_preview_explains_a_refusal(login, orgs, dibao):
    data = form_data(orgs, worker={"monthly_income": "5000.00"}, uses_vehicles="on")
    response = login("clerk_450102").post(PREVIEW, data)
    page = response.content.decode()
    assert "不符合建档条件" in page and "机动车辆" in page


RETIRED = "退休、内退人员原则上不纳入困难职工建档范围"


def test_the_preview_warns_of_a_retired_worker(login, orgs, dibao):
    """The worker's own row as typed: 退休 warns (seed 002), the verdict stays; a retired
    spouse does not."""
    client = login("clerk_450102")
    worker = {"monthly_income": "600.00", "employment": "retired"}
    response = client.post(PREVIEW, form_data(orgs, worker=worker))
    page = response.content.decode()
    assert RETIRED in page and "符合建档条件" in page
    assert response.context["verdict"].eligible is True
    spouse = {"name": "李芳", "employment": "retired"}
    page = client.post(PREVIEW, form_data(orgs, members=[spouse])).content.decode()
    assert RETIRED not in page


def test_the_file_and_its_approval_warn_of_a_retired_worker(login, walk, make_household):
    household = walk(make_household(), "notice")
    household.members.filter(relation=Member.Relation.SELF).update(
        employment=Member.Employment.RETIRED
    )
    supervisor = login("supervisor_450102")
    for url in [
        reverse("households:detail", args=[household.pk]),
        reverse("households:transition", args=[household.pk, "approve"]),
    ]:
        assert RETIRED in supervisor.get(url).content.decode(), url


def test_a_refused_form_shows_the_check_of_what_was_typed(login, orgs, dibao):
    data = form_data(orgs, id_number="123", members=[{"name": "李芳", "monthly_income": "1400"}])
    response = login("clerk_450102").post(CREATE, data)
    assert response.context["verdict"].income.per_capita == Decimal("1000.00")


def test_a_refused_edit_shows_the_check_of_every_member(login, make_household, orgs):
    """The members the edit left untouched are unchanged rows of the formset, yet still members:
    the check beside a refused edit counts them, as the save would."""
    spouse = MemberData(relation="spouse", name="李芳", monthly_income=Decimal("3000.00"))
    household = make_household(members=[spouse])  # (600 + 3,000) ÷ 2 = 1,800
    assert services.verdict_for(household).category_code == "relative"
    data = edit_data(orgs, household, id_number="123")  # any refusal shows the page again
    response = login("clerk_450102").post(reverse("households:edit", args=[household.pk]), data)
    assert response.context["form"].errors["id_number"]
    verdict = response.context["verdict"]
    assert verdict.income.size == 2 and verdict.income.per_capita == Decimal("1800.00")
    assert verdict.category_code == "relative"


def test_a_refused_edit_leaves_out_a_member_ticked_for_removal(login, make_household, orgs):
    """A saved member ticked for removal is no longer counted, as the save would remove it."""
    spouse = MemberData(relation="spouse", name="李芳", monthly_income=Decimal("3000.00"))
    household = make_household(members=[spouse])
    data = edit_data(orgs, household, id_number="123")
    data["members-1-DELETE"] = "on"
    response = login("clerk_450102").post(reverse("households:edit", args=[household.pk]), data)
    assert response.context["verdict"].income.size == 1


@pytest.mark.parametrize("username", ["viewer_450100", "supervisor_450102", "finance_450102"])
def test_only_clerks_use_the_preview(login, orgs, dibao, username):
    assert login(username).post(PREVIEW, form_data(orgs)).status_code == 403


# --- Amounts: each one within a sane maximum, so that no household total overflows a column.


def test_amounts_beyond_the_maximum_are_refused_naming_the_field(login, orgs, dibao):
    huge = "999999999999.99"  # fits one column; twice that does not
    data = form_data(
        orgs,
        worker={"monthly_income": huge},
        members=[{"name": "李芳", "monthly_income": huge}],
        other_monthly_income="10000000.00",
        rigid_spending_annual="100000000.00",
        accident_spending_annual="1" + "0" * 20,  # beyond the column's digits too
    )
    response = login("clerk_450102").post(CREATE, data)
    assert response.status_code == 200
    form, formset = response.context["form"], response.context["formset"]
    assert formset.forms[0].errors["monthly_income"] == ["月收入（元）不能超过 9,999,999.99。"]
    assert "月收入（元）不能超过" in formset.forms[1].errors["monthly_income"][0]
    assert form.errors["other_monthly_income"] == ["其他月收入（元）不能超过 9,999,999.99。"]
    assert "年刚性支出（元）不能超过 99,999,999.99" in form.errors["rigid_spending_annual"][0]
    assert "意外事件年支出（元）不能超过" in form.errors["accident_spending_annual"][0]
    nothing_saved()


def test_the_largest_amounts_are_accepted_and_the_total_fits(login, orgs, dibao):
    top = "9999999.99"
    data = form_data(
        orgs,
        worker={"monthly_income": top},
        members=[{"name": "李芳", "monthly_income": top}],
        other_monthly_income=top,
    )
    response = login("clerk_450102").post(CREATE, data)
    assert response.status_code == 302
    household = Household.objects.get()
    assert household.monthly_income == Decimal("29999999.97")
    assert login("viewer_450000").get(reverse("households:list")).status_code == 200


def test_the_error_names_the_field_in_english_too(login, orgs, dibao):
    client = login("clerk_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = form_data(orgs, other_monthly_income="10000000.00")
    with translation.override(settings.LANGUAGE_CODE):  # the thread's language back after
        response = client.post(CREATE, data)
    message = response.context["form"].errors["other_monthly_income"][0]
    assert message == "Other monthly income (yuan) cannot exceed 9,999,999.99."


def test_a_household_total_beyond_the_columns_is_refused_and_nothing_written(orgs, users, dibao):
    """The service refuses a total it could not store, whatever the caller checked."""
    huge = Decimal("999999999999.99")
    household = Household(
        organisation=orgs["450102"],
        worker_name="张小明",
        id_number=new_id(),
        primary_cause=Cause.objects.get(code="illness"),
    )
    with pytest.raises(ValidationError) as exc:
        services.household_create(
            user=users["clerk_450102"],
            household=household,
            members=[
                MemberData(relation="self", name="", monthly_income=huge),
                MemberData(
                    relation="spouse", name="李芳", id_number=new_id(1982), monthly_income=huge
                ),
            ],
        )
    assert "超过可记录的上限" in exc.value.message_dict["members"][0]
    nothing_saved()


def test_a_survey_income_beyond_the_maximum_is_refused(login, walk, make_household):
    household = walk(make_household(), "applied")
    members = {m.relation: m for m in household.members.all()}
    response = login("clerk_450102").post(
        reverse("households:survey", args=[household.pk]),
        {
            "surveyed_on": "",
            "surveyors": "王",
            "findings": "x",
            f"income_{members['self'].pk}": "999999999999.99",
            f"income_{members['spouse'].pk}": "999999999999.99",
        },
    )
    errors = response.context["form"].errors[f"income_{members['self'].pk}"]
    assert errors == ["张小明（本人）核实月收入（元）不能超过 9,999,999.99。"]
    assert not household.surveys.exists()


def test_the_survey_service_refuses_a_total_beyond_the_columns(make_household, walk, users):
    household = walk(make_household(), "applied")
    huge = Decimal("999999999999.99")
    incomes = {m.pk: huge for m in household.members.all()}
    with pytest.raises(ValidationError) as exc:
        services.survey_record(
            user=users["clerk_450102"],
            household=household,
            surveyed_on=household.current_period.applied_on,
            surveyors="王",
            findings="x",
            incomes=incomes,
        )
    assert "超过可记录的上限" in exc.value.messages[0]
    assert set(household.members.values_list("monthly_income", flat=True)) <= {
        Decimal("600.00"),
        Decimal("0.00"),
    }
    household.refresh_from_db()
    assert household.monthly_income == Decimal("600.00") and not household.surveys.exists()


def test_the_category_box_offers_the_scheme_of_the_files_organisation(login, make_household, orgs):
    """A county uses one category scheme (DOMAIN.md "Categories"): its form offers that
    scheme's categories (意外致困 is in both), not the other scheme's. A category of the other
    scheme is refused; one already on the file (filed before the county changed schemes) stays
    offered, so an edit does not silently change it."""
    county = orgs["450103"]
    # Filed while the county used the current scheme (the service refuses it after).
    household = make_household(
        by="clerk_450103", org="450103", category=Category.objects.get(code="relative")
    )
    county.category_scheme = "2015"
    county.save()
    offered = {}
    for clerk in ("clerk_450102", "clerk_450103"):
        form = login(clerk).get(CREATE).context["form"]
        offered[clerk] = set(form.fields["category"].queryset.values_list("code", flat=True))
    assert offered == {
        "clerk_450102": {"deep", "relative", "accident"},
        "clerk_450103": {"dibao", "near_dibao", "accident"},
    }
    client = login("clerk_450103")
    data = form_data(
        orgs,
        organisation=county.pk,
        base_union=orgs["450103001"].pk,
        category=Category.objects.get(code="deep").pk,
    )
    response = client.post(CREATE, data)
    assert response.status_code == 200 and "category" in response.context["form"].errors
    assert Household.objects.count() == 1
    data["category"] = Category.objects.get(code="near_dibao").pk
    assert client.post(CREATE, data).status_code == 302
    assert Household.objects.exclude(pk=household.pk).get().category.code == "near_dibao"

    url = reverse("households:edit", args=[household.pk])
    form = client.get(url).context["form"]
    assert set(form.fields["category"].queryset.values_list("code", flat=True)) == {
        "dibao",
        "near_dibao",
        "accident",
        "relative",
    }
    data = edit_data(
        orgs, household, organisation=county.pk, base_union="", category=household.category_id
    )
    data["phone"] = "13900000000"
    assert client.post(url, data).status_code == 302
    assert Household.objects.get(pk=household.pk).category.code == "relative"


def category_of(code):
    return Category.objects.get(code=code)


def test_the_services_refuse_a_category_of_the_other_scheme(make_household, orgs, users, walk):
    """The rule is the services' (eligibility.scheme_categories), not the form's alone: a new
    file in a county of the 2015 scheme cannot take 深度困难, nor a file of a county of the
    current scheme 低保户, unless it was filed before 2021 (DOMAIN.md "Categories"); a category
    already on the file stays when other facts are edited."""
    county = orgs["450103"]
    county.category_scheme = "2015"
    county.save()
    with pytest.raises(ValidationError) as exc:
        make_household(by="clerk_450103", org="450103", category=category_of("deep"))
    assert exc.value.message_dict["category"] == ["请选择建档单位所用困难类别标准中的类别。"]
    assert not Household.objects.exists()
    make_household(by="clerk_450103", org="450103", category=category_of("near_dibao"))

    household = walk(make_household(category=category_of("relative")), "on_file")
    clerk = users["clerk_450102"]

    def edit(category):
        household.refresh_from_db()
        household.category = category
        services.household_update(
            user=clerk, household=household, members=kept_members(household), reason="更正"
        )

    with pytest.raises(ValidationError) as exc:
        edit(category_of("dibao"))
    assert "category" in exc.value.message_dict
    household.current_period.filed_on = date(2020, 6, 30)  # a legacy file
    household.current_period.save()
    edit(category_of("dibao"))
    household.current_period.filed_on = date(2021, 1, 1)
    household.current_period.save()
    edit(category_of("dibao"))  # kept on the file
    household.refresh_from_db()
    assert household.category.code == "dibao"
    with pytest.raises(ValidationError):
        edit(category_of("near_dibao"))
