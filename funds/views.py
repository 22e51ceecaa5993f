"""Staff pages of the funds. Views are thin: they check a permission, find the object in the
user's scope (404 outside it) and call a service; a refusal is shown on the form."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import DetailView, FormView, ListView, TemplateView

from funds import bankfiles, batches, exports, selectors, services, standards, workbook
from funds.filters import LedgerFilter, RequestFilter
from funds.forms import (
    BatchForm,
    ConfirmForm,
    DecisionForm,
    FollowUpForm,
    HouseholdSearchForm,
    PayForm,
    ReasonForm,
    ReceiptForm,
    RefundForm,
    RepaymentForm,
    RequestBatchForm,
    RequestForm,
    ReturnFileForm,
    ReverseForm,
    SampleForm,
    StatementForm,
    VerificationForm,
    YearCloseForm,
    money_field,
)
from funds.models import (
    Approval,
    AssistanceRequest,
    AssistanceType,
    ClosedYear,
    EntryKind,
    LedgerEntry,
    PaymentBatch,
    Receipt,
    Refund,
    RequestState,
    Tier,
    Verification,
    VerificationSample,
)
from households import selectors as household_selectors
from households.models import Household
from orgs import idsearch
from orgs.audit import log_access
from orgs.models import AccessLog, Organisation
from orgs.money import ZERO, yuan_text
from orgs.web import (
    PAGE_SIZE,
    IdSearchListMixin,
    ScopedFilterListView,
    add_service_errors,
    hides_personal_numbers,
    typed_key,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Overview ----------------------------------------------------------------------------------


class LenientFilterListView(ScopedFilterListView):
    strict = False  # an invalid filter value shows the unfiltered list with the error


class IndexView(PermissionRequiredMixin, TemplateView):
    """Balances of every source of the user's organisations: balance, committed, available."""

    permission_required = "funds.view_ledgerentry"
    template_name = "funds/index.html"

    @staticmethod
    def request_counts(user, awaiting) -> dict:
        """The cards counting requests link to their list: only for those who may open it."""
        if not user.has_perm("funds.view_assistancerequest"):
            return {}
        return {
            "awaiting": awaiting.count(),
            "unpaid": selectors.approved_unpaid(user=user).count(),
            "failed": selectors.failed_payments(user=user).count(),
        }

    def get_context_data(self, **kwargs):
        user = self.request.user
        accounts = selectors.account_balances(organisations=Organisation.objects.visible_to(user))
        # A supervisor counts what awaits their decision; whoever does not decide (finance, a
        # viewer) counts every request awaiting one, as the list the card links to shows them.
        if user.has_perm(selectors.APPROVE_PERMISSION):
            awaiting = selectors.awaiting_approval(user=user)
            awaiting_query = "state=requested&mine=on"
        else:
            awaiting = selectors.request_list(user=user).filter(state=RequestState.REQUESTED)
            awaiting_query = "state=requested"
        return super().get_context_data(
            accounts=accounts,
            total_balance=sum((a.balance for a in accounts), selectors.ZERO),
            total_committed=sum((a.committed for a in accounts), selectors.ZERO),
            total_available=sum((a.available for a in accounts), selectors.ZERO),
            **self.request_counts(user, awaiting),
            awaiting_query=awaiting_query,
            **kwargs,
        )


# --- Requests ---------------------------------------------------------------------------------


@hides_personal_numbers
class RequestListView(IdSearchListMixin, LenientFilterListView):
    """The requests in scope. The filter form is posted: a full ID number in the box is searched
    by its keyed hash (`idh`), never put in the address (orgs/idsearch.py)."""

    permission_required = "funds.view_assistancerequest"
    filterset_class = RequestFilter
    template_name = "funds/request_list.html"

    def get_queryset(self):
        return (
            selectors.request_list(user=self.request.user)
            .select_related("organisation__parent")
            .prefetch_related(Prefetch("approvals", queryset=Approval.objects.order_by("level")))
            .order_by("-requested_on", "-id")
        )


