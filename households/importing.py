"""Importing household files (困难职工档案) from the workbook template, legacy history included.

Sheet `households` holds one file per row, sheet `members` the family members (the worker's
own row, relation 本人, is optional: without it the worker's income is 家庭月收入 minus the
other members' incomes). A row in state 解困/脱困/注销 with its dates becomes a file whose
history holds each transition on those dates (Transition.is_imported), so past years' reports
count it where it happened. Such rows record approvals: importing them takes the permission
to approve files (check_approvals); a clerk imports 申请中 rows, which become applications.

Matching: a row is the file with its 档案编号 (the worker's ID number must then agree). Identical
rows are skipped; changed values update the file through the ORM (field history recorded), and
later states with their dates are appended as transitions. New files go through the bulk path
(imports.bulk): a first pass checks each row by itself and stages the clean ones in a scratch
SQLite database (imports.staging), the checks across rows are SQL over it (so memory stays flat
however large the workbook), and a second pass writes from it in chunks inside one
transaction. The database's unique keys (file number, IdentityClaim.id_hash) have the last
word when two imports run at once."""

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households import idnumbers
from households.eligibility import compute_income, filed_under_legacy_scheme, scheme_categories
from households.models import (
    AMEND,
    OPEN_STATUSES,
    SUPPORTED_STATUSES,
    Category,
    Cause,
    DeregistrationReason,
    FilingPeriod,
    Household,
    IdentityClaim,
    Member,
    Origin,
    Status,
    Transition,
)
from households.workflow import STEPS
from imports import bulk, cells
from imports.base import ImportReport, RowError, SheetCounts, error_rows
from imports.staging import Staging
from imports.xlsx import (
    CHOICE,
    DATE,
    FIRST_DATE,
    INT,
    MONEY,
    TEXT,
    YES_NO,
    Column,
    SheetSpec,
    WorkbookSpec,
)
from orgs.calendar import add_months
from orgs.models import Organisation
from orgs.money import MAX_AMOUNT, ZERO, yuan_text
from orgs.pii import mask
from orgs.text import listing

HOUSEHOLDS = "households"
MEMBERS = "members"
HOUSEHOLD_HEADERS = (
    "档案编号",
    "组织代码",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "工作单位",
    "是否农民工",
    "家庭人口",
    "家庭月收入",
    "主要致困原因",
    "困难类别",
    "建档日期",
    "状态",
    "解困日期",
    "脱困日期",
    "注销日期",
    "注销原因",
    "开户银行",
    "银行账号",
    "家庭住址",
)
MEMBER_HEADERS = ("档案编号", "姓名", "与户主关系", "身份证号", "健康状况", "就业状况", "月收入")
(
    C_FILE,
    C_ORG,
    C_NAME,
    C_SEX,
    C_ID,
    C_PHONE,
    C_EMPLOYER,
    C_MIGRANT,
    C_SIZE,
    C_INCOME,
    C_CAUSE,
    C_CATEGORY,
    C_FILED,
    C_STATUS,
    C_RELIEVED,
    C_EXITED,
    C_DEREGISTERED,
    C_REASON,
    C_BANK,
    C_ACCOUNT,
    C_ADDRESS,
) = range(len(HOUSEHOLD_HEADERS))
M_FILE, M_NAME, M_RELATION, M_ID, M_HEALTH, M_EMPLOYMENT, M_INCOME = range(len(MEMBER_HEADERS))

# The workbook's state words and what they are in the system. 申请中 covers every stage before
# approval (an export writes 申请中 for a draft, an application under review or on notice).
# Plain str values (not the enum members): the rows are staged in SQLite.
STATE_LABELS = {
    "申请中": Status.APPLIED.value,
    "在档": Status.ON_FILE.value,
    "解困": Status.RELIEVED.value,
    "脱困": Status.EXITED.value,
    "注销": Status.DEREGISTERED.value,
}
STATE_OF = {
    Status.DRAFT: "申请中",
    Status.APPLIED: "申请中",
    Status.REVIEWED: "申请中",
    Status.NOTICE: "申请中",
    Status.ON_FILE: "在档",
    Status.RELIEVED: "解困",
    Status.EXITED: "脱困",
    Status.DEREGISTERED: "注销",
}
SEX_LABELS = {"男": "male", "女": "female"}
REASON_LABELS = {
    "死亡": DeregistrationReason.DEATH.value,
    "迁出": DeregistrationReason.MOVED.value,
    "不符合条件": DeregistrationReason.NOT_ELIGIBLE.value,
    "虚假信息": DeregistrationReason.FALSE_INFORMATION.value,
    "其他": DeregistrationReason.OTHER.value,
    # The long labels the system shows, accepted too.
    "精准识别不符合条件": DeregistrationReason.NOT_ELIGIBLE.value,
    "提供虚假信息": DeregistrationReason.FALSE_INFORMATION.value,
}
REASON_OF = {code: label for label, code in list(REASON_LABELS.items())[:5]}
# The workbook's words are Chinese whatever the language of the request that first imports this
# module (the choices' labels are lazy translations).
with translation.override("zh-hans"):
    RELATION_LABELS = {str(label): code for code, label in Member.Relation.choices}
    HEALTH_LABELS = {str(label): code for code, label in Member.Health.choices}
    EMPLOYMENT_LABELS = {str(label): code for code, label in Member.Employment.choices}
HEALTHY, EMPLOYED = Member.Health.HEALTHY.value, Member.Employment.EMPLOYED.value
UNDER_REVIEW = (Status.DRAFT, Status.APPLIED, Status.REVIEWED, Status.NOTICE)
# What the cells accept, read by the parsers and written into the template's data validation
# (imports.xlsx), so Excel refuses no value the import takes: a household of 1 to 99 people,
# incomes from 0 (a child, an unemployed member; the export writes 0.00).
SIZE_MIN, SIZE_MAX = 1, 99
INCOME_MAY_BE_ZERO = True

CHUNK = 5000
PROGRESS_EVERY = 500  # rows between two reports of the progress bar
INVALID = object()
# The tables whose statistics a large import refreshes: those the pages, the reports and the
# next import's comparison query (the history tables are read by key only).
ANALYZED = (Household, Member, FilingPeriod, Transition, IdentityClaim)
IMPORT_REASON = gettext_lazy("导入的历史记录")
# A row past 申请中 stands for approved steps (审批建档, and 解困/脱困/注销 after it): importing
# it takes the permission those steps take in the lifecycle table (households/workflow.py).
APPROVE_PERMISSION = STEPS["approve"].permission


def workbook_spec() -> WorkbookSpec:
    """The template (and export) layout, with the cause and category names of the database."""
    causes = list(Cause.objects.order_by("sort", "code").values_list("name", flat=True))
    categories = list(Category.objects.order_by("sort", "code").values_list("name", flat=True))
    return WorkbookSpec(
        title=_("困难职工档案导入模板"),
        notes=[
            _("households 工作表每行一户档案，members 工作表每行一名家庭成员，用档案编号对应。"),
            _("按档案编号匹配系统中的档案：内容相同的行跳过，有变化的更新并保留修改记录。"),
            _(
                "更新已有档案时，members 工作表应列出该户全部成员：未列出的成员将被删除"
                "（删除也留有记录）。建议先导出档案，在导出的文件上修改。"
            ),
            _("解困、脱困、注销的档案填写相应日期，系统按这些日期生成历史记录，计入当年的统计。"),
            _(
                "导入“申请中”以外状态（在档、解困、脱困、注销）的档案，或在已有档案上追加解困、"
                "脱困、注销，需要审批权限（审核审批人员）；录入员只能导入“申请中”的档案，"
                "建档须经审核、公示、审批。"
            ),
            _("身份证号、银行账号请以文本格式填写；金额以元为单位，最多两位小数。"),
            _("有任何一行出错时，整个文件都不会导入；请按错误提示修改后重新上传。"),
        ],
        sheets=[
            SheetSpec(
                HOUSEHOLDS,
                [
                    Column("档案编号", _("每户唯一，最多30个字符。"), TEXT, required=True),
                    Column("组织代码", _("建档单位的组织代码，如 450102。"), TEXT, required=True),
                    Column("姓名", _("困难职工（户主）姓名。"), TEXT, required=True),
                    Column("性别", _("留空则按身份证号判断。"), CHOICE, tuple(SEX_LABELS)),
                    Column(
                        "身份证号",
                        _("18位居民身份证号码（15位旧号码按国家标准升为18位），文本格式。"),
                        TEXT,
                        required=True,
                    ),
                    Column("联系电话", "", TEXT),
                    Column("工作单位", "", TEXT),
                    Column("是否农民工", _("留空视为“否”。"), YES_NO),
                    Column(
                        "家庭人口",
                        _("含本人；留空按 members 工作表计算，填写时须与之一致。"),
                        INT,
                        minimum=SIZE_MIN,
                        maximum=SIZE_MAX,
                    ),
                    Column(
                        "家庭月收入",
                        _("元；含全部成员收入和其他收入，不得小于成员月收入之和。"),
                        MONEY,
                        allow_zero=INCOME_MAY_BE_ZERO,
                    ),
                    Column("主要致困原因", "", CHOICE, tuple(causes), required=True),
                    Column(
                        "困难类别",
                        _(
                            "建档单位所用困难类别标准中的类别；2021年以前建档的档案也可填写"
                            "2015—2020年标准的类别。"
                        ),
                        CHOICE,
                        tuple(categories),
                    ),
                    Column("建档日期", _("审批建档的日期；“申请中”的档案留空。"), DATE),
                    Column(
                        "状态",
                        _("“申请中”以外的状态须由有审批权限的人员导入。"),
                        CHOICE,
                        tuple(STATE_LABELS),
                        required=True,
                    ),
                    Column("解困日期", _("状态为解困（或解困后脱困、注销）时填写。"), DATE),
                    Column("脱困日期", _("状态为脱困时必填。"), DATE),
                    Column("注销日期", _("状态为注销时必填。"), DATE),
                    Column("注销原因", _("状态为注销时必填。"), CHOICE, tuple(REASON_OF.values())),
                    Column("开户银行", "", TEXT),
                    Column("银行账号", _("8至30位数字，文本格式。"), TEXT),
                    Column("家庭住址", "", TEXT),
                ],
            ),
            SheetSpec(
                MEMBERS,
                [
                    Column(
                        "档案编号", _("所属档案，须在 households 工作表中。"), TEXT, required=True
                    ),
                    Column("姓名", "", TEXT, required=True),
                    Column(
                        "与户主关系",
                        _("本人一行可省略，省略时本人收入按家庭月收入减其他成员收入计算。"),
                        CHOICE,
                        tuple(RELATION_LABELS),
                        required=True,
                    ),
                    Column("身份证号", _("有则填写，文本格式。"), TEXT),
                    Column("健康状况", _("留空视为“健康”。"), CHOICE, tuple(HEALTH_LABELS)),
                    Column("就业状况", _("留空视为“在岗”。"), CHOICE, tuple(EMPLOYMENT_LABELS)),
                    Column("月收入", _("元，留空视为0。"), MONEY, allow_zero=INCOME_MAY_BE_ZERO),
                ],
            ),
        ],
    )


