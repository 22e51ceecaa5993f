"""The shared workbook writer: templates and exports the importers can read back."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from imports import cells
from imports.xlsx import (
    CHOICE,
    DATE,
    INT,
    LISTS,
    MONEY,
    YES_NO,
    Column,
    SheetSpec,
    WorkbookSpec,
    export_workbook,
    template_workbook,
)

LONG = [f"很长的选项名称第{i}号" for i in range(40)]
SPEC = WorkbookSpec(
    title="测试模板",
    notes=("每行一条记录。",),
    sheets=(
        SheetSpec(
            "people",
            (
                Column("姓名", "职工姓名", required=True),
                Column("来源", "资金来源", kind=CHOICE, choices=("中央财政", "工会经费")),
                Column("类别", "很长的列表", kind=CHOICE, choices=LONG),
                Column("金额", kind=MONEY),
                Column("日期", kind=DATE),
                Column("年度", kind=INT),
                Column("农民工", kind=YES_NO),
            ),
        ),
        SheetSpec("empty", (Column("备注"),)),
    ),
)
FORMULA = '=HYPERLINK("x")'
ROW = [FORMULA, "中央财政", LONG[39], Decimal("1200.50"), dt.date(2019, 3, 31), 2019, True]


def _validations(ws):
    return {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}


def test_template_headers_freeze_validations_and_instructions():
    wb = load_workbook(BytesIO(template_workbook(SPEC)))
    assert wb.sheetnames == ["说明", "people", "empty", LISTS]
    assert wb[LISTS].sheet_state == "hidden"
    ws = wb["people"]
    assert [c.value for c in ws[1]] == ["姓名", "来源", "类别", "金额", "日期", "年度", "农民工"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 1
    dvs = _validations(ws)
    assert dvs["B2"].type == "list" and dvs["B2"].formula1 == '"中央财政,工会经费"'
    # A long list lives on the hidden sheet and is referenced by range.
    assert dvs["C2"].formula1 == f"'{LISTS}'!$A$2:$A$41"
    assert [r[0] for r in wb[LISTS].iter_rows(min_row=2, values_only=True)] == LONG
    assert dvs["D2"].type == "decimal" and dvs["E2"].type == "date" and dvs["F2"].type == "whole"
    assert dvs["G2"].formula1 == '"是,否"'
    assert "A2" not in dvs  # free text
    rows = list(wb["说明"].iter_rows(values_only=True))
    assert rows[0][0] == "测试模板"
    described = {(r[0], r[1]): r for r in rows if r[0] in ("people", "empty")}
    assert described[("people", "来源")][5] == "中央财政、工会经费"
    assert described[("people", "姓名")][2] == "是"
    assert ("empty", "备注") in described


def test_export_writes_numbers_dates_and_neutralised_text():
    data = export_workbook(SPEC, {"people": [ROW]})
    ws = load_workbook(BytesIO(data))["people"]
    name, source, _kind, amount, day, year, migrant = ws[2]
    assert name.value == "'" + FORMULA and name.data_type == "s"
    assert amount.value == 1200.5 and amount.number_format == '#,##0.00"元"'
    assert day.is_date and day.number_format == "yyyy-mm-dd"
    assert year.value == 2019
    assert migrant.value == "是"


def test_export_reads_back_through_calamine_and_the_cell_parsers():
    data = export_workbook(SPEC, {"people": [ROW, ["李四", None, None, "0.10", None, None, False]]})
    sheet = CalamineWorkbook.from_filelike(BytesIO(data)).get_sheet_by_name("people")
    header, first, second = sheet.to_python()
    assert header == ["姓名", "来源", "类别", "金额", "日期", "年度", "农民工"]
    assert cells.text(first[0], 50) == ROW[0]
    assert cells.money(first[3]) == Decimal("1200.50")
    assert cells.day(first[4]) == dt.date(2019, 3, 31)
    assert cells.integer(first[5]) == 2019
    assert cells.yes_no(first[6]) is True
    assert cells.money(second[3]) == Decimal("0.10")
    assert cells.is_blank(second[1]) and cells.yes_no(second[6]) is False


def test_export_refuses_rows_of_the_wrong_width():
    with pytest.raises(ValueError):
        export_workbook(SPEC, {"empty": [["a", "b"]]})


def test_choice_column_needs_values():
    with pytest.raises(ValueError):
        Column("来源", kind=CHOICE)
