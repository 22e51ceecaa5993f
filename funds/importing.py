"""Excel import and export of the funds (issue 7): receipts, historical payments, refunds and
loan repayments.

`FundsImporter` implements the `imports.base.Importer` contract for the kind "funds". It reads
the sheets (repayments optional), checks every row, and writes only when the whole workbook is
free of errors, in one transaction, through the ledger the way funds.services does: the
(organisation, source) accounts are locked first, each receipt, payment, refund and repayment
writes one append-only `LedgerEntry`, so balances (sums of entries) stay consistent.

Rules (DOMAIN "Funds", "Assistance"):
- the organisation must exist and lie in the importing user's subtree;
- historical payments are not checked against today's assistance standards, but their file
  must lie in the organisation's subtree and be on file or relieved on the payment date
  (先建档、后帮扶); a file moved out of the user's subtree since is found for the dates it
  was in it (the old county imports its own payments), and "does not exist" for the others;
- a repayment goes to the file's small loan (小额借款) from the same organisation and source
  paid on the row's loan date (on record or in the workbook; without a loan date, the earliest
  paid by the repayment date), which must still owe at least the amount, as
  funds.services.repayment_record would check it;
- no payment or refund may overdraw its source on its date: the running balance of each
  account over its existing entries and the imported rows, in date order (receipts of a day
  before its payments), never goes below zero, and stays at least what is approved but unpaid
  (the rule funds.services applies to one movement, with selectors.lowest_balance_from);
- no entry is dated in a closed year or in the future.

Re-import is idempotent: each row has a natural key (below); a row whose key is already on
record (imported before, or entered by hand) is skipped. Identical rows count: the n-th copy
of a key is skipped when n copies are on record. New records store a hash of the key and the
copy number in a unique column, so two concurrent imports of the same rows cannot both write
them: the database refuses the second, which writes nothing.

The sheets, labels, template and export are in funds.workbook."""

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from simple_history.utils import bulk_create_with_history

from funds.models import (
    COMMITTED_STATES,
    Approval,
    AssistanceRequest,
    AssistanceType,
    ClosedYear,
    EntryKind,
    FundSource,
    LedgerEntry,
    Receipt,
    Refund,
    Repayment,
    RequestState,
)
from funds.selectors import cents, total
from funds.services import FIRST_YEAR, _lock_account
from funds.workbook import (
    AMOUNT,
    DATE_COLUMN,
    DOCUMENT,
    FILE,
    INFLOW_SHEETS,
    LOAN_PAID_ON,
    NOTE,
    NOTE_LENGTH,
    OPTIONAL_SHEETS,
    ORG,
    PAYMENTS,
    RECEIPTS,
    REFUNDS,
    REPAYMENTS,
    SHEETS,
    SOURCE,
    TYPE,
    YEAR,
    Labels,
    export_funds,  # noqa: F401 - imports.registry names it here
    labels,
    source_label,
    template,
    workbook_spec,  # noqa: F401 - imports.registry names it here
)
from households.models import SUPPORTED_STATUSES, Household, Status, Transition
from imports import cells
from imports.base import ImportReport, Progress, Row, RowError, SheetCounts
from orgs.models import Organisation
from orgs.money import yuan_text
from orgs.pii import mask
from orgs.scoping import user_can_reach

KIND = "funds"
# Stored with the records (data, not interface text: kept in Chinese whatever the language).
IMPORT_REASON = "历史数据导入"
PROGRESS_EVERY = 200
BATCH = 500


# --- Parsed rows -------------------------------------------------------------------------------


@dataclass
class Line:
    """One data row, parsed."""

    sheet: str
    row: int
    org_code: str = ""
    organisation: Organisation | None = None
    source: FundSource | None = None
    amount: Decimal | None = None
    day: date | None = None
    year: int | None = None
    document_number: str = ""
    note: str = ""
    file_number: str = ""
    household: Household | None = None
    moved_away: bool = False  # the file lies outside the user's subtree now
    assistance_type: AssistanceType | None = None
    failed: bool = False  # a cell or lookup error: no further checks
    key: tuple = ()
    import_key: str = ""
    new: bool = False
    loan_paid_on: date | None = None  # a repayment's loan, by its payment date
    # A repayment's loan: an AssistanceRequest on record, or the payments Line of a new loan.
    loan: "AssistanceRequest | Line | None" = None
    request: AssistanceRequest | None = None  # a new payment's request, once written

    @property
    def account(self) -> tuple[int, int]:
        return (self.organisation.pk, self.source.pk)

    @property
    def signed(self) -> Decimal:
        return self.amount if self.sheet in INFLOW_SHEETS else -self.amount


