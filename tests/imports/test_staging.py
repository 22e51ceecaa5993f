"""The checks across rows, made in SQL over the staged rows (imports.staging), and the flat
memory that staging is for."""

import datetime as dt
import tracemalloc
from unittest import mock

import pytest
from django.db import connection

from households.idnumbers import make_id_number
from households.models import Household, Member
from imports import bulk, registry, staging
from tests.imports.conftest import household_row, id_number, member_row


def errors_of(report):
    return [(e.sheet, e.row, e.column, e.message) for e in report.errors]


def test_a_second_self_row_is_refused(workbook, run, orgs):
    worker = id_number()
    report = run(
        workbook(
            [household_row(身份证号=worker)],
            [
                member_row(与户主关系="本人", 身份证号=worker, 姓名="韦小宝"),
                member_row(与户主关系="本人", 身份证号=None, 姓名="韦小宝"),
                member_row(),
            ],
        )
    )
    assert errors_of(report) == [
        ("members", 3, "与户主关系", "档案 XN-0001 有多名关系为“本人”的成员。")
    ]
    assert not Household.objects.exists()


def test_a_self_row_with_another_id_is_refused_and_a_later_right_one_holds(workbook, run, orgs):
    worker = id_number()
    report = run(
        workbook(
            [household_row(身份证号=worker)],
            [
                member_row(与户主关系="本人", 身份证号=id_number()),
                member_row(与户主关系="本人", 身份证号=worker),
            ],
        )
    )
    # The second 本人 is the worker's own row: it is not "a second 本人".
    assert errors_of(report) == [
        ("members", 2, "身份证号", "“本人”的身份证号与 households 工作表中该户职工的不一致。")
    ]


def test_a_file_number_after_a_refused_row_is_still_taken(workbook, run, orgs):
    report = run(
        workbook(
            [household_row(性别="未知"), household_row()],
            [member_row()],
        )
    )
    assert ("households", 3, "档案编号", "档案编号“XN-0001”与第2行重复。") in errors_of(report)
    # The members row belongs to the refused file: not "unknown file" on top.
    assert not [e for e in report.errors if e.sheet == "members"]


def test_one_person_twice_in_a_closed_file_is_refused(workbook, run, orgs):
    worker = id_number()
    report = run(
        workbook(
            [household_row(身份证号=worker, 状态="脱困", 脱困日期=dt.date(2018, 5, 1))],
            [member_row(身份证号=worker)],
        )
    )
    assert errors_of(report) == [
        (
            "members",
            2,
            "身份证号",
            "身份证号与 households 工作表第2行（档案 XN-0001）重复。",
        )
    ]


def test_the_staged_files_are_written_with_their_members_and_self_row(workbook, run, orgs):
    worker = id_number()
    report = run(
        workbook(
            [household_row(身份证号=worker, 家庭月收入=1500, 家庭人口=3)],
            [
                member_row(月收入=500),
                member_row(与户主关系="本人", 身份证号=worker, 健康状况="大病", 月收入=700),
                member_row(姓名="韦小", 与户主关系="子女", 身份证号=None, 月收入=0),
            ],
        )
    )
    assert report.ok, errors_of(report)
    household = Household.objects.get()
    assert household.household_size == 3
    assert str(household.other_monthly_income) == "300.00"  # 1500 - 500 - 700
    worker_row = household.members.get(relation=Member.Relation.SELF)
    assert (worker_row.health, str(worker_row.monthly_income)) == ("serious", "700.00")


