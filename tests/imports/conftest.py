"""Workbooks for the import tests, built with openpyxl, and a household row factory."""

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Border, Side

from households.idnumbers import make_id_number
from households.importing import HOUSEHOLD_HEADERS, MEMBER_HEADERS
from tests.households.conftest import dibao, make_household, walk  # noqa: F401

_sequence = iter(range(100, 100_000))


def id_number(year=1975, area="450102"):
    return make_id_number(area, dt.date(year, 6, 1), next(_sequence))


def write_workbook(
    path: Path, sheets: dict[str, list[list]], *, headers=None, formatted_to=None, merged=None
) -> Path:
    """An .xlsx with one sheet per entry: the header row (given, or the declared one for the
    households/members sheets), then the rows as given (a str starting with "=" is a formula).

    `formatted_to` (sheet -> row number) gives every cell of the header's columns a border down
    to that row, as a template formatted in advance, and the row after it a height (a row with
    no cells); `merged` (sheet -> ranges such as "B3:B7") merges cells as a clerk would, which
    leaves only the first cell of each range its value."""
    book = Workbook()
    book.remove(book.active)
    declared = {"households": HOUSEHOLD_HEADERS, "members": MEMBER_HEADERS, **(headers or {})}
    border = Border(*[Side(style="thin")] * 4)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        if declared.get(name) is not None:
            sheet.append(list(declared[name]))
        for row in rows:
            sheet.append(list(row))
        last = (formatted_to or {}).get(name)
        if last:
            width = len(declared.get(name) or ()) or sheet.max_column
            for number in range(2, last + 1):
                for column in range(1, width + 1):
                    sheet.cell(number, column).border = border
            sheet.row_dimensions[last + 1].height = 30
        for cells in (merged or {}).get(name, ()):
            sheet.merge_cells(cells)
    book.save(path)
    return path


def with_cached_values(path: Path, values: dict[str, str]) -> Path:
    """Give formula cells (written by openpyxl from "=..." strings, without a result) the
    cached text result Excel saves with them: cell reference -> value, on every sheet, as
    `<c r="B13" t="str"><f>…</f><v>其他X</v></c>`. A reader taking cached values (openpyxl's
    data_only, python-calamine) then reads that text."""
    import re
    import zipfile
    from xml.sax.saxutils import escape

    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    for name, data in parts.items():
        if not name.startswith("xl/worksheets/"):
            continue
        for cell, value in values.items():
            formula = re.compile(rf'<c r="{cell}"([^>]*)>(<f>.*?</f>)<v ?/>(</c>)'.encode())
            cached = rf'<c r="{cell}"\1 t="str">\2<v>{escape(value)}</v>\3'.encode()
            data = formula.sub(cached, data)
        parts[name] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def household_row(**values) -> list:
    """A valid households row (an on-file file of county 450102); keyword = Chinese header."""
    row = {
        "档案编号": "XN-0001",
        "组织代码": "450102",
        "姓名": "韦小宝",
        "性别": "男",
        "身份证号": None,
        "联系电话": "13800138000",
        "工作单位": "南宁糖业股份有限公司",
        "是否农民工": "否",
        "家庭人口": None,
        "家庭月收入": 1500,
        "主要致困原因": "因病",
        "困难类别": "深度困难",
        "建档日期": dt.date(2016, 3, 1),
        "状态": "在档",
        "解困日期": None,
        "脱困日期": None,
        "注销日期": None,
        "注销原因": None,
        "开户银行": "中国工商银行南宁分行",
        "银行账号": "6217000012345678",
        "家庭住址": "南宁市民生路1号",
    }
    unknown = set(values) - set(row)
    assert not unknown, unknown
    row.update(values)
    if row["身份证号"] is None:
        row["身份证号"] = id_number()
    return [row[h] for h in HOUSEHOLD_HEADERS]


def application_row(**values) -> list:
    """A households row in state 申请中 (an application, no filing date): what a clerk, who
    may not import approved files, brings in."""
    return household_row(**{"状态": "申请中", "建档日期": None, **values})


def member_row(file_number="XN-0001", **values) -> list:
    row = {
        "档案编号": file_number,
        "姓名": "李芳",
        "与户主关系": "配偶",
        "身份证号": None,
        "健康状况": "慢性病",
        "就业状况": "灵活就业",
        "月收入": 500,
    }
    unknown = set(values) - set(row)
    assert not unknown, unknown
    row.update(values)
    if row["身份证号"] is None:
        row["身份证号"] = id_number(1978)
    return [row[h] for h in MEMBER_HEADERS]


@pytest.fixture
def workbook(tmp_path):
    """workbook(households=[...], members=[...]) -> path of a households workbook."""
    counter = iter(range(1000))

    def _make(households=(), members=(), *, extra=None, headers=None, **layout):
        """`layout`: formatted_to and merged, as write_workbook takes them."""
        sheets = {"households": list(households), "members": list(members), **(extra or {})}
        path = tmp_path / f"book{next(counter)}.xlsx"
        return write_workbook(path, sheets, headers=headers, **layout)

    return _make


@pytest.fixture
def run(users):
    """run(path, user="supervisor_450102", dry_run=False) -> ImportReport. The default importer
    is the county's supervisor: household_row() is a file on record, which a clerk may not
    import (households.importing check_approvals); tests of who may import name the user."""
    from imports.runner import run_import

    def _run(path, user="supervisor_450102", dry_run=False, kind="households"):
        return run_import(kind, path, user=users[user], dry_run=dry_run)

    return _run
