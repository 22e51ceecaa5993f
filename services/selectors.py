"""Reads of the service centre: lists, the earlier-cases hint, "my work" and the statistics
that the statistics page and the reports consume. Every figure is an aggregate query."""

import operator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce

from django.db import models
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, ExtractMonth
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from orgs.models import Organisation, User
from orgs.money import MONEY, ZERO, is_money, yuan_text
from orgs.pii import keyed_hash, mask_phone, masks_phones
from orgs.roles import Role
from services.models import Case, JobReferral, LegalAidCase, TrainingAttendee, Window
from services.permissions import CASE_HANDLER_ROLES
from services.validators import normalise_id_number

EARLIER_CASES_LIMIT = 10


def case_list(*, user) -> QuerySet[Case]:
    return Case.objects.visible_to(user).select_related("window", "handler", "organisation")


def case_handlers(*, user=None, organisation: Organisation | None = None) -> QuerySet[User]:
    """Who may handle a case (经办人): an active member of the service centre's staff
    (CASE_HANDLER_ROLES) holding services.change_case (who can follow the case up), not a
    system administrator, who holds it to correct records; given the user who chooses them,
    one within that user's reach or the user themselves; given the case's organisation, one
    whose subtree holds it (who opens the case): of that organisation or above it. The form
    offers those of the user, not knowing the organisation yet; the services check both."""
    found = User.objects.with_perm(
        "services.change_case", is_active=True, backend="django.contrib.auth.backends.ModelBackend"
    ).filter(groups__name__in=CASE_HANDLER_ROLES)
    if user is not None:
        found = found.filter(Q(pk__in=User.objects.visible_to(user).values("pk")) | Q(pk=user.pk))
    if organisation is not None:
        above = organisation.ancestors_and_self
        found = found.filter(organisation__in=above)
    return found.distinct()


def household_for_worker(*, user, id_number: str):
    """The open household file in the user's scope whose worker has this ID number, if any."""
    if not id_number:
        return None
    from households.idnumbers import id_hash
    from households.models import Household

    return (
        Household.objects.visible_to(user)
        .open()
        .filter(id_hash=id_hash(id_number))
        .order_by("-pk")
        .first()
    )


def existing_file_for_case(*, user, case: Case):
    """为其建档's check: a file of the case's worker (by ID number) in the user's scope, an open
    one first; else a closed one, which is reopened (重新申请) rather than filed anew."""
    if not case.worker_id_number or not user.has_perm("households.view_household"):
        return None
    from households.idnumbers import id_hash
    from households.models import Household

    files = Household.objects.visible_to(user).filter(id_hash=id_hash(case.worker_id_number))
    return files.open().order_by("-pk").first() or files.order_by("-pk").first()


def household_for_case(*, organisation, id_number: str):
    """The open household file with this worker's ID number that the case's organisation may see:
    one of that organisation or below it (DOMAIN.md: each sees its own subtree). Not the file of
    the county above a base union's case, nor another county's file a region user registers."""
    if not id_number or organisation is None:
        return None
    from households.idnumbers import id_hash
    from households.models import Household

    return (
        Household.objects.filter(organisation__path__startswith=organisation.path)
        .open()
        .filter(id_hash=id_hash(id_number))
        .order_by("-pk")
        .first()
    )


def case_household(*, user, case: Case):
    """The household file linked to the case if the user may see that file, else None: the
    case page says nothing about a file the reader cannot open."""
    if case.household_id is None or not user.has_perm("households.view_household"):
        return None
    from households.models import Household

    return Household.objects.visible_to(user).filter(pk=case.household_id).first()


def cases_for_household(household, user) -> QuerySet[Case]:
    """The household's service cases for its timeline: those linked to the file and those
    logged with the worker's ID number before the file existed, in the user's scope."""
    match = Q(household=household)
    if household.id_hash:
        match |= Q(worker_id_hash=household.id_hash)
    return (
        Case.objects.visible_to(user)
        .filter(match)
        .select_related("window", "handler")
        .order_by("-received_at", "-pk")
    )


