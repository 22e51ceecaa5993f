"""Reading an uploaded workbook safely, then fast.

Checks, in this order, each refusing with one translated message and without parsing more:
1. the content (never the name): an .xlsx is a zip holding `[Content_Types].xml` and
   `xl/workbook.xml`; an old .xls (or an encrypted workbook, both OLE files), CSV or other text,
   PDF and anything else is named as what it is;
2. the upload's size, the zip's entry count and its declared uncompressed size (zip bombs);
3. one streaming pass over every sheet that will be read: the real decompressed size (zipfile
   stops at the declared size and fails the CRC when an entry lies about it), cell formulas
   (`<f>` elements inside `<sheetData>`: python-calamine returns their cached values, which
   must not be imported as if typed; the formulas of data validations and conditional formats
   come after it, in Excel 2010+ as `<xm:f>` in `<extLst>`, and do no harm), error values
   (#N/A and the like, which it returns as empty), the header row, the rows that hold a value
   (the progress total: a row that is only formatted, such as a template styled down to row
   5000, holds none) and the merged ranges;
4. every declared sheet exists and its header row is exactly the declared columns;
5. no merged range covers the declared columns of rows that hold data (only a merged range's
   first cell holds the value: the rows below would read as blank), nor breaks the header row.
A cell's formula or error value does not stop the reading: it is an error of that cell,
reported with everything the importer finds (`Workbook.cell_errors`), and nothing is written.

`cell_errors(path)` applies checks 1 to 3 to a workbook another parser reads (the admin's
reference tables, django-import-export): every sheet scanned, the errors of its cells returned.

Then `Workbook.rows(sheet)` iterates a sheet's data rows with python-calamine (about twelve
times faster than openpyxl's read-only mode), one sheet in memory at a time."""

import dataclasses
import datetime as dt
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from defusedxml import ElementTree
from django.conf import settings
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

from imports.base import FIRST_DATA_ROW, Row, RowError
from imports.xlsx import EXPORTED_AT, INSTRUCTIONS
from orgs.text import listing

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_UNCOMPRESSED_BYTES = 600 * 1024 * 1024
DEFAULT_MAX_ZIP_ENTRIES = 500
MAX_FORMULA_ERRORS = 50  # listed one by one; the rest are counted
CHUNK = 1024 * 1024

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# A formula element, with or without a namespace prefix: <f>, <f t="shared" …/>, <x:f>; searched
# only inside sheetData (a cell's formula), never in the data validations after it.
FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
CELL_REF = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\br="([A-Z]+)(\d+)"')
ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b")
ROW_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?row>")
XMLNS = re.compile(rb'\sxmlns:([A-Za-z_][\w.-]*)="([^"]*)"')
# A cell holding an error value (#N/A, #REF!…: t="e"), such as a failed lookup pasted as values:
# python-calamine reads it as an empty cell, which must not be imported as if left blank.
ERROR_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\bt="e"[^>]*>')
# Literals inside every match of FORMULA and ERROR_CELL, with no ">" before them in the match;
# rare in cell data, so `_tags` finds them first (see there).
FORMULA_HINT = re.compile(rb"f[\s>/]")
ERROR_CELL_HINT = re.compile(rb't="e"')
ERROR_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]{1,16})<")
# The start of sheetData, naming the prefix its rows and cells use (usually none).
SHEET_DATA = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?sheetData\b[^>]*?(/?)>")
MERGE_REF = re.compile(rb'\bref="(([A-Z]+)(\d+):([A-Z]+)(\d+))"')
TAIL = 4096  # bytes kept between chunks so a match or a cell's start is never cut in two


def limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