@hides_personal_numbers
class HouseholdPickView(PermissionRequiredMixin, IdSearchListMixin, TemplateView):
    """Find the file to request assistance for: on file or relieved, in the user's subtree. The
    box is posted: a full ID number (the worker's or a member's) finds the file by its keyed
    hash (`idh`), never put in the address (orgs/idsearch.py); other text is a prefix of the
    file number or the worker's name."""

    permission_required = "funds.add_assistancerequest"
    template_name = "funds/household_pick.html"

    def get_context_data(self, **kwargs):
        form = HouseholdSearchForm(self.id_search_data())
        return super().get_context_data(form=form, households=self.found(form), **kwargs)

    def found(self, form) -> list[Household] | None:
        """The files found (50 at most), or None before anything was searched."""
        households = Household.objects.visible_to(self.request.user).supported()
        search = idsearch.id_search(self.request)
        if search is not None:
            if not search.key:
                return []  # an `idh` that is not a hash finds nothing
            households = household_selectors.search_id_hash(households, search.key)
        elif form.is_valid() and form.cleaned_data["q"].strip():
            households = household_selectors.search(households, form.cleaned_data["q"])
        else:
            return None
        return list(households.select_related("organisation").order_by("file_number")[:50])


def typed_year(text: str) -> int | None:
    """The year of "2026" or "2026-05-01" as typed, if it starts with four ASCII digits (not
    "²026": str.isdigit() accepts superscripts that int() refuses)."""
    head = (text or "")[:4]
    return int(head) if len(head) == 4 and head.isascii() and head.isdecimal() else None


class HouseholdMixin:
    def get_household(self) -> Household:
        if not hasattr(self, "_household"):
            self._household = get_object_or_404(
                Household.objects.visible_to(self.request.user).select_related(
                    "organisation", "category"
                ),
                pk=self.kwargs["household_pk"],
            )
        return self._household


class HouseholdYearView(PermissionRequiredMixin, HouseholdMixin, TemplateView):
    """The household's assistance in a year (an htmx fragment of the request form)."""

    permission_required = "funds.view_assistancerequest"
    template_name = "funds/_household_year.html"

    def get_context_data(self, **kwargs):
        year = (
            typed_year(self.request.GET.get("requested_on", ""))
            or typed_year(self.request.GET.get("year", ""))
            or timezone.localdate().year
        )
        return super().get_context_data(
            household=self.get_household(),
            assistance=selectors.household_assistance(household=self.get_household(), year=year),
            **kwargs,
        )


def standard_panel(household, data) -> dict:
    """The request form's 适用标准 panel for the values typed so far (lenient: what cannot be
    read yet is left out, the form itself reports it on saving)."""
    year = typed_year(data.get("requested_on", "")) or timezone.localdate().year
    panel = {"year": year, "assistance_type": None}
    key = typed_key(data.get("assistance_type"))
    if key is None:
        return panel
    assistance_type = AssistanceType.objects.filter(is_active=True, pk=key).first()
    if assistance_type is None:
        return panel
    tier = data.get("tier") if data.get("tier") in Tier.values else Tier.GENERAL
    member_key = typed_key(data.get("beneficiary"))  # a per-person standard counts this member
    beneficiary = (
        household.members.filter(pk=member_key).first() if member_key is not None else None
    )
    try:  # said before saving, as the service will refuse it
        standards.check_student_stage(
            assistance_type=assistance_type, tier=tier, beneficiary=beneficiary
        )
        refusals = []
    except ValidationError as error:
        refusals = error.messages
    amounts = {}
    for name in ("amount", "out_of_pocket"):
        try:
            amounts[name] = money_field("", required=False).clean(data.get(name))
        except ValidationError:
            amounts[name] = None
    check = standards.check_request(
        household=household,
        assistance_type=assistance_type,
        tier=tier,
        year=year,
        amount=amounts["amount"] or ZERO,
        out_of_pocket=amounts["out_of_pocket"],
        beneficiary=beneficiary,
    )
    standard = check.standard
    second = (
        standard is not None
        and standard.second_approval_above is not None
        and amounts["amount"] is not None
        and amounts["amount"] > standard.second_approval_above
    )
    return {
        **panel,
        "assistance_type": assistance_type,
        "usage": check.usage,
        "check": check,
        "amount": amounts["amount"],
        "second_approval": second,
        "refusals": refusals,
    }


