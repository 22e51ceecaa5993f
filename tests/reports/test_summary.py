"""Every figure of the summary on a hand-built history (tests/reports/conftest.py)."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.models import Cause, Transition
from reports.selectors import Period, household_figures
from reports.summary import build, build_years
from tests.reports.conftest import build as history

PERIOD = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31), date(2023, 12, 31))


def summary(orgs, code="450100", cutoff=date(2024, 12, 31)):
    org = orgs[code]
    period = Period(date(2024, 1, 1), date(2024, 12, 31), cutoff, date(2023, 12, 31))
    return build(org, period)


def test_on_file_at_the_cutoff(orgs, scenario):
    on_file = summary(orgs)["on_file"]
    assert {
        k: on_file[k]
        for k in ("households", "relieved", "stock", "relapsed", "migrant_workers", "new")
    } == {
        "households": 6,
        "relieved": 1,
        "stock": 2,
        "relapsed": 1,
        "migrant_workers": 1,
        "new": 3,
    }
    assert on_file["by_cause"]["illness"] == 5 and on_file["by_cause"]["disability"] == 1
    assert on_file["by_cause"]["accident"] == 0  # every code present, even when zero
    assert on_file["by_category"] == {
        "deep": 2,
        "relative": 1,
        "accident": 0,
        "dibao": 0,
        "near_dibao": 0,
    }


def test_movements_of_the_year(orgs, scenario):
    moved = summary(orgs)["movements"]
    assert moved["applied"] == 5  # H2, H4 (reopened), H5, H8, H10
    assert moved["filed"] == 4  # H2, H4, H7, H10 (H8 is filed after the cut-off)
    assert moved["relieved"] == 2  # H2; H3 relieved and exited in the same year counts in both
    assert moved["relieved_stock"] == 1  # H3, filed before the baseline (H2 is new)
    assert moved["exited"] == 1 and moved["exited_stock"] == 1
    assert moved["deregistered"] == 1
    assert moved["deregistered_by_reason"] == {
        "death": 1,
        "moved": 0,
        "not_eligible": 0,
        "false_information": 0,
        "other": 0,
    }
    assert moved["under_review"] == 2  # H5 and H8 at 31 Dec


def test_target_rate(orgs, scenario):
    target = summary(orgs)["target"]
    assert target["on_file_at_start"] == 4  # H1, H3, H6, H9 on 31 Dec 2023
    # Households relieved or exited: H2 and H3. H3, relieved in April and exited in September,
    # is one household (its two movements once made this 0.75).
    assert target["relieved_or_exited"] == 2
    assert str(target["rate"]) == "0.5000" and target["met"] is True


def test_events_after_the_cutoff_do_not_exist(orgs, scenario):
    data = summary(orgs, cutoff=date(2024, 6, 30))
    assert data["on_file"]["households"] == 7 and data["on_file"]["relieved"] == 2
    moved = data["movements"]
    assert (
        moved["applied"],
        moved["filed"],
        moved["relieved"],
        moved["exited"],
        moved["deregistered"],
        moved["under_review"],
    ) == (2, 3, 2, 0, 0, 0)


def test_consolidation_and_children(orgs, scenario):
    data = summary(orgs)
    children = {child["organisation"]["code"]: child for child in data["children"]}
    assert set(children) == {"450102", "450103"}
    assert children["450102"]["on_file"]["households"] == 4
    assert children["450103"]["on_file"]["households"] == 2
    assert "children" not in children["450102"]
    for key in ("households", "stock", "relapsed", "migrant_workers"):
        assert data["on_file"][key] == sum(c["on_file"][key] for c in children.values())
    region = summary(orgs, code="450000")
    assert region["on_file"]["households"] == 6  # the same subtree seen from the region


def test_county_sees_only_its_own(orgs, scenario):
    assert summary(orgs, code="450103")["on_file"]["households"] == 2


def test_multi_year_columns(orgs, scenario):
    data = build_years(orgs["450100"], 2023, 2024, cutoff=None, baseline=date(2023, 12, 31))
    assert list(data["years"]) == ["2023", "2024"]
    y2023 = data["years"]["2023"]
    assert y2023["movements"]["filed"] == 2  # H3, H6
    assert y2023["on_file"]["households"] == 4
    assert data["years"]["2024"]["movements"]["filed"] == 4


def test_empty_year_is_a_valid_report(orgs, scenario):
    # The scenario's baseline (2023) is after 2010's cut-off: the report is given its own.
    data = build_years(orgs["450100"], 2010, 2010, cutoff=None, baseline=date(2009, 12, 31))
    data = data["years"]["2010"]
    assert data["on_file"]["households"] == 0 and data["movements"]["applied"] == 0
    assert data["target"]["rate"] is None  # no households at the start: not applicable


def run(*args):
    out = StringIO()
    call_command("annual_summary", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def test_command_json_shape(orgs, scenario):
    data = run("--org", "450100", "--year", "2024", "--baseline", "2023-12-31")
    assert set(data) == {
        "organisation",
        "period",
        "on_file",
        "movements",
        "funds",
        "services",
        "target",
        "compared",
        "children",
    }
    assert data["compared"] == "children"
    assert data["organisation"] == {"code": "450100", "name": "南宁市总工会"}
    assert data["period"] == {"from": "2024-01-01", "to": "2024-12-31", "cutoff": "2024-12-31"}
    assert set(data["on_file"]) == {
        "households",
        "relieved",
        "stock",
        "relapsed",
        "migrant_workers",
        "by_cause",
        "by_category",
    }
    assert set(data["movements"]) == {
        "applied",
        "filed",
        "relieved",
        "relieved_stock",
        "exited",
        "exited_stock",
        "deregistered",
        "deregistered_by_reason",
        "under_review",
    }
    assert set(data["services"]) == {
        "cases_by_window",
        "cases_total",
        "legal_aid",
        "job_referrals",
        "trainees",
    }
    assert data["services"]["legal_aid"]["wages_recovered"] == "0.00"
    assert data["target"] == {  # H2, H3 of H1, H3, H6, H9
        "rate": "0.5000",
        "goal": "0.30",
        "relieved_or_exited": 2,
        "on_file_at_start": 4,
    }
    assert [c["organisation"]["code"] for c in data["children"]] == ["450102", "450103"]
    assert "children" not in data["children"][0]


def test_command_years_and_cutoff(orgs, scenario):
    data = run("--org", "450100", "--years", "2023-2024", "--cutoff", "2024-06-30")
    assert list(data["years"]) == ["2023", "2024"]
    assert data["years"]["2024"]["period"]["cutoff"] == "2024-06-30"
    assert data["years"]["2023"]["period"]["cutoff"] == "2023-12-31"


def test_command_finds_an_organisation_code_in_any_case(orgs, scenario):
    """Codes are unique whatever their case (orgs.Organisation): "gx4501" names "GX4501"."""
    city = orgs["450100"]
    city.code = "GX4501"
    city.save()
    data = run("--org", "gx4501", "--year", "2024")
    assert data["organisation"]["code"] == "GX4501"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "999999", "--year", "2024"], "没有代码为 999999 的组织"),
        (["--org", "450100", "--year", "2024", "--cutoff", "2025-01-31"], "不在统计期"),
        # A cut-off ends the last year; the years before it are whole, so none may fall there.
        (
            ["--org", "450100", "--years", "2023-2024", "--cutoff", "2023-06-30"],
            "截止日期只限定最后一年",
        ),
        (["--org", "450100", "--year", "2023-2024"], "--year 只接受一个年度"),
        (["--org", "450100", "--years", "2014-2024"], "一次最多对比 10 个年度"),
        (["--org", "450100", "--year", "2024", "--format", "docx"], "未知的格式"),
        (["--org", "450100", "--year", "20x4"], "年度格式"),
        (["--org", "450100", "--year", "2024", "--cutoff", "31/12/2024"], "YYYY-MM-DD"),
        (["--org", "450100", "--year", "2024", "--format", "pdf"], "--output"),
        (
            [
                "--org",
                "450100",
                "--year",
                "2024",
                "--format",
                "pdf",
                "--output",
                "/nonexistent/x.pdf",
            ],
            "--output: 无法写入 /nonexistent/x.pdf",
        ),
        (
            ["--org", "450100", "--year", "2024", "--output", "/nonexistent/x.json"],
            "--output: 无法写入 /nonexistent/x.json",
        ),
    ],
)
def test_command_errors_are_one_line(orgs, args, message):
    with pytest.raises(CommandError) as exc:
        call_command("annual_summary", *args, stdout=StringIO())
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_history_copies_follow_the_household_from_the_day_of_the_change(orgs, scenario):
    """The summary reads the file's organisation and cause copied onto its history rows
    (Transition): editing the file moves it in the report from the day of the edit on, and a
    past period's report stays as it was (see test_fact_changes)."""
    from django.utils import timezone

    today = timezone.localdate()
    now = Period(date(today.year, 1, 1), today, today, date(2023, 12, 31))

    def present():
        data = build(orgs["450100"], now)
        children = {c["organisation"]["code"]: c["on_file"]["households"] for c in data["children"]}
        causes = data["on_file"]["by_cause"]
        return causes["disaster"], causes["disability"], children["450102"], children["450103"]

    before, present_before = summary(orgs), present()
    household = scenario["H9"]  # on file in 450103, disability
    household.primary_cause = Cause.objects.get(code="disaster")
    household.organisation = orgs["450102"]
    household.save()
    assert summary(orgs) == before  # 2024, a past period
    disaster, disability, county_a, county_b = present_before
    assert present() == (disaster + 1, disability - 1, county_a + 1, county_b - 1)


