"""Reading uploads: content sniffing, limits, zip bombs, formulas, headers, empty files."""

import re
import tracemalloc
import zipfile

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from households.importing import HOUSEHOLD_HEADERS, MEMBER_HEADERS
from households.models import Household
from imports.workbook import (
    ERROR_CELL,
    ERROR_CELL_HINT,
    FORMULA,
    FORMULA_HINT,
    WorkbookRefused,
    _tags,
    open_workbook,
)
from tests.imports.conftest import household_row, member_row, write_workbook

SHEETS = {"households": ("档案编号", "姓名"), "members": ("档案编号",)}


def refused(path, sheets=SHEETS):
    with pytest.raises(WorkbookRefused) as caught:
        open_workbook(path, sheets)
    return caught.value.errors


def cell_errors(path, sheets=SHEETS):
    """A workbook whose cells hold formulas or error values is read all the same: those are
    errors of their cells, reported with the importer's (nothing is written)."""
    return open_workbook(path, sheets).cell_errors


def test_a_valid_workbook_gives_rows_by_sheet_number(tmp_path):
    path = write_workbook(
        tmp_path / "ok.xlsx",
        {"households": [["A-1", "张三"], [None, None], ["A-2", "李四"]], "members": []},
        headers={"households": SHEETS["households"], "members": SHEETS["members"]},
    )
    book = open_workbook(path, SHEETS)
    assert list(book.rows("households")) == [(2, ["A-1", "张三"]), (4, ["A-2", "李四"])]
    assert list(book.rows("members")) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
        ("档案编号,姓名\nA-1,张三\n".encode(), "CSV"),
        ("档案编号,姓名\nA-1,张三\n".encode("gbk"), "CSV"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"just some notes\nnothing else", "文本文件"),
        (b"", "空的"),
        (bytes(range(256)) * 4, "不是 Excel"),
    ],
)
def test_files_that_are_not_xlsx_are_named_by_content(tmp_path, content, words):
    path = tmp_path / "upload.xlsx"  # the name says xlsx; the content decides
    path.write_bytes(content)
    [error] = refused(path)
    assert words in error.message


def test_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    [error] = refused(path)
    assert "不是 Excel" in error.message