class WorkbookRefused(Exception):
    """The workbook cannot be read or fails a whole-workbook check; `errors` say why."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _refuse(message: str, sheet: str = "") -> WorkbookRefused:
    return WorkbookRefused([RowError(sheet=sheet, row=None, column="", message=message)])


# --- 1. What the file is ---------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """None for a zip (possibly an xlsx), else a translated message naming what the file is."""
    if head.startswith(b"PK\x03\x04"):
        return None
    if not head:
        return _("上传的文件是空的。")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _(
            "这是旧版 Excel 97-2003（.xls）文件或加密的工作簿，无法导入。请在 Excel 或 WPS 中"
            "取消密码，另存为“Excel 工作簿（*.xlsx）”后再上传。"
        )
    if head.startswith(b"%PDF"):
        return _("这是 PDF 文件，不是 Excel 工作簿。请下载导入模板，填写后上传 .xlsx 文件。")
    if head.startswith(b"PK"):
        return _("文件不是有效的 Excel 工作簿（.xlsx），可能已损坏。")
    text = _as_text(head)
    if text is not None:
        first_line = text.splitlines()[0] if text.splitlines() else ""
        if "," in first_line or "\t" in first_line or "，" in first_line:
            return _(
                "这是 CSV 或文本文件，不是 Excel 工作簿。请下载导入模板，在 Excel 或 WPS 中"
                "填写后保存为 .xlsx 文件再上传。"
            )
        if text.lstrip().startswith("<"):
            return _("这是网页或 XML 文件，不是 Excel 工作簿（.xlsx）。")
        return _("这是文本文件，不是 Excel 工作簿（.xlsx）。")
    return _("文件不是 Excel 工作簿（.xlsx）。请下载导入模板，填写后上传 .xlsx 文件。")


def _as_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        # The head may end in the middle of a character: drop at most 3 bytes.
        for cut in range(4):
            try:
                return head[: len(head) - cut].decode(encoding)
            except UnicodeDecodeError:
                continue
    return None


# --- The workbook ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Merged:
    """A merged range: rows as numbered in the sheet, columns from 0."""

    ref: str  # as the sheet names it, "B3:B7"
    first_row: int
    first_column: int
    last_row: int
    last_column: int

    @property
    def in_header(self) -> bool:
        """Spans columns of the header row: a header cell under it reads as blank."""
        return self.first_row < FIRST_DATA_ROW and self.last_column > self.first_column


@dataclass
class SheetInfo:
    name: str
    part: str  # the sheet's XML entry in the zip
    header: list[str] = field(default_factory=list)
    rows: int = 0  # data rows that hold a value, as the scan counts them (the progress total)
    merged: list[Merged] = field(default_factory=list)  # those that matter (MAX_… at most)
    more_merged: int = 0  # merged ranges that matter beyond those listed


class Workbook:
    """An uploaded .xlsx that passed the checks; iterate its sheets with `rows`."""

    def __init__(
        self,
        path,
        sheets: dict[str, SheetInfo],
        declared: dict[str, Sequence[str]],
        *,
        cell_errors: Sequence[RowError] = (),
    ):
        self.path = str(path)
        self.cell_errors = list(cell_errors)  # formulas and error values, by sheet, row, column
        self.sheets = sheets
        self.declared = declared
        self.rows_read = 0

    @property
    def total_rows(self) -> int:
        """The data rows holding a value, for a progress bar (counted by the scan, not read)."""
        return sum(self.sheets[name].rows for name in self.declared)

    def rows(self, name: str) -> Iterator[Row]:
        """The data rows of one sheet: (spreadsheet row number, cells in header order). Empty
        cells are None; wholly empty rows are skipped. The sheet is parsed when iteration
        starts and freed when it ends."""
        width = len(self.declared[name])
        try:
            book = CalamineWorkbook.from_path(self.path)
            sheet = book.get_sheet_by_name(name)
        except CalamineError as exc:  # checked by the scan already; a last line of defence
            raise _refuse(
                _("工作表“%(sheet)s”无法读取：%(error)s") % {"sheet": name, "error": exc}
            ) from exc
        start_row, start_col = sheet.start or (0, 0)
        pad = [None] * start_col
        number = start_row  # 0-based index of the row just read
        try:
            for cells in sheet.iter_rows():
                number += 1
                if number < FIRST_DATA_ROW:
                    continue
                if pad:
                    cells = pad + cells
                cells = [None if value == "" else value for value in cells[:width]]
                if len(cells) < width:
                    cells += [None] * (width - len(cells))
                if all(value is None for value in cells):
                    continue
                self.rows_read += 1
                yield number, cells
        finally:
            del sheet
            book.close()

    def all_rows(self) -> dict[str, Iterator[Row]]:
        return {name: self.rows(name) for name in self.declared}

    def exported_at(self) -> dt.datetime | None:
        """When this workbook was exported (the 导出时间 row of its instructions sheet), or
        None: a filled-in template, or a mark that was edited into something else."""
        try:
            book = CalamineWorkbook.from_path(self.path)
        except CalamineError:
            return None
        try:
            if INSTRUCTIONS not in book.sheet_names:
                return None
            for number, cells in enumerate(book.get_sheet_by_name(INSTRUCTIONS).iter_rows()):
                if number >= 10:  # the title and the mark come first
                    return None
                if len(cells) > 1 and cells[0] == EXPORTED_AT:
                    moment = dt.datetime.fromisoformat(str(cells[1]).strip())
                    return moment if moment.tzinfo is not None else None
        except (CalamineError, ValueError):
            return None
        finally:
            book.close()
        return None


def open_workbook(
    path, declared: dict[str, Sequence[str]], optional: Sequence[str] = ()
) -> Workbook:
    """Check the file at `path` against the limits and the declared sheets (name -> exact
    header); raise WorkbookRefused with every problem found. A sheet named in `optional` may
    be absent (a workbook made from an earlier template): it is then left out, not read."""
    with _archive(path) as archive:
        sheets = _sheet_parts(archive)
        declared = {
            name: header
            for name, header in declared.items()
            if name in sheets or name not in optional
        }
        missing = [name for name in declared if name not in sheets]
        if missing:
            raise WorkbookRefused(
                [
                    RowError(
                        sheet=name,
                        row=None,
                        column="",
                        message=_("缺少工作表“%(sheet)s”。请使用导入模板，不要改动工作表名称。")
                        % {"sheet": name},
                    )
                    for name in missing
                ]
            )
        cell_errors = _scan_sheets(archive, sheets, declared)
        errors: list[RowError] = []
        for name, expected in declared.items():
            header = header_errors(name, sheets[name].header, expected)
            errors += merged_errors(sheets[name], expected, header_broken=bool(header))
            errors += header
    if errors:
        raise WorkbookRefused(cell_errors + errors)
    # Cells holding a formula or an error value do not stop the rows from being read: the
    # importer checks the whole workbook and reports them with every other error at once.
    return Workbook(path, sheets, declared, cell_errors=cell_errors)


def cell_errors(path) -> list[RowError]:
    """For a workbook another parser reads (the admin's reference tables, django-import-export
    with openpyxl): the same file checks as `open_workbook` (raising WorkbookRefused), then
    every sheet's cells scanned for formulas and error values, whose errors are returned by
    sheet, row and column letter. openpyxl would read a formula's cached value as if typed (a
    formula saved without one, as blank) and an error value as text."""
    with _archive(path) as archive:
        sheets = _sheet_parts(archive)
        return _scan_sheets(archive, sheets, dict.fromkeys(sheets, ()))


def _archive(path) -> zipfile.ZipFile:
    """The upload as an open zip, after the checks of its size, content and zip limits."""
    size = _file_size(path)
    if size > limit("IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES):
        raise _refuse(
            _("文件太大（%(size)s MB），最大 %(max)s MB。请分成几个文件导入。")
            % {
                "size": _mb(size),
                "max": _mb(limit("IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)),
            }
        )
    with open(path, "rb") as handle:
        problem = sniff(handle.read(2048))
    if problem:
        raise _refuse(problem)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse(_("文件不是有效的 Excel 工作簿（.xlsx），可能已损坏。")) from None
    try:
        _check_archive(archive)
    except WorkbookRefused:
        archive.close()
        raise
    return archive


def _scan_sheets(
    archive: zipfile.ZipFile, sheets: dict[str, SheetInfo], declared: dict[str, Sequence[str]]
) -> list[RowError]:
    """Scan the declared sheets (`_scan`); the errors of their cells' formulas and error values,
    named by column where the sheet declares one, the ones past the limit counted."""
    cell_errors: list[RowError] = []
    strings = _SharedStrings(archive)
    budget = [limit("IMPORT_MAX_UNCOMPRESSED_BYTES", DEFAULT_MAX_UNCOMPRESSED_BYTES)]
    found = {"formulas": 0, "error values": 0}
    for name, expected in declared.items():
        _scan(archive, sheets[name], strings, cell_errors, budget, found, width=len(expected))
    cell_errors = [_named(error, declared[error.sheet]) for error in cell_errors]
    if found["formulas"] > MAX_FORMULA_ERRORS:
        more = found["formulas"] - MAX_FORMULA_ERRORS
        message = _("另有 %(n)d 个单元格含有公式。") % {"n": more}
        cell_errors.append(RowError("", None, "", message))
    if found["error values"] > MAX_FORMULA_ERRORS:
        more = found["error values"] - MAX_FORMULA_ERRORS
        message = _("另有 %(n)d 个单元格是错误值。") % {"n": more}
        cell_errors.append(RowError("", None, "", message))
    return cell_errors


def _named(error: RowError, expected: Sequence[str]) -> RowError:
    """A cell's error under its column's name rather than its letter (when it has one)."""
    if not error.column.isalpha():
        return error
    index = _column_index(error.column.encode())
    if index >= len(expected):
        return error
    return dataclasses.replace(error, column=expected[index])


def _file_size(path) -> int:
    import os

    return os.path.getsize(path)


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def _check_archive(archive: zipfile.ZipFile) -> None:
    entries = archive.infolist()
    if len(entries) > limit("IMPORT_MAX_ZIP_ENTRIES", DEFAULT_MAX_ZIP_ENTRIES):
        raise _refuse(_("工作簿结构异常（压缩包内文件过多），拒绝读取。"))
    declared = sum(entry.file_size for entry in entries)
    if declared > limit("IMPORT_MAX_UNCOMPRESSED_BYTES", DEFAULT_MAX_UNCOMPRESSED_BYTES):
        raise _refuse(
            _("工作簿解压后过大（%(size)s MB），拒绝读取。请分成几个文件导入。")
            % {"size": _mb(declared)}
        )
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _refuse(_("文件不是 Excel 工作簿（.xlsx）。请下载导入模板，填写后上传 .xlsx 文件。"))
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise _refuse(_("工作簿已加密，请取消密码后再上传。"))


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    """A small XML part (workbook, relationships), read whole after the size checks."""
    try:
        return archive.read(name)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _refuse(_("工作簿已损坏，无法读取（%(part)s）。") % {"part": name}) from exc


def _parse_xml(data: bytes, part: str):
    try:
        return ElementTree.fromstring(data)
    except Exception as exc:  # defusedxml refuses entities and DTDs; ParseError otherwise
        raise _refuse(_("工作簿已损坏，无法读取（%(part)s）。") % {"part": part}) from exc


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, SheetInfo]:
    """Sheet name -> its XML entry, from the workbook and its relationships."""
    book = _parse_xml(_read_small(archive, "xl/workbook.xml"), "xl/workbook.xml")
    rels_name = "xl/_rels/workbook.xml.rels"
    targets = {}
    if rels_name in archive.namelist():
        rels = _parse_xml(_read_small(archive, rels_name), rels_name)
        for rel in rels.iter(f"{PKG_REL_NS}Relationship"):
            target = rel.get("Target", "")
            if target.startswith("/"):
                part = target.lstrip("/")
            else:
                part = str(PurePosixPath("xl") / target)
            targets[rel.get("Id")] = _normalise_part(part)
    sheets = {}
    for sheet in book.iter(f"{NS}sheet"):
        part = targets.get(sheet.get(f"{REL_NS}id"))
        if part:
            sheets[sheet.get("name")] = SheetInfo(name=sheet.get("name"), part=part)
    return sheets


def _normalise_part(part: str) -> str:
    parts: list[str] = []
    for piece in part.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


class _SharedStrings:
    """The shared strings a header row refers to, read by streaming only as far as needed."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.values: list[str] = []
        self.done = "xl/sharedStrings.xml" not in archive.namelist()
        self._events = None

    def get(self, index: int) -> str:
        while len(self.values) <= index and not self.done:
            self._read_more()
        return self.values[index] if index < len(self.values) else ""

    def _read_more(self):
        if self._events is None:
            from xml.etree.ElementTree import XMLPullParser

            self._handle = self.archive.open("xl/sharedStrings.xml")
            self._parser = XMLPullParser(events=("end",))
            self._events = True
        data = self._handle.read(64 * 1024)
        if not data:
            self.done = True
            self._handle.close()
            return
        self._parser.feed(data)
        for _event, element in self._parser.read_events():
            if element.tag == f"{NS}si":
                self.values.append("".join(t.text or "" for t in element.iter(f"{NS}t")))
                element.clear()


