"""Admin for supervisors and administrators: records are read here and changed on the staff
pages (their services hold the rules); windows are renamed, added and retired here."""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from orgs.scoping import (
    MaskedPhoneAdminMixin,
    NationalTableMixin,
    ReadOnlyAdminMixin,
    ScopedAdminMixin,
    ScopedHistoryAdminMixin,
)
from services.models import (
    Case,
    CaseEvent,
    JobReferral,
    LegalAidCase,
    TrainingAttendee,
    TrainingCourse,
    Window,
)


class ReadOnlyAdmin(
    ReadOnlyAdminMixin, ScopedHistoryAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin
):
    show_full_result_count = False


@admin.register(Window)
class WindowAdmin(NationalTableMixin, ScopedHistoryAdminMixin, SimpleHistoryAdmin):
    list_display = ["code", "name", "sort_order", "is_active", "case_count"]
    list_editable = ["name", "sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        # Windows are shared; their cases are not: each reader counts those they may see.
        cases = (
            Case.objects.visible_to(request.user)
            .filter(window=OuterRef("pk"))
            .order_by()
            .values("window")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(case_count=Coalesce(Subquery(cases), 0))

    @admin.display(description=_("案件数"), ordering="case_count")
    def case_count(self, obj):
        return obj.case_count

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []  # reports group by the code: it never changes

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        # A window with cases is retired (启用 off), never deleted: its history stays.
        if obj is not None and obj.cases.exists():
            return False
        return super().has_delete_permission(request, obj)


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(MaskedPhoneAdminMixin, ReadOnlyAdmin):
    list_display = [
        "received_at",
        "worker_name",
        "worker_id_masked",
        "window",
        "channel",
        "status",
        "handler",
        "follow_up_on",
        "organisation",
    ]
    list_filter = ["status", "channel", "window", "organisation__level"]
    search_fields = ["worker_name", "worker_phone", "matter", "organisation__name"]
    list_select_related = ["window", "handler", "organisation"]
    search_help_text = _(
        "按姓名、电话、事由或组织查询；输入完整的身份证号码（18位或15位旧号码）可精确查找。"
    )
    masked_search_help_text = _(
        "按姓名、事由或组织查询；输入完整的身份证号码（18位或15位旧号码）可精确查找。"
    )
    date_hierarchy = "received_at"
    exclude = ["worker_id_number", "worker_id_hash"]
    inlines = [CaseEventInline]

    def search_id_hash(self, request, queryset, key):  # an ID number typed in the search box
        return queryset.filter(worker_id_hash=key)


@admin.register(LegalAidCase)
class LegalAidCaseAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "dispute_type",
        "employer",
        "wages_recovered",
        "is_migrant_worker",
        "lawyer",
    ]
    list_filter = ["dispute_type", "is_migrant_worker"]
    search_fields = ["case__worker_name", "employer", "lawyer"]
    list_select_related = ["case"]

    def search_id_hash(self, request, queryset, key):
        return queryset.filter(case__worker_id_hash=key)


@admin.register(JobReferral)
class JobReferralAdmin(MaskedPhoneAdminMixin, ReadOnlyAdmin):
    list_display = ["referred_on", "worker_name", "employer", "position", "result", "organisation"]
    list_filter = ["result", "organisation__level"]
    search_fields = ["worker_name", "worker_phone", "employer", "position"]
    list_select_related = ["organisation"]
    date_hierarchy = "referred_on"
    exclude = ["worker_id_number", "worker_id_hash"]

    def search_id_hash(self, request, queryset, key):
        return queryset.filter(worker_id_hash=key)


class TrainingAttendeeInline(MaskedPhoneAdminMixin, admin.TabularInline):
    model = TrainingAttendee
    fields = [
        "worker_name",
        "worker_phone",
        "worker_id_masked",
        "certificate_obtained",
        "certificate_name",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Each row is titled by its str(), which names the course.
        return super().get_queryset(request).select_related("course")


@admin.register(TrainingCourse)
class TrainingCourseAdmin(ReadOnlyAdmin):
    list_display = ["name", "starts_on", "ends_on", "organisation", "attendee_count"]
    search_fields = ["name"]
    list_select_related = ["organisation"]
    date_hierarchy = "starts_on"
    inlines = [TrainingAttendeeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(attendee_count=Count("attendees"))

    @admin.display(description=_("学员数"), ordering="attendee_count")
    def attendee_count(self, obj):
        return obj.attendee_count
