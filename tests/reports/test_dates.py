"""The dates of a report: the default cut-off of a period that has not ended is today, a year
that has not begun, a cut-off or roster date after today and a stock baseline after the cut-off
are refused, each on its own field (form) or option (command). Today is frozen where it matters
(the project has no time-freezing library: timezone.localdate is patched)."""

import io
import json
import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from orgs.models import AccessLog
from reports.summary import build_years
from tests.reports.test_outputs import pdf_text

TODAY = date(2026, 12, 6)  # the day QA found the future cut-offs


@pytest.fixture
def frozen(monkeypatch):
    """frozen(day) makes `day` today for every timezone.localdate() call without an argument."""

    def freeze(day=TODAY):
        real = timezone.localdate

        def localdate(value=None, timezone=None):
            return day if value is None else real(value, timezone)

        monkeypatch.setattr("django.utils.timezone.localdate", localdate)
        return day

    return freeze


def test_the_current_year_is_reported_to_today_and_says_so(login, scenario, frozen):
    frozen()
    client = login("viewer_450100")
    query = {"org": "450100", "years": "2026"}
    body = client.get("/reports/summary/", query).content.decode()
    assert "2026年12月31日（尚未结束），数据截至 2026年12月6日" in body
    assert "数据截至 2026年12月31日" not in body
    data = client.get("/reports/summary/", {**query, "format": "json"}).json()
    assert data["period"] == {"from": "2026-01-01", "to": "2026-12-31", "cutoff": "2026-12-06"}
    text = pdf_text(client.get("/reports/summary/", {**query, "format": "pdf"}).content)
    compact = text.replace(" ", "")
    assert "（尚未结束，数据截至2026年12月6日）" in compact and "截止2026年12月6日" in compact
    book = load_workbook(
        io.BytesIO(client.get("/reports/summary/", {**query, "format": "xlsx"}).content)
    )
    info = dict(book["说明"].iter_rows(values_only=True))
    assert info["截止日期"] == "2026-12-06" and info["统计期"].endswith("（尚未结束）")


def test_a_past_year_is_reported_whole_without_the_note(login, scenario, frozen):
    frozen()
    body = login("viewer_450100").get("/reports/summary/", {"org": "450100", "years": "2024"})
    body = body.content.decode()
    assert "数据截至 2024年12月31日" in body and "尚未结束" not in body


def test_the_default_cutoff_of_a_running_year_counts_what_has_happened(orgs, scenario, frozen):
    """On 30 June 2024, the 2024 summary has the figures of that day (the cut-off test of
    test_summary), not those of 31 December; the years before are whole."""
    frozen(date(2024, 6, 30))
    data = build_years(orgs["450100"], 2023, 2024, cutoff=None, baseline=date(2023, 12, 31))
    y2023, y2024 = data["years"]["2023"], data["years"]["2024"]
    assert y2023["period"]["cutoff"] == date(2023, 12, 31)
    assert y2024["period"]["cutoff"] == date(2024, 6, 30)
    assert y2024["on_file"]["households"] == 7 and y2024["movements"]["exited"] == 0


BAD = [
    ({"years": "2027"}, "years", "2027 年尚未开始：年度最晚为今年（2026 年）。"),
    ({"years": "2025-2027"}, "years", "2027 年尚未开始"),
    ({"years": "1999"}, "years", "年度应在 2000 年至今年（2026 年）之间：1999 年早于 2000 年。"),
    (
        {"years": "2026-2017"},
        "years",
        "年度范围颠倒了：起始年 2026 晚于结束年 2017，应写作 2017-2026。",
    ),
    ({"years": "20x4"}, "years", "年度格式应为 2019 或 2017-2019。"),
    ({"years": "2026", "cutoff": "2026-12-07"}, "cutoff", "截止日期不能晚于今天（2026-12-06）"),
    ({"years": "2026", "cutoff": "2026-12-31"}, "cutoff", "截止日期不能晚于今天"),
    (
        {"years": "2024", "baseline": "2030-01-01"},
        "baseline",
        "存量基准日 2030-01-01 不能晚于截止日期 2024-12-31",
    ),
    (
        {"years": "2024", "cutoff": "2024-06-30", "baseline": "2024-07-01"},
        "baseline",
        "不能晚于截止日期 2024-06-30",
    ),
    # The default cut-off of the running year is today: a baseline after it is refused too.
    ({"years": "2026", "baseline": "2026-12-07"}, "baseline", "不能晚于截止日期 2026-12-06"),
]