def _fingerprint(*values) -> int:
    """An order-independent digest of a file's members: each member's 64-bit hash is summed."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


MASK64 = (1 << 64) - 1
SELF = Member.Relation.SELF.value


class StagedHousehold(NamedTuple):
    """A clean households row as pass 1 stages it for the checks and the writer (dates as
    ordinals, money in cents)."""

    row: int
    file_number: str
    org_id: int
    name: str
    sex: str
    id_number: str
    id_hash: str
    phone: str
    employer: str
    migrant: bool
    cause_id: int
    category_id: int
    filed: int | None
    status: str
    relieved: int | None
    exited: int | None
    deregistered: int | None
    reason: str
    bank: str
    account: str
    address: str
    size_given: int | None
    income_given: int | None
    is_open: bool


class StagedMember(NamedTuple):
    """A members row as pass 1 stages it (income in cents)."""

    row: int
    file_number: str
    relation: str
    name: str
    id_number: str
    id_hash: str
    health: str
    employment: str
    cents: int


def _columns(kind, prefix="") -> str:
    return ", ".join(prefix + name for name in kind._fields)


def _table(kind) -> str:
    """Columns for a staging table: the row number is SQLite's own row key."""
    return _columns(kind).replace("row", "row INTEGER PRIMARY KEY", 1)


H_COLUMNS = _columns(StagedHousehold, "h.")
M_COLUMNS = _columns(StagedMember, "m.")
# The staging tables (imports.staging): what pass 1 read, and what the checks decided. `person`
# is an integer key of an ID number (its hash's first 60 bits) for grouping; `ok` marks a
# members row without errors of its own; a member's `print` is split in two 32-bit halves so
# SQLite can sum it without overflowing.
SCHEMA = f"""
CREATE TABLE households ({_table(StagedHousehold)}, person INTEGER);
CREATE TABLE refused (row INTEGER PRIMARY KEY, file_number TEXT, status TEXT, id_hash TEXT,
    person INTEGER, is_open INTEGER);
CREATE TABLE members ({_table(StagedMember)}, ok INTEGER, person INTEGER,
    print_hi INTEGER, print_lo INTEGER);
CREATE TABLE existing (file_number TEXT PRIMARY KEY, pk INTEGER) WITHOUT ROWID;
CREATE TABLE decisions (file_number TEXT PRIMARY KEY, action TEXT, steps TEXT, reason TEXT,
    removed INTEGER) WITHOUT ROWID;
CREATE TABLE keys (file_number TEXT PRIMARY KEY, pk INTEGER, period_id INTEGER) WITHOUT ROWID;
CREATE TABLE member_ids (seq INTEGER PRIMARY KEY, pk INTEGER);
CREATE TABLE bad (sheet TEXT, row INTEGER, PRIMARY KEY (sheet, row)) WITHOUT ROWID;
CREATE TABLE member_actions (row INTEGER PRIMARY KEY, action TEXT);
"""
INDEXES = (
    "CREATE INDEX households_file ON households (file_number)",
    "CREATE INDEX refused_file ON refused (file_number)",
    "CREATE INDEX members_file ON members (file_number, relation)",
)
# One row per file: its households row and what its members rows add up to. Members rows with
# errors count as members (so a wrong size is not reported on top of them), their income not.
FILES = f"""
SELECT {H_COLUMNS}, COALESCE(a.members, 0), COALESCE(a.income, 0),
    COALESCE(a.print_hi, 0), COALESCE(a.print_lo, 0), s.row, s.health, s.employment, s.cents,
    e.pk {{extra}}
FROM households h
LEFT JOIN (
    SELECT file_number, COUNT(*) AS members, SUM(CASE WHEN ok THEN cents ELSE 0 END) AS income,
        SUM(print_hi) AS print_hi, SUM(print_lo) AS print_lo
    FROM members WHERE NOT (ok AND relation = '{SELF}') GROUP BY file_number
) a ON a.file_number = h.file_number
LEFT JOIN members s ON s.file_number = h.file_number AND s.relation = '{SELF}' AND s.ok
LEFT JOIN existing e ON e.file_number = h.file_number
{{joins}}
ORDER BY h.row
"""


def _person(id_hash: str) -> int:
    return int(id_hash[:15], 16)


def _print_halves(value: int) -> tuple[int, int]:
    return value >> 32, value & 0xFFFFFFFF


@dataclass(slots=True)
class FileInfo:
    """One file as the checks and the writer see it, built a chunk at a time from the staging
    database: its households row and what its members add up to."""

    row: StagedHousehold
    members: int = 0  # members rows other than 本人
    members_income: int = 0  # cents, members other than 本人
    member_print: int = 0
    self_data: tuple | None = None  # (health, employment, income cents) of a 本人 row
    self_income: int = 0
    other_income: int = 0
    existing: int | None = None  # pk of the matching file
    action: str = "create"  # create, update, skip
    # A matched file's recorded state (compare_existing), and what an update appends.
    existing_state: dict | None = None
    existing_print: int = 0
    existing_members: int = 0  # recorded members other than the worker
    existing_people: list | None = None  # their (relation, name, id hash, fingerprint)
    removed: int = 0  # recorded members an update deletes (not listed in the workbook)
    existing_self: tuple | None = None
    self_same: bool = True  # the 本人 data is what is recorded (an update's preview)
    existing_relieved: dt.date | None = None
    new_steps: list | None = None
    reason: str = ""
    # The keys of a new file and of its filing period (_Writer).
    pk: int | None = None
    period_id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.row.is_open

    def split_income(self) -> bool:
        """The worker's income and the family's other income from 家庭月收入 (how
        services.income_of computes them); False when the members earn more than that."""
        own = self.self_data[2] if self.self_data else 0
        given = self.row.income_given
        if given is None:
            self.self_income, self.other_income = own, 0
        elif self.self_data:
            self.self_income, self.other_income = own, given - self.members_income - own
        else:
            self.self_income, self.other_income = given - self.members_income, 0
        return self.self_income >= 0 and self.other_income >= 0


_WIDTH = len(StagedHousehold._fields)


def _file_info(record: tuple) -> FileInfo:
    members, income, high, low, self_row, health, employment, cents, existing = record[
        _WIDTH : _WIDTH + 9
    ]
    info = FileInfo(
        row=StagedHousehold._make(record[:_WIDTH]),
        members=members,
        members_income=income,
        member_print=((high << 32) + low) & MASK64,
        self_data=(health, employment, cents) if self_row is not None else None,
        existing=existing,
    )
    info.split_income()
    return info


def _ordinal(day: dt.date | None) -> int | None:
    return day.toordinal() if day is not None else None


def _day(ordinal: int | None) -> dt.date | None:
    return dt.date.fromordinal(ordinal) if ordinal is not None else None


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


MAX_CENTS = _cents(MAX_AMOUNT)


