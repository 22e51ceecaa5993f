"""批量申请帮扶: one assistance request for each of many households at once (the Spring
Festival warmth visit 送温暖), or under a standard that counts per person one for each member it
is for (schooling aid 金秋助学: each student at the tier's school stage, funds.standards
student_stages), under exactly the rules of a single request: funds.services
request_input_errors, request_household_errors and request_build with the standards of
funds.standards, applied to each household (each member) with the facts of all of them read at
once (funds.facts), so a preview or a creation costs the same few queries for 5 households or
500. Each request built counts for the next, as if saved one after another (a household's
annual cap). A round across school stages takes each student's tier by their stage (BY_STAGE,
funds.standards stage_tier), at that tier's amount. The preview writes nothing; the creation
repeats it under the households' locks and writes every request or none."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from funds import selectors
from funds.facts import RequestFacts
from funds.models import AssistanceRequest, AssistanceStandard, AssistanceType, FundSource, Tier
from funds.services import (
    NEEDS_EXCEPTION_REASON,
    check_amount,
    check_date,
    check_permission,
    request_build,
    request_household_errors,
    request_input_errors,
)
from funds.standards import (
    STUDENT_STAGES,
    TIER_STAGES,
    same_person,
    stage_tier,
    student_stages,
    tiers_offered,
)
from households.models import Category, Cause, Household, Member
from orgs.models import Organisation
from orgs.money import ZERO
from orgs.text import listing

# One batch is one county's festival round at most: beyond it, the preview page and the
# locks of one transaction get long. Larger rounds are split by organisation or category.
MAX_HOUSEHOLDS = 1000
PERMISSION = "funds.add_assistancerequest"
# The tier of a batch that takes each student's tier by their school stage (a 金秋助学 round
# across stages in one batch): not a Tier, no request is stored under it.
BY_STAGE = "by_stage"


@dataclass
class Selection:
    """Which households: the user's files on file or relieved that match the filters, or the
    files of pasted file numbers (档案编号, one a line), whatever their status (a file not on
    file is then shown as skipped, with the single request's reason)."""

    organisation: Organisation | None = None  # with the organisations below it
    category: Category | None = None
    cause: Cause | None = None  # the primary cause
    status: str = ""  # Status.ON_FILE or Status.RELIEVED; "" for both
    file_numbers: str = ""

    @property
    def pasted(self) -> list[tuple[int, str]]:
        """(line number, file number) of each non-blank pasted line."""
        return [
            (number, text.strip())
            for number, text in enumerate(self.file_numbers.splitlines(), start=1)
            if text.strip()
        ]


@dataclass
class Row:
    """One request of the batch: a household's, or under a per-person standard a member's
    (a household skipped as a whole, no member qualifying among them, has one row, no member)."""

    household: Household
    line: int | None  # the pasted line it came from
    member: Member | None = None  # whom it is for, under a per-person standard
    request: AssistanceRequest | None = None  # built, not saved: it will be created
    reasons: list[str] = field(default_factory=list)  # why it is skipped
    warnings: list[str] = field(default_factory=list)  # created, with these warnings


@dataclass
class Group:
    """A household's rows, as the preview shows them: its members' under it."""

    household: Household
    line: int | None
    rows: list[Row]

    @property
    def skipped(self) -> bool:
        return any(row.request is None for row in self.rows)


@dataclass
class Balance:
    organisation: Organisation
    available: Decimal  # what the approval checks against: the balance less approved, unpaid
    requested: Decimal  # by this batch
    pending: Decimal = ZERO  # requested before and awaiting a decision: approved, they take it

    @property
    def short(self) -> bool:
        """Approving the whole batch would be refused (the approval's own check)."""
        return self.requested > self.available

    @property
    def remainder(self) -> Decimal:
        """What is left once everything pending and this batch are approved."""
        return self.available - self.pending - self.requested

    @property
    def short_with_pending(self) -> bool:
        """The batch fits alone, but not with the requests already waiting (a warning only:
        whichever is approved last is refused)."""
        return not self.short and self.remainder < 0


@dataclass
class TierTotal:
    tier: str
    count: int
    total: Decimal

    @property
    def label(self) -> str:
        return Tier(self.tier).label


@dataclass
class Preview:
    rows: list[Row]
    errors: list[str]  # pasted lines naming no file in the user's scope
    balances: list[Balance] = field(default_factory=list)
    by_stage: bool = False  # each student's tier by their school stage (BY_STAGE)

    @property
    def tier_totals(self) -> list[TierTotal]:
        """The requests and their sum per tier, in the tiers' order."""
        totals = {tier: TierTotal(tier, 0, ZERO) for tier in Tier.values}
        for row in self.creatable:
            totals[row.request.tier].count += 1
            totals[row.request.tier].total += row.request.amount
        return [total for total in totals.values() if total.count]

    @property
    def creatable(self) -> list[Row]:
        return [row for row in self.rows if row.request is not None]

    @property
    def skipped(self) -> list[Row]:
        return [row for row in self.rows if row.request is None]

    @property
    def groups(self) -> list[Group]:
        """The rows by household, those with a row skipped first: among hundreds that pass,
        they are what a clerk reads (and fixes)."""
        groups: list[Group] = []
        for row in self.rows:  # a household's rows follow one another
            if not groups or groups[-1].household.pk != row.household.pk:
                groups.append(Group(household=row.household, line=row.line, rows=[]))
            groups[-1].rows.append(row)
        return sorted(groups, key=lambda group: not group.skipped)

    @property
    def households(self) -> int:
        return len({row.household.pk for row in self.rows})

    @property
    def households_creatable(self) -> int:
        return len({row.household.pk for row in self.creatable})

    @property
    def households_without(self) -> int:
        """Households that get no request at all."""
        return self.households - self.households_creatable

    @property
    def per_person(self) -> bool:
        return any(row.member is not None for row in self.rows)

    @property
    def members_skipped(self) -> int:
        return sum(1 for row in self.skipped if row.member is not None)

    @property
    def total(self) -> Decimal:
        return sum((row.request.amount for row in self.creatable), ZERO)

    @property
    def can_confirm(self) -> bool:
        return bool(self.creatable) and not self.errors

    @property
    def key(self) -> str:
        """What the confirmation creates (who, how much, of what, why): the page sends it back,
        and anything different when confirmed shows the preview again instead of writing."""
        first = self.creatable[0].request if self.creatable else None
        what = sorted(
            [
                row.household.pk,
                row.member.pk if row.member else 0,
                str(row.request.amount),
                row.request.tier,  # by school stage, each member's own
            ]
            for row in self.creatable
        )
        if first is not None:
            what.append(
                [
                    first.assistance_type_id,
                    first.source_id,
                    first.requested_on.isoformat(),
                    first.reason,
                ]
            )
        return hashlib.sha256(json.dumps(what, ensure_ascii=False).encode()).hexdigest()


class BatchChanged(Exception):
    """Something changed between the preview and the confirmation: nothing was written."""

    def __init__(self, preview: Preview):
        super().__init__("batch changed since its preview")
        self.preview = preview


def select_households(
    *, user, selection: Selection
) -> tuple[list[tuple[int | None, Household]], list[str]]:
    """The households of a batch in the user's subtree, with the pasted line of each, and the
    errors of pasted lines (a number unknown or out of scope: the same words for both, as
    another county's file answers 404). At most MAX_HOUSEHOLDS."""
    files = Household.objects.visible_to(user).select_related("category")
    errors: list[str] = []
    pairs: list[tuple[int | None, Household]] = []
    pasted = selection.pasted
    if selection.file_numbers.strip():
        _check_size(len(pasted))
        found = {h.file_number: h for h in files.filter(file_number__in={n for _l, n in pasted})}
        seen: dict[str, int] = {}
        for line, number in pasted:
            if number in seen:
                errors.append(
                    _("第%(line)d行：档案编号 %(number)s 与第%(first)d行重复。")
                    % {"line": line, "number": number, "first": seen[number]}
                )
            elif number not in found:
                errors.append(
                    _("第%(line)d行：没有档案编号为 %(number)s 的档案，或不在您的管辖范围内。")
                    % {"line": line, "number": number}
                )
            else:
                pairs.append((line, found[number]))
            seen.setdefault(number, line)
    else:
        files = files.supported()
        if selection.status:
            files = files.filter(status=selection.status)
        if selection.organisation is not None:
            files = files.filter(organisation__path__startswith=selection.organisation.path)
        if selection.category is not None:
            files = files.filter(category=selection.category)
        if selection.cause is not None:
            files = files.filter(primary_cause=selection.cause)
        chosen = list(files.order_by("file_number")[: MAX_HOUSEHOLDS + 1])
        _check_size(len(chosen))
        pairs = [(None, household) for household in chosen]
    # One instance per organisation, its ancestors read once (the standards, lines and closed
    # years are looked up by organisation).
    organisations = Organisation.with_ancestors({h.organisation_id for _l, h in pairs})
    for _line, household in pairs:
        household.organisation = organisations[household.organisation_id]
    return pairs, errors


def _check_size(count: int) -> None:
    if count > MAX_HOUSEHOLDS:
        raise ValidationError(
            _("一次最多为 %(max)d 户申请，本次超过 %(max)d 户：请按组织、困难类别等分批。")
            % {"max": MAX_HOUSEHOLDS}
        )


@dataclass
class Terms:
    """What every request of the batch asks for. `amount` None: each household's standard
    amount (the cap per payment of the standard that applies to it). `tier` BY_STAGE: each
    student's tier by their school stage, at its standard amount."""

    assistance_type: AssistanceType
    source: FundSource
    reason: str
    amount: Decimal | None = None
    tier: str = Tier.GENERAL
    requested_on: date | None = None
    # A household already granted this type this year is skipped unless asked for: a festival
    # round run again for the files filed since would otherwise give the others a second visit
    # wherever the standard sets no number of times.
    repeat: bool = False

    def checked(self) -> "Terms":
        """The single request's checks of its own fields, once for the batch."""
        amount = check_amount(self.amount) if self.amount not in (None, "") else None
        requested_on = check_date(self.requested_on or timezone.localdate(), field="requested_on")
        errors = request_input_errors(
            assistance_type=self.assistance_type,
            source=self.source,
            reason=self.reason,
            tier=Tier.GENERAL if self.tier == BY_STAGE else self.tier,  # a tier each, checked so
        )
        if self.tier == BY_STAGE and amount is not None:
            errors["amount"] = [
                _("按就学阶段匹配档次时，每人按其档次标准的每次金额申请：金额请留空。")
            ]
        if errors:
            raise ValidationError(errors)
        return Terms(
            assistance_type=self.assistance_type,
            source=self.source,
            reason=self.reason,
            amount=amount,
            tier=self.tier,
            requested_on=requested_on,
            repeat=self.repeat,
        )


def batch_preview(*, user, selection: Selection, terms: Terms) -> Preview:
    """预览: each household (each member, under a per-person standard) "will be created" or
    skipped with the single request's reason, the totals and, per organisation, the source's
    available balance (approval checks against it), what pending requests claim of it and what
    is left after this batch. Writes nothing."""
    check_permission(user, PERMISSION)
    terms = terms.checked()
    pairs, errors = select_households(user=user, selection=selection)
    return _assess(user=user, pairs=pairs, errors=errors, terms=terms)


def _assess(*, user, pairs, errors, terms: Terms) -> Preview:
    facts = RequestFacts()
    day = terms.requested_on
    households = [h for _l, h in pairs]
    facts.load(households=households, year=day.year, day=day)
    rows = []
    for line, household in pairs:
        try:
            check_permission(user, PERMISSION, household.organisation)
            problems = request_household_errors(household)
            if problems:
                raise ValidationError(problems)
            asks = _asks(household, terms, facts)
        except ValidationError as error:
            rows.append(Row(household=household, line=line, reasons=_skip_reasons(error)))
            continue
        except PermissionDenied as error:
            rows.append(Row(household=household, line=line, reasons=[str(error)]))
            continue
        for member, tier, reasons in asks:
            if reasons:
                rows.append(Row(household=household, line=line, member=member, reasons=reasons))
                continue
            rows.append(
                _row(
                    user=user,
                    household=household,
                    line=line,
                    member=member,
                    tier=tier,
                    terms=terms,
                    facts=facts,
                )
            )
    preview = Preview(rows=rows, errors=errors, by_stage=terms.tier == BY_STAGE)
    preview.balances = _balances(preview, terms.source)
    return preview


def _row(*, user, household, line, member: Member | None, tier: str, terms: Terms, facts) -> Row:
    """The request of one household (of one member), or why it is skipped."""
    row = Row(household=household, line=line, member=member)
    try:
        request = request_build(
            user=user,
            household=household,
            assistance_type=terms.assistance_type,
            source=terms.source,
            amount=_amount_for(household, terms, tier, facts),
            reason=terms.reason,
            tier=tier,
            beneficiary=member,
            out_of_pocket=None,
            requested_on=terms.requested_on,
            exception_reason="",
            facts=facts,
        )
        if not terms.repeat:  # after the rules: a standard's own limit says more
            _check_not_granted(household, member, terms, facts)
    except ValidationError as error:
        row.reasons = _skip_reasons(error)
        return row
    row.request = request
    row.warnings = request.shown_warnings
    facts.add(request)  # the household's next member is checked with it counted
    return row


def _standard(
    household: Household, terms: Terms, tier: str, facts: RequestFacts
) -> AssistanceStandard | None:
    return facts.standards(
        organisation=household.organisation,
        year=terms.requested_on.year,
        assistance_type=terms.assistance_type,
    ).get(tier)


def _asks(household, terms: Terms, facts: RequestFacts) -> list[tuple[Member | None, str, list]]:
    """(whom for, under which tier, why not) of each request the household is asked for."""
    if terms.tier == BY_STAGE:
        return _students_by_stage(household, terms, facts)
    return [(member, terms.tier, []) for member in _members_for(household, terms, facts)]


def _students_by_stage(household, terms: Terms, facts: RequestFacts) -> list:
    """Each student of the file under the tier of their school stage (funds.standards
    stage_tier), or skipped where the type has none for it; a ValidationError where the type
    has no tier by school stage that year, or the file no student."""
    assistance_type = terms.assistance_type
    offered = tiers_offered(
        household=household,
        assistance_type=assistance_type,
        year=terms.requested_on.year,
        facts=facts,
    )
    if not any(tier in TIER_STAGES for tier in offered):
        raise ValidationError(
            _("%(type)s %(year)d年的标准没有按就学阶段的细分标准：请选择一个细分标准。")
            % {"type": assistance_type, "year": terms.requested_on.year}
        )
    students = [m for m in facts.members(household) if m.school_stage in STUDENT_STAGES]
    if not students:
        raise ValidationError(
            _("档案中没有就学阶段为%(stages)s的成员。")
            % {"stages": listing(Member.School(stage).label for stage in STUDENT_STAGES)}
        )
    asks = []
    for member in students:
        tier = stage_tier(
            assistance_type=assistance_type, stage=member.school_stage, offered=offered
        )
        if tier is not None:
            asks.append((member, tier, []))
            continue
        reason = _(
            "%(name)s 的就学阶段为%(stage)s，%(type)s没有该阶段的细分标准（有：%(tiers)s）。"
        ) % {
            "name": member.name,
            "stage": member.get_school_stage_display(),
            "type": assistance_type,
            "tiers": listing(Tier(tier).label for tier in offered),
        }
        asks.append((member, "", [reason]))
    return asks


def _members_for(household, terms: Terms, facts: RequestFacts) -> list[Member | None]:
    """Whom the household's requests are for: [None] (the household) unless the standard
    counts per person; then each member it is for by the file (funds.standards
    student_stages), or a ValidationError saying why there is none. A per-person medical
    standard stays one row: request_build refuses it for the out-of-pocket cost only the clerk
    can enter (its skip says to request alone)."""
    standard = _standard(household, terms, terms.tier, facts)
    if standard is None or not standard.per_person or standard.cap_out_of_pocket:
        return [None]
    stages = student_stages(assistance_type=terms.assistance_type, tier=terms.tier)
    if stages is None:
        raise ValidationError(
            _("%(type)s按人计算次数，批量申请无法确定受助成员：请为该户单独申请并选择受助成员。")
            % {"type": terms.assistance_type}
        )
    members = [member for member in facts.members(household) if member.school_stage in stages]
    if not members:
        raise ValidationError(
            _("档案中没有就学阶段为%(stages)s的成员。")
            % {"stages": listing(Member.School(stage).label for stage in stages)}
        )
    return members


def _check_not_granted(
    household: Household, member: Member | None, terms: Terms, facts: RequestFacts
) -> None:
    """Skip a household (under a per-person standard, a member) with a request of this type
    this year that still counts (requested, approved, paid or failed), naming it."""
    for earlier in facts.requests(household, terms.requested_on.year):
        if earlier.assistance_type_id != terms.assistance_type.pk:
            continue
        facts_of_it = {
            "type": terms.assistance_type,
            "day": earlier.requested_on.isoformat(),
            "amount": earlier.amount,
            "state": earlier.get_state_display(),
        }
        if member is None:
            raise ValidationError(
                _("本年已有%(type)s申请（%(day)s，%(amount)s 元，%(state)s）。") % facts_of_it
            )
        if same_person(earlier, member):
            raise ValidationError(
                _("%(name)s 本年已有%(type)s申请（%(day)s，%(amount)s 元，%(state)s）。")
                % {"name": member.name, **facts_of_it}
            )


def _skip_reasons(error: ValidationError) -> list[str]:
    """The single request's reasons, but for its hint to give a reason for exceeding the
    standard: a batch has no such field (clerks looked for it), that household is requested
    on its own."""
    if hasattr(error, "error_dict"):
        reasons = error.messages
        if "out_of_pocket" in error.error_dict:  # the hospital's figure, one household's own
            reasons.append(_("个人自付费用须逐户填写：请为该户单独申请。"))
        return reasons
    kept = [e for e in error.error_list if e.code != NEEDS_EXCEPTION_REASON]
    reasons = ValidationError(kept).messages
    if len(kept) < len(error.error_list):
        reasons.append(_("如确需突破标准，请为该户单独申请帮扶并填写突破标准的理由。"))
    return reasons


def _amount_for(household: Household, terms: Terms, tier: str, facts: RequestFacts) -> Decimal:
    if terms.amount is not None:
        return terms.amount
    standard = _standard(household, terms, tier, facts)
    if (standard is None or standard.amount_cap is None) and terms.tier == BY_STAGE:
        raise ValidationError(
            _("%(type)s %(year)d年“%(tier)s”的标准没有每次金额：请为该档次单独批量申请并填写金额。")
            % {
                "type": terms.assistance_type,
                "year": terms.requested_on.year,
                "tier": Tier(tier).label,
            }
        )
    if standard is None or standard.amount_cap is None:
        raise ValidationError(
            {
                "amount": _("%(type)s %(year)d年的标准没有每次金额，请填写每户金额。")
                % {"type": terms.assistance_type, "year": terms.requested_on.year}
            }
        )
    return standard.amount_cap


def _balances(preview: Preview, source: FundSource) -> list[Balance]:
    """Per organisation of the batch's requests: the source's available balance (what the
    approval checks), what requests awaiting a decision already claim, and this batch."""
    requested: dict[int, Decimal] = {}
    organisations: dict[int, Organisation] = {}
    for row in preview.creatable:
        organisation = row.household.organisation
        organisations[organisation.pk] = organisation
        requested[organisation.pk] = requested.get(organisation.pk, ZERO) + row.request.amount
    positions = selectors.source_positions(organisations=organisations.values(), source=source)
    return [
        Balance(
            organisation,
            available=positions[pk].available,
            requested=requested[pk],
            pending=positions[pk].pending,
        )
        for pk, organisation in sorted(organisations.items(), key=lambda item: item[1].path)
    ]


@transaction.atomic
def batch_requests_create(
    *, user, selection: Selection, terms: Terms, preview_key: str
) -> list[AssistanceRequest]:
    """确认: the preview again, under the locks of its households, and every request it would
    create, each as request_create saves one (requested by `user`, today, with the reason and
    the standard's warnings; its history row by `user`), or none: when anything differs from
    the preview confirmed (`preview_key`), a household now failing or newly passing, the
    request already made (a second click), raises BatchChanged with the new preview."""
    check_permission(user, PERMISSION)
    terms = terms.checked()
    pairs, errors = select_households(user=user, selection=selection)
    # In key order, as request_create takes one: the rules below see every request saved before.
    list(
        Household.objects.select_for_update()
        .filter(pk__in=[h.pk for _l, h in pairs])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    preview = _assess(user=user, pairs=pairs, errors=errors, terms=terms)
    if not preview.can_confirm or preview.key != preview_key:
        raise BatchChanged(preview)
    return bulk_create_with_history(
        [row.request for row in preview.creatable], AssistanceRequest, default_user=user
    )
