"""The supervisors' admin for household files.

Files are read here, never edited or deleted: clerks change them on the staff pages, through
`households.services`. Supervisors approve or reject applications and closures with bulk actions
that ask for a reason on a confirmation page and call the same services, which refuse what the
rules refuse (notice not over, own files, pending objections); each refusal is reported per
file. Administrators keep the dibao lines and the reference tables (causes, categories).
Everything organisation-owned is scoped: another county's record answers 404.
"""

import dataclasses
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Value, When
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, ngettext_lazy, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from households import selectors, services, spotchecks
from households.file_pdf import file_pdf_response, printable
from households.models import (
    Category,
    Cause,
    ClosureRequest,
    DibaoStandard,
    Document,
    FilingPeriod,
    Household,
    Member,
    Objection,
    PublicNotice,
    SpotCheck,
    SpotCheckSample,
    Survey,
    Transition,
)
from households.notice_pdf import notice_pdf_response
from households.workflow import STEPS
from orgs import idsearch
from orgs.audit import log_access
from orgs.models import AccessLog, Organisation
from orgs.reference_admin import ReferenceAdmin
from orgs.scoping import (
    HiddenBirthDateAdminMixin,
    MaskedPhoneAdminMixin,
    ReadOnlyAdminMixin,
    ScopedAdminMixin,
    ScopedHistoryAdminMixin,
)
from orgs.text import aside, colon, listing
from orgs.web import typed_key

# Encrypted columns: lists never load (and so never decrypt) them. Admins that defer them also
# select_related their list_select_related in get_queryset: the changelist applies
# list_select_related only to a queryset that has no select_related yet.
SECRET_FIELDS = ("id_number", "bank_account")
APPROVE_PERMISSION = "households.approve_household"


# --- Building blocks ---------------------------------------------------------------------------


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class SubtreeFilter(admin.SimpleListFilter):
    """An organisation and everything below it, among the organisations the user can see
    (base unions are left out of the list: a county has hundreds)."""

    title = _("组织")
    parameter_name = "org"

    def lookups(self, request, model_admin):
        organisations = (
            Organisation.objects.visible_to(request.user)
            .exclude(level=Organisation.Level.BASE)
            .order_by("path")
        )
        return [(str(org.pk), org.name) for org in organisations]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if not (self.value().isascii() and self.value().isdigit()):  # "²" is a digit to isdigit()
            return queryset.none()
        org = Organisation.objects.visible_to(request.user).filter(pk=self.value()).first()
        if org is None:
            return queryset.none()
        lookup = getattr(queryset, "org_lookup", "organisation")
        return queryset.filter(**{f"{lookup}__path__startswith": org.path})


class AwaitingApprovalFilter(admin.SimpleListFilter):
    """公示期满待审批: the files the approve action takes now; 公示异议待处理,
    农民工会员资格待核实 and 证明材料不全: those it refuses until their objections are decided,
    their migrant-worker facts verified or their documents uploaded (the admin index links to
    each)."""

    title = _("待我审批")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        if not request.user.has_perm(APPROVE_PERMISSION):
            return []
        return [
            ("1", _("公示期满待审批建档")),
            ("objections", _("公示异议待处理")),
            ("migrant", _("农民工会员资格待核实")),
            ("documents", _("证明材料不全")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "1":
            waiting = selectors.approvals_waiting(request.user)
        elif self.value() == "objections":
            waiting = selectors.objections_pending(request.user)
        elif self.value() == "migrant":
            waiting = selectors.migrant_membership_unverified(request.user)
        elif self.value() == "documents":
            waiting = selectors.documents_incomplete(request.user)
        else:
            return queryset
        return queryset.filter(pk__in=waiting.values("pk"))


class ActionFilter(admin.SimpleListFilter):
    title = _("操作")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [("create", _("录入")), *((code, step.label) for code, step in STEPS.items())]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


def action_label(code: str) -> str:
    if code == "create":
        return gettext("录入")
    step = STEPS.get(code)
    return step.label if step else code


# --- Actions that ask for a reason -------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
    )

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["reason"].label = label


@dataclasses.dataclass
class ReasonAction:
    """An admin action in two steps, like Django's delete confirmation: the first POST shows
    the selected records and a required reason; the second (post=yes) calls `run(obj, reason)`
    for each record and reports every refusal by name."""

    name: str
    title: str
    question: str
    reason_label: str
    submit_label: str
    done_message: str  # with %(count)d
    run: Callable  # (request, obj, reason) -> None; raises ValidationError/PermissionDenied
    describe: Callable  # obj -> str for the confirmation list
    file_number: Callable  # obj -> the file number that names it in messages

    def __call__(self, modeladmin, request, queryset):
        form = ReasonForm(request.POST if "post" in request.POST else None, label=self.reason_label)
        if form.is_bound and form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    self.run(request, obj, form.cleaned_data["reason"])
                except (ValidationError, PermissionDenied) as exc:
                    # Each message is a sentence of the user's language, with its own stop.
                    text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    modeladmin.message_user(
                        request,
                        gettext("档案 %(number)s：%(error)s")
                        % {"number": self.file_number(obj), "error": text},
                        messages.ERROR,
                    )
                else:
                    done += 1
            if done:
                modeladmin.message_user(
                    request, self.done_message % {"count": done}, messages.SUCCESS
                )
            return None
        opts = modeladmin.model._meta
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": self.title,
            "subtitle": None,
            "question": self.question,
            "rows": [self.describe(obj) for obj in queryset],
            "queryset": queryset,
            "form": form,
            "action": self.name,
            "submit_label": self.submit_label,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": opts,
            "app_label": opts.app_label,
            "media": modeladmin.media,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, "households/admin/reason_confirmation.html", context)