def _column_index(letters: bytes) -> int:
    index = 0
    for char in letters:
        index = index * 26 + (char - 64)
    return index - 1


class _Body:
    """The rows and merged ranges of one sheet's XML, read chunk by chunk with the other checks.

    A row counts when it holds a value, a <v> or an inline <is>: a cell that is only formatted
    (a border, a number format: a template styled down to row 5000) has neither, nor has a row
    that only sets its height. Merged ranges come after sheetData, when the last row holding a
    value is known; one is kept when it reaches the declared columns and either spans columns of
    the header row or covers a data row up to that last row (one wholly in the formatted empty
    rows below the data does no harm). The patterns carry the sheet's own prefix (usually none)
    so that each starts with a literal and is searched quickly."""

    def __init__(self, width: int):
        self.width = width
        self.rows = 0  # data rows holding a value
        self.last = 0  # the last data row holding a value
        self.merged: list[Merged] = []
        self.more_merged = 0
        self.row = self.value = self.sheet_end = self.merge = None
        self.started_at: int | None = None  # where sheetData's content starts, once found
        self.ended_at: int | None = None  # where sheetData ends, once found
        self.number = 0  # the row being read
        self.reading = False  # inside a row not yet counted
        self.has_value = False
        self.start = 0  # where that row's content starts in the XML

    def feed(self, data: bytes, offset: int, base: int) -> None:
        """Read `data`, which starts at `base` in the sheet's XML; its first `offset` bytes were
        read with the previous chunk, so a match that ends there is not counted again."""
        begin = 0
        if self.row is None:
            found = SHEET_DATA.search(data)
            if found is None:
                return
            prefix = re.escape(found.group(1) + b":") if found.group(1) else b""
            # The row's number (r="…"; a row without one follows the one before) and "/" when
            # the row has no cells (<row r="9" ht="30"/>).
            self.row = re.compile(b"<" + prefix + rb'row\b(?:[^>]*?\sr="(\d+)")?[^>]*?(/?)>')
            self.value = re.compile(b"<" + prefix + rb"(?:v|is)[\s>]")
            self.sheet_end = re.compile(b"</" + prefix + rb"sheetData>")
            self.merge = re.compile(b"<" + prefix + rb"mergeCell\b[^>]*>")
            begin = found.end()
            self.started_at = base + begin
            if found.group(2):  # <sheetData/>: no rows at all
                self.ended_at = base + begin
        if self.ended_at is None:
            self._rows(data, offset, base, begin)
            if self.ended_at is None:
                return
        for match in self.merge.finditer(data, max(self.ended_at - base, 0)):
            if match.end() > offset:
                self._merged(match.group())

    def cells(self, data: bytes, base: int) -> tuple[int, int]:
        """The part of `data` (fed last, starting at `base`) inside sheetData, as (start, stop):
        where cells and their formulas are; empty before sheetData starts and after it ends."""
        if self.started_at is None:
            return 0, 0
        start = max(self.started_at - base, 0)
        stop = len(data) if self.ended_at is None else max(self.ended_at - base, 0)
        return start, max(start, stop)

    def _rows(self, data: bytes, offset: int, base: int, begin: int) -> None:
        # One pass per row, so the names are local (about 1 µs a row).
        end = self.sheet_end.search(data, begin)
        stop = end.start() if end else len(data)
        value = self.value.search
        reading, has_value, number, rows, last = (
            self.reading,
            self.has_value,
            self.number,
            self.rows,
            self.last,
        )
        start = max(self.start - base, 0)
        for match in self.row.finditer(data, begin, stop):
            if match.end() <= offset:
                continue
            if reading and (has_value or value(data, start, match.start())):
                if number >= FIRST_DATA_ROW:
                    rows += 1
                    last = number
            given, empty = match.groups()
            number = int(given) if given else number + 1
            reading, has_value, start = not empty, False, match.end()
        if reading and not has_value:
            has_value = value(data, start, stop) is not None
        if end is not None:
            if reading and has_value and number >= FIRST_DATA_ROW:
                rows += 1
                last = number
            reading = False
            self.ended_at = base + end.end()
        self.reading, self.has_value, self.number, self.rows, self.last = (
            reading,
            has_value,
            number,
            rows,
            last,
        )
        self.start = base + start

    def _merged(self, tag: bytes) -> None:
        ref = MERGE_REF.search(tag)
        if ref is None:  # a single cell, or not a reference
            return
        first_column, last_column = sorted((_column_index(ref[2]), _column_index(ref[4])))
        first_row, last_row = sorted((int(ref[3]), int(ref[5])))
        merged = Merged(
            ref=ref[1].decode(),
            first_row=first_row,
            first_column=first_column,
            last_row=last_row,
            last_column=last_column,
        )
        if first_column >= self.width or (first_row, first_column) == (last_row, last_column):
            return
        covers_data = last_row >= FIRST_DATA_ROW and max(first_row, FIRST_DATA_ROW) <= self.last
        if not (covers_data or merged.in_header):
            return
        if len(self.merged) < MAX_FORMULA_ERRORS:
            self.merged.append(merged)
        else:
            self.more_merged += 1


