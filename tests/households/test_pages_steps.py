"""The lifecycle through the pages: each step's form, the notice page, surveys, objections,
closures, the logged reveal of full numbers and the documents."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from households import services
from households.models import (
    Category,
    ClosureRequest,
    Document,
    Household,
    Objection,
    PublicNotice,
)
from orgs.calendar import add_working_days
from orgs.models import AccessLog, Holiday
from tests.conftest import on_day

TODAY = timezone.localdate
PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def step(client, household, action, **data):
    url = reverse("households:transition", args=[household.pk, action])
    return client.post(url, {f"step-{action}-{k}": v for k, v in data.items()})


def status_of(household) -> str:
    return Household.objects.values_list("status", flat=True).get(pk=household.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_submit_survey_review_through_the_pages(login, make_household):
    household = make_household()
    clerk = login("clerk_450102")
    response = step(clerk, household, "submit")
    assert response.status_code == 302 and status_of(household) == "applied"

    response = step(clerk, household, "review")
    assert response.status_code == 200
    assert "请先登记入户调查" in str(response.context["form"].non_field_errors())
    assert status_of(household) == "applied"

    members = {m.relation: m for m in household.members.all()}
    survey_url = reverse("households:survey", args=[household.pk])
    form = clerk.get(survey_url).context["form"]
    assert form[f"income_{members['self'].pk}"].value() == Decimal("600.00")
    response = clerk.post(
        survey_url,
        {
            "surveyed_on": TODAY().isoformat(),  # not before the application, made today
            "surveyors": "王录入员、李主席",
            "findings": "妻子患慢性病，家中无其他收入。",
            f"income_{members['self'].pk}": "800.00",
            f"income_{members['spouse'].pk}": "0.00",
        },
    )
    assert response.status_code == 302
    household.refresh_from_db()
    survey = household.surveys.get()
    assert survey.per_capita_income == Decimal("400.00") and not survey.is_above_line
    assert household.per_capita_income == Decimal("400.00")

    response = step(clerk, household, "review")
    assert response.status_code == 302 and status_of(household) == "reviewed"


def test_a_survey_in_the_future_is_refused_at_its_field(login, walk, make_household):
    household = walk(make_household(), "applied")
    self_row = household.members.get(relation="self")
    response = login("clerk_450102").post(
        reverse("households:survey", args=[household.pk]),
        {
            "surveyed_on": (TODAY() + timedelta(days=2)).isoformat(),
            "surveyors": "王",
            "findings": "x",
            f"income_{self_row.pk}": "100",
            f"income_{household.members.exclude(pk=self_row.pk).get().pk}": "-1",
        },
    )
    form = response.context["form"]
    assert form.errors[f"income_{household.members.exclude(pk=self_row.pk).get().pk}"]
    assert household.surveys.count() == 0


def test_the_notice_page_posts_reviewed_files(login, walk, make_household, users):
    first = walk(make_household(), "reviewed")
    second = walk(make_household(worker_name="李四"), "reviewed")
    draft = make_household(worker_name="王五")
    other = walk(
        make_household(org="450103", by="clerk_450103", worker_name="外县"),
        "reviewed",
        clerk="clerk_450103",
        supervisor="supervisor_450103",
    )
    clerk = login("clerk_450102")
    url = reverse("households:notice_start")
    page = clerk.get(url, {"household": first.pk})
    form = page.context["form"]
    offered = set(form.fields["households"].queryset)
    assert offered == {first, second}
    assert draft not in offered and other not in offered
    assert form["households"].value() == [first.pk]
    assert form["starts_on"].value() == TODAY()

    response = clerk.post(url, {"organisation": first.organisation_id, "objection_contact": "x"})
    assert "请至少选择一户" in str(response.context["form"].errors["households"])
    assert PublicNotice.objects.count() == 0

    posted = {
        "organisation": first.organisation_id,
        "households": [first.pk, second.pk],
        "starts_on": (TODAY() - timedelta(days=1)).isoformat(),
        "objection_contact": "兴宁区总工会 0771-12351",
    }
    # Dated back, its working days would have passed before anyone saw it posted.
    response = clerk.post(url, posted)
    assert "不能早于今天" in response.context["form"].errors["starts_on"][0]
    assert PublicNotice.objects.count() == 0
    response = clerk.post(url, {**posted, "starts_on": TODAY().isoformat()}, follow=True)
    assert "已开始公示：2户" in response.content.decode()
    assert status_of(first) == status_of(second) == "notice"
    notice = PublicNotice.objects.get()
    assert notice.created_by == users["clerk_450102"]

    # The next notice offers the same contact.
    third = walk(make_household(worker_name="赵六"), "reviewed")
    form = clerk.get(url, {"household": third.pk}).context["form"]
    assert form["objection_contact"].value() == "兴宁区总工会 0771-12351"


def test_a_notice_over_a_year_without_holidays_warns_that_its_end_may_be_early(
    login, walk, make_household
):
    """Until the year's national holidays are entered, its festivals count as working days."""
    first, second = (walk(make_household(worker_name=name), "reviewed") for name in "甲乙")
    url = reverse("households:notice_start")
    posted = {
        "organisation": first.organisation_id,
        "starts_on": TODAY().isoformat(),
        "objection_contact": "兴宁区总工会 0771-12351",
    }
    Holiday.objects.filter(organisation=None).delete()
    clerk = login("clerk_450102")
    page = clerk.post(url, {**posted, "households": [first.pk]}, follow=True).content.decode()
    notice = PublicNotice.objects.get()
    assert f"{TODAY().year}年的全国节假日尚未录入：公示截止日 {notice.ends_on}" in page

    for year in range(notice.starts_on.year, notice.ends_on.year + 2):
        Holiday.objects.create(date=date(year, 10, 1), name="国庆节")
    page = clerk.post(url, {**posted, "households": [second.pk]}, follow=True).content.decode()
    assert "已开始公示：1户" in page and "尚未录入" not in page


