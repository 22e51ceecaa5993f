"""Importing household files: bad input, dry run, matching and re-import, legacy history."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from households import idnumbers
from households.models import (
    Category,
    Household,
    IdentityClaim,
    Member,
    Status,
    Transition,
)
from orgs.pii import keyed_hash
from tests.imports.conftest import application_row, household_row, id_number, member_row

pytestmark = pytest.mark.django_db


def errors_of(report):
    return [(e.sheet, e.row, e.column, e.message) for e in report.errors]


def test_a_file_with_members_is_created_with_the_worker_as_a_member(workbook, run, orgs, users):
    worker, spouse = id_number(), id_number(1979)
    path = workbook(
        [household_row(身份证号=worker, 家庭人口=2, 家庭月收入="1500.00")],
        [member_row(身份证号=spouse, 月收入=500)],
    )
    report = run(path)
    assert report.ok, errors_of(report)
    assert report.sheets["households"].created == 1
    household = Household.objects.get(file_number="XN-0001")
    assert household.id_number == worker and household.id_hash == keyed_hash(worker)
    assert household.id_masked == worker[:6] + "********" + worker[-4:]
    assert household.bank_account == "6217000012345678"
    assert household.bank_account_masked.endswith("5678") and "*" in household.bank_account_masked
    assert household.birth_date == idnumbers.birth_date(worker)
    assert household.created_by == users["supervisor_450102"]
    own = household.members.get(relation="self")
    assert own.id_hash == household.id_hash and own.id_number == worker
    assert own.monthly_income == Decimal("1000.00")  # 1500 − the spouse's 500
    assert (household.household_size, household.monthly_income) == (2, Decimal("1500.00"))
    assert household.per_capita_income == Decimal("750.00")
    assert set(IdentityClaim.objects.values_list("id_hash", flat=True)) == {
        keyed_hash(worker),
        keyed_hash(spouse),
    }
    # Field history rows were written by the bulk path.
    assert household.history.count() == 1
    assert Member.history.filter(household_id=household.pk).count() == 2
    # The ID search of the staff pages finds the worker through the member rows.
    assert Member.objects.filter(id_hash=keyed_hash(worker)).exists()


def test_bulk_history_rows_are_copies_of_the_records_with_who_and_why(workbook, run, orgs, users):
    """The history rows are derived from the written values by column position (imports/bulk.py
    History): each must hold its record's values, the importing user and the import reason."""
    path = workbook(
        [household_row(), household_row(档案编号="XN-0002", 身份证号=id_number(1966))],
        [member_row(身份证号=id_number(1979)), member_row("XN-0002", 姓名="李四")],
    )
    assert run(path).ok
    for model in (Household, Member):
        tracked = [f.attname for f in model.history.model._meta.concrete_fields]
        tracked = [name for name in tracked if hasattr(model, name) and name != "updated_at"]
        records = {r["id"]: r for r in model.objects.values(*tracked)}
        entries = list(model.history.values(*tracked, "history_type", "history_user_id"))
        assert len(entries) == len(records) > 0
        for entry in entries:
            assert entry.pop("history_type") == "+"
            assert entry.pop("history_user_id") == users["supervisor_450102"].pk
            assert entry == records[entry["id"]]
        reasons = set(model.history.values_list("history_change_reason", flat=True))
        assert len(reasons) == 1 and "导入" in reasons.pop()


def test_dry_run_writes_nothing(workbook, run, orgs):
    report = run(workbook([household_row()], [member_row()]), dry_run=True)
    assert report.ok and report.dry_run
    assert report.sheets["households"].created == 1
    assert not Household.objects.exists() and not Transition.objects.exists()


@pytest.mark.parametrize(
    ("values", "column", "words"),
    [
        ({"组织代码": "999999"}, "组织代码", "不存在"),
        ({"组织代码": "450103"}, "组织代码", "管辖范围"),
        ({"身份证号": "450102198001011234"}, "身份证号", "校验位"),
        ({"身份证号": 450102198001011234}, "身份证号", "文本格式"),
        ({"家庭月收入": "一千元"}, "家庭月收入", "不是数字"),
        ({"家庭月收入": "1500.123"}, "家庭月收入", "两位小数"),
        ({"状态": "在档", "脱困日期": dt.date(2019, 1, 1)}, "脱困日期", "不应有"),
        ({"状态": "注销", "注销日期": dt.date(2019, 1, 1)}, "注销原因", "必须填写注销原因"),
        ({"状态": "脱困"}, "脱困日期", "必须填写"),
        ({"状态": "脱困", "脱困日期": dt.date(2015, 1, 1)}, "脱困日期", "不能早于建档日期"),
        ({"状态": "申请中"}, "建档日期", "不应有"),
        ({"建档日期": dt.date(2099, 1, 1)}, "建档日期", "不能晚于今天"),
        # The template's dates start in 1990 (imports.xlsx.FIRST_DATE), and so do the import's.
        ({"建档日期": dt.date(1989, 12, 31)}, "建档日期", "不能早于1990-01-01"),
        ({"主要致困原因": "因懒"}, "主要致困原因", "不是可选的值"),
        ({"家庭人口": 5}, "家庭人口", "有2人"),
        ({"家庭月收入": 100}, "家庭月收入", "小于成员月收入之和"),
        ({"银行账号": "6217-abc"}, "银行账号", "8至30位数字"),
    ],
)
def test_bad_rows_are_reported_by_sheet_row_and_column(workbook, run, orgs, values, column, words):
    report = run(
        workbook(
            [household_row(), household_row(档案编号="XN-0002", **values)],
            [member_row(), member_row("XN-0002")],
        )
    )
    found = [e for e in report.errors if e.column == column]
    assert found, errors_of(report)
    assert found[0].sheet == "households" and found[0].row == 3
    assert words in found[0].message
    assert not Household.objects.exists()


