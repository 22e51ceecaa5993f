"""The yearly spot-check of household files (年度档案抽查, DOMAIN.md lifecycle 6: "at least once a
year all files are cleaned up and at least 30% are spot-checked").

A supervisor draws, once per organisation and year, a random sample of at least 30% (rounded
up) of the files on file (在档、解困) in the organisation's subtree; the staff who visit the
households record for each sampled file whether it is true (属实) or not (不属实或有出入, with what
was found and what is to be done). The sample is stored as drawn: files that change status,
move or close later stay in it. Shaped like the payments' quarterly sample (funds.services
`sample_draw`, `verification_record`)."""

import random
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import (
    MIN_SPOTCHECK_SHARE,
    SUPPORTED_STATUSES,
    Household,
    SpotCheck,
    SpotCheckSample,
)
from orgs.models import Organisation
from orgs.scoping import user_can_reach

DRAW = "households.add_spotchecksample"
RECORD = "households.change_spotcheck"
# The files are kept, surveyed and corrected by a county's clerks, so the year's check is a
# county's (or one of its base unions'): a draw over a city or a region would leave its files
# with no clerk who may record them. A city's supervisor may draw for one of its counties.
DRAW_LEVELS = (Organisation.Level.COUNTY, Organisation.Level.BASE)
# From this month on, "my work" and the admin index remind of the year's draw and its open
# checks: the year's clean-up has to be done by its end.
REMINDER_MONTH = 12


def _require(user, perm: str, organisation: Organisation) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    if not user_can_reach(user, organisation):
        raise PermissionDenied(_("该组织不在您的管辖范围内。"))