def earlier_cases(
    *, user, name: str = "", phone: str = "", id_number: str = "", exclude_pk=None
) -> dict:
    """A worker's earlier cases in the user's scope, matched on the ID number, the phone or
    the full name, newest first; `matches` says what matched for each case."""
    name = (name or "").strip()
    phone = "".join((phone or "").split())
    id_number = normalise_id_number(id_number)
    id_hash = keyed_hash(id_number) if len(id_number) == 18 else ""
    wanted = Q()
    if id_hash:
        wanted |= Q(worker_id_hash=id_hash)
    if len(phone) >= 7:
        wanted |= Q(worker_phone=phone)
    if len(name) >= 2:
        wanted |= Q(worker_name=name)
    if not wanted:
        return {"cases": [], "total": 0, "searched": False}
    found = case_list(user=user).filter(wanted)
    if exclude_pk:
        found = found.exclude(pk=exclude_pk)
    cases = list(found.order_by("-received_at", "-pk")[:EARLIER_CASES_LIMIT])
    total = len(cases) if len(cases) < EARLIER_CASES_LIMIT else found.count()
    for case in cases:
        case.matches = [
            label
            for label, hit in (
                ("id", id_hash and case.worker_id_hash == id_hash),
                ("phone", len(phone) >= 7 and case.worker_phone == phone),
                ("name", len(name) >= 2 and case.worker_name == name),
            )
            if hit
        ]
    return {"cases": cases, "total": total, "searched": True}


def earlier_cases_as_typed(*, user, typed, exclude_pk=None) -> dict:
    """The earlier cases of the worker typed into the entry or edit form (`typed`: the posted
    data), for the hint beside it and for the entry form shown again after an error. Who sees
    numbers masked (an administrator) is matched on the name only: a typed phone or ID number
    answered by the cases it matches ("电话相同") would give the hidden digits away, a guess
    at a time."""
    masked = masks_phones(user)
    return earlier_cases(
        user=user,
        name=typed.get("worker_name", ""),
        phone="" if masked else typed.get("worker_phone", ""),
        id_number="" if masked else typed.get("worker_id_number", ""),
        exclude_pk=exclude_pk,
    )


def follows_up_own_cases_only(user) -> bool:
    """A clerk follows up the cases they handle; a supervisor or administrator every case in
    scope ("my work" counts, and its link lists, the same cases)."""
    return not (user.is_superuser or user.has_role(Role.SUPERVISOR, Role.ADMIN))


def overdue_follow_ups(*, user, today: date | None = None) -> QuerySet[Case]:
    """Unclosed cases past their follow-up date: a clerk's own, a supervisor's whole scope."""
    found = Case.objects.visible_to(user).follow_up_overdue(today)
    if follows_up_own_cases_only(user):
        found = found.filter(handler=user)
    return found.select_related("window", "handler").order_by("follow_up_on", "pk")


# --- Statistics -------------------------------------------------------------------------


def _day_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """Aware datetimes from the start of date_from to the start of the day after date_to, so
    that the received_at index is used and days follow the local time zone."""
    start = timezone.make_aware(datetime.combine(date_from, time.min))
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min))
    return start, end


def _in_scope(queryset: QuerySet, scope, org_lookup: str) -> QuerySet:
    """Limit a scoped queryset to a user's subtree, one organisation's subtree, or a queryset
    of organisations (as the reports pass them)."""
    if isinstance(scope, QuerySet):
        return queryset.filter(**{f"{org_lookup}__in": scope})
    if isinstance(scope, Organisation):
        return queryset.filter(**{f"{org_lookup}__path__startswith": scope.path})
    return queryset.visible_to(scope)


def cases_in_period(*, scope, date_from: date, date_to: date) -> QuerySet[Case]:
    start, end = _day_bounds(date_from, date_to)
    return _in_scope(Case.objects.all(), scope, "organisation").filter(
        received_at__gte=start, received_at__lt=end
    )


def _windows_for(codes_with_cases) -> list[Window]:
    """Active windows, and retired ones only where they have cases."""
    return list(Window.objects.filter(Q(is_active=True) | Q(code__in=list(codes_with_cases))))


def _as_recorded(model, expression, moment: datetime, output_field):
    """`expression` over a service record's values as they stood at `moment`, from its
    django-simple-history rows: as last saved before it, or, typed in only later, as first
    recorded. As a household file's facts (households.models.date_facts), a record's first
    values hold from its own date (the case's, the referral's), a later change from the day it
    was saved: a past period's figures stay what they were whenever the report is made."""
    rows = model.history.filter(id=OuterRef("pk")).annotate(value=expression).values("value")
    saved = rows.filter(history_date__lt=moment).order_by("-history_date", "-history_id")
    first = rows.order_by("history_date", "history_id")
    return Coalesce(Subquery(saved[:1]), Subquery(first[:1]), expression, output_field=output_field)