def _scan(
    archive, info: SheetInfo, strings, errors, budget, found: dict[str, int], *, width: int
) -> None:
    """Stream one sheet's XML: real size against the budget, the formulas and error values of
    cells (inside sheetData; counted in `found`, the first ones listed in `errors`), header row,
    the rows holding a value and the merged ranges that matter (`_Body`)."""
    header_xml = b""
    header_done = False
    tail = b""
    body = _Body(width)
    read = 0  # bytes of XML before the chunk being read
    try:
        handle = archive.open(info.part)
    except KeyError:
        raise _refuse(
            _("工作表“%(sheet)s”已损坏，无法读取。") % {"sheet": info.name}, info.name
        ) from None
    try:
        with handle:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise _refuse(_("工作簿解压后过大，拒绝读取。请分成几个文件导入。"))
                data = tail + chunk
                offset = len(tail)
                base = read - offset  # where `data` starts in the sheet's XML
                body.feed(data, offset, base)
                read += len(chunk)
                if not header_done:
                    header_xml += chunk
                    end = ROW_END.search(header_xml)
                    if end:
                        header_xml = header_xml[: end.end()]
                        header_done = True
                    elif len(header_xml) > 1024 * 1024:
                        header_done = True  # a header row this long is not ours
                # A match wholly inside the tail was counted with the previous chunk.
                start, stop = body.cells(data, base)
                for match in _tags(FORMULA, FORMULA_HINT, data, max(offset - 64, start), stop):
                    if match.end() <= offset:
                        continue
                    found["formulas"] += 1
                    if found["formulas"] <= MAX_FORMULA_ERRORS:
                        errors.append(_formula_error(info.name, data, match.start()))
                for match in _tags(
                    ERROR_CELL, ERROR_CELL_HINT, data, max(offset - 256, start), stop
                ):
                    if match.end() <= offset:
                        continue
                    found["error values"] += 1
                    if found["error values"] <= MAX_FORMULA_ERRORS:
                        errors.append(_error_value(info.name, data, match))
                tail = data[-TAIL:]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        # Among others, "Bad CRC-32": an entry that decompresses to more than it declares.
        raise _refuse(
            _("工作表“%(sheet)s”已损坏，无法读取。") % {"sheet": info.name}, info.name
        ) from exc
    info.header = _header_cells(header_xml, strings, info.name)
    info.rows = body.rows
    info.merged, info.more_merged = body.merged, body.more_merged


