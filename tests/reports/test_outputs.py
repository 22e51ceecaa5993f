"""The summary as PDF (text extracted with pdftotext, fonts with pdffonts), Excel (read back),
the page, the roster, permissions and the replica router."""

import io
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connections
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from funds import services as funds_services
from orgs.models import AccessLog
from reports import render, roster
from reports.routing import ReplicaRouter, reporting
from reports.selectors import Period
from reports.summary import build, build_years


def pdf_text(content: bytes) -> str:
    return subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def pdf_fonts(content: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    return subprocess.run(  # noqa: S603
        ["pdffonts", str(path)], capture_output=True, check=True, text=True
    ).stdout


@pytest.fixture
def replica_connection():
    """The second alias opens its own connection: close it, or dropping the test database at
    the end of the run fails because someone is still connected."""
    yield connections["replica"]
    connections["replica"].close()


@pytest.fixture
def data(orgs, scenario):
    period = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31), date(2023, 12, 31))
    return build(orgs["450100"], period)


def test_pdf_has_the_organisation_figures_and_embedded_cjk_fonts(data, tmp_path):
    content = render.to_pdf(data)
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert "南宁市总工会" in text and "解困脱困工作总结" in text
    compact = text.replace(" ", "")
    assert "截止2024年12月31日" in compact and "第1页/共" in compact
    assert "兴宁区总工会" in text and "青秀区总工会" in text  # the counties side by side
    assert "在档户数" in text and "50.0%" in text  # the target: H2, H3 of four
    fonts = pdf_fonts(content, tmp_path)
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert any("Noto-Sans-CJK-SC" in row[0] for row in rows), fonts
    # The charts' SVG text too: a Japanese face would print other forms of 解, 角 or 骨.
    assert all("CJK-SC" in row[0] for row in rows if "CJK" in row[0]), fonts
    # Every font embedded and subset: the "emb" and "sub" columns say yes.
    assert all(row[-5:-3] == ["yes", "yes"] for row in rows), fonts


def test_people_count_once_in_the_total_and_the_report_says_so(orgs, users, scenario):
    """A worker referred in two counties is one person of the city's 职业介绍（人） and one of
    each county's: the counties' figures add up to more than the city's. The PDF, the page
    and the workbook say so under the figures (the README says it of the JSON)."""
    from services.models import JobReferral
    from tests.services.conftest import id_number

    number = id_number()
    for county in ("450102", "450103"):
        JobReferral.objects.create(
            organisation=orgs[county], worker_name="王芳", worker_id_number=number,
            employer="某厂", position="焊工", referred_on=date(2024, 5, 1),
            created_by=users[f"clerk_{county}"],
        )  # fmt: skip
    period = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31), date(2023, 12, 31))
    data = build(orgs["450100"], period)
    assert data["services"]["job_referrals"]["referred"] == 1
    assert [child["services"]["job_referrals"]["referred"] for child in data["children"]] == [1, 1]

    note = "在几个下级组织都有介绍的，各下级组织的报表各计一人，本报表只计一人"
    assert note in "".join(pdf_text(render.to_pdf(data)).split())
    assert note in render_to_string("reports/_summary_body.html", render.context(data))
    book = load_workbook(io.BytesIO(render.to_xlsx(data)))
    notes = dict(book["说明"].iter_rows(values_only=True))
    assert note in notes["人数"]


def test_ten_years_print_in_full_on_landscape_pages(orgs, scenario):
    """Ten year columns (the most a range may have) fit the page: every year heads every
    table row of section 2, none is cut off at the right edge."""
    data = build_years(orgs["450100"], 2015, 2024, cutoff=None, baseline=date(2015, 12, 31))
    text = pdf_text(render.to_pdf(data))
    years = " ".join(str(year) for year in range(2015, 2025))
    headers = [" ".join(line.split()[1:]) for line in text.splitlines() if "项目" in line]
    assert headers and all(header == years for header in headers[:2])
    applied = next(line for line in text.splitlines() if "受理申请" in line)
    assert len(applied.split()) == 11