@dataclass
class Plan:
    lines: list[Line] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def error(self, line: Line, column: str, message: str) -> None:
        line.failed = True
        self.errors.append(RowError(line.sheet, line.row, column, str(message)))


def _cell(plan: Plan, line: Line, cell: dict, column: str, parser, *args, required=True, **kw):
    """The column's value parsed (an empty cell refused unless not required), or None with the
    error recorded against the column."""
    try:
        if required:
            return cells.required(cell[column], parser, *args, **kw)
        return parser(cell[column], *args, **kw)
    except ValidationError as error:
        plan.error(line, column, " ".join(error.messages))
        return None


# --- The importer ------------------------------------------------------------------------------


class FundsImporter:
    kind = KIND
    sheets = SHEETS
    optional_sheets = OPTIONAL_SHEETS
    permission = "imports.import_funds"

    template = staticmethod(template)

    def run(
        self,
        rows: dict[str, Iterable[Row]],
        *,
        user,
        dry_run: bool,
        progress: Progress | None = None,
        known_errors: Iterable[RowError] = (),
        exported_at=None,  # funds rows are only ever added, never updated
    ) -> ImportReport:
        known_errors = list(known_errors)
        dry_run = dry_run or bool(known_errors)  # a workbook with errors writes nothing
        report = ImportReport(
            kind=KIND, dry_run=dry_run, sheets={name: SheetCounts() for name in SHEETS}
        )
        if not user.has_perm(self.permission):
            report.errors.append(RowError("", None, "", _("您没有导入资金数据的权限。")))
            return report
        materialised = {name: list(rows.get(name, ())) for name in SHEETS}
        count = sum(len(sheet_rows) for sheet_rows in materialised.values())
        tick = _Ticker(progress, total=count, scale=1 if dry_run else 2)
        plan = Plan()
        try:
            with transaction.atomic():
                plan = _check(materialised, user=user, lock=not dry_run, tick=tick)
                # Rows with an error are left out (the runner counts them): a preview with
                # errors still shows what the rest would do.
                bad = {(e.sheet, e.row) for e in plan.errors + known_errors}
                for line in plan.lines:
                    if line.key and (line.sheet, line.row) not in bad:
                        counts = report.sheets[line.sheet]
                        if line.new:
                            counts.created += 1
                        else:
                            counts.skipped += 1
                report.errors.extend(sorted(plan.errors, key=_error_order))
                if report.errors or dry_run:
                    transaction.set_rollback(True)  # the account rows a check may have made
                    return report
                # The rows that write nothing (empty, imported before) are done at once.
                tick(count - sum(1 for line in plan.lines if line.new))
                _write(plan, user=user, tick=tick)
        except IntegrityError:
            if not _keys_taken(plan):
                raise  # not the unique import keys: a bug, not a race
            # Another import wrote the same rows meanwhile: the unique import keys refused ours.
            report.sheets = {name: SheetCounts() for name in SHEETS}
            message = _(
                "另一次导入同时写入了相同的记录，本次未导入任何数据；请重新导入，已导入的行将跳过。"
            )
            report.errors.append(RowError("", None, "", message))
        tick.done()
        return report


def _keys_taken(plan: Plan) -> bool:
    keys = [line.import_key for line in plan.lines if line.import_key]
    return any(
        model.objects.filter(import_key__any_of=keys).exists()
        for model in (Receipt, Refund, AssistanceRequest, Repayment)
    )


def _error_order(error: RowError):
    return (list(SHEETS).index(error.sheet) if error.sheet in SHEETS else -1, error.row or 0)


