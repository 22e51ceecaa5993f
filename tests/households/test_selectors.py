"""The standing lists on hand-built data: surveys due and overdue, files unchanged for a year,
and the households that qualify for exit (above the line for six months without a break)."""

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from households import eligibility, selectors, services
from households.models import FilingPeriod, Household, PublicNotice, Status
from orgs.calendar import add_months
from tests.conftest import on_day
from tests.households.conftest import keep_exit_run, write_survey

TODAY = timezone.localdate  # read when used: a run may cross midnight in Asia/Shanghai


@pytest.fixture
def file_in(make_household):
    """file_in("on_file") — a file put straight into a state, its fields set by hand."""

    def _file(status, *, org="450102", **fields):
        by = "clerk_450103" if org == "450103" else "clerk_450102"
        household = make_household(org=org, by=by, members=[])
        Household.objects.filter(pk=household.pk).update(status=status, **fields)
        household.refresh_from_db()
        return household

    return _file


def survey(household, months_ago=0, *, above, days_ago=0, period=None):
    """A survey written as it stood, and the file's exit run kept as survey_record keeps it."""
    day = add_months(TODAY(), -months_ago) - timedelta(days=days_ago)
    written = write_survey(household, day, above=above, period=period)
    keep_exit_run(household)
    return written


def names(queryset) -> set[str]:
    return set(queryset.values_list("worker_name", flat=True))


def test_surveys_due_within_30_days(file_in, users):
    file_in("on_file", worker_name="十天后", next_survey_due=TODAY() + timedelta(days=10))
    file_in("relieved", worker_name="今天", next_survey_due=TODAY())
    file_in("on_file", worker_name="三十天", next_survey_due=TODAY() + timedelta(days=30))
    file_in("on_file", worker_name="四十天后", next_survey_due=TODAY() + timedelta(days=40))
    file_in("on_file", worker_name="已逾期", next_survey_due=TODAY() - timedelta(days=1))
    file_in("applied", worker_name="未在档", next_survey_due=TODAY() + timedelta(days=5))
    file_in("on_file", org="450103", worker_name="外县", next_survey_due=TODAY())
    clerk = users["clerk_450102"]
    assert names(selectors.surveys_due(clerk)) == {"十天后", "今天", "三十天"}
    assert names(selectors.surveys_due(clerk, within_days=7)) == {"今天"}
    assert "外县" in names(selectors.surveys_due(users["viewer_450100"]))


def test_surveys_overdue(file_in, users):
    file_in("on_file", worker_name="逾期", next_survey_due=TODAY() - timedelta(days=1))
    file_in("relieved", worker_name="解困逾期", next_survey_due=TODAY() - timedelta(days=90))
    file_in("on_file", worker_name="今天到期", next_survey_due=TODAY())
    file_in("exited", worker_name="已脱困", next_survey_due=TODAY() - timedelta(days=10))
    file_in("on_file", org="450103", worker_name="外县", next_survey_due=TODAY() - timedelta(1))
    assert names(selectors.surveys_overdue(users["clerk_450102"])) == {"逾期", "解困逾期"}


def test_unchanged_for_a_year(file_in, users):
    old = timezone.now() - timedelta(days=400)
    file_in("on_file", worker_name="一年未动", updated_at=old)
    file_in("draft", worker_name="草稿未动", updated_at=old)
    file_in("exited", worker_name="已关闭", updated_at=old)
    file_in("on_file", worker_name="近期更新", updated_at=timezone.now() - timedelta(days=300))
    file_in("on_file", org="450103", worker_name="外县", updated_at=old)
    assert names(selectors.unchanged_for_a_year(users["clerk_450102"])) == {"一年未动", "草稿未动"}


