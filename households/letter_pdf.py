"""The letter to the household when its file closes or its application is refused (告知书):
exited (脱困), deregistered (注销) or not approved (不予建档). DOMAIN.md: exits are approved and
the household is told it may apply again. The staff who handle files print it, hand it over and
keep the signed receipt (回执) at the bottom with the paper file.

It is written to the household, so it is Chinese whatever the reader's interface language (as
the public notice). It names no ID or bank number. Every print is written to the access log."""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from households import selectors
from households.models import ClosureRequest, Household, Status
from households.workflow import CLERK, SUPERVISOR
from orgs.audit import log_access
from orgs.models import AccessLog
from orgs.pdf import render_pdf

LETTER_TEMPLATE = "households/pdf/letter.html"
LETTER_STYLESHEETS = ("households/pdf/letter.css",)
# The outcomes a household is told of in writing. A withdrawn draft was never applied for.
LETTER_STATUSES = (Status.EXITED, Status.DEREGISTERED, Status.REJECTED)


def may_print_letters(user) -> bool:
    """The staff who handle files: the clerks who keep them and the supervisors who decide."""
    return user.has_perm(CLERK) or user.has_perm(SUPERVISOR)


def has_letter(household: Household) -> bool:
    period = household.current_period
    return household.status in LETTER_STATUSES and period is not None and bool(period.closed_on)


def long_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def reasons(household: Household) -> list[str]:
    """Why, as recorded: an exit or deregistration's request (its reason and kind of
    deregistration; the step adds the supervisor's note, which is internal), else the
    refusal's step."""
    closure = (
        household.closures.filter(state=ClosureRequest.State.APPROVED, kind=household.status)
        .order_by("-decided_at", "-id")
        .first()
    )
    if closure is not None:
        return [closure.get_deregistration_reason_display(), closure.reason]
    step = selectors.closing_step(household)
    return [step.get_deregistration_reason_display(), step.reason] if step else []


def sentence(text: str) -> str:
    return f"{text}。" if text and text[-1] not in "。！？.!?" else text


def letter(household: Household, *, today: date) -> dict:
    """What the letter says: its title, the decision and its date, the recorded reason."""
    period = household.current_period
    values = {
        "number": household.file_number,
        "on": long_date(period.closed_on),
        "applied": long_date(period.applied_on),
    }
    if household.status == Status.EXITED:
        title = _("困难职工家庭脱困告知书")
        decision = _(
            "您家庭的困难职工档案（档案编号 %(number)s）经入户核实、审批，于 %(on)s 脱困撤档。"
        )
        reason_label = _("脱困依据")
    elif household.status == Status.DEREGISTERED:
        title = _("困难职工家庭档案注销告知书")
        decision = _("您家庭的困难职工档案（档案编号 %(number)s）经审批，于 %(on)s 注销。")
        reason_label = _("注销原因")
    else:
        title = _("困难职工家庭建档申请结果告知书")
        decision = _(
            "您于 %(applied)s 提出的困难职工家庭建档申请（档案编号 %(number)s），"
            "经审核，于 %(on)s 决定不予建档。"
        )
        reason_label = _("不予建档原因")
    return {
        "household": household,
        "organisation": household.organisation,
        "title": title,
        "decision": decision % values,
        "reason_label": reason_label,
        "reason": sentence("，".join(part.strip() for part in reasons(household) if part.strip())),
        "dated": long_date(today),
    }


def render_letter_pdf(household: Household, *, today: date | None = None) -> bytes:
    with translation.override("zh-hans"):
        context = letter(household, today=today or timezone.localdate())
        return render_pdf(LETTER_TEMPLATE, context, stylesheets=LETTER_STYLESHEETS)


def letter_pdf_response(request, household: Household) -> HttpResponse:
    """打印告知书, from the file page: the PDF download, logged as a print."""
    if not may_print_letters(request.user):
        raise PermissionDenied
    if not has_letter(household):
        raise Http404(_("该档案没有需要告知的结果。"))
    pdf = render_letter_pdf(household)
    log_access(
        request,
        action=AccessLog.Action.PRINT,
        obj=household,
        detail=f"{household.file_number} {_('告知书')}",
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = pgettext("file name", "告知书")  # a file's name: no spaces
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{name}-{household.file_number}.pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response
