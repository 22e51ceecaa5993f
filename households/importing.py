"""Importing household files (困难职工档案) from the workbook template, legacy history included.

Sheet `households` holds one file per row, sheet `members` the family members (the worker's
own row, relation 本人, is optional: without it the worker's income is 家庭月收入 minus the
other members' incomes). A row in state 解困/脱困/注销 with its dates becomes a file whose
history holds each transition on those dates (Transition.is_imported), so past years' reports
count it where it happened.

Matching: a row is the file with its 档案编号 (the worker's ID number must then agree). Identical
rows are skipped; changed values update the file through the ORM (field history recorded), and
later states with their dates are appended as transitions. New files go through the bulk path
(imports.bulk): two passes over the workbook, the first validating and keeping only small keys
per file and per person (rows spill to a temporary file), the second writing in chunks inside
one transaction. The database's unique keys (file number, IdentityClaim.id_hash) have the last
word when two imports run at once."""

import datetime as dt
import hashlib
import marshal
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households import idnumbers
from households.eligibility import compute_income
from households.models import (
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
from imports import bulk, cells
from imports.base import ImportReport, RowError, SheetCounts
from imports.xlsx import CHOICE, DATE, INT, MONEY, TEXT, YES_NO, Column, SheetSpec, WorkbookSpec
from orgs.calendar import add_months
from orgs.models import Organisation
from orgs.money import ZERO
from orgs.pii import mask

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
# Plain str values (not the enum members): the rows spill through marshal.
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

CHUNK = 5000
INVALID = object()
IMPORT_REASON = gettext_lazy("导入的历史记录")


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
                    Column("身份证号", _("18位居民身份证号码，文本格式。"), TEXT, required=True),
                    Column("联系电话", "", TEXT),
                    Column("工作单位", "", TEXT),
                    Column("是否农民工", _("留空视为“否”。"), YES_NO),
                    Column(
                        "家庭人口",
                        _("含本人；留空按 members 工作表计算，填写时须与之一致。"),
                        INT,
                    ),
                    Column(
                        "家庭月收入",
                        _("元；含全部成员收入和其他收入，不得小于成员月收入之和。"),
                        MONEY,
                    ),
                    Column("主要致困原因", "", CHOICE, tuple(causes), required=True),
                    Column("困难类别", "", CHOICE, tuple(categories)),
                    Column("建档日期", _("审批建档的日期；“申请中”的档案留空。"), DATE),
                    Column("状态", "", CHOICE, tuple(STATE_LABELS), required=True),
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
                    Column("月收入", _("元，留空视为0。"), MONEY),
                ],
            ),
        ],
    )