def test_a_holiday_entered_later_moves_the_end_of_a_running_notice(
    login, walk, make_household, users, orgs
):
    """Entered after the notice was posted, a holiday in its period makes it end later (logged on
    the notice: who, when, why); never earlier, and only where the holiday applies."""
    household = walk(make_household(), "reviewed")
    notice = services.notice_start(
        user=users["clerk_450102"],
        organisation=household.organisation,
        households=[household],
        starts_on=TODAY(),
        objection_contact="0771-12351",
    )
    posted_end = notice.ends_on
    add = reverse("admin:orgs_holiday_add")

    # Another county's holiday does not apply here.
    login("admin_450103").post(
        add, {"date": posted_end, "name": "县节", "organisation": orgs["450103"].pk}
    )
    notice.refresh_from_db()
    assert Holiday.objects.filter(date=posted_end).exists() and notice.ends_on == posted_end

    page = login("admin_450000").post(add, {"date": posted_end, "name": "新节"}, follow=True)
    notice.refresh_from_db()
    assert notice.ends_on > posted_end
    assert notice.ends_on == add_working_days(notice.starts_on, 5, household.organisation)
    assert f"（至 {notice.ends_on}）" in page.content.decode()
    entry = LogEntry.objects.get(object_id=str(notice.pk))
    assert entry.user == users["admin_450000"]
    assert (
        entry.change_message == f"节假日调整：公示结束日期由 {posted_end} 顺延至 {notice.ends_on}。"
    )

    # Now over a weekend: a make-up working day there would end it a day earlier. The posted
    # end stands.
    later_end = notice.ends_on
    weekend = next(
        day
        for day in (notice.starts_on + timedelta(days=n) for n in range(14))
        if day.weekday() >= 5 and not Holiday.objects.filter(date=day).exists()
    )
    assert weekend < later_end
    login("admin_450102").post(
        add,
        {
            "date": weekend,
            "name": "调休",
            "organisation": orgs["450102"].pk,
            "is_working_day": "on",
        },
    )
    assert Holiday.objects.filter(date=weekend, is_working_day=True).exists()
    notice.refresh_from_db()
    assert notice.ends_on == later_end
    assert add_working_days(notice.starts_on, 5, household.organisation) < later_end
    with pytest.raises(ValidationError):  # approval waits for the new end
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve", reason="符合"
        )


