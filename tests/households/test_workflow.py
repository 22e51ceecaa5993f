"""The lifecycle: every step allowed and refused, by role, with who/when/why recorded."""

from datetime import date, timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from households import services
from households.models import (
    FilingPeriod,
    Household,
    Objection,
    PublicNotice,
    Status,
    Transition,
)
from households.workflow import STEPS, allowed_actions
from orgs.calendar import add_months, add_working_days, working_days_between
from orgs.models import Holiday
from tests.conftest import on_day
from tests.households.conftest import age_file, attach_documents, kept_members, new_id

TODAY = timezone.localdate


# --- The transition table, exhaustively: each action from each state, by each role.

ALL_STATES = list(Status.values)


def state_file(make_household, walk, users, state):
    """A file brought to `state` through real steps."""
    household = make_household()
    if state == "draft":
        return household
    if state in ("applied", "reviewed", "notice", "on_file"):
        return walk(household, state)
    if state == "withdrawn":
        services.transition_apply(
            user=users["clerk_450102"], household=household, action="withdraw", reason="填错了"
        )
        household.refresh_from_db()
        return household
    if state == "rejected":
        household = walk(household, "applied")
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="reject", reason="超标"
        )
        household.refresh_from_db()
        return household
    household = walk(household, "on_file")
    action = {"relieved": "relieve", "exited": "exit", "deregistered": "deregister"}[state]
    services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action=action,
        reason="核实",
        deregistration_reason="moved",
        effective_date=household.current_period.filed_on,
    )
    household.refresh_from_db()
    return household


@pytest.mark.parametrize("state", ALL_STATES)
def test_actions_allowed_exactly_from_their_source_states(make_household, walk, users, state):
    household = state_file(make_household, walk, users, state)
    assert household.status == state
    for action, step in STEPS.items():
        if action in ("approve", "start_notice", "review"):
            continue  # need more than the state; covered by their own tests below
        if state in step.sources:
            continue
        actor = (
            users["supervisor_450102"] if "approve" in step.permission else users["clerk_450102"]
        )
        with pytest.raises(ValidationError) as exc:
            services.transition_apply(
                user=actor,
                household=household,
                action=action,
                reason="x",
                deregistration_reason="other",
            )
        assert "不能执行" in exc.value.messages[0]
        household.refresh_from_db()
        assert household.status == state


@pytest.mark.parametrize(
    ("username", "action", "allowed"),
    [
        ("clerk_450102", "submit", True),
        ("supervisor_450102", "submit", False),
        ("finance_450102", "submit", False),
        ("viewer_450100", "submit", False),
        ("clerk_450103", "submit", False),  # another county's file
        ("clerk_450102", "withdraw", True),
        ("supervisor_450102", "withdraw", False),
    ],
)
def test_who_may_act_on_a_draft(make_household, users, username, action, allowed):
    household = make_household()
    if allowed:
        services.transition_apply(
            user=users[username], household=household, action=action, reason="x"
        )
    else:
        with pytest.raises(PermissionDenied):
            services.transition_apply(
                user=users[username], household=household, action=action, reason="x"
            )
        household.refresh_from_db()
        assert household.status == "draft"


def test_clerk_cannot_approve_and_supervisor_can(make_household, walk, users):
    household = walk(make_household(), "notice")
    with pytest.raises(PermissionDenied):
        services.transition_apply(user=users["clerk_450102"], household=household, action="approve")
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="approve"
    )
    household.refresh_from_db()
    assert household.status == "on_file"


def test_allowed_actions_are_the_buttons(make_household, walk, users):
    household = walk(make_household(), "notice")
    assert allowed_actions(users["clerk_450102"], household) == []
    assert allowed_actions(users["supervisor_450102"], household) == ["approve", "reject"]
    assert allowed_actions(users["viewer_450100"], household) == []


def test_the_full_journey_records_who_when_and_why(make_household, walk, users):
    household = walk(make_household(), "on_file")
    rows = list(Transition.objects.filter(household=household).order_by("id"))
    assert [(r.from_status, r.to_status) for r in rows] == [
        ("", "draft"),
        ("draft", "applied"),
        ("applied", "reviewed"),
        ("reviewed", "notice"),
        ("notice", "on_file"),
    ]
    assert rows[-1].actor == users["supervisor_450102"] and rows[-1].reason == "经审核符合条件"
    assert rows[1].actor == users["clerk_450102"]
    period = household.current_period
    assert period.filed_on == TODAY() and period.origin == "new"
    # twice a year from the review's home survey, not from the approval weeks later
    assert household.last_survey_on < TODAY()
    assert household.next_survey_due == add_months(household.last_survey_on, 6)


def test_the_field_history_of_a_state_change_names_the_user_without_a_request(
    make_household, users
):
    """Services outside a request (background imports, commands) still record who and why."""
    household = make_household()
    reason = "材料齐全，" * 40  # longer than the history's reason column
    services.transition_apply(
        user=users["clerk_450102"], household=household, action="submit", reason=reason
    )
    latest = household.history.latest("history_id")
    assert latest.status == "applied" and latest.history_user == users["clerk_450102"]
    assert (
        reason.startswith(latest.history_change_reason.rstrip(".…"))
        and len(latest.history_change_reason) == 100
    )


def test_review_needs_a_home_survey(make_household, walk, users):
    household = walk(make_household(), "applied")
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(user=users["clerk_450102"], household=household, action="review")
    assert "入户调查" in exc.value.messages[0]


# --- Public notice: minimum working days, holidays, objections.


def test_working_days_skip_weekends_and_holidays(orgs):
    # Mon 2 Nov 2026 … Fri 6 Nov: five working days; a holiday on Wednesday makes it four.
    assert working_days_between(date(2026, 11, 2), date(2026, 11, 8)) == 5
    Holiday.objects.create(date=date(2026, 11, 4), name="测试假日", organisation=orgs["450102"])
    assert working_days_between(date(2026, 11, 2), date(2026, 11, 8), orgs["450102"]) == 4
    assert working_days_between(date(2026, 11, 2), date(2026, 11, 8), orgs["450103"]) == 5
    assert add_working_days(date(2026, 11, 2), 5, orgs["450102"]) == date(2026, 11, 9)