def test_bulk_written_history_is_repaired_by_copy_facts(orgs, scenario):
    expected = summary(orgs)
    Transition.objects.update(organisation=None, primary_cause=None, filed_on=None, origin="")
    assert summary(orgs)["on_file"]["households"] == 0  # rows without copies count nowhere
    assert Transition.objects.all().copy_facts() == Transition.objects.count()
    assert summary(orgs) == expected


@pytest.mark.parametrize("children", [0, 2])
def test_history_is_scanned_four_times_whatever_the_children(orgs, scenario, children):
    parts = list(orgs["450100"].children.order_by("code"))[:children]
    period = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31), date(2023, 12, 31))
    with CaptureQueriesContext(connection) as queries:
        household_figures(orgs["450100"], period, parts)
    scans = [q["sql"] for q in queries.captured_queries if "households_transition" in q["sql"]]
    # current spans, spans closed since the start, movements, households relieved or exited twice
    assert len(scans) == 4
    assert not any("households_household" in sql for sql in scans)  # no join with the files


def test_the_comparison_of_children_adds_up_to_the_total(orgs, scenario):
    """A county keeps its files itself, its base unions none: the 本级 row holds them. A retired
    child with files is still listed (its files still count in the total)."""
    from reports.summary import COMPARED, comparison

    def adds_up(data):
        rows = comparison(data)
        for key, figure in COMPARED.items():
            assert sum(row[key] for row in rows) == figure(data), key
        return {row["name"]: row["households"] for row in rows}

    period = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31), date(2023, 12, 31))
    county = adds_up(build(orgs["450102"], period))
    assert county["本级"] == 4 and sum(county.values()) == 4  # H1, H2, H4, H7
    assert adds_up(build(orgs["450100"], period)) == {"兴宁区总工会": 4, "青秀区总工会": 2}
    orgs["450103"].is_active = False
    orgs["450103"].save()
    assert adds_up(build(orgs["450100"], period)) == {"兴宁区总工会": 4, "青秀区总工会": 2}


