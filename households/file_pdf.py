"""The household file form (困难职工家庭档案表) as a PDF: the page staff print for the paper
archive, signed by the worker, the base union and the county union (DOMAIN.md: every step
leaves a trace kept for inspection; originals are kept ten years after closure).

What it shows follows the file page: the same scope (whoever may open the file may print it),
the same masking (the phone masked to those who only read files) and the same sections for the
same permissions (documents, history, assistance). ID and bank numbers are masked, as on the
roster, unless the reader ticks 显示完整身份证号和银行账号 and their role may reveal them (a
role that may not gets them masked, ticked or not). It is printed in the reader's language;
stored names stay as stored. Every print is written to the access log, with whether the numbers
went out in full. The PDF plumbing is orgs/pdf.py's."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django import forms
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from households import selectors, services
from households.models import (
    AMEND,
    CLOSED_STATUSES,
    Category,
    Household,
    Member,
    Objection,
    Status,
    Survey,
)
from households.workflow import STEPS
from orgs.audit import log_access
from orgs.models import AccessLog, Organisation
from orgs.money import ZERO, yuan_text
from orgs.pdf import render_pdf
from orgs.pii import FULL_NUMBERS, mask_phone, masks_phones

FILE_TEMPLATE = "households/pdf/file.html"
FILE_STYLESHEETS = ("households/pdf/file.css",)


def printable(user):
    """The files `user` may print (those they may open), with what the form reads of each."""
    return Household.objects.visible_to(user).select_related(
        "organisation",
        "base_union",
        "primary_cause",
        "category",
        "responsible_staff",
        "current_period__notice",
    )


# The tick box of the file page (and the admin's second link): the roster's option, same name.
FULL_NUMBERS_PARAMETER = "full_numbers"


def may_print_full_numbers(user) -> bool:
    """The roles the file page's 显示完整号码 is offered to, and the tick box with it."""
    return user.has_perm(FULL_NUMBERS)


def prints_full_numbers(user, *, asked: bool) -> bool:
    """ID and bank numbers in full only when asked for and the role may: else masked."""
    return asked and may_print_full_numbers(user)


def asks_full_numbers(query) -> bool:
    """The tick box, read as the roster's form reads it (a BooleanField): absent, "", "0" or
    "false" is unticked."""
    return forms.BooleanField(required=False).clean(query.get(FULL_NUMBERS_PARAMETER))


def members_in_order(household: Household) -> list[Member]:
    """The worker first, then the others in the order they were added (as the file page)."""
    return sorted(household.members.all(), key=lambda m: (m.relation != Member.Relation.SELF, m.pk))


def income_computation(household: Household, income) -> str:
    """How the per-capita income was computed, with the figures, under the organisation's
    rule (orgs.models.Organisation.IncomeRule; eligibility.compute_income)."""
    values = {
        "monthly": yuan_text(income.monthly),
        "rigid": yuan_text(household.rigid_spending_annual),
        "size": income.size,
        "per_capita": yuan_text(income.per_capita),
    }
    if income.size == 0:
        return _("家庭人口为 0，无法计算月人均收入。")
    if household.organisation.setting("income_rule") == Organisation.IncomeRule.MONTHLY:
        return _("家庭月收入 %(monthly)s 元 ÷ 家庭人口 %(size)s 人 = %(per_capita)s 元") % values
    return (
        _(
            "（家庭月收入 %(monthly)s 元 × 12 − 年刚性支出 %(rigid)s 元）÷ 12 ÷ 家庭人口 "
            "%(size)s 人 = %(per_capita)s 元"
        )
        % values
    )


@dataclass
class Step:
    """One line of the file's history."""

    on: date
    title: str
    detail: str = ""
    actor: str = ""
    order: tuple = field(default_factory=tuple)


def history(household: Household, user) -> list[Step] | None:
    """The steps of the current filing period, oldest first: its transitions (apply, review,
    notice, approval, relief, exit, deregistration; fact changes are the field history's, not
    steps) and its home surveys, each for users who may read them (as the file page's trail).
    None when the user may read neither."""
    period = household.current_period
    may_steps = user.has_perm("households.view_transition")
    may_surveys = user.has_perm("households.view_survey")
    if not (may_steps or may_surveys):
        return None
    if period is None:
        return []
    steps: list[Step] = []
    if may_steps:
        rows = (
            household.transitions.filter(period=period)
            .exclude(action=AMEND)
            .select_related("actor")
            .order_by("effective_date", "id")
        )
        for row in rows:
            step = STEPS.get(row.action)
            title = step.label if step else _("录入档案") if row.action == "create" else row.action
            status = str(Status(row.to_status).label)
            detail = [status]
            if row.action == "start_notice" and period.notice is not None:
                notice = period.notice
                detail.append(
                    _("公示期 %(start)s 至 %(end)s")
                    % {"start": notice.starts_on.isoformat(), "end": notice.ends_on.isoformat()}
                )
            if row.deregistration_reason:
                detail.append(row.get_deregistration_reason_display())
            if row.reason:
                detail.append(row.reason)
            steps.append(
                Step(
                    on=row.effective_date,
                    title=str(title),
                    detail=" · ".join(str(part) for part in detail),
                    actor=str(row.actor) if row.actor else "",
                    order=(row.created_at, 0),
                )
            )
    if may_surveys:
        surveys = Survey.objects.filter(period=period).select_related("recorded_by")
        for survey in surveys.order_by("surveyed_on", "id"):
            detail = pgettext("file step", "核实月人均收入 %(income)s 元") % {
                "income": yuan_text(survey.per_capita_income)
            }
            steps.append(
                Step(
                    on=survey.surveyed_on,
                    title=pgettext("file step", "入户调查"),  # one survey, a step
                    detail=detail,
                    actor=survey.surveyors,
                    order=(survey.created_at, 1),
                )
            )
    return sorted(steps, key=lambda step: (step.on, step.order))