def test_national_holidays_and_make_up_days(orgs):
    # National Day 2026: 1–7 Oct off, Saturday 10 Oct worked (seeded in the demo calendar).
    # Mon 28 Sep–Wed 30 Sep (3), Thu 8–Fri 9 Oct (2), make-up Saturday 10 Oct (1).
    assert working_days_between(date(2026, 9, 28), date(2026, 10, 11)) == 6
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 12)


def test_approval_refused_until_the_notice_has_run(make_household, walk, users):
    household = walk(make_household(), "reviewed")
    services.notice_start(
        user=users["clerk_450102"],
        organisation=household.organisation,
        households=[household],
        starts_on=TODAY(),
        objection_contact="0771-12351",
    )
    household.refresh_from_db()
    notice = household.current_period.notice
    assert working_days_between(notice.starts_on, notice.ends_on) >= 5
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve"
        )
    assert "期满后方可审批" in exc.value.messages[0]
    household.refresh_from_db()
    assert household.status == "notice"


def objection_on_notice(make_household, walk, users):
    """A file on public notice and an objection its clerk recorded."""
    household = walk(make_household(), "notice")
    objection = services.objection_record(
        user=users["clerk_450102"],
        household=household,
        raised_by="邻居王某",
        raised_on=household.current_period.notice.ends_on,  # within the notice
        content="该户有两套住房",
    )
    return household, objection


def test_approval_waits_for_objections(make_household, walk, users):
    household, objection = objection_on_notice(make_household, walk, users)
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve"
        )
    assert "异议尚未全部处理" in exc.value.messages[0]
    # A clerk does not decide objections; who may approve the file does.
    with pytest.raises(PermissionDenied):
        services.objection_resolve(
            user=users["clerk_450102"],
            objection=objection,
            outcome=Objection.Outcome.DISMISSED,
            finding="经核查只有一套住房",
        )
    services.objection_resolve(
        user=users["supervisor_450102"],
        objection=objection,
        outcome=Objection.Outcome.DISMISSED,
        finding="经核查只有一套住房",
    )
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="approve"
    )


def test_an_objection_is_decided_once_even_from_a_page_read_before_the_first_decision(
    make_household, walk, users, admin_user
):
    """Two supervisors deciding the same objection at once: the second, whose page was read
    while it was pending, is told it is decided instead of overwriting the first decision (the
    service reads the objection again under a lock of its file)."""
    _household, objection = objection_on_notice(make_household, walk, users)
    stale = Objection.objects.get(pk=objection.pk)
    services.objection_resolve(
        user=users["supervisor_450102"],
        objection=objection,
        outcome=Objection.Outcome.UPHELD,
        finding="确有两套住房",
    )
    with pytest.raises(ValidationError, match="该异议已处理"):
        services.objection_resolve(
            user=admin_user, objection=stale, outcome=Objection.Outcome.DISMISSED, finding="无"
        )
    objection.refresh_from_db()
    assert (objection.outcome, objection.finding) == (Objection.Outcome.UPHELD, "确有两套住房")
    assert objection.resolved_by == users["supervisor_450102"]


def test_nobody_approves_a_file_they_entered(make_household, walk, users):
    from django.contrib.auth.models import Group

    users["supervisor_450102"].groups.add(Group.objects.get(name="clerk"))
    household = walk(make_household(by="supervisor_450102"), "notice", clerk="supervisor_450102")
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve"
        )
    assert "不能审批自己" in exc.value.messages[0]


def test_approving_against_the_verdict_needs_a_written_reason(make_household, walk, users):
    household = walk(make_household(worker_income="9000.00", owns_multiple_homes=True), "notice")
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve"
        )
    assert "reason" in exc.value.message_dict
    transition = services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="approve",
        reason="房屋为危房，经集体研究同意建档",
    )
    assert transition.against_verdict is True


def test_approval_checks_again_that_the_diagnosis_is_within_a_year(make_household, walk, users):
    """A diagnosis is proof of illness for a year [002]: uploaded two months ago, eleven months
    after it was issued, it is too old for the approval now; a newer one makes it current. (A
    file caused by illness needs a recent one to be submitted at all: this one is not.)"""
    from django.core.files.uploadedfile import SimpleUploadedFile

    household = walk(make_household(primary="low_income"), "notice")
    uploaded_on = TODAY() - timedelta(days=60)
    with on_day(uploaded_on):
        services.document_upload(
            user=users["clerk_450102"],
            household=household,
            kind="diagnosis",
            upload=SimpleUploadedFile("诊断.pdf", b"%PDF-1.4 stale"),
            issued_on=add_months(uploaded_on, -11),
        )
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve", reason="同意"
        )
    assert exc.value.messages == [
        f"档案的诊断证明开具于 {add_months(uploaded_on, -11)}，已超过一年，"
        "请上传一年以内开具的诊断证明后再审批。"
    ]
    assert Household.objects.get(pk=household.pk).status == Status.NOTICE
    services.document_upload(
        user=users["clerk_450102"],
        household=household,
        kind="diagnosis",
        upload=SimpleUploadedFile("复诊.pdf", b"%PDF-1.4 recent"),
        issued_on=TODAY() - timedelta(days=3),
    )
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="approve", reason="同意"
    )
    assert Household.objects.get(pk=household.pk).status == Status.ON_FILE