@pytest.mark.parametrize("fmt", ["html", "pdf"])
@pytest.mark.parametrize(("query", "field", "message"), BAD)
def test_bad_dates_are_refused_on_their_field(login, orgs, frozen, query, field, message, fmt):
    frozen()
    response = login("viewer_450100").get(
        "/reports/summary/", {"org": "450100", "format": fmt, **query}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert "report-head" not in response.content.decode()


def test_every_field_says_what_is_wrong_with_it_at_once(login, orgs, frozen):
    """A cut-off after today is wrong whatever the years: both refusals show."""
    frozen()
    response = login("viewer_450100").get(
        "/reports/summary/", {"org": "450100", "years": "2026-2017", "cutoff": "2030-01-01"}
    )
    errors = response.context["form"].errors
    assert set(errors) == {"years", "cutoff"}
    assert "颠倒" in errors["years"][0] and "截止日期不能晚于今天" in errors["cutoff"][0]


@pytest.mark.parametrize(
    "query",
    [
        {"years": "2026", "cutoff": "2026-12-06"},  # today is a day that has passed
        {"years": "2017-2026"},
        {"years": "2000", "baseline": "1999-12-31"},  # the default (2015) is after 2000
        {"years": "2024", "cutoff": "2024-06-30", "baseline": "2024-06-30"},
    ],
)
def test_dates_within_the_rules_are_reported(login, orgs, frozen, query):
    frozen()
    response = login("viewer_450100").get("/reports/summary/", {"org": "450100", **query})
    assert not response.context["form"].errors
    assert "report-head" in response.content.decode()


def test_a_roster_of_a_day_to_come_is_refused(login, scenario, frozen):
    frozen()
    client = login("viewer_450000")  # QA's example: the region's roster
    response = client.get(
        "/reports/roster/", {"org": "450000", "on": "2030-01-01", "format": "xlsx"}
    )
    assert response["Content-Type"].startswith("text/html")
    assert response.context["form"].errors == {
        "on": ["日期不能晚于今天（2026-12-06）：2030-01-01 的在档情况还不知道。"]
    }
    assert not AccessLog.objects.filter(action="export").exists()  # nothing was exported
    today = client.get("/reports/roster/", {"org": "450000", "on": "2026-12-06", "format": "xlsx"})
    assert today.status_code == 200 and today.content[:2] == b"PK"


def test_the_roster_page_offers_today_in_its_date_field_in_chinese(login, orgs, frozen):
    """A date input takes only YYYY-MM-DD: today written the Chinese way (2026/12/06) left the
    field empty."""
    frozen()
    page = login("viewer_450100").get("/reports/roster/").content.decode()
    assert 'name="on" value="2026-12-06"' in page


def test_the_roster_form_uses_the_shared_field_layout(login, scenario, frozen):
    """Each field of the roster's form is a .field box (label, then its control, help and
    errors together) as in the other forms; an error stands in its field's box and the names
    sent are unchanged."""
    frozen()
    client = login("viewer_450000")
    query = {"org": "450000", "on": "2030-01-01", "format": "xlsx"}
    page = client.get("/reports/roster/", query).content.decode()
    form = page.split('<form method="get"')[1].split("</form>")[0]
    boxes = re.split(r'<div class="field(?=[ "])', form)[1:]
    assert len(boxes) == 4
    names = [re.search(r'name="(\w+)"', box).group(1) for box in boxes]
    assert names == ["org", "on", "format", "full_numbers"]
    (wrong,) = [box for box in boxes if box.startswith(" has-error")]
    assert 'name="on"' in wrong and "日期不能晚于今天（2026-12-06）" in wrong
    assert 'id="id_on_helptext"' in wrong and 'aria-describedby="id_on_helptext' in wrong


def run(*args):
    out = StringIO()
    call_command("annual_summary", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2027"], "--year: 2027 年尚未开始"),
        (["--years", "2025-2027"], "--years: 2027 年尚未开始"),
        (["--year", "1999"], "--year: 年度应在 2000 年至今年（2026 年）之间"),
        (["--years", "2026-2017"], "--years: 年度范围颠倒了"),
        (
            ["--year", "2026", "--cutoff", "2026-12-31"],
            "--cutoff: 截止日期不能晚于今天（2026-12-06）",
        ),
        (["--year", "2024", "--baseline", "2030-01-01"], "--baseline: 存量基准日 2030-01-01"),
        (["--year", "2026", "--baseline", "2026-12-07"], "不能晚于截止日期 2026-12-06"),
    ],
)
def test_the_command_follows_the_same_rules(orgs, frozen, args, message):
    frozen()
    with pytest.raises(CommandError) as exc:
        call_command("annual_summary", "--org", "450100", *args, stdout=StringIO())
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_the_command_reports_the_running_year_to_today(orgs, scenario, frozen):
    frozen()
    data = run("--org", "450100", "--year", "2026")
    assert data["period"]["cutoff"] == "2026-12-06"
    data = run("--org", "450100", "--years", "2025-2026")
    assert data["years"]["2025"]["period"]["cutoff"] == "2025-12-31"
    assert data["years"]["2026"]["period"]["cutoff"] == "2026-12-06"


