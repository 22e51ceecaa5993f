"""The templates' data validation follows what each importer accepts: Excel and WPS refuse a
value the import would refuse, and none it takes (0 in an income column), and an export meets
the validations of its own sheets."""

import datetime as dt
import re
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, range_boundaries

from imports import registry
from imports.xlsx import INT, LISTS, MONEY, Column, SheetSpec, WorkbookSpec, template_workbook
from tests.imports.conftest import household_row, id_number, member_row, write_workbook

pytestmark = pytest.mark.django_db

# (type, operator, formula1, formula2) of each column that has a rule; columns left out (free
# text) have none. The lists are compared by their kind only, their values elsewhere.
MONEY_ABOVE_ZERO = ("decimal", "greaterThan", "0", None)
MONEY_FROM_ZERO = ("decimal", "greaterThanOrEqual", "0", None)
DATE_RULE = ("date", "between", "DATE(1990,1,1)", "DATE(2100,12,31)")
LIST = ("list",)
EXPECTED = {
    "households": {
        "households": {
            "性别": LIST,
            "是否农民工": LIST,
            "家庭人口": ("whole", "between", "1", "99"),
            "家庭月收入": MONEY_FROM_ZERO,
            "主要致困原因": LIST,
            "困难类别": LIST,
            "建档日期": DATE_RULE,
            "状态": LIST,
            "解困日期": DATE_RULE,
            "脱困日期": DATE_RULE,
            "注销日期": DATE_RULE,
            "注销原因": LIST,
        },
        "members": {
            "与户主关系": LIST,
            "健康状况": LIST,
            "就业状况": LIST,
            "月收入": MONEY_FROM_ZERO,
        },
    },
    "funds": {
        "receipts": {
            "资金来源": LIST,
            "年度": ("whole", "between", "1990", "2100"),
            "金额": MONEY_ABOVE_ZERO,
            "到账日期": DATE_RULE,
        },
        "payments": {
            "帮扶类型": LIST,
            "资金来源": LIST,
            "金额": MONEY_ABOVE_ZERO,
            "发放日期": DATE_RULE,
        },
        "refunds": {"资金来源": LIST, "金额": MONEY_ABOVE_ZERO, "退回日期": DATE_RULE},
    },
}


def rules_by_header(ws) -> dict:
    headers = {cell.column: cell.value for cell in ws[1]}
    rules = {}
    for dv in ws.data_validations.dataValidation:
        first, row, _last, last_row = range_boundaries(str(dv.sqref))
        assert (row, last_row) == (2, 1048576), dv.sqref  # the whole column below the header
        rules[headers[first]] = dv
    return rules


def summary(dv) -> tuple:
    if dv.type == "list":
        return LIST
    return (dv.type, dv.operator or "between", dv.formula1, dv.formula2)


@pytest.mark.parametrize("kind", ["households", "funds"])
def test_each_column_of_the_template_has_the_importers_rule(kind, orgs):
    wb = load_workbook(BytesIO(registry.template(kind)))
    for sheet, expected in EXPECTED[kind].items():
        found = {header: summary(dv) for header, dv in rules_by_header(wb[sheet]).items()}
        assert found == expected, sheet
        for dv in rules_by_header(wb[sheet]).values():
            assert dv.showErrorMessage and dv.allow_blank and dv.error


def test_the_instructions_say_what_the_rules_are(orgs):
    rows = list(load_workbook(BytesIO(registry.template("households")))["说明"].values)
    described = {(row[0], row[1]): row for row in rows if row[0] in ("households", "members")}
    assert described[("households", "家庭人口")][3] == "整数（1至99）"
    assert described[("households", "家庭月收入")][3] == "金额（元，可为0，最多两位小数）"
    assert described[("members", "月收入")][3] == "金额（元，可为0，最多两位小数）"
    notes = [row[0] for row in rows[1:8] if row[0]]
    assert any("需要审批权限" in note and "申请中" in note for note in notes)
    funds = {
        (r[0], r[1]): r for r in load_workbook(BytesIO(registry.template("funds")))["说明"].values
    }
    assert funds[("receipts", "金额")][3] == "金额（元，大于零，最多两位小数）"
    assert funds[("receipts", "年度")][3] == "整数（1990至2100）"


def test_a_column_rule_is_checked_against_its_kind():
    with pytest.raises(ValueError, match="allow_zero"):
        Column("家庭人口", kind=INT, allow_zero=True)
    with pytest.raises(ValueError, match="range"):
        Column("月收入", kind=MONEY, minimum=0)
    spec = WorkbookSpec(
        "t",
        [SheetSpec("s", [Column("a", kind=INT, minimum=3), Column("b", kind=INT)])],
    )
    rules = rules_by_header(load_workbook(BytesIO(template_workbook(spec)))["s"])
    assert summary(rules["a"]) == ("whole", "greaterThanOrEqual", "3", None)
    assert summary(rules["b"]) == ("whole", "between", "-2147483647", "2147483647")