def assistance(household: Household, user) -> list[dict] | None:
    """The assistance paid to the household in its current filing period (requested from the
    application on, to the closure if closed), by year: type, amount, date paid, source, and
    the year's total. None for users who may not read assistance requests (as the file page)."""
    if not user.has_perm("funds.view_assistancerequest"):
        return None
    period = household.current_period
    if period is None:
        return []
    from funds.models import AssistanceRequest, RequestState

    requests = AssistanceRequest.objects.filter(
        household=household, state=RequestState.PAID, requested_on__gte=period.applied_on
    )
    if period.closed_on is not None:
        requests = requests.filter(requested_on__lte=period.closed_on)
    years: dict[int, dict] = {}
    for request in requests.select_related("assistance_type", "source").order_by(
        "year", "paid_on", "id"
    ):
        year = years.setdefault(request.year, {"year": request.year, "rows": [], "total": ZERO})
        year["rows"].append(request)
        year["total"] += request.amount
    return list(years.values())


def closing(household: Household, user) -> dict | None:
    """For a closed file (exited, deregistered, not approved, withdrawn): the day its filing
    period closed, for every reader (as the filing date), and why (the closing step's
    deregistration reason and explanation) for users who may read the file's steps. None
    while the file is open."""
    period = household.current_period
    if period is None or period.closed_on is None or household.status not in CLOSED_STATUSES:
        return None
    reason = None
    if user.has_perm("households.view_transition"):
        step = selectors.closing_step(household)
        if step is not None:
            parts = [step.get_deregistration_reason_display(), step.reason]
            reason = " · ".join(part for part in parts if part)
    return {"on": period.closed_on, "reason": reason}


def objections(household: Household, user) -> list[Objection] | None:
    """The objections raised during the current period's notice, with how each was decided;
    None for users who may not read objections (as the file page)."""
    period = household.current_period
    if period is None or not user.has_perm("households.view_objection"):
        return None
    rows = Objection.objects.filter(period=period).select_related("resolved_by")
    return list(rows.order_by("raised_on", "id"))


def file_form(household: Household, user, *, full: bool = False) -> dict:
    """Everything the file form prints, for this reader; ID and bank numbers in full only when
    `full` is asked for and the reader may (prints_full_numbers)."""
    full = prints_full_numbers(user, asked=full)
    verdict = services.verdict_for(household)
    members = members_in_order(household)
    category = None
    if verdict.category_code:
        category = Category.objects.filter(code=verdict.category_code).first()
    documents = None
    if user.has_perm("households.view_document"):
        documents = list(household.documents.filter(is_active=True).order_by("uploaded_at", "id"))
    years = assistance(household, user)
    return {
        "household": household,
        "organisation": household.organisation,
        "period": household.current_period,
        "notice": household.current_period.notice if household.current_period else None,
        "objections": objections(household, user),
        "closing": closing(household, user),
        "full_numbers": full,
        "id_number": household.id_number if full else household.id_masked,
        "bank_account": household.bank_account if full else household.bank_account_masked,
        "phone": mask_phone(household.phone) if masks_phones(user) else household.phone,
        "members": [
            {
                "member": member,
                "id_number": (member.id_number if full else member.id_masked) or "—",
            }
            for member in members
        ],
        "secondary_causes": list(household.secondary_causes.all()),
        "verdict": verdict,
        "category": category,
        "migrant_errors": services.migrant_worker_errors(household),
        "computation": income_computation(household, verdict.income),
        "documents": documents,
        "history": history(household, user),
        "assistance": years,
        "assistance_total": sum((year["total"] for year in years or []), Decimal("0.00")),
    }


def render_file_pdf(household: Household, user, *, full: bool = False, printed_at=None) -> bytes:
    """The A4 file form of `household` as `user` may read it, in the active language (numbers
    in full only when asked for and allowed: file_form)."""
    context = file_form(household, user, full=full)
    context.update(printed_by=user, printed_at=timezone.localtime(printed_at))
    return render_pdf(FILE_TEMPLATE, context, stylesheets=FILE_STYLESHEETS)


def file_pdf_response(request, household: Household) -> HttpResponse:
    """打印档案表, from the file page or the admin: the PDF download, numbers masked unless the
    tick box asks for them and the role may, logged as a print (with whether the numbers were
    printed in full)."""
    full = prints_full_numbers(request.user, asked=asks_full_numbers(request.GET))
    pdf = render_file_pdf(household, request.user, full=full)
    detail = household.file_number
    if full:
        detail = f"{detail} {_('完整号码')}"
    log_access(request, action=AccessLog.Action.PRINT, obj=household, detail=detail)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{_('档案表')}-{household.file_number}.pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response
