"""The figures of the yearly relief/exit summary (解困脱困工作总结, seed 000), computed with
aggregate queries from the history rows: `Transition` (status on any date, movements),
`FilingPeriod` (origin, filing date), the funds ledger and the service-centre log.

Every function takes an organisation (its whole subtree counts) and dates; nothing here loads
households into Python."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q

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
    def for_years(cls, org: Organisation, first: int, last: int | None = None, **kwargs):
        last = last or first
        cutoff = kwargs.get("cutoff") or date(last, 12, 31)
        baseline = kwargs.get("baseline") or org.setting("stock_baseline_date")
        return cls(date(first, 1, 1), date(last, 12, 31), cutoff, baseline)


def transitions_of(org: Organisation):
    return Transition.objects.filter(household__organisation__path__startswith=org.path)


def on_file(org: Organisation, period: Period) -> dict:
    """Files on file or relieved at the cut-off: totals, origin, migrant workers, causes,
    categories — one grouped query."""
    rows = (
        transitions_of(org)
        .in_force_on(period.cutoff)
        .filter(to_status__in=SUPPORTED_STATUSES)
        .values("household__primary_cause__code", "household__category__code")
        .annotate(
            households=Count("id"),
            relieved=Count("id", filter=Q(to_status=Status.RELIEVED)),
            stock=Count(
                "id",
                filter=Q(period__filed_on__lte=period.baseline)
                & ~Q(period__origin=Origin.RELAPSED),
            ),
            relapsed=Count("id", filter=Q(period__origin=Origin.RELAPSED)),
            migrant_workers=Count("id", filter=Q(household__is_migrant_worker=True)),
        )
    )
    result = {"households": 0, "relieved": 0, "stock": 0, "relapsed": 0, "migrant_workers": 0}
    by_cause = dict.fromkeys(cause_codes(), 0)
    by_category = dict.fromkeys(category_codes(), 0)
    for row in rows:
        for key in result:
            result[key] += row[key]
        by_cause[row["household__primary_cause__code"]] += row["households"]
        category = row["household__category__code"]
        if category is not None:
            by_category[category] += row["households"]
    result["new"] = result["households"] - result["stock"] - result["relapsed"]
    result["by_cause"] = by_cause
    result["by_category"] = by_category
    return result


def movements(org: Organisation, period: Period) -> dict:
    """Events from the period's start to the cut-off, each counted by the date of its approved
    transition; applications still under review at the cut-off."""
    events = transitions_of(org).filter(
        effective_date__gte=period.date_from, effective_date__lte=period.cutoff
    )
    exited = Q(to_status=Status.EXITED)
    stock = Q(period__filed_on__lte=period.baseline) & ~Q(period__origin=Origin.RELAPSED)
    counts = events.aggregate(
        applied=Count("id", filter=Q(to_status=Status.APPLIED)),
        filed=Count("id", filter=Q(to_status=Status.ON_FILE)),
        relieved=Count("id", filter=Q(to_status=Status.RELIEVED)),
        exited=Count("id", filter=exited),
        exited_stock=Count("id", filter=exited & stock),
        deregistered=Count("id", filter=Q(to_status=Status.DEREGISTERED)),
    )
    by_reason = dict.fromkeys(DeregistrationReason.values, 0)
    for row in (
        events.filter(to_status=Status.DEREGISTERED)
        .values("deregistration_reason")
        .annotate(n=Count("id"))
    ):
        by_reason[row["deregistration_reason"] or DeregistrationReason.OTHER] += row["n"]
    counts["deregistered_by_reason"] = by_reason
    counts["under_review"] = (
        transitions_of(org)
        .in_force_on(period.cutoff)
        .filter(to_status__in=UNDER_REVIEW_STATUSES)
        .count()
    )
    return counts


def on_file_at_start(org: Organisation, period: Period) -> int:
    return (
        transitions_of(org)
        .in_force_on(period.date_from - timedelta(days=1))
        .filter(to_status__in=SUPPORTED_STATUSES)
        .count()
    )


def target(org: Organisation, period: Period, moved: dict) -> dict:
    """The yearly target [003]: (relieved + exited) ÷ households on file at the period's start."""
    base = on_file_at_start(org, period)
    done = moved["relieved"] + moved["exited"]
    rate = (Decimal(done) / base).quantize(Decimal("0.0001")) if base else Decimal("0")
    return {
        "on_file_at_start": base,
        "relieved_or_exited": done,
        "rate": rate,
        "goal": Decimal(org.setting("exit_rate_goal")),
        "met": bool(base) and rate >= Decimal(org.setting("exit_rate_goal")),
    }


def cause_codes() -> list[str]:
    return list(Cause.objects.values_list("code", flat=True))


def category_codes() -> list[str]:
    return list(Category.objects.values_list("code", flat=True))
