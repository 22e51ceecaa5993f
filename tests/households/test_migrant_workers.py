"""Migrant workers (农民工) are filed as union members a year or more into their labour relation
on the application date (DOMAIN.md "Eligibility"): asked on the form, checked by the services
on the application and at its approval (the imported files: tests/imports)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from households import services
from households.eligibility import migrant_worker_errors
from households.models import Household, Status, Transition
from households.timeline import timeline_for
from tests.households.conftest import MIGRANT, kept_members
from tests.households.test_pages_forms import CREATE, form_data

TODAY = timezone.localdate


def errors(since, *, member=True, applied_on=date(2025, 3, 1)):
    return migrant_worker_errors(
        is_union_member=member, labour_relation_since=since, applied_on=applied_on
    )


@pytest.mark.parametrize(
    ("since", "applied_on", "meets"),
    [
        (date(2024, 3, 1), date(2025, 3, 1), True),  # exactly a year
        (date(2024, 3, 2), date(2025, 3, 1), False),  # a day short of it
        (date(2020, 7, 15), date(2025, 3, 1), True),
        (date(2025, 2, 1), date(2025, 3, 1), False),
        # A year from 29 February ends on 28 February (Civil Code art. 203: the month's end).
        (date(2024, 2, 29), date(2025, 2, 28), True),
        (date(2024, 2, 29), date(2025, 2, 27), False),
    ],
)
def test_a_year_of_labour_relation_on_the_application_date(since, applied_on, meets):
    found = errors(since, applied_on=applied_on)
    assert (found == {}) is meets
    if not meets:
        [message] = found["labour_relation_since"]
        assert "劳动关系起始日期" in message and applied_on.isoformat() in message


def test_a_worker_who_is_no_union_member_is_not_filed():
    found = errors(date(2015, 3, 1), member=False)
    assert list(found) == ["is_union_member"]
    assert found["is_union_member"] == ["“是否工会会员”为“否”：农民工须为工会会员方可建档。"]


def test_missing_answers_name_their_fields():
    assert errors(None, member=None) == {
        "is_union_member": ["农民工须填写“是否工会会员”。"],
        "labour_relation_since": ["农民工须填写“劳动关系起始日期”。"],
    }


# --- The staff form --------------------------------------------------------------------------


def test_the_form_requires_both_answers_of_a_migrant_worker(login, orgs, dibao):
    client = login("clerk_450102")
    response = client.post(CREATE, form_data(orgs, is_migrant_worker="on"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["is_union_member"] == ["农民工须填写“是否工会会员”。"]
    assert form.errors["labour_relation_since"] == ["农民工须填写“劳动关系起始日期”。"]
    assert not Household.objects.exists()
    # Not a migrant worker: neither is asked for.
    assert client.post(CREATE, form_data(orgs)).status_code == 302


def test_the_form_refuses_an_application_that_breaks_the_rule(login, orgs, dibao):
    client = login("clerk_450102")
    short = TODAY() - timedelta(days=200)
    data = form_data(
        orgs, is_migrant_worker="on", is_union_member="true", labour_relation_since=short
    )
    response = client.post(CREATE, data)
    assert response.status_code == 200
    [message] = response.context["form"].errors["labour_relation_since"]
    assert "满一年" in message
    data.update(is_union_member="false", labour_relation_since=date(2015, 3, 1))
    response = client.post(CREATE, data)
    assert "农民工须为工会会员" in response.context["form"].errors["is_union_member"][0]
    assert not Household.objects.exists()

    data.update(is_union_member="true")
    assert client.post(CREATE, data).status_code == 302
    household = Household.objects.get()
    assert household.is_union_member is True
    assert household.labour_relation_since == date(2015, 3, 1)
    page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert "是否工会会员" in page and "2015-03-01" in page


def test_the_form_says_it_in_english(login, orgs, dibao):
    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    response = client.post(CREATE, form_data(orgs, is_migrant_worker="on"))
    form = response.context["form"]
    assert form.errors["is_union_member"] == ["A migrant worker’s file must give “Union member”."]


def test_the_help_text_says_when_the_answers_are_required(login, make_household, walk):
    """Required on an application; on a file on file the fields are optional (the rule decided
    its filing), and the help says so, and where a file without them is listed."""
    client = login("clerk_450102")
    form = client.get(CREATE).context["form"]
    assert form["is_union_member"].help_text == "农民工必填：须为工会会员。"
    assert form["labour_relation_since"].help_text == "农民工必填：至申请日期须满一年。"
    household = make_household(**MIGRANT)
    url = reverse("households:edit", args=[household.pk])
    assert "农民工必填" in client.get(url).context["form"]["is_union_member"].help_text
    walk(household, "on_file")
    form = client.get(url).context["form"]
    for name in ("is_union_member", "labour_relation_since"):
        assert form[name].help_text.startswith("农民工选填（已建档）"), name
        assert "农民工会员资格待核实" in form[name].help_text


def test_the_answers_show_when_the_box_is_ticked(login, orgs):
    """The box names the two fields it reveals (household_form.js hides them while it is not
    ticked); the page itself renders them, so that it works without the script."""
    page = login("clerk_450102").get(CREATE).content.decode()
    assert 'data-reveals="id_is_union_member id_labour_relation_since"' in page
    assert 'id="id_is_union_member"' in page and 'id="id_labour_relation_since"' in page
    assert "households/household_form.js" in page
    assert " hidden" not in page.split('id="id_is_migrant_worker"')[1].split("</fieldset>")[0]


def test_an_edit_of_an_application_is_checked_too(make_household, users):
    household = make_household(**MIGRANT)
    household.is_union_member = False
    with pytest.raises(ValidationError) as exc:
        services.household_update(
            user=users["clerk_450102"], household=household, members=kept_members(household)
        )
    assert list(exc.value.message_dict) == ["is_union_member"]
    assert Household.objects.get(pk=household.pk).is_union_member is True


# --- Submission and approval -----------------------------------------------------------------


def test_approval_of_a_file_that_breaks_the_rule_is_refused(make_household, walk, users):
    household = walk(make_household(**MIGRANT), "notice")
    applied_on = household.current_period.applied_on
    # Corrected after the notice: the labour relation began less than a year before applying.
    Household.objects.filter(pk=household.pk).update(
        labour_relation_since=applied_on - timedelta(days=364)
    )
    steps = Transition.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve", reason="同意"
        )
    [message] = exc.value.message_dict["labour_relation_since"]
    assert "劳动关系起始日期" in message and "满一年" in message
    household.refresh_from_db()
    assert household.status == Status.NOTICE
    assert household.current_period.filed_on is None
    assert Transition.objects.count() == steps

    # A year to the day: approved.
    Household.objects.filter(pk=household.pk).update(
        labour_relation_since=applied_on.replace(year=applied_on.year - 1)
        if (applied_on.month, applied_on.day) != (2, 29)
        else date(applied_on.year - 1, 2, 28)
    )
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="approve", reason="同意"
    )
    household.refresh_from_db()
    assert household.status == Status.ON_FILE


def test_the_approval_page_says_why_before_and_when_refused(login, make_household, walk):
    household = walk(make_household(**MIGRANT), "notice")
    Household.objects.filter(pk=household.pk).update(is_union_member=None)
    client = login("supervisor_450102")
    url = reverse("households:transition", args=[household.pk, "approve"])
    assert "不符合农民工建档条件" in client.get(url).content.decode()
    detail = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert "不符合农民工建档条件" in detail
    response = client.post(url, {"step-approve-reason": "同意"})
    assert response.status_code == 200
    assert "农民工须填写“是否工会会员”。" in response.content.decode()
    household.refresh_from_db()
    assert household.status == Status.NOTICE


def test_the_admin_approval_refuses_it_too(login, make_household, walk):
    household = walk(make_household(**MIGRANT), "notice")
    Household.objects.filter(pk=household.pk).update(is_union_member=False)
    client = login("supervisor_450102")
    data = {"action": "approve_applications", "_selected_action": [household.pk]}
    data.update(post="yes", reason="同意")  # confirmed
    response = client.post(reverse("admin:households_household_changelist"), data, follow=True)
    [refusal] = [str(m) for m in response.context["messages"] if household.file_number in str(m)]
    assert "农民工须为工会会员" in refusal
    household.refresh_from_db()
    assert household.status == Status.NOTICE


def test_a_draft_entered_before_the_rule_is_not_submitted_without_the_answers(
    make_household, users
):
    household = make_household(**MIGRANT)
    Household.objects.filter(pk=household.pk).update(
        is_union_member=None, labour_relation_since=None
    )
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(user=users["clerk_450102"], household=household, action="submit")
    assert set(exc.value.message_dict) == {"is_union_member", "labour_relation_since"}
    household.refresh_from_db()
    assert household.status == Status.DRAFT


# --- Field history -----------------------------------------------------------------------------


def test_changes_of_the_answers_are_in_the_field_history(make_household, walk, users):
    """On file, a worker who has left the union is recorded so (the rule decided the filing;
    what follows is for the supervisor's review of the file), with who, when and why."""
    household = walk(make_household(**MIGRANT), "on_file")
    household.is_union_member = False
    household.labour_relation_since = date(2014, 9, 1)
    services.household_update(
        user=users["clerk_450102"],
        household=household,
        members=kept_members(household),
        reason="退出工会，核实劳动关系起始日期",
    )
    latest = household.history.order_by("-history_id").first()
    assert (latest.is_union_member, latest.labour_relation_since) == (False, date(2014, 9, 1))
    assert latest.history_user == users["clerk_450102"]
    entries = [e for e in timeline_for(household, users["clerk_450102"]) if e["kind"] == "history"]
    assert {(c["field"], c["old"], c["new"]) for c in entries[0]["changes"]} == {
        ("是否工会会员", "是", "否"),
        ("劳动关系起始日期", "2015-03-01", "2014-09-01"),
    }
    assert entries[0]["detail"] == "修改原因：退出工会，核实劳动关系起始日期"
