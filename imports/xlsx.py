"""Writing the workbooks the importers read: blank templates and exports in the same layout.

A `WorkbookSpec` lists the data sheets and their columns (exact Chinese headers, help text,
kind, allowed values). `template_workbook` writes an empty workbook a clerk fills in;
`export_workbook` streams records into the same layout (openpyxl write-only mode, so a large
export never holds its rows in memory), so an export can be edited and imported again.

Every sheet gets a bold, frozen header row, column number formats (dates as dates, money as
numbers in 元) and data validation: a drop-down list on columns with fixed values (the values
on a hidden sheet when the list is long or holds commas), whole numbers in the column's range,
amounts above zero (or from zero, where the importer takes 0) and dates elsewhere, so Excel
and WPS refuse what the importer refuses and nothing it accepts. A sheet `说明` lists every
column with its meaning and allowed values.

Text is neutralised against formula injection (orgs.spreadsheets.neutralise); imports.cells.text
takes the added quote off again, so an export re-imports unchanged."""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from orgs.spreadsheets import neutralise
from orgs.text import listing

TEXT, MONEY, DATE, INT, CHOICE, YES_NO = "text", "money", "date", "int", "choice", "yes_no"
KINDS = (TEXT, MONEY, DATE, INT, CHOICE, YES_NO)

MONEY_FORMAT = '#,##0.00"元"'
DATE_FORMAT = "yyyy-mm-dd"
# The first date a template's validation takes; the importers refuse an earlier one alike, and
# funds.services.FIRST_YEAR (the first year of money on record) is its year.
FIRST_DATE = dt.date(1990, 1, 1)
INT_FORMAT = "0"
TEXT_FORMAT = "@"  # digits typed into a text column (phones, ID numbers) stay text
LAST_ROW = 1048576
INSTRUCTIONS = "说明"  # sheet names are data, not UI: the importer finds sheets by these names
# The instructions sheet of an export has a row (this label, the moment as ISO 8601): an import
# of the workbook then knows which files were changed in the system after it was taken.
EXPORTED_AT = "导出时间"
LISTS = "选项"
# Excel refuses an inline list longer than 255 characters.
INLINE_LIST_LIMIT = 250
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
YES_NO_LABELS = ("是", "否")


@dataclass(frozen=True)
class Column:
    header: str  # exact Chinese header, what the importer checks
    help: str = ""  # meaning and rules, shown on the instructions sheet
    kind: str = TEXT
    choices: Sequence[str] = ()  # allowed values (labels) of a CHOICE column
    required: bool = False
    width: int | None = None
    # What the importer accepts, for the template's data validation: an amount of 0 (MONEY;
    # else above zero), the smallest and largest whole number (INT).
    allow_zero: bool = False
    minimum: int | None = None
    maximum: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")
        if self.kind == CHOICE and not self.choices:
            raise ValueError(f"choice column {self.header!r} lists no values")
        if self.allow_zero and self.kind != MONEY:
            raise ValueError(f"column {self.header!r}: allow_zero is for money columns")
        if (self.minimum is not None or self.maximum is not None) and self.kind != INT:
            raise ValueError(f"column {self.header!r}: a range is for whole-number columns")

    @property
    def allowed(self) -> tuple[str, ...]:
        if self.kind == YES_NO:
            return YES_NO_LABELS
        return tuple(self.choices)


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: Sequence[Column]
    help: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(column.header for column in self.columns)


@dataclass(frozen=True)
class WorkbookSpec:
    title: str  # first line of the instructions sheet
    sheets: Sequence[SheetSpec]
    notes: Sequence[str] = field(default_factory=tuple)  # general rules, one line each

    def sheet(self, name: str) -> SheetSpec:
        return next(sheet for sheet in self.sheets if sheet.name == name)


def _int_range(column: Column) -> str:
    """The whole-number range of an INT column in words, "" when it has none."""
    low, high = column.minimum, column.maximum
    if low is not None and high is not None:
        return _("%(low)d至%(high)d") % {"low": low, "high": high}
    if low is not None:
        return _("不小于%(low)d") % {"low": low}
    if high is not None:
        return _("不大于%(high)d") % {"high": high}
    return ""