@hides_personal_numbers  # the 申请理由 may hold health details: kept out of error reports
class RequestStandardView(PermissionRequiredMixin, HouseholdMixin, TemplateView):
    """The 适用标准 panel of the request form (an htmx fragment, refreshed as the form
    changes). Posted with the form (hx-post, its CSRF token included): what is typed, the
    申请理由 with its health details above all, stays out of URLs and so out of access logs;
    GET is refused. Posting reads only, so the reports' replica routing is left alone."""

    permission_required = "funds.add_assistancerequest"
    template_name = "funds/_request_standard.html"
    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        request.reads_only = True  # reports.routing.RecentWriteMiddleware
        return self.render_to_response(self.get_context_data(**kwargs))

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            panel=standard_panel(self.get_household(), self.request.POST), **kwargs
        )


@hides_personal_numbers  # as the panel
class RequestCreateView(PermissionRequiredMixin, HouseholdMixin, FormView):
    permission_required = "funds.add_assistancerequest"
    form_class = RequestForm
    template_name = "funds/request_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "household": self.get_household()}

    def get_context_data(self, **kwargs):
        household = self.get_household()
        form = kwargs.setdefault("form", self.get_form())
        year = timezone.localdate().year
        if form.is_bound:
            year = typed_year(form.data.get("requested_on", "")) or year
        return super().get_context_data(
            household=household,
            assistance=selectors.household_assistance(household=household, year=year),
            panel=standard_panel(household, form.data if form.is_bound else {}),
            **kwargs,
        )

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            request = services.request_create(
                user=self.request.user,
                household=self.get_household(),
                assistance_type=data["assistance_type"],
                tier=data["tier"],
                beneficiary=data["beneficiary"],
                source=data["source"],
                amount=data["amount"],
                out_of_pocket=data["out_of_pocket"],
                requested_on=data["requested_on"],
                reason=data["reason"],
                exception_reason=data["exception_reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("已提交%(type)s申请 %(amount)s 元，等待审批。")
            % {"type": request.assistance_type, "amount": yuan_text(request.amount)},
        )
        # Its warnings (one project a year …) are on the request's page it lands on: not twice.
        if request.violations:
            messages.warning(self.request, _("该申请超出帮扶标准，须审批人决定是否突破。"))
        return redirect("funds:request_detail", pk=request.pk)


@hides_personal_numbers  # as the single request's form
class RequestBatchView(PermissionRequiredMixin, FormView):
    """批量申请帮扶: the form, its preview (written nothing) and its confirmation (all the
    passing requests or none; funds/batches.py holds the rules)."""

    permission_required = "funds.add_assistancerequest"
    form_class = RequestBatchForm
    template_name = "funds/request_batch.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        user = self.request.user
        try:
            if self.request.POST.get("action") == "confirm":
                created = batches.batch_requests_create(
                    user=user,
                    selection=form.selection(),
                    terms=form.terms(),
                    preview_key=form.cleaned_data["preview_key"],
                )
                messages.success(
                    self.request,
                    ngettext(
                        "已提交 %(count)d 笔%(type)s申请，合计 %(total)s 元，等待审批。",
                        "已提交 %(count)d 笔%(type)s申请，合计 %(total)s 元，等待审批。",
                        len(created),
                    )
                    % {
                        "count": len(created),
                        "type": form.cleaned_data["assistance_type"],
                        "total": yuan_text(sum((r.amount for r in created), ZERO)),
                    },
                )
                return redirect(reverse("funds:request_list") + "?state=requested")
            preview = batches.batch_preview(
                user=user, selection=form.selection(), terms=form.terms()
            )
        except batches.BatchChanged as error:
            preview, changed = error.preview, True
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        else:
            changed = False
        # The confirmation sends back what this preview would create.
        form.data = form.data.copy()
        form.data["preview_key"] = preview.key
        # `changed` is said in the preview, where the page opens, not in the messages above.
        return self.render_to_response(
            self.get_context_data(form=form, preview=preview, changed=changed)
        )


class RequestMixin(PermissionRequiredMixin):
    def get_assistance_request(self) -> AssistanceRequest:
        if not hasattr(self, "_request_obj"):
            self._request_obj = get_object_or_404(
                selectors.request_list(user=self.request.user).select_related(
                    "organisation__parent",
                    "requested_by",
                    "paid_by",
                    "failed_by",
                    "retried_by",
                    "household__category",
                ),
                pk=self.kwargs["pk"],
            )
        return self._request_obj


class RequestDetailView(RequestMixin, DetailView):
    permission_required = "funds.view_assistancerequest"
    template_name = "funds/request_detail.html"
    context_object_name = "req"

    def get_object(self, queryset=None):
        return self.get_assistance_request()

    def get_context_data(self, **kwargs):
        req = self.object
        user = self.request.user
        state = req.state
        can_change = user.has_perm("funds.change_assistancerequest")
        can_pay = user.has_perm("funds.pay_assistancerequest")
        pending_line = selectors.pending_batch_line(req)
        is_loan = req.assistance_type.is_loan and state == RequestState.PAID
        repaid = selectors.loan_repaid(req) if is_loan else Decimal("0.00")
        entries = list(req.entries.select_related("created_by").order_by("entry_date", "id"))
        by_pk = {entry.pk: entry for entry in entries}
        # A payment reversed since: why the request waits to be paid again.
        reversals = [
            {"entry": entry, "payment": by_pk.get(entry.reverses_id)}
            for entry in entries
            if entry.kind == EntryKind.PAYMENT and entry.reverses_id
        ]
        return super().get_context_data(
            approvals=req.approvals.select_related("approver", "approver_organisation"),
            entries=entries,
            warnings=req.warnings_settled_by(by_pk),
            last_reversal=reversals[-1] if reversals and not req.paid_on else None,
            lines=req.batch_lines.select_related("batch").order_by("id"),
            loan={"repaid": repaid, "outstanding": req.amount - repaid} if is_loan else None,
            pending_line=pending_line,
            # the rule of the work list; a decided request fails it without a query
            can_decide=state == RequestState.REQUESTED
            and selectors.awaiting_approval(user=user).filter(pk=req.pk).exists(),
            can_cancel=can_change
            and state in (RequestState.REQUESTED, RequestState.APPROVED, RequestState.FAILED)
            and pending_line is None,
            can_retry=can_change and state == RequestState.FAILED and not req.unpaid_file_closed,
            can_pay=can_pay and state == RequestState.APPROVED and pending_line is None,
            can_repay=user.has_perm("funds.add_repayment") and is_loan and repaid < req.amount,
            **kwargs,
        )


class RequestActionView(RequestMixin, FormView):
    """A small form on one request whose valid data goes to one service. Opened for a request
    in none of `states` (paid, cancelled meanwhile, an old link), it goes back to the request
    with why, rather than refusing only after the form is filled; the service decides a post."""

    template_name = "funds/request_action.html"
    title = ""
    success_message = ""
    states: tuple = ()

    def get(self, request, *args, **kwargs):
        req = self.get_assistance_request()
        if self.states and req.state not in self.states:
            messages.error(
                request,
                _("该申请当前状态为“%(state)s”，不能%(action)s。")
                % {"state": req.get_state_display(), "action": self.title},
            )
            return redirect("funds:request_detail", pk=req.pk)
        return super().get(request, *args, **kwargs)

    def perform(self, req: AssistanceRequest, data: dict) -> None:
        raise NotImplementedError

    def form_valid(self, form):
        req = self.get_assistance_request()
        try:
            self.perform(req, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.get_success_message(form.cleaned_data))
        return redirect("funds:request_detail", pk=req.pk)

    def get_success_message(self, data) -> str:
        return self.success_message

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            req=self.get_assistance_request(), title=self.title, **kwargs
        )


