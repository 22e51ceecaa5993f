"""The funds' panels on "my work": requests awaiting my approval (supervisors), approved and
unpaid requests (finance), failed payments to fix (clerks), payment checks due (finance)."""

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from funds import selectors
from funds.models import LineResult, PaymentBatchLine
from households.models import SUPPORTED_STATUSES

PANEL_ROWS = 8


def panels(request) -> list[dict]:
    user = request.user
    found: list[dict] = []
    if user.has_perm("funds.approve_assistancerequest"):
        waiting = selectors.awaiting_approval(user=user).select_related("organisation__parent")
        count = waiting.count()
        if count:
            found.append(
                {
                    "template": "funds/_work_requests.html",
                    "title": _("待我审批的帮扶申请"),
                    "count": count,
                    "requests": list(waiting.prefetch_related("approvals")[:PANEL_ROWS]),
                    "link": "funds:request_list",
                    "query": "state=requested&mine=on",
                }
            )
    if user.has_perm("funds.pay_assistancerequest"):
        unpaid = selectors.approved_unpaid(user=user)
        count = unpaid.count()
        if count:
            # Those of files exited or deregistered since no bank file takes: say how many and
            # how much of the row they are, linking to them (待核查 · 未发放但档案不在档;
            # selectors.unpaid_of_closed_files: not those sent in a bank file already).
            in_bank_file = Exists(
                PaymentBatchLine.objects.filter(request=OuterRef("pk"), result=LineResult.PENDING)
            )
            closed = ~Q(household__status__in=SUPPORTED_STATUSES) & ~Q(in_bank_file)
            sums = unpaid.aggregate(
                total=Sum("amount"),
                closed=Count("pk", filter=closed),
                closed_total=Sum("amount", filter=closed),
            )
            found.append(
                {
                    "template": "funds/_work_unpaid.html",
                    "title": _("已批准待发放"),
                    "count": count,
                    "total": selectors.cents(sums["total"]),
                    "closed": sums["closed"],
                    "closed_total": selectors.cents(sums["closed_total"]),
                }
            )
    if user.has_perm("funds.change_assistancerequest"):
        failed = selectors.failed_payments(user=user)
        count = failed.count()
        if count:
            found.append(
                {
                    "template": "funds/_work_requests.html",
                    "title": _("发放失败、待更正账号"),
                    "count": count,
                    "requests": list(failed.order_by("-failed_at")[:PANEL_ROWS]),
                    "link": "funds:request_list",
                    "query": "state=failed&correct=on",
                }
            )
    if user.has_perm("funds.change_verification"):
        count = selectors.verifications_due(user=user).count()
        open_discrepancies = (
            selectors.discrepancies(user=user).filter(resolved_at__isnull=True).count()
        )
        if count or open_discrepancies:
            found.append(
                {
                    "template": "funds/_work_verification.html",
                    "title": _("发放核查"),
                    "count": count,
                    "discrepancies": open_discrepancies,
                }
            )
    return found


def admin_rows(request) -> list[dict]:
    """The requests awaiting the user's decision, for the admin index (as households.work)."""
    if not request.user.has_perm("funds.approve_assistancerequest"):
        return []
    return [
        {
            "label": _("待我审批的帮扶申请"),
            "count": selectors.awaiting_approval(user=request.user).count(),
            "url": reverse("admin:funds_assistancerequest_changelist") + "?awaiting=1",
        }
    ]