# --- An export meets its own validations ----------------------------------------------------


def _list_values(wb, formula: str) -> set[str]:
    if formula.startswith('"'):
        return set(formula.strip('"').split(","))
    match = re.fullmatch(r"'?(.+?)'?!\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)", formula)
    sheet, letter, first, last = match.groups()
    assert sheet == LISTS
    column = column_index_from_string(letter)
    cells = wb[sheet].iter_rows(min_row=int(first), max_row=int(last), values_only=True)
    return {row[column - 1] for row in cells}


def _bound(formula: str, kind: str):
    if kind == "date":
        return dt.date(*map(int, re.fullmatch(r"DATE\((\d+),(\d+),(\d+)\)", formula).groups()))
    return Decimal(formula)


OPERATORS = {
    "between": lambda v, low, high: low <= v <= high,
    "greaterThan": lambda v, low, _high: v > low,
    "greaterThanOrEqual": lambda v, low, _high: v >= low,
    "lessThanOrEqual": lambda v, low, _high: v <= low,
}


def satisfies(wb, dv, value) -> bool:
    """Whether Excel would accept the value in a cell under the validation."""
    if dv.type == "list":
        return value in _list_values(wb, dv.formula1)
    if dv.type == "date":
        if not isinstance(value, dt.datetime):  # what openpyxl reads a date cell as
            return False
        value = value.date()
    elif isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    else:
        value = Decimal(str(value))
        if dv.type == "whole" and value != value.to_integral_value():
            return False
    low = _bound(dv.formula1, dv.type)
    high = _bound(dv.formula2, dv.type) if dv.formula2 else None
    return OPERATORS[dv.operator or "between"](value, low, high)


def assert_meets_its_validations(content: bytes) -> int:
    """Every validated cell of every data sheet holds an accepted value; the number checked."""
    wb = load_workbook(BytesIO(content))
    checked = 0
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            column, _row, _c, _r = range_boundaries(str(dv.sqref))
            for (value,) in ws.iter_rows(
                min_row=2, min_col=column, max_col=column, values_only=True
            ):
                if value is None:
                    continue
                assert satisfies(wb, dv, value), (ws.title, ws.cell(1, column).value, value)
                checked += 1
    return checked


def test_a_households_export_with_zero_incomes_meets_its_validations(
    workbook, run, users, tmp_path
):
    from households.exports import export_households

    path = workbook(
        [
            household_row(
                家庭月收入=0,
                状态="注销",
                解困日期=dt.date(2017, 1, 1),
                注销日期=dt.date(2019, 2, 1),
                注销原因="死亡",
            ),
            household_row(档案编号="XN-0002", 身份证号=id_number(), 家庭月收入=800),
        ],
        [
            member_row(月收入=0, 身份证号=""),
            member_row(姓名="韦小明", 与户主关系="子女", 身份证号="", 月收入=0),
            member_row("XN-0002", 月收入=0),
        ],
    )
    assert run(path).ok
    content = export_households(user=users["supervisor_450102"], full=True)
    wb = load_workbook(BytesIO(content))
    incomes = [row[6] for row in wb["members"].iter_rows(min_row=2, values_only=True)]
    assert incomes.count(0) >= 3  # the export writes 0.00 where nobody earns
    assert [row[9] for row in wb["households"].iter_rows(min_row=2, values_only=True)] == [0, 800]
    assert assert_meets_its_validations(content) > 20


def test_a_funds_export_meets_its_validations(run, users, orgs, tmp_path):
    from funds.importing import export_funds
    from funds.workbook import SHEETS

    receipt = [
        "450102",
        "中央财政",
        2016,
        "10000.00",
        dt.date(2016, 1, 10),
        "桂财行〔2016〕1号",
        "",
    ]
    refund = ["450102", "中央财政", "500.00", dt.date(2016, 12, 1), "桂财行〔2016〕9号"]
    path = write_workbook(
        tmp_path / "funds.xlsx",
        {"receipts": [receipt], "payments": [], "refunds": [refund]},
        headers=SHEETS,
    )
    report = run(path, user="finance_450102", kind="funds")
    assert report.ok, report.errors
    content = export_funds(user=users["finance_450102"])
    assert assert_meets_its_validations(content) == 7  # 4 cells of the receipt, 3 of the refund