def _apply_transition(action):
    def run(request, household, reason):
        services.transition_apply(
            user=request.user, household=household, action=action, reason=reason
        )

    return run


def _decide_closure(approve):
    def run(request, closure, reason):
        services.closure_decide(user=request.user, closure=closure, approve=approve, note=reason)

    return run


def _describe_household(household):
    return f"{household.file_number} {aside(household.worker_name, household.get_status_display())}"


def _describe_application(household):
    """The file, and the documents the approval will find missing (services.check_documents)."""
    text = _describe_household(household)
    if missing := selectors.documents_missing(household):
        text += gettext("；证明材料不全：%(kinds)s") % {
            "kinds": listing(item.label for item in missing)
        }
    return text


def _describe_closure(closure):
    household = closure.household
    kind = aside(closure.get_kind_display(), closure.get_state_display())
    text = f"{household.file_number} {household.worker_name}{colon()}{kind} {closure.reason}"
    if not closure.closes_file:
        return text
    waiting, kept = selectors.requests_at_closure(household)
    if waiting:
        text += ngettext(
            "；批准后，待审批的 %(count)d 项帮扶申请随之取消",
            "；批准后，待审批的 %(count)d 项帮扶申请随之取消",
            len(waiting),
        ) % {"count": len(waiting)}
    if kept:
        text += ngettext(
            "；已批准未发放的 %(count)d 项款项保留，由财务发放或取消",
            "；已批准未发放的 %(count)d 项款项保留，由财务发放或取消",
            len(kept),
        ) % {"count": len(kept)}
    return text


APPROVE_APPLICATIONS = ReasonAction(
    name="approve_applications",
    title=_("批准建档"),
    question=_("以下档案将审批建档（须公示期满、异议已处理）。请填写审批意见："),
    reason_label=_("审批意见"),
    submit_label=_("批准建档"),
    done_message=ngettext_lazy(
        "已批准 %(count)d 户档案建档。", "已批准 %(count)d 户档案建档。", "count"
    ),
    run=_apply_transition("approve"),
    describe=_describe_application,
    file_number=lambda household: household.file_number,
)
REJECT_APPLICATIONS = ReasonAction(
    name="reject_applications",
    title=_("不予建档"),
    question=_("以下档案将不予建档。请填写理由："),
    reason_label=_("不予建档的理由"),
    submit_label=_("不予建档"),
    done_message=ngettext_lazy(
        "已将 %(count)d 户档案设为不予建档。", "已将 %(count)d 户档案设为不予建档。", "count"
    ),
    run=_apply_transition("reject"),
    describe=_describe_household,
    file_number=lambda household: household.file_number,
)
APPROVE_CLOSURES = ReasonAction(
    name="approve_closures",
    title=_("批准退出申请"),
    question=_("以下退出申请将被批准，档案随即解困、脱困或注销。请填写审批意见："),
    reason_label=_("审批意见"),
    submit_label=_("批准"),
    done_message=ngettext_lazy(
        "已批准 %(count)d 项退出申请。", "已批准 %(count)d 项退出申请。", "count"
    ),
    run=_decide_closure(True),
    describe=_describe_closure,
    file_number=lambda closure: closure.household.file_number,
)
REJECT_CLOSURES = ReasonAction(
    name="reject_closures",
    title=_("驳回退出申请"),
    question=_("以下退出申请将被驳回，档案状态不变。请填写审批意见："),
    reason_label=_("审批意见"),
    submit_label=_("驳回"),
    done_message=ngettext_lazy(
        "已驳回 %(count)d 项退出申请。", "已驳回 %(count)d 项退出申请。", "count"
    ),
    run=_decide_closure(False),
    describe=_describe_closure,
    file_number=lambda closure: closure.household.file_number,
)