def sample_size(population: int, share: int) -> int:
    """`share` percent of `population`, rounded up: 30% of 7 files is 3 files, never 2."""
    return -(-population * share // 100)


def spotcheck_population(organisation: Organisation) -> QuerySet[Household]:
    """The files the year's spot-check draws from: on file (在档、解困) in the subtree."""
    return Household.objects.filter(
        organisation__path__startswith=organisation.path, status__in=SUPPORTED_STATUSES
    )


def drawable_years(today: date) -> tuple[int, int]:
    """This year's, and last year's for a draw forgotten until January."""
    return today.year - 1, today.year


def _already_drawn(organisation: Organisation, year: int) -> ValidationError:
    message = _("%(org)s %(year)d年度的档案抽查已经抽取。")
    return ValidationError({"year": message % {"org": organisation.name, "year": year}})


@transaction.atomic
def spotcheck_draw(
    *,
    user,
    organisation: Organisation,
    year: int,
    share: int = MIN_SPOTCHECK_SHARE,
    note: str = "",
    rng: random.Random | None = None,
) -> SpotCheckSample:
    """年度档案抽查: a random sample of at least 30% (rounded up) of the files on file in the
    organisation's subtree at the time of the draw, once per organisation and year."""
    _require(user, DRAW, organisation)
    years = drawable_years(timezone.localdate())
    if year not in years:
        message = _("只能抽取本年度或上一年度的档案抽查（%(first)d、%(last)d）。")
        raise ValidationError({"year": message % {"first": years[0], "last": years[1]}})
    if share is None or not MIN_SPOTCHECK_SHARE <= int(share) <= 100:
        raise ValidationError(
            {"share": _("抽查比例应在%(min)d%%至100%%之间。") % {"min": MIN_SPOTCHECK_SHARE}}
        )
    share = int(share)
    if organisation.level not in DRAW_LEVELS:
        message = _("档案抽查按县（区）总工会或基层工会抽取，请选择其中一个。")
        raise ValidationError({"organisation": message})
    if SpotCheckSample.objects.filter(organisation=organisation, year=year).exists():
        raise _already_drawn(organisation, year)
    population = list(spotcheck_population(organisation).order_by("id").values_list("id", "status"))
    if not population:
        raise ValidationError(_("%(org)s没有在档的档案，无需抽查。") % {"org": organisation.name})
    rng = rng or random.SystemRandom()
    chosen = sorted(rng.sample(population, sample_size(len(population), share)))
    try:
        # Its own savepoint: a second draw committed meanwhile breaks only this insert.
        with transaction.atomic():
            sample = SpotCheckSample.objects.create(
                organisation=organisation,
                year=year,
                share=share,
                size=len(chosen),
                population=len(population),
                note=(note or "").strip()[:200],
                drawn_by=user,
            )
    except IntegrityError:
        raise _already_drawn(organisation, year) from None
    SpotCheck.objects.bulk_create(
        [SpotCheck(sample=sample, household_id=pk, status_at_draw=status) for pk, status in chosen]
    )
    return sample


@transaction.atomic
def spotcheck_record(
    *,
    user,
    item: SpotCheck,
    outcome: str,
    checked_on: date,
    note: str = "",
    action: str = "",
) -> SpotCheck:
    """核查结果 of one sampled file, recorded once: 属实, or 不属实或有出入 with what was found
    and what is to be done (correct the file, survey again, exit, deregister)."""
    _require(user, RECORD, item.sample.organisation)
    item = (
        SpotCheck.objects.select_for_update(of=("self",)).select_related("sample").get(pk=item.pk)
    )
    if item.outcome != SpotCheck.Outcome.PENDING:
        raise ValidationError(_("该档案的抽查结果已登记。"))
    if outcome not in (SpotCheck.Outcome.CONFIRMED, SpotCheck.Outcome.DISCREPANCY):
        raise ValidationError({"outcome": _("请选择核查结果。")})
    if not isinstance(checked_on, date):
        raise ValidationError({"checked_on": _("请填写核查日期。")})
    if checked_on > timezone.localdate():
        raise ValidationError({"checked_on": _("核查日期不能晚于今天。")})
    drawn_on = timezone.localdate(item.sample.drawn_at)
    if checked_on < drawn_on:
        raise ValidationError(
            {"checked_on": _("核查日期不能早于抽取日期 %(day)s。") % {"day": drawn_on.isoformat()}}
        )
    note = (note or "").strip()
    action = (action or "").strip()
    if outcome == SpotCheck.Outcome.DISCREPANCY:
        errors = {}
        if not note:
            errors["note"] = _("不属实或有出入的，请填写核查情况。")
        if action not in SpotCheck.Action.values:
            errors["action"] = _("不属实或有出入的，请选择处理意见。")
        if errors:
            raise ValidationError(errors)
    else:
        action = ""  # a file found true calls for nothing
    item.outcome = outcome
    item.action = action
    item.note = note
    item.checked_on = checked_on
    item.checked_by = user
    item.checked_at = timezone.now()
    item.save(update_fields=["outcome", "action", "note", "checked_on", "checked_by", "checked_at"])
    return item


# --- Reads ---------------------------------------------------------------------------------------


def with_progress(samples: QuerySet[SpotCheckSample]) -> QuerySet[SpotCheckSample]:
    """Each draw with how many of its files are checked and how many were found wrong."""
    return samples.annotate(
        checked=Count("items", filter=~Q(items__outcome=SpotCheck.Outcome.PENDING)),
        discrepancies=Count("items", filter=Q(items__outcome=SpotCheck.Outcome.DISCREPANCY)),
    )


def checks_of_year(household: Household, year: int) -> QuerySet[SpotCheck]:
    """The file's spot-checks of a year, by whichever organisation drew them (its file page)."""
    return (
        SpotCheck.objects.filter(household=household, sample__year=year)
        .select_related("sample__organisation", "checked_by")
        .order_by("sample__drawn_at", "id")
    )


def reminders(user, today: date) -> list[dict]:
    """What is due for the year's spot-check from 1 December: the user's own organisation's
    draw not made yet (for who draws), and the year's draws in scope with files unchecked."""
    if today.month < REMINDER_MONTH:
        return []
    found = []
    own = getattr(user, "organisation", None)
    if (
        own is not None
        and own.level in DRAW_LEVELS
        and user.has_perm(DRAW)
        and not SpotCheckSample.objects.filter(organisation=own, year=today.year).exists()
    ):
        found.append(
            {"kind": "not_started", "year": today.year, "organisation": own, "count": None}
        )
    if user.has_perm(RECORD) or user.has_perm(DRAW):
        open_samples = (
            SpotCheckSample.objects.visible_to(user)
            .filter(year=today.year)
            .annotate(unchecked=Count("items", filter=Q(items__outcome=SpotCheck.Outcome.PENDING)))
            .filter(unchecked__gt=0)
            .select_related("organisation")
            .order_by("organisation__path")
        )
        found += [
            {"kind": "unchecked", "year": s.year, "organisation": s.organisation,
             "count": s.unchecked, "sample": s}
            for s in open_samples
        ]  # fmt: skip
    return found
