"""The figures of the yearly relief/exit summary (解困脱困工作总结, seed 000), computed with
aggregate queries from the history rows: `Transition` (status on any date, movements),
`FilingPeriod` (origin, filing date), the funds ledger and the service-centre log.

Every function takes an organisation (its whole subtree counts) and dates; nothing here loads
households into Python."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils import timezone

from households.models import (
    SUPPORTED_STATUSES,
    UNDER_REVIEW_STATUSES,
    Category,
    Cause,
    DeregistrationReason,
    Origin,
    Status,
    Transition,
)
from orgs.models import Organisation


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date
    cutoff: date
    baseline: date

    @classmethod
    def for_years(
        cls,
        org: Organisation,
        first: int,
        last: int | None = None,
        *,
        cutoff: date | None = None,
        baseline: date | None = None,
    ):
        last = last or first
        cutoff = cutoff or default_cutoff(last)
        baseline = baseline or org.setting("stock_baseline_date")
        return cls(date(first, 1, 1), date(last, 12, 31), cutoff, baseline)


def default_cutoff(last: int) -> date:
    """The end of the last year, or today while that year runs: a report of the current year
    shows today's figures and says so, never a 31 December to come."""
    return min(date(last, 12, 31), timezone.localdate())


def in_force_on(day: date) -> Q:
    """The transition that gave its file the status it had on `day` (see Transition)."""
    return Q(effective_date__lte=day) & (Q(valid_until__isnull=True) | Q(valid_until__gt=day))


def is_stock(period: Period) -> Q:
    """A stock file (存量): filed on or before the baseline, and not a relapse."""
    return Q(filed_on__lte=period.baseline) & ~Q(origin=Origin.RELAPSED)


ON_FILE_KEYS = ("households", "relieved", "stock", "relapsed", "migrant_workers")
# DOMAIN.md: reports split relief and exit counts into stock and new (new = count − stock).
MOVEMENT_KEYS = (
    "applied",
    "filed",
    "relieved",
    "relieved_stock",
    "exited",
    "exited_stock",
    "deregistered",
)
# The movements the yearly target counts (解困 or 脱困), once per household (see target).
DONE = (Status.RELIEVED, Status.EXITED)
MOVED_TO = {
    Status.APPLIED: "applied",
    Status.ON_FILE: "filed",
    Status.RELIEVED: "relieved",
    Status.EXITED: "exited",
    Status.DEREGISTERED: "deregistered",
}


def household_figures(org: Organisation, period: Period, parts=()) -> dict:
    """The household figures of `org` and of each organisation in `parts` (its direct children,
    for consolidation), keyed by organisation id.

    Two scans of the history whatever the number of parts: one over the transitions in force at
    some point from the day before the period to the cut-off (status at the cut-off and at the
    start, under review), one over the period's movements. Both group by the file's
    organisation; the subtotals are rolled up here, in Python, over at most a few thousand
    groups — never by household. A third reads only the households relieved or exited twice in
    the period, which the yearly target counts once (_repeated_reliefs)."""
    paths = Organisation.objects.subtree(org).values_list("pk", "path")
    # Each organisation of the subtree adds to the total and to the part it lies in.
    keys = {
        pk: [org.pk] + [part.pk for part in parts if path.startswith(part.path)]
        for pk, path in paths
    }
    history = Transition.objects.filter(organisation_id__in=list(keys))
    causes, categories = _codes(Cause), _codes(Category)
    figures = {
        pk: _empty_figures(causes, categories) for pk in [org.pk, *(part.pk for part in parts)]
    }
    for row in _status_rows(history, period):
        for pk in keys[row["organisation_id"]]:
            _add_status(figures[pk], row, causes, categories)
    for row in _movement_rows(history, period):
        for pk in keys[row["organisation_id"]]:
            _add_movement(figures[pk], row)
    for organisation_id in _repeated_reliefs(period):
        for pk in keys.get(organisation_id, ()):
            figures[pk]["relieved_or_exited"] -= 1
    for item in figures.values():
        on_file = item["on_file"]
        on_file["new"] = on_file["households"] - on_file["stock"] - on_file["relapsed"]
    return figures


def _status_rows(history, period: Period):
    """Grouped counts over the transitions in force at some time from the day before the period
    to the cut-off: the current ones, then those closed since (two index range scans whose rows
    are disjoint, rather than one OR that PostgreSQL cannot answer from the index alone).
    Counting to_status (never null), not id: every column read is in the covering index."""
    start = period.date_from - timedelta(days=1)
    at_cutoff = in_force_on(period.cutoff)
    supported = at_cutoff & Q(to_status__in=SUPPORTED_STATUSES)

    def count(condition):
        return Count("to_status", filter=condition)

    counts = {
        "households": count(supported),
        "relieved": count(at_cutoff & Q(to_status=Status.RELIEVED)),
        "stock": count(supported & is_stock(period)),
        "relapsed": count(supported & Q(origin=Origin.RELAPSED)),
        "migrant_workers": count(supported & Q(is_migrant_worker=True)),
        "under_review": count(at_cutoff & Q(to_status__in=UNDER_REVIEW_STATUSES)),
        "at_start": count(in_force_on(start) & Q(to_status__in=SUPPORTED_STATUSES)),
    }
    in_force = history.filter(effective_date__lte=period.cutoff)
    for spans in (
        in_force.filter(valid_until__isnull=True),
        in_force.filter(valid_until__gt=start),
    ):
        yield from (
            spans.values("organisation_id", "primary_cause_id", "category_id")
            .annotate(**counts)
            .order_by()
        )