def _yuan(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _identifier_text(value) -> str:
    """ID and account numbers must arrive as text: Excel keeps 15 significant digits of a
    number, so an 18-digit ID typed as a number has already lost its last digits."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        if abs(value) >= 1e15:
            raise ValidationError(
                _(
                    "号码“%(value)s”是数字格式，超过15位的数字已被 Excel 截断。"
                    "请把该列设为文本格式后重新录入。"
                )
                % {"value": cells.shown(value)}
            )
    return "".join(cells.text(value, 60).split())


def _refuse_masked(number: str) -> None:
    """A masked export (450102********1234) cannot come back: say so rather than "not 18
    digits" on every row."""
    if "*" in number:
        raise ValidationError(
            _(
                "号码已打码（含 *）。打码的导出不能再导入：请用可查看完整号码的账号导出完整号码，"
                "或填写完整号码。"
            )
        )


def _cell_parser(row, headers, problems: list):
    """parse(column, parser, *args): the cell read by the parser, or INVALID with the problem
    (header, message) noted, so that every problem of a row is reported at once."""

    def parse(column, parser, *args, **kwargs):
        try:
            return parser(row[column], *args, **kwargs)
        except ValidationError as exc:
            problems.append((headers[column], exc.messages[0]))
            return INVALID

    return parse


class RowRefused(Exception):
    """A refusal met while writing, of one row: the database has the last word on what the
    checks saw (an ID number another import claimed meanwhile, say). Reported on that row as
    the checks report theirs; the write's transaction is rolled back, so nothing is written."""

    def __init__(self, sheet: str, row: int, column: str, message: str):
        super().__init__(message)
        self.error = RowError(sheet=sheet, row=row, column=column, message=str(message))


class HouseholdImporter:
    kind = "households"
    sheets = {HOUSEHOLDS: HOUSEHOLD_HEADERS, MEMBERS: MEMBER_HEADERS}

    def run(
        self, rows, *, user, dry_run: bool, progress=None, known_errors=(), exported_at=None
    ) -> ImportReport:
        run = _Run(
            user=user,
            dry_run=dry_run,
            progress=progress,
            known_errors=known_errors,
            exported_at=exported_at,
        )
        try:
            return run.execute(rows)
        finally:
            run.close()


class _Run:
    def __init__(self, *, user, dry_run: bool, progress, known_errors=(), exported_at=None):
        self.user = user
        self.exported_at = exported_at
        self.known_errors = list(known_errors)
        self.dry_run = dry_run or bool(self.known_errors)  # a workbook with errors writes nothing
        self.progress = progress
        self.report = ImportReport(
            kind="households",
            dry_run=dry_run,
            sheets={HOUSEHOLDS: SheetCounts(), MEMBERS: SheetCounts()},
        )
        self.errors = self.report.errors
        self.today = timezone.localdate()
        self.stage = Staging(SCHEMA)
        self.done = 0
        self.scale = 1 if self.dry_run else 2
        self.may_approve = user.has_perm(APPROVE_PERMISSION)
        self._load_reference()

    def close(self):
        self.stage.close()

    # --- reference data ----------------------------------------------------------------

    def _load_reference(self):
        visible = Organisation.objects.visible_to(self.user)
        # Codes are unique whatever their case (Organisation's org_code_unique_ci): a cell
        # finds its organisation in any letters.
        self.orgs = {o.code.lower(): o for o in visible}
        self.all_codes = {
            code.lower() for code in Organisation.objects.values_list("code", flat=True)
        }
        self.causes = dict(Cause.objects.values_list("name", "pk"))
        self.categories = dict(Category.objects.values_list("name", "pk"))
        self._fitting: dict[tuple[str, bool], set[int]] = {}
        # (row, file number, category, organisation) by key of the rows whose category is not
        # of the scheme of their organisation: refused unless the file has it (check_categories).
        self.misfits: list[tuple[int, str, int, int]] = []
        self.org_by_id = {o.pk: o for o in self.orgs.values()}
        self._settings: dict[tuple[int, str], object] = {}
        self.any_claims = IdentityClaim.objects.exists()

    def category_fits(self, org_id: int, category_id: int, filed: dt.date | None) -> bool:
        """eligibility.scheme_categories, read once per scheme (and filing before 2021 or not)."""
        scheme = self.setting(org_id, "category_scheme")
        key = (scheme, filed_under_legacy_scheme(filed))
        if key not in self._fitting:
            fits = scheme_categories(scheme, filed)
            self._fitting[key] = set(Category.objects.filter(fits).values_list("pk", flat=True))
        return category_id in self._fitting[key]

    def setting(self, org_id: int, name: str):
        key = (org_id, name)
        if key not in self._settings:
            self._settings[key] = self.org_by_id[org_id].setting(name)
        return self._settings[key]

    # --- helpers -----------------------------------------------------------------------

    def error(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.errors.append(RowError(sheet=sheet, row=row, column=column, message=str(message)))

    def tick(self, rows: int = 1) -> None:
        before, self.done = self.done, self.done + rows
        if self.progress is not None and before // PROGRESS_EVERY != self.done // PROGRESS_EVERY:
            self.progress(self.done // self.scale, 0)

    def files(self, extra: str = "", joins: str = "") -> Iterator[list[tuple]]:
        """Every staged file (FILES), a chunk at a time, as (info, the `extra` columns)."""
        query = FILES.format(extra=extra, joins=joins)
        for records in self.stage.chunks(query):
            yield [(_file_info(record), record[_WIDTH + 9 :]) for record in records]

    # --- the run -----------------------------------------------------------------------

    def execute(self, rows) -> ImportReport:
        for number, values in rows[HOUSEHOLDS]:
            self.household_row(number, values)
            self.tick()
        for number, values in rows[MEMBERS]:
            self.member_row(number, values)
            self.tick()
        for statement in INDEXES:
            self.stage.execute(statement)
        self.check_file_numbers()
        self.check_members()
        duplicates = self.check_persons()
        self.match_existing()
        self.check_categories()
        if self.any_claims:
            self.check_claims(duplicates)
        self.check_earlier_files()
        self.check_totals()
        self.compare_existing()
        self.check_approvals()
        self.count()
        if self.errors:
            self.errors.sort(key=_error_order)
            return self.report
        if self.dry_run:
            return self.report
        try:
            with transaction.atomic():
                self.write()
        except IntegrityError:
            self.report.sheets = {HOUSEHOLDS: SheetCounts(), MEMBERS: SheetCounts()}
            self.error(
                "",
                None,
                "",
                _(
                    "写入时与系统中已有的档案冲突（档案编号或身份证号已被占用，可能有人同时导入了"
                    "相同的档案）。没有写入任何数据，请重新检查后再导入。"
                ),
            )
        except RowRefused as exc:
            self.report.sheets = {HOUSEHOLDS: SheetCounts(), MEMBERS: SheetCounts()}
            self.errors.append(exc.error)
        except ValidationError as exc:
            self.report.sheets = {HOUSEHOLDS: SheetCounts(), MEMBERS: SheetCounts()}
            for message in exc.messages:
                self.error("", None, "", message)
        else:
            created = sum(counts.created for counts in self.report.sheets.values())
            if created >= bulk.ANALYZE_AFTER:
                bulk.analyze(ANALYZED)
        return self.report

    # --- pass 1: households ------------------------------------------------------------

    def household_row(self, number: int, c) -> None:
        sheet = HOUSEHOLDS
        problems = []
        parse = _cell_parser(c, HOUSEHOLD_HEADERS, problems)

        file_number = parse(C_FILE, cells.required, cells.text, 30)
        code = parse(C_ORG, cells.required, cells.text, 20)
        name = parse(C_NAME, cells.required, cells.text, 50)
        sex = parse(C_SEX, cells.optional, cells.choice, SEX_LABELS, default="")
        id_number = parse(C_ID, cells.required, self._id_number)
        phone = parse(C_PHONE, cells.text, 20)
        employer = parse(C_EMPLOYER, cells.text, 100)
        migrant = parse(C_MIGRANT, cells.optional, cells.yes_no, default=False)
        size = parse(C_SIZE, cells.optional, cells.integer, minimum=SIZE_MIN, maximum=SIZE_MAX)
        income = parse(C_INCOME, cells.optional, cells.money, allow_zero=INCOME_MAY_BE_ZERO)
        cause = parse(C_CAUSE, cells.required, cells.choice, self.causes)
        category = parse(C_CATEGORY, cells.optional, cells.choice, self.categories)
        filed = parse(C_FILED, cells.optional, cells.day)
        status = parse(C_STATUS, cells.required, cells.choice, STATE_LABELS)
        relieved = parse(C_RELIEVED, cells.optional, cells.day)
        exited = parse(C_EXITED, cells.optional, cells.day)
        deregistered = parse(C_DEREGISTERED, cells.optional, cells.day)
        reason = parse(C_REASON, cells.optional, cells.choice, REASON_LABELS, default="")
        bank = parse(C_BANK, cells.text, 60)
        account = parse(C_ACCOUNT, cells.optional, self._account, default="")
        address = parse(C_ADDRESS, cells.text, 200)

        org = None
        if code is not INVALID:
            org = self.orgs.get(code.lower())
            if org is None:
                message = (
                    _("组织代码“%(code)s”不在您的管辖范围内。")
                    if code.lower() in self.all_codes
                    else _("组织代码“%(code)s”不存在。")
                )
                problems.append((HOUSEHOLD_HEADERS[C_ORG], message % {"code": code}))
        if status is not INVALID:
            problems += self._dates(
                status, filed, relieved, exited, deregistered, reason, id_number
            )
        if (
            org is not None
            and category not in (None, INVALID)
            and filed is not INVALID
            and file_number is not INVALID
            and not self.category_fits(org.pk, category, filed)
        ):
            self.misfits.append((number, file_number, category, org.pk))
        if problems:
            for column, message in problems:
                self.error(sheet, number, column, message)
            if file_number is not INVALID:
                # What the checks across rows need of a refused file: its state, and the
                # worker's ID number (its members' IDs are checked with it, check_persons).
                given = None if status is INVALID else status
                worker_hash = None if id_number is INVALID else bulk.hash_id(id_number)
                self.stage.add(
                    "refused",
                    (
                        number,
                        file_number,
                        given,
                        worker_hash,
                        _person(worker_hash) if worker_hash else None,
                        None if given is None else given in OPEN_STATUSES,
                    ),
                )
            return
        worker_hash = bulk.hash_id(id_number)
        self.stage.add(
            "households",
            (
                number,
                file_number,
                org.pk,
                name,
                sex or idnumbers.sex_of(id_number),
                id_number,
                worker_hash,
                phone,
                employer,
                migrant,
                cause,
                category,
                _ordinal(filed),
                status,
                _ordinal(relieved),
                _ordinal(exited),
                _ordinal(deregistered),
                reason,
                bank,
                account,
                address,
                size,
                _cents(income) if income is not None else None,
                status in OPEN_STATUSES,
                _person(worker_hash),
            ),
        )

    def _id_number(self, value) -> str:
        text = _identifier_text(value)
        _refuse_masked(text)
        return idnumbers.validate_id_number(text, today=self.today)

    def _account(self, value) -> str:
        account = idnumbers.compact(_identifier_text(value))  # full-width digits made ASCII
        _refuse_masked(account)
        if not (account.isascii() and account.isdigit()) or not 8 <= len(account) <= 30:
            raise ValidationError(_("银行账号应为8至30位数字。"))
        return account

    def _dates(self, status, filed, relieved, exited, deregistered, reason, id_number):
        """States that contradict their dates, and dates out of order."""
        h = HOUSEHOLD_HEADERS
        problems = []
        label = {code: word for word, code in STATE_LABELS.items()}[status]
        given = {
            C_FILED: filed,
            C_RELIEVED: relieved,
            C_EXITED: exited,
            C_DEREGISTERED: deregistered,
        }
        if INVALID in given.values():
            return problems  # already reported
        required = {
            Status.APPLIED: (),
            Status.ON_FILE: (C_FILED,),
            Status.RELIEVED: (C_FILED, C_RELIEVED),
            Status.EXITED: (C_FILED, C_EXITED),
            Status.DEREGISTERED: (C_FILED, C_DEREGISTERED),
        }[status]
        allowed = {
            Status.APPLIED: (),
            Status.ON_FILE: (C_FILED,),
            Status.RELIEVED: (C_FILED, C_RELIEVED),
            Status.EXITED: (C_FILED, C_RELIEVED, C_EXITED),
            Status.DEREGISTERED: (C_FILED, C_RELIEVED, C_DEREGISTERED),
        }[status]
        for column in required:
            if given[column] is None:
                problems.append(
                    (
                        h[column],
                        _("状态为“%(state)s”时必须填写%(column)s。")
                        % {"state": label, "column": h[column]},
                    )
                )
        for column, value in given.items():
            if value is not None and column not in allowed:
                problems.append(
                    (
                        h[column],
                        _("状态为“%(state)s”的档案不应有%(column)s。")
                        % {"state": label, "column": h[column]},
                    )
                )
            if value is not None and value > self.today:
                problems.append((h[column], _("%(column)s不能晚于今天。") % {"column": h[column]}))
            if value is not None and value < FIRST_DATE:  # as the template's validation
                problems.append(
                    (
                        h[column],
                        _("%(column)s不能早于%(date)s。")
                        % {"column": h[column], "date": FIRST_DATE.isoformat()},
                    )
                )
        if reason is not INVALID:
            if status == Status.DEREGISTERED and not reason:
                problems.append((h[C_REASON], _("状态为“注销”时必须填写注销原因。")))
            if status != Status.DEREGISTERED and reason:
                problems.append((h[C_REASON], _("只有状态为“注销”的档案才填写注销原因。")))
        ordered = [(C_FILED, filed), (C_RELIEVED, relieved)]
        ordered.append((C_EXITED, exited) if exited else (C_DEREGISTERED, deregistered))
        previous = None
        for column, value in ordered:
            if value is None:
                continue
            if previous is not None and value < previous[1]:
                problems.append(
                    (
                        h[column],
                        _("%(later)s（%(date)s）不能早于%(earlier)s（%(before)s）。")
                        % {
                            "later": h[column],
                            "date": value.isoformat(),
                            "earlier": h[previous[0]],
                            "before": previous[1].isoformat(),
                        },
                    )
                )
            previous = (column, value)
        if filed and id_number is not INVALID:
            born = idnumbers.birth_date(id_number)
            if born and filed < born:
                problems.append((h[C_FILED], _("建档日期早于身份证号中的出生日期。")))
        return problems

    # --- pass 1: members ---------------------------------------------------------------

    def member_row(self, number: int, c) -> None:
        """Checks of the row itself; what needs other rows (its file, 本人) is checked in SQL
        once every row is staged (check_members)."""
        problems = []
        parse = _cell_parser(c, MEMBER_HEADERS, problems)
        file_number = parse(M_FILE, cells.required, cells.text, 30)
        name = parse(M_NAME, cells.required, cells.text, 50)
        relation = parse(M_RELATION, cells.required, cells.choice, RELATION_LABELS)
        id_number = parse(M_ID, cells.optional, self._id_number, default="")
        health = parse(M_HEALTH, cells.optional, cells.choice, HEALTH_LABELS, default=HEALTHY)
        employment = parse(
            M_EMPLOYMENT, cells.optional, cells.choice, EMPLOYMENT_LABELS, default=EMPLOYED
        )
        income = parse(
            M_INCOME, cells.optional, cells.money, allow_zero=INCOME_MAY_BE_ZERO, default=ZERO
        )
        for column, message in problems:
            self.error(MEMBERS, number, column, message)
        if file_number is INVALID:
            return
        id_hash = bulk.hash_id(id_number) if id_number not in ("", INVALID) else ""
        if problems:  # staged all the same: it counts as a member of its file
            given = (relation, name, id_number, id_hash, health, employment)
            given = tuple(None if value is INVALID else value for value in given)
            self.stage.add("members", (number, file_number, *given, 0, 0, None, 0, 0))
            return
        cents = _cents(income)
        if relation == SELF:
            self.stage.add(
                "members",
                (number, file_number, SELF, name, "", id_hash, health, employment, cents)
                + (1, None, 0, 0),
            )
            return
        fingerprint = _fingerprint(relation, name, id_hash, health, employment, cents)
        self.stage.add(
            "members",
            (number, file_number, relation, name, id_number, id_hash, health, employment, cents)
            + (1, _person(id_hash) if id_hash else None, *_print_halves(fingerprint)),
        )

    # --- checks across rows (SQL over the staged rows) -----------------------------------

    def check_file_numbers(self) -> None:
        """A file number on two households rows: the later row is refused."""
        duplicates = list(
            self.stage.rows(
                """
                SELECT row, file_number, first FROM (
                    SELECT row, file_number, MIN(row) OVER (PARTITION BY file_number) AS first
                    FROM (SELECT row, file_number FROM households
                          UNION ALL SELECT row, file_number FROM refused)
                ) WHERE row != first ORDER BY row
                """
            )
        )
        for row, file_number, first in duplicates:
            self.error(
                HOUSEHOLDS,
                row,
                HOUSEHOLD_HEADERS[C_FILE],
                _("档案编号“%(number)s”与第%(row)d行重复。")
                % {"number": file_number, "row": first},
            )
        self.stage.db.executemany(
            "DELETE FROM households WHERE row = ?", [(row,) for row, *_ in duplicates]
        )

    def check_members(self) -> None:
        """Members rows of files not in the households sheet; a second 本人, or a 本人 whose ID
        number is not the worker's (the first 本人 row agreeing with the worker is theirs)."""
        for row, file_number in self.stage.rows(
            """
            SELECT m.row, m.file_number FROM members m
            WHERE NOT EXISTS (SELECT 1 FROM households h WHERE h.file_number = m.file_number)
                AND NOT EXISTS (SELECT 1 FROM refused r WHERE r.file_number = m.file_number)
            """
        ):
            self.error(
                MEMBERS,
                row,
                MEMBER_HEADERS[M_FILE],
                _("档案编号“%(number)s”不在 households 工作表中。") % {"number": file_number},
            )
        refused = []
        for row, file_number, later, _other_id in self.stage.rows(
            f"""
            SELECT * FROM (
                SELECT m.row, m.file_number, m.row > COALESCE(f.first, m.row) AS later,
                    m.id_hash != '' AND m.id_hash != h.id_hash AS other_id
                FROM members m
                JOIN households h ON h.file_number = m.file_number
                LEFT JOIN (
                    SELECT s.file_number, MIN(s.row) AS first
                    FROM members s JOIN households w ON w.file_number = s.file_number
                    WHERE s.relation = '{SELF}' AND s.ok AND s.id_hash IN ('', w.id_hash)
                    GROUP BY s.file_number
                ) f ON f.file_number = m.file_number
                WHERE m.relation = '{SELF}'
            ) WHERE later OR other_id
            """
        ):
            if later:
                column = MEMBER_HEADERS[M_RELATION]
                message = _("档案 %(number)s 有多名关系为“本人”的成员。") % {"number": file_number}
            else:
                column = MEMBER_HEADERS[M_ID]
                message = _("“本人”的身份证号与 households 工作表中该户职工的不一致。")
            self.error(MEMBERS, row, column, message)
            refused.append((row,))
        # Such a row counts as a member (no size error on top), not as the worker.
        self.stage.db.executemany("UPDATE members SET ok = 0 WHERE row = ?", refused)

    def check_persons(self) -> set[tuple[int, int]]:
        """Duplicate ID numbers: never twice in one file, never in two open files. The first
        person of the number holds it (the first in an open file, if any); a later one
        conflicting with the holder is refused. Returns (sheet, row) of the refused.

        A file whose row is refused for a cell takes part with its worker and members (its
        first row, when its number is on no row that stands): fixing the cell must not reveal
        a duplicate the same preview could have named. Whether it is open is known from a
        valid 状态 only; otherwise it meets only the IDs of its own file."""
        people = f"""
            SELECT person, id_hash, row AS file_row, 0 AS sheet, row, is_open, file_number
            FROM households
            UNION ALL
            SELECT person, id_hash, row, 0, row, COALESCE(is_open, 0), file_number
            FROM refused_files WHERE person IS NOT NULL
            UNION ALL
            SELECT m.person, m.id_hash, h.row, 1, m.row, h.is_open, m.file_number
            FROM members m JOIN households h ON h.file_number = m.file_number
            WHERE m.ok AND m.person IS NOT NULL AND m.relation != '{SELF}'
            UNION ALL
            SELECT m.person, m.id_hash, r.row, 1, m.row, COALESCE(r.is_open, 0), m.file_number
            FROM refused_files r JOIN members m ON m.file_number = r.file_number
            WHERE m.ok AND m.person IS NOT NULL AND m.relation != '{SELF}'
        """
        refused_files = """
            SELECT r.* FROM refused r
            WHERE r.row = (SELECT MIN(s.row) FROM refused s WHERE s.file_number = r.file_number)
                AND NOT EXISTS (SELECT 1 FROM households h WHERE h.file_number = r.file_number)
        """
        query = f"""
            WITH refused_files AS MATERIALIZED ({refused_files}),
                people AS MATERIALIZED ({people})
            SELECT id_hash, file_row, sheet, row, is_open, file_number FROM people
            WHERE person IN (SELECT person FROM people GROUP BY person HAVING COUNT(*) > 1)
            ORDER BY id_hash, sheet, row
        """
        refused = set()
        for _hash, group in groupby(self.stage.rows(query), key=itemgetter(0)):
            holder = None
            for person in group:
                _id_hash, file_row, sheet, row, is_open, _file = person
                if holder is not None:
                    if holder[1] == file_row or (is_open and holder[4]):
                        header = (HOUSEHOLD_HEADERS[C_ID], MEMBER_HEADERS[M_ID])[sheet]
                        self.error(
                            (HOUSEHOLDS, MEMBERS)[sheet],
                            row,
                            header,
                            _("身份证号与 %(sheet)s 工作表第%(row)d行（档案 %(file)s）重复。")
                            % {
                                "sheet": (HOUSEHOLDS, MEMBERS)[holder[2]],
                                "row": holder[3],
                                "file": holder[5],
                            },
                        )
                        refused.add((sheet, row))
                        continue
                    if holder[4] or not is_open:
                        continue
                holder = person
        return refused

    def check_claims(self, refused: set[tuple[int, int]]) -> None:
        """IDs held by another open file in the system (the IdentityClaim table). A re-import
        finds every ID held by its own file (the one its file number matched): only the holders
        of the others are looked up."""
        query = f"""
            SELECT h.id_hash, 0, h.row, e.pk FROM households h
            LEFT JOIN existing e ON e.file_number = h.file_number WHERE h.is_open
            UNION ALL
            SELECT m.id_hash, 1, m.row, e.pk
            FROM members m JOIN households h ON h.file_number = m.file_number
            LEFT JOIN existing e ON e.file_number = h.file_number
            WHERE h.is_open AND m.ok AND m.person IS NOT NULL AND m.relation != '{SELF}'
        """
        for chunk in self.stage.chunks(query):
            held = dict(
                IdentityClaim.objects.filter(id_hash__any_of=[item[0] for item in chunk])
                .order_by()
                .values_list("id_hash", "household_id")
            )
            # item: (hash, sheet, row, the key of the file its file number matched or None)
            conflicts = [
                item
                for item in chunk
                if item[0] in held and held[item[0]] != item[3] and item[1:3] not in refused
            ]
            if not conflicts:
                continue
            holders = {
                row["id_hash"]: row
                for row in IdentityClaim.objects.filter(
                    id_hash__any_of=[item[0] for item in conflicts]
                )
                .order_by()
                .values(
                    "id_hash",
                    "household__file_number",
                    "household__worker_name",
                    "household__status",
                    "household__organisation__path",
                )
            }
            for id_hash, sheet, row, _existing in conflicts:
                holder = holders.get(id_hash)
                if holder is None:  # released since the first query
                    continue
                if self.user.is_superuser or holder["household__organisation__path"].startswith(
                    getattr(self.user.organisation, "path", "\x00")
                ):
                    message = _(
                        "此人已在档案 %(number)s（%(name)s，%(status)s）中，不能重复建档。"
                    ) % {
                        "number": holder["household__file_number"],
                        "name": holder["household__worker_name"],
                        "status": Status(holder["household__status"]).label,
                    }
                else:
                    message = _("此人已在其他组织建档，不能重复建档。")
                header = (HOUSEHOLD_HEADERS[C_ID], MEMBER_HEADERS[M_ID])[sheet]
                self.error((HOUSEHOLDS, MEMBERS)[sheet], row, header, message)

    def check_earlier_files(self) -> None:
        """A new application (申请中) for a worker whose closed file (脱困, 注销, 未通过) the user
        can reach is refused as the form refuses it (services.check_no_earlier_file): the
        worker comes back by 重新申请 on that file. Legacy rows in other states are history as
        the old system kept it, and may stand beside an earlier file of the same person."""
        query = f"""
            SELECT h.id_hash, h.row FROM households h
            LEFT JOIN existing e ON e.file_number = h.file_number
            WHERE e.pk IS NULL AND h.status = '{Status.APPLIED.value}'
        """
        path = getattr(self.user.organisation, "path", "\x00")
        for chunk in self.stage.chunks(query):
            rows = dict(chunk)
            earlier = (
                Household.objects.filter(
                    id_hash__any_of=list(rows), status__in=STEPS["reopen"].sources
                )
                .order_by("-status_changed_on", "-pk")
                .values_list(
                    "id_hash", "file_number", "worker_name", "status", "organisation__path"
                )
            )
            named = set()
            for id_hash, number, name, status, org_path in earlier:
                if id_hash in named or not (self.user.is_superuser or org_path.startswith(path)):
                    continue
                named.add(id_hash)
                message = _(
                    "此人已有档案 %(number)s（%(name)s，%(status)s）。请在原档案中“重新申请”"
                    "（返困按原档案统计），不要新建档案。"
                ) % {"number": number, "name": name, "status": Status(status).label}
                self.error(HOUSEHOLDS, rows[id_hash], HOUSEHOLD_HEADERS[C_ID], message)

    def match_existing(self) -> None:
        """Files already in the system with the same file number."""
        own_path = getattr(self.user.organisation, "path", None)
        for chunk in self.stage.chunks("SELECT file_number, row, id_hash FROM households"):
            rows = {number: (row, id_hash) for number, row, id_hash in chunk}
            found_files = Household.objects.filter(file_number__any_of=list(rows)).order_by()
            for found in found_files.values("pk", "file_number", "id_hash", "organisation__path"):
                row, worker_hash = rows[found["file_number"]]
                reachable = self.user.is_superuser or (
                    own_path and found["organisation__path"].startswith(own_path)
                )
                if not reachable:
                    self.error(
                        HOUSEHOLDS,
                        row,
                        HOUSEHOLD_HEADERS[C_FILE],
                        _("档案编号“%(number)s”已被其他组织的档案使用。")
                        % {"number": found["file_number"]},
                    )
                    continue  # not compared: nothing of a file out of reach may show
                if found["id_hash"] != worker_hash:
                    self.error(
                        HOUSEHOLDS,
                        row,
                        HOUSEHOLD_HEADERS[C_ID],
                        _("档案 %(number)s 在系统中是另一位职工的档案，身份证号不一致。")
                        % {"number": found["file_number"]},
                    )
                self.stage.add("existing", (found["file_number"], found["pk"]))

    def check_categories(self) -> None:
        """A category of the scheme the row's organisation uses (eligibility.scheme_categories,
        as the form and the services): a legacy file filed before 2021 may carry one of the
        2015 scheme, a newer file or an application may not. A file in the system keeps its own
        category (an update that leaves it, as an edit does)."""
        if not self.misfits:
            return
        numbers = [misfit[1] for misfit in self.misfits]
        kept = dict(
            Household.objects.visible_to(self.user)
            .filter(file_number__any_of=numbers)
            .order_by()
            .values_list("file_number", "category_id")
        )
        names = {pk: name for name, pk in self.categories.items()}
        schemes = dict(Organisation._meta.get_field("category_scheme").choices)
        for row, number, category, org_id in self.misfits:
            if kept.get(number) != category:
                self.error(
                    HOUSEHOLDS,
                    row,
                    HOUSEHOLD_HEADERS[C_CATEGORY],
                    _(
                        "困难类别“%(name)s”不属于建档单位所用的困难类别标准（%(scheme)s）；"
                        "2021年以前建档的档案方可填写2015—2020年标准的类别。"
                    )
                    % {
                        "name": names[category],
                        "scheme": schemes[self.setting(org_id, "category_scheme")],
                    },
                )

    def check_totals(self) -> None:
        """家庭人口 and 家庭月收入 against the members (how services.income_of computes them).
        SQL picks the files at fault (FileInfo.split_income says the same in Python). With
        家庭月收入 blank the family's income is the members' sum, which may pass what a money
        column holds though each income does: refused as the form refuses it
        (services.recompute_income), since stored it breaks every read of the file (and
        PostgreSQL's COPY fails). The per-capita income is a share of it, no larger."""
        at_fault = f"""
            WHERE (h.size_given IS NOT NULL AND h.size_given != 1 + COALESCE(a.members, 0))
                OR h.income_given < COALESCE(a.income, 0) + COALESCE(s.cents, 0)
                OR (h.income_given IS NULL
                    AND COALESCE(a.income, 0) + COALESCE(s.cents, 0) > {MAX_CENTS})
        """
        for chunk in self.files(joins=at_fault):
            for info, _extra in chunk:
                row = info.row
                size = 1 + info.members
                if row.size_given is not None and row.size_given != size:
                    self.error(
                        HOUSEHOLDS,
                        row.row,
                        HOUSEHOLD_HEADERS[C_SIZE],
                        _("家庭人口填写为%(given)d，members 工作表中本户有%(count)d人（含本人）。")
                        % {"given": row.size_given, "count": size},
                    )
                if not info.split_income():
                    own = info.self_data[2] if info.self_data else 0
                    self.error(
                        HOUSEHOLDS,
                        row.row,
                        HOUSEHOLD_HEADERS[C_INCOME],
                        _("家庭月收入 %(given)s 元小于成员月收入之和 %(sum)s 元。")
                        % {
                            "given": yuan_text(_yuan(row.income_given)),
                            "sum": yuan_text(_yuan(info.members_income + own)),
                        },
                    )
                total = info.self_income + info.members_income + info.other_income
                if total > MAX_CENTS:
                    self.error(
                        HOUSEHOLDS,
                        row.row,
                        HOUSEHOLD_HEADERS[C_INCOME],
                        _(
                            "家庭月收入合计 %(total)s 元超过可记录的上限 %(max)s 元，"
                            "请核对各项收入。"
                        )
                        % {"total": yuan_text(_yuan(total)), "max": yuan_text(MAX_AMOUNT)},
                    )

    # --- existing files: skip, update or refuse -----------------------------------------

    def compare_existing(self) -> None:
        """One pass over the matched files: the recorded state of each chunk's files is loaded
        with a few queries, then each row is compared with it; updates and skips are staged
        (decisions). Also when other rows have errors: the preview then still says which
        files would be updated or skipped."""
        if self.stage.value("SELECT COUNT(*) FROM existing") == 0:
            return
        for infos in self.files(joins="WHERE e.pk IS NOT NULL"):
            chunk = {info.row.file_number: info for info, _extra in infos}
            self._load_existing(chunk)
            for info in chunk.values():
                self._compare_row(info.row, info)
            self._member_actions([info for info in chunk.values() if info.action == "update"])
            for info in chunk.values():
                if info.action != "create":
                    steps = [(state, day.toordinal()) for state, day in info.new_steps or []]
                    decision = (info.action, json.dumps(steps), info.reason, info.removed)
                    self.stage.add("decisions", (info.row.file_number, *decision))

    def _member_actions(self, updates: list[FileInfo]) -> None:
        """What an update does to each member, for the preview: each members row matched to a
        recorded member as _update_file matches them (by ID number, else by relation and name)
        is unchanged or updated, one that matches none is new, and the recorded members no row
        matches are deleted. Staged per row (member_actions); the rest count by their file."""
        if not updates:
            return
        given: dict[str, list] = {info.row.file_number: [] for info in updates}
        marks = ", ".join("?" * len(given))
        for number, row, relation, name, id_hash, high, low in self.stage.rows(
            f"SELECT file_number, row, relation, name, id_hash, print_hi, print_lo FROM members "
            f"WHERE file_number IN ({marks})",
            list(given),
        ):
            given[number].append((row, relation, name, id_hash, (high << 32) | low))
        actions = []
        for info in updates:
            by_hash = {key[2]: key for key in info.existing_people if key[2]}
            by_name = defaultdict(list)
            for key in info.existing_people:
                if not key[2]:
                    by_name[key[:2]].append(key)
            kept = 0
            for row, relation, name, id_hash, fingerprint in given[info.row.file_number]:
                if relation == SELF:
                    actions.append((row, "skip" if info.self_same else "update"))
                    continue
                if id_hash:
                    found = by_hash.pop(id_hash, None)
                else:
                    unchanged = partial(_same_print, fingerprint)
                    found = _pop_match(by_name[relation, name], unchanged)
                kept += found is not None
                if found is None:
                    actions.append((row, "create"))
                else:
                    actions.append((row, "skip" if found[3] == fingerprint else "update"))
            info.removed = len(info.existing_people) - kept
        self.stage.add_many("member_actions", actions)

    def _load_existing(self, chunk: dict[str, FileInfo]) -> None:
        pks = {info.existing: number for number, info in chunk.items()}
        prints = dict.fromkeys(pks, 0)
        counts = dict.fromkeys(pks, 0)
        people = {pk: [] for pk in pks}
        selves = {}
        for (
            household_id,
            relation,
            name,
            id_hash,
            health,
            employment,
            income,
        ) in (
            Member.objects.filter(household_id__any_of=list(pks))
            .order_by()
            .values_list(
                "household_id",
                "relation",
                "name",
                "id_hash",
                "health",
                "employment",
                "monthly_income",
            )
        ):
            cents = _cents(income)
            if relation == Member.Relation.SELF:
                selves[household_id] = (health, employment, cents)
                continue
            fingerprint = _fingerprint(relation, name, id_hash, health, employment, cents)
            prints[household_id] = (prints[household_id] + fingerprint) & MASK64
            counts[household_id] += 1
            people[household_id].append((relation, name, id_hash, fingerprint))
        # The relief of the current filing only: a file reopened after an earlier relief and
        # exit was relieved in another period.
        relieved_on = {
            (household_id, period_id): day
            for household_id, period_id, day in Transition.objects.filter(
                household_id__any_of=list(pks), to_status=Status.RELIEVED
            )
            .exclude(action=AMEND)  # the relief itself, not a later fact change (date_facts)
            .order_by()
            .values_list("household_id", "period_id", "effective_date")
        }
        for h in (
            Household.objects.filter(pk__any_of=list(pks))
            .order_by()
            .values(
                "pk",
                "organisation_id",
                "worker_name",
                "sex",
                "phone",
                "employer",
                "is_migrant_worker",
                "primary_cause_id",
                "category_id",
                "bank_name",
                "bank_account",
                "address",
                "other_monthly_income",
                "status",
                "current_period_id",
                "current_period__filed_on",
                "current_period__closed_on",
                "updated_at",
            )
        ):
            number = pks[h["pk"]]
            info = chunk[number]
            info.existing_state = h
            info.existing_print = prints[h["pk"]]
            info.existing_members = counts[h["pk"]]
            info.existing_people = people[h["pk"]]
            info.existing_self = selves.get(h["pk"])
            info.existing_relieved = relieved_on.get((h["pk"], h["current_period_id"]))

    def _compare_row(self, row: StagedHousehold, info: FileInfo) -> None:
        h = info.existing_state
        if info.existing_members and not info.members and row.size_given is None:
            # A workbook of households alone (to correct phone numbers, say) must not empty
            # every family: removing all members takes an explicit 家庭人口 of 1.
            self.error(
                HOUSEHOLDS,
                row.row,
                HOUSEHOLD_HEADERS[C_SIZE],
                _(
                    "档案 %(number)s 在系统中有 %(count)d 名家庭成员，members 工作表中没有本户的"
                    "行。更新档案时请列出全部成员（可先导出再修改）；确要删除全部成员，请把家庭"
                    "人口填为 1。"
                )
                % {"number": row.file_number, "count": info.existing_members},
            )
            return
        same_fields = (
            h["organisation_id"] == row.org_id
            and h["worker_name"] == row.name
            and h["sex"] == row.sex
            and h["phone"] == row.phone
            and h["employer"] == row.employer
            and h["is_migrant_worker"] == row.migrant
            and h["primary_cause_id"] == row.cause_id
            and h["category_id"] == row.category_id
            and h["bank_name"] == row.bank
            and (h["bank_account"] or "") == row.account
            and h["address"] == row.address
            and _cents(h["other_monthly_income"]) == info.other_income
        )
        self_data = info.self_data or (
            Member.Health.HEALTHY,
            Member.Employment.EMPLOYED,
            info.self_income,
        )
        if info.self_data is None and info.existing_self is not None:
            # No 本人 row: keep the worker's recorded health and work, compare the income only.
            self_data = (*info.existing_self[:2], info.self_income)
        info.self_same = self_data == info.existing_self
        same_members = info.member_print == info.existing_print and info.self_same
        old = [
            (Status.ON_FILE, h["current_period__filed_on"]),
            (Status.RELIEVED, info.existing_relieved),
            (h["status"], h["current_period__closed_on"]),
        ]
        new = [
            (Status.ON_FILE, _day(row.filed)),
            (Status.RELIEVED, _day(row.relieved)),
            (row.status, _day(row.exited or row.deregistered)),
        ]
        old_steps = _steps(old, h["status"])
        new_steps = _steps(new, row.status)
        info.new_steps = new_steps[len(old_steps) :]
        appendable = all(
            state in (Status.RELIEVED, Status.EXITED, Status.DEREGISTERED)
            for state, _day_ in info.new_steps
        )
        same_state = old_steps == new_steps or (
            h["status"] in UNDER_REVIEW and row.status == Status.APPLIED and not row.filed
        )
        if not same_state and (
            new_steps[: len(old_steps)] != old_steps
            or h["status"] in UNDER_REVIEW
            or not appendable
        ):
            self.error(
                HOUSEHOLDS,
                row.row,
                HOUSEHOLD_HEADERS[C_STATUS],
                _(
                    "与系统记录不一致：档案 %(number)s 在系统中为“%(state)s”（%(dates)s）。导入只能"
                    "在原有记录之后追加解困、脱困或注销，其余状态变更请在档案页面办理。"
                )
                % {
                    "number": row.file_number,
                    "state": STATE_OF.get(h["status"], Status(h["status"]).label),
                    "dates": listing(f"{Status(s).label} {d}" for s, d in old_steps) or "—",
                },
            )
            return
        if same_fields and same_members and same_state:
            info.action = "skip"
        elif self.exported_at is not None and h["updated_at"] > self.exported_at:
            # The workbook is older than the file: importing it would silently undo whatever
            # was changed since (a new member, a corrected phone number, a step taken).
            self.error(
                HOUSEHOLDS,
                row.row,
                HOUSEHOLD_HEADERS[C_FILE],
                _(
                    "档案 %(number)s 在本文件导出（%(exported)s）之后已在系统中修改"
                    "（%(changed)s）。为免覆盖这些修改，请重新导出后再修改、导入。"
                )
                % {
                    "number": row.file_number,
                    "exported": _moment(self.exported_at),
                    "changed": _moment(h["updated_at"]),
                },
            )
        else:
            info.action = "update"
            info.new_steps = [] if same_state else info.new_steps
            info.reason = row.reason

    # --- who may import approved steps -------------------------------------------------

    def check_approvals(self) -> None:
        """Rows that would record approvals: a new file past 申请中 (on file, relieved, exited
        or deregistered on its dates) and an update appending 解困/脱困/注销 to a file. Without
        the permission to approve files (a clerk's case) each is refused on its 状态 cell;
        申请中 rows stay open to everyone who imports and become applications, to be reviewed,
        noticed and approved like any other. The appended states are known once the matched
        files were compared (compare_existing, which does not run when other rows failed)."""
        if self.may_approve:
            return
        words = {code: word for word, code in STATE_LABELS.items()}
        for row, file_number, status, steps in self.stage.rows(
            f"""
            SELECT h.row, h.file_number, h.status, d.steps FROM households h
            LEFT JOIN existing e ON e.file_number = h.file_number
            LEFT JOIN decisions d ON d.file_number = h.file_number
            WHERE (e.pk IS NULL AND h.status != '{Status.APPLIED.value}')
                OR (d.action = 'update' AND d.steps != '[]')
            ORDER BY h.row
            """
        ):
            if steps is None:
                message = _approval_needed(file_number, status, words)
            else:
                appended = listing(words[state] for state, _day in json.loads(steps))
                message = _(
                    "档案 %(number)s 将追加“%(states)s”：解困、脱困、注销须经审批，通过导入追加"
                    "需要审批权限，请由审核审批人员导入，或在档案页面“申请解困、脱困或注销”。"
                ) % {"number": file_number, "states": appended}
            self.error(HOUSEHOLDS, row, HOUSEHOLD_HEADERS[C_STATUS], message)
        self._check_refused_approvals(words)

    def _check_refused_approvals(self, words: dict) -> None:
        """A row refused for its cells says so too when it would also need the permission:
        a clerk fixing 300 income cells learned only on the next upload that none of the
        files could be theirs to import. A row of a file already in the system is left out
        (whether it appends a state is known only from a row that could be compared)."""
        for chunk in self.stage.chunks(
            f"SELECT row, file_number, status FROM refused "
            f"WHERE status IS NOT NULL AND status != '{Status.APPLIED.value}' ORDER BY row"
        ):
            known = set(
                Household.objects.filter(
                    file_number__any_of=[number for _row, number, _status in chunk]
                ).values_list("file_number", flat=True)
            )
            for row, number, status in chunk:
                if number not in known:
                    self.error(
                        HOUSEHOLDS,
                        row,
                        HOUSEHOLD_HEADERS[C_STATUS],
                        _approval_needed(number, status, words),
                    )

    def count(self) -> None:
        """What the import does with each row; rows with an error, and the members of a file
        whose row has one, are left out (the runner counts the rows with errors), so a preview
        with errors still shows what the rest would do."""
        errors = self.errors + self.known_errors
        for sheet in (HOUSEHOLDS, MEMBERS):
            self.stage.add_many("bad", ((sheet, row) for row in error_rows(errors, sheet)))
        for sheet, query in (
            (
                HOUSEHOLDS,
                "SELECT d.action, COUNT(*) FROM households h "
                "LEFT JOIN decisions d ON d.file_number = h.file_number "
                f"WHERE h.row NOT IN (SELECT row FROM bad WHERE sheet = '{HOUSEHOLDS}') "
                "GROUP BY d.action",
            ),
            (
                MEMBERS,
                "SELECT COALESCE(a.action, d.action), COUNT(*) FROM members m "
                "LEFT JOIN decisions d ON d.file_number = m.file_number "
                "LEFT JOIN member_actions a ON a.row = m.row "
                f"WHERE m.row NOT IN (SELECT row FROM bad WHERE sheet = '{MEMBERS}') "
                # the members of a refused file go with it, whatever their own rows say
                "AND m.file_number NOT IN (SELECT file_number FROM refused) "
                "AND m.file_number NOT IN (SELECT h.file_number FROM households h "
                f"JOIN bad b ON b.sheet = '{HOUSEHOLDS}' AND b.row = h.row) "
                "GROUP BY 1",
            ),
        ):
            counts = self.report.sheets[sheet]
            for action, rows in self.stage.rows(query):
                setattr(counts, _COUNT[action or "create"], rows)
        removed = self.stage.value("SELECT SUM(removed) FROM decisions")
        self.report.sheets[MEMBERS].removed = removed or 0

    # --- pass 2: writing ---------------------------------------------------------------

    def write(self) -> None:
        self.tick(sum(counts.skipped for counts in self.report.sheets.values()))
        writer = _Writer(self)
        with writer.copier:
            for infos in self.files(
                extra=", k.pk, k.period_id", joins="JOIN keys k ON k.file_number = h.file_number"
            ):
                for info, (pk, period_id) in infos:
                    info.pk, info.period_id = pk, period_id
                writer.households([info for info, _keys in infos])
                writer.copier.check()
                self.tick(len(infos) + sum(1 for info, _keys in infos if info.self_data))
            for rows in self.stage.chunks(
                f"""
                SELECT {M_COLUMNS}, k.pk, h.is_open FROM members m
                JOIN keys k ON k.file_number = m.file_number
                JOIN households h ON h.file_number = m.file_number
                WHERE m.relation != '{SELF}' ORDER BY m.row
                """
            ):
                writer.members(rows)
                writer.copier.check()
                self.tick(len(rows))
        # Updates go through the ORM one file at a time, after the bulk path: their rows count
        # as done only now, so the bar does not sit at 100 % while they run.
        for infos in self.files(
            extra=", d.steps, d.reason",
            joins="JOIN decisions d ON d.file_number = h.file_number WHERE d.action = 'update'",
        ):
            for info, (steps, reason) in infos:
                steps = json.loads(steps)
                info.new_steps = [(state, dt.date.fromordinal(day)) for state, day in steps]
                info.reason = reason
                members = [
                    StagedMember._make(row)
                    for row in self.stage.rows(
                        f"SELECT {M_COLUMNS} FROM members m WHERE m.file_number = ? ORDER BY m.row",
                        [info.row.file_number],
                    )
                ]
                _update_file(self, info.row, info, members)
                self.tick(1 + len(members))


_COUNT = {"create": "created", "update": "updated", "skip": "skipped"}


def _moment(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _steps(milestones, status) -> list[tuple[str, dt.date]]:
    """The approved steps of a filing (filed, relieved, closed) as (state, date), in order."""
    if status in UNDER_REVIEW or status in (Status.REJECTED, Status.WITHDRAWN):
        return []
    steps = [(state, day) for state, day in milestones if day is not None]
    return steps


def _error_order(error: RowError):
    return (error.sheet != "", error.sheet != HOUSEHOLDS, error.row or 0)


class _Writer:
    """Builds the rows of new files and writes them with imports.bulk."""

    def __init__(self, run: _Run):
        self.run = run
        self.user = run.user
        self.now = bulk.now()
        self.households_t = bulk.Table(Household)
        self.members_t = bulk.Table(Member)
        self.periods_t = bulk.Table(FilingPeriod)
        # Rows nothing refers to are numbered by the database.
        self.households_h = bulk.Table(Household.history.model, database_ids=True)
        self.members_h = bulk.Table(Member.history.model, database_ids=True)
        self.transitions_t = bulk.Table(Transition, database_ids=True)
        self.claims_t = bulk.Table(IdentityClaim, database_ids=True)
        # Keys of every new file, its period and its members up front (staged): members may
        # come in any order, and no query should wait behind the copying thread (bulk.Copier).
        stage = run.stage
        new = "NOT EXISTS (SELECT 1 FROM decisions d WHERE d.file_number = h.file_number)"
        files = stage.value(f"SELECT COUNT(*) FROM households h WHERE {new}")
        members = stage.value(
            "SELECT COUNT(*) FROM members m JOIN households h ON h.file_number = m.file_number "
            f"WHERE m.relation != '{SELF}' AND {new}"
        )
        numbers = stage.rows(f"SELECT file_number FROM households h WHERE {new}")
        stage.add_many(
            "keys",
            (
                (number, pk, period_id)
                for (number,), pk, period_id in zip(
                    numbers,
                    self.households_t.take_ids(files),
                    self.periods_t.take_ids(files),
                    strict=True,
                )
            ),
        )
        stage.add_many("member_ids", enumerate(self.members_t.take_ids(files + members)))
        self.member_ids = (pk for (pk,) in stage.rows("SELECT pk FROM member_ids ORDER BY seq"))
        for (org_id,) in stage.rows(f"SELECT DISTINCT org_id FROM households h WHERE {new}"):
            for name in ("income_rule", "stock_baseline_date", "survey_interval_months"):
                run.setting(org_id, name)
        self.reason = str(IMPORT_REASON)
        who = {"user": self.user, "when": self.now, "reason": self.reason}
        self.households_history = bulk.History(self.households_t, self.households_h, **who)
        self.members_history = bulk.History(self.members_t, self.members_h, **who)
        self.copier = bulk.Copier(
            [
                self.households_t,
                self.households_h,
                self.members_t,
                self.members_h,
                self.periods_t,
                self.transitions_t,
                self.claims_t,
            ]
        )

    def households(self, infos: list[FileInfo]) -> None:
        if not infos:
            return
        run = self.run
        rows = [info.row for info in infos]
        tokens = bulk.encrypt_many(
            [r.id_number for r in rows] + [r.account for r in rows if r.account]
        )
        id_tokens = tokens[: len(rows)]
        account_tokens = iter(tokens[len(rows) :])
        households, periods, transitions, claims, selves = [], [], [], [], []
        for info, id_token in zip(infos, id_tokens, strict=True):
            row = info.row
            pk, period_id = info.pk, info.period_id
            migrant = bool(row.migrant)
            filed, relieved = _day(row.filed), _day(row.relieved)
            closed = _day(row.exited or row.deregistered)
            size = 1 + info.members
            income = compute_income(
                member_incomes=[_yuan(info.self_income + info.members_income)]
                + [ZERO] * (size - 1),
                other_monthly=_yuan(info.other_income),
                rigid_annual=ZERO,
                rule=run.setting(row.org_id, "income_rule"),
            )
            origin = Origin.NEW
            if filed is not None and filed <= run.setting(row.org_id, "stock_baseline_date"):
                origin = Origin.STOCK
            steps = _history(row.status, filed, relieved, closed, run.today)
            household = {
                "id": pk,
                "organisation_id": row.org_id,
                "file_number": row.file_number,
                "worker_name": row.name,
                "sex": row.sex,
                "id_number": id_token,
                "id_hash": row.id_hash,
                "id_masked": mask(row.id_number),
                "birth_date": idnumbers.birth_date(row.id_number),
                "phone": row.phone,
                "employer": row.employer,
                "is_migrant_worker": migrant,
                "address": row.address,
                "bank_name": row.bank,
                "bank_account": next(account_tokens) if row.account else "",
                "bank_account_masked": mask(row.account) if row.account else "",
                "other_monthly_income": _yuan(info.other_income),
                "household_size": income.size,
                "monthly_income": income.monthly,
                "per_capita_income": income.per_capita,
                "primary_cause_id": row.cause_id,
                "category_id": row.category_id,
                "responsible_chair": "",
                "responsible_chair_phone": "",
                "status": row.status,
                "status_changed_on": steps[-1][3],
                "current_period_id": period_id,
                "next_survey_due": add_months(
                    filed, run.setting(row.org_id, "survey_interval_months")
                )
                if row.status in SUPPORTED_STATUSES
                else None,
                "created_by_id": self.user.pk,
                "created_at": self.now,
                "updated_at": self.now,
            }
            households.append(household)
            periods.append(
                {
                    "id": period_id,
                    "household_id": pk,
                    "number": 1,
                    "origin": origin,
                    "applied_on": filed or run.today,
                    "filed_on": filed,
                    "closed_on": closed
                    if row.status in (Status.EXITED, Status.DEREGISTERED)
                    else None,
                }
            )
            facts = {
                "organisation_id": row.org_id,
                "primary_cause_id": row.cause_id,
                "category_id": row.category_id,
                "is_migrant_worker": migrant,
                "filed_on": filed,
                "origin": origin,
            }
            # The earlier system's steps, as recorded: a legacy file is not checked again for
            # the documents a filing needs now (services.check_documents); its page shows
            # what is missing, and an imported application meets the check at its review.
            for index, (action, source, target, day) in enumerate(steps):
                transitions.append(
                    {
                        "household_id": pk,
                        "period_id": period_id,
                        "action": action,
                        "from_status": source,
                        "to_status": target,
                        "effective_date": day,
                        "valid_until": steps[index + 1][3] if index + 1 < len(steps) else None,
                        "reason": self.reason,
                        "deregistration_reason": row.reason
                        if target == Status.DEREGISTERED
                        else "",
                        "is_imported": True,
                        "actor_id": self.user.pk,
                        "created_at": self.now,
                        **facts,
                    }
                )
            health, employment, _cents_ = info.self_data or (
                Member.Health.HEALTHY,
                Member.Employment.EMPLOYED,
                0,
            )
            selves.append(
                {
                    "household_id": pk,
                    "relation": Member.Relation.SELF,
                    "name": row.name,
                    "id_number": id_token,
                    "id_hash": row.id_hash,
                    "id_masked": household["id_masked"],
                    "health": health,
                    "employment": employment,
                    "monthly_income": _yuan(info.self_income),
                }
            )
            if info.is_open:
                claims.append({"id_hash": row.id_hash, "household_id": pk})
        self.copier.insert(self.households_t, households, self.households_history)
        self.copier.insert(self.periods_t, periods)
        self.copier.insert(self.transitions_t, transitions)
        self._members(selves, claims)

    def members(self, rows: list[tuple]) -> None:
        """Members rows of new files, each with its file's key and open flag."""
        if not rows:
            return
        given = [(StagedMember._make(record[:-2]), *record[-2:]) for record in rows]
        with_id = [row for row, _pk, _open in given if row.id_number]
        tokens = dict(
            zip(
                (r.row for r in with_id),
                bulk.encrypt_many([r.id_number for r in with_id]),
                strict=True,
            )
        )
        members, claims = [], []
        for row, pk, is_open in given:
            members.append(
                {
                    "household_id": pk,
                    "relation": row.relation,
                    "name": row.name,
                    "id_number": tokens.get(row.row, ""),
                    "id_hash": row.id_hash,
                    "id_masked": mask(row.id_number) if row.id_number else "",
                    "health": row.health,
                    "employment": row.employment,
                    "monthly_income": _yuan(row.cents),
                }
            )
            if row.id_hash and is_open:
                claims.append({"id_hash": row.id_hash, "household_id": pk})
        self._members(members, claims)

    def _members(self, members, claims) -> None:
        for row in members:
            row["id"] = next(self.member_ids)
        self.copier.insert(self.members_t, members, self.members_history)
        self.copier.insert(self.claims_t, claims)


def _history(status, filed, relieved, closed, today):
    """(action, from, to, date) of a new file: the legacy milestones as approved transitions."""
    if status == Status.APPLIED:
        return [
            ("create", "", Status.DRAFT, today),
            ("submit", Status.DRAFT, Status.APPLIED, today),
        ]
    steps = [("approve", "", Status.ON_FILE, filed)]
    if relieved is not None:
        steps.append(("relieve", Status.ON_FILE, Status.RELIEVED, relieved))
    if status in (Status.EXITED, Status.DEREGISTERED):
        action = "exit" if status == Status.EXITED else "deregister"
        steps.append((action, steps[-1][2], status, closed))
    return steps


def _approval_needed(file_number: str, status: str, words: dict) -> str:
    return _(
        "档案 %(number)s 的状态为“%(state)s”：导入已审批的档案（在档、解困、脱困、"
        "注销）需要审批权限，请由审核审批人员导入。您可以导入“申请中”的档案，"
        "经审核、公示后由审核审批人员审批建档。"
    ) % {"number": file_number, "state": words[status]}


def _same_print(fingerprint: int, key: tuple) -> bool:
    return key[3] == fingerprint


def _pop_match(candidates: list, same):
    """Members without an ID number are matched by relation and name, and two children may
    share both: the candidate `same` accepts (unchanged) if any, else the first; taken from
    the list so the next row of that name gets the other. The preview and the writer match
    alike, so the counts shown are what happens."""
    if not candidates:
        return None
    index = next((i for i, candidate in enumerate(candidates) if same(candidate)), 0)
    return candidates.pop(index)


def _update_file(
    run: _Run, row: StagedHousehold, info: FileInfo, member_rows: list[StagedMember]
) -> None:
    """A changed file, through the ORM: field history is recorded by django-simple-history,
    later states go through the transition service as imported history."""
    from households import services

    household = Household.objects.select_for_update().get(pk=info.existing)
    # The appended steps first, then the changed values. The steps are backdated and take
    # the facts in force (organisation, cause, category, migrant flag) as they were then;
    # saving a change of facts dates it today, after them (Household.save, date_facts). In the
    # other order the step replaced today's change and took the new facts from its own date
    # (services.record_transition): a file moved with a relief of 2018 counted in the new
    # county from 2018. And before the members and their ID claims: a file the row closes
    # (脱困, 注销) claims no ID number (IdentityClaim holds the people of open files), as the
    # checks saw it (check_claims compares the rows that end open).
    try:
        _append_steps(run, row, info, household)
    except ValidationError as exc:  # the file changed since the checks compared it
        raise RowRefused(
            HOUSEHOLDS, row.row, HOUSEHOLD_HEADERS[C_STATUS], exc.messages[0]
        ) from None
    household.refresh_from_db()
    household.organisation_id = row.org_id
    household.worker_name = row.name
    household.sex = row.sex
    household.phone = row.phone
    household.employer = row.employer
    household.is_migrant_worker = row.migrant
    household.primary_cause_id = row.cause_id
    household.category_id = row.category_id
    household.bank_name = row.bank
    household.bank_account = row.account
    household.bank_account_masked = mask(row.account) if row.account else ""
    household.address = row.address
    household.other_monthly_income = _yuan(info.other_income)
    # Who and why on the history rows: an import runs in a background job, with no request
    # for django-simple-history to take the user from.
    household._history_user = run.user
    household._change_reason = str(IMPORT_REASON)
    household.save()
    existing = list(household.members.all())
    own = next((m for m in existing if m.relation == Member.Relation.SELF), None)
    if own is None:
        own = Member(household=household, relation=Member.Relation.SELF)
    health, employment, _income = info.self_data or (
        own.health if own.pk else Member.Health.HEALTHY,
        own.employment if own.pk else Member.Employment.EMPLOYED,
        0,
    )
    _save_member(run.user, own, row.name, row.id_number, health, employment, info.self_income)
    keep = {own.pk}
    by_hash = {m.id_hash: m for m in existing if m.id_hash and m.relation != Member.Relation.SELF}
    by_name = defaultdict(list)
    for m in existing:
        if not m.id_hash and m.relation != Member.Relation.SELF:
            by_name[m.relation, m.name].append(m)
    for given in member_rows:
        if given.relation == Member.Relation.SELF:
            continue
        if given.id_hash:
            member = by_hash.pop(given.id_hash, None)
        else:
            member = _pop_match(
                by_name[given.relation, given.name],
                lambda m, given=given: (
                    (m.health, m.employment, _cents(m.monthly_income))
                    == (given.health, given.employment, given.cents)
                ),
            )
        if member is None:
            member = Member(household=household)
        member.relation = given.relation
        _save_member(
            run.user,
            member,
            given.name,
            given.id_number,
            given.health,
            given.employment,
            given.cents,
        )
        keep.add(member.pk)
    for member in existing:
        if member.pk not in keep:
            member._history_user, member._change_reason = run.user, str(IMPORT_REASON)
            member.delete()  # the deletion stays in the member's history
    try:
        services.claim_identities(user=run.user, household=household)
    except ValidationError as exc:
        raise _claim_refused(run, row, member_rows, household, exc) from None
    try:
        services.recompute_income(household, same_edit=True)
    except ValidationError as exc:  # check_totals refuses it first; the service has the last word
        raise RowRefused(
            HOUSEHOLDS, row.row, HOUSEHOLD_HEADERS[C_INCOME], exc.messages[0]
        ) from None


def _append_steps(run: _Run, row: StagedHousehold, info: FileInfo, household: Household) -> None:
    """The states the row appends (解困, 脱困, 注销 on their dates), through the transition
    service as imported history."""
    from households import services

    for state, day in info.new_steps or []:
        action = {
            Status.RELIEVED: "relieve",
            Status.EXITED: "exit",
            Status.DEREGISTERED: "deregister",
        }.get(state)
        if action is None:
            raise ValidationError(
                _("档案 %(number)s 的状态不能通过导入改为“%(state)s”。")
                % {"number": row.file_number, "state": Status(state).label}
            )
        services.transition_apply(
            user=run.user,
            household=household,
            action=action,
            reason=str(IMPORT_REASON),
            effective_date=day,
            deregistration_reason=row.reason if action == "deregister" else "",
            imported=True,
        )


def _claim_refused(
    run: _Run, row: StagedHousehold, members: list[StagedMember], household: Household, exc
) -> RowRefused:
    """An ID number of the file another open file claimed after the checks found it free
    (another import, or a clerk, got there first): refused on the row that gives it."""
    from households import services

    cells = {row.id_hash: (HOUSEHOLDS, row.row, HOUSEHOLD_HEADERS[C_ID])}
    for member in members:
        if member.id_hash and member.relation != SELF:
            cells.setdefault(member.id_hash, (MEMBERS, member.row, MEMBER_HEADERS[M_ID]))
    # claim_identities claims in order of hash and stops at the first one held.
    held = (
        IdentityClaim.objects.filter(id_hash__in=list(cells))
        .exclude(household=household)
        .select_related("household__organisation")
        .order_by("id_hash")
        .first()
    )
    if held is None:  # released since: the service's own words, on the file's row
        return RowRefused(HOUSEHOLDS, row.row, HOUSEHOLD_HEADERS[C_ID], exc.messages[0])
    message = services.duplicate_message(run.user, held.household)
    return RowRefused(*cells[held.id_hash], message)


def _save_member(user, member, name, id_number, health, employment, cents) -> None:
    from households.services import set_identity

    member._history_user, member._change_reason = user, str(IMPORT_REASON)
    member.name = name
    if id_number or not member.pk or member.relation != Member.Relation.SELF:
        set_identity(member, id_number)
    member.health = health
    member.employment = employment
    member.monthly_income = _yuan(cents)
    member.save()