def test_a_refiling_is_not_held_up_by_an_earlier_filings_diagnosis(make_household, walk, users):
    """A file back after an exit (返困) is a new application with its own documents: a diagnosis
    of its earlier filing, now more than a year old, is that filing's record, not one this
    approval relies on (nor one to withdraw); the supervisor's queue lists the file."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from households import selectors

    clerk, supervisor = users["clerk_450102"], users["supervisor_450102"]
    household = walk(make_household(), "on_file")
    uploaded_on = TODAY() - timedelta(days=400)
    with on_day(uploaded_on):
        services.document_upload(
            user=clerk,
            household=household,
            kind="diagnosis",
            upload=SimpleUploadedFile("诊断.pdf", b"%PDF-1.4 first filing"),
            issued_on=uploaded_on - timedelta(days=10),
        )
    services.transition_apply(
        user=supervisor,
        household=household,
        action="exit",
        reason="收入稳定",
        effective_date=TODAY(),
    )
    services.transition_apply(user=clerk, household=household, action="reopen", reason="再次失业")
    household = walk(household, "notice")

    assert household in selectors.approvals_waiting(supervisor)
    assert household not in selectors.diagnoses_expired(clerk)
    services.transition_apply(user=supervisor, household=household, action="approve", reason="同意")
    assert Household.objects.get(pk=household.pk).status == Status.ON_FILE


# --- Closures and reopening.


def test_exit_before_the_filing_date_is_refused(make_household, walk, users):
    household = walk(make_household(), "on_file")
    with pytest.raises(ValidationError) as exc:
        services.closure_request(
            user=users["clerk_450102"],
            household=household,
            kind="exited",
            effective_date=household.current_period.filed_on - timedelta(days=1),
            reason="x",
        )
    assert "effective_date" in exc.value.message_dict


def test_deregistration_needs_a_reason_code(make_household, walk, users):
    household = walk(make_household(), "on_file")
    with pytest.raises(ValidationError) as exc:
        services.closure_request(
            user=users["clerk_450102"],
            household=household,
            kind="deregistered",
            effective_date=TODAY(),
            reason="已去世",
        )
    assert "deregistration_reason" in exc.value.message_dict


def test_closure_is_approved_by_another_supervisor(make_household, walk, users):
    household = walk(make_household(), "on_file")
    closure = services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="deregistered",
        effective_date=TODAY(),
        reason="户主已去世",
        deregistration_reason="death",
    )
    with pytest.raises(ValidationError):
        services.closure_request(
            user=users["clerk_450102"],
            household=household,
            kind="exited",
            effective_date=TODAY(),
            reason="x",
        )
    with pytest.raises(PermissionDenied):
        services.closure_decide(
            user=users["clerk_450102"], closure=closure, approve=True, note="同意"
        )
    services.closure_decide(
        user=users["supervisor_450102"], closure=closure, approve=True, note="同意注销"
    )
    household.refresh_from_db()
    last = household.transitions.last()
    assert household.status == "deregistered" and last.deregistration_reason == "death"
    assert household.current_period.closed_on == TODAY()


def test_relieved_stays_on_file_and_can_still_be_surveyed(make_household, walk, users):
    household = walk(make_household(), "on_file")
    services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="relieve",
        reason="纳入政府兜底保障",
    )
    household.refresh_from_db()
    assert household.is_supported and household.status == "relieved"
    services.survey_record(
        user=users["clerk_450102"],
        household=household,
        surveyed_on=TODAY(),
        surveyors="王",
        findings="仍需帮扶",
        incomes={},
    )


def test_no_survey_on_a_closed_file(make_household, walk, users):
    household = state_file(make_household, walk, users, "exited")
    with pytest.raises(ValidationError) as exc:
        services.survey_record(
            user=users["clerk_450102"],
            household=household,
            surveyed_on=TODAY(),
            surveyors="王",
            findings="x",
            incomes={},
        )
    assert "不能登记入户调查" in exc.value.messages[0]


def test_reopening_starts_a_relapsed_period_and_keeps_history(make_household, walk, users):
    household = state_file(make_household, walk, users, "exited")
    services.transition_apply(
        user=users["clerk_450102"], household=household, action="reopen", reason="再次因病致困"
    )
    household.refresh_from_db()
    periods = list(FilingPeriod.objects.filter(household=household))
    assert [p.number for p in periods] == [1, 2]
    assert periods[1].origin == "relapsed" and household.current_period == periods[1]
    assert household.status == "applied"
    assert household.transitions.count() == 7  # nothing of the first period was lost


def test_an_approved_file_without_a_category_takes_the_suggested_one(make_household, walk):
    """Else it was on file with no category, missing from every count by category and from
    the category column of its notice; a category chosen by the clerk is kept."""
    from households.models import Category

    bare = make_household(worker_income="600.00")
    verdict = services.verdict_for(bare)
    assert bare.category is None and verdict.category_code
    bare = walk(bare, "on_file")
    assert bare.category.code == verdict.category_code
    on_file = Transition.objects.get(household=bare, to_status=Status.ON_FILE)
    assert on_file.category_id == bare.category_id  # the copy the reports read
    chosen = Category.objects.exclude(code=verdict.category_code).first()
    kept = walk(make_household(worker_income="600.00", category=chosen), "on_file")
    assert kept.category == chosen


def test_filed_before_the_baseline_is_stock(make_household, walk, users, orgs):
    region = orgs["450000"]
    region.stock_baseline_date = TODAY() + timedelta(days=1)
    region.save()
    household = walk(make_household(), "on_file")
    assert household.current_period.origin == "stock"


def test_closed_file_cannot_be_edited(make_household, walk, users):
    household = state_file(make_household, walk, users, "exited")
    with pytest.raises(ValidationError):
        services.household_update(user=users["clerk_450102"], household=household, members=[])


def test_survey_updates_incomes_and_the_exit_signal(make_household, walk, users):
    household = walk(make_household(worker_income="600.00"), "on_file")
    worker = household.members.get(relation="self")
    survey = services.survey_record(
        user=users["clerk_450102"],
        household=household,
        surveyed_on=TODAY(),
        surveyors="王",
        findings="已再就业",
        incomes={worker.pk: Decimal("3000.00")},
    )
    household.refresh_from_db()
    assert household.per_capita_income == Decimal("1500.00")
    assert survey.is_above_line and survey.dibao_line == Decimal("1000.00")
    assert household.last_survey_on == TODAY()


def test_negative_survey_income_is_refused_and_nothing_changes(make_household, walk, users):
    household = walk(make_household(), "on_file")
    worker = household.members.get(relation="self")
    count = household.surveys.count()
    with pytest.raises(ValidationError):
        services.survey_record(
            user=users["clerk_450102"],
            household=household,
            surveyed_on=TODAY(),
            surveyors="王",
            findings="x",
            incomes={worker.pk: Decimal("-1")},
        )
    worker.refresh_from_db()
    assert worker.monthly_income == Decimal("600.00") and household.surveys.count() == count


def test_status_on_any_date_comes_from_the_transitions(make_household, walk, users):
    household = walk(make_household(), "on_file")
    filed = household.current_period.filed_on
    services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="relieve",
        reason="纳入兜底保障",
    )

    def status_on(day):
        rows = Transition.objects.in_force_on(day).filter(household=household)
        assert rows.count() <= 1
        row = rows.first()
        return row.to_status if row else None

    assert status_on(filed - timedelta(days=60)) is None  # before the application
    assert status_on(filed - timedelta(days=25)) == "notice"
    assert status_on(TODAY()) == "relieved"  # later the same day as the approval
    assert status_on(TODAY() + timedelta(days=365)) == "relieved"


def test_a_transition_cannot_be_dated_before_the_previous_one(make_household, walk, users):
    household = walk(make_household(), "on_file")
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="relieve", reason="兜底"
    )
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"],
            household=household,
            action="exit",
            reason="x",
            effective_date=TODAY() - timedelta(days=1),
        )
    assert "effective_date" in exc.value.message_dict


def test_a_user_who_created_files_or_took_steps_cannot_be_deleted(make_household, walk, users):
    """created_by and Transition.actor keep no database key (an import checks one per row):
    PROTECT still refuses the deletion through the ORM, the only way users are removed."""
    from django.db.models import ProtectedError

    household = walk(make_household(), "on_file")
    approver = household.transitions.get(to_status=Status.ON_FILE).actor
    assert approver != household.created_by
    for user in (household.created_by, approver):
        with pytest.raises(ProtectedError):
            user.delete()


def test_closing_a_file_clears_its_survey_due_and_refiling_sets_it_afresh(
    make_household, walk, users
):
    household = state_file(make_household, walk, users, "exited")
    assert household.next_survey_due is None  # closed: nobody is due to visit it
    clerk, supervisor = users["clerk_450102"], users["supervisor_450102"]
    services.transition_apply(user=clerk, household=household, action="reopen", reason="返困")
    household.refresh_from_db()
    assert household.status == "applied" and household.next_survey_due is None

    age_file(household, 40)  # the new application was made 40 days ago
    services.survey_record(
        user=clerk,
        household=household,
        surveyed_on=TODAY() - timedelta(days=35),
        surveyors="王",
        findings="再次因病致困",
        incomes={},
    )
    attach_documents(household, clerk)  # the refiling's own
    services.transition_apply(
        user=clerk,
        household=household,
        action="review",
        effective_date=TODAY() - timedelta(days=34),
    )
    with on_day(TODAY() - timedelta(days=30)):  # posted then
        services.notice_start(
            user=clerk,
            organisation=household.organisation,
            households=[household],
            starts_on=TODAY() - timedelta(days=30),
            objection_contact="0771-12351",
        )
    services.transition_apply(user=supervisor, household=household, action="approve")
    household.refresh_from_db()
    assert household.status == "on_file"
    assert household.next_survey_due == add_months(TODAY() - timedelta(days=35), 6)


@pytest.mark.parametrize("state", ["exited", "deregistered"])
def test_a_closed_file_has_no_survey_due(make_household, walk, users, state):
    household = state_file(make_household, walk, users, state)
    assert household.next_survey_due is None


def test_a_withdrawn_or_rejected_file_has_no_survey_due(make_household, walk, users):
    household = walk(make_household(), "reviewed")  # its survey set a due date
    assert household.next_survey_due is not None
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="reject", reason="不符合"
    )
    household.refresh_from_db()
    assert household.status == "rejected" and household.next_survey_due is None


def test_the_migration_clears_the_survey_due_of_files_closed_before(make_household, walk, users):
    from django.apps import apps

    migration = import_module("households.migrations.0010_closed_files_have_no_survey_due")
    due = TODAY() - timedelta(days=3)
    closed = state_file(make_household, walk, users, "exited")
    on_file = walk(make_household(), "on_file")
    Household.objects.update(next_survey_due=due)  # as the files closed before were left
    migration.clear_survey_due(apps, None)
    assert Household.objects.get(pk=closed.pk).next_survey_due is None
    assert Household.objects.get(pk=on_file.pk).next_survey_due == due


# --- Dates a clerk types: a notice starts after the review, and it and the objections and
# surveys lie between the application and today (a month ahead for a notice).


def start_notice(users, household, starts_on):
    with on_day(min(starts_on, TODAY())):  # a notice dated back is recorded on its day
        return services.notice_start(
            user=users["clerk_450102"],
            organisation=household.organisation,
            households=[household],
            starts_on=starts_on,
            objection_contact="0771-12351",
        )


def test_a_notice_cannot_be_dated_before_the_review(make_household, walk, users):
    household = walk(make_household(), "reviewed")
    reviewed_on = household.status_changed_on
    for day in (date(1, 1, 1), reviewed_on - timedelta(days=1)):
        with pytest.raises(ValidationError) as exc:
            start_notice(users, household, day)
        message = exc.value.message_dict["starts_on"][0]
        assert "公示开始日期不能早于" in message and household.file_number in message
    household.refresh_from_db()
    assert household.status == "reviewed" and household.current_period.notice is None
    assert not PublicNotice.objects.exists()
    assert not household.transitions.filter(to_status="notice").exists()

    # Recorded afterwards, a notice that started on the day of the review is accepted.
    notice = start_notice(users, household, reviewed_on)
    household.refresh_from_db()
    assert household.status == "notice" and household.current_period.notice == notice


def test_a_back_dated_notice_cannot_skip_its_working_days(make_household, walk, users):
    household = walk(make_household(), "applied")
    clerk = users["clerk_450102"]
    services.survey_record(
        user=clerk,
        household=household,
        surveyed_on=TODAY(),
        surveyors="王",
        findings="x",
        incomes={},
    )
    services.transition_apply(user=clerk, household=household, action="review")
    with pytest.raises(ValidationError):
        start_notice(users, household, TODAY() - timedelta(days=30))
    start_notice(users, household, TODAY())
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve"
        )
    assert "期满后方可审批" in exc.value.messages[0]


# A notice that has run stays run: approval waits for its end date, worked out when it was posted
# by the poster's minimum and calendar and moved later by holidays entered while it ran.


def test_a_notice_that_ran_its_period_stays_approvable_after_the_minimum_is_raised(
    make_household, walk, users, orgs
):
    """A county raising its minimum (5 → 7 working days) changes the notices posted from then
    on; a file whose 5-day notice had ended is not refused for good (nothing lengthens a notice
    that is over)."""
    household = walk(make_household(), "notice")  # posted 30 days ago, long over
    waiting = walk(make_household(), "reviewed")
    county = orgs["450102"]
    county.notice_min_working_days = 7
    county.save()
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="approve", reason="同意"
    )
    household.refresh_from_db()
    assert household.status == Status.ON_FILE
    # Posted now, a notice runs the new seven days, and approval waits for its end.
    notice = start_notice(users, waiting, TODAY())
    assert working_days_between(notice.starts_on, notice.ends_on, county) == 7
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=waiting, action="approve"
        )
    assert exc.value.messages == [
        f"公示期至 {notice.ends_on} 结束（至少 7 个工作日），期满后方可审批。"
    ]


def test_a_holiday_entered_after_a_notice_ended_does_not_stop_its_approval(
    make_household, walk, users, orgs
):
    household = walk(make_household(), "notice")
    notice = household.current_period.notice
    county = orgs["450102"]
    Holiday.objects.create(
        date=add_working_days(notice.starts_on, 1, county), name="补录假日", organisation=county
    )
    assert services.notices_follow_calendar(user=users["admin_450102"], organisation=county) == []
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="approve", reason="同意"
    )
    household.refresh_from_db()
    assert household.status == Status.ON_FILE


def city_clerk(orgs, users):
    """A clerk of the city union, who reaches both counties (also in `users`)."""
    from orgs.models import User

    user = User.objects.create(username="clerk_450100", organisation=orgs["450100"])
    user.groups.add(*users["clerk_450102"].groups.all())
    users[user.username] = user
    return user


def test_a_notice_the_city_posts_for_a_county_runs_the_countys_minimum(
    make_household, walk, users, orgs
):
    """A notice posted by the city union for a county's file runs the longer minimum of the two
    (the county's 7 working days, not the city's 5), over the county's holidays too; approval
    waits for that end."""
    county = orgs["450102"]
    county.notice_min_working_days = 7
    county.save()
    household = walk(make_household(), "reviewed")  # reviewed 35 days ago
    notice = services.notice_start(
        user=city_clerk(orgs, users),
        organisation=orgs["450100"],
        households=[household],
        starts_on=TODAY(),
        objection_contact="南宁市总工会 0771-12351",
    )
    assert notice.working_days == 7
    assert working_days_between(notice.starts_on, notice.ends_on, county) == 7
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve", reason="同意"
        )
    assert exc.value.messages == [
        f"公示期至 {notice.ends_on} 结束（至少 7 个工作日），期满后方可审批。"
    ]
    # A holiday of the county alone (the city works that day) lengthens it as well.
    Holiday.objects.create(
        date=add_working_days(notice.starts_on, 2, county), name="县假日", organisation=county
    )
    assert services.notices_follow_calendar(user=users["admin_450102"], organisation=county) == [
        notice
    ]
    notice.refresh_from_db()
    assert working_days_between(notice.starts_on, notice.ends_on, county) == 7
    assert working_days_between(notice.starts_on, notice.ends_on, orgs["450100"]) == 8


def test_a_running_notice_runs_a_minimum_raised_meanwhile(make_household, walk, users, orgs):
    """A county raising its minimum (5 → 7) lengthens its notices still running: the public
    keeps the longer time to object. Lowered again (7 → 5), it shortens none, and a holiday
    entered later moves the end by the seven days the notice runs, not today's five."""
    county = orgs["450102"]
    household = walk(make_household(), "reviewed")
    notice = start_notice(users, household, TODAY())
    assert (notice.working_days, working_days_between(notice.starts_on, notice.ends_on)) == (5, 5)
    county.notice_min_working_days = 7
    county.save()
    assert services.notices_follow_calendar(user=users["admin_450102"], organisation=county) == [
        notice
    ]
    notice.refresh_from_db()
    assert notice.working_days == 7
    assert working_days_between(notice.starts_on, notice.ends_on, county) == 7
    from django.contrib.admin.models import LogEntry

    entry = LogEntry.objects.get(object_id=str(notice.pk))
    assert "公示最少工作日调整为 7 个" in entry.change_message

    county.notice_min_working_days = 5
    county.save()
    assert services.notices_follow_calendar(user=users["admin_450102"], organisation=county) == []
    Holiday.objects.create(
        date=add_working_days(notice.starts_on, 2, county), name="补录假日", organisation=county
    )
    services.notices_follow_calendar(user=users["admin_450102"], organisation=county)
    notice.refresh_from_db()
    assert notice.working_days == 7
    assert working_days_between(notice.starts_on, notice.ends_on, county) == 7
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve", reason="同意"
        )
    assert "至少 7 个工作日" in exc.value.messages[0]