def _moved(period: Period) -> Q:
    """A state change in the period; a fact change (no change of status: households.date_facts)
    is none."""
    return Q(effective_date__gte=period.date_from, effective_date__lte=period.cutoff) & ~Q(
        from_status=F("to_status")
    )


def _movement_rows(history, period: Period):
    """The period's state changes, grouped by organisation."""
    return (
        history.filter(_moved(period), to_status__in=list(MOVED_TO))
        .values("organisation_id", "to_status", "deregistration_reason")
        .annotate(n=Count("to_status"), stock=Count("to_status", filter=is_stock(period)))
        .order_by()
    )


def _repeated_reliefs(period: Period) -> list[int]:
    """The organisation of each relief or exit of the period that is not its household's first
    in the period, in whichever organisation (by date, then by row for two on one day): the
    yearly target counts households (see target). Such households are few, so the period's
    reliefs and exits are grouped by household in the database (the movements' covering index
    holds the household) and only theirs are read, in order."""
    done = Transition.objects.filter(_moved(period), to_status__in=DONE)
    repeated = (
        done.values("household_id").annotate(n=Count("pk")).filter(n__gt=1).values("household_id")
    )
    rows = (
        done.filter(household_id__in=repeated)
        .order_by("household_id", "effective_date", "pk")
        .values_list("household_id", "organisation_id")
    )
    seen, later = set(), []
    for household_id, organisation_id in rows:
        if household_id in seen:
            later.append(organisation_id)
        seen.add(household_id)
    return later


def _empty_figures(causes: dict, categories: dict) -> dict:
    return {
        "on_file": {
            **dict.fromkeys(ON_FILE_KEYS, 0),
            "by_cause": dict.fromkeys(causes.values(), 0),
            "by_category": dict.fromkeys(categories.values(), 0),
        },
        "movements": {
            **dict.fromkeys(MOVEMENT_KEYS, 0),
            "deregistered_by_reason": dict.fromkeys(DeregistrationReason.values, 0),
            "under_review": 0,
        },
        "on_file_at_start": 0,
        "relieved_or_exited": 0,
    }


def _add_status(figures: dict, row: dict, causes: dict, categories: dict) -> None:
    on_file = figures["on_file"]
    for key in ON_FILE_KEYS:
        on_file[key] += row[key]
    if row["households"]:
        on_file["by_cause"][causes[row["primary_cause_id"]]] += row["households"]
        category = row["category_id"]
        if category is not None:
            on_file["by_category"][categories[category]] += row["households"]
    figures["movements"]["under_review"] += row["under_review"]
    figures["on_file_at_start"] += row["at_start"]


def _add_movement(figures: dict, row: dict) -> None:
    moved = figures["movements"]
    key = MOVED_TO[row["to_status"]]
    moved[key] += row["n"]
    if row["to_status"] in DONE:
        figures["relieved_or_exited"] += row["n"]  # less the repeated ones (_repeated_reliefs)
    if key in ("relieved", "exited"):
        moved[f"{key}_stock"] += row["stock"]
    elif key == "deregistered":
        reason = row["deregistration_reason"] or DeregistrationReason.OTHER
        moved["deregistered_by_reason"][reason] += row["n"]


def target(org: Organisation, figures: dict) -> dict:
    """The yearly target [003]: households relieved or exited in the period ÷ households on file
    at its start. Households, not movements: one relieved in April and exited in September, or
    exited, reopened and exited again, counts once (as movements it would count twice, and a
    county could report 200 %). It counts for the organisation of its first relief or exit of
    the period (a file that moved county after it counts in the county that relieved it), so
    that the organisations' counts add up to their parent's, as every other figure does.

    Households filed (or moved in) during the period and relieved in it count among those
    relieved, not among those on file at its start, as [003] asks the new ones to be relieved
    in step: the rate may pass 100 % (the outputs say why, render.rate_note). Without
    households on file at the start it is not applicable (None), not 0 %."""
    base = figures["on_file_at_start"]
    done = figures["relieved_or_exited"]
    goal = Decimal(org.setting("exit_rate_goal"))
    rate = (Decimal(done) / base).quantize(Decimal("0.0001")) if base else None
    return {
        "on_file_at_start": base,
        "relieved_or_exited": done,
        "rate": rate,
        "goal": goal,
        "met": bool(base) and rate >= goal,
    }


def _codes(model) -> dict[int, str]:
    """id -> code of a reference table (a few rows)."""
    return dict(model.objects.values_list("pk", "code"))


def cause_codes() -> list[str]:
    return list(Cause.objects.values_list("code", flat=True))


def category_codes() -> list[str]:
    return list(Category.objects.values_list("code", flat=True))
