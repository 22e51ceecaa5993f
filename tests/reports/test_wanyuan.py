"""Amounts of the summary in 元 and 万元 (DOMAIN: reports show both; the seed writes 万元 with
four decimals, 27.0873): on the page, in the PDF and the workbook (numbers with number formats);
JSON stays in yuan."""

import io
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template
from openpyxl import load_workbook

from reports.sections import wanyuan
from tests.reports.test_outputs import pdf_text

# The number formats of the Chinese workbook: the unit follows each number.
YUAN = '#,##0.00" 元"'
WAN = '#,##0.0000" 万元"'


@pytest.mark.parametrize(
    ("yuan", "wan"),
    [
        ("270873.00", "27.0873"),  # the seed's central funds of 2018
        ("828833.00", "82.8833"),
        ("0.50", "0.0001"),  # half a unit of the last place rounds up
        ("0.49", "0.0000"),
        ("-12345.67", "-1.2346"),
        ("999999999999.99", "100000000.0000"),  # the largest amount a money column holds
    ],
)
def test_wanyuan_is_a_decimal_with_four_places(yuan, wan):
    value = wanyuan(Decimal(yuan))
    assert isinstance(value, Decimal) and str(value) == wan


def test_the_template_filter_puts_wanyuan_under_the_yuan():
    template = Template("{% load reports %}{{ a|yuan_wan }}|{{ z|yuan_wan }}|{{ a|wan }}")
    html = template.render(Context({"a": Decimal("270873.00"), "z": Decimal("0.00")}))
    assert html == '270,873.00<br><span class="wan">27.0873 万元</span>|0.00|27.0873'


@pytest.fixture
def money(orgs, scenario, receive, filed, ask, approve, pay):
    """270,873.00 yuan of central funds received by 兴宁区 in 2024, 1,000.00 of it paid."""
    receive("270873.00", source="central", org="450102", on=date(2024, 1, 5))
    request = approve(ask(filed(on=date(2023, 3, 1)), "1000.00", on=date(2024, 3, 1)))
    pay(request, on=date(2024, 3, 2))


QUERY = {"org": "450100", "years": "2024"}


def test_the_page_shows_the_funds_in_yuan_and_wanyuan(login, money):
    body = login("viewer_450100").get("/reports/summary/", QUERY).content.decode()
    received = '270,873.00<br><span class="wan">27.0873 万元</span>'
    assert body.count(received) == 2  # 中央财政 and 合计
    assert '269,873.00<br><span class="wan">26.9873 万元</span>' in body  # the balance
    assert '1,000.00<br><span class="wan">0.1000 万元</span>' in body  # paid, and 兴宁区's
    assert "金额（万元）" in body and "帮扶支出（元/万元）" in body


def test_the_pdf_shows_the_funds_in_yuan_and_wanyuan(login, money):
    content = login("viewer_450100").get("/reports/summary/", {**QUERY, "format": "pdf"}).content
    text = pdf_text(content)
    assert "27.0873 万元" in text and "26.9873 万元" in text and "0.1000 万元" in text
    # Each year's funds table begins on the page that holds its caption (the caption was left
    # alone at the foot of a page).
    pages = text.split("\f")
    for page in pages:
        if "年（元，小字为万元）" in page:
            assert "资金来源" in page.split("年（元，小字为万元）", 1)[1]


def test_the_pdf_keeps_its_pages(login, money, tmp_path):
    """The 万元 lines do not lengthen the printed summary (a zero keeps one line)."""
    content = login("viewer_450100").get("/reports/summary/", {**QUERY, "format": "pdf"}).content
    path = tmp_path / "summary.pdf"
    path.write_bytes(content)
    info = subprocess.run(  # noqa: S603
        ["pdfinfo", str(path)], capture_output=True, check=True, text=True
    ).stdout
    assert "Pages:           4" in info


def test_the_workbook_has_wanyuan_columns_as_numbers(login, money):
    content = login("viewer_450100").get("/reports/summary/", {**QUERY, "format": "xlsx"}).content
    book = load_workbook(io.BytesIO(content))
    sheet = book["资金"]
    header = [cell.value for cell in sheet[1]]
    assert header[2:] == [
        "上年结余",
        "拨入",
        "支出",
        "退回",
        "借款归还",
        "结余",
        "上年结余（万元）",
        "拨入（万元）",
        "支出（万元）",
        "退回（万元）",
        "借款归还（万元）",
        "结余（万元）",
    ]
    rows = {row[1].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)}
    for name in ("中央财政", "合计"):
        line = rows[name]
        assert line["拨入"].value == 270873 and line["拨入"].number_format == YUAN
        assert line["拨入（万元）"].value == pytest.approx(27.0873)
        assert line["拨入（万元）"].number_format == WAN
        assert line["结余（万元）"].value == pytest.approx(26.9873)
    types = {row[1]: row for row in book["帮扶项目"].iter_rows(min_row=2, values_only=True)}
    assert types["其他"][4:] == (1000, pytest.approx(0.1))
    assert book["帮扶项目"]["F2"].number_format == WAN
    children = book["下级组织"]
    assert children["J1"].value == "帮扶支出（万元）"
    assert (children["J2"].value, children["J2"].number_format) == (
        pytest.approx(0.1),
        WAN,
    )
    services = book["服务中心"]
    wages = next(
        row for row in services.iter_rows(min_row=2) if row[1].value == "追回拖欠工资（元）"
    )
    assert wages[2].number_format == YUAN
    assert (wages[3].value, wages[3].number_format) == (0, WAN)
    info = dict(book["说明"].iter_rows(values_only=True))
    assert "万元" in info["金额单位"]


def test_json_stays_in_yuan(login, money):
    data = login("viewer_450100").get("/reports/summary/", {**QUERY, "format": "json"}).json()
    central = data["funds"]["by_source"]["central"]
    assert (central["received"], central["paid"], central["closing"]) == (
        "270873.00",
        "1000.00",
        "269873.00",
    )