def _kind_label(column: Column) -> str:
    if column.kind == MONEY and column.allow_zero:
        return _("金额（元，可为0，最多两位小数）")
    if column.kind == INT and _int_range(column):
        return _("整数（%(range)s）") % {"range": _int_range(column)}
    return {
        TEXT: _("文字"),
        MONEY: _("金额（元，大于零，最多两位小数）"),
        DATE: _("日期（如 2019-03-31）"),
        INT: _("整数"),
        CHOICE: _("从下拉列表选择"),
        YES_NO: _("是/否"),
    }[column.kind]


def _width(column: Column) -> int:
    if column.width:
        return column.width
    base = {MONEY: 14, DATE: 12, INT: 8}.get(column.kind, 16)
    longest = max([len(column.header), *(len(value) for value in column.allowed)])
    return max(base, min(40, 2 * longest + 2))


class _Lists:
    """Long lists go to one hidden sheet, a column each, and are referenced by range."""

    def __init__(self):
        self.columns: list[tuple[str, Sequence[str]]] = []

    def formula(self, column: Column) -> str:
        values = column.allowed
        inline = ",".join(values)
        if len(inline) <= INLINE_LIST_LIMIT and not any(
            "," in value or '"' in value for value in values
        ):
            return f'"{inline}"'
        self.columns.append((column.header, values))
        letter = get_column_letter(len(self.columns))
        return f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${len(values) + 1}"


def _validation(column: Column, lists: _Lists) -> DataValidation | None:
    error_title = _("输入有误")
    if column.kind in (CHOICE, YES_NO):
        dv = DataValidation(
            type="list",
            formula1=lists.formula(column),
            allow_blank=True,
            error=_("请从下拉列表中选择。"),
        )
    elif column.kind == MONEY:
        dv = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual" if column.allow_zero else "greaterThan",
            formula1="0",
            allow_blank=True,
            error=_("请填写不小于零的金额（元），最多两位小数。")
            if column.allow_zero
            else _("请填写大于零的金额（元），最多两位小数。"),
        )
    elif column.kind == DATE:
        dv = DataValidation(
            type="date",
            operator="between",
            formula1=f"DATE({FIRST_DATE.year},{FIRST_DATE.month},{FIRST_DATE.day})",
            formula2="DATE(2100,12,31)",
            allow_blank=True,
            error=_("请填写日期，如 2019-03-31。"),
        )
    elif column.kind == INT:
        words = _int_range(column)
        error = _("请填写%(range)s的整数。") % {"range": words} if words else _("请填写整数。")
        dv = DataValidation(type="whole", allow_blank=True, error=error)
        if column.minimum is not None and column.maximum is not None:
            dv.operator, dv.formula1 = "between", str(column.minimum)
            dv.formula2 = str(column.maximum)
        elif column.minimum is not None:
            dv.operator, dv.formula1 = "greaterThanOrEqual", str(column.minimum)
        elif column.maximum is not None:
            dv.operator, dv.formula1 = "lessThanOrEqual", str(column.maximum)
        else:
            dv.operator, dv.formula1, dv.formula2 = "between", "-2147483647", "2147483647"
    else:
        return None
    dv.errorTitle = error_title
    dv.showErrorMessage = True
    return dv


def _number_format(column: Column) -> str | None:
    return {MONEY: MONEY_FORMAT, DATE: DATE_FORMAT, INT: INT_FORMAT, TEXT: TEXT_FORMAT}.get(
        column.kind
    )


def _start_sheet(wb: Workbook, spec: SheetSpec, lists: _Lists):
    """A write-only data sheet with widths, formats, validations and the header row; the
    columns' settings must be made before the first row is written."""
    ws = wb.create_sheet(spec.name)
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = _width(column)
        number_format = _number_format(column)
        if number_format:
            ws.column_dimensions[letter].number_format = number_format
        dv = _validation(column, lists)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
            ws.data_validations.append(dv)
    ws.freeze_panes = "A2"
    header = []
    for column in spec.columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        header.append(cell)
    ws.append(header)
    return ws