class ApproveActionsMixin:
    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE_PERMISSION)


# --- Household files ---------------------------------------------------------------------------


class MemberInline(ReadOnlyInline):
    model = Member
    fields = [
        "relation",
        "name",
        "id_masked",
        "health",
        "disability",
        "employment",
        "school_stage",
        "monthly_income",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("id_number")


class TransitionInline(ReadOnlyInline):
    model = Transition
    fields = [
        "effective_date",
        "step",
        "from_status",
        "to_status",
        "reason",
        "deregistration_reason",
        "against_verdict",
        "is_imported",
        "actor",
        "created_at",
    ]

    @admin.display(description=_("操作"))
    def step(self, obj):
        return action_label(obj.action)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class SurveyInline(ReadOnlyInline):
    model = Survey
    fields = [
        "surveyed_on",
        "surveyors",
        "findings",
        "per_capita_income",
        "dibao_line",
        "is_above_line",
        "recorded_by",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


class ObjectionInline(ReadOnlyInline):
    model = Objection
    fields = ["raised_on", "raised_by", "content", "outcome", "finding", "resolved_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("resolved_by")


class DocumentInline(ReadOnlyInline):
    # No file link: documents are downloaded on the staff pages, which check and log it.
    model = Document
    fields = ["kind", "original_name", "issued_on", "is_active", "uploaded_by", "uploaded_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


HOUSEHOLD_FIELDSETS = [
    (
        _("档案"),
        {
            "fields": [
                "file_number",
                "organisation",
                "base_union",
                "status",
                "status_changed_on",
                "origin",
                "category",
                "primary_cause",
                "secondary_causes",
            ]
        },
    ),
    (
        _("职工"),
        {
            "fields": [
                "worker_name",
                "sex",
                "id_masked",
                "birth_date",
                "phone",
                "employer",
                "is_migrant_worker",
                "is_union_member",
                "labour_relation_since",
                "is_model_worker",
                "address",
                "bank_name",
                "bank_account_masked",
            ]
        },
    ),
    (
        _("收入"),
        {
            "fields": [
                "household_size",
                "monthly_income",
                "per_capita_income",
                "other_monthly_income",
                "rigid_spending_annual",
                "accident_spending_annual",
            ]
        },
    ),
    (
        _("不予建档情形"),
        {
            "fields": [
                "owns_multiple_homes",
                "owns_business",
                "children_private_school",
                "uses_vehicles",
            ]
        },
    ),
    (
        _("帮扶责任人"),
        {"fields": ["responsible_staff", "responsible_chair", "responsible_chair_phone"]},
    ),
    (
        _("记录"),
        {
            "fields": [
                "last_survey_on",
                "next_survey_due",
                "created_by",
                "created_at",
                "updated_at",
            ]
        },
    ),
]


@admin.register(Household)
class HouseholdAdmin(
    ApproveActionsMixin,
    HiddenBirthDateAdminMixin,
    MaskedPhoneAdminMixin,
    ScopedHistoryAdminMixin,
    ReadOnlyAdminMixin,
    ScopedAdminMixin,
    SimpleHistoryAdmin,
):
    list_display = [
        "file_number",
        "worker_name",
        "id_masked",
        "organisation",
        "status",
        "category",
        "per_capita_income",
        "status_changed_on",
    ]
    list_filter = [
        "status",
        "primary_cause",
        "category",
        "is_migrant_worker",
        "organisation__level",
        SubtreeFilter,
        "current_period__origin",
        AwaitingApprovalFilter,
    ]
    search_fields = ["file_number__startswith", "worker_name__startswith"]
    search_help_text = _(
        "按档案编号或职工姓名的开头查询；输入完整的身份证号码（18位或15位旧号码）可精确查找本人或家庭成员。"
    )
    list_select_related = ["organisation", "category"]
    show_full_result_count = False
    fieldsets = HOUSEHOLD_FIELDSETS
    readonly_fields = [name for _title, box in HOUSEHOLD_FIELDSETS for name in box["fields"]]
    inlines = [MemberInline, TransitionInline, SurveyInline, ObjectionInline, DocumentInline]
    actions = ["approve_applications", "reject_applications"]
    change_form_template = "households/admin/household_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*SECRET_FIELDS)

    @admin.display(description=_("来源"))
    def origin(self, obj):
        period = obj.current_period
        return period.get_origin_display() if period else ""

    def get_search_results(self, request, queryset, search_term):
        """A full ID number finds the worker's or a member's file through the keyed hash (the
        numbers themselves are encrypted and cannot be searched). The list's search box sends
        the hash (`idh`, config/admin.py); a number given in `q` is found here too."""
        if number := idsearch.id_number_in(search_term):
            return self.search_id_hash(request, queryset, idsearch.search_hash(number)), False
        return super().get_search_results(request, queryset, search_term)

    def search_id_hash(self, request, queryset, key):
        member = Member.objects.filter(household=OuterRef("pk"), id_hash=key)
        return queryset.filter(Q(id_hash=key) | Q(Exists(member)))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/file.pdf",
                self.admin_site.admin_view(self.file_pdf_view),
                name="households_household_file_pdf",
            ),
            *super().get_urls(),
        ]

    def file_pdf_view(self, request, object_id):
        """打印档案表: the file form as on the staff pages (view permission, scoped, logged)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        key = typed_key(unquote(object_id))
        household = printable(request.user).filter(pk=key).first() if key else None
        if household is None:
            raise Http404
        return file_pdf_response(request, household)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        household = self.get_object(request, unquote(object_id))
        if household is not None and household.is_open:
            # The 材料 checklist the approval applies, as on the file's page.
            extra_context = {
                **(extra_context or {}),
                "checklist": selectors.documents_checklist(household),
            }
        response = super().change_view(request, object_id, form_url, extra_context)
        household = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and household is not None:
            log_access(request, action=AccessLog.Action.VIEW_FILE, obj=household)
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # An earlier version shows the file as fully as its page: logged like it.
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if response.status_code == 200:
            household = self.get_queryset(request).get(pk=unquote(object_id))
            log_access(
                request, action=AccessLog.Action.VIEW_FILE, obj=household, detail=str(_("历史版本"))
            )
        return response

    @admin.action(permissions=["approve"], description=_("批准建档（公示期满的档案）"))
    def approve_applications(self, request, queryset):
        return APPROVE_APPLICATIONS(self, request, queryset.order_by("file_number"))

    @admin.action(permissions=["approve"], description=_("不予建档"))
    def reject_applications(self, request, queryset):
        return REJECT_APPLICATIONS(self, request, queryset.order_by("file_number"))


@admin.register(ClosureRequest)
class ClosureRequestAdmin(
    ApproveActionsMixin, ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin
):
    list_display = [
        "file_number",
        "worker_name",
        "kind",
        "effective_date",
        "state",
        "requested_by",
        "requested_at",
        "decided_by",
    ]
    list_filter = ["kind", "state", "deregistration_reason"]
    search_fields = ["household__file_number__startswith", "household__worker_name__startswith"]
    list_select_related = ["household", "requested_by", "decided_by"]
    show_full_result_count = False
    # Pending requests first, then the newest.
    ordering = [
        Case(
            When(state=ClosureRequest.State.PENDING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ).asc(),
        "-requested_at",
    ]
    fields = [
        "household",
        "kind",
        "effective_date",
        "deregistration_reason",
        "reason",
        "state",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
    ]
    readonly_fields = fields
    actions = ["approve_closures", "reject_closures"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .defer(*(f"household__{name}" for name in SECRET_FIELDS))
        )

    @admin.display(description=_("档案编号"), ordering="household__file_number")
    def file_number(self, obj):
        return obj.household.file_number

    @admin.display(description=_("职工姓名"))
    def worker_name(self, obj):
        return obj.household.worker_name

    @admin.action(permissions=["approve"], description=_("批准所选退出申请"))
    def approve_closures(self, request, queryset):
        return APPROVE_CLOSURES(self, request, queryset.order_by("household__file_number"))

    @admin.action(permissions=["approve"], description=_("驳回所选退出申请"))
    def reject_closures(self, request, queryset):
        return REJECT_CLOSURES(self, request, queryset.order_by("household__file_number"))


# --- Public notices and objections -------------------------------------------------------------


class NoticeFileInline(ReadOnlyInline):
    model = FilingPeriod
    fk_name = "notice"
    verbose_name = pgettext_lazy("model", "公示档案")
    verbose_name_plural = pgettext_lazy("models", "公示档案")
    fields = ["household", "status", "number", "origin", "applied_on", "filed_on", "closed_on"]

    @admin.display(description=_("当前状态"))
    def status(self, obj):
        return obj.household.get_status_display()

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("household")
            .defer(*(f"household__{name}" for name in SECRET_FIELDS))
        )


@admin.register(PublicNotice)
class PublicNoticeAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "organisation",
        "starts_on",
        "ends_on",
        "household_count",
        "created_by",
        "print_link",
    ]
    list_filter = [SubtreeFilter, "starts_on"]
    search_fields = ["title"]
    list_select_related = ["organisation", "created_by"]
    show_full_result_count = False
    fields = [
        "title",
        "organisation",
        "starts_on",
        "ends_on",
        "working_days",
        "objection_contact",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [NoticeFileInline]
    change_form_template = "households/admin/publicnotice_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(household_count=Count("periods"))

    @admin.display(description=_("户数"), ordering="household_count")
    def household_count(self, obj):
        return obj.household_count

    @admin.display(description=_("公示单"))
    def print_link(self, obj):
        url = reverse("admin:households_publicnotice_pdf", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("打印公示单"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/notice.pdf",
                self.admin_site.admin_view(self.notice_pdf_view),
                name="households_publicnotice_pdf",
            ),
            *super().get_urls(),
        ]

    def notice_pdf_view(self, request, object_id):
        """打印公示单: the A4 notice sheet as a PDF download (view permission, scoped, logged)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        notice = self.get_object(request, unquote(object_id))
        if notice is None:
            raise Http404
        return notice_pdf_response(request, notice)


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "household",
        "raised_by",
        "raised_on",
        "outcome",
        "recorded_by",
        "resolved_by",
        "resolved_at",
    ]
    list_filter = ["outcome", "raised_on"]
    search_fields = ["household__file_number__startswith", "raised_by"]
    list_select_related = ["household", "recorded_by", "resolved_by"]
    show_full_result_count = False
    fields = [
        "household",
        "raised_by",
        "raised_on",
        "content",
        "outcome",
        "finding",
        "recorded_by",
        "resolved_by",
        "resolved_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .defer(*(f"household__{name}" for name in SECRET_FIELDS))
        )


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "household",
        "step",
        "from_status",
        "to_status",
        "effective_date",
        "actor",
        "against_verdict",
        "is_imported",
        "created_at",
    ]
    list_filter = ["to_status", ActionFilter, "is_imported", "against_verdict"]
    search_fields = ["household__file_number__startswith"]
    search_help_text = _("按档案编号的开头查询。")
    list_select_related = ["household", "actor"]
    show_full_result_count = False
    fields = [
        "household",
        "period",
        "step",
        "from_status",
        "to_status",
        "effective_date",
        "reason",
        "deregistration_reason",
        "against_verdict",
        "is_imported",
        "actor",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .defer(*(f"household__{name}" for name in SECRET_FIELDS))
        )

    @admin.display(description=_("操作"), ordering="action")
    def step(self, obj):
        return action_label(obj.action)