def _fingerprint(*values) -> int:
    """An order-independent digest of a file's members: each member's 64-bit hash is summed."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


MASK64 = (1 << 64) - 1


@dataclass(slots=True)  # slots: one per file is kept for the whole run
class FileInfo:
    """What pass 1 keeps of one file (a few small values; the row itself is spilled)."""

    row: int
    org_id: int
    status: str
    worker_hash: str
    size_given: int | None
    income_given: int | None  # cents
    members: int = 0
    members_income: int = 0  # cents, members other than 本人
    member_print: int = 0
    self_data: tuple | None = None  # (health, employment, income cents) of a 本人 row
    self_income: int = 0
    other_income: int = 0
    existing: int | None = None  # pk of the matching file
    action: str = "create"  # create, update, skip
    name: str = ""
    # A matched file's recorded state (compare_existing), and what an update appends.
    existing_state: dict | None = None
    existing_print: int = 0
    existing_members: int = 0  # recorded members other than the worker
    existing_self: tuple | None = None
    existing_relieved: dt.date | None = None
    new_steps: list | None = None
    reason: str = ""
    # The keys of a new file and of its filing period (_Writer).
    pk: int | None = None
    period_id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class SpilledHousehold(NamedTuple):
    """A clean households row as pass 1 keeps it for pass 2 (dates as ordinals)."""

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


class SpilledMember(NamedTuple):
    """A clean members row as pass 1 keeps it for pass 2 (income in cents)."""

    row: int
    file_number: str
    relation: str
    name: str
    id_number: str
    id_hash: str
    health: str
    employment: str
    cents: int


class _Spill:
    """Clean rows of pass 1, written to a temporary file in chunks for pass 2 and read back as
    `kind` (a NamedTuple; marshal keeps plain tuples). Each chunk is one length-prefixed
    marshal blob: `marshal.load` on the file itself reads object by object through the file's
    methods, several times slower than `loads` on the whole chunk."""

    def __init__(self, kind):
        self.kind = kind
        self.handle = tempfile.TemporaryFile()
        self.buffer: list[tuple] = []

    def add(self, row: tuple) -> None:
        self.buffer.append(tuple(row))
        if len(self.buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            blob = marshal.dumps(self.buffer)
            self.handle.write(len(blob).to_bytes(8, "little") + blob)
            self.buffer = []

    def chunks(self):
        self.flush()
        self.handle.seek(0)
        make = self.kind._make
        while size := self.handle.read(8):
            blob = self.handle.read(int.from_bytes(size, "little"))
            yield [make(row) for row in marshal.loads(blob)]  # noqa: S302 - our own temporary file

    def close(self):
        self.handle.close()


def _ordinal(day: dt.date | None) -> int | None:
    return day.toordinal() if day is not None else None


def _day(ordinal: int | None) -> dt.date | None:
    return dt.date.fromordinal(ordinal) if ordinal is not None else None


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


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


class HouseholdImporter:
    kind = "households"
    sheets = {HOUSEHOLDS: HOUSEHOLD_HEADERS, MEMBERS: MEMBER_HEADERS}

    def run(self, rows, *, user, dry_run: bool, progress=None) -> ImportReport:
        run = _Run(user=user, dry_run=dry_run, progress=progress)
        try:
            return run.execute(rows)
        finally:
            run.close()


class _Run:
    def __init__(self, *, user, dry_run: bool, progress):
        self.user = user
        self.dry_run = dry_run
        self.progress = progress
        self.report = ImportReport(
            kind="households",
            dry_run=dry_run,
            sheets={HOUSEHOLDS: SheetCounts(), MEMBERS: SheetCounts()},
        )
        self.errors = self.report.errors
        self.today = timezone.localdate()
        self.files: dict[str, FileInfo] = {}
        self.bad_files: set[str] = set()
        self.persons: dict[int, int] = {}  # see person()
        self._file_rows: dict[int, str] = {}  # households row -> file number, for messages
        self.pending_claims: list[tuple] = []  # (hash, sheet, row, file number) to check
        self.household_spill = _Spill(SpilledHousehold)
        self.member_spill = _Spill(SpilledMember)
        self.done = 0
        self.scale = 1 if dry_run else 2
        self._load_reference()

    def close(self):
        self.household_spill.close()
        self.member_spill.close()

    # --- reference data ----------------------------------------------------------------

    def _load_reference(self):
        visible = Organisation.objects.visible_to(self.user)
        self.orgs = {o.code: o for o in visible}
        self.all_codes = set(Organisation.objects.values_list("code", flat=True))
        self.causes = dict(Cause.objects.values_list("name", "pk"))
        self.categories = dict(Category.objects.values_list("name", "pk"))
        self.org_by_id = {o.pk: o for o in self.orgs.values()}
        self._settings: dict[tuple[int, str], object] = {}
        self.any_claims = IdentityClaim.objects.exists()

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
        if self.progress is not None and before // 500 != self.done // 500:
            self.progress(self.done // self.scale, 0)

    # --- the run -----------------------------------------------------------------------

    def execute(self, rows) -> ImportReport:
        for number, values in rows[HOUSEHOLDS]:
            self.household_row(number, values)
            self.tick()
        self.check_claims()
        self.match_existing()
        for number, values in rows[MEMBERS]:
            self.member_row(number, values)
            self.tick()
        self.check_claims(final=True)
        self.check_totals()
        self.compare_existing()
        if self.errors:
            self.errors.sort(key=_error_order)
            return self.report
        self.count()
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
        except ValidationError as exc:
            self.report.sheets = {HOUSEHOLDS: SheetCounts(), MEMBERS: SheetCounts()}
            for message in exc.messages:
                self.error("", None, "", message)
        return self.report

    # --- pass 1: households ------------------------------------------------------------

    def household_row(self, number: int, c) -> None:
        sheet = HOUSEHOLDS
        problems = []

        def parse(column, parser, *args, **kwargs):
            try:
                return parser(c[column], *args, **kwargs)
            except ValidationError as exc:
                problems.append((HOUSEHOLD_HEADERS[column], exc.messages[0]))
                return INVALID

        file_number = parse(C_FILE, cells.required, cells.text, 30)
        code = parse(C_ORG, cells.required, cells.text, 20)
        name = parse(C_NAME, cells.required, cells.text, 50)
        sex = parse(C_SEX, cells.optional, cells.choice, SEX_LABELS, default="")
        id_number = parse(C_ID, cells.required, self._id_number)
        phone = parse(C_PHONE, cells.text, 20)
        employer = parse(C_EMPLOYER, cells.text, 100)
        migrant = parse(C_MIGRANT, cells.optional, cells.yes_no, default=False)
        size = parse(C_SIZE, cells.optional, cells.integer, minimum=1, maximum=99)
        income = parse(C_INCOME, cells.optional, cells.money, allow_zero=True)
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
            org = self.orgs.get(code)
            if org is None:
                message = (
                    _("组织代码“%(code)s”不在您的管辖范围内。")
                    if code in self.all_codes
                    else _("组织代码“%(code)s”不存在。")
                )
                problems.append((HOUSEHOLD_HEADERS[C_ORG], message % {"code": code}))
        if status is not INVALID:
            problems += self._dates(
                status, filed, relieved, exited, deregistered, reason, id_number
            )
        if file_number is not INVALID:
            seen = self.files.get(file_number)
            if seen is not None:
                problems.append(
                    (
                        HOUSEHOLD_HEADERS[C_FILE],
                        _("档案编号“%(number)s”与第%(row)d行重复。")
                        % {"number": file_number, "row": seen.row},
                    )
                )
                file_number = INVALID
        if problems:
            for column, message in problems:
                self.error(sheet, number, column, message)
            if file_number is not INVALID:
                self.bad_files.add(file_number)
            return
        worker_hash = bulk.hash_id(id_number)
        info = FileInfo(
            row=number,
            org_id=org.pk,
            status=status,
            worker_hash=worker_hash,
            size_given=size,
            income_given=_cents(income) if income is not None else None,
            name=name,
        )
        self.files[file_number] = info
        self.person(worker_hash, file_number, info, sheet, number, C_ID)
        self.household_spill.add(
            SpilledHousehold(
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
            )
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

    def person(self, id_hash, file_number, info: FileInfo, sheet, row, column) -> None:
        """Duplicate ID numbers: never twice in one file, never in two open files.

        A large import holds hundreds of thousands of people, so each is two numbers rather
        than strings and tuples: the first 96 bits of the keyed hash of the ID number (two
        different numbers sharing them: about 1 in 10^17 for a million people) and the
        households row of the file, the row, the sheet and whether the file is open packed in
        one integer. Claims to check against the system are checked a chunk at a time."""
        key = int(id_hash[:24], 16)
        is_open = info.is_open
        header = (HOUSEHOLD_HEADERS if sheet == HOUSEHOLDS else MEMBER_HEADERS)[column]
        seen = self.persons.get(key)
        if seen is not None:
            other_open = bool(seen & 1)
            if seen >> 34 == info.row or (is_open and other_open):
                self.error(
                    sheet,
                    row,
                    header,
                    _("身份证号与 %(sheet)s 工作表第%(row)d行（档案 %(file)s）重复。")
                    % {
                        "sheet": MEMBERS if seen & 2 else HOUSEHOLDS,
                        "row": (seen >> 2) & 0xFFFFFFFF,
                        "file": self._file_at(seen >> 34),
                    },
                )
                return
            if other_open or not is_open:
                return
        self.persons[key] = (info.row << 34) | (row << 2) | (2 if sheet == MEMBERS else 0) | is_open
        if is_open and self.any_claims:
            self.pending_claims.append((id_hash, sheet, row, header, file_number))
            if len(self.pending_claims) >= CHUNK:
                self.check_claims()

    def _file_at(self, households_row: int) -> str:
        """The file number of the file on a households row (error messages only)."""
        if households_row not in self._file_rows:
            self._file_rows = {info.row: number for number, info in self.files.items()}
        return self._file_rows[households_row]

    def check_claims(self, final: bool = False) -> None:
        """IDs held by another open file in the system (the IdentityClaim table). A re-import
        finds every ID held by its own file: only the holders of the others are looked up."""
        pending, self.pending_claims = self.pending_claims, []
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            held = dict(
                IdentityClaim.objects.filter(
                    id_hash__any_of=[item[0] for item in chunk]
                ).values_list("id_hash", "household__file_number")
            )
            # item: (hash, sheet, row, header, file number)
            conflicts = [item for item in chunk if item[0] in held and held[item[0]] != item[4]]
            if not conflicts:
                continue
            holders = {
                row["id_hash"]: row
                for row in IdentityClaim.objects.filter(
                    id_hash__any_of=[item[0] for item in conflicts]
                ).values(
                    "id_hash",
                    "household__file_number",
                    "household__worker_name",
                    "household__status",
                    "household__organisation__path",
                )
            }
            for id_hash, sheet, row, header, _file_number in conflicts:
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
                self.error(sheet, row, header, message)

    def match_existing(self) -> None:
        """Files already in the system with the same file number."""
        numbers = list(self.files)
        own_path = getattr(self.user.organisation, "path", None)
        for start in range(0, len(numbers), CHUNK):
            for found in Household.objects.filter(
                file_number__any_of=numbers[start : start + CHUNK]
            ).values("pk", "file_number", "id_hash", "organisation__path"):
                info = self.files[found["file_number"]]
                reachable = self.user.is_superuser or (
                    own_path and found["organisation__path"].startswith(own_path)
                )
                if not reachable:
                    self.error(
                        HOUSEHOLDS,
                        info.row,
                        HOUSEHOLD_HEADERS[C_FILE],
                        _("档案编号“%(number)s”已被其他组织的档案使用。")
                        % {"number": found["file_number"]},
                    )
                elif found["id_hash"] != info.worker_hash:
                    self.error(
                        HOUSEHOLDS,
                        info.row,
                        HOUSEHOLD_HEADERS[C_ID],
                        _("档案 %(number)s 在系统中是另一位职工的档案，身份证号不一致。")
                        % {"number": found["file_number"]},
                    )
                info.existing = found["pk"]

    # --- pass 1: members ---------------------------------------------------------------

    def member_row(self, number: int, c) -> None:
        sheet = MEMBERS
        problems = []

        def parse(column, parser, *args, **kwargs):
            try:
                return parser(c[column], *args, **kwargs)
            except ValidationError as exc:
                problems.append((MEMBER_HEADERS[column], exc.messages[0]))
                return INVALID

        file_number = parse(M_FILE, cells.required, cells.text, 30)
        name = parse(M_NAME, cells.required, cells.text, 50)
        relation = parse(M_RELATION, cells.required, cells.choice, RELATION_LABELS)
        id_number = parse(M_ID, cells.optional, self._id_number, default="")
        health = parse(M_HEALTH, cells.optional, cells.choice, HEALTH_LABELS, default=HEALTHY)
        employment = parse(
            M_EMPLOYMENT, cells.optional, cells.choice, EMPLOYMENT_LABELS, default=EMPLOYED
        )
        income = parse(M_INCOME, cells.optional, cells.money, allow_zero=True, default=ZERO)
        info = None
        if file_number is not INVALID:
            info = self.files.get(file_number)
            if info is None and file_number not in self.bad_files:
                problems.append(
                    (
                        MEMBER_HEADERS[M_FILE],
                        _("档案编号“%(number)s”不在 households 工作表中。")
                        % {"number": file_number},
                    )
                )
        id_hash = bulk.hash_id(id_number) if id_number not in ("", INVALID) else ""
        if info is not None and relation == Member.Relation.SELF:
            if info.self_data is not None:
                problems.append(
                    (
                        MEMBER_HEADERS[M_RELATION],
                        _("档案 %(number)s 有多名关系为“本人”的成员。") % {"number": file_number},
                    )
                )
            elif id_hash and id_hash != info.worker_hash:
                problems.append(
                    (
                        MEMBER_HEADERS[M_ID],
                        _("“本人”的身份证号与 households 工作表中该户职工的不一致。"),
                    )
                )
        if problems or info is None:
            for column, message in problems:
                self.error(sheet, number, column, message)
            if info is not None:
                info.members += 1  # keeps the household size check quiet
            return
        cents = _cents(income)
        if relation == Member.Relation.SELF:
            info.self_data = (health, employment, cents)
            self.member_spill.add(
                SpilledMember(
                    number, file_number, relation, name, "", "", health, employment, cents
                )
            )
            return
        info.members += 1
        info.members_income += cents
        info.member_print = (
            info.member_print + _fingerprint(relation, name, id_hash, health, employment, cents)
        ) & MASK64
        if id_number:
            self.person(id_hash, file_number, info, sheet, number, M_ID)
        self.member_spill.add(
            SpilledMember(
                number, file_number, relation, name, id_number, id_hash, health, employment, cents
            )
        )

    def check_totals(self) -> None:
        """家庭人口 and 家庭月收入 against the members (how services.income_of computes them)."""
        for info in self.files.values():
            size = 1 + info.members
            if info.size_given is not None and info.size_given != size:
                self.error(
                    HOUSEHOLDS,
                    info.row,
                    HOUSEHOLD_HEADERS[C_SIZE],
                    _("家庭人口填写为%(given)d，members 工作表中本户有%(count)d人（含本人）。")
                    % {"given": info.size_given, "count": size},
                )
            own = info.self_data[2] if info.self_data else 0
            if info.income_given is None:
                info.self_income, info.other_income = own, 0
                continue
            if info.self_data:
                info.self_income = own
                info.other_income = info.income_given - info.members_income - own
            else:
                info.self_income = info.income_given - info.members_income
                info.other_income = 0
            if info.self_income < 0 or info.other_income < 0:
                self.error(
                    HOUSEHOLDS,
                    info.row,
                    HOUSEHOLD_HEADERS[C_INCOME],
                    _("家庭月收入 %(given)s 元小于成员月收入之和 %(sum)s 元。")
                    % {
                        "given": _yuan(info.income_given),
                        "sum": _yuan(info.members_income + own),
                    },
                )

    # --- existing files: skip, update or refuse -----------------------------------------

    def compare_existing(self) -> None:
        """One pass over the spilled rows: the recorded state of each chunk's matched files is
        loaded with a few queries, then each row is compared with it."""
        if self.errors or all(info.existing is None for info in self.files.values()):
            return
        for rows in self.household_spill.chunks():
            chunk = {
                row.file_number: self.files[row.file_number]
                for row in rows
                if self.files[row.file_number].existing is not None
            }
            if not chunk:
                continue
            self._load_existing(chunk)
            for row in rows:
                info = chunk.get(row.file_number)
                if info is not None:
                    self._compare_row(row, info)

    def _load_existing(self, chunk: dict[str, FileInfo]) -> None:
        pks = {info.existing: number for number, info in chunk.items()}
        prints = dict.fromkeys(pks, 0)
        counts = dict.fromkeys(pks, 0)
        selves = {}
        for (
            household_id,
            relation,
            name,
            id_hash,
            health,
            employment,
            income,
        ) in Member.objects.filter(household_id__any_of=list(pks)).values_list(
            "household_id",
            "relation",
            "name",
            "id_hash",
            "health",
            "employment",
            "monthly_income",
        ):
            cents = _cents(income)
            if relation == Member.Relation.SELF:
                selves[household_id] = (health, employment, cents)
                continue
            prints[household_id] = (
                prints[household_id]
                + _fingerprint(relation, name, id_hash, health, employment, cents)
            ) & MASK64
            counts[household_id] += 1
        # The relief of the current filing only: a file reopened after an earlier relief and
        # exit was relieved in another period.
        relieved_on = {
            (household_id, period_id): day
            for household_id, period_id, day in Transition.objects.filter(
                household_id__any_of=list(pks), to_status=Status.RELIEVED
            ).values_list("household_id", "period_id", "effective_date")
        }
        for h in Household.objects.filter(pk__any_of=list(pks)).values(
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
        ):
            number = pks[h["pk"]]
            info = chunk[number]
            info.existing_state = h
            info.existing_print = prints[h["pk"]]
            info.existing_members = counts[h["pk"]]
            info.existing_self = selves.get(h["pk"])
            info.existing_relieved = relieved_on.get((h["pk"], h["current_period_id"]))

    def _compare_row(self, row: SpilledHousehold, info: FileInfo) -> None:
        h = info.existing_state
        if info.existing_members and not info.members and info.size_given is None:
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
        same_members = info.member_print == info.existing_print and self_data == info.existing_self
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
                    "dates": "、".join(f"{Status(s).label} {d}" for s, d in old_steps) or "—",
                },
            )
            return
        if same_fields and same_members and same_state:
            info.action = "skip"
        else:
            info.action = "update"
            info.new_steps = [] if same_state else info.new_steps
            info.reason = row.reason

    def count(self) -> None:
        households = self.report.sheets[HOUSEHOLDS]
        members = self.report.sheets[MEMBERS]
        action_members: dict[str, int] = {"create": 0, "update": 0, "skip": 0}
        for info in self.files.values():
            setattr(households, _COUNT[info.action], getattr(households, _COUNT[info.action]) + 1)
            rows = info.members + (1 if info.self_data else 0)
            action_members[info.action] += rows
        members.created = action_members["create"]
        members.updated = action_members["update"]
        members.skipped = action_members["skip"]

    # --- pass 2: writing ---------------------------------------------------------------

    def write(self) -> None:
        writer = _Writer(self)
        updates: dict[str, tuple] = {}
        update_members: dict[str, list] = {}
        with writer.copier:
            for rows in self.household_spill.chunks():
                new = []
                for row in rows:
                    info = self.files[row.file_number]
                    if info.action == "create":
                        new.append(row)
                    elif info.action == "update":
                        updates[row.file_number] = row
                writer.households(new)
                writer.copier.check()
                self.tick(len(rows) - sum(1 for row in rows if row.file_number in updates))
            for rows in self.member_spill.chunks():
                new = []
                for row in rows:
                    info = self.files[row.file_number]
                    if info.action == "create":
                        if row.relation != Member.Relation.SELF:
                            new.append(row)
                    elif info.action == "update":
                        update_members.setdefault(row.file_number, []).append(row)
                writer.members(new)
                writer.copier.check()
                self.tick(len(rows) - sum(1 for row in rows if row.file_number in updates))
        # Updates go through the ORM one file at a time, after the bulk path: their rows count
        # as done only now, so the bar does not sit at 100 % while they run.
        for file_number, row in updates.items():
            members = update_members.get(file_number, [])
            _update_file(self, row, self.files[file_number], members)
            self.tick(1 + len(members))


_COUNT = {"create": "created", "update": "updated", "skip": "skipped"}


def _steps(milestones, status) -> list[tuple[str, dt.date]]:
    """The approved steps of a filing (filed, relieved, closed) as (state, date), in order."""
    if status in UNDER_REVIEW or status == Status.REJECTED:
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
        new = [n for n, i in run.files.items() if i.action == "create"]
        # Keys of every new file, its period and its members up front: members may come in
        # any order, and no query should wait behind the copying thread (bulk.Copier).
        for number, pk, period_id in zip(
            new,
            self.households_t.take_ids(len(new)),
            self.periods_t.take_ids(len(new)),
            strict=True,
        ):
            run.files[number].pk, run.files[number].period_id = pk, period_id
        self.member_ids = iter(self.members_t.take_ids(sum(1 + run.files[n].members for n in new)))
        for org_id in {run.files[n].org_id for n in new}:
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

    def households(self, rows: list[SpilledHousehold]) -> None:
        if not rows:
            return
        run = self.run
        tokens = bulk.encrypt_many(
            [r.id_number for r in rows] + [r.account for r in rows if r.account]
        )
        id_tokens = tokens[: len(rows)]
        account_tokens = iter(tokens[len(rows) :])
        households, periods, transitions, claims, selves = [], [], [], [], []
        for row, id_token in zip(rows, id_tokens, strict=True):
            info = run.files[row.file_number]
            pk, period_id = info.pk, info.period_id
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
                "is_migrant_worker": row.migrant,
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
                "is_migrant_worker": row.migrant,
                "filed_on": filed,
                "origin": origin,
            }
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

    def members(self, rows: list[SpilledMember]) -> None:
        if not rows:
            return
        with_id = [r for r in rows if r.id_number]
        tokens = dict(
            zip(
                (r.row for r in with_id),
                bulk.encrypt_many([r.id_number for r in with_id]),
                strict=True,
            )
        )
        members, claims = [], []
        for row in rows:
            info = self.run.files[row.file_number]
            pk = info.pk
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
            if row.id_hash and info.is_open:
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


def _update_file(
    run: _Run, row: SpilledHousehold, info: FileInfo, member_rows: list[SpilledMember]
) -> None:
    """A changed file, through the ORM: field history is recorded by django-simple-history,
    later states go through the transition service as imported history."""
    from households import services

    household = Household.objects.select_for_update().get(pk=info.existing)
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
    health, employment, _ = info.self_data or (
        own.health if own.pk else Member.Health.HEALTHY,
        own.employment if own.pk else Member.Employment.EMPLOYED,
        0,
    )
    _save_member(run.user, own, row.name, row.id_number, health, employment, info.self_income)
    keep = {own.pk}
    by_hash = {m.id_hash: m for m in existing if m.id_hash and m.relation != Member.Relation.SELF}
    by_name = {
        (m.relation, m.name): m
        for m in existing
        if not m.id_hash and m.relation != Member.Relation.SELF
    }
    for given in member_rows:
        if given.relation == Member.Relation.SELF:
            continue
        if given.id_hash:
            member = by_hash.pop(given.id_hash, None)
        else:
            member = by_name.pop((given.relation, given.name), None)
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
        raise ValidationError(
            _("档案 %(number)s：%(error)s") % {"number": row.file_number, "error": exc.messages[0]}
        ) from None
    services.recompute_income(household)
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
