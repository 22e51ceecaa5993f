"""The national holiday calendar must be entered year by year: until it is, working days skip
only weekends, and a notice period over the Spring Festival would end too early."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from orgs.calendar import (
    WorkingCalendar,
    add_working_days,
    calendar_due,
    working_days_between,
    years_without_calendar,
)
from orgs.models import Holiday
from tests.conftest import on_day

pytestmark = pytest.mark.django_db

REMINDER = "2027年的全国节假日尚未录入"


def test_years_without_a_national_calendar(orgs):
    # The demo enters 2026's national holidays only.
    assert years_without_calendar(date(2026, 12, 20), date(2027, 1, 10)) == [2027]
    assert years_without_calendar(date(2026, 3, 1), date(2026, 3, 9)) == []
    # A county's own day off is not the national calendar.
    Holiday.objects.create(date=date(2027, 1, 1), name="县庆", organisation=orgs["450102"])
    assert years_without_calendar(date(2026, 12, 20), date(2027, 1, 10)) == [2027]
    Holiday.objects.create(date=date(2027, 1, 1), name="元旦")
    assert years_without_calendar(date(2025, 12, 20), date(2027, 1, 10)) == [2025]


def test_without_the_calendar_a_festival_counts_as_a_working_day(orgs):
    # 2027-02-08 is a Monday; five working days end on Friday when no holiday is entered.
    assert add_working_days(date(2027, 2, 8), 5) == date(2027, 2, 12)
    for day in range(8, 13):
        Holiday.objects.create(date=date(2027, 2, day), name="春节")
    assert add_working_days(date(2027, 2, 8), 5) == date(2027, 2, 19)


def test_next_years_calendar_is_due_from_november(orgs):
    assert calendar_due(date(2026, 10, 31)) is None
    assert calendar_due(date(2026, 11, 1)) == 2027
    Holiday.objects.create(date=date(2027, 1, 1), name="元旦")
    assert calendar_due(date(2026, 12, 31)) is None
    # A year begun without its calendar is due at once.
    assert calendar_due(date(2028, 3, 1)) == 2028


def test_the_keeper_of_the_national_calendar_is_reminded(login):
    with on_day(date(2026, 11, 2)):
        keeper = login("admin_450000")
        for url in (reverse("home"), reverse("admin:index")):
            page = keeper.get(url).content.decode()
            assert REMINDER in page, url
            assert reverse("admin:orgs_holiday_add") in page
        # A county's administrator cannot enter national holidays: nothing to act on.
        for username in ("admin_450102", "clerk_450102", "supervisor_450102"):
            client = login(username)
            assert REMINDER not in client.get(reverse("home")).content.decode()
            assert REMINDER not in client.get(reverse("admin:index")).content.decode()
        Holiday.objects.create(date=date(2027, 1, 1), name="元旦")
        keeper = login("admin_450000")
        assert REMINDER not in keeper.get(reverse("home")).content.decode()
        assert REMINDER not in keeper.get(reverse("admin:index")).content.decode()
    with on_day(date(2026, 10, 30)):
        Holiday.objects.filter(date__year=2027).delete()
        assert REMINDER not in login("admin_450000").get(reverse("admin:index")).content.decode()


def test_one_calendar_read_counts_as_working_days_between(orgs, django_assert_num_queries):
    """WorkingCalendar counts each organisation's working days as working_days_between does,
    from one query: national holidays, a make-up Saturday, a county's own day off (which its
    base unions keep too, and the other county does not)."""
    Holiday.objects.create(date=date(2027, 2, 8), name="春节")
    Holiday.objects.create(date=date(2027, 2, 9), name="春节")
    Holiday.objects.create(date=date(2027, 2, 6), name="调休", is_working_day=True)  # Saturday
    Holiday.objects.create(date=date(2027, 3, 3), name="县庆", organisation=orgs["450102"])
    # A county's make-up working day on a national holiday: the most local entry wins.
    Holiday.objects.create(
        date=date(2027, 2, 9), name="上班", is_working_day=True, organisation=orgs["450103"]
    )
    start, end = date(2027, 1, 25), date(2027, 3, 20)
    with django_assert_num_queries(1):
        calendar = WorkingCalendar(start, end)
        spans = [
            (start + timedelta(days=a), start + timedelta(days=a + n))
            for a in range(0, 50, 3)
            for n in (-1, 0, 1, 4, 6, 7, 13, 30)
        ]
        counted = {
            (code, first, last): calendar.between(first, last, orgs[code].path if code else "")
            for code in ("", "450102", "450102001", "450103")
            for first, last in spans
        }
    for (code, first, last), days in counted.items():
        assert days == working_days_between(first, last, orgs[code] if code else None)
    assert calendar.between(date(2027, 3, 1), date(2027, 3, 5), orgs["450102001"].path) == 4
    assert calendar.between(date(2027, 3, 1), date(2027, 3, 5), orgs["450103"].path) == 5