def test_oversized_upload_is_refused_before_reading(tmp_path, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    path = write_workbook(tmp_path / "big.xlsx", {"households": [], "members": []})
    [error] = refused(path)
    assert "文件太大" in error.message


def _bomb(path, size):
    """A workbook whose one sheet unpacks to `size` bytes of nothing (a zip bomb)."""
    ok = write_workbook(path.with_name("base.xlsx"), {"households": [], "members": []})
    with zipfile.ZipFile(ok) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename.endswith("sheet1.xml"):
                with out.open(item.filename, "w", force_zip64=True) as target:
                    block = b" " * (1024 * 1024)
                    for _ in range(size // len(block)):
                        target.write(block)
            else:
                out.writestr(item, source.read(item.filename))
    return path


def test_zip_bomb_is_refused_before_parsing_with_little_memory(tmp_path, settings):
    path = _bomb(tmp_path / "bomb.xlsx", 400 * 1024 * 1024)
    assert path.stat().st_size < 2 * 1024 * 1024  # 400 MB of XML in under 2 MB
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
    tracemalloc.start()
    try:
        [error] = refused(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "解压后过大" in error.message
    assert peak < 5 * 1024 * 1024


def test_a_bomb_that_lies_about_its_size_is_caught_while_streaming(tmp_path, settings):
    """An entry declaring fewer bytes than it holds: zipfile stops at the declared size and
    the checksum fails, so the scan refuses it without unpacking the rest."""
    path = _bomb(tmp_path / "liar.xlsx", 8 * 1024 * 1024)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith("sheet1.xml"))
    # Declare 1 KB in the entry's central directory record (uncompressed size at offset 24).
    header = data.rfind(b"PK\x01\x02", 0, data.rfind(info.filename.encode()))
    assert header >= 0
    data[header + 24 : header + 28] = (1024).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    [error] = refused(path)
    assert "已损坏" in error.message


def test_too_many_zip_entries(tmp_path, settings):
    settings.IMPORT_MAX_ZIP_ENTRIES = 3
    path = write_workbook(tmp_path / "ok.xlsx", {"households": [], "members": []})
    [error] = refused(path)
    assert "文件过多" in error.message


def test_formulas_are_reported_with_sheet_row_and_column(tmp_path):
    path = write_workbook(
        tmp_path / "f.xlsx",
        {"households": [["A-1", "张三"], ["A-2", '=A2&"x"']], "members": [["=1+1"]]},
        headers={"households": SHEETS["households"], "members": SHEETS["members"]},
    )
    errors = cell_errors(path)
    assert [(e.sheet, e.row, e.column) for e in errors] == [
        ("households", 3, "姓名"),
        ("members", 2, "档案编号"),
    ]
    assert "单元格 B3 含有公式" in errors[0].message


def test_error_values_are_reported_not_read_as_empty(tmp_path):
    """#N/A pasted as a value (a failed lookup) is a stored error cell, t="e": python-calamine
    reads it as empty, so an employer or an income would silently become blank."""
    path = write_workbook(
        tmp_path / "e.xlsx",
        {"households": [["A-1", "#N/A"], ["A-2", "#REF!"]], "members": [["A-1", "#DIV/0!"]]},
        headers={"households": SHEETS["households"], "members": SHEETS["members"]},
    )
    with zipfile.ZipFile(path) as archive:  # openpyxl stores these strings as error cells
        assert b't="e"' in archive.read("xl/worksheets/sheet1.xml")
    errors = cell_errors(path)
    assert [(e.sheet, e.row, e.column, e.message) for e in errors] == [
        ("households", 2, "姓名", "单元格 B2 是错误值 #N/A，请改为正确的值后再上传。"),
        ("households", 3, "姓名", "单元格 B3 是错误值 #REF!，请改为正确的值后再上传。"),
        # past the sheet's declared columns: named by its letter
        ("members", 2, "B", "单元格 B2 是错误值 #DIV/0!，请改为正确的值后再上传。"),
    ]


def test_missing_sheet_is_named(tmp_path):
    path = write_workbook(tmp_path / "m.xlsx", {"households": []})
    [error] = refused(path, {"households": HOUSEHOLDS_HEADERS(), "members": ("档案编号",)})
    assert error.sheet == "members" and "缺少工作表" in error.message


def HOUSEHOLDS_HEADERS():
    from households.importing import HOUSEHOLD_HEADERS

    return HOUSEHOLD_HEADERS


def test_missing_and_renamed_columns_are_named(tmp_path):
    from households.importing import HOUSEHOLD_HEADERS, MEMBER_HEADERS

    header = list(HOUSEHOLD_HEADERS)
    header.remove("家庭住址")
    header[header.index("身份证号")] = "身份证号码"
    path = write_workbook(
        tmp_path / "h.xlsx", {"households": [], "members": []}, headers={"households": header}
    )
    errors = refused(path, {"households": HOUSEHOLD_HEADERS, "members": MEMBER_HEADERS})
    found = {(e.sheet, e.row, e.column): e.message for e in errors}
    assert "缺少列“家庭住址”" in found[("households", 1, "家庭住址")]
    assert "缺少列“身份证号”" in found[("households", 1, "身份证号")]
    assert "改了名称" in found[("households", 1, "身份证号码")]


def test_columns_in_another_order_are_refused(tmp_path):
    path = write_workbook(
        tmp_path / "o.xlsx",
        {"households": [], "members": []},
        headers={"households": ("姓名", "档案编号"), "members": ("档案编号",)},
    )
    [error] = refused(path)
    assert "顺序" in error.message


@pytest.mark.django_db
def test_empty_workbook_says_so_and_writes_nothing(workbook, run, orgs):
    report = run(workbook([], []))
    assert [e.message for e in report.errors] == ["工作簿中没有数据行，没有可导入的内容。"]
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_formula_in_a_household_workbook_writes_nothing(workbook, run, orgs):
    row = household_row()
    row[20] = '=HYPERLINK("http://x")'
    report = run(workbook([row], [member_row()]))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("households", 2, "家庭住址")]
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_formulas_are_reported_with_every_other_error_and_the_counts_of_the_rest(
    workbook, run, orgs
):
    """A formula used to stop the check: its workbook came back with that one error, and the
    next upload with the errors behind it. Now one upload lists them all, and the counts say
    what the rows without errors would do."""
    formula = household_row(档案编号="XN-0001")
    formula[20] = '=HYPERLINK("http://x")'
    wrong_id = household_row(档案编号="XN-0002", 身份证号="123")
    fine = household_row(档案编号="XN-0003")
    path = workbook(
        [formula, wrong_id, fine],
        [member_row("XN-0001"), member_row("XN-0003")],
    )
    report = run(path)
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [
        ("households", 2, "家庭住址"),
        ("households", 3, "身份证号"),
    ]
    households, members = report.sheets["households"], report.sheets["members"]
    assert (households.created, households.invalid) == (1, 2)
    assert (members.created, members.invalid) == (1, 0)  # XN-0001's member goes with it
    assert not report.dry_run and not Household.objects.exists()


@pytest.mark.django_db
def test_the_cached_value_of_a_formula_is_not_reported_twice(workbook, run, orgs):
    row = household_row()
    row[4] = '="45010"&"2"'  # an ID number made by a formula: its cached value is not an ID
    report = run(workbook([row], [member_row()]))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("households", 2, "身份证号")]
    assert "含有公式" in report.errors[0].message


