"""Staff pages of imports and exports: templates, upload, progress and preview, confirmation,
result, export and download. Thin: the services start jobs, the jobs do the work."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from imports import registry, services
from imports.errors import errors_file_name, errors_workbook, listed_errors, report_part
from imports.forms import ExportForm, UploadForm
from imports.models import ImportJob
from imports.runner import summary_lines
from imports.tasks import is_stalled, live_progress
from orgs.audit import log_access
from orgs.models import AccessLog

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def allowed_kinds(user) -> dict[str, dict]:
    """kind -> {"import": bool, "export": bool} for the kinds this user may touch."""
    kinds = {}
    for code, kind in registry.KINDS.items():
        may_import = user.has_perm(kind.import_permission)
        may_export = user.has_perm(kind.export_permission) and registry.exporter(code) is not None
        if may_import or may_export:
            kinds[code] = {"kind": kind, "import": may_import, "export": may_export}
    return kinds


def jobs_of(user):
    """The jobs the user opens here: their own (ImportJobQuerySet); anybody else's answer 404."""
    return ImportJob.objects.openable_by(user).select_related("created_by", "restarted_by")


def _kind(code: str):
    if code not in registry.KINDS:
        raise Http404
    return registry.kind(code)


class ImportsIndexView(TemplateView):
    template_name = "imports/index.html"

    def dispatch(self, request, *args, **kwargs):
        if not allowed_kinds(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            kinds=allowed_kinds(user),
            jobs=jobs_of(user)[:30],
            upload_form=UploadForm(),
            export_form=ExportForm(),
            may_see_full=user.has_perm("households.view_full_identifiers"),
            **kwargs,
        )


class TemplateDownloadView(View):
    def get(self, request, kind):
        if not request.user.has_perm(_kind(kind).import_permission):
            raise PermissionDenied
        response = HttpResponse(registry.template(kind), content_type=XLSX)
        name = f"{kind}-template.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class UploadView(TemplateView):
    template_name = "imports/upload.html"

    def dispatch(self, request, *args, **kwargs):
        self.kind = _kind(kwargs["kind"])
        if not request.user.has_perm(self.kind.import_permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", UploadForm())
        kwargs["kind"] = self.kind
        return super().get_context_data(**kwargs)

    def post(self, request, kind):
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.job_upload(
                    user=request.user, kind=kind, upload=form.cleaned_data["file"]
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("file", message)
            else:
                # No message: the job page's status card says what is happening, and a banner
                # would still say "being checked" next to the result.
                return redirect("imports:job", job.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


def job_context(job: ImportJob) -> dict:
    done, total = live_progress(job) if job.is_running else (job.done, job.total)
    context = {"job": job, "done": done, "total": total, "stalled": is_stalled(job)}
    errors_url = reverse("imports:errors", args=[job.pk])
    for name in ("preview", "result"):
        data = getattr(job, name)
        if data:
            context[name] = part = report_part(job, data, download_url=errors_url)
            part["lines"] = summary_lines(part["report"])
    return context


class JobDetailView(TemplateView):
    template_name = "imports/job_detail.html"

    def get_context_data(self, **kwargs):
        job = get_object_or_404(jobs_of(self.request.user), pk=kwargs["pk"])
        may_download = job.downloadable_by(self.request.user)
        return super().get_context_data(**job_context(job), may_download=may_download)


class JobStatusView(JobDetailView):
    """The part of the job page that htmx polls while the job runs."""

    template_name = "imports/_job_status.html"


class JobErrorsView(View):
    """The errors the job's page lists, as a workbook: for the uploader, and for a colleague
    who sees the job in the admin and may have the list (ImportJob.errors_downloadable_by);
    another subtree's job, or another kind's, answers 404. Every download is in the access
    log."""

    def get(self, request, pk):
        job = get_object_or_404(ImportJob.objects.visible_to(request.user), pk=pk)
        if not job.errors_downloadable_by(request.user):
            raise PermissionDenied
        errors = listed_errors(job)
        if not errors:
            raise Http404
        log_access(
            request,
            action=AccessLog.Action.EXPORT,
            obj=job,
            organisation=job.organisation,
            detail=f"{_('错误清单')} {job}",
        )
        response = HttpResponse(errors_workbook(errors), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=errors_file_name(job)
        )
        return response


class JobStepView(View):
    """A button on the job page: the service moves the job on or says why not; back to the
    page either way (its status card tells what happens next)."""

    step = None  # a service: job_confirm, job_restart

    def post(self, request, pk):
        job = get_object_or_404(jobs_of(request.user), pk=pk)
        try:
            self.step(user=request.user, job=job)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("imports:job", pk)


class JobConfirmView(JobStepView):
    step = staticmethod(services.job_confirm)


class JobRestartView(JobStepView):
    step = staticmethod(services.job_restart)


class ExportView(View):
    def post(self, request, kind):
        if not request.user.has_perm(_kind(kind).export_permission):
            raise PermissionDenied
        form = ExportForm(request.POST)
        # Full numbers only where the workbook has any (the funds workbook has none).
        full = _kind(kind).personal_numbers and form.is_valid() and form.cleaned_data["full"]
        try:
            job = services.export_start(user=request.user, kind=kind, full=full)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("imports:index")
        return redirect("imports:job", job.pk)


class JobDownloadView(View):
    """The file an export job wrote; every download is written to the access log."""

    def get(self, request, pk):
        job = get_object_or_404(jobs_of(request.user), pk=pk, operation=ImportJob.Operation.EXPORT)
        if job.state != ImportJob.State.DONE or not job.file:
            raise Http404
        if not job.downloadable_by(request.user):
            raise PermissionDenied
        log_access(
            request,
            action=AccessLog.Action.EXPORT,
            obj=job,
            organisation=job.organisation,
            detail=_("导出%(kind)s（%(how)s）")
            % {
                "kind": job.get_kind_display(),
                "how": _("完整号码") if job.full_identifiers else _("号码已遮蔽"),
            },
        )
        name = f"{job.kind}-{timezone.localdate():%Y%m%d}.xlsx"
        return FileResponse(
            job.file.open("rb"), as_attachment=True, filename=name, content_type=XLSX
        )


def job_url(job: ImportJob) -> str:
    return reverse("imports:job", args=[job.pk])