def _person() -> models.Case:
    """One key per worker, to count people, not rows: the ID number (its hash); without one,
    name and phone, as a course knows its attendees (services.attendee_save); with neither, a
    name alone is not one person, and the row counts by itself."""
    return models.Case(
        When(~Q(worker_id_hash=""), then=Concat(Value("id:"), "worker_id_hash")),
        When(
            ~Q(worker_phone=""),
            then=Concat(Value("tel:"), "worker_phone", Value(":"), "worker_name"),
        ),
        default=Concat(Value("row:"), Cast("pk", CharField())),
        output_field=CharField(),
    )


def service_centre_summary(*, organisations_qs_or_user_scope, date_from: date, date_to: date):
    """The centre's figures for a period (dates inclusive): cases by window and channel, legal
    aid and wages recovered (of which for migrant workers), people referred and placed,
    trainees and certificates. Scope: a user, an organisation (its subtree) or a queryset of
    organisations. Legal-aid cases count by the date the case was logged, people referred by
    the referral date, trainees by the course start date. Wages recovered, placements and
    certificates count in the period they were recorded (_as_recorded): as entered with the
    case, referral or attendee, on its date (a certificate's: the course's end); as changed
    later, on the day of the change (the wages are the increase, a correction downwards
    nothing; a person is placed when a referral's result becomes 已上岗, certified when 取得证书
    is ticked). So a past period's figures do not change when a record is edited later, and
    wages recovered or a placement recorded after the period count in the next."""
    summaries = _centre_summaries(organisations_qs_or_user_scope, date_from, date_to)
    return summaries[None]


def service_centre_summaries(*, units: list[Organisation], date_from: date, date_to: date):
    """`service_centre_summary` of each unit's subtree (units side by side, none inside
    another: an organisation's children), keyed by the unit's id: the same six queries
    whatever the number of units."""
    if not units:
        return {}
    scope = Organisation.objects.filter(
        reduce(operator.or_, (Q(path__startswith=unit.path) for unit in units))
    )
    return _centre_summaries(scope, date_from, date_to, units)