def test_excel_reads_back_with_numbers_as_numbers(data):
    book = load_workbook(io.BytesIO(render.to_xlsx(data)))
    assert {"在档情况", "解困脱困", "资金", "服务中心", "下级组织"} <= set(book.sheetnames)
    rows = {row[0]: row[1:] for row in book["在档情况"].iter_rows(min_row=2, values_only=True)}
    assert rows["在档户数"] == (6,) and rows["存量"] == (2,)
    moves = {row[0]: row[1:] for row in book["解困脱困"].iter_rows(min_row=2, values_only=True)}
    assert moves["新建档"] == (4,) and moves["解困脱困率"] == (0.5,)
    children = list(book["下级组织"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in children] == [("兴宁区总工会", 4), ("青秀区总工会", 2)]
    # Every figure of the page is in the workbook too.
    header = next(book["下级组织"].iter_rows(max_row=1, values_only=True))
    assert header == (
        "单位",
        "在档户数",
        "存量",
        "新建档",
        "解困",
        "脱困",
        "注销",
        "帮扶支出",
        "服务中心件数",
        "帮扶支出（万元）",  # after the columns of before, which keep their places
    )
    assert moves["年初在档户数"] == (data["target"]["on_file_at_start"],)
    services = {row[1] for row in book["服务中心"].iter_rows(min_row=2, values_only=True)}
    assert {"法律援助案件", "追回拖欠工资（元）", "其中农民工（元）", "职业介绍（人）"} <= services
    assert {"成功就业（人）", "参加培训（人次）"} <= services


def test_summary_page_and_downloads(login, scenario):
    client = login("viewer_450100")
    response = client.get(
        "/reports/summary/",
        {"org": "450100", "years": "2024", "cutoff": "2024-12-31", "format": "html"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "南宁市总工会" in body and "<svg" in body
    pdf = client.get("/reports/summary/", {"org": "450100", "years": "2024", "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = client.get("/reports/summary/", {"org": "450102", "years": "2024", "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    js = client.get("/reports/summary/", {"org": "450102", "years": "2024", "format": "json"})
    assert js.json()["organisation"]["code"] == "450102"


@pytest.mark.parametrize(
    ("username", "org", "expected"),
    [
        ("clerk_450102", "450102", 200),
        ("clerk_450102", "450103", 404),  # another county
        ("clerk_450102", "450100", 404),  # the union above
        ("viewer_450100", "450103", 200),
        ("finance_450103", "450103", 200),
    ],
)
def test_summary_is_scoped(login, orgs, username, org, expected):
    response = login(username).get("/reports/summary/", {"org": org, "years": "2024"})
    assert response.status_code == expected


def test_an_organisation_code_is_read_whatever_the_case_of_its_letters(login, orgs):
    """Codes are unique whatever the case (the imports and the annual_summary command read them
    so): ?org=… typed in small letters names the same organisation, still only in the
    user's subtree."""
    from orgs.models import Organisation

    Organisation.objects.create(
        code="450102A01", name="甲公司工会", level="base", parent=orgs["450102"]
    )
    Organisation.objects.create(
        code="450103B01", name="乙公司工会", level="base", parent=orgs["450103"]
    )
    client = login("clerk_450102")
    summary = client.get("/reports/summary/", {"org": "450102a01", "years": "2024"})
    assert summary.status_code == 200
    assert summary.context["form"].cleaned_data["org"] == "450102A01"
    data = client.get(
        "/reports/summary/", {"org": "450102a01", "years": "2024", "format": "json"}
    ).json()
    assert data["organisation"]["code"] == "450102A01"
    roster = client.get(
        "/reports/roster/", {"org": "450102a01", "on": "2024-12-31", "format": "xlsx"}
    )
    assert 'filename="roster-450102A01-2024-12-31.xlsx"' in roster["Content-Disposition"]
    assert client.get("/reports/summary/", {"org": "450103b01"}).status_code == 404


def test_bad_input_is_a_form_error(login, orgs):
    client = login("viewer_450100")
    response = client.get(
        "/reports/summary/", {"org": "450100", "years": "2024", "cutoff": "2025-02-01"}
    )
    assert response.status_code == 200
    assert (
        "截止日期 2025-02-01 不在统计期 2024-01-01 至 2024-12-31 之内" in response.content.decode()
    )
    response = client.get(
        "/reports/summary/", {"org": "450100", "years": "2023-2024", "cutoff": "2023-06-30"}
    )
    assert "截止日期只限定最后一年" in response.content.decode()
    response = client.get(
        "/reports/summary/", {"org": "450100", "years": "2023-2024", "cutoff": "2024-06-30"}
    )
    assert "截止日期只限定最后一年" not in response.content.decode()
    assert "2024年6月30日" in response.content.decode()
    response = client.get("/reports/summary/", {"org": "450100", "years": "2024", "format": "docx"})
    assert response.status_code == 200 and "有效的选项" in response.content.decode()


def test_a_past_roster_shows_the_status_and_filing_of_that_day(login, scenario, orgs):
    """On 2023-12-31, H3 (exited 2024) and H6 (deregistered 2024) were on file; H4's first
    filing (2021) is the one in force in mid-2021, not its 2024 refiling."""
    client = login("viewer_450100")

    def roster_on(on):
        response = client.get("/reports/roster/", {"org": "450102", "on": on, "format": "xlsx"})
        sheet = load_workbook(io.BytesIO(response.content)).active
        header = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
        return {
            row[1]: dict(zip(header, row, strict=True))
            for row in sheet.iter_rows(min_row=3, values_only=True)
        }

    end_2023 = roster_on("2023-12-31")
    numbers = {scenario[key].file_number: key for key in ("H1", "H3", "H6")}
    assert set(end_2023) == set(numbers)
    assert {line["状态"] for line in end_2023.values()} == {"在档"}
    h4 = roster_on("2021-06-30")[scenario["H4"].file_number]
    assert (h4["状态"], h4["建档日期"].date()) == ("在档", date(2021, 1, 10))
    text = pdf_text(roster.to_pdf(orgs["450102"], date(2023, 12, 31), full=False))
    assert "脱困" not in text and "注销" not in text and "性别" in text


def test_roster_masked_by_default_and_full_only_when_allowed(login, scenario, orgs):
    h1 = scenario["H1"]
    client = login("viewer_450100")
    response = client.get(
        "/reports/roster/", {"org": "450102", "on": "2024-12-31", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 4  # H1, H2, H4, H7 on file in 450102 on that day
    ids = {row[4] for row in rows}
    assert h1.id_masked in ids and h1.id_number not in ids
    assert AccessLog.objects.filter(action="export", user__username="viewer_450100").exists()
    refused = client.get(
        "/reports/roster/",
        {"org": "450102", "on": "2024-12-31", "format": "xlsx", "full_numbers": "on"},
    )
    assert refused.status_code == 403
    full = login("clerk_450102").get(
        "/reports/roster/",
        {"org": "450102", "on": "2024-12-31", "format": "xlsx", "full_numbers": "on"},
    )
    sheet = load_workbook(io.BytesIO(full.content)).active
    assert h1.id_number in {row[4] for row in sheet.iter_rows(min_row=3, values_only=True)}


def test_roster_pdf_text(scenario, orgs):
    text = pdf_text(roster.to_pdf(orgs["450102"], date(2024, 12, 31), full=False))
    assert "兴宁区总工会困难职工花名册" in text
    assert scenario["H1"].id_masked in text and scenario["H1"].id_number not in text


def test_an_english_roster_names_causes_in_english_and_its_pdf_stays_chinese(login, scenario, orgs):
    from django.utils import translation

    client = login("viewer_450100")
    client.cookies["django_language"] = "en"
    response = client.get(
        "/reports/roster/", {"org": "450102", "on": "2024-12-31", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0][9:11] == ("Primary cause", "Hardship category")
    assert {row[9] for row in rows[1:]} == {"Illness"}
    assert {row[10] for row in rows[1:]} == {"Deep hardship", None}  # H4 and H7 have none
    with translation.override("en"):
        text = pdf_text(roster.to_pdf(orgs["450102"], date(2024, 12, 31), full=False))
    assert "因病" in text and "深度困难" in text and "性别" in text
    assert "Illness" not in text


def test_roster_neutralises_formulas():
    assert roster.neutralise('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert roster.neutralise("-1+2") == "'-1+2" and roster.neutralise("张三") == "张三"


EVIL = '=HYPERLINK("http://evil.example/","点击查看")'
PERIOD = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31), date(2023, 12, 31))


def formulas(content: bytes) -> list:
    book = load_workbook(io.BytesIO(content))
    return [
        (ws.title, c.coordinate, c.value)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


def test_the_summary_workbook_neutralises_organisation_names(orgs):
    """A county names its base unions; the name must not run as a formula in the workbook the
    city or region downloads (下级组织 sheet)."""
    from orgs.models import Organisation

    county = orgs["450102"]
    Organisation.objects.create(code="450102999", name=EVIL, level="base", parent=county)
    content = render.to_xlsx(build(county, PERIOD))
    assert formulas(content) == []
    names = [row[0] for row in load_workbook(io.BytesIO(content))["下级组织"].values]
    assert "'" + EVIL in names  # kept, as text


def test_the_summary_workbook_neutralises_its_own_organisation_name(orgs):
    county = orgs["450102"]
    county.name = EVIL
    county.save()
    assert formulas(render.to_xlsx(build(county, PERIOD))) == []  # 说明 sheet's 单位


def test_the_summary_workbook_neutralises_fund_source_names(orgs):
    from funds.models import FundSource

    FundSource.objects.create(code="evil", name=EVIL)
    assert formulas(render.to_xlsx(build(orgs["450102"], PERIOD))) == []  # 资金 sheet


def test_the_roster_title_neutralises_the_organisation_name(orgs):
    county = orgs["450102"]
    county.name = EVIL
    county.save()
    assert formulas(roster.to_xlsx(county, date(2024, 12, 31), full=False)) == []


def test_the_summary_pdf_prints_a_formula_like_name_as_text(orgs):
    """The page and the PDF are templates (autoescaped) and SVG charts (escaped): the name is
    printed, never markup."""
    from django.template.loader import render_to_string

    county = orgs["450102"]
    county.name = "<b>兴宁</b>" + EVIL
    county.save()
    html = render_to_string("reports/pdf/summary.html", render.context(build(county, PERIOD)))
    assert "&lt;b&gt;兴宁&lt;/b&gt;" in html and "<b>兴宁" not in html


def test_router_sends_report_reads_to_the_replica(settings):
    router = ReplicaRouter()
    settings.REPORTS_READ_REPLICA = True
    assert router.db_for_read(None) is None
    with reporting():
        assert router.db_for_read(None) == "replica"
        assert router.db_for_write(None) == "default"
    assert router.db_for_read(None) is None
    assert router.allow_migrate("replica", "households") is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "replica"])
def test_reports_run_on_the_second_database_alias(settings, orgs, scenario, replica_connection):
    settings.REPORTS_READ_REPLICA = True
    period = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31), date(2023, 12, 31))
    with CaptureQueriesContext(connections["replica"]) as replica_queries:
        with CaptureQueriesContext(connections["default"]) as primary_queries:
            with reporting():
                data = build(orgs["450100"], period)
    assert data["on_file"]["households"] == 6
    assert len(replica_queries) > 5
    assert not [q for q in primary_queries if "households_" in q["sql"]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "replica"])
def test_a_user_who_just_wrote_reads_the_primary(settings, client, users, orgs, replica_connection):
    settings.REPORTS_READ_REPLICA = True
    client.force_login(users["clerk_450102"])
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})  # a write: POST
    with CaptureQueriesContext(connections["replica"]) as replica_queries:
        response = client.get("/reports/summary/", {"org": "450102", "years": "2024"})
    assert response.status_code == 200
    assert not replica_queries


def test_roster_lines_keep_their_columns():
    cut = roster.fit("南宁糖业股份有限公司工会联合会", 10)
    assert roster.display_width(cut) == 10 and cut.endswith("…")
    assert roster.fit(7, 4, right=True) == "   7"
    long_row = [
        "12345",
        "X" * 40,
        "欧阳娜娜娜",
        "男",
        "4" * 18,
        "长" * 30,
        "短",
        3,
        "1,234.56",
        "因病",
        "深度困难",
        "在档",
        date(2024, 1, 1),
        "",
        "6" * 19,
        "",
    ]
    short_row = [1, "A", "王", "女", "1", "", "", 1, "0.00", "", "", "", None, "", "1", ""]
    widths = [w for _, w, _ in roster.PDF_COLUMNS]
    full_width = sum(widths) + len(widths) - 1
    assert roster.display_width(roster.line(long_row)) == full_width
    # Every column starts at the same place whatever the row holds.
    assert roster.display_width(roster.line(short_row)) == full_width


def test_summary_without_a_format_is_the_page(login, orgs):
    response = login("clerk_450102").get("/reports/summary/", {"org": "450102", "years": "2024"})
    assert response.status_code == 200 and "<svg" in response.content.decode()


def test_loan_repayments_are_a_column_of_the_funds_section(
    login, users, orgs, sources, receive, filed, ask, approve, pay
):
    """Each source row adds up: opening + received − paid − refunded + repaid = closing, on the
    page, in JSON and in Excel (a repaid small loan once made the row 2,000 off)."""
    today = timezone.localdate()
    receive("10000.00", source="upper_union", on=date(today.year, 1, 2))
    loan = approve(ask(filed(), "5000.00", kind="small_loan", source="upper_union"))
    pay(loan, on=today)
    funds_services.repayment_record(
        user=users["finance_450102"], request=loan, amount=Decimal("3000.00"), repaid_on=today
    )
    client = login("viewer_450100")
    query = {"org": "450102", "years": str(today.year)}
    data = client.get("/reports/summary/", {**query, "format": "json"}).json()
    row = data["funds"]["by_source"]["upper_union"]
    assert (row["received"], row["paid"], row["repaid"], row["closing"]) == (
        "10000.00",
        "5000.00",
        "3000.00",
        "8000.00",
    )
    assert data["funds"]["total"]["repaid"] == "3000.00"
    book = load_workbook(
        io.BytesIO(client.get("/reports/summary/", {**query, "format": "xlsx"}).content)
    )
    sheet = book["资金"]
    header = [cell.value for cell in sheet[1]]
    for values in sheet.iter_rows(min_row=2, values_only=True):
        line = dict(zip(header, values, strict=True))
        assert (
            line["上年结余"] + line["拨入"] - line["支出"] - line["退回"] + line["借款归还"]
            == (line["结余"])
        )
    assert "借款归还" in client.get("/reports/summary/", query).content.decode()


def test_the_reports_address_opens_the_summary(login):
    response = login("clerk_450102").get("/reports/", follow=True)
    assert response.redirect_chain == [("/reports/summary/", 302)]
    assert response.status_code == 200


def test_the_summary_opens_on_this_year_of_the_users_own_organisation(login, orgs):
    """A first visit shows a report, not an empty form; a link naming only the organisation
    fills in the rest; the download links ask for the very report on the page."""
    year = timezone.localdate().year
    page = login("clerk_450102").get("/reports/summary/").content.decode()
    assert "兴宁区总工会（450102）</h2>" in page
    assert f"统计期 {year}年1月1日 至 {year}年12月31日" in page
    assert f"?org=450102&amp;years={year}&amp;format=pdf" in page
    viewer = login("viewer_450000")
    page = viewer.get("/reports/summary/", {"org": "450100"}).content.decode()
    assert "南宁市总工会（450100）</h2>" in page and "必填" not in page
    data = viewer.get("/reports/summary/", {"org": "450100", "format": "json"}).json()
    assert data["organisation"]["code"] == "450100" and data["period"]["from"] == f"{year}-01-01"


def test_an_emptied_year_is_still_refused(login, orgs):
    response = login("clerk_450102").get("/reports/summary/", {"org": "450102", "years": ""})
    page = response.content.decode()
    assert "这个字段是必填项" in page and "<svg" not in page


def test_an_english_reader_sees_the_causes_in_english_and_the_pdf_stays_chinese(data):
    from django.utils import translation

    with translation.override("en"):
        assert render.labels()["cause"]["illness"] == "Illness"
        assert render.labels()["category"]["deep"] == "Deep hardship"
        text = pdf_text(render.to_pdf(data))
    assert render.labels()["cause"]["illness"] == "因病"
    assert "因病" in text and "Illness" not in text


def test_a_download_is_named_by_the_date_in_china(login, scenario, monkeypatch):
    # 20:00 UTC on 31 December is already 1 January in Asia/Shanghai.
    late = datetime(2024, 12, 31, 20, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: late)
    client = login("viewer_450100")
    xlsx = client.get("/reports/summary/", {"org": "450102", "years": "2024", "format": "xlsx"})
    assert 'filename="summary-450102-2024-20250101.xlsx"' in xlsx["Content-Disposition"]


def moved_in_and_relieved(users, orgs, *, on_file_before=0, relieved=1):
    """A county with `on_file_before` files on file since 2023 and `relieved` files filed in
    2024 (new, or moved in) and relieved the same year."""
    from tests.reports.conftest import build as history

    clerk, county = users["clerk_450102"], orgs["450102"]
    for _n in range(on_file_before):
        history(clerk, county, [("applied", date(2023, 1, 5)), ("on_file", date(2023, 2, 1))])
    for _n in range(relieved):
        history(
            clerk,
            county,
            [
                ("applied", date(2024, 2, 1)),
                ("on_file", date(2024, 3, 1)),
                ("relieved", date(2024, 6, 1)),
            ],
        )
    period = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31), date(2023, 12, 31))
    return build(county, period, with_children=False)


