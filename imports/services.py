"""Starting and confirming import and export jobs. The page stores the upload and queues the
job; the checks and the write run in the background (imports/tasks.py)."""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from imports import registry
from imports.models import ImportJob
from imports.workbook import DEFAULT_MAX_UPLOAD_BYTES, limit, sniff
from orgs.pii import mask_numbers


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    if user.organisation_id is None and not user.is_superuser:
        raise PermissionDenied(_("您的账号没有所属组织，不能导入或导出。"))


def _organisation(user):
    if user.organisation_id is not None:
        return user.organisation
    from orgs.models import Organisation

    return Organisation.objects.filter(parent=None).order_by("path").first()


def _enqueue(job: ImportJob) -> None:
    from imports.tasks import run_job

    run_job.enqueue(job.pk)


def job_upload(*, user, kind: str, upload) -> ImportJob:
    """Store an uploaded workbook and queue its dry run. Only what needs no parsing is checked
    here (size, and that it is a zip at all); the job checks the rest."""
    _require(user, registry.kind(kind).import_permission)
    maximum = limit("IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)
    if upload.size > maximum:
        raise ValidationError(
            {
                "file": _("文件太大，最大 %(max)d MB。请分成几个文件导入。")
                % {"max": maximum // 2**20}
            }
        )
    head = upload.read(2048)
    upload.seek(0)
    problem = sniff(head)
    if problem:
        raise ValidationError({"file": problem})
    job = ImportJob(
        organisation=_organisation(user),
        created_by=user,
        kind=kind,
        operation=ImportJob.Operation.IMPORT,
        token=secrets.token_hex(16),
        # Shown on the job pages and the admin: a workbook may be named after a worker's ID,
        # bank or phone number, masked as a document's name is (households.services).
        original_name=mask_numbers((upload.name or "")[:200]),
        language=translation.get_language() or "",
    )
    job.file.save("upload.xlsx", upload, save=False)
    job.save()
    _enqueue(job)
    return job


def job_confirm(*, user, job: ImportJob) -> ImportJob:
    """Queue the write of a checked workbook without errors; only its uploader confirms."""
    _require(user, registry.kind(job.kind).import_permission)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.created_by_id != user.pk:
            raise PermissionDenied(_("只能确认自己上传的文件。"))
        if job.state != ImportJob.State.CHECKED:
            raise ValidationError(
                _("该文件当前不能确认导入（%(state)s）。") % {"state": job.get_state_display()}
            )
        job.state = ImportJob.State.CONFIRMED
        job.confirmed_by = user
        job.confirmed_at = timezone.now()
        job.done = 0
        job.save(update_fields=["state", "confirmed_by", "confirmed_at", "done"])
    _enqueue(job)
    job.refresh_from_db()
    return job


def export_start(*, user, kind: str, full: bool) -> ImportJob:
    """Queue an export of the user's subtree; full numbers only for roles that may see them."""
    _require(user, registry.kind(kind).export_permission)
    if registry.exporter(kind) is None:
        raise ValidationError(_("暂不支持导出该类数据。"))
    job = ImportJob.objects.create(
        organisation=_organisation(user),
        created_by=user,
        kind=kind,
        operation=ImportJob.Operation.EXPORT,
        token=secrets.token_hex(16),
        full_identifiers=full and user.has_perm("households.view_full_identifiers"),
    )
    _enqueue(job)
    job.refresh_from_db()
    return job


def job_restart(*, user, job: ImportJob) -> ImportJob:
    """Run a stalled job again (imports.tasks.is_stalled): a check from the start, a confirmed
    write as confirmed, an export anew. Whoever sees the job (its organisation's subtree, its
    kind: ImportJobQuerySet.visible_to) and holds the right of its operation on its kind may, so
    a colleague or a superuser runs the job of someone away; it still runs as its uploader
    confirmed it. The job records who ran it again and when."""
    from imports.tasks import is_stalled

    kind = registry.kind(job.kind)
    exports = job.operation == ImportJob.Operation.EXPORT
    _require(user, kind.export_permission if exports else kind.import_permission)
    if not ImportJob.objects.visible_to(user).filter(pk=job.pk).exists():
        raise PermissionDenied(_("只能重新运行本组织及下级组织的任务。"))
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not is_stalled(job):
            raise ValidationError(_("该任务没有中断，不能重新运行。"))
        S = ImportJob.State
        job.state = S.CONFIRMED if job.state == S.WRITING else S.QUEUED
        job.done = 0
        job.restarted_by = user
        job.restarted_at = timezone.now()
        job.save(update_fields=["state", "done", "restarted_by", "restarted_at"])
    _enqueue(job)
    job.refresh_from_db()
    return job
