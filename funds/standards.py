"""The assistance standards applied to a request (DOMAIN.md "Assistance"): the cap per payment,
the annual cap in months of the dibao line (12 for deep hardship, 8 for relative), the
out-of-pocket limit of medical aid, the number of times per year (per household and type, over
the tiers the standard governs; per member who benefits where the standard counts per person,
as schooling aid per student), and "one project per household per year". Breaking a cap or a
frequency is a violation that names its rule (a supervisor may override it with a reason); the
one-project rule warns or blocks as configured."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from funds.facts import RequestFacts
from funds.models import AssistanceStandard, OneProjectRule, Tier
from funds.selectors import cents
from households.eligibility import line_source
from households.models import Member
from orgs.money import ZERO, yuan_text
from orgs.reference import translated_name
from orgs.text import aside, listing, sentences


@dataclass
class RuleCheck:
    standard: AssistanceStandard | None
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    usage: "Usage | None" = None  # what the rules counted (the request form's panel shows it)


def tier_choices(organisation) -> list:
    """The tier choices of a request form: the general tier, then under each type the tiers that
    the standards of the organisation or one above it (any year) define for that type."""
    rows = (
        AssistanceStandard.objects.filter(organisation__in=organisation.ancestors_and_self)
        .exclude(tier=Tier.GENERAL)
        .values_list("assistance_type__sort", "assistance_type__name", "tier")
        .distinct()
    )
    groups: dict[str, list[str]] = {}
    for _sort, name, tier in sorted(rows, key=lambda row: (row[0], row[1])):
        groups.setdefault(translated_name(name), []).append(tier)
    return [
        (Tier.GENERAL, Tier.GENERAL.label),
        *(
            (name, [(tier, Tier(tier).label) for tier in Tier.values if tier in tiers])
            for name, tiers in groups.items()
        ),
    ]


def tiers_offered(*, household, assistance_type, year: int, facts=None) -> list[str]:
    """The tiers `assistance_type` has a standard of its own for (the general tier where the
    type has a general standard); none where the type has no standard that year."""
    by_tier = (facts or RequestFacts()).standards(
        organisation=household.organisation, year=year, assistance_type=assistance_type
    )
    return [name for name, standard in by_tier.items() if standard.tier == name]


def check_tier(*, household, assistance_type, tier: str, year: int, facts=None) -> None:
    """A request names a tier its type has a standard of its own for: 送温暖 has no 大学 tier,
    助学 may have only school stages. A type without any standard that year takes any tier
    (there is nothing to apply)."""
    offered = tiers_offered(
        household=household, assistance_type=assistance_type, year=year, facts=facts
    )
    if offered and tier not in offered:
        raise ValidationError(
            {
                "tier": _("%(type)s可选的细分标准：%(tiers)s。")
                % {
                    "type": assistance_type,
                    "tiers": listing(Tier(name).label for name in offered),
                }
            }
        )


def tier_withdrawn(*, household, assistance_type, tier: str, year: int) -> str | None:
    """At approval: the standards changed since the request, and its tier has none of its own
    any more (its amount would be held to another tier's caps). A violation's text, or None."""
    offered = tiers_offered(household=household, assistance_type=assistance_type, year=year)
    if not offered or tier in offered:
        return None
    return _(
        "超出标准：申请时的细分标准“%(tier)s”已不在%(type)s %(year)d年的标准中（可选：%(tiers)s）。"
    ) % {
        "tier": Tier(tier).label,
        "type": assistance_type,
        "year": year,
        "tiers": listing(Tier(name).label for name in offered),
    }


# The school stages (households.Member.school_stage) each schooling tier is for: 助学 per student
# by school stage (DOMAIN "Assistance"), the tiers' own words (高中、中职 …).
TIER_STAGES = {
    Tier.COMPULSORY: (Member.School.PRIMARY, Member.School.JUNIOR),
    Tier.SENIOR: (Member.School.SENIOR, Member.School.VOCATIONAL),
    Tier.COLLEGE: (Member.School.COLLEGE,),
    Tier.POSTGRADUATE: (Member.School.POSTGRADUATE,),
}
STUDENT_STAGES = tuple(stage for stages in TIER_STAGES.values() for stage in stages)
SCHOOLING = "schooling"  # the code of 助学 (funds migration 0002)


def student_stages(*, assistance_type, tier: str) -> tuple[str, ...] | None:
    """The school stages whose students a per-person standard of this type and tier is for, as
    the file records them: a schooling tier's own stages; under the general tier of 助学 any
    stage from primary school up (学前 is no student). None where the file cannot tell whom
    another type is for (a patient, …): the clerk names the member on a single request."""
    if tier in TIER_STAGES:
        return TIER_STAGES[tier]
    if assistance_type.code == SCHOOLING:
        return STUDENT_STAGES
    return None


def check_student_stage(*, assistance_type, tier: str, beneficiary: Member | None) -> None:
    """A request of a schooling tier (or of 助学's general tier) names a student at the tier's
    school stage as the file records it, the members a batch picks (student_stages). Refused
    otherwise, not an overridable breach of a cap: whom the tier is for is a fact of the file,
    brought up to date there first (先建档、后帮扶), as the bank account is."""
    if beneficiary is None:
        return
    stages = student_stages(assistance_type=assistance_type, tier=tier)
    if stages is None or beneficiary.school_stage in stages:
        return
    raise ValidationError(
        {
            "beneficiary": _(
                "%(name)s 在档案中的就学阶段为“%(stage)s”，%(type)s的细分标准“%(tier)s”只适用于"
                "就学阶段为%(stages)s的成员：请选择相符的成员，或先在档案中更正其就学阶段。"
            )
            % {
                "name": beneficiary.name,
                "stage": beneficiary.get_school_stage_display(),
                "type": assistance_type,
                "tier": Tier(tier).label,
                "stages": listing(Member.School(stage).label for stage in stages),
            }
        }
    )


def stage_tier(*, assistance_type, stage: str, offered: list[str]) -> str | None:
    """The tier a student at `stage` is requested under when a batch matches each member's tier
    to their school stage: the tier of the stage where the type has a standard of its own for
    it, else the general tier where it is for every student (助学's), else None."""
    for tier, stages in TIER_STAGES.items():
        if stage in stages and tier in offered:
            return tier
    general = student_stages(assistance_type=assistance_type, tier=Tier.GENERAL)
    if Tier.GENERAL in offered and general is not None and stage in general:
        return Tier.GENERAL
    return None


@dataclass
class Usage:
    """The standard a request would fall under and what the household has used of it this
    year: what the request form shows as the clerk types, and what check_request applies."""

    standard: AssistanceStandard | None
    months: Decimal | None = None  # annual cap in months of the dibao line, for its category
    line_missing: bool = False  # a cap in months, but no dibao line for the year
    annual_cap: Decimal | None = None
    line_source: str = ""  # names the line when an earlier year's is in force (line_source)
    requested: Decimal = Decimal("0.00")  # active requests of the type this year
    times: int = 0  # active requests this year under the tiers the standard governs
    # A per-person standard counts the times of one member: the beneficiary (None: not chosen
    # yet, nothing counted; the request service refuses a per-person request without one).
    beneficiary: Member | None = None
    others: list[str] = field(default_factory=list)  # other types requested this year


def same_person(request, member: Member) -> bool:
    """Whether a request is for this member: by its member key, or by the member's ID hash,
    the same person under an earlier member row too (a whole-household request is nobody's)."""
    return request.beneficiary_id == member.pk or bool(
        member.id_hash and request.beneficiary_id_hash == member.id_hash
    )


def usage(
    *,
    household,
    assistance_type,
    tier: str,
    year: int,
    beneficiary: Member | None = None,
    exclude_pk=None,
    facts: RequestFacts | None = None,
) -> Usage:
    """Requests of the year still active (requested, approved, paid, failed) count; rejected
    and cancelled ones do not. The times of a per-person standard are those of the same member
    (by the request's member key, the one request_create stores; its name is only a copy for
    reading, and by the member's ID hash, which outlives the row), whole-household requests
    counting for nobody. `facts` reads them (a batch passes those it loaded for every file)."""
    facts = facts or RequestFacts()
    by_tier = facts.standards(
        organisation=household.organisation, year=year, assistance_type=assistance_type
    )
    standard = by_tier.get(tier)
    found = Usage(standard=standard, beneficiary=beneficiary)
    if standard is None:
        return found
    # exclude_pk None excludes nothing: not the requests a batch builds before saving (no pk).
    same_year = [
        row for row in facts.requests(household, year) if exclude_pk is None or row.pk != exclude_pk
    ]
    same_type = [row for row in same_year if row.assistance_type_id == assistance_type.pk]
    category = household.category.code if household.category_id else None
    found.months = standard.months_for(category)
    if found.months is not None:
        organisation = household.organisation
        line = facts.dibao_line(organisation, year)
        if line is None:
            found.line_missing = True
        else:
            found.annual_cap = (line.monthly_amount * found.months).quantize(Decimal("0.01"))
            found.line_source = line_source(line, organisation=organisation, year=year)
        found.requested = cents(sum((row.amount for row in same_type), ZERO))
    if standard.times_per_year is not None:
        # Per household and type, whichever member benefits, unless the standard counts per
        # person. A tier's own standard counts that tier; the general one every tier it governs.
        governed = [name for name, row in by_tier.items() if row.pk == standard.pk]
        counted = [row for row in same_type if row.tier in governed]
        if not standard.per_person:
            found.times = len(counted)
        elif beneficiary is not None:
            found.times = sum(1 for row in counted if same_person(row, beneficiary))
    found.others = sorted(
        {
            translated_name(row.assistance_type.name)
            for row in same_year
            if row.assistance_type_id != assistance_type.pk
        }
    )
    return found


def check_request(
    *,
    household,
    assistance_type,
    tier: str,
    amount: Decimal,
    year: int,
    out_of_pocket: Decimal | None = None,
    beneficiary: Member | None = None,
    exclude_pk: int | None = None,
    facts: RequestFacts | None = None,
) -> RuleCheck:
    """The standard for the household's organisation, year, type and tier, and every rule the
    request would break (see `usage` for what counts; a per-person standard counts the times
    of `beneficiary` only, and none while no member is named)."""
    used = usage(
        household=household,
        assistance_type=assistance_type,
        tier=tier,
        year=year,
        beneficiary=beneficiary,
        exclude_pk=exclude_pk,
        facts=facts,
    )
    standard = used.standard
    check = RuleCheck(standard=standard, usage=used)
    if standard is None:
        return check
    source = _("%(org)s %(year)d年标准") % {"org": standard.organisation.name, "year": year}
    label = str(assistance_type)
    if standard.tier != Tier.GENERAL:
        label = aside(label, standard.get_tier_display())

    if standard.amount_cap is not None and amount > standard.amount_cap:
        check.violations.append(
            _("超出标准：%(type)s每次最高 %(cap)s 元（%(source)s）。")
            % {"type": label, "cap": yuan_text(standard.amount_cap), "source": source}
        )
    if standard.cap_out_of_pocket and out_of_pocket is not None and amount > out_of_pocket:
        check.violations.append(
            _("超出标准：%(type)s不得超过个人自付费用 %(oop)s 元（%(source)s）。")
            % {"type": label, "oop": yuan_text(out_of_pocket), "source": source}
        )
    if used.line_missing:
        check.violations.append(
            _("未设置%(year)d年的低保标准，无法核定%(type)s的年度上限。")
            % {"year": year, "type": label}
        )
    elif used.annual_cap is not None and used.requested + amount > used.annual_cap:
        message = _(
            "超出标准：%(type)s每户每年不超过 %(months)s 个月低保标准，即 %(cap)s 元"
            "（%(source)s）；本年已申请 %(already)s 元。"
        ) % {
            "type": assistance_type,
            "months": f"{used.months.normalize():f}",
            "cap": yuan_text(used.annual_cap),
            "source": source,
            "already": yuan_text(used.requested),
        }
        # An earlier year's line still in force: say so, or staff take the cap for this year's.
        check.violations.append(
            sentences(message, used.line_source) if used.line_source else message
        )
    if standard.times_per_year is not None and standard.per_person:
        if beneficiary is not None and used.times >= standard.times_per_year:
            check.violations.append(
                _(
                    "超出标准：%(type)s每人每年最多 %(limit)d 次（%(source)s），"
                    "%(name)s 本年已有 %(times)d 次。"
                )
                % {
                    "type": label,
                    "limit": standard.times_per_year,
                    "source": source,
                    "name": beneficiary.name,
                    "times": used.times,
                }
            )
    elif standard.times_per_year is not None and used.times >= standard.times_per_year:
        check.violations.append(
            _("超出标准：%(type)s每年最多 %(limit)d 次（%(source)s），本年已有 %(times)d 次。")
            % {
                "type": label,
                "limit": standard.times_per_year,
                "source": source,
                "times": used.times,
            }
        )
    if used.others:
        message = _("一户一年原则上只享受一个帮扶项目，本年已有：%(types)s。") % {
            "types": listing(used.others)
        }
        if standard.one_project_rule == OneProjectRule.BLOCK:
            check.violations.append(message)
        else:
            check.warnings.append(message)
    return check