def test_raising_the_minimum_in_the_admin_lengthens_running_notices(
    make_household, walk, users, orgs, login
):
    from django.urls import reverse

    county = orgs["450102"]
    notice = start_notice(users, walk(make_household(), "reviewed"), TODAY())
    data = {"code": county.code, "name": county.name, "level": "county", "is_active": "on"}
    data["notice_min_working_days"] = "8"
    url = reverse("admin:orgs_organisation_change", args=[county.pk])
    response = login("admin_450102").post(url, data, follow=True)
    assert "已按新的公示最少工作日顺延" in response.content.decode()
    notice.refresh_from_db()
    assert working_days_between(notice.starts_on, notice.ends_on, county) == 8


@pytest.mark.parametrize("ahead", [31, 365, None])
def test_a_notice_more_than_a_month_ahead_is_refused(make_household, walk, users, ahead):
    household = walk(make_household(), "reviewed")
    day = TODAY() + timedelta(days=ahead) if ahead else date(9999, 12, 31)
    with pytest.raises(ValidationError) as exc:
        start_notice(users, household, day)
    assert "公示开始日期不能晚于" in exc.value.message_dict["starts_on"][0]
    assert not PublicNotice.objects.exists()
    start_notice(users, household, TODAY() + timedelta(days=services.NOTICE_MAX_DAYS_AHEAD))