def test_members_whose_incomes_add_up_past_what_a_money_column_holds(workbook, run, orgs):
    """With 家庭月收入 blank the family's income is the members' sum: each income fits a money
    column, the sum need not. It is refused in the preview, on the households row, as the
    form refuses it; stored, PostgreSQL's COPY failed and on SQLite every later read of the
    file raised InvalidOperation. An update of a file on record is refused alike."""
    huge = "900000000000.00"
    members = [
        member_row(身份证号="", 月收入=huge),
        member_row(姓名="韦小明", 与户主关系="子女", 身份证号="", 月收入=huge),
    ]
    path = workbook([household_row(家庭月收入=None)], members)
    preview = run(path, dry_run=True)
    report = run(path)
    for result in (preview, report):
        assert errors_of(result) == [
            (
                "households",
                2,
                "家庭月收入",
                "家庭月收入合计 1,800,000,000,000.00 元超过可记录的上限 "
                "999,999,999,999.99 元，请核对各项收入。",
            )
        ]
    assert not Household.objects.exists()
    worker = id_number()
    assert run(workbook([household_row(身份证号=worker, 家庭月收入=None)], members[:1])).ok
    report = run(workbook([household_row(身份证号=worker, 家庭月收入=None)], members))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("households", 2, "家庭月收入")]
    assert Household.objects.get().members.count() == 2


def test_an_organisation_code_is_found_in_other_letters(workbook, run, orgs):
    """Codes are unique whatever their case: a cell typed in other letters names one
    organisation, and outside the importer's subtree it is outside, not unknown."""
    from orgs.models import Organisation

    own = Organisation.objects.create(
        code="450102A01", name="甲基层工会", level="base", parent=orgs["450102"]
    )
    Organisation.objects.create(code="450103A01", name="乙", level="base", parent=orgs["450103"])
    report = run(
        workbook(
            [
                household_row(组织代码="450102a01"),
                household_row(档案编号="XN-0002", 组织代码="450103a01", 身份证号=id_number(1966)),
            ],
            [],
        ),
        dry_run=True,
    )
    assert errors_of(report) == [
        ("households", 3, "组织代码", "组织代码“450103a01”不在您的管辖范围内。")
    ]
    assert run(workbook([household_row(组织代码="450102a01")], [])).ok
    assert Household.objects.get(file_number="XN-0001").organisation == own


def test_members_of_an_unknown_file_and_duplicate_ids_in_the_workbook(workbook, run, orgs):
    shared = id_number()
    report = run(
        workbook(
            [
                household_row(身份证号=shared),
                household_row(档案编号="XN-0002", 身份证号=shared),
                household_row(档案编号="XN-0001"),
            ],
            [member_row("XN-9999")],
        )
    )
    messages = errors_of(report)
    assert (
        "households",
        3,
        "身份证号",
        "身份证号与 households 工作表第2行（档案 XN-0001）重复。",
    ) in messages
    assert any(e[1] == 4 and "档案编号“XN-0001”与第2行重复" in e[3] for e in messages)
    assert any(e[0] == "members" and "不在 households 工作表中" in e[3] for e in messages)
    assert not Household.objects.exists()


def test_a_member_duplicating_a_worker_of_another_open_file(workbook, run, orgs):
    worker = id_number()
    report = run(
        workbook(
            [household_row(), household_row(档案编号="XN-0002", 身份证号=worker)],
            [member_row(身份证号=worker)],
        )
    )
    assert any(e.sheet == "members" and "XN-0002" in e.message for e in report.errors)


def test_a_file_refused_for_a_cell_still_has_its_duplicate_ids_named(workbook, run, orgs):
    """A file refused for a cell was left out of the checks across rows: the clerk fixed the
    cell, uploaded again and only then learned that a member's (or the worker's) ID number
    was another row's. One preview names both, and still nothing is written."""
    spouse, worker = id_number(1979), id_number(1966)
    report = run(
        workbook(
            [
                household_row(身份证号=worker),
                household_row(档案编号="XN-0002", 家庭月收入="一千元"),
                household_row(档案编号="XN-0003", 身份证号=worker, 银行账号="6217-abc"),
            ],
            [member_row(身份证号=spouse), member_row("XN-0002", 身份证号=spouse)],
        )
    )
    assert [(sheet, row, column) for sheet, row, column, _message in errors_of(report)] == [
        ("households", 3, "家庭月收入"),
        ("households", 4, "银行账号"),
        ("households", 4, "身份证号"),
        ("members", 3, "身份证号"),
    ]
    messages = {(e.sheet, e.row, e.column): e.message for e in report.errors}
    assert messages[("members", 3, "身份证号")] == (
        "身份证号与 members 工作表第2行（档案 XN-0001）重复。"
    )
    assert messages[("households", 4, "身份证号")] == (
        "身份证号与 households 工作表第2行（档案 XN-0001）重复。"
    )
    assert not Household.objects.exists()


def test_a_refused_file_meets_only_its_own_ids_when_its_state_is_unknown(workbook, run, orgs):
    """Without a valid 状态 a refused file may be closed, and a closed file may share a person
    with an open one: only a duplicate within the file itself is named."""
    spouse, child = id_number(1979), id_number(2005)
    report = run(
        workbook(
            [household_row(), household_row(档案编号="XN-0002", 状态="不明")],
            [
                member_row(身份证号=spouse),
                member_row("XN-0002", 身份证号=spouse),
                member_row("XN-0002", 姓名="韦一", 与户主关系="子女", 身份证号=child),
                member_row("XN-0002", 姓名="韦二", 与户主关系="子女", 身份证号=child),
            ],
        )
    )
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [
        ("households", 3, "状态"),
        ("members", 5, "身份证号"),
    ]
    assert "members 工作表第4行（档案 XN-0002）" in report.errors[1].message


def test_a_file_number_given_twice_is_one_file_for_the_id_check(workbook, run, orgs):
    """The later row of a file number given twice is refused for that: its worker is not
    also reported as a duplicate of the first row's, nor are the file's members doubled."""
    worker = id_number()
    report = run(
        workbook(
            [household_row(身份证号=worker), household_row(身份证号=worker, 家庭月收入="一千元")],
            [member_row()],
        )
    )
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [
        ("households", 3, "家庭月收入"),
        ("households", 3, "档案编号"),
    ]


def test_closed_legacy_files_may_share_a_person_with_an_open_file(workbook, run, orgs):
    worker = id_number()
    path = workbook(
        [
            household_row(身份证号=worker, 状态="脱困", 脱困日期=dt.date(2018, 5, 1)),
            household_row(档案编号="XN-0002", 身份证号=worker, 建档日期=dt.date(2020, 1, 1)),
        ],
        [],
    )
    report = run(path)
    assert report.ok, errors_of(report)
    assert Household.objects.count() == 2