def _centre_summaries(scope, date_from: date, date_to: date, units=None) -> dict:
    """{unit id: summary} (units: see service_centre_summaries), or {None: summary} of the
    whole scope. Each figure is one query, grouped by unit."""
    keys = [unit.pk for unit in units] if units else [None]

    def grouped(queryset, org_lookup: str, *fields):
        """`queryset` with its unit, and the names to group its rows by."""
        if not units:
            return queryset, list(fields)
        which = models.Case(
            *(
                When(**{f"{org_lookup}__path__startswith": unit.path}, then=Value(unit.pk))
                for unit in units
            ),
            output_field=models.IntegerField(),
        )
        return queryset.annotate(unit=which), ["unit", *fields]

    def per_unit(queryset, org_lookup: str, **aggregates) -> dict:
        """{unit id: aggregates}, every unit there (a unit without rows: what an empty
        aggregate gives, 0 or 0.00)."""
        queryset, group = grouped(queryset, org_lookup)
        if not group:
            return {None: queryset.aggregate(**aggregates)}
        rows = queryset.values(*group).annotate(**aggregates).order_by()
        found = {row["unit"]: row for row in rows}
        empty = queryset.none().aggregate(**aggregates)  # no query
        return {key: found.get(key, empty) for key in keys}

    cases, group = grouped(
        cases_in_period(scope=scope, date_from=date_from, date_to=date_to), "organisation"
    )
    by_window = {key: {} for key in keys}
    for row in cases.order_by().values(*group, "window__code").annotate(n=Count("id")):
        by_window[row.get("unit")][row["window__code"]] = row["n"]
    by_channel = {key: {} for key in keys}
    for row in cases.order_by().values(*group, "channel").annotate(n=Count("id")):
        by_channel[row.get("unit")][row["channel"]] = row["n"]
    windows = _windows_for({code for counts in by_window.values() for code in counts})

    money = DecimalField(**MONEY)
    start, end = _day_bounds(date_from, date_to)
    yes_no = models.BooleanField()

    def recovered(moment):
        """A legal-aid record's wages recovered as at `moment`; nothing before its case."""
        return models.Case(
            When(
                case__received_at__lt=moment,
                then=_as_recorded(LegalAidCase, F("wages_recovered"), moment, money),
            ),
            default=Value(ZERO),
            output_field=money,
        )

    legal_aid = _in_scope(LegalAidCase.objects.all(), scope, "case__organisation").filter(
        case__received_at__lt=end
    )
    # What a record gained in the period, never less than nothing: a correction downwards
    # leaves the figure already reported and makes no negative amount. The migrant workers'
    # share is that gain where the worker is one at the period's end, so never above the total.
    gained = models.Case(
        When(wages_at_end__gt=F("wages_at_start"), then=F("wages_at_end") - F("wages_at_start")),
        default=Value(ZERO),
        output_field=money,
    )
    legal = per_unit(
        legal_aid.annotate(
            wages_at_end=recovered(end),
            wages_at_start=recovered(start),
            migrant=_as_recorded(LegalAidCase, F("is_migrant_worker"), end, yes_no),
        ),
        "case__organisation",
        cases=Count("id", filter=Q(case__received_at__gte=start)),
        wages=Coalesce(Sum(gained), Value(ZERO), output_field=money),
        wages_migrant=Coalesce(
            Sum(gained, filter=Q(migrant=True)), Value(ZERO), output_field=money
        ),
    )

    text = CharField()

    def result(moment):
        """A referral's result as at `moment`; none before its date."""
        return models.Case(
            When(
                referred_on__lt=timezone.localtime(moment).date(),
                then=_as_recorded(JobReferral, F("result"), moment, text),
            ),
            default=Value(""),
            output_field=text,
        )

    referrals = _in_scope(JobReferral.objects.all(), scope, "organisation").filter(
        referred_on__lte=date_to
    )
    placed_now = Q(placed_at_end=JobReferral.Result.PLACED) & ~Q(
        placed_at_start=JobReferral.Result.PLACED
    )
    # People (职业介绍（人）, 成功就业（人）): a worker referred three times is one person referred.
    placed = per_unit(
        referrals.annotate(placed_at_end=result(end), placed_at_start=result(start)),
        "organisation",
        referred=Count(_person(), distinct=True, filter=Q(referred_on__gte=date_from)),
        placed=Count(_person(), distinct=True, filter=placed_now),
    )

    def certified(moment):
        """Whether an attendee held the course's certificate at `moment`: obtained when the
        course ended (entered with the attendee) or on the day it was ticked later."""
        return models.Case(
            When(
                course__ends_on__lt=timezone.localtime(moment).date(),
                then=_as_recorded(TrainingAttendee, F("certificate_obtained"), moment, yes_no),
            ),
            default=Value(False),
            output_field=yes_no,
        )

    attendees = _in_scope(TrainingAttendee.objects.all(), scope, "course__organisation").filter(
        course__starts_on__lte=date_to
    )
    # Trainees are attendances (参加培训（人次）) by the course's start; certificates people
    # (取得证书 N 人), in the period obtained, as placements.
    trained = per_unit(
        attendees.annotate(certified_at_end=certified(end), certified_at_start=certified(start)),
        "course__organisation",
        trainees=Count("id", filter=Q(course__starts_on__gte=date_from)),
        certificates=Count(
            _person(),
            distinct=True,
            filter=Q(certified_at_end=True) & ~Q(certified_at_start=True),
        ),
    )
    summaries = {}
    for key in keys:
        codes, channels = by_window[key], by_channel[key]
        summaries[key] = {
            "date_from": date_from,
            "date_to": date_to,
            # Active windows, and retired ones only where they have cases.
            "cases_by_window": {
                w.code: codes.get(w.code, 0) for w in windows if w.is_active or w.code in codes
            },
            "cases_by_channel": {
                channel: channels.get(channel, 0) for channel in Case.Channel.values
            },
            "cases_total": sum(channels.values()),
            "legal_aid": {
                "cases": legal[key]["cases"],
                "wages_recovered": Decimal(legal[key]["wages"]).quantize(ZERO),
                "wages_recovered_migrant": Decimal(legal[key]["wages_migrant"]).quantize(ZERO),
            },
            "job_referrals": {"referred": placed[key]["referred"], "placed": placed[key]["placed"]},
            "trainees": trained[key]["trainees"],
            "certificates": trained[key]["certificates"],
        }
    return summaries