# --- Rows that are only formatted, merged cells ------------------------------------------------


def test_rows_that_are_only_formatted_count_for_nothing(tmp_path):
    """A template formatted down to row 5000 (borders on every cell, then a row with only a
    height): the progress total counts the rows holding a value, gaps and the trailing formatted
    rows excluded, and no formatted row is read."""
    path = write_workbook(
        tmp_path / "formatted.xlsx",
        {"households": [["A-1", "张三"], [None, None], ["A-2", "李四"]], "members": [["A-1"]]},
        headers={"households": SHEETS["households"], "members": SHEETS["members"]},
        formatted_to={"households": 5000, "members": 300},
    )
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b'<c r="B5000" s="1"' in xml and b'<row r="5001"' in xml
    book = open_workbook(path, SHEETS)
    assert [book.sheets[name].rows for name in SHEETS] == [2, 1]
    assert book.total_rows == 3
    assert list(book.rows("households")) == [(2, ["A-1", "张三"]), (4, ["A-2", "李四"])]
    assert list(book.rows("members")) == [(2, ["A-1"])]


@pytest.mark.parametrize(("chunk", "tail"), [(97, 4096), (101, 64), (4096, 64)])
def test_rows_and_merged_ranges_are_found_across_chunks(tmp_path, monkeypatch, chunk, tail):
    """The scan reads the sheet a chunk at a time; a row, a value or a merged range cut in two
    between chunks is counted once."""
    sheets = {
        "households": [["A-1", "张三"], [None, None], ["A-2", "李四"], ["A-3", None]] * 30,
        "members": [],
    }
    layout = {"headers": SHEETS, "formatted_to": {"households": 400}}
    plain = write_workbook(tmp_path / "plain.xlsx", sheets, **layout)
    merged = write_workbook(
        tmp_path / "merged.xlsx", sheets, merged={"households": ["B3:B4", "A60:B61"]}, **layout
    )
    monkeypatch.setattr("imports.workbook.CHUNK", chunk)
    monkeypatch.setattr("imports.workbook.TAIL", tail)
    assert open_workbook(plain, SHEETS).total_rows == 90
    errors = refused(merged)
    assert [(e.row, e.column) for e in errors] == [(3, "姓名"), (60, "档案编号、姓名")]
    monkeypatch.setattr("imports.workbook.MAX_FORMULA_ERRORS", 0)  # the merged ones, too
    [more] = refused(merged)
    assert more.message == "另有 2 处合并单元格。"


def test_a_sheet_with_a_namespace_prefix_is_counted():
    """Some writers spell every element with a prefix (<x:row>); the scan follows the prefix the
    sheet's <sheetData> uses."""
    from imports.workbook import _Body

    xml = (
        b'<x:worksheet xmlns:x="urn:x"><x:sheetData>'
        b'<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>h</x:t></x:is></x:c></x:row>'
        b'<x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c></x:row>'
        b'<x:row r="3"><x:c r="A3" s="1"/></x:row><x:row r="4" ht="30"/>'
        b"<x:row><x:c><x:v>2</x:v></x:c></x:row>"
        b'</x:sheetData><x:mergeCells><x:mergeCell ref="A2:A5"/></x:mergeCells></x:worksheet>'
    )
    body = _Body(width=1)
    body.feed(xml, 0, 0)
    assert (body.rows, body.last) == (2, 5)
    assert [m.ref for m in body.merged] == ["A2:A5"]