def test_a_rate_without_households_at_the_start_is_not_applicable_in_every_output(users, orgs):
    """Households relieved in a county that had none on file at the start of the year: the
    rate divides by zero, so it is not applicable (—, JSON null), never 0 % beside a goal."""
    from reports.summary import to_json_shape

    data = moved_in_and_relieved(users, orgs)
    assert data["target"]["on_file_at_start"] == 0 and data["target"]["relieved_or_exited"] == 1
    assert data["target"]["rate"] is None and data["target"]["met"] is False
    page = render_to_string("reports/_summary_body.html", render.context(data))
    rate_row = next(line for line in page.splitlines() if "解困脱困率（目标）" in line)
    assert "—（30.0%）" in rate_row  # was 0.0%（30.0%）
    text = pdf_text(render.to_pdf(data))
    rate_line = next(line for line in text.splitlines() if "解困脱困率" in line)
    assert "—（30.0%）" in rate_line.replace(" ", "")
    book = load_workbook(io.BytesIO(render.to_xlsx(data)))
    moves = {row[0]: row[1:] for row in book["解困脱困"].iter_rows(min_row=2, values_only=True)}
    assert moves["解困脱困率"] == ("—",) and moves["解困脱困户数"] == (1,)
    shaped = to_json_shape(data)["target"]
    assert shaped["rate"] is None
    assert shaped["relieved_or_exited"] == 1 and shaped["on_file_at_start"] == 0