def case_statistics(*, scope, year: int, within_days: int) -> dict:
    """For the statistics page: cases per window × channel, per month × window and per month ×
    channel, and how many cases logged in the year were closed within N days."""
    cases = cases_in_period(scope=scope, date_from=date(year, 1, 1), date_to=date(year, 12, 31))
    grid = (
        cases.order_by()
        .values("window__code", "channel")
        .annotate(n=Count("id"))
        .values_list("window__code", "channel", "n")
    )
    window_channel = {(code, channel): n for code, channel, n in grid}
    monthly = cases.order_by().annotate(month=ExtractMonth("received_at"))
    month_window = {
        (month, code): n
        for month, code, n in monthly.values("month", "window__code")
        .annotate(n=Count("id"))
        .values_list("month", "window__code", "n")
    }
    month_channel = {
        (month, channel): n
        for month, channel, n in monthly.values("month", "channel")
        .annotate(n=Count("id"))
        .values_list("month", "channel", "n")
    }
    closing = cases.aggregate(
        closed=Count("id", filter=Q(status=Case.Status.CLOSED)),
        closed_within=Count(
            "id",
            filter=Q(
                status=Case.Status.CLOSED,
                closed_at__lte=F("received_at") + timedelta(days=within_days),
            ),
        ),
    )
    codes = {code for code, _channel in window_channel}
    return {
        "windows": _windows_for(codes),
        "window_channel": window_channel,
        "month_window": month_window,
        "month_channel": month_channel,
        "closed": closing["closed"],
        "closed_within": closing["closed_within"],
        "within_days": within_days,
    }


# Fields a case's change list leaves out: the hash and the encrypted number (the masked copy
# shows the change), bookkeeping that has entries of its own (state events), and the legal-aid
# details' key to the case.
# The linked file follows the ID number (unshown too) and may lie outside the reader's scope;
# the page shows the current link to those who may see the file.
UNSHOWN_CHANGES = {
    "worker_id_hash",
    "worker_id_number",
    "household",
    "state",
    "closed_at",
    "updated_at",
}
UNSHOWN_LEGAL_AID_CHANGES = {"case"}


def case_changes(case: Case, *, mask_phones: bool = False) -> list[dict]:
    """The field edits of a case and of its legal-aid details, from their django-simple-history
    rows, newest first: when, who and "field: old → new" (ID numbers masked), for the case
    page's timeline. The legal-aid details appear from their first save (every field filled
    in then, "— → value"). `mask_phones`: the worker's phone masked (readers of the case)."""
    entries = _history_entries(
        list(case.history.select_related("history_user").order_by("history_date")),
        Case,
        UNSHOWN_CHANGES,
        masked={"worker_phone"} if mask_phones else set(),
    )
    legal_aid = list(
        LegalAidCase.history.filter(case_id=case.pk)
        .select_related("history_user")
        .order_by("history_date")
    )
    if legal_aid:
        legal_aid.insert(0, None)  # the first save shows as edits of empty fields
    entries += _history_entries(legal_aid, LegalAidCase, UNSHOWN_LEGAL_AID_CHANGES)
    return sorted(entries, key=lambda entry: entry["at"], reverse=True)


def _history_entries(records: list, model, unshown: set[str], masked=frozenset()) -> list[dict]:
    entries = []
    for previous, record in zip(records, records[1:], strict=False):
        if previous is None:
            changes = [
                (field.name, None, getattr(record, field.name))
                for field in _fields(model, unshown)
                if getattr(record, field.name) not in (None, "", field.get_default())
            ]
        else:
            delta = record.diff_against(previous, excluded_fields=unshown)
            changes = [(change.field, change.old, change.new) for change in delta.changes]
        lines = [
            (
                capfirst(model._meta.get_field(name).verbose_name),
                _shown(model, name, mask_phone(old or "") if name in masked else old),
                _shown(model, name, mask_phone(new or "") if name in masked else new),
            )
            for name, old, new in changes
        ]
        if lines:
            entries.append(
                {"at": record.history_date, "actor": record.history_user, "lines": lines}
            )
    return entries


def _fields(model, unshown: set[str]) -> list:
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in unshown
    ]


def _shown(model, name: str, value) -> str:
    field = model._meta.get_field(name)
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        return str(field.related_model._default_manager.filter(pk=value).first() or value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if is_money(field):
        return yuan_text(value)  # as the page prints amounts: 8,000.00
    return str(value)