def test_exit_candidates(file_in, users, django_assert_num_queries):
    a = file_in("on_file", worker_name="连续7个月")
    survey(a, 7, above=True)
    survey(a, 1, above=True)

    b = file_in("on_file", worker_name="中间低于")
    survey(b, 7, above=True)
    survey(b, 3, above=False)
    survey(b, 1, above=True)

    c = file_in("on_file", worker_name="只有2个月")
    survey(c, 2, above=True)

    d = file_in("on_file", worker_name="最近一次低于")
    survey(d, 8, above=True)
    survey(d, 1, above=True)
    survey(d, 0, above=False, days_ago=5)

    e = file_in("relieved", worker_name="解困户")
    survey(e, 10, above=False)
    survey(e, 7, above=True)
    survey(e, 2, above=True)

    f = file_in("applied", worker_name="审核中")
    survey(f, 9, above=True)
    survey(f, 1, above=True)

    g = file_in("on_file", worker_name="上一建档期")
    survey(g, 9, above=True)
    new_period = FilingPeriod.objects.create(
        household=g, number=2, origin="relapsed", applied_on=add_months(TODAY(), -3)
    )
    Household.objects.filter(pk=g.pk).update(current_period=new_period)
    survey(g, 1, above=True, period=new_period)

    h = file_in("on_file", worker_name="恰好6个月")
    survey(h, 6, above=True)

    other = file_in("on_file", org="450103", worker_name="外县")
    survey(other, 7, above=True)

    clerk = users["clerk_450102"]
    with django_assert_num_queries(1):  # one query, no loop over households
        found = names(selectors.exit_candidates(clerk))
    assert found == {"连续7个月", "解困户", "恰好6个月"}
    assert "外县" in names(selectors.exit_candidates(users["viewer_450100"]))


def test_exit_candidates_as_a_list_filter(login, file_in):
    a = file_in("on_file", worker_name="连续7个月")
    survey(a, 7, above=True)
    file_in("on_file", worker_name="无调查")
    response = login("clerk_450102").get("/households/", {"standing": "exit_candidates"})
    assert [h.worker_name for h in response.context["households"]] == ["连续7个月"]


def test_standing_lists_are_worked_from_the_oldest(login, file_in):
    """Overdue surveys list the longest overdue first, on the standing lists page and in the
    full list its link opens; files waiting for review the longest-waiting first."""
    for name, days in (("逾期3天", 3), ("逾期90天", 90), ("逾期10天", 10)):
        file_in("on_file", worker_name=name, next_survey_due=TODAY() - timedelta(days=days))
    for name, days in (("等2天", 2), ("等20天", 20)):
        file_in("applied", worker_name=name, status_changed_on=TODAY() - timedelta(days=days))
    client = login("clerk_450102")
    lists = {entry["key"]: entry for entry in client.get("/households/standing/").context["lists"]}
    overdue = lists["survey_overdue"]
    assert [h.worker_name for h in overdue["households"]] == ["逾期90天", "逾期10天", "逾期3天"]
    assert overdue["url"] == "/households/?standing=survey_overdue&sort=next_survey_due"
    listed = client.get(overdue["url"]).context["households"]
    assert [h.worker_name for h in listed] == ["逾期90天", "逾期10天", "逾期3天"]
    assert [h.worker_name for h in lists["to_review"]["households"]] == ["等20天", "等2天"]
    assert lists["drafts"]["url"] == "/households/?standing=drafts"  # newest first, as listed


def test_queues_of_my_work(file_in, users, make_household, walk):
    file_in("draft", worker_name="草稿")
    file_in("applied", worker_name="待审核")
    clerk = users["clerk_450102"]
    assert names(selectors.drafts(clerk)) == {"草稿"}
    assert names(selectors.applications_to_review(clerk)) == {"待审核"}
    noticed = walk(make_household(worker_name="公示满"), "notice")
    assert names(selectors.approvals_waiting(clerk)) == {"公示满"}
    assert names(selectors.notices_ending(clerk)) == set()
    assert noticed.status == Status.NOTICE