def test_a_merged_range_over_data_rows_is_one_error_naming_it(tmp_path):
    """Only a merged range's first cell holds the value, so the rows below read as blank: one
    error names the range and its column instead of a "required" error on each row."""
    path = write_workbook(
        tmp_path / "merged.xlsx",
        {
            "households": [["A-1", "张三"], ["A-2", "李四"], ["A-3", "王五"], ["A-4", "赵六"]],
            "members": [["A-1"], ["A-2"]],
        },
        headers={"households": SHEETS["households"], "members": SHEETS["members"]},
        merged={"households": ["B3:B5", "A2:B2"], "members": ["A2:A3"]},
    )
    errors = refused(path)
    assert [(e.sheet, e.row, e.column, e.message) for e in errors] == [
        (
            "households",
            2,
            "档案编号、姓名",
            "工作表“households”的 A2:B2 是合并单元格（列“档案编号、姓名”）：只有第一列有值，"
            "右边各列会读成空白。请取消合并单元格，并在每一列填写各自的值。",
        ),
        (
            "households",
            3,
            "姓名",
            "工作表“households”的 B3:B5 是合并单元格（列“姓名”）：只有第一行有值，"
            "下面各行会读成空白。请取消合并单元格，并在每一行填写该列的值。",
        ),
        (
            "members",
            2,
            "档案编号",
            "工作表“members”的 A2:A3 是合并单元格（列“档案编号”）：只有第一行有值，"
            "下面各行会读成空白。请取消合并单元格，并在每一行填写该列的值。",
        ),
    ]


def test_merged_ranges_that_read_no_data_are_let_through(tmp_path):
    """A range past the declared columns (a clerk's notes), one in the formatted rows below the
    last row holding a value, and one that joins the last declared column to the next in the
    header row read nothing the import uses."""
    path = write_workbook(
        tmp_path / "harmless.xlsx",
        {"households": [["A-1", "张三", None, "备注"], ["A-2", "李四"]], "members": []},
        headers={"households": SHEETS["households"], "members": SHEETS["members"]},
        formatted_to={"households": 100},
        merged={"households": ["D2:E3", "A50:B60", "B1:C1"]},
    )
    book = open_workbook(path, SHEETS)
    assert list(book.rows("households")) == [(2, ["A-1", "张三"]), (3, ["A-2", "李四"])]


def test_a_merged_header_is_named_with_the_column_it_hides(tmp_path):
    """Merging 档案编号 over the next header cell leaves 姓名 without its name: before, only
    "missing column 姓名" was said, with nothing about why."""
    path = write_workbook(
        tmp_path / "header.xlsx",
        {"households": [["A-1", "张三"]], "members": []},
        headers={"households": SHEETS["households"], "members": SHEETS["members"]},
        merged={"households": ["A1:B1"]},
    )
    errors = refused(path)
    assert [(e.sheet, e.row, e.column, e.message) for e in errors] == [
        (
            "households",
            1,
            "",
            "工作表“households”的表头（第1行）中，A1:B1 是合并单元格，列名无法逐列对应。"
            "请取消合并单元格，每一列填写一个列名，与导入模板一致。",
        ),
        ("households", 1, "姓名", "缺少列“姓名”。"),
    ]


