"""The background side of imports and exports (django-tasks; the database backend's
`db_worker` runs them). The page only stores the upload and queues `run_job`; the job reads
its stage from the row, so a retry or a second worker cannot run a stage twice."""

import json
import logging
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django_tasks import task

from imports import registry
from imports.models import ImportJob
from imports.runner import run_import
from orgs.pii import FULL_NUMBERS, mask_numbers

logger = logging.getLogger(__name__)
S = ImportJob.State


def progress_path(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / "progress" / f"{job_id}.json"


class ProgressFile:
    """Live progress, written beside the job rather than on its row: the write phase runs in
    one transaction, whose updates no other connection could see until it ends."""

    def __init__(self, job_id: int, every: float = 0.5):
        self.path = progress_path(job_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.every = every
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"done": done, "total": total}))
        os.replace(temporary, self.path)


def last_sign_of_life(job: ImportJob):
    """When the worker running `job` last reported progress (claiming it counts), or None."""
    try:
        return datetime.fromtimestamp(progress_path(job.pk).stat().st_mtime, tz=UTC)
    except OSError:
        return None


def is_stalled(job: ImportJob) -> bool:
    """A job a worker took and then stopped reporting on for IMPORT_STALL_MINUTES: the worker
    was most likely killed (a restart, out of memory). The write ran in one transaction, which
    the database rolled back when the connection went, so running it again is safe."""
    if job.state not in (S.CHECKING, S.WRITING, S.EXPORTING):
        return False
    seen = last_sign_of_life(job) or job.confirmed_at or job.created_at
    return timezone.now() - seen > timedelta(minutes=settings.IMPORT_STALL_MINUTES)


def live_progress(job: ImportJob) -> tuple[int, int]:
    try:
        data = json.loads(progress_path(job.pk).read_text())
        return int(data["done"]), int(data["total"])
    except (OSError, ValueError, KeyError):
        return job.done, job.total


def _claim(job_id: int, ready, running) -> ImportJob | None:
    """Move the job from `ready` to `running`; None when another worker has it already."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("created_by").get(pk=job_id)
        if job.state != ready:
            return None
        job.state = running
        job.save(update_fields=["state"])
    ProgressFile(job_id)(job.done, job.total)  # the first sign of life (is_stalled)
    return job


@task()
def run_job(job_id: int) -> str:
    job = ImportJob.objects.get(pk=job_id)
    try:
        if job.operation == ImportJob.Operation.EXPORT:
            return _export(job_id)
        if job.state == S.QUEUED:
            return _check(job_id)
        if job.state == S.CONFIRMED:
            return _write(job_id)
        return job.state
    except Exception as exc:  # the job page says it failed; the log has the traceback
        logger.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            # shown in the admin to readers who see numbers masked, as the cell errors are
            state=S.FAILED,
            failure=mask_numbers(str(exc))[:2000],
            finished_at=timezone.now(),
        )
        return S.FAILED


def _local_copy(job: ImportJob) -> str:
    """The stored upload as a local path for the reader (the storage may not be a disk)."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    with os.fdopen(handle, "wb") as out, job.file.open("rb") as source:
        for chunk in source.chunks():
            out.write(chunk)
    return path


def _run(job: ImportJob, *, dry_run: bool):
    path = _local_copy(job)
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            return run_import(
                job.kind, path, user=job.created_by, dry_run=dry_run, progress=ProgressFile(job.pk)
            )
    finally:
        os.unlink(path)


def _finish(job_id: int, **fields) -> None:
    done, total = live_progress(ImportJob.objects.get(pk=job_id))
    ImportJob.objects.filter(pk=job_id).update(done=done, total=total, **fields)
    progress_path(job_id).unlink(missing_ok=True)


def _check(job_id: int) -> str:
    job = _claim(job_id, S.QUEUED, S.CHECKING)
    if job is None:
        return "skipped"
    report = _run(job, dry_run=True)
    state = S.CHECKED if report.ok else S.REJECTED
    _finish(job_id, state=state, preview=report.as_dict(), checked_at=timezone.now())
    return state


def _write(job_id: int) -> str:
    job = _claim(job_id, S.CONFIRMED, S.WRITING)
    if job is None:
        return "skipped"
    report = _run(job, dry_run=False)
    state = S.DONE if report.ok else S.REJECTED
    _finish(job_id, state=state, result=report.as_dict(), finished_at=timezone.now())
    return state


def _export(job_id: int) -> str:
    job = _claim(job_id, S.QUEUED, S.EXPORTING)
    if job is None:
        return "skipped"
    export = registry.exporter(job.kind)
    # Full numbers as the requester's role stands when the job runs (the exporter masks them
    # otherwise): the job then says what its workbook holds, for the download and its log.
    job.full_identifiers = job.full_identifiers and job.created_by.has_perm(FULL_NUMBERS)
    data = export(user=job.created_by, full=job.full_identifiers, progress=ProgressFile(job.pk))
    job.file.save(job_path_name(job), ContentFile(data), save=False)
    job.save(update_fields=["file", "full_identifiers"])
    _finish(job_id, state=S.DONE, finished_at=timezone.now())
    return S.DONE


def job_path_name(job: ImportJob) -> str:
    return f"{job.kind}.xlsx"