# --- The yearly spot-check of files (read-only: drawn and recorded on the staff pages) -----------


class SpotCheckInline(ReadOnlyInline):
    model = SpotCheck
    fields = [
        "household",
        "status_at_draw",
        "outcome",
        "action",
        "note",
        "checked_on",
        "checked_by",
        "checked_at",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            # each row's name is its draw's (SpotCheck.__str__)
            .select_related("sample__organisation", "household", "checked_by")
            .defer(*(f"household__{name}" for name in SECRET_FIELDS))
        )


@admin.register(SpotCheckSample)
class SpotCheckSampleAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "organisation",
        "year",
        "share",
        "size",
        "checked",
        "discrepancies",
        "population",
        "drawn_by",
        "drawn_at",
    ]
    list_filter = [SubtreeFilter, "year"]
    list_select_related = ["organisation", "drawn_by"]
    show_full_result_count = False
    fields = [
        "organisation",
        "year",
        "share",
        "size",
        "population",
        "note",
        "drawn_by",
        "drawn_at",
    ]
    readonly_fields = fields
    inlines = [SpotCheckInline]

    def get_queryset(self, request):
        return spotchecks.with_progress(super().get_queryset(request))

    @admin.display(description=_("已核查"), ordering="checked")
    def checked(self, obj):
        return obj.checked

    @admin.display(description=_("不属实或有出入"), ordering="discrepancies")
    def discrepancies(self, obj):
        return obj.discrepancies