def _tags(pattern: re.Pattern, hint: re.Pattern, data: bytes, start: int, stop: int):
    """The matches of `pattern.finditer(data, start, stop)`, for a tag pattern each of whose
    matches holds `hint` with no ">" before it. Searched directly, a pattern that starts with
    "<" and an optional prefix is tried at every tag of the sheet (2 s for 100,000 rows); the
    hint is a literal found quickly, and the pattern is tried only from the ">" before each hit
    to the ">" after it, where any match holding that hit must lie."""
    resume = start
    for hit in hint.finditer(data, start, stop):
        if hit.start() < resume:
            continue  # inside the match just given
        begin = max(data.rfind(b">", resume, hit.start()) + 1, resume)
        end = data.find(b">", hit.end(), stop)
        match = pattern.search(data, begin, stop if end < 0 else end + 1)
        if match:
            resume = match.end()
            yield match


def _formula_error(sheet: str, data: bytes, position: int) -> RowError:
    row, column = None, ""
    cell = None
    for cell in CELL_REF.finditer(data, max(position - 2048, 0), position):  # noqa: B007
        pass  # the last cell opened before the formula is the formula's cell
    if cell is not None:
        column = cell.group(1).decode()
        row = int(cell.group(2))
    return RowError(
        sheet=sheet,
        row=row,
        column=column,
        message=_(
            "单元格 %(cell)s 含有公式。导入只接受录入的值：请复制后“选择性粘贴为数值”再上传。"
        )
        % {"cell": f"{column}{row}" if row else "?"},
    )


