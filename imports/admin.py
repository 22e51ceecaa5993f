"""Import and export jobs in the admin: a read-only list of the jobs of the user's subtree in
the kinds the user may import or export (ImportJobQuerySet.visible_to). Uploads, previews and
confirmations happen on the staff pages (the same flow for everyone), which open a job for its
uploader only: the list links there for the user's own jobs, and shows anybody else's check and
result here, read-only, with the whole error list to download for a colleague who may export the
job's kind; a stalled job of someone away is run again here by a colleague who may
(services.job_restart). The household list of the admin links to the staff pages too."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from imports import services
from imports.errors import report_part
from imports.models import ImportJob
from orgs.scoping import ReadOnlyAdminMixin, ScopedAdminMixin
from orgs.text import colon


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
        "restart",
        "job_page",
    ]
    list_filter = ["operation", "kind", "state"]
    list_select_related = ["organisation", "created_by", "restarted_by"]
    search_fields = ["original_name", "created_by__username"]
    show_full_result_count = False
    fields = [
        "operation",
        "kind",
        "original_name",
        "organisation",
        "created_by",
        "created_at",
        "state",
        "done",
        "total",
        "full_identifiers",
        "checked_at",
        "confirmed_by",
        "confirmed_at",
        "finished_at",
        "restarted_by",
        "restarted_at",
        "failure",
        "preview_report",
        "result_report",
    ]
    readonly_fields = ["preview_report", "result_report"]
    actions = ["restart_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_opens(request.user)

    def get_object(self, request, object_id, from_field=None):
        job = super().get_object(request, object_id, from_field)
        if job is not None:  # for _report: whether this reader gets the whole error list
            job.errors_download = job.errors_downloadable_by(request.user)
        return job

    @admin.display(description=_("重新运行"), ordering="restarted_at")
    def restart(self, obj):
        if obj.restarted_at is None:
            return ""
        return f"{timezone.localtime(obj.restarted_at):%Y-%m-%d %H:%M} {obj.restarted_by}"

    @admin.action(description=_("重新运行所选的中断任务"))
    def restart_selected(self, request, queryset):
        """A stalled job of someone away is run again by a colleague or a superuser here (the
        staff page opens for its uploader only); the service says who may."""
        done = 0
        for job in queryset.order_by("id"):
            try:
                services.job_restart(user=request.user, job=job)
            except (ValidationError, PermissionDenied) as error:
                text = " ".join(getattr(error, "messages", [str(error)]))
                self.message_user(request, f"{job}{colon()}{text}", messages.ERROR)
            else:
                done += 1
        if done:
            text = ngettext("已重新运行 %(n)d 个任务。", "已重新运行 %(n)d 个任务。", done)
            self.message_user(request, text % {"n": done}, messages.SUCCESS)

    @admin.display(description=_("检查与确认"))
    def job_page(self, obj):
        # The staff page (preview, confirm, result, download) opens for the job's uploader only;
        # anybody else reads the job's check and result on its page here.
        if obj.opens:
            url, label = reverse("imports:job", args=[obj.pk]), _("打开")
        else:
            url, label = reverse("admin:imports_importjob_change", args=[obj.pk]), _("查看结果")
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("检查结果"))
    def preview_report(self, obj):
        return self._report(obj, obj.preview)

    @admin.display(description=_("导入结果"))
    def result_report(self, obj):
        return self._report(obj, obj.result)

    def _report(self, job, data):
        """A stored report as the job page shows it: counts per sheet, then the errors (the
        whole list downloads for whom its view lets have it, ImportJob.errors_downloadable_by,
        which the view checks again)."""
        if not data:
            return "-"
        may = getattr(job, "errors_download", False)
        url = reverse("imports:errors", args=[job.pk]) if may else ""
        return render_to_string(
            "imports/_report.html", {"part": report_part(job, data, download_url=url)}
        )