def test_a_new_application_for_a_worker_with_a_closed_file_goes_to_reapplying(workbook, run, orgs):
    """The form sends a worker whose file is closed to 重新申请 on it (the return counts as
    返困); the import created a second file instead. Legacy rows in other states still may."""
    worker = id_number()
    exited = household_row(身份证号=worker, 状态="脱困", 脱困日期=dt.date(2018, 5, 1))
    assert run(workbook([exited], [])).ok
    application = application_row(档案编号="XN-0002", 身份证号=worker)
    report = run(workbook([application], []), user="clerk_450102")
    [error] = report.errors
    assert (error.sheet, error.row, error.column) == ("households", 2, "身份证号")
    assert "此人已有档案 XN-0001" in error.message and "重新申请" in error.message
    assert Household.objects.count() == 1
    # A county that cannot see the closed file is not stopped by it.
    other = application_row(档案编号="XQ-0002", 组织代码="450103", 身份证号=worker)
    assert run(workbook([other], []), user="clerk_450103").ok
    # A legacy file on record beside the closed one is history as the old system kept it.
    legacy = household_row(档案编号="XN-0003", 身份证号=worker, 建档日期=dt.date(2020, 1, 1))
    report = run(workbook([legacy], []))  # (refused only as the 450103 application holds him)
    assert [e.message for e in report.errors if "重新申请" in e.message] == []


def test_duplicate_against_an_open_file_in_the_system(workbook, run, orgs, make_household):
    existing = make_household()
    report = run(workbook([household_row(身份证号=existing.id_number)], [member_row()]))
    [error] = report.errors
    assert (error.sheet, error.row, error.column) == ("households", 2, "身份证号")
    assert existing.file_number in error.message
    assert Household.objects.count() == 1


def test_a_file_number_of_another_county_is_refused(workbook, run, orgs, make_household):
    other = make_household(by="clerk_450103", org="450103")
    report = run(workbook([household_row(档案编号=other.file_number)], []))
    assert any("其他组织" in e.message for e in report.errors)


@pytest.mark.parametrize("user", ["clerk_450102", "supervisor_450102"])
def test_a_file_out_of_reach_is_not_compared(workbook, run, orgs, make_household, walk, user):
    """File numbers run in sequence: a preview compared a guessed number of another county
    with its file and told its state, filing date and number of members."""
    other = walk(
        make_household(by="clerk_450103", org="450103"),
        "on_file",
        clerk="clerk_450103",
        supervisor="supervisor_450103",
    )
    row = application_row(档案编号=other.file_number, 家庭人口=2)
    report = run(workbook([row], [member_row(other.file_number)]), user=user, dry_run=True)
    [error] = report.errors
    assert (error.sheet, error.row, error.column) == ("households", 2, "档案编号")
    assert "其他组织" in error.message
    assert vars(report.sheets["members"])["created"] == 0  # its members go with the file


def test_a_category_is_of_the_scheme_of_the_files_organisation(workbook, run, orgs):
    """As on the form and in the services (eligibility.scheme_categories): in a county of the
    current scheme a legacy file filed before 2021 may be a 低保户 (DOMAIN.md "Categories": it was
    filed under the 2015 scheme), a newer file or an application may not; a county of the 2015
    scheme takes no 深度困难. A file already in the system keeps its category."""
    rows = [
        household_row(困难类别="低保户", 建档日期=dt.date(2020, 12, 31)),
        household_row(档案编号="XN-0002", 困难类别="低保户", 建档日期=dt.date(2021, 1, 1)),
        application_row(档案编号="XN-0003", 困难类别="低保边缘户"),
        household_row(档案编号="XN-0004", 困难类别="意外致困", 建档日期=dt.date(2022, 5, 1)),
    ]
    members = [member_row(number, 身份证号="") for number in ("XN-0001", "XN-0002", "XN-0003")]
    members.append(member_row("XN-0004", 身份证号=""))
    report = run(workbook(rows, members))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [
        ("households", 3, "困难类别"),
        ("households", 4, "困难类别"),
    ]
    assert report.errors[0].message == (
        "困难类别“低保户”不属于建档单位所用的困难类别标准（现行标准：深度困难、相对困难、意外致困）；"
        "2021年以前建档的档案方可填写2015—2020年标准的类别。"
    )
    assert not Household.objects.exists()

    assert run(workbook([rows[0], rows[3]], [members[0], members[3]])).ok
    county = orgs["450102"]
    county.category_scheme = "2015"
    county.save()
    report = run(workbook([household_row(档案编号="XN-0005")], [member_row("XN-0005")]))
    assert [(e.row, e.column) for e in report.errors] == [(2, "困难类别")]
    assert (
        "“深度困难”不属于建档单位所用的困难类别标准（2015—2020年标准：" in report.errors[0].message
    )
    # XN-0004 keeps its 意外致困 (in both schemes); XN-0001 was moved to 深度困难 since: an
    # update that keeps the file's category is no error.
    Household.objects.filter(file_number="XN-0001").update(
        category=Category.objects.get(code="deep")
    )
    kept = household_row(
        身份证号=rows[0][4], 困难类别="深度困难", 建档日期=dt.date(2020, 12, 31), 联系电话="139"
    )
    report = run(workbook([kept], [members[0]]))
    assert report.ok, errors_of(report)
    assert Household.objects.get(file_number="XN-0001").phone == "139"


def test_reimporting_the_same_file_creates_nothing_and_skips_every_row(workbook, run, orgs):
    path = workbook(
        [
            household_row(),
            household_row(档案编号="XN-0002", 状态="解困", 解困日期=dt.date(2019, 1, 1)),
        ],
        [member_row(), member_row("XN-0002", 身份证号="")],
    )
    assert run(path).ok
    counts = (Household.objects.count(), Member.objects.count(), Transition.objects.count())
    report = run(path)
    assert report.ok, errors_of(report)
    assert vars(report.sheets["households"]) == {
        "created": 0,
        "updated": 0,
        "skipped": 2,
        "removed": 0,
        "invalid": 0,
    }
    assert (Household.objects.count(), Member.objects.count(), Transition.objects.count()) == counts