def test_a_retired_child_with_only_service_cases_stays_listed(users, orgs):
    """Its cases count in the total; dropped from the list, they would fall into 本级, which is
    what the county holds itself (it had none)."""
    from orgs.models import Organisation
    from reports.summary import comparison
    from services.models import Case, Window
    from tests.services.conftest import at

    county = orgs["450102"]
    retired = Organisation.objects.create(
        code="450102901", name="已撤销的基层工会", level="base", parent=county, is_active=False
    )
    Case.objects.create(
        organisation=retired,
        window=Window.objects.get(code="petition"),
        matter="咨询",
        handler=users["clerk_450102"],
        created_by=users["clerk_450102"],
        worker_name="王芳",
        received_at=at(2024, 5, 6, 10, 0),
    )
    rows = {row["name"]: row["cases"] for row in comparison(build(county, PERIOD))}
    assert rows.get("已撤销的基层工会") == 1 and "本级" not in rows


def test_an_unwritable_output_is_refused_before_the_report_is_built(orgs, monkeypatch):
    from reports.management.commands import annual_summary

    built = []
    monkeypatch.setattr(annual_summary, "build_years", lambda *a, **k: built.append(a))
    args = ["--org", "450100", "--years", "2015-2024", "--format", "pdf"]
    with pytest.raises(CommandError, match="无法写入"):
        call_command("annual_summary", *args, "--output", "/nonexistent/x.pdf", stdout=StringIO())
    assert built == []