@admin.register(SpotCheck)
class SpotCheckAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "household",
        "sample",
        "outcome",
        "action",
        "checked_on",
        "checked_by",
        "checked_at",
    ]
    list_filter = ["outcome", "action", "sample__year"]
    search_fields = ["household__file_number__startswith"]
    search_help_text = _("按档案编号的开头查询。")
    list_select_related = ["household", "sample__organisation", "checked_by"]
    show_full_result_count = False
    fields = [
        "sample",
        "household",
        "status_at_draw",
        "outcome",
        "action",
        "note",
        "checked_on",
        "checked_by",
        "checked_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .defer(*(f"household__{name}" for name in SECRET_FIELDS))
        )


# --- Reference data ----------------------------------------------------------------------------


class DibaoStandardForm(forms.ModelForm):
    refused = None  # the service's refusal of this form's save, posted again (see the admin)

    class Meta:
        model = DibaoStandard
        fields = ["organisation", "year", "monthly_amount", "note"]

    def clean(self):
        cleaned = super().clean()
        message = services.dibao_duplicate_message(
            organisation=cleaned.get("organisation"),
            year=cleaned.get("year"),
            exclude_pk=self.instance.pk,
        )
        if message:
            self.add_error("year", message)
        elif self.refused is not None:
            self.add_error(None, self.refused)
        return cleaned


