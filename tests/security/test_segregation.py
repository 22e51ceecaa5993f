"""Segregation of duties, through every door a decision has: the staff page and the admin's bulk
action. Nobody approves a household file they entered or submitted, a closure they requested, or
an assistance request they made; nobody gives both approvals of a two-level request; nobody pays
what they requested or approved. The culprit here holds both roles (a small union's vice-chair
who also keys in files), so only the rule — not a missing permission — can stop them; each test
ends with a colleague doing the same step successfully, so the refusal is the rule's doing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from funds.models import Approval, AssistanceRequest, RequestState
from households import services as household_services
from households.models import ClosureRequest, Household, Status
from orgs.models import User
from tests.households.conftest import age_file, walk_file

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


@pytest.fixture
def both(orgs, users):
    """A user of county A who is clerk and supervisor (and finance) at once."""
    user = User.objects.create(
        username="both_450102", full_name="兼职审批人", organisation=orgs["450102"], is_staff=True
    )
    user.groups.add(*Group.objects.filter(name__in=["clerk", "supervisor", "finance"]))
    users[user.username] = user
    return user


def said(response) -> str:
    """The refusal as the user reads it: on the page, or in the admin's messages."""
    if response.status_code == 200:
        return response.content.decode()
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def approve_file_on_page(client, household):
    url = reverse("households:transition", args=[household.pk, "approve"])
    return client.post(url, {"step-approve-reason": "经审核符合条件"})


def approve_file_in_admin(client, household):
    return client.post(
        reverse("admin:households_household_changelist"),
        {
            "action": "approve_applications",
            "_selected_action": [household.pk],
            "post": "yes",
            "reason": "经审核符合条件",
        },
    )


def reopened_by(user, make_household, users):
    """A file the clerk entered and submitted and a supervisor refused half a year ago, which
    `user` reopened 50 days ago (重新申请: straight back to applied, with no submit)."""
    household = make_household(by="clerk_450102")
    age_file(household, 200)
    today = timezone.localdate()
    household_services.transition_apply(
        user=users["clerk_450102"],
        household=household,
        action="submit",
        effective_date=today - timedelta(190),
    )
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="reject",
        reason="不符合条件",
        effective_date=today - timedelta(180),
    )
    household_services.transition_apply(
        user=user,
        household=household,
        action="reopen",
        reason="情况变化",
        effective_date=today - timedelta(50),
    )
    return household


@pytest.mark.parametrize("door", [approve_file_on_page, approve_file_in_admin])
@pytest.mark.parametrize("part", ["entered", "submitted", "reopened"])
def test_nobody_approves_a_file_they_entered_or_submitted(
    both, make_household, walk, login, users, door, part
):
    if part == "entered":
        household = walk(make_household(by="both_450102"), "notice", clerk="both_450102")
    elif part == "reopened":  # a reopening is this filing's application: the rest by the clerk
        household = walk_file(users, reopened_by(both, make_household, users), "notice")
    else:  # entered by the clerk, submitted by the vice-chair, the rest by the clerk
        household = make_household(by="clerk_450102")
        age_file(household, 50)  # entered 50 days ago, so the notice can have run
        household_services.transition_apply(
            user=both,
            household=household,
            action="submit",
            effective_date=timezone.localdate() - timedelta(45),
        )
        household = walk_file(users, household, "notice")
    response = door(login("both_450102"), household)
    assert response.status_code in (200, 302)
    household.refresh_from_db()
    assert household.status == Status.NOTICE
    assert "不能审批自己录入或提交的档案" in said(response)
    door(login("supervisor_450102"), household)
    household.refresh_from_db()
    assert household.status == Status.ON_FILE


def test_nobody_decides_the_objections_to_a_file_they_reopened(both, make_household, users):
    """Dismissing an objection clears the way to approval: the same segregation holds."""
    household = walk_file(users, reopened_by(both, make_household, users), "notice")
    objection = household_services.objection_record(
        user=users["clerk_450102"],
        household=household,
        raised_by="邻居",
        raised_on=household.current_period.notice.ends_on,  # within the notice
        content="有两套住房",
    )
    with pytest.raises(ValidationError) as exc:
        household_services.objection_resolve(
            user=both, objection=objection, outcome="dismissed", finding="无"
        )
    assert exc.value.messages == ["不能处理自己录入或提交的档案的公示异议。"]
    household_services.objection_resolve(
        user=users["supervisor_450102"], objection=objection, outcome="dismissed", finding="无"
    )