@pytest.mark.parametrize("how", ["delete_view", "delete_selected"])
def test_a_make_up_working_day_deleted_moves_the_end_of_a_running_notice(
    login, walk, make_household, users, orgs, how
):
    """A make-up working day (调休) on a weekend of a running notice, deleted as entered in error,
    leaves the notice one working day short: its end moves later, as when a holiday is
    entered, whichever way the administrator deletes it."""
    household = walk(make_household(), "reviewed")
    weekend = next(  # a Saturday after a working Friday, on or after today
        day
        for day in (TODAY() + timedelta(days=n) for n in range(1, 22))
        if day.weekday() == 5
        and not Holiday.objects.filter(date__in=[day, day - timedelta(days=1)]).exists()
    )
    made_up = Holiday.objects.create(
        date=weekend, name="调休", organisation=orgs["450102"], is_working_day=True
    )
    notice = services.notice_start(
        user=users["clerk_450102"],
        organisation=household.organisation,
        households=[household],
        starts_on=weekend - timedelta(days=1),
        objection_contact="0771-12351",
    )
    posted_end = notice.ends_on
    assert weekend < posted_end
    admin = login("admin_450102")
    if how == "delete_view":
        admin.post(reverse("admin:orgs_holiday_delete", args=[made_up.pk]), {"post": "yes"})
    else:
        admin.post(
            reverse("admin:orgs_holiday_changelist"),
            {"action": "delete_selected", "_selected_action": [made_up.pk], "post": "yes"},
        )
    assert not Holiday.objects.filter(pk=made_up.pk).exists()
    notice.refresh_from_db()
    assert notice.ends_on > posted_end
    assert notice.ends_on == add_working_days(notice.starts_on, 5, household.organisation)


@pytest.mark.parametrize("moved_by", [0, 7])
def test_a_make_up_working_day_moved_to_another_organisation_moves_the_old_ones_notices(
    login, walk, make_household, users, orgs, moved_by
):
    """A make-up working day (调休) changed to another organisation (on another date too) is
    lost to the old one's calendar as if deleted: the running notices there end later, not
    only those of the organisation that gained it."""
    household = walk(make_household(), "reviewed")
    weekend = next(  # a Saturday after a working Friday, on or after today
        day
        for day in (TODAY() + timedelta(days=n) for n in range(1, 22))
        if day.weekday() == 5
        and not Holiday.objects.filter(date__in=[day, day - timedelta(days=1)]).exists()
    )
    made_up = Holiday.objects.create(
        date=weekend, name="调休", organisation=orgs["450102"], is_working_day=True
    )
    notice = services.notice_start(
        user=users["clerk_450102"],
        organisation=household.organisation,
        households=[household],
        starts_on=weekend - timedelta(days=1),
        objection_contact="0771-12351",
    )
    posted_end = notice.ends_on
    assert weekend < posted_end
    login("admin_450000").post(
        reverse("admin:orgs_holiday_change", args=[made_up.pk]),
        {
            "date": weekend + timedelta(days=moved_by),
            "name": "调休",
            "organisation": orgs["450103"].pk,
            "is_working_day": "on",
        },
    )
    made_up.refresh_from_db()
    assert made_up.organisation == orgs["450103"]
    notice.refresh_from_db()
    assert notice.ends_on > posted_end
    assert notice.ends_on == add_working_days(notice.starts_on, 5, household.organisation)


@pytest.mark.parametrize("starts_on", ["0001-01-01", "9999-12-31"])
def test_a_notice_start_out_of_bounds_is_refused_at_its_field(
    login, walk, make_household, starts_on
):
    household = walk(make_household(), "reviewed")
    response = login("clerk_450102").post(
        reverse("households:notice_start"),
        {
            "organisation": household.organisation_id,
            "households": [household.pk],
            "starts_on": starts_on,
            "objection_contact": "0771-12351",
        },
    )
    assert response.status_code == 200
    assert "公示开始日期不能" in response.context["form"].errors["starts_on"][0]
    assert status_of(household) == "reviewed" and PublicNotice.objects.count() == 0


def test_start_notice_button_leads_to_the_notice_page(login, walk, make_household):
    household = walk(make_household(), "reviewed")
    url = reverse("households:transition", args=[household.pk, "start_notice"])
    response = login("clerk_450102").get(url)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/households/notices/new/?household={household.pk}")
    detail = login("clerk_450102").get(reverse("households:detail", args=[household.pk]))
    assert [a["action"] for a in detail.context["actions"]] == ["start_notice"]


@pytest.mark.parametrize("chosen", ["²", "٣", "99999999999999999999", "x", ""])
def test_the_notice_page_ignores_a_household_that_is_no_key(login, chosen):
    """ "²" passes str.isdigit(), not int(): the page opens with nothing chosen, no error 500."""
    client = login("clerk_450102")
    client.raise_request_exception = False
    response = client.get(reverse("households:notice_start"), {"household": chosen})
    assert response.status_code == 200