def test_a_household_relieved_then_exited_in_the_year_counts_once_towards_the_target(users, orgs):
    """The target counts households (DOMAIN: "households relieved or exited each year"), not
    movements: relieved in April and exited in September is one household, not two (a county
    with one file reported 200 %)."""
    history(
        users["clerk_450102"],
        orgs["450102"],
        [
            ("applied", date(2023, 1, 5)),
            ("on_file", date(2023, 2, 1)),
            ("relieved", date(2024, 4, 1)),
            ("exited", date(2024, 9, 1)),
        ],
    )
    target = build(orgs["450102"], PERIOD)["target"]
    assert target["on_file_at_start"] == 1
    assert target["relieved_or_exited"] == 1
    assert str(target["rate"]) == "1.0000"


def test_a_household_exited_reopened_and_exited_again_counts_once(users, orgs):
    history(
        users["clerk_450102"],
        orgs["450102"],
        [
            ("applied", date(2023, 1, 5)),
            ("on_file", date(2023, 2, 1)),
            ("exited", date(2024, 3, 1)),
            ("reopen", date(2024, 5, 1)),
            ("on_file", date(2024, 6, 1)),
            ("exited", date(2024, 11, 1)),
        ],
    )
    data = build(orgs["450102"], PERIOD)
    assert data["movements"]["exited"] == 2  # the movements still count both exits
    assert data["target"]["relieved_or_exited"] == 1


def test_a_household_that_moved_county_counts_once_where_it_was_first_relieved(users, orgs):
    """Relieved in one county, moved to another and exited there: one household for the city,
    and it counts in the county that relieved it (the counties still add up to the city)."""
    household = history(
        users["clerk_450102"],
        orgs["450102"],
        [
            ("applied", date(2023, 1, 5)),
            ("on_file", date(2023, 2, 1)),
            ("relieved", date(2024, 4, 1)),
            ("exited", date(2024, 9, 1)),
        ],
    )
    # The file moved to 450103 between the two (the rows from then on carry its new county).
    household.transitions.filter(effective_date=date(2024, 9, 1)).update(
        organisation=orgs["450103"]
    )
    city = build(orgs["450100"], PERIOD)
    counted = {c["organisation"]["code"]: c["target"] for c in city["children"]}
    counted = {code: target["relieved_or_exited"] for code, target in counted.items()}
    assert counted == {"450102": 1, "450103": 0}
    assert city["target"]["relieved_or_exited"] == 1
    assert build(orgs["450103"], PERIOD)["movements"]["exited"] == 1  # its exit is still its own


