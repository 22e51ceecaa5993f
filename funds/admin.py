"""Admin of the funds. Supervisors approve or reject requests here in bulk, with a reason, through
the same services as the staff pages; administrators configure sources, types, standards and
closed years. Money records are read-only: they change only through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from funds import selectors, services
from funds.models import (
    Approval,
    AssistanceRequest,
    AssistanceStandard,
    AssistanceType,
    ClosedYear,
    FundSource,
    LedgerEntry,
    PaymentBatch,
    Receipt,
    Refund,
    RequestState,
)
from households.models import Household
from households.selectors import search_id_hash
from orgs.reference_admin import ReferenceAdmin
from orgs.scoping import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedHistoryAdminMixin
from orgs.text import colon


class ReadOnlyAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    show_full_result_count = False


class ImportedFilter(admin.SimpleListFilter):
    """Rows brought in by the funds import (they carry its key) or registered on the pages."""

    title = gettext_lazy("录入方式")
    parameter_name = "imported"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("导入")), ("no", gettext_lazy("页面登记"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(import_key__isnull=self.value() == "no")
        return queryset


@admin.register(FundSource)
class FundSourceAdmin(ReferenceAdmin):
    list_display = ["code", "name", "sort", "is_active"]
    list_editable = ["name", "sort", "is_active"]


@admin.register(AssistanceType)
class AssistanceTypeAdmin(ReferenceAdmin):
    list_display = ["code", "name", "is_loan", "sort", "is_active"]
    list_editable = ["name", "sort", "is_active"]


@admin.register(AssistanceStandard)
class AssistanceStandardAdmin(ScopedHistoryAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "organisation",
        "year",
        "assistance_type",
        "tier",
        "amount_cap",
        "annual_months_deep",
        "annual_months_relative",
        "cap_out_of_pocket",
        "times_per_year",
        "scope",
        "one_project_rule",
        "second_approval_above",
        "second_approver",
    ]
    list_filter = ["year", "assistance_type", "scope", "one_project_rule"]
    list_select_related = ["organisation", "assistance_type"]
    search_fields = ["organisation__name", "note"]

    def has_delete_permission(self, request, obj=None):
        return False


class ClosedYearForm(forms.ModelForm):
    class Meta:
        model = ClosedYear
        fields = ["organisation", "year", "note"]

    def clean(self):
        data = super().clean()
        organisation, year = data.get("organisation"), data.get("year")
        if organisation and year is not None:
            try:
                services.check_year_closable(organisation=organisation, year=year)
            except ValidationError as error:
                self.add_error(None, error)  # on the year field: the error names it
        return data


@admin.register(ClosedYear)
class ClosedYearAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Closing a year is added here in two steps, as a deletion is confirmed: the add form,
    once valid, leads to a confirmation (GET, nothing written) that states the year, the
    organisation and what closing means; only its POST closes the year."""

    form = ClosedYearForm
    list_display = ["year", "organisation", "closed_by", "closed_at", "note"]
    list_select_related = ["organisation", "closed_by"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        close = self.admin_site.admin_view(self.close_view)
        return [path("close/", close, name="funds_closedyear_close"), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        if request.method == "POST" and self.has_add_permission(request):
            form = self.get_form(request)(request.POST)
            if form.is_valid():
                query = urlencode({name: form.data.get(name, "") for name in CLOSE_FIELDS})
                return redirect(f"{reverse('admin:funds_closedyear_close')}?{query}")
        return super().add_view(request, form_url, extra_context)  # the form with its errors

    def close_view(self, request):
        """The confirmation (GET) and the close itself (POST), of the year the add form asked
        for: checked again each time, with the user's scope."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.get_form(request)(request.POST if request.method == "POST" else request.GET)
        if form.is_valid():
            year = {name: form.cleaned_data[name] for name in CLOSE_FIELDS}
            if request.method != "POST":
                return self._close_confirmation(request, form, year)
            try:
                closed = services.year_close(user=request.user, **year)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.log_addition(request, closed, [{"added": {}}])
                self.message_user(
                    request,
                    _("%(org)s %(year)d年度已结账。")
                    % {"org": closed.organisation.name, "year": closed.year},
                    messages.SUCCESS,
                )
                return redirect("admin:funds_closedyear_changelist")
        for error in form.errors.values():
            self.message_user(request, " ".join(error), messages.ERROR)
        return redirect("admin:funds_closedyear_add")

    def _close_confirmation(self, request, form, year):
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/funds/closedyear/close_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": _("确认结账"),
                "opts": self.opts,
                "form": form,
                **year,
            },
        )


CLOSE_FIELDS = ("organisation", "year", "note")


class ApprovalInline(admin.TabularInline):
    model = Approval
    fields = ["level", "decision", "approver", "approver_organisation", "override", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("审批意见"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text=gettext_lazy("不批准或突破标准时必填。"),
    )
    override = forms.BooleanField(
        label=gettext_lazy("突破标准"),
        required=False,
        help_text=gettext_lazy("对超出帮扶标准的申请，经研究同意时勾选。"),
    )

    def __init__(self, *args, approve: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.approve = approve
        if not approve:
            del self.fields["override"]  # nothing to override in a refusal
            self.fields["reason"].required = True
            self.fields["reason"].help_text = ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("override") and not cleaned.get("reason"):
            self.add_error("reason", gettext_lazy("突破标准须填写理由。"))
        return cleaned


class AwaitingMyApprovalFilter(admin.SimpleListFilter):
    """The requests this user may decide now (the admin index links here)."""

    title = gettext_lazy("待我审批")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        if not request.user.has_perm("funds.approve_assistancerequest"):
            return []
        return [("1", gettext_lazy("待我审批的帮扶申请"))]

    def queryset(self, request, queryset):
        if self.value() != "1":
            return queryset
        waiting = selectors.awaiting_approval(user=request.user)
        return queryset.filter(pk__in=waiting.values("pk"))


# A request's fields the admin does not show: the account (PII, on the request's page for who may
# see it) and the keyed hash of the beneficiary's ID number, a search key that tells a reader
# nothing.
NOT_SHOWN = ("paid_bank_account", "beneficiary_id_hash")


@admin.register(AssistanceRequest)
class AssistanceRequestAdmin(ScopedHistoryAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "requested_on",
        "household",
        "assistance_type",
        "amount",
        "source",
        "state",
        "waiting",
        "exceeds_standard",
        "organisation",
    ]
    list_filter = [
        "state",
        "assistance_type",
        "source",
        "year",
        "approvals_required",
        "is_imported",
        "paid_to_closed_file",
        AwaitingMyApprovalFilter,
    ]
    list_select_related = [
        "household",
        "assistance_type",
        "source",
        "organisation__parent",
    ]
    search_fields = ["household__file_number", "household__worker_name"]
    search_help_text = gettext_lazy(
        "按档案编号或职工姓名查询；输入完整的身份证号码（18位或15位旧号码）可查找本人或家庭成员的申请。"
    )
    date_hierarchy = "requested_on"
    show_full_result_count = False
    actions = ["approve_selected", "reject_selected"]
    inlines = [ApprovalInline]
    exclude = list(NOT_SHOWN)
    readonly_fields = [
        f.name for f in AssistanceRequest._meta.fields if f.name not in ("id", *NOT_SHOWN)
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("approvals", queryset=Approval.objects.order_by("level")))
        )

    def search_id_hash(self, request, queryset, key):
        """The requests of the files whose worker or a member has this ID number (its hash),
        found as the household list finds the files (an OR with a correlated subquery made
        PostgreSQL read every request)."""
        files = search_id_hash(Household.objects.all(), key).values_list("pk", flat=True)
        return queryset.filter(household__in=list(files))

    def has_add_permission(self, request, obj=None):
        return False  # clerks request on the staff pages

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("等待"))
    def waiting(self, obj):
        return obj.waiting_for

    @admin.display(description=gettext_lazy("超出标准"), boolean=True)
    def exceeds_standard(self, obj):
        return bool(obj.violations)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("funds.approve_assistancerequest"):
            actions.pop("approve_selected", None)
            actions.pop("reject_selected", None)
        return actions

    def _decide(self, request, queryset, *, approve: bool):
        form = DecisionForm(request.POST if "confirm" in request.POST else None, approve=approve)
        if form.is_bound and form.is_valid():
            done, refused = 0, []
            for obj in queryset.order_by("id"):
                try:
                    if approve:
                        services.request_approve(
                            user=request.user,
                            request=obj,
                            reason=form.cleaned_data["reason"],
                            override=form.cleaned_data.get("override", False),
                        )
                    else:
                        services.request_reject(
                            user=request.user, request=obj, reason=form.cleaned_data["reason"]
                        )
                    done += 1
                except (ValidationError, PermissionDenied) as error:
                    text = " ".join(getattr(error, "messages", [str(error)]))
                    refused.append(f"{obj.household}{colon()}{text}")
            if refused and not done:
                # Nothing decided: the same form again with why, so that ticking 突破标准 with a
                # reason is one step, not a new selection from the list.
                for line in refused:
                    form.add_error(None, line)
                return self._decision_page(request, queryset, form, approve=approve)
            if done:
                self.message_user(
                    request,
                    (_("已批准 %(n)d 件。") if approve else _("已不予批准 %(n)d 件。"))
                    % {"n": done},
                    messages.SUCCESS,
                )
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        return self._decision_page(request, queryset, form, approve=approve)

    def _decision_page(self, request, queryset, form, *, approve: bool):
        return TemplateResponse(
            request,
            "admin/funds/assistancerequest/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": _("批准帮扶申请") if approve else _("不予批准帮扶申请"),
                "opts": self.model._meta,
                "queryset": queryset.select_related("household", "assistance_type", "source"),
                "form": form,
                "action": "approve_selected" if approve else "reject_selected",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "approve": approve,
            },
        )

    @admin.action(description=gettext_lazy("批准所选申请"))
    def approve_selected(self, request, queryset):
        return self._decide(request, queryset.filter(state=RequestState.REQUESTED), approve=True)

    @admin.action(description=gettext_lazy("不予批准所选申请"))
    def reject_selected(self, request, queryset):
        return self._decide(request, queryset.filter(state=RequestState.REQUESTED), approve=False)


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["received_on", "organisation", "source", "year", "amount", "document_number"]
    list_filter = ["source", "year", ImportedFilter]
    list_select_related = ["organisation", "source"]
    search_fields = ["document_number", "organisation__name"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["refunded_on", "organisation", "source", "amount", "document_number"]
    list_filter = ["source", ImportedFilter]
    list_select_related = ["organisation", "source"]
    search_fields = ["document_number", "organisation__name"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["entry_date", "organisation", "source", "kind", "amount", "reverses", "reason"]
    list_filter = ["kind", "source", "year"]
    list_select_related = ["organisation", "source", "reverses"]
    date_hierarchy = "entry_date"


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "organisation",
        "source",
        "line_count",
        "total",
        "state",
        "created_at",
    ]
    list_filter = ["state"]
    list_select_related = ["organisation", "source"]
    search_fields = ["number"]