class RequestDecideView(RequestActionView):
    permission_required = "funds.approve_assistancerequest"
    form_class = DecisionForm

    @property
    def title(self):
        return _("审批帮扶申请")

    def get(self, request, *args, **kwargs):
        """The form only for who may decide the request now (the level-1 approver when level 2
        is another's, its requester, anyone once it is decided): back to the request with the
        reason. A post is refused by the service itself."""
        req = self.get_assistance_request()
        try:
            services.check_decidable(user=request.user, request=req)
        except ValidationError as refusal:
            for message in refusal.messages:
                messages.error(request, message)
            return redirect("funds:request_detail", pk=req.pk)
        return super().get(request, *args, **kwargs)

    def perform(self, req, data):
        if data["decision"] == "approve":
            self.decided = services.request_approve(
                user=self.request.user,
                request=req,
                reason=data["reason"],
                override=data["override"],
            )
        else:
            services.request_reject(user=self.request.user, request=req, reason=data["reason"])

    def get_success_message(self, data):
        if data["decision"] != "approve":
            return _("已不予批准。")
        if self.decided.state == RequestState.REQUESTED:  # a second level still to come
            return _("第一级审批已通过，等待%(whom)s。") % {"whom": self.decided.waiting_for}
        return _("已批准。")


class RequestCancelView(RequestActionView):
    permission_required = "funds.change_assistancerequest"
    form_class = ReasonForm
    states = (RequestState.REQUESTED, RequestState.APPROVED, RequestState.FAILED)

    @property
    def title(self):
        return _("取消帮扶申请")

    @property
    def success_message(self):
        return _("申请已取消。")

    def perform(self, req, data):
        services.request_cancel(user=self.request.user, request=req, reason=data["reason"])