def test_approve_through_the_page(login, walk, make_household):
    household = walk(make_household(), "notice")
    supervisor = login("supervisor_450102")
    page = supervisor.get(reverse("households:transition", args=[household.pk, "approve"]))
    assert page.context["verdict"].eligible is True
    assert not page.context["form"].fields["reason"].required
    response = step(supervisor, household, "approve", reason="经审核符合条件")
    assert response.status_code == 302 and status_of(household) == "on_file"
    follow = supervisor.get(response["Location"])
    assert "在档" in follow.content.decode()


def test_approve_before_the_notice_has_run_is_refused(login, walk, make_household, users):
    household = walk(make_household(), "reviewed")
    services.notice_start(
        user=users["clerk_450102"],
        organisation=household.organisation,
        households=[household],
        starts_on=TODAY(),
        objection_contact="0771-12351",
    )
    response = step(login("supervisor_450102"), household, "approve", reason="同意")
    assert response.status_code == 200
    assert "期满后方可审批" in str(response.context["form"].non_field_errors())
    assert status_of(household) == "notice"


def test_approve_against_the_verdict_needs_a_reason(login, walk, make_household):
    household = walk(make_household(worker_income="9000.00"), "notice")
    supervisor = login("supervisor_450102")
    detail = supervisor.get(reverse("households:detail", args=[household.pk]))
    approve = next(a for a in detail.context["actions"] if a["action"] == "approve")
    assert approve["reason_required"]
    assert approve["form"]["reason"].label == "审批意见"
    response = step(supervisor, household, "approve", reason="")
    assert response.context["form"].errors["reason"]
    assert response.context["form"]["reason"].label == "审批意见"  # as on the file page
    assert status_of(household) == "notice"
    response = step(supervisor, household, "approve", reason="重病，经集体研究同意建档")
    assert status_of(household) == "on_file"
    assert household.transitions.get(action="approve").against_verdict


def test_reject_withdraw_and_reopen_need_reasons(login, walk, make_household):
    clerk = login("clerk_450102")
    draft = make_household()
    response = step(clerk, draft, "withdraw", reason="")
    assert response.context["form"].errors["reason"]
    assert status_of(draft) == "draft"
    step(clerk, draft, "withdraw", reason="重复录入")
    assert status_of(draft) == "withdrawn"
    step(clerk, draft, "reopen", reason="重新核实后申请")
    assert status_of(draft) == "applied"
    step(login("supervisor_450102"), draft, "reject", reason="收入超过标准")
    assert status_of(draft) == "rejected"


def test_a_step_from_the_wrong_state_says_why(login, make_household):
    household = make_household()
    response = step(login("supervisor_450102"), household, "reject", reason="x")
    assert "不能执行" in str(response.context["form"].non_field_errors())
    assert status_of(household) == "draft"


def test_unknown_and_closure_actions_are_not_steps(login, make_household):
    household = make_household()
    clerk = login("clerk_450102")
    for action in ("explode", "exit", "relieve", "deregister"):
        url = reverse("households:transition", args=[household.pk, action])
        assert clerk.post(url).status_code == 404


def test_the_buttons_are_exactly_the_allowed_actions(login, walk, make_household):
    household = walk(make_household(), "notice")
    url = reverse("households:detail", args=[household.pk])
    actions = login("supervisor_450102").get(url).context["actions"]
    assert [a["action"] for a in actions] == ["approve", "reject"]
    assert login("clerk_450102").get(url).context["actions"] == []
    assert login("viewer_450100").get(url).context["actions"] == []


# --- Objections -----------------------------------------------------------------------------