def under_notice(file_in, clerk, name, ends_on):
    """A file under a notice of its own that ends on `ends_on` (posted a week before)."""
    household = file_in("notice", worker_name=name, status_changed_on=ends_on - timedelta(days=7))
    notice = PublicNotice.objects.create(
        organisation=household.organisation,
        title="建档公示",
        starts_on=ends_on - timedelta(days=7),
        ends_on=ends_on,
        objection_contact="0771-12351",
        created_by=clerk,
    )
    FilingPeriod.objects.filter(pk=household.current_period_id).update(notice=notice)
    return household


@contextmanager
def planned_as_in_a_province():
    """SQLite plans with the statistics of a province's tables instead of the test's few rows
    (sqlite_stat1: 800,000 files, a tenth of them in each common status, 40 files a notice,
    about five notices ending on any day), as PostgreSQL plans with its own."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT tbl, idx, stat FROM sqlite_stat1 WHERE tbl LIKE 'households_%'")
        for table, index, stat in cursor.fetchall():
            rows, *per_key = (int(n) for n in stat.split())
            # Unique columns stay unique; the others grow with the table.
            scaled = [rows * 20000, *(n if n <= 2 else n * 20000 for n in per_key)]
            cursor.execute(
                "UPDATE sqlite_stat1 SET stat = %s WHERE tbl = %s AND idx IS %s",
                [" ".join(map(str, scaled)), table, index],
            )
        per_notice = "UPDATE sqlite_stat1 SET stat = '800000 40' WHERE idx LIKE %s"
        cursor.execute(per_notice, ["households_filingperiod_notice_id%"])
        cursor.execute("UPDATE sqlite_stat1 SET stat = '20000 5' WHERE idx = 'notice_ends'")
        cursor.execute("ANALYZE sqlite_schema")  # load them
        try:
            yield
        finally:
            cursor.execute("DELETE FROM sqlite_stat1")
            cursor.execute("ANALYZE sqlite_schema")


def query_plan(queryset) -> list[str]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [row[-1] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan and statistics")
def test_notices_ending_start_from_the_notices_that_end(file_in, users):
    """The queue finds the few notices ending within five working days through their end date's
    index, then their files; it does not read every file under notice (those whose notice ended
    wait for approval, for weeks at times) to look at each one's notice. Its count and its first
    page alike."""
    clerk = users["clerk_450102"]
    under_notice(file_in, clerk, "两天后期满", TODAY() + timedelta(days=2))
    for days in range(1, 6):
        under_notice(file_in, clerk, f"已期满{days}", TODAY() - timedelta(days=days * 3))
    under_notice(file_in, clerk, "一月后期满", TODAY() + timedelta(days=30))
    for n in range(10):
        file_in("on_file", worker_name=f"在档{n}")
    assert names(selectors.notices_ending(clerk)) == {"两天后期满"}
    with planned_as_in_a_province():
        for queryset in (
            selectors.notices_ending(clerk).order_by(),
            selectors.notices_ending(clerk).order_by("status_changed_on", "id")[:7],
        ):
            plan = query_plan(queryset)
            assert "USING COVERING INDEX notice_ends" in plan[0], plan
            households = [step for step in plan if "households_household " in step]
            assert households == [
                "SEARCH households_household USING INDEX "
                "households_household_current_period_id_60edb18d (current_period_id=?)"
            ], plan


def test_the_approvals_queue_lists_only_what_the_supervisor_may_approve(
    make_household, walk, users
):
    """Each file the supervisor's queue lists is one the approval takes: not one with an
    objection pending (listed with the objections to decide), nor one the supervisor entered
    (another supervisor's to approve)."""
    supervisor, other = users["supervisor_450102"], users["supervisor2_450102"]
    walk(make_household(worker_name="可审批"), "notice")
    objected = walk(make_household(worker_name="有异议"), "notice")
    objection = services.objection_record(
        user=users["clerk_450102"],
        household=objected,
        raised_by="邻居",
        raised_on=objected.current_period.notice.ends_on,
        content="家中有车",
    )
    own = walk(make_household(worker_name="本人录入"), "notice")
    Household.objects.filter(pk=own.pk).update(created_by=supervisor)

    assert names(selectors.approvals_waiting(supervisor)) == {"可审批"}
    assert names(selectors.objections_pending(supervisor)) == {"有异议"}
    assert names(selectors.approvals_waiting(other)) == {"可审批", "本人录入"}
    for household in (objected, own):
        with pytest.raises(ValidationError):
            services.transition_apply(
                user=supervisor, household=household, action="approve", reason="同意"
            )
    services.objection_resolve(
        user=supervisor, objection=objection, outcome="dismissed", finding="车已卖"
    )
    assert names(selectors.approvals_waiting(supervisor)) == {"可审批", "有异议"}
    assert names(selectors.objections_pending(supervisor)) == set()
    for household in selectors.approvals_waiting(supervisor):
        services.transition_apply(
            user=supervisor, household=household, action="approve", reason="同意"
        )
    assert names(selectors.approvals_waiting(supervisor)) == set()
    assert names(selectors.approvals_waiting(other)) == {"本人录入"}


def test_status_counts(file_in, users):
    file_in("on_file")
    file_in("on_file")
    file_in("draft")
    file_in("on_file", org="450103")
    assert selectors.status_counts(users["clerk_450102"]) == {"on_file": 2, "draft": 1}
    assert selectors.status_counts(users["viewer_450000"])["on_file"] == 3


def paid_request(household, state, user, on=None):
    """An assistance request written as it stood: `state`, asked for (and paid) on `on`."""
    from funds.models import AssistanceRequest, AssistanceType, FundSource

    on = on or TODAY()
    return AssistanceRequest.objects.create(
        household=household,
        organisation=household.organisation,
        assistance_type=AssistanceType.objects.order_by("pk").first(),
        source=FundSource.objects.order_by("pk").first(),
        amount=Decimal("500.00"),
        reason="生活困难",
        requested_on=on,
        year=on.year,
        state=state,
        paid_on=on if state == "paid" else None,
        requested_by=user,
    )


def test_never_assisted(file_in, users):
    def request(household, state):
        return paid_request(household, state, users["clerk_450102"])

    helped = file_in("on_file", worker_name="已帮扶")
    request(helped, "paid")
    asked = file_in("relieved", worker_name="申请未发放")
    request(asked, "approved")
    file_in("on_file", worker_name="从未帮扶")
    file_in("draft", worker_name="草稿")
    file_in("on_file", org="450103", worker_name="外县")
    assert names(selectors.never_assisted(users["clerk_450102"])) == {"申请未发放", "从未帮扶"}


def test_never_assisted_counts_the_current_filing_period(file_in, users, django_assert_num_queries):
    """A file reopened (返困) and filed again, paid in its earlier period but not since, has not
    been helped in its present hardship: it is on the list. Still one query."""
    clerk = users["clerk_450102"]
    reopened, helped_again = (
        file_in("on_file", worker_name=name) for name in ("返困未帮扶", "返困已帮扶")
    )
    for household in (reopened, helped_again):
        FilingPeriod.objects.filter(pk=household.current_period_id).update(
            applied_on=TODAY() - timedelta(days=500),
            filed_on=TODAY() - timedelta(days=450),
            closed_on=TODAY() - timedelta(days=200),
        )
        paid_request(household, "paid", clerk, on=TODAY() - timedelta(days=400))
        period = FilingPeriod.objects.create(
            household=household,
            number=2,
            origin="relapsed",
            applied_on=TODAY() - timedelta(days=60),
            filed_on=TODAY() - timedelta(days=30),
        )
        Household.objects.filter(pk=household.pk).update(current_period=period)
    paid_request(helped_again, "paid", clerk, on=TODAY() - timedelta(days=5))
    with django_assert_num_queries(1):
        assert names(selectors.never_assisted(clerk)) == {"返困未帮扶"}


def test_migrant_workers_whose_membership_is_unverified(
    file_in, users, login, django_assert_num_queries
):
    """On-file migrant workers whose union membership or labour relation is not recorded
    (imported, or entered before they were asked) or breaks the filing rule: the supervisors'
    list to follow up. The same rule as the services' (eligibility.migrant_worker_errors),
    29 February's year included (it ends on the 28th), in one query."""
    applied = date(2025, 2, 28)
    rows = [
        # name, status, union member, labour relation since, listed
        ("满一年", "on_file", True, date(2024, 2, 28), False),
        ("二月二十九日起", "relieved", True, date(2024, 2, 29), False),
        ("差一天", "on_file", True, date(2024, 3, 1), True),
        ("未填会员", "on_file", None, date(2020, 1, 1), True),
        ("非会员", "relieved", False, date(2020, 1, 1), True),
        ("未填日期", "on_file", True, None, True),
        ("申请中", "applied", None, None, False),
        ("已脱困", "exited", None, None, False),
    ]
    expected = set()
    for name, status, member, since, listed in rows:
        household = file_in(
            status,
            worker_name=name,
            is_migrant_worker=True,
            is_union_member=member,
            labour_relation_since=since,
        )
        FilingPeriod.objects.filter(pk=household.current_period_id).update(applied_on=applied)
        errors = eligibility.migrant_worker_errors(
            is_union_member=member, labour_relation_since=since, applied_on=applied
        )
        assert bool(errors) == listed or status not in ("on_file", "relieved"), name
        if listed:
            expected.add(name)
    file_in("on_file", worker_name="非农民工")  # nothing recorded, none asked
    file_in("on_file", org="450103", worker_name="外县", is_migrant_worker=True)
    with django_assert_num_queries(1):
        found = names(selectors.migrant_membership_unverified(users["supervisor_450102"]))
    assert found == expected
    assert "外县" in names(selectors.migrant_membership_unverified(users["viewer_450100"]))

    client = login("supervisor_450102")
    lists = {entry["key"]: entry for entry in client.get("/households/standing/").context["lists"]}
    assert lists["migrant_unverified"]["label"] == "农民工会员资格待核实"
    assert {h.worker_name for h in lists["migrant_unverified"]["households"]} == expected
    listed = client.get(lists["migrant_unverified"]["url"]).context["households"]
    assert {h.worker_name for h in listed} == expected


def test_a_file_whose_diagnosis_has_expired_waits_for_a_new_one_not_for_approval(
    make_household, walk, users
):
    """The approval refuses a file whose latest diagnosis is more than a year old (services.
    _check_approval): the supervisor's queue leaves it out, and the clerks' list of files whose
    diagnosis must be renewed holds it until a recent one is uploaded."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from households import work

    clerk, supervisor = users["clerk_450102"], users["supervisor_450102"]
    walk(make_household(worker_name="可审批"), "notice")
    # Not caused by illness: a file that is must hold a recent diagnosis to be submitted.
    stale = walk(make_household(worker_name="诊断过期", primary="low_income"), "notice")
    uploaded_on = TODAY() - timedelta(days=60)
    with on_day(uploaded_on):
        services.document_upload(
            user=clerk,
            household=stale,
            kind="diagnosis",
            upload=SimpleUploadedFile("诊断.pdf", b"%PDF-1.4 stale"),
            issued_on=add_months(uploaded_on, -11),
        )

    assert names(selectors.approvals_waiting(supervisor)) == {"可审批"}
    assert names(selectors.diagnoses_expired(clerk)) == {"诊断过期"}
    request = type("Request", (), {"user": clerk})
    rows = {row["label"]: row["count"] for row in work.panels(request)[0]["rows"]}
    assert rows["诊断证明已超过一年"] == 1

    services.document_upload(
        user=clerk,
        household=stale,
        kind="diagnosis",
        upload=SimpleUploadedFile("复诊.pdf", b"%PDF-1.4 recent"),
        issued_on=TODAY() - timedelta(days=3),
    )
    assert names(selectors.approvals_waiting(supervisor)) == {"可审批", "诊断过期"}
    assert names(selectors.diagnoses_expired(clerk)) == set()


def test_a_migrant_worker_breaking_the_filing_rule_is_followed_up_not_approved(
    make_household, walk, users, login, django_assert_num_queries
):
    """The approval refuses a migrant worker's file that breaks the filing rule (services.
    migrant_worker_errors: a union member a year into the labour relation on the application
    date), one imported under notice or entered before the fields were asked: the supervisor's
    queue and its counts leave it out, and the list of migrant workers to verify holds it. A
    relation begun on 29 February has its year on the 28th: that file waits for approval."""
    from households import work

    supervisor = users["supervisor_450102"]
    applied = date(2025, 2, 28)
    rows = [
        # name, union member, labour relation since
        ("非农民工", None, None),
        ("二月二十九日起", True, date(2024, 2, 29)),
        ("差一天", True, date(2024, 3, 1)),
        ("非会员", False, date(2020, 1, 1)),
        ("未填", None, None),
    ]
    for name, member, since in rows:
        household = walk(make_household(worker_name=name), "notice")
        # As imported under notice, or entered before the fields were asked for.
        Household.objects.filter(pk=household.pk).update(
            is_migrant_worker=name != "非农民工",
            is_union_member=member,
            labour_relation_since=since,
        )
        FilingPeriod.objects.filter(pk=household.current_period_id).update(applied_on=applied)

    supervisor.has_perm(selectors.APPROVE_PERMISSION)  # the permissions, read once per user
    with django_assert_num_queries(1):
        assert names(selectors.approvals_waiting(supervisor)) == {"非农民工", "二月二十九日起"}
    broken = {"差一天", "非会员", "未填"}
    assert names(selectors.migrant_membership_unverified(supervisor)) == broken
    request = type("Request", (), {"user": supervisor})
    rows = {row["label"]: row for panel in work.panels(request) for row in panel["rows"]}
    assert rows["公示期满待审批建档"]["count"] == 2
    # The files left out of the queue are a row of the supervisor's panel, not only on the
    # standing-lists page: its count is the list it links to.
    assert rows["农民工会员资格待核实"]["count"] == 3
    listed = login("supervisor_450102").get(rows["农民工会员资格待核实"]["url"])
    assert {h.worker_name for h in listed.context["households"]} == broken
    admin = {row["label"]: row for row in work.admin_rows(request)}
    assert admin["公示期满待审批建档"]["count"] == 2
    # The admin index, where supervisors decide files too, has the same row, linking to its
    # changelist filtered to those files; another county's supervisor has none of them.
    assert admin["农民工会员资格待核实"]["count"] == 3
    changelist = login("supervisor_450102").get(admin["农民工会员资格待核实"]["url"])
    assert {h.worker_name for h in changelist.context["cl"].result_list} == broken
    other = type("Request", (), {"user": users["supervisor_450103"]})
    assert {row["label"]: row["count"] for row in work.admin_rows(other)}[
        "农民工会员资格待核实"
    ] == 0

    # The queue says what the approval decides.
    for household in Household.objects.filter(worker_name__in=broken):
        with pytest.raises(ValidationError):
            services.transition_apply(
                user=supervisor, household=household, action="approve", reason="核实"
            )
    for household in Household.objects.filter(worker_name__in=["非农民工", "二月二十九日起"]):
        services.transition_apply(
            user=supervisor, household=household, action="approve", reason="核实"
        )
        household.refresh_from_db()
        assert household.status == Status.ON_FILE