def _cell(ws, column: Column, value):
    """One data cell: money as an exact number in 元, dates as dates, text neutralised."""
    if value is None or value == "":
        return None
    if column.kind == MONEY:
        cell = WriteOnlyCell(ws, value=Decimal(value))
        cell.number_format = MONEY_FORMAT
        return cell
    if column.kind == DATE:
        if isinstance(value, dt.datetime):
            value = value.date()
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if column.kind == INT:
        cell = WriteOnlyCell(ws, value=int(value))
        cell.number_format = INT_FORMAT
        return cell
    if column.kind == YES_NO and isinstance(value, bool):
        return YES_NO_LABELS[0] if value else YES_NO_LABELS[1]
    cell = WriteOnlyCell(ws, value=neutralise(str(value)))
    cell.number_format = TEXT_FORMAT
    return cell


def _instructions(wb: Workbook, spec: WorkbookSpec, exported_at=None) -> None:
    ws = wb.create_sheet(INSTRUCTIONS, 0)
    for letter, width in zip("ABCDEF", (14, 18, 8, 26, 60, 40), strict=True):
        ws.column_dimensions[letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")

    def line(*values, bold=False):
        cells = []
        for value in values:
            cell = WriteOnlyCell(ws, value=neutralise(value) if isinstance(value, str) else value)
            cell.alignment = wrap
            if bold:
                cell.font = HEADER_FONT
            cells.append(cell)
        ws.append(cells)

    title = WriteOnlyCell(ws, value=neutralise(spec.title))
    title.font = Font(bold=True, size=14)
    ws.append([title])
    if exported_at is not None:
        line(EXPORTED_AT, timezone.localtime(exported_at).isoformat())
        line(
            _(
                "请勿修改上面的导出时间：再次导入本文件时，据此找出导出之后在系统中修改过的档案，"
                "不会用本文件的旧内容覆盖这些修改。"
            )
        )
    for note in spec.notes:
        line(note)
    line()
    line(
        _("工作表"),
        _("列名"),
        _("必填"),
        _("填写格式"),
        pgettext("template column", "说明"),
        _("可选值"),
        bold=True,
    )
    for sheet in spec.sheets:
        if sheet.help:
            line(sheet.name, "", "", "", sheet.help)
        for column in sheet.columns:
            line(
                sheet.name,
                column.header,
                _("是") if column.required else _("否"),
                _kind_label(column),
                column.help,
                listing(column.allowed),
            )


def _write_lists(wb: Workbook, lists: _Lists) -> None:
    if not lists.columns:
        return
    ws = wb.create_sheet(LISTS)
    ws.sheet_state = "hidden"
    height = max(len(values) for _header, values in lists.columns)
    ws.append([neutralise(header) for header, _values in lists.columns])
    for index in range(height):
        ws.append([neutralise(v[index]) if index < len(v) else None for _h, v in lists.columns])


def export_workbook(
    spec: WorkbookSpec, rows: Mapping[str, Iterable[Sequence]], *, exported_at=None
) -> bytes:
    """The workbook of `spec` with the given rows (values in column order: Decimal or numbers
    for money, dates, bools for 是/否, text) on each data sheet; a sheet without rows has
    only its header. Rows are streamed, never all kept in memory. `exported_at` (an aware
    datetime taken before the rows were read) is written on the instructions sheet."""
    wb = Workbook(write_only=True)
    lists = _Lists()
    buffer = BytesIO()
    try:
        _instructions(wb, spec, exported_at)
        for sheet in spec.sheets:
            ws = _start_sheet(wb, sheet, lists)
            for values in rows.get(sheet.name, ()):
                ws.append(_data_row(ws, sheet, values))
        _write_lists(wb, lists)
    except Exception:
        # Finish the half-written workbook so its streams and temporary files are closed.
        with suppress(Exception):
            wb.save(BytesIO())
        raise
    wb.save(buffer)
    return buffer.getvalue()


def _data_row(ws, sheet: SheetSpec, values: Sequence) -> list:
    if len(values) != len(sheet.columns):
        raise ValueError(f"{sheet.name}: {len(values)} values for {len(sheet.columns)} columns")
    return [_cell(ws, column, value) for column, value in zip(sheet.columns, values, strict=True)]


def template_workbook(spec: WorkbookSpec) -> bytes:
    """The blank workbook a clerk fills in: headers, instructions, drop-down lists, formats."""
    return export_workbook(spec, {})
