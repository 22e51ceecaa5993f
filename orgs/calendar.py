"""Working days: weekends and configured holidays are skipped; a make-up working day counts."""

from bisect import bisect_left, bisect_right
from datetime import date, timedelta

from django.db.models import Q

from orgs.models import Holiday, Organisation


def _exceptions(org: Organisation | None, start: date, end: date) -> dict[date, bool]:
    """{date: is_working_day} for configured days between start and end (inclusive)."""
    scope = Q(organisation=None)
    if org is not None:
        scope |= Q(organisation__in=[o.pk for o in org.ancestors_and_self])
    rows = Holiday.objects.filter(scope, date__range=(start, end)).values_list(
        "date", "is_working_day", "organisation__path"
    )
    days: dict[date, bool] = {}
    # National entries first, then ever more local ones, so the most local entry wins.
    for day, working, _path in sorted(rows, key=lambda row: len(row[2] or "")):
        days[day] = working
    return days


def is_working_day(day: date, exceptions: dict[date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def working_days_between(start: date, end: date, org: Organisation | None = None) -> int:
    """Working days from `start` to `end`, both included (0 if end is before start)."""
    if end < start:
        return 0
    exceptions = _exceptions(org, start, end)
    count = 0
    day = start
    while day <= end:
        count += is_working_day(day, exceptions)
        day += timedelta(days=1)
    return count


def add_working_days(start: date, days: int, org: Organisation | None = None) -> date:
    """The date on which a period of `days` working days starting on `start` ends."""
    exceptions = _exceptions(org, start, start + timedelta(days=days * 3 + 30))
    day = start
    counted = 0
    while True:
        if is_working_day(day, exceptions):
            counted += 1
            if counted >= days:
                return day
        day += timedelta(days=1)


def _weekdays(start: date, end: date) -> int:
    """Monday to Friday from `start` to `end`, both included (0 if end is before start)."""
    if end < start:
        return 0
    weeks, rest = divmod((end - start).days + 1, 7)
    return weeks * 5 + sum((start.weekday() + i) % 7 < 5 for i in range(rest))


class WorkingCalendar:
    """working_days_between for many organisations over one span, from one query: a list's
    rows each counted against their own organisation's calendar without a query per row."""

    def __init__(self, start: date, end: date):
        rows = Holiday.objects.filter(date__range=(start, end)).values_list(
            "date", "is_working_day", "organisation__path"
        )
        # National entries first, then ever more local ones, so the most local entry wins.
        self._rows = sorted(rows, key=lambda row: len(row[2] or ""))
        self._days: dict[str, tuple[list[date], list[int]]] = {}

    def _exceptions(self, path: str) -> tuple[list[date], list[int]]:
        """The configured days of an organisation (by path) and what each changes against
        Monday to Friday (+1 a make-up working Saturday, -1 a holiday on a weekday)."""
        if path not in self._days:
            days: dict[date, bool] = {}
            for day, working, holiday_path in self._rows:
                if holiday_path is None or path.startswith(holiday_path):
                    days[day] = working
            ordered = sorted(days)
            self._days[path] = (ordered, [days[d] - (d.weekday() < 5) for d in ordered])
        return self._days[path]

    def between(self, start: date, end: date, path: str = "") -> int:
        """Working days from `start` to `end`, both included, for the organisation of `path`
        ("": the national calendar alone)."""
        if end < start:
            return 0
        ordered, changes = self._exceptions(path)
        first, last = bisect_left(ordered, start), bisect_right(ordered, end)
        return _weekdays(start, end) + sum(changes[first:last])


# The State Council publishes the coming year's holidays in the autumn (2026's on 4 November
# 2025): from this day on, next year's national calendar is due.
NEXT_CALENDAR_DUE = (11, 1)


def years_without_calendar(start: date, end: date) -> list[int]:
    """The years from `start`'s to `end`'s with no national holiday entered: working days
    there skip only weekends, so a period over the Spring Festival would end too early."""
    entered = {
        day.year
        for day in Holiday.objects.filter(
            organisation=None, date__range=(date(start.year, 1, 1), date(end.year, 12, 31))
        ).dates("date", "year")
    }
    return [year for year in range(start.year, end.year + 1) if year not in entered]


def calendar_due(today: date) -> int | None:
    """The year whose national calendar should be entered by now and is not: this year's, or
    from NEXT_CALENDAR_DUE on next year's; None when nothing is missing."""
    last = today.year + 1 if (today.month, today.day) >= NEXT_CALENDAR_DUE else today.year
    missing = years_without_calendar(date(today.year, 1, 1), date(last, 12, 31))
    return missing[0] if missing else None


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's end."""
    import calendar

    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
