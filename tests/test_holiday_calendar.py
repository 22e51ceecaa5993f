"""The national holiday calendar must be entered year by year: until it is, working days skip
only weekends, and a notice period over the Spring Festival would end too early."""

from datetime import date

import pytest
from django.urls import reverse

from orgs.calendar import add_working_days, calendar_due, years_without_calendar
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