def _error_value(sheet: str, data: bytes, tag: re.Match) -> RowError:
    reference = CELL_REF.match(data, tag.start())
    column = reference.group(1).decode() if reference else ""
    row = int(reference.group(2)) if reference else None
    value = ERROR_VALUE.search(data, tag.end(), tag.end() + 512)
    return RowError(
        sheet=sheet,
        row=row,
        column=column,
        message=_("单元格 %(cell)s 是错误值 %(value)s，请改为正确的值后再上传。")
        % {
            "cell": f"{column}{row}" if row else "?",
            "value": value.group(1).decode(errors="replace") if value else "",
        },
    )


def _header_cells(xml: bytes, strings, sheet: str) -> list[str]:
    """The texts of the first row's cells, by column position (gaps as ""). The elements may
    carry a namespace prefix (<x:row><x:c>), as some writers spell every one."""
    if not xml:
        return []
    sheet_data = SHEET_DATA.search(xml)
    if sheet_data is None:
        return []
    begin = ROW_START.search(xml, sheet_data.end())
    if not begin:
        return []
    # Re-wrap the row in the main namespace and the prefixes the sheet declares (on its root
    # element, before sheetData) so that it parses on its own.
    prefixes = dict(XMLNS.findall(xml, 0, sheet_data.start()))
    declared = b"".join(b" xmlns:" + name + b'="' + uri + b'"' for name, uri in prefixes.items())
    wrapped = (
        b'<root xmlns="'
        + NS[1:-1].encode()
        + b'"'
        + declared
        + b">"
        + xml[begin.start() :]
        + b"</root>"
    )
    try:
        root = ElementTree.fromstring(wrapped)
    except Exception:
        return []
    row = next(iter(root), None)
    if row is None:
        return []
    if row.get("r") not in (None, "1"):
        return []  # the first row with anything in it is not row 1: no header row
    ns = row.tag[: row.tag.index("}") + 1] if row.tag.startswith("{") else ""
    cells: dict[int, str] = {}
    for position, cell in enumerate(row):
        ref = cell.get("r")
        match = re.match(r"([A-Z]+)", ref or "")
        index = _column_index(match.group(1).encode()) if match else position
        kind = cell.get("t")
        value_el = cell.find(f"{ns}v")
        index_text = (value_el.text or "") if value_el is not None else ""
        # ASCII: str.isdigit() takes "²", which int() refuses.
        if kind == "s" and index_text.isascii() and index_text.isdigit():
            text = strings.get(int(index_text))
        elif kind == "inlineStr":
            text = "".join(t.text or "" for t in cell.iter(f"{ns}t"))
        else:
            text = value_el.text if value_el is not None and value_el.text else ""
        cells[index] = text
    if not cells:
        return []
    return [cells.get(i, "").strip() for i in range(max(cells) + 1)]