def test_an_updates_preview_counts_each_member_row_by_what_happens_to_it(workbook, run, orgs):
    """Every members row of an updated file was counted 更新, the new and the unchanged ones
    alike."""
    worker, spouse, child = id_number(), id_number(1978), id_number(2005)
    household = household_row(身份证号=worker, 家庭月收入=None)
    son = {"姓名": "韦小明", "与户主关系": "子女", "身份证号": child, "月收入": 0}
    assert run(workbook([household], [member_row(身份证号=spouse), member_row(**son)])).ok
    changed = workbook(
        [household],
        [
            member_row(身份证号=spouse),  # as recorded
            member_row(**{**son, "健康状况": "健康"}),  # changed
            member_row(姓名="韦大山", 与户主关系="父母", 身份证号=id_number(1950), 月收入=0),
        ],
    )
    report = run(changed, dry_run=True)
    assert report.ok, errors_of(report)
    assert vars(report.sheets["households"])["updated"] == 1
    members = report.sheets["members"]
    assert (members.created, members.updated, members.skipped, members.removed) == (1, 1, 1, 0)
    report = run(workbook([household], [member_row(身份证号=spouse)]), dry_run=True)
    members = report.sheets["members"]
    assert (members.created, members.updated, members.skipped, members.removed) == (0, 0, 1, 1)


def test_two_children_of_one_name_without_id_numbers_stay_the_same_members(workbook, run, orgs):
    """Members without an ID number match by relation and name: of two such children a
    re-import kept one and deleted and re-created the other (its history broken)."""
    worker = id_number()
    household = household_row(身份证号=worker, 家庭月收入=None)
    twin = {"姓名": "韦小明", "与户主关系": "子女", "身份证号": "", "月收入": 0}
    rows = [member_row(), member_row(**twin), member_row(**{**twin, "健康状况": "健康"})]
    assert run(workbook([household], rows)).ok
    before = set(Member.objects.values_list("pk", flat=True))
    phone_changed = workbook(
        [household_row(身份证号=worker, 家庭月收入=None, 联系电话="13900139000")], rows
    )
    report = run(phone_changed, dry_run=True)
    members = report.sheets["members"]
    assert (members.created, members.updated, members.skipped, members.removed) == (0, 0, 3, 0)
    assert run(phone_changed).ok
    assert set(Member.objects.values_list("pk", flat=True)) == before
    twins = Member.objects.filter(name="韦小明").order_by("health")
    assert {member.health for member in twins} == {"healthy", "chronic"}
    assert not Member.history.filter(history_type="-").exists()


def test_a_preview_with_errors_still_says_which_files_update_or_skip(workbook, run, orgs):
    """With any error in the workbook the recorded files were not compared: every row counted
    as new."""
    same, changed = household_row(), household_row(档案编号="XN-0002")
    assert run(workbook([same, changed], [])).ok
    changed[5] = "13900000000"  # 联系电话
    wrong = household_row(档案编号="XN-0003", 组织代码="999999")
    report = run(workbook([same, changed, wrong, household_row(档案编号="XN-0004")], []))
    counts = report.sheets["households"]
    assert (counts.created, counts.updated, counts.skipped, counts.invalid) == (1, 1, 1, 1)


def test_changed_values_update_the_file_and_keep_its_history(workbook, run, orgs, users):
    worker = id_number()
    assert run(workbook([household_row(身份证号=worker)], [member_row(身份证号="")])).ok
    household = Household.objects.get()
    report = run(
        workbook(
            [
                household_row(
                    身份证号=worker,
                    联系电话="13900000000",
                    状态="脱困",
                    脱困日期=dt.date(2020, 6, 1),
                )
            ],
            [member_row(身份证号="", 月收入=800)],
        )
    )
    assert report.ok, errors_of(report)
    assert vars(report.sheets["households"]) == {
        "created": 0,
        "updated": 1,
        "skipped": 0,
        "removed": 0,
        "invalid": 0,
    }
    household.refresh_from_db()
    assert household.phone == "13900000000"
    assert household.status == Status.EXITED
    assert household.members.get(relation="spouse").monthly_income == Decimal("800.00")
    phones = list(household.history.order_by("history_id").values_list("phone", flat=True))
    assert phones[0] == "13800138000" and phones[-1] == "13900000000"
    # who and why, though a job runs the import without a request to take the user from
    supervisor = users["supervisor_450102"].pk
    for history in (household.history, Member.history.filter(household_id=household.pk)):
        assert set(history.values_list("history_user_id", flat=True)) == {supervisor}
        assert all("导入" in r for r in history.values_list("history_change_reason", flat=True))
    assert household.transitions.filter(to_status="exited", is_imported=True).exists()
    assert not household.claims.exists()  # a closed file holds no ID numbers


def test_a_file_the_import_closes_claims_none_of_its_members(workbook, run, orgs):
    """A closed file holds no ID number (IdentityClaim: the people of open files), so a member
    it shares with another open file is no conflict, as the preview says (check_claims
    compares the rows that end open). The update claimed its members before recording the
    exit, was refused there, and the refusal's message crashed with TypeError."""
    shared = id_number(1980)
    worker_a, worker_b = id_number(), id_number(1966)
    assert run(
        workbook(
            [
                household_row(档案编号="A", 身份证号=worker_a),
                household_row(档案编号="B", 身份证号=worker_b),
            ],
            [member_row("A", 身份证号=""), member_row("B", 姓名="王五", 身份证号=shared)],
        )
    ).ok
    path = workbook(
        [household_row(档案编号="A", 身份证号=worker_a, 状态="脱困", 脱困日期=dt.date(2020, 6, 1))],
        [member_row("A", 身份证号=shared)],
    )
    preview = run(path, dry_run=True)
    assert preview.ok, errors_of(preview)
    report = run(path)
    assert report.ok, errors_of(report)
    closed = Household.objects.get(file_number="A")
    assert closed.status == Status.EXITED and not closed.claims.exists()
    assert closed.members.filter(id_hash=keyed_hash(shared)).exists()
    assert IdentityClaim.objects.get(id_hash=keyed_hash(shared)).household.file_number == "B"


def test_an_id_claimed_elsewhere_after_the_checks_is_refused_on_its_row(
    workbook, run, orgs, monkeypatch
):
    """Another import (or a clerk) may file a person between the checks and the write: the
    database's unique claim refuses the update, reported on the row and cell that give the
    number, and nothing of the workbook is written."""
    from households import importing

    worker_a, worker_b, newcomer = id_number(), id_number(1966), id_number(1981)
    assert run(
        workbook(
            [
                household_row(档案编号="A", 身份证号=worker_a),
                household_row(档案编号="B", 身份证号=worker_b),
            ],
            [member_row("A", 身份证号="")],
        )
    ).ok
    other = Household.objects.get(file_number="B")
    write = importing._Run.write

    def claimed_meanwhile(self):
        IdentityClaim.objects.create(id_hash=keyed_hash(newcomer), household=other)
        return write(self)

    monkeypatch.setattr(importing._Run, "write", claimed_meanwhile)
    report = run(
        workbook(
            [household_row(档案编号="A", 身份证号=worker_a, 联系电话="13900000000")],
            [
                member_row("A", 身份证号=""),
                member_row("A", 姓名="王五", 与户主关系="子女", 身份证号=newcomer),
            ],
        )
    )
    assert [(sheet, row, column) for sheet, row, column, _message in errors_of(report)] == [
        ("members", 3, "身份证号")
    ]
    assert "此人已在档案 B" in report.errors[0].message
    assert report.sheets["households"].updated == 0
    household = Household.objects.get(file_number="A")
    assert household.phone == "13800138000" and household.members.count() == 2