class _Ticker:
    """Progress as rows of the workbook done of `total`, as the households import reports it:
    a writing import goes over each row twice (checked, then written), `scale` steps a row, so
    the bar is halfway when the check ends and reaches the total only once all is written."""

    def __init__(self, progress: Progress | None, *, total: int, scale: int):
        self.progress, self.total, self.scale, self.steps = progress, total, scale, 0

    def __call__(self, steps: int = 1):
        before, self.steps = self.steps, self.steps + steps
        if self.progress is not None and before // PROGRESS_EVERY != self.steps // PROGRESS_EVERY:
            self.progress(min(self.steps // self.scale, self.total), self.total)

    def done(self):
        if self.progress is not None:
            self.progress(self.total, self.total)


# --- Checking ----------------------------------------------------------------------------------


def _check(rows: dict[str, list[Row]], *, user, lock: bool, tick) -> Plan:
    plan = Plan()
    known = labels()
    today = timezone.localdate()
    for sheet, headers in SHEETS.items():
        for number, values in rows[sheet]:
            values = list(values)[: len(headers)]
            cell = dict(zip(headers, values + [None] * (len(headers) - len(values)), strict=True))
            if all(cells.is_blank(value) for value in cell.values()):
                tick()
                continue  # an empty row left in the sheet
            line = Line(sheet=sheet, row=number)
            plan.lines.append(line)
            _parse(plan, line, cell, known, today)
            tick()
    _resolve_organisations(plan, user)
    _resolve_households(plan, user)
    live = [line for line in plan.lines if not line.failed]
    if lock:
        # Like the services: lock each account before reading its balance (sorted: no deadlock).
        accounts = {line.account: line for line in live}
        for account in sorted(accounts):
            _lock_account(accounts[account].organisation, accounts[account].source)
    _check_closed_years(plan, live)
    _check_files(plan, [line for line in live if line.sheet in (PAYMENTS, REPAYMENTS)], user)
    live = [line for line in plan.lines if not line.failed]
    _match_existing(live)
    _check_loans(plan, [line for line in live if line.new])
    _check_balances(plan, [line for line in live if line.new and not line.failed])
    return plan


def _parse(plan: Plan, line: Line, cell: dict, known: Labels, today: date) -> None:
    sheet, date_column = line.sheet, DATE_COLUMN[line.sheet]
    line.org_code = _cell(plan, line, cell, ORG, cells.text, 20) or ""
    line.source = known.sources.get(
        _cell(plan, line, cell, SOURCE, cells.choice, known.source_codes)
    )
    line.amount = _cell(plan, line, cell, AMOUNT, cells.money)
    line.day = _cell(plan, line, cell, date_column, cells.day)
    if line.day is not None and line.day > today:
        plan.error(
            line, date_column, _("日期 %(date)s 晚于今天。") % {"date": line.day.isoformat()}
        )
    elif line.day is not None and line.day.year < FIRST_YEAR:  # as funds.services refuses it
        plan.error(line, date_column, _("日期不能早于%(year)d年1月1日。") % {"year": FIRST_YEAR})
    if sheet in (RECEIPTS, REFUNDS):
        line.document_number = _cell(plan, line, cell, DOCUMENT, cells.text, 60) or ""
    if sheet in NOTE_LENGTH:
        line.note = _cell(plan, line, cell, NOTE, cells.text, NOTE_LENGTH[sheet], required=False)
        line.note = line.note or ""
    if sheet == RECEIPTS:
        line.year = _cell(plan, line, cell, YEAR, cells.integer, minimum=FIRST_YEAR)
        if line.year is not None and line.day is not None and line.year > line.day.year + 1:
            plan.error(line, YEAR, _("资金年度应在1990年至到账次年之间。"))
    if sheet in (PAYMENTS, REPAYMENTS):
        line.file_number = _cell(plan, line, cell, FILE, cells.text, 30) or ""
    if sheet == REPAYMENTS:
        line.loan_paid_on = _cell(
            plan, line, cell, LOAN_PAID_ON, cells.optional, cells.day, required=False
        )
        if line.loan_paid_on and line.day and line.loan_paid_on > line.day:
            plan.error(line, LOAN_PAID_ON, _("借款发放日期晚于还款日期。"))
    if sheet == PAYMENTS:
        kind = _cell(plan, line, cell, TYPE, cells.choice, known.type_codes)
        line.assistance_type = known.types.get(kind)


def _resolve_organisations(plan: Plan, user) -> None:
    # Codes are unique whatever their case (Organisation's org_code_unique_ci): a cell finds
    # its organisation in any letters.
    codes = {line.org_code.lower() for line in plan.lines if line.org_code}
    found = Organisation.objects.annotate(lower_code=Lower("code")).filter(lower_code__in=codes)
    by_code = {org.lower_code: org for org in found}
    for line in plan.lines:
        if not line.org_code:
            continue
        org = by_code.get(line.org_code.lower())
        if org is None or not user_can_reach(user, org):
            # Outside the user's subtree it "does not exist" either: nothing is revealed.
            plan.error(
                line,
                ORG,
                _("组织代码“%(code)s”不存在或不在您的管辖范围内。") % {"code": line.org_code},
            )
        else:
            line.organisation = org


def _resolve_households(plan: Plan, user) -> None:
    lines = [
        line for line in plan.lines if line.sheet in (PAYMENTS, REPAYMENTS) and line.file_number
    ]
    numbers = {line.file_number for line in lines}
    found = {
        household.file_number: household
        for household in Household.objects.filter(file_number__any_of=list(numbers)).select_related(
            "organisation"
        )
    }
    # A file moved out of the user's subtree since is still found for the rows of the months it
    # was in it (the old county's own money and ledger): its transitions carry where it was.
    # _check_files then holds each row to where the file was on the row's date.
    away = {h.pk for h in found.values() if not user_can_reach(user, h.organisation)}
    own = getattr(user, "organisation", None)
    was_here = set()
    if away and own is not None:
        was_here = set(
            Transition.objects.filter(
                household__in=away, organisation__path__startswith=own.path
            ).values_list("household_id", flat=True)
        )
    for line in lines:
        household = found.get(line.file_number)
        if household is None or (household.pk in away and household.pk not in was_here):
            plan.error(line, FILE, _("档案编号“%(number)s”不存在。") % {"number": line.file_number})
        else:
            line.household = household
            line.moved_away = household.pk in away


def _check_closed_years(plan: Plan, lines: list[Line]) -> None:
    """One query: the closures of the rows' years by their organisations or any above them."""
    codes = {code for line in lines for code in line.organisation.path.split("/") if code}
    closed = {
        (row.organisation.code, row.year): row.organisation
        for row in ClosedYear.objects.filter(
            organisation__code__in=codes, year__in={line.day.year for line in lines}
        ).select_related("organisation")
    }
    if not closed:
        return
    for line in lines:
        for code in filter(None, line.organisation.path.split("/")):
            org = closed.get((code, line.day.year))
            if org is not None:
                plan.error(
                    line,
                    DATE_COLUMN[line.sheet],
                    _("%(year)d年度已由%(org)s结账，不能登记日期在该年度的款项。")
                    % {"year": line.day.year, "org": org.name},
                )
                break


def _check_files(plan: Plan, lines: list[Line], user) -> None:
    """The file on the row's date, from its transitions (one query), by the rule of
    TransitionQuerySet.in_force_on (effective_date <= day < valid_until): it lay in the row's
    organisation's subtree then (a file moved to another county since keeps its earlier
    payments and loans in the county it was in; the transitions carry its organisation as it
    was), and a payment's file was on file or relieved (先建档、后帮扶). A repayment goes to a
    loan of its row's organisation paid by its date (_check_loans), when the file was there:
    it may be repaid after the file moved away, as repayment_record takes it by hand."""
    transitions = defaultdict(list)
    for row in (
        Transition.objects.filter(household__in={line.household.pk for line in lines})
        .order_by("effective_date", "id")
        .values("household_id", "to_status", "effective_date", "valid_until", "organisation_id")
    ):
        transitions[row["household_id"]].append(row)
    keys = {row["organisation_id"] for rows in transitions.values() for row in rows}
    organisations = Organisation.objects.in_bulk(keys - {None})
    for line in lines:
        status, owner = "", line.household.organisation  # before any transition: where it is
        lent_by = None  # a repayment's: the row's organisation, where the file was by its date
        for row in transitions[line.household.pk]:
            if row["effective_date"] > line.day:
                continue
            was = organisations.get(row["organisation_id"])
            if was is not None and was.path.startswith(line.organisation.path):
                lent_by = was
            if row["valid_until"] is None or row["valid_until"] > line.day:
                status = row["to_status"]  # the latest in force wins (ordered)
                owner = was or owner
        if line.sheet == REPAYMENTS and lent_by is not None:
            owner = lent_by
        if line.moved_away and not user_can_reach(user, owner):
            # A file now out of the user's subtree, elsewhere on that date too: unknown to them,
            # nothing of the other county is told.
            plan.error(line, FILE, _("档案编号“%(number)s”不存在。") % {"number": line.file_number})
        elif not owner.path.startswith(line.organisation.path):
            plan.error(
                line,
                FILE,
                _("档案 %(number)s 在 %(date)s 属于%(owner)s，不属于%(org)s及其下级组织。")
                % {
                    "number": line.file_number,
                    "date": line.day.isoformat(),
                    "owner": owner.name,
                    "org": line.organisation.name,
                },
            )
        elif line.sheet == PAYMENTS and status not in SUPPORTED_STATUSES:
            label = Status(status).label if status in Status.values else _("未建档")
            plan.error(
                line,
                FILE,
                _(
                    "档案 %(number)s 在 %(date)s 的状态为“%(status)s”，不是在档或解困，"
                    "不能发放（先建档、后帮扶）。"
                )
                % {"number": line.file_number, "date": line.day.isoformat(), "status": label},
            )


def _natural_key(line: Line) -> tuple:
    org, source, day, amount = line.organisation.pk, line.source.pk, line.day, line.amount
    if line.sheet == PAYMENTS:
        return (PAYMENTS, org, line.household.pk, line.assistance_type.pk, source, amount, day)
    if line.sheet == REPAYMENTS:
        return (REPAYMENTS, org, line.household.pk, source, amount, day)
    return (line.sheet, org, source, line.document_number, day, amount)


def _hash(key: tuple, copy: int) -> str:
    text = "|".join(str(part) for part in (*key, copy))
    return f"{key[0][:3]}:{hashlib.sha256(text.encode()).hexdigest()}"


def _existing(lines: list[Line]) -> Counter:
    """How many records each natural key already has: one query per sheet."""
    counts: Counter = Counter()
    by_sheet = defaultdict(list)
    for line in lines:
        by_sheet[line.sheet].append(line)
    for sheet, sheet_lines in by_sheet.items():
        orgs = {line.organisation.pk for line in sheet_lines}
        first = min(line.day for line in sheet_lines)
        last = max(line.day for line in sheet_lines)
        if sheet == RECEIPTS:
            found = Receipt.objects.filter(
                organisation__in=orgs, received_on__range=(first, last)
            ).values_list("organisation", "source", "document_number", "received_on", "amount")
        elif sheet == REFUNDS:
            found = Refund.objects.filter(
                organisation__in=orgs, refunded_on__range=(first, last)
            ).values_list("organisation", "source", "document_number", "refunded_on", "amount")
        elif sheet == REPAYMENTS:
            found = Repayment.objects.filter(
                request__organisation__in=orgs,
                request__household__in={line.household.pk for line in sheet_lines},
                repaid_on__range=(first, last),
            ).values_list(
                "request__organisation",
                "request__household",
                "request__source",
                "amount",
                "repaid_on",
            )
            counts.update(
                (REPAYMENTS, org, household, source, cents(amount), day)
                for org, household, source, amount, day in found
            )
            continue
        else:
            # Paid requests, and imported ones whose payment was reversed since (their key
            # stays taken): the date of an imported request is its requested_on.
            households = {line.household.pk for line in sheet_lines}
            found = (
                AssistanceRequest.objects.filter(organisation__in=orgs, household__in=households)
                .filter(
                    Q(state=RequestState.PAID, paid_on__range=(first, last))
                    | Q(is_imported=True, requested_on__range=(first, last))
                )
                .values_list(
                    "organisation",
                    "household",
                    "assistance_type",
                    "source",
                    "amount",
                    "paid_on",
                    "requested_on",
                    "is_imported",
                )
            )
            found = [
                (org, household, kind, source, amount, requested if imported else paid)
                for org, household, kind, source, amount, paid, requested, imported in found
            ]
            # A payment made on the pages and reversed since stays taken too: its request is
            # back to approved with no paid_on (and may be paid again), but its payment entry
            # keeps the date. Else re-importing an export made before the reversal paid it a
            # second time, as a new imported request.
            found += LedgerEntry.objects.filter(
                kind=EntryKind.PAYMENT,
                reverses__isnull=True,
                reversed_by__isnull=False,
                request__is_imported=False,
                organisation__in=orgs,
                request__household__in=households,
                entry_date__range=(first, last),
            ).values_list(
                "organisation",
                "request__household",
                "request__assistance_type",
                "source",
                "request__amount",
                "entry_date",
            )
            counts.update((PAYMENTS, *(row[:4]), cents(row[4]), row[5]) for row in found)
            continue
        counts.update(
            (sheet, org, src, doc, day, cents(amount)) for org, src, doc, day, amount in found
        )
    return counts


def _match_existing(lines: list[Line]) -> None:
    """Mark each row new or already on record; the n-th copy of a key is new when fewer than
    n records have it, and is stored under the key hashed with n."""
    on_record = _existing(lines)
    seen: Counter = Counter()
    for line in lines:
        line.key = _natural_key(line)
        seen[line.key] += 1
        copy = seen[line.key]
        line.new = copy > on_record[line.key]
        if line.new:
            line.import_key = _hash(line.key, copy)


def _check_loans(plan: Plan, new_lines: list[Line]) -> None:
    """Each new repayment to its loan (module docstring): the loans of the files concerned on
    record with what they still owe (their repayment entries, as selectors.loan_repaid counts
    them), and the new loans of the workbook; repayments taken in date order."""
    repayments = sorted(
        (line for line in new_lines if line.sheet == REPAYMENTS),
        key=lambda line: (line.day, line.row),
    )
    if not repayments:
        return
    loans = defaultdict(list)  # (household, organisation, source) -> [paid on, order, loan]
    owed: dict[int, Decimal] = {}  # id() of the loan -> outstanding
    on_record = list(
        AssistanceRequest.objects.filter(
            household__in={line.household.pk for line in repayments},
            state=RequestState.PAID,
            assistance_type__is_loan=True,
        ).order_by("paid_on", "id")
    )
    repaid = dict(
        LedgerEntry.objects.filter(request__in=on_record, kind=EntryKind.REPAYMENT)
        .values("request")
        .annotate(value=total("amount"))
        .values_list("request", "value")
        .order_by()
    )
    for loan in on_record:
        loans[(loan.household_id, loan.organisation_id, loan.source_id)].append(
            (loan.paid_on, 0, loan)
        )
        owed[id(loan)] = loan.amount - cents(repaid.get(loan.pk))
    for line in new_lines:
        if line.sheet == PAYMENTS and line.assistance_type.is_loan:
            loans[(line.household.pk, *line.account)].append((line.day, 1, line))
            owed[id(line)] = line.amount
    for line in repayments:
        candidates = sorted(
            (
                loan
                for loan in loans[(line.household.pk, *line.account)]
                if loan[0] <= line.day and line.loan_paid_on in (None, loan[0])
            ),
            key=lambda loan: loan[:2],
        )
        loan = next((c[2] for c in candidates if owed[id(c[2])] >= line.amount), None)
        if loan is not None:
            owed[id(loan)] -= line.amount
            line.loan = loan
            continue
        values = {
            "number": line.file_number,
            "date": (line.loan_paid_on or line.day).isoformat(),
            "source": source_label(line.source),
            "amount": yuan_text(line.amount),
        }
        if not candidates and line.loan_paid_on:
            message = _(
                "档案 %(number)s 在 %(date)s 没有该组织从%(source)s发放的小额借款，无从还款。"
            )
        elif not candidates:
            message = _(
                "档案 %(number)s 在 %(date)s 及以前没有该组织从%(source)s发放的小额借款，无从还款。"
            )
        else:
            values["owed"] = yuan_text(max(owed[id(c[2])] for c in candidates))
            message = _(
                "还款 %(amount)s 元超过档案 %(number)s 的%(source)s小额借款尚未归还的金额"
                "（最多 %(owed)s 元）。"
            )
        # No loan paid that day: the date is what is wrong; otherwise the amount.
        column = LOAN_PAID_ON if line.loan_paid_on and not candidates else AMOUNT
        plan.error(line, column, message % values)


def _check_balances(plan: Plan, new_lines: list[Line]) -> None:
    """No new payment or refund overdraws its account on its date or any later date; the
    balance also stays at least what is approved but unpaid. One query for the existing
    entries of every account involved (daily in- and outflows), one for commitments."""
    spending = {line.account for line in new_lines if line.sheet not in INFLOW_SHEETS}
    if not spending:
        return
    orgs = {org for org, _source in spending}
    sources = {source for _org, source in spending}
    events = defaultdict(list)  # account -> (date, order, sequence, amount, line)
    for row in (
        LedgerEntry.objects.filter(organisation__in=orgs, source__in=sources)
        .values("organisation", "source", "entry_date")
        .annotate(inflow=total("amount", amount__gt=0), outflow=total("amount", amount__lt=0))
        .order_by()
    ):
        account = (row["organisation"], row["source"])
        if account in spending:
            events[account].append((row["entry_date"], 0, 0, cents(row["inflow"]), None))
            events[account].append((row["entry_date"], 1, 0, cents(row["outflow"]), None))
    for sequence, line in enumerate(new_lines):
        if line.account in spending:
            order = 0 if line.sheet in INFLOW_SHEETS else 2
            events[line.account].append((line.day, order, sequence, line.signed, line))
    committed = {
        (row["organisation"], row["source"]): cents(row["value"])
        for row in AssistanceRequest.objects.filter(
            organisation__in=orgs, source__in=sources, state__in=COMMITTED_STATES
        )
        .values("organisation", "source")
        .annotate(value=total("amount"))
        .order_by()
    }
    for account, account_events in events.items():
        _walk(plan, sorted(account_events, key=lambda e: e[:3]), committed.get(account, 0))


def _walk(plan: Plan, events: list, committed: Decimal) -> None:
    """Run through an account's movements in date order. Where the balance goes below zero,
    the latest new outflow at or before that point is refused (and taken out of the running
    balance, so one overdraft is reported once). A dip that existed before the import and
    that no new row makes worse is not this workbook's fault."""
    balance = Decimal("0.00")
    spent: list[Line] = []
    for day, _order, _sequence, amount, line in events:
        before = balance
        balance += amount
        if line is not None and amount < 0:
            spent.append(line)
        while balance < 0 and spent:
            culprit = spent.pop()
            balance -= culprit.signed
            if culprit is line:
                message = _(
                    "%(source)s在 %(date)s 的余额为 %(balance)s 元，"
                    "不足以%(action)s %(amount)s 元。"
                ) % {
                    "source": source_label(line.source),
                    "date": day.isoformat(),
                    "balance": yuan_text(before),
                    "action": _action(line),
                    "amount": yuan_text(line.amount),
                }
            else:
                message = _(
                    "%(action)s %(amount)s 元后，%(source)s在 %(date)s 的余额将为负数"
                    "（当日及之前的支出超过收入）。"
                ) % {
                    "source": source_label(culprit.source),
                    "date": day.isoformat(),
                    "action": _action(culprit),
                    "amount": yuan_text(culprit.amount),
                }
            plan.error(culprit, AMOUNT, message)
    while spent and balance < committed:
        culprit = spent.pop()
        plan.error(
            culprit,
            AMOUNT,
            _(
                "%(action)s %(amount)s 元后，%(source)s余额 %(balance)s 元，"
                "少于已批准待发放的 %(committed)s 元。"
            )
            % {
                "action": _action(culprit),
                "amount": yuan_text(culprit.amount),
                "source": source_label(culprit.source),
                "balance": yuan_text(balance),
                "committed": yuan_text(committed),
            },
        )
        balance -= culprit.signed


def _action(line: Line) -> str:
    if line.sheet == PAYMENTS:
        return pgettext("money moved, as a noun", "发放")
    return pgettext("money moved, as a noun", "退回")


# --- Writing -----------------------------------------------------------------------------------


def _write(plan: Plan, *, user, tick) -> None:
    """The new rows, through the ledger: one record and one entry each, in bulk."""
    new = [line for line in plan.lines if line.new]
    receipts = [
        Receipt(
            organisation=line.organisation,
            source=line.source,
            year=line.year,
            amount=line.amount,
            received_on=line.day,
            document_number=line.document_number,
            note=line.note,
            created_by=user,
            import_key=line.import_key,
        )
        for line in new
        if line.sheet == RECEIPTS
    ]
    refunds = [
        Refund(
            organisation=line.organisation,
            source=line.source,
            amount=line.amount,
            refunded_on=line.day,
            document_number=line.document_number,
            note="",
            created_by=user,
            import_key=line.import_key,
        )
        for line in new
        if line.sheet == REFUNDS
    ]
    Receipt.objects.bulk_create(receipts, batch_size=BATCH)
    Refund.objects.bulk_create(refunds, batch_size=BATCH)
    requests = _payments(new, user=user)
    repayments = _repayments(new, user=user)
    entries = [
        *(
            _entry(r, EntryKind.RECEIPT, r.amount, r.received_on, r.document_number, receipt=r)
            for r in receipts
        ),
        *(
            _entry(r, EntryKind.REFUND, -r.amount, r.refunded_on, r.document_number, refund=r)
            for r in refunds
        ),
        *(
            _entry(r, EntryKind.PAYMENT, -r.amount, r.paid_on, IMPORT_REASON, request=r)
            for r in requests
        ),
        *(
            _entry(
                r.request,
                EntryKind.REPAYMENT,
                r.amount,
                r.repaid_on,
                r.note or IMPORT_REASON,
                request=r.request,
                repayment=r,
            )
            for r in repayments
        ),
    ]
    for entry in entries:
        entry.created_by = user
    for start in range(0, len(entries), BATCH):
        batch = entries[start : start + BATCH]
        LedgerEntry.objects.bulk_create(batch)
        tick(len(batch))


def _repayments(new: list[Line], *, user) -> list[Repayment]:
    """Each new repayment on the loan _check_loans found: a request on record, or the request
    just written for a loan of the workbook."""
    repayments = [
        Repayment(
            request=line.loan.request if isinstance(line.loan, Line) else line.loan,
            amount=line.amount,
            repaid_on=line.day,
            note=line.note,
            created_by=user,
            import_key=line.import_key,
        )
        for line in new
        if line.sheet == REPAYMENTS
    ]
    return Repayment.objects.bulk_create(repayments, batch_size=BATCH)


def _entry(record, kind, amount, day, reason, **link) -> LedgerEntry:
    """The ledger entry of an imported receipt, refund or payment (`link` names the record)."""
    return LedgerEntry(
        organisation=record.organisation,
        source=record.source,
        kind=kind,
        amount=amount,
        entry_date=day,
        year=day.year,
        reason=reason,
        **link,
    )


def _payments(new: list[Line], *, user) -> list[AssistanceRequest]:
    """A paid payment as the app keeps it: a request approved and paid on the payment date
    by the importing user, marked as imported history, with its approval record."""
    now = timezone.now()
    requests = []
    for line in new:
        if line.sheet != PAYMENTS:
            continue
        household = line.household
        account = household.bank_account or ""
        line.request = AssistanceRequest(
            household=household,
            organisation=line.organisation,
            assistance_type=line.assistance_type,
            source=line.source,
            amount=line.amount,
            reason=line.note or IMPORT_REASON,
            requested_on=line.day,
            year=line.day.year,
            state=RequestState.PAID,
            approvals_required=1,
            requested_by=user,
            decided_at=now,
            paid_on=line.day,
            paid_worker_name=household.worker_name,
            paid_bank_name=household.bank_name,
            paid_bank_account=account,
            paid_bank_account_masked=(household.bank_account_masked or mask(account))
            if account
            else "",
            paid_by=user,
            is_imported=True,
            import_key=line.import_key,
        )
        requests.append(line.request)
    if not requests:
        return []
    requests = bulk_create_with_history(
        requests,
        AssistanceRequest,
        batch_size=BATCH,
        default_user=user,
        default_change_reason=IMPORT_REASON,
    )
    Approval.objects.bulk_create(
        [
            Approval(
                request=request,
                level=1,
                decision=Approval.Decision.APPROVE,
                approver=user,
                approver_organisation=user.organisation,
                reason=IMPORT_REASON,
            )
            for request in requests
        ],
        batch_size=BATCH,
    )
    return requests