def another_city(orgs):
    """A second city with one county of its own (no files) beside Nanning's two."""
    from orgs.models import Organisation

    city = Organisation.objects.create(
        code="450200", name="柳州市总工会", level="city", parent=orgs["450000"]
    )
    Organisation.objects.create(code="450202", name="城中区总工会", level="county", parent=city)


def test_a_region_compares_its_counties_across_its_cities(orgs, scenario):
    """DOMAIN: an upper-level union sees each county side by side. Asked for counties, the
    region's last section lists every county of every city (a city's together), adding up to
    the total with what the region and its cities hold themselves."""
    from reports.summary import COMPARED, comparison

    another_city(orgs)
    by_children = build(orgs["450000"], PERIOD)
    assert [c["organisation"]["code"] for c in by_children["children"]] == ["450100", "450200"]

    data = build(orgs["450000"], PERIOD, compare="counties")
    assert data["compared"] == "counties"
    assert [c["organisation"]["code"] for c in data["children"]] == ["450102", "450103", "450202"]
    rows = comparison(data)
    assert [(row["name"], row["households"]) for row in rows] == [
        ("兴宁区总工会", 4),
        ("青秀区总工会", 2),
        ("城中区总工会", 0),
    ]
    for key, figure in COMPARED.items():
        assert sum(row[key] for row in rows) == figure(data), key
    # Each county's figures are those of its own report.
    alone = build(orgs["450102"], PERIOD, with_children=False)
    assert data["children"][0]["on_file"] == alone["on_file"]
    assert data["children"][0]["target"] == alone["target"]


def test_files_held_above_the_counties_show_as_held_by_the_region_and_cities(orgs, users):
    from django.contrib.auth.models import Group

    from orgs.models import User
    from reports.summary import comparison

    city_clerk = User.objects.create(username="clerk_450100", organisation=orgs["450100"])
    city_clerk.groups.add(Group.objects.get(name="clerk"))
    steps = [("applied", date(2024, 2, 1)), ("on_file", date(2024, 3, 1))]
    history(city_clerk, orgs["450100"], steps)
    rows = {row["name"]: row["households"] for row in comparison(
        build(orgs["450000"], PERIOD, compare="counties")
    )}  # fmt: skip
    assert rows == {"兴宁区总工会": 0, "青秀区总工会": 0, "本级及市级": 1}


def test_counties_are_compared_below_a_region_or_a_city_only(orgs, scenario):
    from django.core.exceptions import ValidationError

    # A city's counties are its children: the same list.
    assert [c["organisation"]["code"] for c in build(
        orgs["450100"], PERIOD, compare="counties"
    )["children"]] == ["450102", "450103"]  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        build_years(orgs["450102"], 2024, 2024, cutoff=None, baseline=None, compare="counties")
    assert "兴宁区总工会 以下没有县（区）总工会" in refused.value.message_dict["compare"][0]
    with pytest.raises(CommandError, match="--compare: 兴宁区总工会 以下没有县"):
        run("--org", "450102", "--year", "2024", "--compare", "counties")
    data = run("--org", "450000", "--year", "2024", "--compare", "counties")
    assert data["compared"] == "counties"
    assert [c["organisation"]["code"] for c in data["children"]] == ["450102", "450103"]


def test_the_county_comparison_reads_the_history_as_often_as_the_childrens(orgs, scenario):
    another_city(orgs)
    counts = []
    for compare in ("children", "counties"):
        with CaptureQueriesContext(connection) as queries:
            build(orgs["450000"], PERIOD, compare=compare)
        counts.append(len(queries.captured_queries))
    assert (
        counts[1] <= counts[0] + 1
    )  # the counties' ancestors: one query more, whatever their number