def test_a_step_taken_on_the_file_after_the_checks_is_refused_on_its_row(
    workbook, run, orgs, users, monkeypatch
):
    """The file may be closed on its page between the checks and the write: the transition
    service refuses the relief the row appends, reported on the row's 状态 (it came with no
    sheet or row), and nothing of the workbook is written."""
    from households import importing, services

    worker = id_number()
    assert run(workbook([household_row(身份证号=worker)])).ok
    household = Household.objects.get()
    write = importing._Run.write

    def exited_meanwhile(self):
        services.transition_apply(
            user=users["supervisor_450102"],
            household=household,
            action="exit",
            reason="已脱困",
            effective_date=dt.date(2019, 1, 1),
            imported=True,
        )
        return write(self)

    monkeypatch.setattr(importing._Run, "write", exited_meanwhile)
    relieved = household_row(
        身份证号=worker, 联系电话="13900000000", 状态="解困", 解困日期=dt.date(2018, 7, 1)
    )
    report = run(workbook([relieved]))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("households", 2, "状态")]
    assert "不能执行" in report.errors[0].message
    household.refresh_from_db()
    assert household.phone == "13800138000"


def test_a_state_that_goes_back_is_refused(workbook, run, orgs):
    worker = id_number()
    path = workbook([household_row(身份证号=worker, 状态="脱困", 脱困日期=dt.date(2020, 6, 1))], [])
    assert run(path).ok
    report = run(workbook([household_row(身份证号=worker)], []))
    [error] = report.errors
    assert error.column == "状态" and "与系统记录不一致" in error.message


def test_legacy_history_counts_in_past_years_reports(workbook, run, orgs):
    from reports.selectors import Period
    from reports.summary import build

    rows = [
        household_row(档案编号="L-1", 建档日期=dt.date(2014, 5, 1)),  # stock, still on file
        household_row(
            档案编号="L-2", 建档日期=dt.date(2017, 2, 1), 状态="解困", 解困日期=dt.date(2018, 7, 1)
        ),
        household_row(
            档案编号="L-3", 建档日期=dt.date(2015, 3, 1), 状态="脱困", 脱困日期=dt.date(2018, 9, 1)
        ),
        household_row(
            档案编号="L-4",
            建档日期=dt.date(2016, 3, 1),
            状态="注销",
            解困日期=dt.date(2017, 1, 1),
            注销日期=dt.date(2019, 2, 1),
            注销原因="迁出",
        ),
    ]
    report = run(workbook(rows, []))
    assert report.ok, errors_of(report)
    county = orgs["450102"]
    y2018 = build(county, Period.for_years(county, 2018), with_children=False)
    assert y2018["movements"]["relieved"] == 1
    assert y2018["movements"]["exited"] == 1 and y2018["movements"]["exited_stock"] == 1
    # On file at the end of 2018: L-1, L-2 (relieved) and L-4 (relieved, deregistered in 2019).
    assert y2018["on_file"]["households"] == 3
    assert y2018["on_file"]["relieved"] == 2
    assert y2018["on_file"]["stock"] == 1
    y2016 = build(county, Period.for_years(county, 2016), with_children=False)
    assert y2016["movements"]["filed"] == 1 and y2016["on_file"]["households"] == 3
    y2019 = build(county, Period.for_years(county, 2019), with_children=False)
    assert y2019["movements"]["deregistered"] == 1
    assert y2019["movements"]["deregistered_by_reason"]["moved"] == 1
    l4 = Household.objects.get(file_number="L-4")
    chain = list(l4.transitions.order_by("effective_date").values_list("to_status", "valid_until"))
    assert chain == [
        ("on_file", dt.date(2017, 1, 1)),
        ("relieved", dt.date(2019, 2, 1)),
        ("deregistered", None),
    ]
    assert all(l4.transitions.values_list("is_imported", flat=True))


def test_a_relief_appended_with_a_move_counts_where_the_file_was_then(workbook, run, orgs, users):
    """A file moved stays in the old county's figures for the time it was there: the update
    records the backdated relief with the facts in force then, and the move from today. It
    saved the move first, and the relief then replaced the move's row and took the new county
    from 2018 on: 450102 lost the file from its 2018 summary, 450103 gained it."""
    from reports.selectors import Period
    from reports.summary import build

    worker, city = id_number(), "supervisor_450100"
    assert run(workbook([household_row(身份证号=worker)]), user=city).ok
    old, new = orgs["450102"], orgs["450103"]
    moved = household_row(
        身份证号=worker, 组织代码="450103", 状态="解困", 解困日期=dt.date(2018, 7, 1)
    )
    report = run(workbook([moved]), user=city)
    assert report.ok, errors_of(report)
    household = Household.objects.get()
    assert household.organisation == new and household.status == Status.RELIEVED
    y2018_old = build(old, Period.for_years(old, 2018), with_children=False)
    y2018_new = build(new, Period.for_years(new, 2018), with_children=False)
    assert y2018_old["movements"]["relieved"] == 1 and y2018_old["on_file"]["households"] == 1
    assert y2018_new["movements"]["relieved"] == 0 and y2018_new["on_file"]["households"] == 0
    # The move is dated today, a fact change (amend), after the relief.
    chain = list(
        household.transitions.order_by("effective_date", "id").values_list(
            "action", "organisation_id", "effective_date"
        )
    )
    assert chain == [
        ("approve", old.pk, dt.date(2016, 3, 1)),
        ("relieve", old.pk, dt.date(2018, 7, 1)),
        ("amend", new.pk, timezone.localdate()),
    ]


