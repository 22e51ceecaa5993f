"""A file's facts (organisation, cause, category, migrant flag) changed today count from today:
a report of a past period is the same whenever it is made (households.models.date_facts)."""

from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from households import services
from households.models import AMEND, Category, Cause, Status, Transition
from households.timeline import timeline_for
from reports import roster
from reports.selectors import Period, household_figures
from tests.reports.conftest import build as build_file


def figures(org, first: date, last: date):
    period = Period(first, last, last, date(2015, 12, 31))
    return household_figures(org, period)[org.pk]


def year_2018(org):
    return figures(org, date(2018, 1, 1), date(2018, 12, 31))


def this_year(org):
    today = timezone.localdate()
    return figures(org, date(today.year, 1, 1), today)


def test_a_category_or_county_changed_today_leaves_the_past_as_it_was(users, orgs):
    county, other = orgs["450102"], orgs["450103"]
    household = build_file(
        users["clerk_450102"],
        county,
        [("applied", date(2018, 3, 1)), ("on_file", date(2018, 5, 2))],
        category="relative",
    )
    before = year_2018(county)
    assert before["on_file"]["by_category"]["relative"] == 1

    household.category = Category.objects.get(code="deep")
    household._history_user = users["supervisor_450102"]
    household.save()
    assert year_2018(county) == before  # the report sent up for 2018 stays as it was
    now = this_year(county)["on_file"]
    assert now["by_category"] == {**now["by_category"], "deep": 1, "relative": 0}
    # A fact change is no movement: nothing was filed this year.
    assert this_year(county)["movements"]["filed"] == 0
    amend = Transition.objects.get(household=household, action=AMEND)
    assert (amend.from_status, amend.to_status) == (Status.ON_FILE, Status.ON_FILE)
    assert amend.effective_date == timezone.localdate()
    assert amend.actor == users["supervisor_450102"]

    household.organisation = other  # moved to the other county
    household.save()
    assert year_2018(county) == before
    assert this_year(county)["on_file"]["households"] == 0
    assert this_year(other)["on_file"]["households"] == 1
    # Changed twice the same day: one AMEND row, corrected in place.
    assert Transition.objects.filter(household=household, action=AMEND).count() == 1
    # The timeline tells the change by the field history, not as a step of the file.
    titles = [entry["title"] for entry in timeline_for(household, users["supervisor_450102"])]
    assert AMEND not in titles


def test_a_step_dated_before_a_fact_change_takes_its_place(users, orgs):
    county = orgs["450102"]
    household = build_file(
        users["clerk_450102"],
        county,
        [("applied", date(2018, 3, 1)), ("on_file", date(2018, 5, 2))],
        category="relative",
    )
    household.category = Category.objects.get(code="deep")
    household.save()
    last_week = timezone.localdate() - timedelta(days=7)
    services.record_transition(
        household=household,
        period=household.current_period,
        action="relieve",
        from_status=Status.ON_FILE,
        to_status=Status.RELIEVED,
        effective_date=last_week,
        actor=users["supervisor_450102"],
    )
    rows = list(
        Transition.objects.filter(household=household)
        .order_by("effective_date", "id")
        .values_list("to_status", "effective_date", "valid_until")
    )
    # The relief holds from its date, with the present facts; no AMEND row is left after it.
    assert rows[-1] == (Status.RELIEVED, last_week, None)
    assert rows[-2][2] == last_week
    assert not Transition.objects.filter(household=household, action=AMEND).exists()
    relieved = Transition.objects.get(household=household, to_status=Status.RELIEVED)
    assert relieved.category.code == "deep"


def test_a_past_roster_lists_a_moved_file_where_and_as_it_was_then(users, orgs):
    """The roster of a day before a move lists the file in the county it was in, with the
    cause and category of that day, as the summary counts it; from the move on, the other
    county's roster lists it."""
    county, other = orgs["450102"], orgs["450103"]
    household = build_file(
        users["clerk_450102"],
        county,
        [("applied", date(2018, 3, 1)), ("on_file", date(2018, 5, 2))],
        category="relative",
    )
    household.organisation = other
    household.primary_cause = Cause.objects.get(code="disability")
    household.category = Category.objects.get(code="deep")
    household.save()

    def listed(org, on):
        return {row[1]: row for row in roster.rows(roster.households_on(org, on), full=False)}

    end_2018 = date(2018, 12, 31)
    row = listed(county, end_2018)[household.file_number]
    assert (row[9], row[10]) == ("因病", "相对困难")
    assert year_2018(county)["on_file"]["households"] == 1
    assert household.file_number not in listed(other, end_2018)
    today = timezone.localdate()
    assert household.file_number not in listed(county, today)
    row = listed(other, today)[household.file_number]
    assert (row[9], row[10]) == ("因残", "深度困难")


def test_a_past_roster_shows_each_file_as_recorded_on_that_day(users, orgs):
    """The roster of a past day reads the name, employer, size, income, bank and phone from the
    file's field history of that day, not from today's file; a day before the file was entered
    (old files imported with their dates) shows the values first entered."""
    county = orgs["450102"]
    household = build_file(
        users["clerk_450102"],
        county,
        [("applied", date(2018, 3, 1)), ("on_file", date(2018, 5, 2))],
    )
    household.refresh_from_db()
    household.employer = "南宁纺织厂"
    household.phone = "13800001111"
    household.bank_name = "农业银行"
    household.save()
    # As if entered on 2019-01-10 (Beijing morning), first with another employer.
    household.history.update(history_date=datetime(2019, 1, 10, 1, 0, tzinfo=UTC))
    household.history.filter(history_type="+").update(employer="初建档时的单位")
    household.refresh_from_db()
    household.employer = "南宁机械厂"
    household.phone = "13900002222"
    household.bank_name = "工商银行"
    household.save()  # today

    def row(on, full=False):
        return {r[1]: r for r in roster.rows(roster.households_on(county, on), full=full)}[
            household.file_number
        ]

    then, before, today = row(date(2019, 6, 30)), row(date(2018, 12, 31)), row(timezone.localdate())
    columns = (5, 13, 15)  # employer, bank, phone
    assert [then[i] for i in columns] == ["南宁纺织厂", "农业银行", "138****1111"]
    assert before[5] == "初建档时的单位"
    assert [today[i] for i in columns] == ["南宁机械厂", "工商银行", "139****2222"]
    # Numbers in full come from the record too, decrypted.
    full = row(date(2019, 6, 30), full=True)
    assert (full[4], full[15]) == (household.id_number, "13800001111")


def test_a_roster_reads_in_a_few_queries_and_decrypts_numbers_only_in_full(users, orgs):
    """Rosters run to tens of thousands of rows: the queries do not grow with the files, and a
    masked roster never loads (decrypts) the ID or bank numbers."""
    county = orgs["450102"]
    steps = [("applied", date(2018, 3, 1)), ("on_file", date(2018, 5, 2))]

    def queries(on, full=False):
        with CaptureQueriesContext(connection) as captured:
            listed = list(roster.rows(roster.households_on(county, on), full=full))
        return listed, [query["sql"] for query in captured.captured_queries]

    build_file(users["clerk_450102"], county, steps)
    for on in (date(2019, 6, 30), timezone.localdate()):
        listed, few = queries(on)
        for _ in range(4):
            build_file(users["clerk_450102"], county, steps)
        more_listed, more = queries(on)
        assert len(more_listed) == len(listed) + 4
        assert len(more) == len(few), more
        assert not any('"id_number"' in sql or '"bank_account"' in sql for sql in more)
        _listed, in_full = queries(on, full=True)
        assert any('"id_number"' in sql for sql in in_full)