class RequestRetryView(RequestActionView):
    """After the clerk has corrected the file's bank account."""

    permission_required = "funds.change_assistancerequest"
    form_class = ConfirmForm
    states = (RequestState.FAILED,)

    @property
    def title(self):
        return _("账号已更正，重新发放")

    @property
    def success_message(self):
        return _("已重新列入待发放。")

    def perform(self, req, data):
        services.request_retry(user=self.request.user, request=req)


class RequestPayView(RequestActionView):
    permission_required = "funds.pay_assistancerequest"
    form_class = PayForm
    states = (RequestState.APPROVED,)

    @property
    def title(self):
        return _("登记发放")

    @property
    def success_message(self):
        return _("已登记发放。")

    def perform(self, req, data):
        services.payment_mark_paid(
            user=self.request.user,
            request=req,
            paid_on=data["paid_on"],
            bank_reference=data["bank_reference"],
        )


class RequestFailView(RequestActionView):
    permission_required = "funds.pay_assistancerequest"
    form_class = ReasonForm
    states = (RequestState.APPROVED,)

    @property
    def title(self):
        return _("登记发放失败")

    @property
    def success_message(self):
        return _("已登记发放失败，退回录入员更正账号。")

    def perform(self, req, data):
        services.payment_mark_failed(user=self.request.user, request=req, reason=data["reason"])


class RepaymentCreateView(RequestActionView):
    permission_required = "funds.add_repayment"
    form_class = RepaymentForm
    states = (RequestState.PAID,)

    @property
    def title(self):
        return _("登记借款还款")

    @property
    def success_message(self):
        return _("已登记还款。")

    def perform(self, req, data):
        services.repayment_record(
            user=self.request.user,
            request=req,
            amount=data["amount"],
            repaid_on=data["repaid_on"],
            note=data["note"],
        )


# --- Receipts, refunds, the ledger, closed years ---------------------------------------------


class ReceiptListView(PermissionRequiredMixin, ListView):
    permission_required = "funds.view_receipt"
    template_name = "funds/receipt_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return (
            Receipt.objects.visible_to(self.request.user)
            .select_related("organisation", "source", "created_by")
            .prefetch_related("entries")
            .order_by("-received_on", "-id")
        )