def test_round_trip_export_then_import(workbook, run, orgs, users, make_household, walk, tmp_path):
    from households.exports import export_households

    walk(make_household(), "on_file")
    assert run(
        workbook(
            [
                household_row(
                    状态="注销",
                    解困日期=dt.date(2017, 1, 1),
                    注销日期=dt.date(2019, 2, 1),
                    注销原因="死亡",
                )
            ],
            [member_row(), member_row(姓名="韦小明", 与户主关系="子女", 身份证号="", 月收入=0)],
        )
    ).ok
    data = export_households(user=users["clerk_450102"], full=True)
    path = tmp_path / "export.xlsx"
    path.write_bytes(data)
    before = {h.file_number: h for h in Household.objects.all()}
    report = run(path)
    assert report.ok, errors_of(report)
    assert report.sheets["households"].skipped == 2
    assert report.sheets["households"].created == report.sheets["households"].updated == 0
    # Into an empty database the same workbook creates the same files.
    Household.objects.update(current_period=None)
    Household.objects.all().delete()
    report = run(path)
    assert report.ok, errors_of(report)
    for number, old in before.items():
        new = Household.objects.get(file_number=number)
        for field in (
            "worker_name",
            "sex",
            "id_number",
            "bank_account",
            "phone",
            "status",
            "household_size",
            "monthly_income",
            "per_capita_income",
            "primary_cause_id",
        ):
            assert getattr(new, field) == getattr(old, field), field


def test_a_file_refiled_after_an_earlier_relief_round_trips(workbook, run, users, walk, tmp_path):
    """Relieved in 2018 and exited in 2019, then reopened and filed again: the export says
    在档 with the new filing date and no relief, and re-importing it skips the file (the 2018
    relief belongs to the first filing)."""
    from households import services
    from households.exports import export_households

    assert run(
        workbook(
            [
                household_row(
                    状态="脱困",
                    建档日期=dt.date(2016, 3, 1),
                    解困日期=dt.date(2018, 5, 1),
                    脱困日期=dt.date(2019, 6, 1),
                )
            ]
        )
    ).ok
    household = Household.objects.get(file_number="XN-0001")
    services.transition_apply(
        user=users["clerk_450102"], household=household, action="reopen", reason="再次因病致困"
    )
    # survey, review, notice and approval of the new application, by a supervisor other than
    # the one who entered the file (the import)
    walk(household, "on_file", supervisor="supervisor2_450102")
    path = tmp_path / "export.xlsx"
    path.write_bytes(export_households(user=users["clerk_450102"], full=True))
    report = run(path)
    assert report.ok, errors_of(report)
    assert report.sheets["households"].skipped == 1


def test_masked_export_never_holds_full_numbers(users, orgs, make_household, tmp_path):
    from python_calamine import CalamineWorkbook

    from households.exports import export_households

    household = make_household(address="=cmd|' /C calc'!A0")
    path = tmp_path / "masked.xlsx"
    path.write_bytes(export_households(user=users["viewer_450100"], full=True))
    rows = CalamineWorkbook.from_path(path).get_sheet_by_name("households").to_python()
    text = repr(rows)
    assert household.id_number not in text and household.id_masked in text
    assert rows[1][20].startswith("'=")  # formula neutralised


def test_a_masked_export_says_why_it_cannot_come_back(users, run, make_household, tmp_path):
    from households.exports import export_households

    household = make_household(bank_account="6217000012345678")
    path = tmp_path / "masked.xlsx"
    path.write_bytes(export_households(user=users["viewer_450100"], full=True))
    report = run(path)
    found = {(e.sheet, e.column): e.message for e in report.errors}
    assert "号码已打码" in found[("households", "身份证号")]
    assert "号码已打码" in found[("households", "银行账号")]
    assert "号码已打码" in found[("members", "身份证号")]
    assert Household.objects.get().pk == household.pk


def test_command_prints_summary_and_errors_and_fails_on_error(workbook, orgs, users):
    good = workbook([household_row()], [member_row()])
    out = StringIO()
    call_command(
        "import_households", str(good), "--dry-run", "--user", "supervisor_450102", stdout=out
    )
    assert "households：新增 1" in out.getvalue()
    assert not Household.objects.exists()
    bad = workbook([household_row(组织代码="999999")], [])
    err = StringIO()
    with pytest.raises(CommandError, match="1 处错误"):
        call_command(
            "import_households", str(bad), "--user", "supervisor_450102", stdout=out, stderr=err
        )
    assert "households 2 组织代码" in err.getvalue()
    assert "households：新增 0，更新 0，无变化跳过 0，有错误 1 行" in out.getvalue()
    call_command("import_households", str(good), "--user", "supervisor_450102", stdout=out)
    assert Household.objects.count() == 1
    with pytest.raises(CommandError, match="找不到文件“no-such.xlsx”"):
        call_command("import_households", "no-such.xlsx", "--user", "supervisor_450102")


def test_a_role_without_the_permission_imports_nothing(workbook, run, orgs):
    report = run(workbook([household_row()], [member_row()]), user="viewer_450100")
    assert [e.message for e in report.errors] == ["您没有导入此类数据的权限。"]
    assert not Household.objects.exists()


def test_the_workbook_words_are_chinese_whatever_language_loaded_the_module():
    """The module is first imported inside some request: an English one once made the
    template's lists (and the accepted values) Self/Spouse/Healthy."""
    import importlib

    from django.utils import translation

    from households import importing

    try:
        with translation.override("en"):
            importlib.reload(importing)
        assert "配偶" in importing.RELATION_LABELS and "Spouse" not in importing.RELATION_LABELS
        assert "健康" in importing.HEALTH_LABELS and "在岗" in importing.EMPLOYMENT_LABELS
    finally:
        importlib.reload(importing)


def test_a_households_sheet_alone_does_not_empty_the_families(workbook, run):
    """Correcting phone numbers with a workbook of households only once deleted every member of
    each file updated; now it is refused, and only an explicit 家庭人口 of 1 removes them."""
    assert run(workbook([household_row(家庭人口=2)], [member_row()])).ok
    household = Household.objects.get(file_number="XN-0001")
    worker = household.id_number
    report = run(workbook([household_row(身份证号=worker, 联系电话="13700000000")], []))
    assert errors_of(report) == [
        (
            "households",
            2,
            "家庭人口",
            "档案 XN-0001 在系统中有 1 名家庭成员，members 工作表中没有本户的行。更新档案时请"
            "列出全部成员（可先导出再修改）；确要删除全部成员，请把家庭人口填为 1。",
        )
    ]
    assert household.members.count() == 2
    household.refresh_from_db()
    assert household.phone != "13700000000"
    report = run(workbook([household_row(身份证号=worker, 联系电话="13700000000", 家庭人口=1)], []))
    assert report.ok, errors_of(report)
    household.refresh_from_db()
    assert household.phone == "13700000000" and household.household_size == 1
    assert list(household.members.values_list("relation", flat=True)) == ["self"]


