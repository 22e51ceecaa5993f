"""Import and export jobs in the admin: a read-only list scoped to the user's subtree. Uploads,
previews and confirmations happen on the staff pages (the same flow for everyone); the list
links there, and so does the household list of the admin."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from imports.models import ImportJob
from orgs.scoping import ReadOnlyAdminMixin, ScopedAdminMixin


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/imports/importjob/change_list.html"
    list_display = [
        "created_at",
        "operation",
        "kind",
        "original_name",
        "organisation",
        "created_by",
        "state",
        "job_page",
    ]
    list_filter = ["operation", "kind", "state"]
    list_select_related = ["organisation", "created_by"]
    search_fields = ["original_name", "created_by__username"]
    show_full_result_count = False
    exclude = ["token", "file"]

    @admin.display(description=_("检查与确认"))
    def job_page(self, obj):
        # The staff page of the job (preview, confirm, result) opens for its uploader.
        return format_html('<a href="{}">{}</a>', reverse("imports:job", args=[obj.pk]), _("打开"))
