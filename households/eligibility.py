"""The filing standard (建档标准) applied to one household on one date.

Seed 002 and the current national rules: below the dibao line → eligible; above it but within
the organisation's multiple (set nowhere, the category scheme's: 1.5 under 2015–2020, 2 now;
orgs.models.MULTIPLE_BY_SCHEME) with a special cause → eligible; an accident or disaster whose
spending exceeds 80% of the year's income → eligible; the four exclusions override everything.
The verdict advises; a supervisor may decide otherwise with a written reason
(services.transition_apply)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Category, DibaoStandard, Household
from orgs.calendar import add_months
from orgs.money import CENT, yuan_text

ACCIDENT_SHARE = Decimal("0.80")
ACCIDENT_CAUSES = {"accident", "disaster"}
EXCLUSIONS = {
    "owns_multiple_homes": gettext_lazy("拥有两套及以上住房"),
    "owns_business": gettext_lazy("拥有经营性门店或雇用他人"),
    "children_private_school": gettext_lazy("子女就读高收费私立学校或自费出国留学"),
    "uses_vehicles": gettext_lazy("经常非工作需要使用机动车辆或大型机械"),
}
LOOK_UP = object()  # assess() without a dibao_standard looks the line up


@dataclass(frozen=True)
class Income:
    size: int
    monthly: Decimal
    per_capita: Decimal


@dataclass
class Verdict:
    on: date
    income: Income
    dibao_line: Decimal | None
    multiple: Decimal
    eligible: bool | None  # None: no dibao line for that year, nothing can be said
    category_code: str | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> Decimal | None:
        if not self.dibao_line:
            return None
        return (self.income.per_capita / self.dibao_line).quantize(CENT, ROUND_HALF_UP)

    @property
    def summary(self) -> str:
        if self.eligible is None:
            return _("无法认定")
        return _("符合建档条件") if self.eligible else _("不符合建档条件")


def compute_income(
    *,
    member_incomes: list[Decimal],
    other_monthly: Decimal,
    rigid_annual: Decimal,
    rule: str,
) -> Income:
    """Per-capita monthly income. `net_annual` (current rules): (annual income − unavoidable
    spending) ÷ 12 ÷ size; `monthly` (older local rules): monthly income ÷ size."""
    size = len(member_incomes)
    monthly = sum(member_incomes, Decimal("0")) + other_monthly
    if size == 0:
        return Income(0, monthly.quantize(CENT), Decimal("0.00"))
    if rule == "monthly":
        per_capita = monthly / size
    else:
        per_capita = max(monthly * 12 - rigid_annual, Decimal("0")) / 12 / size
    return Income(size, monthly.quantize(CENT), per_capita.quantize(CENT, ROUND_HALF_UP))


def category_code(scheme: str, kind: str) -> str:
    """kind is deep / relative / accident; the 2015 scheme names them dibao / near_dibao."""
    if scheme == Category.Scheme.LEGACY:
        return {"deep": "dibao", "relative": "near_dibao"}.get(kind, kind)
    return kind


# The current scheme replaced the 2015–2020 one in 2021 (DOMAIN.md "Categories"): a file filed
# (approved) before then carries a category of the 2015 scheme legitimately, in a county that
# has since changed schemes too.
CURRENT_SCHEME_SINCE = date(2021, 1, 1)


def filed_under_legacy_scheme(filed_on: date | None) -> bool:
    return filed_on is not None and filed_on < CURRENT_SCHEME_SINCE


def scheme_categories(scheme: str, filed_on: date | None = None) -> Q:
    """The categories a file under this scheme may take (a county uses one scheme): those the
    table files under it and those its assessment suggests (意外致困 is in both schemes); a file
    filed before 2021 (`filed_on`), those of the 2015 scheme too. The one rule of the form, the
    services (household_create, household_update) and the household import."""
    kinds = ("deep", "relative", "accident")
    fits = Q(scheme=scheme) | Q(code__in={category_code(scheme, kind) for kind in kinds})
    if filed_under_legacy_scheme(filed_on):
        fits |= Q(scheme=Category.Scheme.LEGACY)
    return fits


def assess(*, worker_retired: bool = False, **facts) -> Verdict:
    """The filing standard applied to the file's `facts` (_apply_standard's arguments).
    `worker_retired`: the worker's own member row says 退休. Seed 002 leaves retired and
    internally retired staff out of filing "in principle" (原则上): a warning after the
    reasons, whatever the verdict, which it does not change."""
    verdict = _apply_standard(**facts)
    if worker_retired:
        verdict.reasons.append(
            _("职工本人已退休：退休、内退人员原则上不纳入困难职工建档范围，请核实。")
        )
    return verdict


def _apply_standard(
    *,
    organisation,
    on: date,
    income: Income,
    cause_codes: set[str],
    special_cause: bool,
    accident_spending_annual: Decimal,
    exclusions: list[str],
    dibao_standard: DibaoStandard | None | object = LOOK_UP,
) -> Verdict:
    """`dibao_standard`: the line in force in the organisation's area in the year when already
    read (DibaoStandard.objects.in_force; None: there is none), else it is looked up."""
    multiple = Decimal(organisation.setting("eligibility_multiple"))
    scheme = organisation.setting("category_scheme")
    standard = dibao_standard
    if standard is LOOK_UP:
        standard = DibaoStandard.objects.in_force([organisation], on.year)[organisation.pk]
    line = standard.monthly_amount if standard else None
    verdict = Verdict(on=on, income=income, dibao_line=line, multiple=multiple, eligible=False)

    if exclusions:
        verdict.reasons = [
            _("属于不予建档情形：%(what)s。") % {"what": EXCLUSIONS[e]} for e in exclusions
        ]
        return verdict
    annual_income = income.monthly * 12
    if cause_codes & ACCIDENT_CAUSES and accident_spending_annual > annual_income * ACCIDENT_SHARE:
        verdict.eligible = True
        verdict.category_code = category_code(scheme, "accident")
        verdict.reasons.append(
            _("因意外事故或自然灾害致困，年支出 %(spent)s 元超过家庭年收入 %(income)s 元的80%%。")
            % {"spent": yuan_text(accident_spending_annual), "income": yuan_text(annual_income)}
        )
        return verdict
    if line is None:
        verdict.eligible = None
        verdict.reasons.append(
            _("%(org)s 尚未设置 %(year)d 年的低保标准，无法认定。")
            % {"org": organisation.name, "year": on.year}
        )
        return verdict
    values = {"pc": yuan_text(income.per_capita), "line": yuan_text(line), "multiple": multiple}
    if income.per_capita <= line:
        verdict.eligible = True
        verdict.category_code = category_code(scheme, "deep")
        verdict.reasons.append(_("月人均收入 %(pc)s 元不高于当地低保标准 %(line)s 元。") % values)
    elif income.per_capita <= line * multiple and special_cause:
        verdict.eligible = True
        verdict.category_code = category_code(scheme, "relative")
        verdict.reasons.append(
            _(
                "月人均收入 %(pc)s 元高于低保标准 %(line)s 元，但在其 %(multiple)s 倍以内，"
                "且有因病、因残、子女就学、单亲等特殊致困原因。"
            )
            % values
        )
    elif income.per_capita <= line * multiple:
        verdict.reasons.append(
            _(
                "月人均收入 %(pc)s 元高于低保标准 %(line)s 元，在其 %(multiple)s 倍以内，"
                "但没有特殊致困原因。"
            )
            % values
        )
    else:
        verdict.reasons.append(
            _("月人均收入 %(pc)s 元超过低保标准 %(line)s 元的 %(multiple)s 倍。") % values
        )
    if source := line_source(standard, organisation=organisation, year=on.year):
        verdict.reasons.append(source)
    return verdict


def line_source(standard: DibaoStandard, *, organisation, year: int) -> str:
    """Whose line of which year the comparison used, when it is an earlier year's: a line stays
    in force until the next is published (DibaoStandard.objects.in_force), and staff would
    otherwise take the figure for this year's. "" for a line of the year asked, whoever set it:
    base unions take their county's or region's line as a rule, so naming it would be noise."""
    if standard.year == year:
        return ""
    # in_force takes it from among them (no query); the row's own is read only if not
    owners = {org.pk: org for org in organisation.ancestors_and_self}
    owner = owners.get(standard.organisation_id) or standard.organisation
    return _(
        "比较所用的低保标准为%(org)s %(year)d 年的标准（本地区 %(asked)d 年的标准尚未设置）。"
    ) % {"org": owner.name, "year": standard.year, "asked": year}


# --- Migrant workers (农民工) ---------------------------------------------------------------

MIGRANT_FIELDS = ("is_union_member", "labour_relation_since")


def _label(name: str) -> str:
    return Household._meta.get_field(name).verbose_name


def migrant_field_missing(name: str) -> str:
    return _("农民工须填写“%(field)s”。") % {"field": _label(name)}


def migrant_worker_errors(
    *, is_union_member: bool | None, labour_relation_since: date | None, applied_on: date
) -> dict[str, list[str]]:
    """A migrant worker is filed as a union member whose labour relation had lasted at least a
    year on the application date (DOMAIN.md "Eligibility"): the date whose facts the
    application, its home survey and its notice state; counted to the approval, the length of
    the review would decide. A year ends as the Civil Code counts it (art. 203): the same day a
    year later, else the month's last day. A rule, not advice: no verdict to decide against.
    The errors by field; none when the condition is met."""
    errors = {}
    if is_union_member is None:
        errors["is_union_member"] = [migrant_field_missing("is_union_member")]
    elif not is_union_member:
        errors["is_union_member"] = [
            _("“%(field)s”为“否”：农民工须为工会会员方可建档。")
            % {"field": _label("is_union_member")}
        ]
    if labour_relation_since is None:
        errors["labour_relation_since"] = [migrant_field_missing("labour_relation_since")]
    elif (year_on := add_months(labour_relation_since, 12)) > applied_on:
        errors["labour_relation_since"] = [
            _(
                "“%(field)s”为 %(since)s：农民工在申请日期 %(applied)s 须已与用人单位建立劳动关系"
                "满一年，该劳动关系至 %(year_on)s 方满一年。"
            )
            % {
                "field": _label("labour_relation_since"),
                "since": labour_relation_since.isoformat(),
                "applied": applied_on.isoformat(),
                "year_on": year_on.isoformat(),
            }
        ]
    return errors