def test_the_progress_of_a_write_counts_the_updates_as_they_run(workbook, users, monkeypatch):
    """Changed files are updated one by one after the bulk path; the bar once reached 100 % before
    the first of them, and sat there while they ran."""
    from households import importing
    from imports.runner import run_import

    monkeypatch.setattr(importing, "PROGRESS_EVERY", 50)  # ten times as often, on a tenth
    rows = [household_row(档案编号=f"P-{n:04d}", 身份证号=id_number()) for n in range(100)]
    assert run_import(
        "households", workbook(rows, []), user=users["supervisor_450102"], dry_run=False
    ).ok
    for row in rows:
        row[5] = "13700000000"  # 联系电话
    seen = []

    def progress(done, total):
        seen.append((done, Household.objects.filter(phone="13700000000").count()))

    report = run_import(
        "households",
        workbook(rows, []),
        user=users["supervisor_450102"],
        dry_run=False,
        progress=progress,
    )
    assert report.sheets["households"].updated == 100
    assert any(0 < updated < 100 for _done, updated in seen), seen
    finished = [updated for done, updated in seen if done >= 100]
    assert finished and all(updated == 100 for updated in finished), seen


def test_full_width_numbers_are_stored_in_ascii(workbook, run):
    """Typed with a Chinese input method: ４５０１… is the same number as 4501…, for the
    duplicate checks and the searches."""
    worker = id_number()
    wide = worker.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    account = "６２１７０００１２３４５６７８"
    report = run(workbook([household_row(身份证号=wide, 银行账号=account)], []))
    assert report.ok, errors_of(report)
    household = Household.objects.get()
    assert household.id_number == worker and household.id_hash == keyed_hash(worker)
    assert household.bank_account == "621700012345678"


def test_a_first_generation_number_comes_in_its_18_character_form(workbook, run):
    """Old systems hold 15-digit numbers, often as Excel numbers (exact below 10^15): stored
    in their 18-character form, they meet the same person's new number as one person."""
    worker, spouse = id_number(), id_number()
    old = int(worker[:6] + worker[8:17])
    report = run(workbook([household_row(身份证号=old)], [member_row(身份证号=spouse)]))
    assert report.ok, errors_of(report)
    household = Household.objects.get()
    assert household.id_number == worker and household.id_hash == keyed_hash(worker)
    again = run(workbook([household_row(身份证号=worker)], [member_row(身份证号=spouse)]))
    assert again.ok and again.sheets["households"].skipped == 1, errors_of(again)
    assert Household.objects.count() == 1
    twice = [household_row(档案编号="XN-0002", 身份证号=worker)]
    report = run(workbook([household_row(身份证号=str(old)), *twice], []), dry_run=True)
    duplicate = [
        e for e in report.errors if (e.sheet, e.row, e.column) == ("households", 3, "身份证号")
    ]
    assert duplicate and "重复" in duplicate[0].message, errors_of(report)


# --- Who may import approved files (a clerk enters applications; a supervisor approves) ---

APPROVED_ROWS = {
    "在档": {},
    "解困": {"解困日期": dt.date(2018, 7, 1)},
    "脱困": {"脱困日期": dt.date(2018, 9, 1)},
    "注销": {"注销日期": dt.date(2019, 2, 1), "注销原因": "迁出"},
}


def refused_new(number, state):
    return (
        f"档案 {number} 的状态为“{state}”：导入已审批的档案（在档、解困、脱困、注销）需要审批"
        "权限，请由审核审批人员导入。您可以导入“申请中”的档案，经审核、公示后由审核审批人员"
        "审批建档。"
    )


def import_tables():
    return (
        Household.objects.count(),
        Member.objects.count(),
        Transition.objects.count(),
        IdentityClaim.objects.count(),
        Household.history.count(),
    )


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "confirm"])
def test_a_clerk_may_not_import_approved_files(workbook, run, orgs, dry_run):
    """Each row past 申请中 is refused on its 状态 cell, the application beside them is not,
    and nothing is written: the check and the write see the same rule."""
    rows = [application_row(档案编号="A-0")] + [
        household_row(档案编号=f"A-{n}", 身份证号=id_number(), 状态=state, **values)
        for n, (state, values) in enumerate(APPROVED_ROWS.items(), start=1)
    ]
    path = workbook(rows, [member_row(f"A-{n}") for n in range(5)])
    report = run(path, user="clerk_450102", dry_run=dry_run)
    assert errors_of(report) == [
        ("households", n + 2, "状态", refused_new(f"A-{n}", state))
        for n, state in enumerate(APPROVED_ROWS, start=1)
    ]
    assert import_tables() == (0, 0, 0, 0, 0)


def test_a_row_refused_for_a_cell_also_says_it_needs_the_permission(
    workbook, run, orgs, make_household
):
    """A clerk's row 在档 with 家庭月收入 "abc" came back with the income error only; fixed,
    the next upload refused it for the permission. One upload says both now (not for a file
    already in the system: whether its row appends a state shows once it can be compared)."""
    recorded = make_household()
    rows = [
        household_row(档案编号="A-1", 家庭月收入="abc"),
        household_row(档案编号=recorded.file_number, 家庭月收入="abc"),
        application_row(档案编号="A-2", 身份证号=id_number(), 家庭月收入="abc"),
    ]
    report = run(workbook(rows, []), user="clerk_450102", dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "家庭月收入"),
        (2, "状态"),
        (3, "家庭月收入"),
        (4, "家庭月收入"),
    ]
    assert report.errors[1].message == refused_new("A-1", "在档")
    report = run(workbook(rows, []), user="supervisor_450102", dry_run=True)
    assert {e.column for e in report.errors} == {"家庭月收入"}