def decide_closure_on_page(client, closure):
    url = reverse("households:closure_decide", args=[closure.pk])
    return client.post(url, {"decision": "approve", "note": "同意"})


def decide_closure_in_admin(client, closure):
    return client.post(
        reverse("admin:households_closurerequest_changelist"),
        {
            "action": "approve_closures",
            "_selected_action": [closure.pk],
            "post": "yes",
            "reason": "同意",
        },
    )


@pytest.mark.parametrize("door", [decide_closure_on_page, decide_closure_in_admin])
def test_nobody_approves_a_closure_they_requested(both, make_household, walk, login, door):
    household = walk(make_household(), "on_file")
    closure = household_services.closure_request(
        user=both,
        household=household,
        kind="exited",
        effective_date=timezone.localdate(),
        reason="收入已稳定",
    )
    assert "不能审批自己提出的申请" in said(door(login("both_450102"), closure))
    closure.refresh_from_db()
    assert closure.state == ClosureRequest.State.PENDING
    assert Household.objects.get(pk=household.pk).status == Status.ON_FILE
    door(login("supervisor_450102"), closure)
    closure.refresh_from_db()
    assert closure.state == ClosureRequest.State.APPROVED
    assert Household.objects.get(pk=household.pk).status == Status.EXITED


def decide_request_on_page(client, request, decision="approve"):
    url = reverse("funds:request_decide", args=[request.pk])
    return client.post(url, {"decision": decision, "reason": "同意"})


def decide_request_in_admin(client, request, decision="approve"):
    action = "approve_selected" if decision == "approve" else "reject_selected"
    return client.post(
        reverse("admin:funds_assistancerequest_changelist"),
        {"action": action, "_selected_action": [request.pk], "confirm": "yes", "reason": "同意"},
    )


@pytest.fixture
def money(receive):
    receive("50000.00", on=date(YEAR, 1, 2))


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("door", [decide_request_on_page, decide_request_in_admin])
def test_nobody_decides_an_assistance_request_they_made(
    both, filed, money, ask, login, door, decision
):
    request = ask(filed(), "800.00", by="both_450102")
    response = door(login("both_450102"), request, decision)
    assert "不能审批自己提出的申请" in said(response)
    request.refresh_from_db()
    assert request.state == RequestState.REQUESTED
    assert not Approval.objects.filter(request=request).exists()
    door(login("supervisor_450102"), request, decision)
    request.refresh_from_db()
    assert request.state == (RequestState.APPROVED if decision == "approve" else "rejected")


@pytest.mark.parametrize("door", [decide_request_on_page, decide_request_in_admin])
def test_one_person_never_gives_both_approvals(both, filed, money, ask, standard, login, door):
    standard("medical", year=YEAR, second_approval_above=Decimal("500.00"), second_approver="same")
    request = ask(filed(), "800.00", kind="medical")
    assert request.approvals_required == 2
    door(login("supervisor_450102"), request)
    assert "第二级审批须由另一名审批人进行" in said(door(login("supervisor_450102"), request))
    request.refresh_from_db()
    assert request.state == RequestState.REQUESTED
    assert request.approvals.count() == 1
    door(login("both_450102"), request)  # a second supervisor
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_nobody_pays_what_they_approved(both, filed, money, ask, login):
    request = ask(filed(), "800.00")
    decide_request_on_page(login("both_450102"), request)
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    url = reverse("funds:request_pay", args=[request.pk])
    form = {"paid_on": timezone.localdate().isoformat(), "bank_reference": "BANK-9"}
    response = login("both_450102").post(url, form)
    assert response.status_code == 200
    assert "不能为自己申请或审批的帮扶登记发放" in response.content.decode()
    assert AssistanceRequest.objects.get(pk=request.pk).state == RequestState.APPROVED
    login("finance_450102").post(url, form)
    assert AssistanceRequest.objects.get(pk=request.pk).state == RequestState.PAID
