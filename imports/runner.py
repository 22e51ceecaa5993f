"""The one path every import takes (staff pages, the admin, background jobs and commands):
read and check the workbook, then let the kind's importer validate and, unless it is a dry
run and only when everything is valid, write."""

from django.utils.translation import gettext as _

from imports import registry
from imports.base import ImportReport, Progress, RowError
from imports.workbook import WorkbookRefused, open_workbook


def run_import(
    kind: str, path, *, user, dry_run: bool, progress: Progress | None = None
) -> ImportReport:
    if not user.has_perm(registry.kind(kind).import_permission):
        message = _("您没有导入此类数据的权限。")
        return ImportReport(kind=kind, dry_run=dry_run, errors=[RowError("", None, "", message)])
    importer = registry.importer(kind)
    try:
        book = open_workbook(path, importer.sheets)
    except WorkbookRefused as refused:
        return ImportReport(kind=kind, dry_run=dry_run, errors=refused.errors)
    total = book.total_rows

    def tick(done: int, _total: int) -> None:
        # `done` counts rows of the workbook: an importer that goes over each row twice (checked,
        # then written) reports half its steps, so the total is reached only once written.
        if progress is not None:
            progress(min(done, total), total)

    try:
        report = importer.run(book.all_rows(), user=user, dry_run=dry_run, progress=tick)
    except WorkbookRefused as refused:  # a sheet that could not be parsed after all
        return ImportReport(kind=kind, dry_run=dry_run, errors=refused.errors)
    if book.rows_read == 0 and not report.errors:
        report.errors.append(
            RowError(
                sheet="", row=None, column="", message=_("工作簿中没有数据行，没有可导入的内容。")
            )
        )
    if progress is not None:
        progress(total, total)
    return report


def summary_lines(report: ImportReport) -> list[str]:
    """What a command prints and a job page shows above the errors: one line per sheet."""
    lines = []
    for name, counts in report.sheets.items():
        values = {
            "sheet": name,
            "created": counts.created,
            "updated": counts.updated,
            "skipped": counts.skipped,
            "removed": counts.removed,
        }
        if counts.removed:
            line = _(
                "%(sheet)s：新增 %(created)d，更新 %(updated)d，无变化跳过 %(skipped)d，"
                "删除 %(removed)d"
            )
        else:
            line = _("%(sheet)s：新增 %(created)d，更新 %(updated)d，无变化跳过 %(skipped)d")
        lines.append(line % values)
    return lines