def test_a_baseline_is_checked_against_every_year_of_a_span(login, orgs, frozen):
    """Each year's column counts stock on its own cut-off: a baseline after the first year's
    would make every file of that column stock, which the single-year report refuses; the span
    refuses it too (it was checked only against the last year's cut-off)."""
    frozen()
    client = login("viewer_450100")
    single = client.get(
        "/reports/summary/", {"org": "450100", "years": "2023", "baseline": "2024-06-30"}
    )
    assert "不能晚于截止日期 2023-12-31" in single.context["form"].errors["baseline"][0]
    span = client.get(
        "/reports/summary/", {"org": "450100", "years": "2023-2024", "baseline": "2024-06-30"}
    )
    errors = span.context["form"].errors
    assert list(errors) == ["baseline"]
    assert "2023 年的截止日期 2023-12-31" in errors["baseline"][0]
    assert "report-head" not in span.content.decode()
    with pytest.raises(CommandError, match="--baseline: .*2023 年的截止日期 2023-12-31"):
        call_command(
            "annual_summary",
            *["--org", "450100", "--years", "2023-2024", "--baseline", "2024-06-30"],
            stdout=StringIO(),
        )


def test_the_organisations_default_baseline_is_checked_as_a_typed_one(login, orgs, frozen):
    """The organisation's setting is the report's baseline when none is typed: after a year's
    cut-off it is refused as a typed one is, saying where it comes from; a baseline typed for
    the report then takes its place."""
    frozen()
    region = orgs["450000"]
    region.stock_baseline_date = date(2020, 12, 31)
    region.save()
    client = login("viewer_450100")
    for years in ("2019", "2019-2021"):
        response = client.get("/reports/summary/", {"org": "450100", "years": years})
        errors = response.context["form"].errors
        assert list(errors) == ["baseline"], years
        expected = "单位设置的存量基准日 2020-12-31 晚于 2019 年的截止日期 2019-12-31"
        assert expected in errors["baseline"][0]
    with pytest.raises(CommandError, match="--baseline: 单位设置的存量基准日 2020-12-31"):
        call_command("annual_summary", "--org", "450100", "--year", "2019", stdout=StringIO())
    typed = client.get(
        "/reports/summary/", {"org": "450100", "years": "2019-2021", "baseline": "2018-12-31"}
    )
    assert not typed.context["form"].errors and "report-head" in typed.content.decode()
    later = client.get("/reports/summary/", {"org": "450100", "years": "2021"})
    assert not later.context["form"].errors  # the default is before 2021's cut-off