def test_a_clerk_may_not_append_an_exit_to_a_file(workbook, run, orgs, users):
    worker = id_number()
    assert run(workbook([household_row(身份证号=worker)], [member_row(身份证号="")])).ok
    before = import_tables()
    exited = household_row(
        身份证号=worker, 联系电话="13900000000", 状态="脱困", 脱困日期=dt.date(2020, 6, 1)
    )
    for dry_run in (True, False):
        report = run(
            workbook([exited], [member_row(身份证号="")]), user="clerk_450102", dry_run=dry_run
        )
        assert errors_of(report) == [
            (
                "households",
                2,
                "状态",
                "档案 XN-0001 将追加“脱困”：解困、脱困、注销须经审批，通过导入追加需要审批权限，"
                "请由审核审批人员导入，或在档案页面“申请解困、脱困或注销”。",
            )
        ]
    assert import_tables() == before
    household = Household.objects.get()
    assert household.status == Status.ON_FILE and household.phone == "13800138000"
    # The same row is the supervisor's to import.
    report = run(workbook([exited], [member_row(身份证号="")]), user="supervisor_450102")
    assert report.ok, errors_of(report)
    transition = household.transitions.get(to_status=Status.EXITED)
    assert transition.is_imported and transition.actor == users["supervisor_450102"]


def test_a_clerk_imports_applications_and_corrects_approved_files(workbook, run, orgs, users):
    """申请中 rows become applications entered by the clerk, to be reviewed, noticed and
    approved; a row that leaves a file's approved state as recorded (an export brought back
    to correct a phone number) is the clerk's to import too."""
    clerk = users["clerk_450102"]
    path = workbook(
        [application_row(), application_row(档案编号="XN-0002", 身份证号=id_number())],
        [member_row(), member_row("XN-0002")],
    )
    for dry_run in (True, False):
        report = run(path, user="clerk_450102", dry_run=dry_run)
        assert report.ok, errors_of(report)
        assert report.sheets["households"].created == 2
    for household in Household.objects.all():
        assert household.status == Status.APPLIED and household.created_by == clerk
        assert list(household.transitions.values_list("action", "actor")) == [
            ("create", clerk.pk),
            ("submit", clerk.pk),
        ]
    worker = id_number()
    assert run(workbook([household_row(档案编号="XN-0003", 身份证号=worker)], [])).ok
    corrected = household_row(档案编号="XN-0003", 身份证号=worker, 联系电话="13700000000")
    report = run(workbook([corrected], []), user="clerk_450102")
    assert report.ok, errors_of(report)
    on_file = Household.objects.get(file_number="XN-0003")
    assert on_file.phone == "13700000000" and on_file.status == Status.ON_FILE
    assert on_file.transitions.count() == 1


def test_a_supervisor_imports_files_in_every_state(workbook, run, orgs, users):
    supervisor = users["supervisor_450102"]
    rows = [application_row(档案编号="A-0")] + [
        household_row(档案编号=f"A-{n}", 身份证号=id_number(), 状态=state, **values)
        for n, (state, values) in enumerate(APPROVED_ROWS.items(), start=1)
    ]
    report = run(workbook(rows, []), user="supervisor_450102")
    assert report.ok, errors_of(report)
    assert dict(Household.objects.values_list("file_number", "status")) == {
        "A-0": Status.APPLIED,
        "A-1": Status.ON_FILE,
        "A-2": Status.RELIEVED,
        "A-3": Status.EXITED,
        "A-4": Status.DEREGISTERED,
    }
    approved = Transition.objects.exclude(household__file_number="A-0")
    assert set(approved.values_list("actor", "is_imported")) == {(supervisor.pk, True)}


def test_an_old_export_does_not_undo_what_was_changed_since(
    users, make_household, walk, tmp_path, run
):
    """Exported, then a clerk edits file B in the system, then someone corrects file A in the
    old workbook and imports it: B's stale row would silently undo the clerk's edit."""
    from openpyxl import load_workbook

    from households.exports import export_households

    first, second = (walk(make_household(), "on_file") for _ in range(2))
    path = tmp_path / "export.xlsx"
    path.write_bytes(export_households(user=users["supervisor_450102"], full=True))

    edited = Household.objects.get(pk=second.pk)
    edited.phone = "13900000000"
    edited.save()
    book = load_workbook(path)
    sheet = book["households"]
    header = [cell.value for cell in sheet[1]]
    for cells in sheet.iter_rows(min_row=2):
        if cells[header.index("档案编号")].value == first.file_number:
            cells[header.index("家庭住址")].value = "南宁市兴宁区民主路 8 号"
    book.save(path)

    report = run(path, dry_run=True)
    messages = [(e.row, e.column, e.message) for e in report.errors]
    assert len(messages) == 1, messages
    row, column, message = messages[0]
    assert column == "档案编号" and second.file_number in message and "导出" in message
    assert run(path).errors
    assert Household.objects.get(pk=second.pk).phone == "13900000000"  # nothing written

    # Exported again, the same correction imports.
    path.write_bytes(export_households(user=users["supervisor_450102"], full=True))
    book = load_workbook(path)
    assert book["说明"]["A2"].value == "导出时间"
    sheet = book["households"]
    for cells in sheet.iter_rows(min_row=2):
        cells[header.index("家庭住址")].value = "南宁市兴宁区民主路 8 号"
    book.save(path)
    report = run(path)
    assert report.ok, [e.message for e in report.errors]
    assert Household.objects.get(pk=second.pk).phone == "13900000000"
    assert set(Household.objects.values_list("address", flat=True)) == {"南宁市兴宁区民主路 8 号"}


def test_english_messages_say_the_rule_and_quote_what_excel_shows(workbook, run, orgs):
    from django.utils import translation

    path = workbook(
        [
            household_row(),
            household_row(档案编号="XN-0002", 状态="在档", 脱困日期=dt.date(2019, 1, 1)),
            household_row(档案编号="XN-0003", 身份证号=4.5010219810101e17),
        ],
        [member_row(), member_row("XN-0002"), member_row("XN-0003")],
    )
    with translation.override("en"):
        report = run(path)
    messages = {e.column: e.message for e in report.errors}
    assert "A file in state “在档” should not have a 脱困日期." in messages["脱困日期"]
    assert "“450102********0000”" in messages["身份证号"]  # as Excel shows it, masked


def test_an_english_state_conflict_lists_the_dates_with_commas(workbook, run, orgs):
    from django.utils import translation

    worker = id_number()
    path = workbook([household_row(身份证号=worker, 状态="脱困", 脱困日期=dt.date(2020, 6, 1))], [])
    assert run(path).ok
    with translation.override("en"):
        [error] = run(workbook([household_row(身份证号=worker)], [])).errors
    assert "2020-06-01" in error.message and "、" not in error.message, error.message