def test_the_notice_title_is_chinese_whatever_the_clerks_language(make_household, walk, users):
    household = walk(make_household(), "reviewed")
    with translation.override("en"):
        notice = start_notice(users, household, TODAY())
    assert notice.title == "兴宁区总工会困难职工建档公示"


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, "提出日期不能晚于今天"), (-51, "提出日期不能早于档案的申请日期")],
)
def test_an_objection_is_dated_between_the_application_and_today(
    make_household, walk, users, days, expected
):
    household = walk(make_household(), "notice")  # applied 50 days ago
    with pytest.raises(ValidationError) as exc:
        services.objection_record(
            user=users["clerk_450102"],
            household=household,
            raised_by="邻居",
            raised_on=TODAY() + timedelta(days=days),
            content="有两套住房",
        )
    assert expected in exc.value.message_dict["raised_on"][0]
    assert not Objection.objects.exists()


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, "调查日期不能晚于今天"), (-51, "调查日期不能早于档案的申请日期")],
)
def test_a_survey_is_dated_between_the_application_and_today(
    make_household, walk, users, days, expected
):
    household = walk(make_household(), "applied")  # applied 50 days ago
    worker = household.members.get(relation="self")
    with pytest.raises(ValidationError) as exc:
        services.survey_record(
            user=users["clerk_450102"],
            household=household,
            surveyed_on=TODAY() + timedelta(days=days),
            surveyors="王",
            findings="x",
            incomes={worker.pk: Decimal("900.00")},
        )
    assert expected in exc.value.message_dict["surveyed_on"][0]
    worker.refresh_from_db()
    assert worker.monthly_income == Decimal("600.00") and not household.surveys.exists()