def test_objections_are_recorded_and_resolved_through_the_pages(login, walk, make_household):
    household = walk(make_household(), "notice")
    clerk = login("clerk_450102")
    response = clerk.post(
        reverse("households:objection_create", args=[household.pk]),
        {
            "raised_by": "邻居王某",
            "raised_on": household.current_period.notice.ends_on.isoformat(),
            "content": "该户有两套住房",
        },
    )
    assert response.status_code == 302
    objection = Objection.objects.get()
    response = step(login("supervisor_450102"), household, "approve", reason="同意")
    assert "异议尚未全部处理" in str(response.context["form"].non_field_errors())

    url = reverse("households:objection_resolve", args=[objection.pk])
    assert login("clerk_450102").get(url).status_code == 403  # the supervisor decides
    supervisor = login("supervisor_450102")
    response = supervisor.post(url, {"outcome": "dismissed", "finding": ""})
    assert response.context["form"].errors["finding"]
    response = supervisor.post(url, {"outcome": "dismissed", "finding": "只有一套住房"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.outcome == "dismissed"
    # Opened again (an old link, a second tab): said at once, no form to fill for nothing.
    again = supervisor.get(url, follow=True)
    assert again.redirect_chain[-1][0].endswith("#objections")
    assert "该异议已处理。" in again.content.decode()
    step(login("supervisor_450102"), household, "approve", reason="同意")
    assert status_of(household) == "on_file"


def test_an_objection_dated_tomorrow_is_refused_at_its_field(login, walk, make_household):
    household = walk(make_household(), "notice")
    response = login("clerk_450102").post(
        reverse("households:objection_create", args=[household.pk]),
        {
            "raised_by": "邻居王某",
            "raised_on": (TODAY() + timedelta(days=1)).isoformat(),
            "content": "该户有两套住房",
        },
    )
    assert "提出日期不能晚于今天" in response.context["form"].errors["raised_on"][0]
    assert Objection.objects.count() == 0


def test_the_objection_form_offers_a_date_the_notice_allows(login, walk, make_household):
    # Entered after the notice ended (the walk's notice ended weeks ago), an objection was
    # raised while it ran: the form offers its last day, which the service takes, not today.
    household = walk(make_household(), "notice")
    ends_on = household.current_period.notice.ends_on
    assert ends_on < TODAY()
    url = reverse("households:objection_create", args=[household.pk])
    form = login("clerk_450102").get(url).context["form"]
    assert form["raised_on"].value() == ends_on
    detail = login("clerk_450102").get(reverse("households:detail", args=[household.pk]))
    assert detail.context["objection_form"]["raised_on"].value() == ends_on


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_notice_scheduled_ahead_says_when_objections_can_be_entered(
    login, walk, make_household, users, language
):
    """Its files are under notice already, but no objection can be dated before the notice
    starts nor after today: the file's page says from when, instead of a form that can only
    be refused, and the form's own page sends back with the same word."""
    household = walk(make_household(), "reviewed")
    starts_on = TODAY() + timedelta(days=3)
    services.notice_start(
        user=users["clerk_450102"],
        organisation=household.organisation,
        households=[household],
        starts_on=starts_on,
        objection_contact="兴宁区总工会 0771-12351",
    )
    clerk = login("clerk_450102")
    clerk.cookies["django_language"] = language
    detail = clerk.get(reverse("households:detail", args=[household.pk]))
    assert "objection_form" not in detail.context
    said = {
        "zh-hans": f"公示自 {starts_on} 开始，届时起可登记异议。",
        "en": f"The notice starts on {starts_on}; objections can be entered from then.",
    }[language]
    assert said in detail.content.decode()
    url = reverse("households:objection_create", args=[household.pk])
    page = clerk.get(url, follow=True)
    assert page.redirect_chain[-1][0].endswith("#objections")
    assert said in page.content.decode()
    with on_day(starts_on):  # from its first day, the form is offered with that day
        form = clerk.get(reverse("households:detail", args=[household.pk])).context[
            "objection_form"
        ]
        assert form["raised_on"].value() == starts_on


def test_objections_only_while_under_notice(login, make_household):
    household = make_household()
    response = login("clerk_450102").post(
        reverse("households:objection_create", args=[household.pk]),
        {"raised_by": "某", "raised_on": TODAY().isoformat(), "content": "x"},
    )
    assert "只有公示中的档案" in str(response.context["form"].non_field_errors())
    assert Objection.objects.count() == 0


# --- Closures ---------------------------------------------------------------------------------


def test_closure_requested_and_approved(login, walk, make_household):
    household = walk(make_household(), "on_file")
    clerk = login("clerk_450102")
    url = reverse("households:closure_request", args=[household.pk])
    response = clerk.post(
        url,
        {"kind": "deregistered", "effective_date": TODAY().isoformat(), "reason": "已迁出"},
    )
    assert "请选择注销原因" in response.context["form"].errors["deregistration_reason"][0]
    assert ClosureRequest.objects.count() == 0
    response = clerk.post(
        url,
        {
            "kind": "deregistered",
            "effective_date": TODAY().isoformat(),
            "deregistration_reason": "moved",
            "reason": "全家迁往外省",
        },
    )
    assert response.status_code == 302
    closure = ClosureRequest.objects.get()

    supervisor = login("supervisor_450102")
    detail = supervisor.get(reverse("households:detail", args=[household.pk]))
    assert detail.context["pending_closure"] == closure
    assert "decision_form" in detail.context
    decide = reverse("households:closure_decide", args=[closure.pk])
    form = supervisor.get(decide).content.decode()
    assert 'type="radio" name="decision" value="approve"' in form and "checked" not in form
    response = supervisor.post(decide, {"note": "同意注销"})  # nothing chosen: nothing done
    assert response.context["form"].errors["decision"] and status_of(household) == "on_file"
    response = supervisor.post(decide, {"decision": "approve", "note": ""})
    assert response.context["form"].errors["note"]
    response = supervisor.post(decide, {"decision": "approve", "note": "同意注销"})
    assert response.status_code == 302
    assert status_of(household) == "deregistered"
    closure.refresh_from_db()
    assert closure.state == "approved"
    again = supervisor.get(decide, follow=True)
    assert "该申请已审批。" in again.content.decode()
    assert again.redirect_chain == [(reverse("households:detail", args=[household.pk]), 302)]


def test_closure_rejected_shows_on_the_clerks_work(login, walk, make_household):
    household = walk(make_household(), "on_file")
    clerk = login("clerk_450102")
    clerk.post(
        reverse("households:closure_request", args=[household.pk]),
        {"kind": "exited", "effective_date": TODAY().isoformat(), "reason": "收入提高"},
    )
    closure = ClosureRequest.objects.get()
    login("supervisor_450102").post(
        reverse("households:closure_decide", args=[closure.pk]),
        {"decision": "reject", "note": "收入证明不全"},
    )
    closure.refresh_from_db()
    assert closure.state == "rejected" and status_of(household) == "on_file"
    home = login("clerk_450102").get("/").content.decode()
    assert "收入证明不全" in home and household.file_number in home


def test_the_requester_cannot_decide(login, walk, make_household, users):
    from django.contrib.auth.models import Group

    from orgs.models import User

    household = walk(make_household(), "on_file")
    users["supervisor_450102"].groups.add(Group.objects.get(name="clerk"))
    supervisor = User.objects.get(username="supervisor_450102")  # permissions not cached
    closure = services.closure_request(
        user=supervisor, household=household, kind="exited", effective_date=TODAY(), reason="x"
    )
    response = login("supervisor_450102").post(
        reverse("households:closure_decide", args=[closure.pk]),
        {"decision": "approve", "note": "同意"},
    )
    assert "不能审批自己" in str(response.context["form"].non_field_errors())
    closure.refresh_from_db()
    assert closure.state == "pending"


# --- Full numbers, the access log -------------------------------------------------------------


def test_viewing_a_file_is_logged(login, make_household, users):
    household = make_household()
    login("viewer_450100").get(reverse("households:detail", args=[household.pk]))
    log = AccessLog.objects.get()
    assert log.action == "view_file" and log.user == users["viewer_450100"]
    assert log.target == f"households.Household:{household.pk}"
    assert log.organisation == household.organisation


def test_reveal_shows_the_full_numbers_and_is_logged(login, make_household, users):
    household = make_household(bank_account="6222000011112222")
    url = reverse("households:reveal", args=[household.pk])
    response = login("clerk_450102").post(url, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200
    assert household.id_number in page and "6222000011112222" in page
    assert "<html" not in page  # the htmx fragment only
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get(action="reveal")
    assert log.user == users["clerk_450102"] and log.target.endswith(f":{household.pk}")
    assert "身份证号码" in log.detail and "银行账号" in log.detail
    full = login("finance_450102").post(url)  # without htmx: a whole page
    assert "<html" in full.content.decode() and household.id_number in full.content.decode()


@pytest.mark.parametrize("username", ["viewer_450100", "viewer_450000", "admin_450102"])
def test_reveal_is_refused_to_roles_without_the_permission(login, make_household, username):
    household = make_household()
    response = login(username).post(reverse("households:reveal", args=[household.pk]))
    assert response.status_code == 403
    assert not AccessLog.objects.filter(action="reveal").exists()
    detail = login(username).get(reverse("households:detail", args=[household.pk]))
    assert household.id_number not in detail.content.decode()


def test_the_detail_page_shows_masked_numbers_only(login, make_household):
    household = make_household(bank_account="6222000011112222")
    spouse = household.members.exclude(relation="self").get()
    page = login("clerk_450102").get(reverse("households:detail", args=[household.pk]))
    html = page.content.decode()
    assert household.id_masked in html and spouse.id_masked in html
    assert household.id_number not in html and spouse.id_number not in html
    assert "6222000011112222" not in html and household.bank_account_masked in html
    assert "显示完整号码" in html


# --- Documents ------------------------------------------------------------------------------


def upload(client, household, content, name="证明.pdf", **data):
    return client.post(
        reverse("households:document_upload", args=[household.pk]),
        {"kind": "income_proof", "file": SimpleUploadedFile(name, content), **data},
    )


def test_upload_and_download_a_document(login, make_household, users):
    household = make_household(documents=False)
    clerk = login("clerk_450102")
    response = upload(clerk, household, PDF, name="收入证明.pdf")
    assert response.status_code == 302 and response["Location"].endswith("#documents")
    document = Document.objects.get()
    assert document.content_type == "application/pdf" and document.original_name == "收入证明.pdf"

    response = login("supervisor_450102").get(
        reverse("households:document_download", args=[document.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    log = AccessLog.objects.get(action="download")
    assert log.user == users["supervisor_450102"]
    assert log.organisation == household.organisation
    assert household.file_number in log.detail


def test_a_documents_name_keeps_no_id_number_in_full(login, make_household):
    """A scan is often named after the worker's ID number; the name is shown on the file's page,
    its trail and the admin to readers who see numbers masked: it is kept masked."""
    household = make_household(documents=False)
    upload(login("clerk_450102"), household, PDF, name=f"{household.id_number}身份证.pdf")
    assert Document.objects.get().original_name == f"{household.id_masked}身份证.pdf"


def test_a_text_file_renamed_to_pdf_is_refused(login, make_household):
    household = make_household(documents=False)
    response = upload(login("clerk_450102"), household, b"just some text\n" * 10, name="x.pdf")
    assert response.status_code == 200
    assert "只能上传PDF、JPEG或PNG文件" in response.context["form"].errors["file"][0]
    assert Document.objects.count() == 0


def test_a_file_over_10_mb_is_refused(login, make_household):
    household = make_household(documents=False)
    big = PDF + b"0" * (10 * 1024 * 1024)
    response = upload(login("clerk_450102"), household, big)
    assert "不能超过10MB" in response.context["form"].errors["file"][0]
    assert Document.objects.count() == 0


def test_a_diagnosis_needs_a_recent_issue_date(login, make_household):
    household = make_household(documents=False)
    clerk = login("clerk_450102")
    response = upload(clerk, household, PDF, kind="diagnosis")
    assert "开具日期" in response.context["form"].errors["issued_on"][0]
    old = (TODAY() - timedelta(days=400)).isoformat()
    response = upload(clerk, household, PDF, kind="diagnosis", issued_on=old)
    assert "一年以内" in response.context["form"].errors["issued_on"][0]
    assert Document.objects.count() == 0


def test_an_issue_date_in_the_future_is_refused(login, make_household):
    household = make_household(documents=False)
    tomorrow = (TODAY() + timedelta(days=1)).isoformat()
    clerk = login("clerk_450102")
    for kind in ("diagnosis", "income_proof"):
        response = upload(clerk, household, PDF, kind=kind, issued_on=tomorrow)
        assert "开具日期不能晚于今天" in response.context["form"].errors["issued_on"][0]
    assert Document.objects.count() == 0


def bank_card(household, users):
    """A bank-card copy uploaded to the file by its clerk."""
    return services.document_upload(
        user=users["clerk_450102"],
        household=household,
        kind="bank_card",
        upload=SimpleUploadedFile("卡.pdf", PDF),
    )


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("clerk_450102", 200),
        ("supervisor_450102", 200),
        ("finance_450102", 403),
        ("viewer_450100", 403),
        ("admin_450102", 403),
        ("clerk_450103", 404),
    ],
)
def test_who_may_download(login, make_household, users, username, expected):
    household = make_household(documents=False)
    document = bank_card(household, users)
    response = login(username).get(reverse("households:document_download", args=[document.pk]))
    if response.streaming:  # read it to the end, so the test client closes the file
        b"".join(response.streaming_content)
    assert response.status_code == expected
    assert AccessLog.objects.filter(action="download").exists() == (expected == 200)


def test_a_document_rolled_back_leaves_no_file_in_storage(
    make_household, users, django_capture_on_commit_callbacks
):
    """An upload whose transaction fails after it (a later step of the same change) leaves no
    scan in storage without its row; a committed upload keeps its file, also beside a copy of
    the same scan rolled back (each stored under its own name)."""
    from django.db import transaction

    household = make_household(documents=False)
    with django_capture_on_commit_callbacks(execute=True):
        kept = bank_card(household, users)
    storage = kept.file.storage
    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back = bank_card(household, users)
        assert storage.exists(rolled_back.file.name)
        raise RuntimeError("a later step of the same change fails")
    assert rolled_back.file.name != kept.file.name
    assert not storage.exists(rolled_back.file.name)
    assert list(Document.objects.all()) == [kept]
    assert storage.exists(kept.file.name)


def test_withdraw_a_document_keeps_it(login, make_household, users):
    household = make_household(documents=False)
    document = bank_card(household, users)
    url = reverse("households:document_withdraw", args=[document.pk])
    clerk = login("clerk_450102")
    # The file page links to the page that asks why; it opens without an error.
    detail = clerk.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert f'href="{url}"' in detail
    asking = clerk.get(url)
    assert asking.status_code == 200 and not asking.context["form"].errors
    response = clerk.post(url, {"reason": " "})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    document.refresh_from_db()
    assert document.is_active
    response = clerk.post(url, {"reason": "银行卡已更换"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert not document.is_active
    assert (document.withdrawn_by, document.withdraw_reason) == (
        users["clerk_450102"],
        "银行卡已更换",
    )
    detail = clerk.get(reverse("households:detail", args=[household.pk]))
    assert list(detail.context["documents"]) == []
    withdrawal = [e for e in detail.context["timeline"] if str(e["title"]).startswith("作废材料")]
    assert [(e["detail"], e["actor"]) for e in withdrawal] == [
        ("卡.pdf\n银行卡已更换", str(users["clerk_450102"]))
    ]
    response = clerk.post(url, {"reason": "再次作废"})
    assert "该材料已作废。" in response.content.decode()
    again = clerk.get(url, follow=True)
    assert again.redirect_chain[-1][0].endswith("#documents")
    assert "该材料已作废。" in again.content.decode()


def test_no_document_is_withdrawn_on_a_closed_file(login, make_household, users):
    household = make_household(documents=False)
    document = bank_card(household, users)
    services.transition_apply(
        user=users["clerk_450102"], household=household, action="withdraw", reason="重复录入"
    )
    response = login("clerk_450102").post(
        reverse("households:document_withdraw", args=[document.pk]), {"reason": "错传"}
    )
    assert "档案已关闭，不能作废材料。" in response.content.decode()
    document.refresh_from_db()
    assert document.is_active and document.withdrawn_at is None


def test_the_approval_says_which_category_the_file_will_have(login, walk, make_household):
    """Approval gives a file without a category the one the assessment suggests: the approver
    reads which before approving, on the file's page and on the approval page."""
    household = walk(make_household(), "notice")
    assert household.category is None
    supervisor = login("supervisor_450102")
    for url in (
        reverse("households:detail", args=[household.pk]),
        reverse("households:transition", args=[household.pk, "approve"]),
    ):
        page = supervisor.get(url).content.decode()
        assert "未填困难类别，审批建档后按认定建议记为“深度困难”" in page, url
    step(supervisor, household, "approve", reason="经审核符合条件")
    household.refresh_from_db()
    assert household.category.name == "深度困难"


def test_the_approval_shows_the_category_entered(login, walk, make_household):
    category = Category.objects.get(code="relative")
    household = walk(make_household(category=category), "notice")
    page = login("supervisor_450102").get(reverse("households:detail", args=[household.pk]))
    assert "困难类别：相对困难" in page.content.decode()
    assert "未填困难类别" not in page.content.decode()


def test_a_withdrawn_draft_says_so(login, make_household):
    clerk = login("clerk_450102")
    draft = make_household(worker_name="王撤回")
    step(clerk, draft, "withdraw", reason="重复录入")
    detail = clerk.get(reverse("households:detail", args=[draft.pk])).content.decode()
    assert "已撤回" in detail and "未通过" not in detail
    listed = clerk.get(reverse("households:list"), {"status": "withdrawn"}).content.decode()
    assert "王撤回" in listed
    refused = clerk.get(reverse("households:list"), {"status": "rejected"}).content.decode()
    assert "王撤回" not in refused
    with pytest.raises(ValidationError, match="已撤回"):  # the same worker comes back
        make_household(id_number=draft.id_number)
