"""A job's errors as its page lists them and as a workbook to work through beside the upload.

The messages are stored masked (imports.cells.shown) and in the uploader's language; both the
page and the workbook give them as stored, in the stored order (sheet, then row)."""

from io import BytesIO
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from imports.base import ImportReport, RowError
from orgs.spreadsheets import neutralise

# The page lists this many errors; the rest are in the download (20,000 errors, all stored
# with the job, made a job page of 3 MB).
ERRORS_SHOWN = 200

# 工作表, 行, 列, 错误: the widths of the columns, in characters
WIDTHS = (14, 8, 18, 90)


def report_part(job, data: dict, *, download_url: str = "") -> dict:
    """One stored report (the check's or the write's) as `imports/_report.html` shows it:
    the counts, the first ERRORS_SHOWN errors and how many more there are, and where the whole
    list downloads ("" for a reader the job's page does not open for)."""
    report = ImportReport.from_dict(data)
    errors = report.errors
    return {
        "report": report,
        "errors": errors,
        "errors_shown": errors[:ERRORS_SHOWN],
        "errors_more": max(0, len(errors) - ERRORS_SHOWN),
        "errors_url": download_url if errors else "",
        "language_note": job.language_note() if errors else "",
    }


def listed_errors(job) -> list[RowError]:
    """The errors the job's page lists: its write's when it ran, else its check's."""
    data = job.result or job.preview
    return ImportReport.from_dict(data).errors if data else []


def errors_workbook(errors: list[RowError]) -> bytes:
    """One row per error under a frozen header row in the reader's language; every text cell
    neutralised against formula injection (a message quotes the cell it is about)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("错误清单"))
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCD", WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for title in (_("工作表"), _("行"), _("列"), _("错误")):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    wrap = Alignment(wrap_text=True, vertical="top")
    for error in errors:
        message = WriteOnlyCell(sheet, value=neutralise(error.message))
        message.alignment = wrap
        sheet.append([neutralise(error.sheet), error.row, neutralise(error.column), message])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def errors_file_name(job) -> str:
    """错误清单-<job number>-<the upload's name>.xlsx (the name is stored masked)."""
    stem = Path(job.original_name).stem if job.original_name else job.kind
    return f"{_('错误清单')}-{job.pk}-{stem}.xlsx"