def test_whoever_entered_the_file_does_not_decide_its_objections(make_household, walk, users):
    household, objection = objection_on_notice(make_household, walk, users)
    Household.objects.filter(pk=household.pk).update(created_by=users["supervisor_450102"])
    objection.household.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.objection_resolve(
            user=users["supervisor_450102"], objection=objection, outcome="dismissed", finding="无"
        )
    assert exc.value.messages == ["不能处理自己录入或提交的档案的公示异议。"]
    services.objection_resolve(
        user=users["supervisor2_450102"], objection=objection, outcome="dismissed", finding="无"
    )
    objection.refresh_from_db()
    assert objection.resolved_by == users["supervisor2_450102"]


@pytest.mark.parametrize("state", ["exited", "deregistered", "rejected"])
def test_a_worker_with_a_closed_file_comes_back_by_reopening_it(make_household, walk, users, state):
    """No second file for someone whose file is closed: the clerk is sent to 重新申请 on it (so
    the return counts as 返困, and the person keeps one file). A file the clerk cannot reach
    is another county's to reopen: a new file there is not refused."""
    earlier = state_file(make_household, walk, users, state)
    with pytest.raises(ValidationError) as exc:
        make_household(id_number=earlier.id_number, worker_name="再来")
    [message] = exc.value.message_dict["id_number"]
    assert f"此人已有档案 {earlier.file_number}" in message and "重新申请" in message
    assert Household.objects.filter(id_hash=earlier.id_hash).count() == 1
    services.transition_apply(
        user=users["clerk_450102"], household=earlier, action="reopen", reason="再次致困"
    )
    earlier.refresh_from_db()
    assert earlier.status == "applied"


def test_an_edit_cannot_give_a_file_the_id_of_a_person_with_a_closed_file(make_household, users):
    """Else a file created for someone else and given the person's number afterwards would be
    their second file, and their return counted as new (增量) rather than as 返困."""
    person = new_id()
    earlier = make_household(id_number=person)
    services.transition_apply(
        user=users["clerk_450102"], household=earlier, action="withdraw", reason="录入有误"
    )
    other = make_household()
    other.id_number = person
    with pytest.raises(ValidationError) as exc:
        services.household_update(
            user=users["clerk_450102"], household=other, members=kept_members(other)
        )
    [message] = exc.value.message_dict["id_number"]
    assert f"此人已有档案 {Household.objects.get(pk=earlier.pk).file_number}" in message
    assert Household.objects.get(pk=other.pk).id_hash != earlier.id_hash
    # The reopened file itself is edited as before: the closed file it is is no other file.
    services.transition_apply(
        user=users["clerk_450102"], household=earlier, action="reopen", reason="再次致困"
    )
    earlier.refresh_from_db()
    earlier.phone = "13900000001"
    services.household_update(
        user=users["clerk_450102"], household=earlier, members=kept_members(earlier)
    )


def test_a_closed_file_in_another_county_does_not_stop_a_new_file(make_household, walk, users):
    earlier = state_file(make_household, walk, users, "exited")
    elsewhere = make_household(id_number=earlier.id_number, by="clerk_450103", org="450103")
    assert elsewhere.status == "draft" and elsewhere.id_hash == earlier.id_hash


