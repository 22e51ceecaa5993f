"""逾期录入: changes must reach the electronic file within 30 working days (DOMAIN.md lifecycle 6).
A status change recorded later than that after its effective date is listed for supervisors,
counted in working days on the file's organisation's calendar; imported history is not."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from households import services
from households.late_entries import late_entries
from households.models import AMEND, ClosureRequest, Transition
from orgs.models import Holiday
from tests.households.conftest import age_file

pytestmark = pytest.mark.django_db

# Monday 3 March 2025; with Qingming (Friday 4 April) a national holiday, the 30th working day
# after it is Tuesday 15 April: recorded then it is in time, on the 16th it is one day late.
EFFECTIVE = date(2025, 3, 3)
IN_TIME, LATE = date(2025, 4, 15), date(2025, 4, 16)


@pytest.fixture(autouse=True)
def qingming(db):
    Holiday.objects.create(date=date(2025, 4, 4), name="清明节")


def moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10)))


def recorded(household, *, effective=EFFECTIVE, on=LATE, **fields) -> Transition:
    """The file's first step (its entry) as if it took effect on `effective` and was recorded
    on `on`."""
    step = household.transitions.order_by("pk").first()
    Transition.objects.filter(pk=step.pk).update(
        effective_date=effective, created_at=moment(on), **fields
    )
    return step


def keys(entries):
    return {entry.transition.household_id: entry.delay for entry in entries}


def test_a_change_recorded_more_than_30_working_days_late_is_listed(make_household, users):
    in_time = make_household(worker_name="按时")
    recorded(in_time, on=IN_TIME)
    late = make_household(worker_name="逾期")
    recorded(late, on=LATE)
    entries, _waiting = late_entries(users["supervisor_450102"])
    assert keys(entries) == {late.pk: 31}
    # Without the holiday the same day is two working days late: the calendar counts.
    Holiday.objects.all().delete()
    entries, _waiting = late_entries(users["supervisor_450102"])
    assert keys(entries) == {late.pk: 32, in_time.pk: 31}


def test_the_delay_is_counted_on_the_files_own_calendar(make_household, users, orgs):
    """A county's own day off counts for its files, not for another county's."""
    Holiday.objects.create(date=date(2025, 4, 10), name="县庆", organisation=orgs["450102"])
    here = make_household()
    recorded(here, on=LATE)
    there = make_household(by="clerk_450103", org="450103")
    recorded(there, on=LATE)
    entries = late_entries(users["viewer_450100"])[0]  # the city sees both counties
    assert keys(entries) == {there.pk: 31}


def test_imported_history_and_fact_changes_are_not_late_entries(make_household, users):
    imported = make_household(worker_name="导入")
    recorded(imported, is_imported=True)
    amended = make_household(worker_name="变更")
    recorded(amended, action=AMEND)
    assert late_entries(users["supervisor_450102"])[0] == []


def test_scope_year_and_organisation(make_household, users, orgs):
    mine = make_household()
    recorded(mine)
    other_county = make_household(by="clerk_450103", org="450103")
    recorded(other_county)
    last_year = make_household()
    recorded(last_year, effective=date(2024, 3, 4), on=date(2024, 6, 3))
    supervisor = users["supervisor_450102"]
    assert keys(late_entries(supervisor)[0]).keys() == {mine.pk, last_year.pk}
    assert keys(late_entries(supervisor, year=2025)[0]).keys() == {mine.pk}
    assert keys(late_entries(supervisor, year=2024)[0]).keys() == {last_year.pk}
    assert late_entries(supervisor, organisation=orgs["450102001"])[0] == []


def test_a_late_closure_decision_is_a_late_entry(make_household, walk, users):
    """An exit approved long after its effective date reached the file late; the request
    itself, left waiting over 30 working days, is listed while it waits."""
    household = walk(make_household(), "on_file")
    age_file(household, 100)  # on file since 100 days ago
    today = timezone.localdate()
    closure = services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="exited",
        effective_date=today - timedelta(days=70),
        reason="收入稳定",
    )
    supervisor = users["supervisor_450102"]
    assert late_entries(supervisor)[1] == []
    ClosureRequest.objects.filter(pk=closure.pk).update(requested_at=moment(today - timedelta(70)))
    waiting = late_entries(supervisor)[1]
    assert [item.closure.pk for item in waiting] == [closure.pk]
    assert waiting[0].waiting > 30
    assert late_entries(users["supervisor_450103"])[1] == []
    # Decided: no longer waiting; the exit it applies took effect 70 days before.
    closure.refresh_from_db()
    services.closure_decide(user=supervisor, closure=closure, approve=True, note="同意")
    entries, waiting = late_entries(supervisor, year=today.year)
    assert waiting == []
    exit_step = Transition.objects.get(household=household, action="exit")
    assert exit_step.pk in {entry.transition.pk for entry in entries}


def test_the_page_lists_late_entries_for_supervisors(make_household, login, users):
    late = make_household(worker_name="逾期户")
    recorded(late)
    url = reverse("households:late_entries")
    page = login("supervisor_450102").get(url, {"year": 2025}).content.decode()
    assert late.file_number in page
    assert "逾期户" in page
    assert "2025-03-03" in page
    assert "<strong>31</strong>" in page
    # Another county's supervisor does not see it; this year's list (the default) is empty.
    assert (
        late.file_number not in login("supervisor_450103").get(url, {"year": 2025}).content.decode()
    )
    assert late.file_number not in login("supervisor_450102").get(url).content.decode()
    # Another county's organisation is no choice.
    response = login("supervisor_450102").get(
        url, {"organisation": users["clerk_450103"].organisation_id}
    )
    assert response.status_code == 200
    assert late.file_number not in response.content.decode()
    assert "organisation" in response.context["form"].errors
    assert login("clerk_450102").get(url).status_code == 403


def test_the_supervisors_work_page_counts_this_years_late_entries(make_household, login):
    late = make_household()
    today = timezone.localdate()
    recorded(late, effective=today - timedelta(days=120), on=today)
    page = login("supervisor_450102").get(reverse("home")).content.decode()
    label = f"{today.year}年逾期录入的状态变更"
    assert label in page
    row = page.split(label, 1)[1].split("</dd>", 1)[0]
    assert f"{reverse('households:late_entries')}?year={today.year}" in row
    assert "<strong>1</strong>" in row
    # A panel of its own: nothing late awaits the supervisor's approval.
    panel = page.split(label, 1)[0].rsplit("<section", 1)[1]
    assert "<h2>逾期录入</h2>" in panel and "待我审批" not in panel
    assert label not in login("clerk_450102").get(reverse("home")).content.decode()


def test_the_english_page_heads_its_columns_as_headings(make_household, walk, users, login):
    """The column heads borrow the fields' names, which English writes in lower case
    ("entered at", "by"): as heads they start with a capital, and a row is one transition."""
    recorded(make_household())
    household = walk(make_household(), "on_file")
    age_file(household, 100)
    today = timezone.localdate()
    closure = services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="exited",
        effective_date=today - timedelta(days=70),
        reason="收入稳定",
    )
    ClosureRequest.objects.filter(pk=closure.pk).update(requested_at=moment(today - timedelta(70)))
    client = login("supervisor_450102")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("households:late_entries"), {"year": 2025}).content.decode()
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", page)
    assert heads[:7] == [
        "File",
        "Filing organisation",
        "Transition",
        "Effective date",
        "Entered at",
        "By",
        "Late by (working days)",
    ]
    assert heads[7:] == [
        "File",
        "Filing organisation",
        "Type",
        "Effective date",
        "Requested at",
        "Requested by",
        "Waiting (working days)",
    ]


def test_the_organisation_filter_offers_all_as_the_other_filters(login):
    """Empty, the filter takes every organisation of the user's: it says so (全部), as the
    list's filters do, rather than Django's dashes."""
    page = login("supervisor_450102").get(reverse("households:late_entries")).content.decode()
    select = page.split('name="organisation"')[1].split("</select>")[0]
    assert re.search(r'<option value=""[^>]*>全部</option>', select)
    assert "---------" not in select
