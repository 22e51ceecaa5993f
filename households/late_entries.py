"""逾期录入: status changes that reached the electronic file late, and exit requests left waiting.

DOMAIN.md lifecycle 6: "changes reach the electronic file within 30 working days". A change is
late when it was recorded more than 30 working days after its effective date, counted on the
working-day calendar of the file's organisation (orgs.calendar: weekends and configured holidays
skipped, make-up working days counted). Imported history (Transition.is_imported) is history
brought in, not a late entry; a fact change (AMEND) is dated the day it is made, never late.

Each list is one query for the rows and one for the calendar, whatever their number: the SQL
keeps only rows recorded more than 30 calendar days late (30 working days take at least that),
and the working days are counted here against the calendar read once."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import DateField, ExpressionWrapper, F, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import AMEND, ClosureRequest, Transition
from households.workflow import STEPS
from orgs.calendar import WorkingCalendar
from orgs.models import Organisation

LATE_WORKING_DAYS = 30
SUPERVISOR = "households.approve_household"


@dataclass
class LateEntry:
    transition: Transition
    recorded_on: date
    delay: int  # working days after the effective date, up to the day it was recorded

    @property
    def step(self) -> str:
        """The step's name, as the file's timeline gives it."""
        action = self.transition.action
        if action in STEPS:
            return str(STEPS[action].label)
        return _("录入档案") if action == "create" else action


@dataclass
class WaitingClosure:
    closure: ClosureRequest
    requested_on: date
    waiting: int  # working days after the request, up to today


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _in(queryset: QuerySet, organisation: Organisation | None) -> QuerySet:
    if organisation is None:
        return queryset
    return queryset.filter(household__organisation__path__startswith=organisation.path)


def _late_transitions(user, *, year: int | None, organisation: Organisation | None) -> QuerySet:
    """The candidates: recorded more than LATE_WORKING_DAYS calendar days after the effective
    date (a working day is a calendar day, so no late entry is left out)."""
    found = (
        _in(Transition.objects.visible_to(user), organisation)
        .filter(is_imported=False)
        .exclude(action=AMEND)
        .annotate(recorded_on=TruncDate("created_at"))
        .filter(
            recorded_on__gt=ExpressionWrapper(
                F("effective_date") + timedelta(days=LATE_WORKING_DAYS), output_field=DateField()
            )
        )
    )
    if year is not None:
        start, end = _start_of(date(year, 1, 1)), _start_of(date(year + 1, 1, 1))
        found = found.filter(created_at__gte=start, created_at__lt=end)
    return found


def _waiting_closures(user, *, organisation: Organisation | None, today: date) -> QuerySet:
    return _in(ClosureRequest.objects.visible_to(user), organisation).filter(
        state=ClosureRequest.State.PENDING,
        requested_at__lt=_start_of(today - timedelta(days=LATE_WORKING_DAYS)),
    )


def late_entries(
    user,
    *,
    year: int | None = None,
    organisation: Organisation | None = None,
    today: date | None = None,
) -> tuple[list[LateEntry], list[WaitingClosure]]:
    """The status changes in the user's scope recorded more than 30 working days after their
    effective date (in `year`, when given: by the year they were recorded), latest first; and
    the exit requests (解困、脱困、注销) waiting more than 30 working days for a decision,
    longest waiting first."""
    today = today or timezone.localdate()
    transitions = list(
        _late_transitions(user, year=year, organisation=organisation)
        .select_related("household__organisation", "actor")
        .defer("household__id_number", "household__bank_account")
        .order_by("-created_at", "-pk")
    )
    closures = list(
        _waiting_closures(user, organisation=organisation, today=today)
        .select_related("household__organisation", "requested_by")
        .defer("household__id_number", "household__bank_account")
        .order_by("requested_at", "pk")
    )
    starts = [row.effective_date for row in transitions]
    starts += [timezone.localdate(row.requested_at) for row in closures]
    if not starts:
        return [], []
    ends = [row.recorded_on for row in transitions] + ([today] if closures else [])
    calendar = WorkingCalendar(min(starts), max(ends))
    entries = []
    for row in transitions:
        path = row.household.organisation.path
        delay = calendar.between(row.effective_date + timedelta(days=1), row.recorded_on, path)
        if delay > LATE_WORKING_DAYS:
            entries.append(LateEntry(transition=row, recorded_on=row.recorded_on, delay=delay))
    waiting = []
    for row in closures:
        asked = timezone.localdate(row.requested_at)
        days = calendar.between(asked + timedelta(days=1), today, row.household.organisation.path)
        if days > LATE_WORKING_DAYS:
            waiting.append(WaitingClosure(closure=row, requested_on=asked, waiting=days))
    return entries, waiting
