"""The exit list (符合脱困条件) reads one date on the file, `Household.above_line_since`: the
first survey of the unbroken run above the dibao line up to the latest survey of the current
filing period. These tests hold it to the aggregate query the list ran before (kept here as
the reference) over random survey histories, follow it through the services that change the
run (a survey recorded, a file reopened), and check the migration that fills it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from households import selectors, services
from households.models import (
    SUPPORTED_STATUSES,
    FilingPeriod,
    Household,
    Status,
)
from orgs.calendar import add_months
from tests.households.conftest import age_file, keep_exit_run, write_survey

TODAY = timezone.localdate  # read when used: a run may cross midnight in Asia/Shanghai


def old_exit_candidates(user, *, today):
    """The list as it was until migration 0019: two aggregates over every supported file's
    surveys of its current period; a file qualified when some above-line survey on or before
    the cutoff is later than every below-line survey."""
    cutoff = add_months(today, -selectors.EXIT_RUN_MONTHS)
    this_period = Q(surveys__period_id=F("current_period_id"))
    return (
        Household.objects.visible_to(user)
        .filter(status__in=SUPPORTED_STATUSES)
        .annotate(
            last_below=Max(
                "surveys__surveyed_on", filter=this_period & Q(surveys__is_above_line=False)
            ),
            run_anchor=Max(
                "surveys__surveyed_on",
                filter=this_period
                & Q(surveys__is_above_line=True, surveys__surveyed_on__lte=cutoff),
            ),
        )
        .filter(run_anchor__isnull=False)
        .filter(Q(last_below__isnull=True) | Q(last_below__lt=F("run_anchor")))
    )


def pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def on_file(make_household):
    def _make(**fields):
        household = make_household(members=[], **fields)
        Household.objects.filter(pk=household.pk).update(status=Status.ON_FILE)
        household.refresh_from_db()
        return household

    return _make


# --- Each case, by hand -------------------------------------------------------------------------


def months_ago(months):
    return add_months(TODAY(), -months)


@pytest.mark.parametrize(
    ("history", "since", "listed"),
    [
        pytest.param([], None, False, id="no survey"),
        pytest.param([(7, True), (1, True)], 7, True, id="above for seven months"),
        pytest.param([(6, True)], 6, True, id="exactly six months"),
        pytest.param([(2, True)], 2, False, id="only two months"),
        pytest.param([(9, False), (7, True), (1, True)], 7, True, id="below, then above"),
        pytest.param([(8, True), (3, False), (1, True)], 1, False, id="a break in between"),
        pytest.param([(8, True), (1, True), (0, False)], None, False, id="latest below"),
        pytest.param([(8, True), (7, False), (7, True)], None, False, id="same day, below too"),
        pytest.param(
            [(8, True), (7, False), (7, True), (6, True)], 6, True, id="same-day break, then on"
        ),
        pytest.param([(7, True), (-1, True)], 7, True, id="above, and above next month"),
        pytest.param([(7, True), (-1, False)], None, False, id="below next month"),
    ],
)
def test_each_case_as_the_aggregate_read_it(on_file, users, history, since, listed):
    household = on_file()
    for months, above in history:
        # `-1`: dated next month (survey_record refuses a day after today; the old query did
        # not assume it, and neither does the date on the file).
        write_survey(household, months_ago(months), above=above)
    household = keep_exit_run(household)
    assert household.above_line_since == (None if since is None else months_ago(since))
    clerk = users["clerk_450102"]
    assert pks(selectors.exit_candidates(clerk)) == ({household.pk} if listed else set())
    assert pks(old_exit_candidates(clerk, today=TODAY())) == pks(selectors.exit_candidates(clerk))


def test_surveys_of_an_earlier_filing_period_do_not_count(on_file, users):
    household = on_file()
    first = household.current_period
    write_survey(household, months_ago(11), above=True)
    second = FilingPeriod.objects.create(
        household=household, number=2, origin="relapsed", applied_on=months_ago(4)
    )
    Household.objects.filter(pk=household.pk).update(current_period=second)
    household = keep_exit_run(household)
    assert household.above_line_since is None
    write_survey(household, months_ago(3), above=True)
    write_survey(household, months_ago(1), above=False, period=first)  # the old period's: no break
    household = keep_exit_run(household)
    assert household.above_line_since == months_ago(3)
    clerk = users["clerk_450102"]
    assert (
        pks(selectors.exit_candidates(clerk))
        == set()
        == pks(old_exit_candidates(clerk, today=TODAY()))
    )


def test_the_list_is_one_query_with_the_scope(on_file, users, django_assert_num_queries):
    mine = on_file()
    write_survey(mine, months_ago(7), above=True)
    keep_exit_run(mine)
    theirs = on_file(org="450103", by="clerk_450103")
    write_survey(theirs, months_ago(7), above=True)
    keep_exit_run(theirs)
    with django_assert_num_queries(1):
        assert pks(selectors.exit_candidates(users["clerk_450102"])) == {mine.pk}
    assert pks(selectors.exit_candidates(users["viewer_450100"])) == {mine.pk, theirs.pk}
    relieved = on_file()
    write_survey(relieved, months_ago(8), above=True)
    keep_exit_run(relieved)
    Household.objects.filter(pk=relieved.pk).update(status=Status.RELIEVED)
    exited = on_file()
    write_survey(exited, months_ago(8), above=True)
    keep_exit_run(exited)
    Household.objects.filter(pk=exited.pk).update(status=Status.EXITED)
    assert pks(selectors.exit_candidates(users["clerk_450102"])) == {mine.pk, relieved.pk}


# --- The services keep it -------------------------------------------------------------------------


def record(users, household, day, worker_income):
    """A home survey through the service, the worker's verified income making the file above
    (2,500 for two people: 1,250 a head) or below (600: 300 a head) the line of 1,000."""
    worker = household.members.get(relation="self")
    return services.survey_record(
        user=users["clerk_450102"],
        household=Household.objects.get(pk=household.pk),
        surveyed_on=day,
        surveyors="王录入员",
        findings="入户核实收入",
        incomes={worker.pk: Decimal(worker_income)},
    )


def since(household):
    return Household.objects.get(pk=household.pk).above_line_since


ABOVE, BELOW = "2500.00", "600.00"


def test_recording_surveys_keeps_the_run(make_household, walk, users):
    household = walk(make_household(), "on_file")
    age_file(household, 300)  # applied 350 days ago; its review survey (below) 340 days ago
    clerk = users["clerk_450102"]
    today = TODAY()
    assert since(household) is None
    record(users, household, today - timedelta(days=300), ABOVE)
    assert since(household) == today - timedelta(days=300)
    record(users, household, today - timedelta(days=200), ABOVE)
    assert since(household) == today - timedelta(days=300)  # the run goes on
    assert pks(selectors.exit_candidates(clerk)) == {household.pk}
    record(users, household, today - timedelta(days=100), BELOW)
    assert since(household) is None
    assert pks(selectors.exit_candidates(clerk)) == set()
    record(users, household, today - timedelta(days=100), ABOVE)  # the same day: still broken
    assert since(household) is None
    record(users, household, today - timedelta(days=10), ABOVE)
    assert since(household) == today - timedelta(days=10)
    assert pks(old_exit_candidates(clerk, today=today)) == set()
    later = today + timedelta(days=200)  # six months on, the run qualifies
    assert pks(selectors.exit_candidates(clerk, today=later)) == {household.pk}
    assert pks(old_exit_candidates(clerk, today=later)) == {household.pk}


def test_reopening_starts_the_run_afresh(make_household, walk, users):
    household = walk(make_household(), "on_file")
    age_file(household, 300)
    record(users, household, TODAY() - timedelta(days=300), ABOVE)
    assert pks(selectors.exit_candidates(users["clerk_450102"])) == {household.pk}
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="exit", reason="收入稳定"
    )
    assert since(household) == TODAY() - timedelta(days=300)  # closed: off the list by state
    services.transition_apply(
        user=users["clerk_450102"],
        household=Household.objects.get(pk=household.pk),
        action="reopen",
        reason="再次失业",
    )
    assert since(household) is None  # the new period has no survey yet
    household = walk(household, "on_file")  # its review survey: above the line (kept incomes)
    first = household.current_period.surveys.get()
    assert first.is_above_line and since(household) == first.surveyed_on
    assert pks(selectors.exit_candidates(users["clerk_450102"])) == set()
    assert pks(old_exit_candidates(users["clerk_450102"], today=TODAY())) == set()


def test_the_list_page_and_its_total_read_it(login, on_file, django_assert_num_queries):
    for n in range(3):
        household = on_file(worker_name=f"够{n}")
        write_survey(household, months_ago(7), above=True)
        keep_exit_run(household)
    on_file(worker_name="无调查")
    client = login("clerk_450102")
    params = {"standing": "exit_candidates"}
    client.get(reverse("households:list"), params)  # warm the session
    # As every list (test_pages_list): session, user, permissions (2), the organisation, ONE
    # page of files, roles for the menu, the cause, category and base-union choices.
    with django_assert_num_queries(10):
        response = client.get(reverse("households:list"), params)
    assert sorted(h.worker_name for h in response.context["households"]) == ["够0", "够1", "够2"]
    with CaptureQueriesContext(connection) as queries:
        total = client.get(reverse("households:list_total"), params).content.decode()
    assert "共 3 户" in total
    listed = [q["sql"] for q in queries if "households_survey" in q["sql"]]
    assert listed == []  # the date on the file, not the surveys


# --- Random histories against the old query -------------------------------------------------------

MOSTLY = st.integers(0, 3).map(bool)  # three times in four: runs long enough to qualify
SURVEY = st.tuples(
    st.integers(0, 2),  # which file of the pool
    MOSTLY,  # of the current filing period (or the earlier one)
    st.integers(-2, 12),  # months before the day the list is read (-2: after it)
    st.integers(-1, 1),  # a day either side, so that runs meet the cutoff and share days
    MOSTLY,  # above the line
)
STATUS = st.one_of(st.sampled_from(SUPPORTED_STATUSES), st.sampled_from(Status.values))
STATUSES = st.lists(STATUS, min_size=3, max_size=3)


@pytest.fixture
def pool(on_file):
    """Three files with two filing periods each, the second current."""
    files = []
    for n in range(3):
        household = on_file(worker_name=f"档{n}")
        old = household.current_period
        current = FilingPeriod.objects.create(
            household=household, number=2, origin="relapsed", applied_on=months_ago(24)
        )
        Household.objects.filter(pk=household.pk).update(current_period=current)
        household.refresh_from_db()
        files.append((household, old, current))
    return files


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(surveys=st.lists(SURVEY, max_size=12), statuses=STATUSES, shift=st.integers(-400, 60))
def test_random_histories_list_what_the_aggregate_listed(pool, users, surveys, statuses, shift):
    viewer = users["viewer_450000"]
    today = TODAY() + timedelta(days=shift)
    with transaction.atomic():
        for index, current, months, days, above in surveys:
            household, old, now = pool[index]
            day = add_months(today, -months) + timedelta(days=days)
            write_survey(household, day, above=above, period=now if current else old)
        for (household, _old, _now), status in zip(pool, statuses, strict=True):
            Household.objects.filter(pk=household.pk).update(status=status)
            keep_exit_run(household)
        files = Household.objects.filter(pk__in=[h.pk for h, _o, _n in pool])
        kept = dict(files.values_list("pk", "above_line_since"))
        assert pks(selectors.exit_candidates(viewer, today=today)) == pks(
            old_exit_candidates(viewer, today=today)
        )
        # The set form (the migration, the demo) writes what the service writes.
        files.update(above_line_since=None)
        files.update(above_line_since=selectors.above_line_since())
        assert dict(files.values_list("pk", "above_line_since")) == kept
        transaction.set_rollback(True)


# --- The migration fills it -----------------------------------------------------------------------

BEFORE = [("households", "0018_reference_codes_unique_ci")]
AFTER = [("households", "0019_exit_run")]


# Serialized rollback: the flush after a transactional test would drop the reference rows the
# migrations seed (causes, windows, roles) that the tests after this one rely on.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_fills_the_date_in_one_statement(on_file, migrator):
    cases = [
        [],
        [(7, True), (1, True)],
        [(9, False), (7, True)],
        [(8, True), (1, False)],
        [(8, True), (7, False), (7, True), (6, True)],
        [(7, True), (-1, True)],
    ]
    expected = {}
    for history in cases:
        household = on_file()
        for months, above in history:
            write_survey(household, months_ago(months), above=above)
        expected[household.pk] = keep_exit_run(household).above_line_since
    reopened = on_file()  # an above-line run in its earlier period only
    write_survey(reopened, months_ago(9), above=True)
    second = FilingPeriod.objects.create(
        household=reopened, number=2, origin="relapsed", applied_on=months_ago(2)
    )
    Household.objects.filter(pk=reopened.pk).update(current_period=second)
    expected[reopened.pk] = keep_exit_run(reopened).above_line_since
    assert None in expected.values() and len(set(expected.values())) > 2

    migrator.migrate(BEFORE)  # drops the column
    migrator.loader.build_graph()
    with CaptureQueriesContext(connection) as queries:
        migrator.migrate(AFTER)
    apps = migrator.loader.project_state(AFTER).apps

    filled = apps.get_model("households", "Household").objects.values_list("pk", "above_line_since")
    assert dict(filled) == expected
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "households_household"')]
    assert len(updates) == 1  # set-based: one statement whatever the number of files


def test_an_exit_against_the_surveys_is_flagged_and_the_supervisor_is_told(
    make_household, walk, users, login
):
    """脱困 is six months above the dibao line. A supervisor may still approve an exit the
    surveys do not show, but the decision page says so and the file's trail marks the step as
    against the assessment; an exit the surveys show is not marked."""
    below = walk(make_household(), "on_file")  # 300 a head, the line 1,000: never above it
    above = walk(make_household(worker_income="3000.00"), "on_file")  # 1,500 a head
    age_file(above, 200)  # its above-line survey is ~8 months old
    above.refresh_from_db()
    assert not selectors.qualifies_for_exit(below, TODAY())
    assert selectors.qualifies_for_exit(above, TODAY())
    closures = {
        household.pk: services.closure_request(
            user=users["clerk_450102"],
            household=household,
            kind="exited",
            effective_date=TODAY(),
            reason="收入提高",
        )
        for household in (below, above)
    }
    supervisor = login("supervisor_450102")
    warning = "未显示人均收入已连续六个月高于低保标准"
    assert warning in supervisor.get(reverse("households:detail", args=[below.pk])).content.decode()
    assert (
        warning
        not in supervisor.get(reverse("households:detail", args=[above.pk])).content.decode()
    )
    for closure in closures.values():
        services.closure_decide(
            user=users["supervisor_450102"], closure=closure, approve=True, note="同意"
        )
    flagged = {
        household.pk: household.transitions.get(action="exit").against_verdict
        for household in (below, above)
    }
    assert flagged == {below.pk: True, above.pk: False}


def test_surveys_before_the_years_line_take_it_when_it_is_entered(
    make_household, walk, users, orgs
):
    """In January a survey may come before the year's dibao line is published: compared with
    none, it counted as below the line and broke the file's run above it (it dropped off the
    exit list until its next survey, six months on). Entering the line compares it again."""
    from households.models import DibaoStandard

    clerk = users["clerk_450102"]
    household = walk(make_household(worker_income="3000.00"), "on_file")  # 1,500 a head
    age_file(household, 200)  # its survey above the line was ~8 months ago
    assert household in selectors.exit_candidates(clerk)
    year = TODAY().year
    # No line in force: this year's not entered yet, nor any before.
    DibaoStandard.objects.filter(year__lte=year).delete()
    services.survey_record(
        user=clerk,
        household=household,
        surveyed_on=TODAY(),
        surveyors="王",
        findings="收入稳定",
        incomes={},
    )
    assert household not in selectors.exit_candidates(clerk)
    services.dibao_standard_save(
        user=users["admin_450000"],
        standard=DibaoStandard(
            organisation=orgs["450000"], year=year, monthly_amount=Decimal("1000.00")
        ),
    )
    survey = household.surveys.get(surveyed_on=TODAY())
    assert (survey.dibao_line, survey.is_above_line) == (Decimal("1000.00"), True)
    assert household in selectors.exit_candidates(clerk)


def test_surveys_compared_with_last_years_line_take_the_years_when_it_is_entered(
    make_household, walk, users, orgs
):
    """Before the year's line is entered, last year's is the one in force, and a survey is
    compared with it (DibaoStandard.objects.in_force); once the year's is entered, the year's
    surveys compared with last year's take it, as those compared with none do."""
    from households.models import DibaoStandard

    clerk = users["clerk_450102"]
    household = walk(make_household(worker_income="3000.00"), "on_file")  # 1,500 a head
    age_file(household, 200)
    year = TODAY().year
    DibaoStandard.objects.filter(year=year).delete()  # last year's 1,000 is in force
    services.survey_record(
        user=clerk,
        household=household,
        surveyed_on=TODAY(),
        surveyors="王",
        findings="收入稳定",
        incomes={},
    )
    survey = household.surveys.get(surveyed_on=TODAY())
    assert (survey.dibao_line, survey.is_above_line) == (Decimal("1000.00"), True)
    assert household in selectors.exit_candidates(clerk)
    services.dibao_standard_save(
        user=users["admin_450000"],
        standard=DibaoStandard(
            organisation=orgs["450000"], year=year, monthly_amount=Decimal("1600.00")
        ),
    )
    survey.refresh_from_db()
    assert (survey.dibao_line, survey.is_above_line) == (Decimal("1600.00"), False)
    assert household not in selectors.exit_candidates(clerk)