class ReceiptCreateView(PermissionRequiredMixin, FormView):
    permission_required = "funds.add_receipt"
    form_class = ReceiptForm
    template_name = "funds/money_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("登记资金拨入"), back="funds:receipt_list", **kwargs
        )

    def form_valid(self, form):
        try:
            receipt = services.receipt_record(user=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("已登记%(source)s拨入 %(amount)s 元（%(number)s）。")
            % {
                "source": receipt.source,
                "amount": yuan_text(receipt.amount),
                "number": receipt.document_number,
            },
        )
        return redirect("funds:receipt_list")


class RefundListView(PermissionRequiredMixin, ListView):
    permission_required = "funds.view_refund"
    template_name = "funds/refund_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return (
            Refund.objects.visible_to(self.request.user)
            .select_related("organisation", "source", "created_by")
            .prefetch_related("entries")
            .order_by("-refunded_on", "-id")
        )


class RefundCreateView(PermissionRequiredMixin, FormView):
    permission_required = "funds.add_refund"
    form_class = RefundForm
    template_name = "funds/money_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("登记退回财政"), back="funds:refund_list", **kwargs)

    def form_valid(self, form):
        try:
            refund = services.refund_record(user=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("已登记退回%(source)s %(amount)s 元（%(number)s）。")
            % {
                "source": refund.source,
                "amount": yuan_text(refund.amount),
                "number": refund.document_number,
            },
        )
        return redirect("funds:refund_list")


class LedgerListView(LenientFilterListView):
    permission_required = "funds.view_ledgerentry"
    filterset_class = LedgerFilter
    template_name = "funds/ledger_list.html"

    def get_queryset(self):
        return (
            LedgerEntry.objects.visible_to(self.request.user)
            .select_related(
                "organisation", "source", "created_by", "request__household", "reversed_by"
            )
            .order_by("-entry_date", "-id")
        )