def test_a_rate_over_100_percent_is_explained(users, orgs):
    """Households filed (or moved in) during the year and relieved in it count among those
    relieved, not among those on file at its start: one on file, three relieved is 300 %. The
    page, PDF and workbook show the households relieved and say why."""
    data = moved_in_and_relieved(users, orgs, on_file_before=1, relieved=3)
    assert str(data["target"]["rate"]) == "3.0000"
    note = "年内新建档或转入的家庭"
    page = render_to_string("reports/_summary_body.html", render.context(data))
    assert note in page
    assert note in pdf_text(render.to_pdf(data)).replace(" ", "").replace("\n", "")
    book = load_workbook(io.BytesIO(render.to_xlsx(data)))
    moves = {row[0]: row[1:] for row in book["解困脱困"].iter_rows(min_row=2, values_only=True)}
    assert moves["解困脱困户数"] == (3,) and moves["年初在档户数"] == (1,)
    assert any(note in str(key) for key in moves)


def test_a_rate_within_100_percent_has_no_note(data):
    page = render_to_string("reports/_summary_body.html", render.context(data))
    assert "年内新建档或转入的家庭" not in page


def test_the_region_page_and_its_downloads_compare_the_counties(login, scenario):
    """The region's viewer asks for its counties side by side: the page's last section, the
    workbook's sheet, the PDF and the JSON name them, and the download links keep the choice."""
    client = login("viewer_450000")
    query = {"org": "450000", "years": "2024", "baseline": "2023-12-31", "compare": "counties"}
    body = client.get("/reports/summary/", query).content.decode()
    assert "五、各县（区）对比" in body
    assert "<td>兴宁区总工会</td>" in body and "<td>青秀区总工会</td>" in body
    assert "compare=counties&amp;format=pdf" in body
    book = load_workbook(
        io.BytesIO(client.get("/reports/summary/", {**query, "format": "xlsx"}).content)
    )
    rows = list(book["各县（区）"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in rows] == [("兴宁区总工会", 4), ("青秀区总工会", 2)]
    text = pdf_text(client.get("/reports/summary/", {**query, "format": "pdf"}).content)
    assert "各县（区）对比" in text.replace(" ", "")
    data = client.get("/reports/summary/", {**query, "format": "json"}).json()
    assert data["compared"] == "counties"
    assert [c["organisation"]["code"] for c in data["children"]] == ["450102", "450103"]
    # Without the choice the region compares its cities.
    body = client.get("/reports/summary/", {**query, "compare": ""}).content.decode()
    assert "五、下级组织对比" in body and "<td>南宁市总工会</td>" in body
    assert "<td>兴宁区总工会</td>" not in body


def test_a_county_asked_for_counties_is_told_on_the_field(login, scenario):
    response = login("viewer_450100").get(
        "/reports/summary/", {"org": "450102", "years": "2024", "compare": "counties"}
    )
    errors = response.context["form"].errors
    assert list(errors) == ["compare"]
    assert "兴宁区总工会 以下没有县（区）总工会" in errors["compare"][0]


def test_the_county_comparison_is_offered_only_above_the_counties(login, scenario):
    """A county's staff have no counties below them: the page does not offer them the choice
    it would refuse (their report compares their base unions); a city's does."""
    county = login("supervisor_450102").get("/reports/summary/").content.decode()
    assert 'name="compare"' not in county
    assert "五、下级组织对比" in county
    city = login("viewer_450100").get("/reports/summary/").content.decode()
    assert 'name="compare"' in city and 'value="counties"' in city