def test_a_survey_older_than_the_latest_is_refused(make_household, walk, users):
    """Entered late, an older survey's incomes would replace those verified since."""
    household = walk(make_household(), "on_file")  # surveyed 40 days ago
    latest = household.last_survey_on
    with pytest.raises(ValidationError) as exc:
        services.survey_record(
            user=users["clerk_450102"],
            household=household,
            surveyed_on=latest - timedelta(days=1),
            surveyors="王录入员",
            findings="补录",
            incomes={},
        )
    assert "最近一次入户调查" in exc.value.message_dict["surveyed_on"][0]
    assert Household.objects.get(pk=household.pk).surveys.count() == 1


def test_an_objection_is_raised_during_the_notice(make_household, walk, users):
    household = walk(make_household(), "notice")  # posted 30 days ago
    starts_on = household.current_period.notice.starts_on
    with pytest.raises(ValidationError) as exc:
        services.objection_record(
            user=users["clerk_450102"],
            household=household,
            raised_by="邻居",
            raised_on=starts_on - timedelta(days=1),
            content="家中有车",
        )
    assert "公示开始日期" in exc.value.message_dict["raised_on"][0]


def test_an_objection_is_not_dated_after_the_notice_ended(make_household, walk, users):
    """The public objects while the notice runs: an objection dated after its end (the file
    still waits for approval) is refused at its field, and nothing is recorded."""
    household = walk(make_household(), "notice")  # posted 30 days ago, ended since
    ends_on = household.current_period.notice.ends_on
    with pytest.raises(ValidationError) as exc:
        services.objection_record(
            user=users["clerk_450102"],
            household=household,
            raised_by="邻居",
            raised_on=ends_on + timedelta(days=1),
            content="家中有车",
        )
    assert exc.value.message_dict == {"raised_on": [f"提出日期不能晚于公示结束日期 {ends_on}。"]}
    assert not Objection.objects.exists()
    # Its last day is still within it.
    services.objection_record(
        user=users["clerk_450102"],
        household=household,
        raised_by="邻居",
        raised_on=ends_on,
        content="家中有车",
    )
    assert household.objections.get().raised_on == ends_on


def test_an_exit_is_not_dated_before_the_files_last_step(make_household, walk, users):
    """Else the clerk's request stands and only the supervisor's approval is refused."""
    household = walk(make_household(), "on_file")
    filed = TODAY() - timedelta(days=10)  # filed ten days ago, relieved two days ago
    household.transitions.filter(action="approve").update(effective_date=filed)
    FilingPeriod.objects.filter(household=household).update(filed_on=filed)
    household = Household.objects.get(pk=household.pk)
    services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="relieve",
        reason="收入提高",
        effective_date=TODAY() - timedelta(days=2),
    )
    household = Household.objects.get(pk=household.pk)
    with pytest.raises(ValidationError) as exc:
        services.closure_request(
            user=users["clerk_450102"],
            household=household,
            kind="exited",
            effective_date=TODAY() - timedelta(days=5),
            reason="收入稳定",
        )
    assert "上一次状态变更" in exc.value.message_dict["effective_date"][0]
    assert not household.closures.exists()


def test_an_edit_from_a_copy_loaded_before_a_step_keeps_the_step(make_household, walk, users):
    """The edit form's copy is loaded at the request's start: a step taken meanwhile (another
    user's approval) is neither undone nor bypassed by the edit's save."""
    household = walk(make_household(), "notice")
    stale = Household.objects.get(pk=household.pk)
    walk(household, "on_file")
    stale.phone = "13900000001"
    services.household_update(
        user=users["clerk_450102"], household=stale, members=kept_members(stale), reason="换号"
    )
    household.refresh_from_db()
    assert (household.status, household.phone) == (Status.ON_FILE, "13900000001")
    assert household.next_survey_due is not None


def test_an_edit_from_a_copy_loaded_before_a_closure_is_refused(make_household, walk, users):
    household = walk(make_household(), "on_file")
    stale = Household.objects.get(pk=household.pk)
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="exit", reason="已再就业"
    )
    with pytest.raises(ValidationError):
        services.household_update(
            user=users["clerk_450102"], household=stale, members=kept_members(stale), reason="x"
        )
    household.refresh_from_db()
    assert household.status == Status.EXITED


def test_an_edit_from_a_copy_loaded_before_a_survey_keeps_its_dates(make_household, walk, users):
    household = walk(make_household(worker_income="600.00"), "on_file")
    stale = Household.objects.get(pk=household.pk)
    worker = household.members.get(relation="self")
    services.survey_record(
        user=users["clerk_450102"],
        household=household,
        surveyed_on=TODAY(),
        surveyors="王",
        findings="已再就业",
        incomes={worker.pk: Decimal("3000.00")},
    )
    household.refresh_from_db()
    stale.employer = "新单位"
    services.household_update(
        user=users["clerk_450102"], household=stale, members=kept_members(stale), reason="换工作"
    )
    after = Household.objects.get(pk=household.pk)
    assert after.employer == "新单位"
    kept = ("last_survey_on", "next_survey_due", "above_line_since", "per_capita_income")
    assert [getattr(after, name) for name in kept] == [getattr(household, name) for name in kept]


# --- The first responsible person (第一帮扶责任人): staff of the file's county union or above it.


def test_the_first_responsible_person_is_staff_of_the_files_county(orgs, users, make_household):
    """DOMAIN.md: the first responsible person is a county-union staff member, the file's: of
    its organisation or a union above it, never of another county."""
    clerk = city_clerk(orgs, users)
    with pytest.raises(ValidationError) as exc:
        make_household(by=clerk.username, org="450103", responsible_staff=users["clerk_450102"])
    assert "第一帮扶责任人" in exc.value.message_dict["responsible_staff"][0]
    assert not Household.objects.exists()
    for person in (users["clerk_450103"], clerk):  # the county's own staff, or the city's
        household = make_household(by=clerk.username, org="450103", responsible_staff=person)
        assert household.responsible_staff == person