@admin.register(DibaoStandard)
class DibaoStandardAdmin(ScopedHistoryAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Administrators keep the monthly dibao line of their area per year."""

    form = DibaoStandardForm
    list_display = ["organisation", "year", "monthly_amount", "note"]
    list_filter = ["year", SubtreeFilter]
    search_fields = ["organisation__name", "organisation__code__startswith"]
    list_select_related = ["organisation"]

    def save_model(self, request, obj, form, change):
        services.dibao_standard_save(user=request.user, standard=obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refused:
            # The form found no line of this area and year, but a colleague's reached the
            # database first and the unique key refused this one (dibao_standard_save says so
            # in words): the form again, with that on it, instead of a server error.
            if request.method != "POST":
                raise
            request.dibao_refused = refused
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.refused = getattr(request, "dibao_refused", None)
        return form

    def has_delete_permission(self, request, obj=None):
        return False  # surveys and reports of past years refer to these lines


@admin.register(Cause)
class CauseAdmin(ReferenceAdmin):
    list_display = ["code", "name", "is_special", "sort", "is_active"]
    list_filter = ["is_special", "is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "is_special", "sort", "is_active"]


@admin.register(Category)
class CategoryAdmin(ReferenceAdmin):
    list_display = ["code", "name", "scheme", "sort", "is_active"]
    list_filter = ["scheme", "is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "scheme", "sort", "is_active"]
