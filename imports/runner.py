"""The one path every import takes (staff pages, the admin, background jobs and commands):
read and check the workbook, then let the kind's importer validate and, unless it is a dry
run and only when everything is valid, write."""

from django.utils.translation import gettext as _

from imports import registry
from imports.base import ImportReport, Progress, RowError, error_rows
from imports.workbook import WorkbookRefused, open_workbook


def run_import(
    kind: str, path, *, user, dry_run: bool, progress: Progress | None = None
) -> ImportReport:
    if not user.has_perm(registry.kind(kind).import_permission):
        message = _("您没有导入此类数据的权限。")
        return ImportReport(kind=kind, dry_run=dry_run, errors=[RowError("", None, "", message)])
    importer = registry.importer(kind)
    try:
        book = open_workbook(path, importer.sheets, getattr(importer, "optional_sheets", ()))
    except WorkbookRefused as refused:
        return ImportReport(kind=kind, dry_run=dry_run, errors=refused.errors)
    total = book.total_rows

    def tick(done: int, _total: int) -> None:
        # `done` counts rows of the workbook: an importer that goes over each row twice (checked,
        # then written) reports half its steps, so the total is reached only once written.
        if progress is not None:
            progress(min(done, total), total)

    known = book.cell_errors
    try:
        # With cell errors the importer writes nothing (its contract) and counts the rest.
        report = importer.run(
            book.all_rows(),
            user=user,
            dry_run=dry_run,
            progress=tick,
            known_errors=known,
            exported_at=book.exported_at(),
        )
    except WorkbookRefused as refused:  # a sheet that could not be parsed after all
        return ImportReport(kind=kind, dry_run=dry_run, errors=refused.errors)
    report.dry_run = dry_run
    if known:
        report.errors = _merged(known, report.errors, list(importer.sheets))
    for name, counts in report.sheets.items():
        counts.invalid = len(error_rows(report.errors, name))
    if book.rows_read == 0 and not report.errors:
        report.errors.append(
            RowError(
                sheet="", row=None, column="", message=_("工作簿中没有数据行，没有可导入的内容。")
            )
        )
    if progress is not None:
        progress(total, total)
    return report


def _merged(known: list[RowError], found: list[RowError], sheets: list[str]) -> list[RowError]:
    """The workbook's cell errors and the importer's, in sheet and row order; an importer's
    error on a cell already reported (the cached value of a formula, say) is left out."""
    cells = {(error.sheet, error.row, error.column) for error in known}
    errors = known + [e for e in found if (e.sheet, e.row, e.column) not in cells]

    def order(error: RowError):
        return (sheets.index(error.sheet) if error.sheet in sheets else -1, error.row or 0)

    return sorted(errors, key=order)


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
        line %= values
        if counts.invalid:
            line += _("，有错误 %(invalid)d 行") % {"invalid": counts.invalid}
        lines.append(line)
    return lines
