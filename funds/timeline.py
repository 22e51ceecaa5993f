"""The funds' entries on a household file's timeline (collected by households/timeline.py):
requests, approvals, payments and their reversals, failures and sending again,
cancellations, and loan repayments and their reversals."""

from datetime import date, datetime

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from funds.models import (
    Approval,
    AssistanceRequest,
    EntryKind,
    LedgerEntry,
    Repayment,
    RequestState,
)
from orgs.money import yuan_text


def _same_day(day: date, moment: datetime | None) -> datetime | None:
    if moment is not None and timezone.localtime(moment).date() == day:
        return moment
    return None


def _person(user) -> str:
    return str(user) if user is not None else ""


def timeline_entries(household, user) -> list[dict]:
    """[{date, kind, title, detail, url, actor, flags}] for the user's visible requests."""
    if not user.has_perm("funds.view_assistancerequest"):
        return []
    requests = (
        AssistanceRequest.objects.visible_to(user)
        .filter(household=household)
        .select_related(
            "assistance_type",
            "source",
            "requested_by",
            "paid_by",
            "failed_by",
            "retried_by",
            "cancelled_by",
        )
        .prefetch_related(
            "approvals__approver",
            Prefetch(
                "repayments",
                queryset=Repayment.objects.select_related("created_by").prefetch_related(
                    Prefetch(
                        "entries",
                        queryset=LedgerEntry.objects.filter(reverses__isnull=False).select_related(
                            "created_by"
                        ),
                        to_attr="reversals",
                    )
                ),
            ),
            Prefetch(
                "entries",
                queryset=LedgerEntry.objects.filter(
                    kind=EntryKind.PAYMENT, reverses__isnull=False
                ).select_related("created_by", "reverses"),
                to_attr="payment_reversals",
            ),
        )
        .order_by("id")
    )
    entries: list[dict] = []
    for request in requests:
        url = reverse("funds:request_detail", args=[request.pk])
        what = {
            "type": str(request.assistance_type),
            "amount": yuan_text(request.amount),
            "source": str(request.source),
        }
        flags = [request.get_state_display()]
        if request.violations:
            flags.append(_("超出标准"))
        entries.append(
            {
                "date": request.requested_on,
                "at": _same_day(request.requested_on, request.requested_at),
                "order": request.pk,
                "kind": "assistance_request",
                "title": _("申请%(type)s %(amount)s 元（%(source)s）") % what,
                "detail": request.reason,
                "actor": _person(request.requested_by),
                "flags": flags,
                "url": url,
            }
        )
        for approval in request.approvals.all():
            approved = approval.decision == Approval.Decision.APPROVE
            entries.append(
                {
                    "date": approval.decided_at,
                    "order": request.pk,
                    "kind": "assistance_approval",
                    "title": (
                        _("%(type)s申请第%(level)d级审批：批准")
                        if approved
                        else _("%(type)s申请第%(level)d级审批：不批准")
                    )
                    % {"type": str(request.assistance_type), "level": approval.level},
                    "detail": approval.reason,
                    "actor": _person(approval.approver),
                    "flags": [_("突破标准")] if approval.override else [],
                    "url": url,
                }
            )
        if request.state == RequestState.PAID:
            entries.append(
                {
                    "date": request.paid_on,
                    "order": request.pk,
                    "kind": "assistance_payment",
                    "title": _("发放%(type)s %(amount)s 元（%(source)s）") % what,
                    "detail": _("收款人 %(name)s，账号 %(account)s，银行流水号 %(ref)s")
                    % {
                        "name": request.paid_worker_name,
                        "account": request.paid_bank_account_masked,
                        "ref": request.bank_reference,
                    },
                    "actor": _person(request.paid_by),
                    # The bank paid a file closed when its bank file was made: for review.
                    "flags": [_("代发时档案不在档，请核查")] if request.paid_to_closed_file else [],
                    "url": url,
                }
            )
        # A payment reversed since: the request shows it no more, the trail keeps it.
        for reversal in request.payment_reversals:
            entries.append(
                {
                    "date": reversal.entry_date,
                    "order": request.pk,
                    "kind": "assistance_payment_reversed",
                    "title": _("%(type)s %(amount)s 元的发放（%(date)s）已冲销")
                    % {**what, "date": reversal.reverses.entry_date.isoformat()},
                    "detail": reversal.reason,
                    "actor": _person(reversal.created_by),
                    "url": url,
                }
            )
        if request.failed_at is not None:
            entries.append(
                {
                    "date": request.failed_at,
                    "order": request.pk,
                    "kind": "assistance_payment_failed",
                    "title": _("%(type)s %(amount)s 元发放失败") % what,
                    "detail": request.failure_reason,
                    "actor": _person(request.failed_by),
                    "url": url,
                }
            )
        if request.retried_at is not None:
            entries.append(
                {
                    "date": request.retried_at,
                    "order": request.pk,
                    "kind": "assistance_payment_retried",
                    "title": _("%(type)s %(amount)s 元账号已更正，重新发放") % what,
                    "detail": "",
                    "actor": _person(request.retried_by),
                    "url": url,
                }
            )
        if request.state == RequestState.CANCELLED and request.cancelled_at:
            entries.append(
                {
                    "date": request.cancelled_at,
                    "order": request.pk,
                    "kind": "assistance_cancelled",
                    "title": _("%(type)s申请已取消") % what,
                    "detail": request.cancel_reason,
                    "actor": _person(request.cancelled_by),
                    "url": url,
                }
            )
        for repayment in request.repayments.all():
            amount = yuan_text(repayment.amount)
            entries.append(
                {
                    "date": repayment.repaid_on,
                    "order": request.pk,
                    "kind": "assistance_repayment",
                    "title": _("归还借款 %(amount)s 元") % {"amount": amount},
                    "detail": repayment.note,
                    "actor": _person(repayment.created_by),
                    "flags": [_("已冲销")] if repayment.reversals else [],
                    "url": url,
                }
            )
            # A repayment booked in error and reversed: when, by whom and why.
            for reversal in repayment.reversals:
                entries.append(
                    {
                        "date": reversal.entry_date,
                        "order": request.pk,
                        "kind": "assistance_repayment_reversed",
                        "title": _("归还借款 %(amount)s 元（%(date)s）已冲销")
                        % {"amount": amount, "date": repayment.repaid_on.isoformat()},
                        "detail": reversal.reason,
                        "actor": _person(reversal.created_by),
                        "url": url,
                    }
                )
    return entries