def test_a_new_member_never_takes_the_key_of_a_deleted_one(workbook, run, orgs):
    """Keys are never given twice, as the database's own numbering never gives them (SQLite's
    AUTOINCREMENT, PostgreSQL's sequences): on SQLite the bulk path numbered new rows from
    the largest key in the table, so a member deleted with the largest key lent it to the
    next import's new member, and the member's field history mixed two people."""
    worker = id_number()
    assert run(
        workbook(
            [household_row(档案编号="A", 身份证号=worker, 家庭人口=3)],
            [
                member_row("A", 身份证号=""),
                member_row("A", 姓名="韦小明", 与户主关系="子女", 身份证号="", 月收入=0),
            ],
        )
    ).ok
    child = Member.objects.get(name="韦小明")
    assert child.pk == Member.objects.latest("pk").pk
    report = run(
        workbook(
            [household_row(档案编号="A", 身份证号=worker, 家庭人口=2)],
            [member_row("A", 身份证号="")],
        )
    )
    assert report.ok and report.sheets["members"].removed == 1
    assert not Member.objects.filter(pk=child.pk).exists()
    report = run(
        workbook(
            [household_row(档案编号="B", 身份证号=id_number(1966))],
            [member_row("B", 姓名="新成员", 身份证号="")],
        )
    )
    assert report.ok, errors_of(report)
    household = Household.objects.get(file_number="B")
    for member in household.members.all():
        assert member.pk > child.pk
        owners = set(Member.history.filter(id=member.pk).values_list("household_id", flat=True))
        assert owners == {household.pk}
    # The database's own numbering goes on after the keys the import took.
    later = Member.objects.create(household=household, relation="child", name="韦二")
    assert later.pk > max(household.members.exclude(pk=later.pk).values_list("pk", flat=True))


def _peak_of_import(workbook, run, files: int, prefix: str) -> int:
    first = dt.date({"S": 1950, "L": 1955}[prefix], 1, 1)

    def person(area, n):  # a date of birth each: id_number() repeats after 1,000
        return make_id_number(area, first + dt.timedelta(days=n), 1)

    path = workbook(
        [
            household_row(
                档案编号=f"{prefix}-{n:04d}",
                身份证号=person("450102", n),
                家庭月收入=None,
                家庭人口=2,
            )
            for n in range(files)
        ],
        [member_row(f"{prefix}-{n:04d}", 身份证号=person("450103", n)) for n in range(files)],
    )
    peaks = []
    importer = type(registry.importer("households"))  # another test may have reloaded the module
    real = importer.run

    def traced(self, *args, **kwargs):  # the workbook's reader buffers a constant 1 MB
        tracemalloc.start()
        try:
            return real(self, *args, **kwargs)
        finally:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

    with mock.patch.object(importer, "run", traced):
        report = run(path, user="supervisor_450000")
    assert report.ok, errors_of(report)[:3]
    return peaks[0]


def test_memory_stays_flat_as_the_workbook_grows(workbook, run, orgs, monkeypatch):
    """With chunks of 50 rows and of 50 new keys, 200 and 1,000 files (two rows each) peak at
    about the same heap: nothing is kept per file or per person in Python (measured: 20-30 KB
    more for the larger workbook; before staging, about 900 KB more)."""
    monkeypatch.setattr(staging, "CHUNK", 50)
    monkeypatch.setattr(bulk, "ID_BATCH", 50)
    small = _peak_of_import(workbook, run, 200, "S")
    large = _peak_of_import(workbook, run, 1000, "L")
    assert Household.objects.count() == 1200
    assert large - small < 150_000, (small, large)


@pytest.mark.postgres_only
def test_a_large_import_leaves_fresh_planner_statistics(workbook, run, orgs, monkeypatch):
    """Until autovacuum analysed them, PostgreSQL planned queries on the tables an import
    filled with the row counts from before it: right after 100,000 files the re-import's
    lookup of their relief transitions took 275 ms a chunk instead of 22 ms."""
    monkeypatch.setattr(bulk, "ANALYZE_AFTER", 6)  # rows created, both sheets
    files = [household_row(档案编号=f"AN-{n}") for n in range(3)]
    report = run(workbook(files, [member_row(f"AN-{n}") for n in range(3)]))
    assert report.ok, report.errors

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
            [["households_household", "households_member", "households_identityclaim"]],
        )
        # ANALYZE counts the rows of its own transaction (the test's) as live.
        assert dict(cursor.fetchall()) == {
            "households_household": 3,
            "households_member": 6,  # the workers' own rows and their spouses
            "households_identityclaim": 6,
        }