@pytest.mark.django_db
def test_a_merged_org_code_is_one_error_and_writes_nothing(workbook, run, orgs):
    """A clerk merged the same 组织代码 over rows 3 to 5: one error names B3:B5 and the column,
    where each of rows 4 and 5 had a "required" error before."""
    rows = [household_row(档案编号=f"XN-000{n}") for n in range(1, 5)]
    members = [member_row(f"XN-000{n}") for n in range(1, 5)]
    report = run(workbook(rows, members, merged={"households": ["B3:B5"]}))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("households", 3, "组织代码")]
    [error] = report.errors
    assert "B3:B5" in error.message and "请取消合并单元格，并在每一行填写该列的值" in error.message
    assert not any("必填" in e.message for e in report.errors)
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_rows_only_formatted_neither_fail_nor_swell_the_progress(workbook, users, orgs):
    """A households workbook formatted down to row 5000: imported without an error, and every
    progress report has the rows holding a value as its total (before: 4,999 + 299)."""
    from imports.runner import run_import

    path = workbook(
        [household_row(), household_row(档案编号="XN-0002")],
        [member_row(), member_row("XN-0002")],
        formatted_to={"households": 5000, "members": 300},
    )
    seen = []
    report = run_import(
        "households",
        path,
        user=users["supervisor_450102"],
        dry_run=False,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert report.ok, report.errors
    assert report.sheets["households"].created == 2
    assert seen and {total for _done, total in seen} == {4}
    assert seen[-1] == (4, 4)


# --- What Excel and other writers add: validations in extLst, prefixed elements ---------------

# As Excel 2010+ saves a list validation that refers to another sheet (the template's hidden
# 选项 sheet) and a newer conditional format: after sheetData, in the sheet's extLst.
EXT_LIST = (
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB8-A0C4C4B4A4A0}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
    "<x14:formula1><xm:f>选项!$A$1:$A$5</xm:f></x14:formula1><xm:sqref>D2:D5000</xm:sqref>"
    "</x14:dataValidation></x14:dataValidations></ext>"
    '<ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    "<x14:conditionalFormattings>"
    '<x14:conditionalFormatting xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:cfRule type="expression" priority="2" id="{00000000-0000-0000-0000-000000000001}">'
    '<xm:f>选项!$A$1="x"</xm:f><x14:dxf/></x14:cfRule><xm:sqref>B2:B10</xm:sqref>'
    "</x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst>"
).encode()
CONDITIONAL_FORMAT = (
    b'<conditionalFormatting sqref="A2:A10"><cfRule type="expression" priority="1">'
    b"<formula>LEN(A2)&gt;30</formula></cfRule></conditionalFormatting>"
)
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def rewrite(path, change) -> None:
    """Rewrite the zip at `path` in place; change(name, data) gives each entry's new bytes."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            target.writestr(info, change(info.filename, data))


def test_a_header_cell_whose_shared_string_index_is_no_number_is_refused_not_a_crash(tmp_path):
    """A header cell pointing at the shared string "²" (a digit to str.isdigit(), not to int())
    is read as the text it holds: a renamed column, said as such."""
    path = write_workbook(
        tmp_path / "odd.xlsx",
        {"households": [["A-1", "张三"]], "members": []},
        headers={"households": SHEETS["households"], "members": SHEETS["members"]},
    )
    name = '<c r="B1" t="inlineStr"><is><t>姓名</t></is></c>'.encode()
    odd = '<c r="B1" t="s"><v>²</v></c>'.encode()

    def change(entry, data):
        return data.replace(name, odd) if entry == "xl/worksheets/sheet1.xml" else data

    rewrite(path, change)
    errors = refused(path)
    assert ("households", 1, "姓名", "缺少列“姓名”。") in [
        (e.sheet, e.row, e.column, e.message) for e in errors
    ]


def with_validations(path):
    """Every sheet as Excel saves the template: a conditional format after sheetData, the
    validation lists and a newer conditional format in extLst, before </worksheet>."""

    def change(name, data):
        if name.startswith("xl/worksheets/"):
            data = data.replace(b"</sheetData>", b"</sheetData>" + CONDITIONAL_FORMAT, 1)
            data = data.replace(b"</worksheet>", EXT_LIST + b"</worksheet>")
        return data

    rewrite(path, change)
    return path


@pytest.mark.django_db
def test_validation_lists_and_conditional_formats_are_not_cell_formulas(workbook, run, orgs):
    """A template opened and saved again in Excel: its list validations, referring to the
    hidden 选项 sheet, are stored as <xm:f> in extLst; they and the conditional formats were
    refused as formulas, under the name of the last cell of the sheet."""
    options = {"选项": [["在档"], ["解困"], ["脱困"], ["注销"], ["因病"]]}
    path = with_validations(workbook([household_row()], [member_row()], extra=options))
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert (
        b"<xm:f>" in xml
        and b"<formula>" in xml
        and xml.index(b"<xm:f>") > xml.index(b"</sheetData>")
    )
    report = run(path)
    assert report.ok, report.errors
    assert Household.objects.get().members.count() == 2  # the worker and the spouse


@pytest.mark.django_db
def test_a_cell_formula_beside_validation_lists_is_refused_naming_its_cell(workbook, run, orgs):
    row = household_row()
    row[20] = '=HYPERLINK("http://x")'
    path = with_validations(workbook([row], [member_row()]))
    report = run(path)
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("households", 2, "家庭住址")]
    assert "单元格 U2 含有公式" in report.errors[0].message
    assert not Household.objects.exists()


@pytest.mark.parametrize(("chunk", "tail"), [(97, 4096), (101, 64), (4096, 64)])
def test_only_cell_formulas_are_counted_across_chunks(tmp_path, monkeypatch, chunk, tail):
    """Where sheetData ends may fall anywhere in a chunk: the cells' formulas before it are
    counted once, the validations after it never."""
    rows = [["A-1", "张三"], ["A-2", '=A3&"x"'], ["A-3", "李四"]] * 20
    path = write_workbook(tmp_path / "f.xlsx", {"households": rows, "members": []}, headers=SHEETS)
    with_validations(path)
    monkeypatch.setattr("imports.workbook.CHUNK", chunk)
    monkeypatch.setattr("imports.workbook.TAIL", tail)
    errors = cell_errors(path)
    assert [(e.row, e.column) for e in errors] == [(3 + 3 * n, "姓名") for n in range(20)]


def with_prefix(path):
    """The workbook as some writers (the Open XML SDK) spell it: every element of the workbook,
    its sheets and its shared strings with the prefix x:, the texts in shared strings."""
    strings: list[bytes] = []

    def shared(match):
        strings.append(match.group(3))
        return b'<c %s t="s"%s><v>%d</v></c>' % (match.group(1), match.group(2), len(strings) - 1)

    def prefix(xml):
        xml = xml.replace(b'xmlns="' + MAIN + b'"', b'xmlns:x="' + MAIN + b'"')
        return re.sub(rb"<(/?)([A-Za-z][\w.-]*)(?=[\s/>])", rb"<\1x:\2", xml)

    def change(name, data):
        if name.startswith("xl/worksheets/"):
            return prefix(INLINE_STRING.sub(shared, data))
        if name == "xl/workbook.xml":
            return prefix(data)
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", SHARED_STRINGS_TYPE + b"</Types>")
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", SHARED_STRINGS_REL + b"</Relationships>")
        return data

    rewrite(path, change)
    items = b"".join(b'<si><t xml:space="preserve">%s</t></si>' % text for text in strings)
    table = b'<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>' % (
        MAIN,
        len(strings),
        len(strings),
        items,
    )
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", prefix(table))
    return path


INLINE_STRING = re.compile(
    rb'<c ([^>]*?)\s*t="inlineStr"([^>]*)><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>',
    re.DOTALL,
)
SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
SHARED_STRINGS_REL = (
    b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
)


@pytest.mark.django_db
def test_a_workbook_with_prefixed_elements_is_imported(workbook, run, orgs):
    """<x:worksheet><x:sheetData><x:row><x:c>: the rows were counted, but the header row was
    read as empty and the workbook refused for having none."""
    rows = [household_row(), household_row(档案编号="XN-0002", 姓名="陆小凤")]
    path = with_prefix(workbook(rows, [member_row(), member_row("XN-0002")]))
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
        strings = archive.read("xl/sharedStrings.xml")
    assert b"<x:sheetData><x:row" in sheet and b'<x:c r="A1" t="s"><x:v>0</x:v>' in sheet
    assert b"<x:si>" in strings and b"<row" not in sheet and b"<si>" not in strings
    book = open_workbook(path, {"households": HOUSEHOLD_HEADERS, "members": MEMBER_HEADERS})
    assert book.sheets["households"].header == list(HOUSEHOLD_HEADERS)
    assert book.total_rows == 4
    report = run(path)
    assert report.ok, report.errors
    assert report.sheets["households"].created == 2
    household = Household.objects.get(file_number="XN-0002")
    assert household.worker_name == "陆小凤" and household.members.count() == 2  # and self


XML_PIECES = st.sampled_from(
    [
        b"<",
        b">",
        b"/",
        b" ",
        b"c",
        b"f",
        b"x:",
        b"t",
        b"=",
        b'"e"',
        b't="e"',
        b'r="B7"',
        b"<c ",
        b"<f>",
        b"</f>",
        b"<x:f ",
        b"<x:c ",
        b"<v>#N/A</v>",
        b"of ",
        b"\n",
        b"\xe5\x8d\x97",
    ]
)


@settings(max_examples=400, deadline=None)
# A tag opened inside another before its ">" (not well-formed, yet matched by the pattern).
@example(pieces=[b"<c ", b"<", b" ", b't="e"', b">"], bounds=(0, 120))
@given(
    pieces=st.lists(XML_PIECES, max_size=40),
    bounds=st.tuples(st.integers(0, 120), st.integers(0, 120)),
)
def test_the_quick_tag_search_finds_exactly_what_the_patterns_find(pieces, bounds):
    """The scan finds formulas and error values through a literal inside them (`_tags`); it must
    give the very matches of the patterns themselves, inside the same bounds."""
    data = b"".join(pieces)
    start, stop = min(bounds), max(bounds)
    for pattern, hint in ((FORMULA, FORMULA_HINT), (ERROR_CELL, ERROR_CELL_HINT)):
        expected = [m.span() for m in pattern.finditer(data, start, stop)]
        assert [m.span() for m in _tags(pattern, hint, data, start, stop)] == expected