def header_errors(sheet: str, found: list[str], expected: Sequence[str]) -> list[RowError]:
    """Every difference between a sheet's header row and its declared columns, named."""
    found = list(found)
    while found and not found[-1]:
        found.pop()
    if list(found) == list(expected):
        return []
    errors = []
    if not found:
        return [
            RowError(
                sheet,
                1,
                "",
                _("第1行应为表头（列名），但是空的。请使用导入模板，不要删除表头行。"),
            )
        ]
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name and name not in expected]
    for name in missing:
        errors.append(RowError(sheet, 1, name, _("缺少列“%(column)s”。") % {"column": name}))
    for name in unexpected:
        errors.append(
            RowError(
                sheet,
                1,
                name,
                _("多出或改了名称的列“%(column)s”。") % {"column": name},
            )
        )
    if not missing and not unexpected:
        errors.append(
            RowError(
                sheet,
                1,
                "",
                _("列的顺序或位置与模板不一致，应为：%(columns)s。")
                % {"columns": listing(expected)},
            )
        )
    return errors


def merged_errors(
    info: SheetInfo, expected: Sequence[str], *, header_broken: bool
) -> list[RowError]:
    """One error per merged range that matters, naming it and its columns: over data rows only
    the range's first cell holds the value, so each row below (or column to the right) would
    read as blank, a "required" error on every one of them; over the header row, the columns
    under the range have no name. A range in the header row is named only when the header does
    not match (spanning a column past the declared ones does no harm)."""
    errors = []
    for merged in sorted(info.merged, key=lambda m: (m.first_row, m.first_column)):
        columns = listing(expected[merged.first_column : merged.last_column + 1])
        values = {"sheet": info.name, "cells": merged.ref, "column": columns}
        if merged.in_header:
            if not header_broken:
                continue
            message = _(
                "工作表“%(sheet)s”的表头（第1行）中，%(cells)s 是合并单元格，列名无法逐列对应。"
                "请取消合并单元格，每一列填写一个列名，与导入模板一致。"
            )
            errors.append(RowError(info.name, merged.first_row, "", message % values))
            continue
        if merged.last_row > merged.first_row:
            message = _(
                "工作表“%(sheet)s”的 %(cells)s 是合并单元格（列“%(column)s”）：只有第一行有值，"
                "下面各行会读成空白。请取消合并单元格，并在每一行填写该列的值。"
            )
        else:
            message = _(
                "工作表“%(sheet)s”的 %(cells)s 是合并单元格（列“%(column)s”）：只有第一列有值，"
                "右边各列会读成空白。请取消合并单元格，并在每一列填写各自的值。"
            )
        errors.append(RowError(info.name, merged.first_row, columns, message % values))
    if info.more_merged:
        message = _("另有 %(n)d 处合并单元格。") % {"n": info.more_merged}
        errors.append(RowError(info.name, None, "", message))
    return errors