def test_a_base_union_user_is_no_first_responsible_person(orgs, users, make_household):
    """The second responsible person is the base union's chair; the first is county staff."""
    from orgs.models import User

    member = User.objects.create(username="base_450102001", organisation=orgs["450102001"])
    with pytest.raises(ValidationError) as exc:
        make_household(responsible_staff=member)
    assert list(exc.value.message_dict) == ["responsible_staff"]


def test_a_file_moved_to_another_county_names_a_responsible_person_there(
    orgs, users, make_household
):
    clerk = city_clerk(orgs, users)
    household = make_household(responsible_staff=users["clerk_450102"])
    household.organisation = orgs["450103"]
    with pytest.raises(ValidationError) as exc:
        services.household_update(user=clerk, household=household, members=kept_members(household))
    assert exc.value.message_dict["responsible_staff"]
    assert Household.objects.get(pk=household.pk).organisation == orgs["450102"]
    household.responsible_staff = users["clerk_450103"]
    services.household_update(user=clerk, household=household, members=kept_members(household))
    moved = Household.objects.get(pk=household.pk)
    assert (moved.organisation, moved.responsible_staff) == (orgs["450103"], users["clerk_450103"])


def test_a_responsible_person_left_unchanged_does_not_block_an_edit(orgs, users, make_household):
    """Checked when the person or the file's organisation changes: a person named long ago and
    deactivated since does not keep the clerk from correcting a phone number."""
    household = make_household(responsible_staff=users["finance_450102"])
    type(users["finance_450102"]).objects.filter(username="finance_450102").update(is_active=False)
    household.phone = "13900000002"
    services.household_update(
        user=users["clerk_450102"], household=household, members=kept_members(household)
    )
    assert Household.objects.get(pk=household.pk).phone == "13900000002"


def test_every_field_of_the_edit_form_is_written_by_the_edit():
    """A field added to the form but not to EDITED_COLUMNS would be read back from the database
    under the lock, and the user's change silently lost."""
    from households.forms import HouseholdForm

    columns = {Household._meta.get_field(name) for name in HouseholdForm._meta.fields}
    written = {field.attname for field in columns if field.concrete and not field.many_to_many}
    assert written <= services.EDITED_COLUMNS
    assert {"id_number", "bank_account"} <= services.EDITED_COLUMNS


# --- File numbers: the county's code, the year and a sequence (450102-2026-00001). Imported files
# keep their earlier systems' numbers, any text of up to 30 characters.


@pytest.mark.parametrize("suffix", ["00007号", "99999", "0000123", "12-00009", "x"])
def test_a_new_file_after_an_imported_file_number_of_the_same_prefix(make_household, suffix):
    """An imported number that merely starts like ours is no number of the sequence: it neither
    breaks the next (a suffix that is no number) nor hides it (99999 + 1 is 100000, which
    sorts before 99999 as text)."""
    prefix = f"450102-{TODAY().year}-"
    earlier = make_household()
    assert earlier.file_number == f"{prefix}00001"
    Household.objects.filter(pk=earlier.pk).update(file_number=f"{prefix}{suffix}")
    numbers = [make_household().file_number for _ in range(2)]
    start = 100_000 if suffix == "99999" else 1
    assert numbers == [f"{prefix}{n:05d}" for n in (start, start + 1)]


def test_the_sequence_goes_on_past_99999_in_numeric_order(make_household):
    prefix = f"450102-{TODAY().year}-"
    for number in ("99998", "100009", "99999"):
        Household.objects.filter(pk=make_household().pk).update(file_number=prefix + number)
    assert make_household().file_number == f"{prefix}100010"


def test_a_file_that_finds_no_free_number_is_refused_not_left_unsaved(make_household, monkeypatch):
    """Every number tried taken (colleagues filing at the same moment, five times over): the
    clerk is told to try again; nothing is half saved."""
    taken = make_household().file_number
    monkeypatch.setattr(services, "_next_file_number", lambda organisation, year: taken)
    with pytest.raises(ValidationError) as exc:
        make_household()
    assert exc.value.messages == ["未能为档案分配编号（编号均已被占用），请重新保存。"]
    assert Household.objects.count() == 1 and FilingPeriod.objects.count() == 1


def test_a_member_naming_the_workers_row_or_a_taken_one_is_a_new_row(make_household, users):
    """Members are posted with their row's key: one that names the worker's own row, or a row
    another member of the same post took, must not overwrite it (the file would lose its 本人
    row, or a member), but be added as the new member it describes."""
    household = make_household()
    worker, spouse = household.members.order_by("pk")
    assert worker.relation == "self"
    members = kept_members(household)
    child = services.MemberData(relation="child", name="赵小", id_number=new_id(2010), pk=worker.pk)
    twin = services.MemberData(relation="child", name="赵二", id_number=new_id(2011), pk=spouse.pk)
    services.household_update(
        user=users["clerk_450102"], household=household, members=[*members, child, twin]
    )
    rows = {m.pk: (m.relation, m.name) for m in household.members.all()}
    assert rows[worker.pk] == ("self", household.worker_name)
    assert rows[spouse.pk] == ("spouse", spouse.name)
    assert sorted(rows.values())[:2] == [("child", "赵二"), ("child", "赵小")]
    assert len(rows) == 4


def test_a_file_on_a_notice_not_yet_started_can_be_rejected(make_household, walk, users):
    """A notice may be scheduled up to a month ahead. Its step was dated on its first day, and
    no later step may be dated before the one it follows nor after today: a supervisor who found
    the application false could not reject it until the posting began."""
    household = walk(make_household(), "reviewed")
    notice = start_notice(users, household, TODAY() + timedelta(days=10))
    household.refresh_from_db()
    assert household.status == Status.NOTICE
    assert household.transitions.get(action="start_notice").effective_date == TODAY()
    assert notice.starts_on == TODAY() + timedelta(days=10)  # its working days start then
    with pytest.raises(ValidationError):  # nor is it approved before its period has run
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve", reason="同意"
        )
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="reject", reason="材料不实"
    )
    household.refresh_from_db()
    assert household.status == Status.REJECTED