class EntryReverseView(PermissionRequiredMixin, FormView):
    permission_required = "funds.reverse_ledgerentry"
    form_class = ReverseForm
    template_name = "funds/entry_reverse.html"

    def get_entry(self) -> LedgerEntry:
        return get_object_or_404(
            LedgerEntry.objects.visible_to(self.request.user).select_related(
                "organisation", "source"
            ),
            pk=self.kwargs["pk"],
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(entry=self.get_entry(), **kwargs)

    def form_valid(self, form):
        try:
            services.entry_reverse(
                user=self.request.user,
                entry=self.get_entry(),
                reason=form.cleaned_data["reason"],
                entry_date=form.cleaned_data["entry_date"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("已冲销。"))
        return redirect("funds:ledger")


class ClosedYearView(PermissionRequiredMixin, TemplateView):
    """Closed years, and the form that asks to close one (administrators), answered by
    YearCloseView."""

    permission_required = "funds.view_closedyear"
    template_name = "funds/closed_years.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        kwargs.setdefault("form", YearCloseForm(user=user))
        return super().get_context_data(
            closed=ClosedYear.objects.visible_to(user).select_related("organisation", "closed_by"),
            can_close=user.has_perm("funds.add_closedyear"),
            **kwargs,
        )


class YearCloseView(ClosedYearView):
    """Closing a year, in two steps as a deletion: GET shows the year, the organisation and what
    closing means, writing nothing; the confirmed POST closes it. A year that may not be closed
    comes back to the closed years' page with why."""

    permission_required = ("funds.view_closedyear", "funds.add_closedyear")

    def get(self, request, *args, **kwargs):
        form = YearCloseForm(request.GET, user=request.user)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        return render(request, "funds/year_close_confirm.html", {"form": form, **form.cleaned_data})

    def post(self, request, *args, **kwargs):
        form = YearCloseForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                closed = services.year_close(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(org)s %(year)d年度已结账。")
                    % {"org": closed.organisation.name, "year": closed.year},
                )
                return redirect("funds:closed_years")
        return self.render_to_response(self.get_context_data(form=form))


# --- Bank batches ------------------------------------------------------------------------------


class BatchListView(PermissionRequiredMixin, FormView):
    """Batches, and exporting a new one (finance)."""

    permission_required = "funds.view_paymentbatch"
    form_class = BatchForm
    template_name = "funds/batch_list.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            batches=PaymentBatch.objects.visible_to(self.request.user)
            .select_related("organisation", "source", "created_by")
            .order_by("-created_at", "-id")[:PAGE_SIZE],
            unpaid=selectors.approved_unpaid(user=self.request.user).count(),
            can_export=self.request.user.has_perm("funds.pay_assistancerequest"),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("funds.pay_assistancerequest"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            batch, skipped = services.batch_create(user=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("已生成代发批次 %(number)s：%(count)d 笔，合计 %(total)s 元。")
            % {"number": batch.number, "count": batch.line_count, "total": yuan_text(batch.total)},
        )
        for line in skipped:
            messages.warning(self.request, _("未列入：%(why)s") % {"why": line})
        return redirect("funds:batch_detail", pk=batch.pk)


class BatchMixin(PermissionRequiredMixin):
    def get_batch(self) -> PaymentBatch:
        if not hasattr(self, "_batch"):
            self._batch = get_object_or_404(
                PaymentBatch.objects.visible_to(self.request.user).select_related(
                    "organisation", "source", "created_by", "reconciled_by"
                ),
                pk=self.kwargs["pk"],
            )
        return self._batch


class BatchDetailView(BatchMixin, FormView):
    """A batch's lines and the upload of the bank's return file (all or nothing)."""

    permission_required = "funds.view_paymentbatch"
    form_class = ReturnFileForm
    template_name = "funds/batch_detail.html"

    def get_context_data(self, **kwargs):
        batch = self.get_batch()
        return super().get_context_data(
            batch=batch,
            lines=batch.lines.select_related("request__household").order_by("id"),
            can_reconcile=self.request.user.has_perm("funds.pay_assistancerequest")
            and batch.state == PaymentBatch.State.EXPORTED,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("funds.pay_assistancerequest"):
            raise PermissionDenied
        self.get_batch()
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        batch = self.get_batch()
        upload = form.cleaned_data["file"]
        try:
            rows = bankfiles.read_return_file(upload)
            counts = services.batch_reconcile(
                user=self.request.user,
                batch=batch,
                rows=rows,
                paid_on=form.cleaned_data["paid_on"],
                file_name=upload.name,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("回盘已导入：成功 %(paid)d 笔，失败 %(failed)d 笔。") % counts,
        )
        for flag in counts["flagged"]:
            messages.warning(self.request, flag)
        return redirect("funds:batch_detail", pk=batch.pk)


class BatchDownloadView(BatchMixin, TemplateView):
    """The bank file: full names, ID and account numbers, so every download is logged."""

    permission_required = "funds.pay_assistancerequest"

    def get(self, request, *args, **kwargs):
        batch = self.get_batch()
        content = bankfiles.batch_workbook(batch)
        log_access(
            request,
            action=AccessLog.Action.EXPORT,
            obj=batch,
            detail=_("代发文件 %(number)s") % {"number": batch.number},
        )
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="daifa-{batch.number}.xlsx"'
        return response


# --- Verification ------------------------------------------------------------------------------


class SampleListView(PermissionRequiredMixin, FormView):
    permission_required = "funds.view_verificationsample"
    form_class = SampleForm
    template_name = "funds/sample_list.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            samples=VerificationSample.objects.visible_to(self.request.user)
            .select_related("organisation", "drawn_by")
            .order_by("-year", "-quarter", "organisation__path")[:PAGE_SIZE],
            can_draw=self.request.user.has_perm("funds.add_verificationsample"),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("funds.add_verificationsample"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            sample = services.sample_draw(user=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("已从 %(population)d 笔发放中随机抽取 %(size)d 笔待核实。")
            % {"population": sample.population, "size": sample.size},
        )
        return redirect("funds:sample_detail", pk=sample.pk)


class SampleDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "funds.view_verificationsample"
    template_name = "funds/sample_detail.html"
    context_object_name = "sample"

    def get_queryset(self):
        return VerificationSample.objects.visible_to(self.request.user).select_related(
            "organisation", "drawn_by"
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            items=self.object.items.select_related(
                "request__household", "request__assistance_type", "checked_by"
            ).order_by("id"),
            **kwargs,
        )


class VerificationMixin(PermissionRequiredMixin):
    def get_item(self) -> Verification:
        if not hasattr(self, "_item"):
            self._item = get_object_or_404(
                Verification.objects.visible_to(self.request.user).select_related(
                    "sample__organisation", "request__household", "request__assistance_type"
                ),
                pk=self.kwargs["pk"],
            )
        return self._item

    def get_context_data(self, **kwargs):
        return super().get_context_data(item=self.get_item(), **kwargs)


class VerificationRecordView(VerificationMixin, FormView):
    permission_required = "funds.change_verification"
    form_class = VerificationForm
    template_name = "funds/verification_form.html"

    def form_valid(self, form):
        item = self.get_item()
        try:
            services.verification_record(user=self.request.user, item=item, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("核实结果已登记。"))
        return redirect("funds:sample_detail", pk=item.sample_id)


class VerificationResolveView(VerificationMixin, FormView):
    permission_required = "funds.change_verification"
    form_class = FollowUpForm
    template_name = "funds/verification_form.html"

    def form_valid(self, form):
        try:
            services.verification_resolve(
                user=self.request.user, item=self.get_item(), **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("跟进处理已登记。"))
        return redirect("funds:discrepancies")


class DiscrepancyListView(PermissionRequiredMixin, ListView):
    """Payments the household did not receive in full: to be followed up."""

    permission_required = "funds.view_verification"
    template_name = "funds/discrepancy_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return selectors.discrepancies(user=self.request.user)


# --- The fund statement ----------------------------------------------------------------------


class StatementMixin(PermissionRequiredMixin):
    permission_required = "funds.view_fund_statement"

    def get_statement(self):
        """(form, organisation, statement, side_by_side or None) from the query string."""
        user = self.request.user
        data = self.request.GET.copy()
        if "organisation" not in data and user.organisation_id:
            data["organisation"] = str(user.organisation_id)
        if "year" not in data:
            data["year"] = str(timezone.localdate().year)
        form = StatementForm(data, user=user)
        if not form.is_valid():
            return form, None, None, None
        organisation = form.cleaned_data["organisation"]
        period = {"year": form.cleaned_data["year"], "cutoff": form.cleaned_data["cutoff"]}
        statement = selectors.fund_statement(
            organisations=Organisation.objects.subtree(organisation), **period
        )
        side = None
        if selectors.statement_units(organisation):
            side = selectors.fund_statement_side_by_side(organisation=organisation, **period)
        return form, organisation, statement, side


class StatementView(StatementMixin, TemplateView):
    template_name = "funds/statement.html"

    def get_context_data(self, **kwargs):
        form, organisation, statement, side = self.get_statement()
        return super().get_context_data(
            form=form,
            organisation=organisation,
            statement=statement,
            side=side,
            query=self.request.GET.urlencode(),
            **kwargs,
        )


class StatementExcelView(StatementMixin, TemplateView):
    def get(self, request, *args, **kwargs):
        form, organisation, statement, side = self.get_statement()
        if statement is None:
            return redirect(f"{reverse('funds:statement')}?{request.GET.urlencode()}")
        content = exports.statement_workbook(
            organisation=organisation, statement=statement, side_by_side=side
        )
        response = HttpResponse(content, content_type=XLSX)
        name = f"funds-{organisation.code}-{statement['start']:%Y%m%d}-{statement['end']:%Y%m%d}"
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response


class FundsExportView(PermissionRequiredMixin, TemplateView):
    """Receipts, paid payments and refunds of the user's subtree in the import layout. The
    payments name files, so every download is logged."""

    permission_required = "imports.export_funds"

    def get(self, request, *args, **kwargs):
        content = workbook.funds_export(request.user)
        log_access(
            request,
            action=AccessLog.Action.EXPORT,
            organisation=request.user.organisation,
            detail=_("资金数据导出（拨入、发放、退回）"),
        )
        response = HttpResponse(content, content_type=XLSX)
        code = request.user.organisation.code if request.user.organisation else "all"
        name = f"funds-{code}-{timezone.localdate():%Y%m%d}"
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
