"""The funds workbook (issue 7): receipts, historical payments and refunds imported through the
ledger, all or nothing, idempotent, never overdrawing a source on any date; the template; the
export that imports again; two imports of the same rows at once writing one copy."""

import threading
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from funds import selectors, services
from funds.importing import IMPORT_REASON, FundsImporter
from funds.models import (
    Approval,
    AssistanceRequest,
    ClosedYear,
    EntryKind,
    FundSource,
    LedgerEntry,
    Receipt,
    Refund,
    Repayment,
    RequestState,
)
from funds.workbook import (
    PAYMENTS,
    RECEIPTS,
    REFUNDS,
    REPAYMENTS,
    SHEETS,
    funds_export,
    template,
)
from imports.base import RowError
from orgs.models import AccessLog

D = Decimal
DOC = "桂财行〔2016〕1号"


# --- Helpers ---------------------------------------------------------------------------------


def receipt(amount="10000.00", *, on=date(2016, 1, 10), org="450102", source="中央财政", **kw):
    year = kw.get("year", on.year if isinstance(on, date) else 2016)
    return [org, source, year, amount, on, kw.get("doc", DOC), kw.get("note")]


def payment(household, amount="1000.00", *, on=date(2016, 4, 1), org="450102", **kw):
    number = household if isinstance(household, str) else household.file_number
    kind, source = kw.get("kind", "生活救助"), kw.get("source", "中央财政")
    return [org, number, kind, source, amount, on, kw.get("note")]


def refund(amount="500.00", *, on=date(2016, 12, 1), org="450102", source="中央财政", doc=DOC):
    return [org, source, amount, on, doc]


def numbered(rows):
    return [(number, row) for number, row in enumerate(rows, start=2)]


def repayment(household, amount="400.00", *, on=date(2016, 9, 1), org="450102", **kw):
    number = household if isinstance(household, str) else household.file_number
    source, loan = kw.get("source", "中央财政"), kw.get("loan")
    return [org, number, source, loan, amount, on, kw.get("note")]


def run(receipts=(), payments=(), refunds=(), repayments=(), *, user, dry_run=False, progress=None):
    rows = {
        RECEIPTS: numbered(receipts),
        PAYMENTS: numbered(payments),
        REFUNDS: numbered(refunds),
        REPAYMENTS: numbered(repayments),
    }
    return FundsImporter().run(rows, user=user, dry_run=dry_run, progress=progress)


def created(report):
    return {name: counts.created for name, counts in report.sheets.items()}


def skipped(report):
    return {name: counts.skipped for name, counts in report.sheets.items()}


def written():
    return (
        Receipt.objects.count(),
        Refund.objects.count(),
        AssistanceRequest.objects.count(),
        Approval.objects.count(),
        LedgerEntry.objects.count(),
    )


def ledger():
    """The ledger as data: what an identical re-import must reproduce (a repayment with the
    amount and date of the loan it went to)."""
    return sorted(
        (
            e.organisation.code,
            e.source.code,
            e.kind,
            e.amount,
            e.entry_date,
            (e.request.amount, e.request.paid_on) if e.kind == EntryKind.REPAYMENT else None,
        )
        for e in LedgerEntry.objects.select_related("organisation", "source", "request")
    )


def read_back(content: bytes) -> dict:
    """The rows of a workbook as python-calamine gives them (what the framework hands over)."""
    book = CalamineWorkbook.from_filelike(BytesIO(content))
    rows = {}
    for sheet, headers in SHEETS.items():
        header, *data = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        assert tuple(header) == headers
        rows[sheet] = list(enumerate(data, start=2))
    return rows


def import_bytes(content, *, user, dry_run=False):
    return FundsImporter().run(read_back(content), user=user, dry_run=dry_run)


@pytest.fixture
def finance(users):
    return users["finance_450102"]


def balance(orgs, sources, org="450102", source="central"):
    return selectors.balance(organisation=orgs[org], source=sources[source])


# --- Writing through the ledger ------------------------------------------------------------


def test_receipts_payments_and_refunds_are_written_through_the_ledger(
    filed, finance, orgs, sources, types
):
    household = filed()
    report = run(
        [receipt(note="首批")],
        [payment(household, note="春节慰问")],
        [refund()],
        user=finance,
    )
    assert report.ok, report.errors
    assert created(report) == {RECEIPTS: 1, PAYMENTS: 1, REFUNDS: 1, REPAYMENTS: 0}
    assert balance(orgs, sources) == D("8500.00")
    kinds = dict(LedgerEntry.objects.values_list("kind", "amount"))
    assert kinds == {
        EntryKind.RECEIPT: D("10000.00"),
        EntryKind.PAYMENT: D("-1000.00"),
        EntryKind.REFUND: D("-500.00"),
    }
    receipt_row = Receipt.objects.get()
    assert (receipt_row.year, receipt_row.document_number, receipt_row.note) == (2016, DOC, "首批")
    assert receipt_row.created_by == finance and receipt_row.import_key
    request = AssistanceRequest.objects.get()
    assert request.is_imported and request.import_key
    assert (request.state, request.paid_on, request.requested_on) == (
        RequestState.PAID,
        date(2016, 4, 1),
        date(2016, 4, 1),
    )
    assert request.assistance_type == types["living"] and request.reason == "春节慰问"
    assert request.requested_by == finance and request.paid_by == finance
    assert request.paid_worker_name == household.worker_name
    assert request.paid_bank_account == household.bank_account
    approval = Approval.objects.get(request=request)
    assert (approval.approver, approval.reason) == (finance, IMPORT_REASON)
    history = request.history.get()
    assert (history.history_user, history.history_change_reason) == (finance, IMPORT_REASON)
    entry = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    assert (entry.request, entry.created_by, entry.year) == (request, finance, 2016)


def test_a_dry_run_counts_and_writes_nothing(filed, finance):
    household = filed()
    before = written()
    report = run([receipt()], [payment(household)], [refund()], user=finance, dry_run=True)
    assert report.ok and report.dry_run
    assert created(report) == {RECEIPTS: 1, PAYMENTS: 1, REFUNDS: 1, REPAYMENTS: 0}
    assert written() == before


def test_one_bad_row_among_good_ones_writes_nothing(filed, finance):
    household = filed()
    before = written()
    report = run(
        [receipt(), receipt("12.345", doc="桂财行〔2016〕2号")],
        [payment(household)],
        user=finance,
    )
    assert not report.ok
    assert report.errors == [
        RowError(RECEIPTS, 3, "金额", "金额“12.345”最多保留两位小数（到分）。")
    ]
    assert written() == before
    # What the other rows would do once the error is fixed.
    assert created(report) == {RECEIPTS: 1, PAYMENTS: 1, REFUNDS: 0, REPAYMENTS: 0}


@pytest.mark.parametrize(
    "row, column, fragment",
    [
        (receipt("一万元"), "金额", "不是数字"),
        (receipt("-10"), "金额", "负数"),
        (receipt(on="10/01/2016"), "到账日期", "格式不正确"),
        (receipt(on=date(1989, 12, 31), year=1990), "到账日期", "不能早于1990年1月1日"),
        (receipt(on="2016-02-30"), "到账日期", "不存在"),
        (receipt(source="市财政"), "资金来源", "中央财政、省级财政"),
        (receipt(doc=" "), "文号", "必填"),
        (receipt(year=1980), "年度", "1980"),
        (receipt(year=2018), "年度", "到账次年"),
        (receipt(org="999999"), "组织代码", "999999"),
        (receipt(org="450103"), "组织代码", "450103"),  # another county: not in the subtree
        (receipt(on=timezone.localdate() + timedelta(days=1)), "到账日期", "晚于今天"),
    ],
)
def test_cell_and_lookup_errors_name_sheet_row_column_and_value(finance, row, column, fragment):
    report = run([receipt(doc="桂财行〔2016〕0号"), row], user=finance)
    assert len(report.errors) == 1, report.errors
    error = report.errors[0]
    assert (error.sheet, error.row, error.column) == (RECEIPTS, 3, column)
    assert fragment in error.message
    assert Receipt.objects.count() == 0


def test_every_error_of_the_workbook_is_reported(filed, finance):
    household = filed()
    report = run(
        [receipt("abc", on="yesterday")],
        [payment(household, "1.001", kind="扶贫")],
        [refund(org="")],
        user=finance,
    )
    assert {(e.sheet, e.row, e.column) for e in report.errors} == {
        (RECEIPTS, 2, "金额"),
        (RECEIPTS, 2, "到账日期"),
        (PAYMENTS, 2, "帮扶类型"),
        (PAYMENTS, 2, "金额"),
        (REFUNDS, 2, "组织代码"),
    }


def test_source_aliases_and_names_given_by_an_administrator(finance, orgs, sources):
    FundSource.objects.create(code="lottery", name="彩票公益金", sort=9)
    report = run(
        [
            receipt(source="自治区财政"),
            receipt(source="省级财政", doc="桂财行〔2016〕2号"),
            receipt(source="省/自治区财政", doc="桂财行〔2016〕3号"),
            receipt(source="彩票公益金"),
        ],
        user=finance,
    )
    assert report.ok, report.errors
    assert balance(orgs, sources, source="regional") == D("30000.00")
    assert Receipt.objects.filter(source__code="lottery").count() == 1


def test_an_organisation_code_is_found_in_other_letters(finance, orgs):
    """Codes are unique whatever their case: a cell typed in other letters names one
    organisation, and one outside the importer's subtree is still refused."""
    from orgs.models import Organisation

    own = Organisation.objects.create(
        code="450102A01", name="甲基层工会", level="base", parent=orgs["450102"]
    )
    Organisation.objects.create(code="450103A01", name="乙", level="base", parent=orgs["450103"])
    report = run([receipt(org="450102a01"), receipt(org="450103a01")], user=finance)
    assert [(e.row, e.column) for e in report.errors] == [(3, "组织代码")]
    assert run([receipt(org="450102a01")], user=finance).ok
    assert Receipt.objects.get().organisation == own


def test_empty_rows_are_ignored(finance):
    report = run([[None] * 7, receipt(), ["", " ", None, None, None, None, None]], user=finance)
    assert report.ok and created(report)[RECEIPTS] == 1


def test_importing_needs_the_permission(users):
    report = run([receipt()], user=users["clerk_450102"])
    assert not report.ok and "权限" in report.errors[0].message
    assert Receipt.objects.count() == 0


def test_an_administrator_imports_in_the_region(users, orgs, sources):
    report = run([receipt(org="450103")], user=users["admin_450000"])
    assert report.ok, report.errors
    assert balance(orgs, sources, org="450103") == D("10000.00")


# --- Idempotent re-import -----------------------------------------------------------------


def test_importing_the_same_rows_again_skips_them(filed, finance):
    household = filed()
    rows = ([receipt()], [payment(household)], [refund()])
    assert run(*rows, user=finance).ok
    before = (written(), ledger())
    report = run(*rows, user=finance)
    assert report.ok
    assert created(report) == {RECEIPTS: 0, PAYMENTS: 0, REFUNDS: 0, REPAYMENTS: 0}
    assert skipped(report) == {RECEIPTS: 1, PAYMENTS: 1, REFUNDS: 1, REPAYMENTS: 0}
    assert (written(), ledger()) == before


def test_identical_rows_count_as_copies(finance, orgs, sources):
    twice = [receipt("100.00"), receipt("100.00")]
    assert created(run(twice, user=finance))[RECEIPTS] == 2
    assert skipped(run(twice, user=finance))[RECEIPTS] == 2
    report = run([*twice, receipt("100.00")], user=finance)
    assert (created(report)[RECEIPTS], skipped(report)[RECEIPTS]) == (1, 2)
    assert balance(orgs, sources) == D("300.00")


def test_rows_entered_by_hand_are_recognised(receive, finance):
    receive("10000.00")  # the same receipt, entered on the receipt page
    report = run([receipt()], user=finance)
    assert skipped(report)[RECEIPTS] == 1 and Receipt.objects.count() == 1


def test_a_reversed_imported_payment_is_not_imported_again(filed, finance):
    household = filed()
    rows = ([receipt()], [payment(household)])
    run(*rows, user=finance)
    entry = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    services.entry_reverse(user=finance, entry=entry, reason="重复登记")
    report = run(*rows, user=finance)
    assert report.ok and skipped(report) == {RECEIPTS: 1, PAYMENTS: 1, REFUNDS: 0, REPAYMENTS: 0}


def test_a_reversed_payment_entered_by_hand_is_not_imported_again(
    filed, receive, ask, approve, pay, finance
):
    """As an imported one (above): the reversal puts the request back to approved with no
    payment date, but its payment entry stays in the ledger with the date. Re-importing an
    export made before the reversal paid it a second time, as a new imported request, while
    the approved request could still be paid too."""
    household = filed()
    receive("10000.00")
    request = approve(ask(household, "1000.00", on=date(2016, 4, 1)))
    pay(request, on=date(2016, 4, 2))
    content = funds_export(finance)
    entry = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    services.entry_reverse(user=finance, entry=entry, reason="银行退回")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED and request.paid_on is None
    before = (written(), ledger())
    report = import_bytes(content, user=finance)
    assert report.ok, report.errors
    assert skipped(report) == {RECEIPTS: 1, PAYMENTS: 1, REFUNDS: 0, REPAYMENTS: 0}
    assert (written(), ledger()) == before


def test_the_database_refuses_a_second_copy_the_checks_missed(filed, finance, monkeypatch):
    """What two imports racing each other meet: the unique import keys, not the checks."""
    from collections import Counter

    from funds import importing

    household = filed()
    rows = ([receipt()], [payment(household)], [refund()])
    run(*rows, user=finance)
    before = (written(), ledger())
    monkeypatch.setattr(importing, "_existing", lambda lines: Counter())  # sees nothing on record
    report = run(*rows, user=finance)
    assert [error.message for error in report.errors] == [
        "另一次导入同时写入了相同的记录，本次未导入任何数据；请重新导入，已导入的行将跳过。"
    ]
    assert sum(created(report).values()) == 0
    assert (written(), ledger()) == before


# --- Balances on the dates ----------------------------------------------------------------


def test_a_payment_before_the_money_arrived_is_refused(filed, finance):
    household = filed()
    report = run(
        [receipt(on=date(2016, 5, 1))],  # a later receipt would have covered it
        [payment(household, on=date(2016, 4, 1))],
        user=finance,
    )
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [(PAYMENTS, 2, "金额")]
    assert "2016-04-01 的余额为 0.00 元，不足以发放 1,000.00 元" in report.errors[0].message
    assert written() == (0, 0, 0, 0, 0)
    # Received the day before: fine. Received the same day: counted before the payment.
    assert run([receipt(on=date(2016, 4, 1))], [payment(household)], user=finance).ok


def test_a_past_payment_may_not_overdraw_a_later_existing_payment(
    filed, receive, ask, approve, pay, finance
):
    household = filed()
    receive("1000.00", on=date(2016, 1, 10))
    request = ask(household, "1000.00", on=date(2016, 6, 1))
    approve(request)
    pay(request, on=date(2016, 6, 1))
    report = run([], [payment(household, "500.00", on=date(2016, 3, 1))], user=finance)
    assert [(e.sheet, e.row) for e in report.errors] == [(PAYMENTS, 2)]
    assert "2016-06-01 的余额将为负数" in report.errors[0].message


def test_each_overdraft_is_reported_once(filed, finance):
    household = filed()
    report = run(
        [receipt("1000.00")],
        [
            payment(household, "800.00", on=date(2016, 4, 1)),
            payment(household, "300.00", on=date(2016, 4, 2)),
            payment(household, "200.00", on=date(2016, 4, 3)),
        ],
        user=finance,
    )
    # 800 fits, 300 does not (200 left), 200 does once the 300 is set aside.
    assert [(e.sheet, e.row) for e in report.errors] == [(PAYMENTS, 3)]
    assert created(report) == {RECEIPTS: 1, PAYMENTS: 2, REFUNDS: 0, REPAYMENTS: 0}


def test_a_refund_may_not_overdraw(finance):
    report = run([receipt("100.00")], [], [refund("100.01")], user=finance)
    assert [(e.sheet, e.column) for e in report.errors] == [(REFUNDS, "金额")]
    assert "不足以退回 100.01 元" in report.errors[0].message
    assert run([receipt("100.00")], [], [refund("100.00")], user=finance).ok


# --- Loan repayments (the optional fourth sheet) --------------------------------------------


def test_repayments_go_to_their_loan_and_back_into_its_source(filed, finance, orgs, sources):
    household = filed()
    report = run(
        [receipt("10000.00")],
        [payment(household, "2000.00", on=date(2016, 4, 1), kind="小额借款")],
        [],
        [
            repayment(household, "500.00", on=date(2016, 6, 1), loan=date(2016, 4, 1)),
            repayment(household, "1500.00", on=date(2016, 9, 1), note="还清"),  # no loan date
        ],
        user=finance,
    )
    assert report.ok, report.errors
    assert created(report) == {RECEIPTS: 1, PAYMENTS: 1, REFUNDS: 0, REPAYMENTS: 2}
    loan = AssistanceRequest.objects.get()
    assert loan.assistance_type.is_loan and selectors.loan_repaid(loan) == D("2000.00")
    assert sorted(loan.repayments.values_list("repaid_on", "amount", "note")) == [
        (date(2016, 6, 1), D("500.00"), ""),
        (date(2016, 9, 1), D("1500.00"), "还清"),
    ]
    assert balance(orgs, sources) == D("10000.00")
    # Imported again: nothing new; the sheet is in the report like the others.
    again = run(
        [],
        [],
        [],
        [repayment(household, "500.00", on=date(2016, 6, 1), loan=date(2016, 4, 1))],
        user=finance,
    )
    assert again.ok and skipped(again)[REPAYMENTS] == 1
    assert Repayment.objects.count() == 2


def test_a_repayment_needs_a_loan_that_still_owes_it(filed, finance):
    household = filed()
    assert run(
        [receipt("10000.00")],
        [
            payment(household, "1000.00", on=date(2016, 4, 1), kind="小额借款"),
            payment(household, "700.00", on=date(2016, 4, 2)),  # not a loan
        ],
        user=finance,
    ).ok
    before = written()
    report = run(
        [],
        [],
        [],
        [
            repayment(household, "600.00", on=date(2016, 5, 1)),
            repayment(household, "600.00", on=date(2016, 5, 2)),  # 400 left after the first
            repayment(household, "100.00", on=date(2016, 3, 31)),  # before the loan was paid
            repayment(household, "100.00", on=date(2016, 5, 3), loan=date(2016, 4, 2)),
            repayment(household, "100.00", on=date(2016, 5, 3), loan=date(2016, 6, 1)),
            repayment(household, "100.00", on=date(2016, 5, 3), source="工会经费"),
        ],
        user=finance,
    )
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "金额"),
        (4, "金额"),
        (5, "借款发放日期"),  # no loan paid that day
        (6, "借款发放日期"),
        (7, "金额"),
    ]
    messages = [e.message for e in report.errors]
    assert "还款 600.00 元超过档案" in messages[0] and "最多 400.00 元" in messages[0]
    assert "2016-03-31 及以前没有该组织从中央财政发放的小额借款" in messages[1]
    assert "在 2016-04-02 没有该组织从中央财政发放的小额借款" in messages[2]
    assert messages[3] == "借款发放日期晚于还款日期。"
    assert "从工会经费发放的小额借款" in messages[4]
    assert created(report)[REPAYMENTS] == 1 and written() == before


def test_a_repayment_pays_for_a_later_payment(filed, finance):
    household = filed()
    rows = (
        [receipt("1000.00")],
        [
            payment(household, "1000.00", on=date(2016, 4, 1), kind="小额借款"),
            payment(household, "800.00", on=date(2016, 6, 1)),
        ],
        [],
    )
    without = run(*rows, user=finance)
    assert [(e.sheet, e.row) for e in without.errors] == [(PAYMENTS, 3)]
    repaid = run(*rows, [repayment(household, "1000.00", on=date(2016, 5, 1))], user=finance)
    assert repaid.ok, repaid.errors


def test_a_workbook_without_the_repayments_sheet_imports(finance, tmp_path):
    """Made from the issue's three-sheet template, before repayments had a sheet."""
    from imports.runner import run_import
    from tests.imports.conftest import write_workbook

    path = write_workbook(
        tmp_path / "funds.xlsx", {RECEIPTS: [receipt()], PAYMENTS: [], REFUNDS: []}, headers=SHEETS
    )
    with zipfile.ZipFile(path) as archive:
        assert not any("repayments" in name for name in archive.namelist())
    report = run_import("funds", path, user=finance, dry_run=False)
    assert report.ok, report.errors
    assert Receipt.objects.count() == 1


def test_sources_are_kept_apart(filed, finance):
    household = filed()
    report = run([receipt(source="工会经费")], [payment(household)], user=finance)
    assert [(e.sheet, e.row) for e in report.errors] == [(PAYMENTS, 2)]
    assert "中央财政" in report.errors[0].message


def test_money_approved_but_unpaid_stays_covered(filed, receive, ask, approve, finance):
    household = filed()
    receive("1000.00", on=date(2016, 1, 10))
    approve(ask(household, "900.00"))
    report = run([], [payment(household, "200.00")], user=finance)
    assert "少于已批准待发放的 900.00 元" in report.errors[0].message
    assert run([], [payment(household, "100.00")], user=finance).ok


def test_closed_years_refuse_entries(finance, users, orgs):
    ClosedYear.objects.create(
        organisation=orgs["450000"], year=2016, closed_by=users["admin_450000"]
    )
    report = run([receipt(), receipt(on=date(2017, 1, 3))], user=finance)
    assert [(e.row, e.column) for e in report.errors] == [(2, "到账日期")]
    assert "2016年度已由" in report.errors[0].message


# --- Files on the payment date ------------------------------------------------------------


def test_a_payment_for_an_unknown_file_is_refused(finance):
    report = run([receipt()], [payment("450102-2099-9999")], user=finance)
    assert [(e.sheet, e.column) for e in report.errors] == [(PAYMENTS, "档案编号")]
    assert "450102-2099-9999" in report.errors[0].message


def test_a_payment_before_the_file_was_on_file_is_refused(filed, finance):
    household = filed(on=date(2016, 3, 1))
    report = run([receipt()], [payment(household, on=date(2016, 2, 20))], user=finance)
    assert [(e.sheet, e.column) for e in report.errors] == [(PAYMENTS, "档案编号")]
    assert "2016-02-20" in report.errors[0].message and "先建档、后帮扶" in report.errors[0].message
    assert run([receipt()], [payment(household, on=date(2016, 3, 1))], user=finance).ok


def test_a_payment_after_the_file_exited_is_refused(filed, finance, users):
    from households import services as household_services

    household = filed(on=date(2016, 3, 1))
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="exit",
        effective_date=date(2016, 9, 1),
        reason="已就业，收入稳定",
        imported=True,
    )
    report = run([receipt()], [payment(household, on=date(2016, 10, 1))], user=finance)
    assert "脱困" in report.errors[0].message
    assert run([receipt()], [payment(household, on=date(2016, 8, 31))], user=finance).ok


def test_the_file_must_be_in_the_organisations_subtree(filed, users, orgs, sources):
    household = filed(org="450102")
    report = run(
        [receipt(org="450102001")],
        [payment(household, org="450102001")],
        user=users["finance_450102"],
    )
    assert [(e.sheet, e.column) for e in report.errors] == [(PAYMENTS, "档案编号")]
    # From the county's own account it is fine; another county's finance cannot see the file.
    assert run([receipt()], [payment(household)], user=users["finance_450102"]).ok
    other = run(
        [receipt(org="450103")], [payment(household, org="450103")], user=users["finance_450103"]
    )
    assert "不存在" in other.errors[0].message


def test_a_payment_belongs_to_the_organisation_the_file_was_in_on_its_date(filed, users, orgs):
    """A file moved to another county since: its payments before the move were the first
    county's, checked against where it was on file on the payment date (the transitions' copy
    of its organisation), not where it is today."""
    household = filed(org="450102", on=date(2016, 3, 1))
    household.organisation = orgs["450103"]
    household.save()  # moved today: an amend transition says so from today
    admin = users["admin_450000"]
    receipts = [receipt(org="450102"), receipt(org="450103")]
    report = run(receipts, [payment(household, org="450102")], user=admin)
    assert report.ok, report.errors
    report = run(receipts, [payment(household, org="450103")], user=admin)
    assert [(e.sheet, e.column) for e in report.errors] == [(PAYMENTS, "档案编号")]
    assert "2016-04-01" in report.errors[0].message
    assert orgs["450102"].name in report.errors[0].message
    today = timezone.localdate()
    assert run(receipts, [payment(household, org="450103", on=today)], user=admin).ok


def test_the_old_county_imports_its_payments_to_a_file_moved_away(filed, users, orgs):
    """A file moved to another county since: the first county's finance imports its own
    payments of before the move (its money, its ledger), though it can no longer open the file;
    a row of a date the file was already elsewhere "does not exist" for it, as a file it never
    had does, and names nothing of the other county."""
    household = filed(org="450102", on=date(2016, 3, 1))
    household.organisation = orgs["450103"]
    household.save()  # moved today: an amend transition says so from today
    old = users["finance_450102"]
    report = run([receipt()], [payment(household)], user=old)
    assert report.ok, report.errors
    assert AssistanceRequest.objects.get(household=household).organisation == orgs["450102"]
    today = timezone.localdate()
    report = run([receipt(on=today)], [payment(household, on=today)], user=old)
    assert [(e.sheet, e.column) for e in report.errors] == [(PAYMENTS, "档案编号")]
    assert "不存在" in report.errors[0].message
    assert orgs["450103"].name not in report.errors[0].message
    # The other way: the new county has the file now, not the old county's payments of before.
    new = users["finance_450103"]
    report = run([receipt(org="450103")], [payment(household, org="450103")], user=new)
    assert [(e.sheet, e.column) for e in report.errors] == [(PAYMENTS, "档案编号")]
    assert run(
        [receipt(org="450103", on=today)], [payment(household, org="450103", on=today)], user=new
    ).ok


def test_a_loan_is_repaid_to_its_county_after_the_file_moved_away(filed, users, orgs):
    """A loan paid while the file was in the first county is repaid into that county's source
    after the file moved to another county, as repayment_record takes it by hand: the repayment
    goes to the loan's organisation, and the file was in it when the loan was paid. Only a
    county that never lent to the file finds no loan to repay."""
    household = filed(org="450102", on=date(2016, 3, 1))
    household.organisation = orgs["450103"]
    household.save()  # moved today: an amend transition says so from today
    today = timezone.localdate()
    loan = payment(household, "2000.00", on=date(2016, 4, 1), kind="小额借款")
    late = repayment(household, "500.00", on=today, loan=date(2016, 4, 1))
    for user in (users["admin_450000"], users["finance_450102"]):
        report = run([receipt()], [loan], [], [late], user=user, dry_run=True)
        assert report.ok, report.errors
    report = run([receipt()], [loan], [], [late], user=users["finance_450102"])
    assert report.ok, report.errors
    repaid = Repayment.objects.get()
    assert repaid.request.organisation == orgs["450102"] and repaid.repaid_on == today
    # The new county lent nothing to the file: no loan to repay there.
    other = run(
        [receipt(org="450103")],
        [],
        [],
        [repayment(household, "500.00", on=today, org="450103")],
        user=users["finance_450103"],
    )
    assert not other.ok


def test_standards_are_not_applied_to_history(filed, finance, standard):
    household = filed()
    standard("living", year=2016, amount_cap="500.00", times_per_year=1)
    report = run(
        [receipt()], [payment(household, "3000.00"), payment(household, "900.00")], user=finance
    )
    assert report.ok, report.errors


# --- Scale: queries and progress --------------------------------------------------------


def test_queries_do_not_grow_with_rows(filed, finance):
    from django.test.utils import CaptureQueriesContext

    household = filed()

    def count(n):
        tag = f"{n}-"  # rows of their own: none skipped as already imported
        days = [date(2016, 4, 1) + timedelta(i) for i in range(n)]
        rows = (
            [receipt("100000.00", doc=f"{tag}{i}") for i in range(n)],
            [payment(household, f"{n}.00", on=day, kind="小额借款") for day in days],
            [refund("1.00", doc=f"{tag}{i}") for i in range(n)],
            [repayment(household, f"{n}.00", on=day + timedelta(1)) for day in days],
        )
        with CaptureQueriesContext(connection) as queries:
            report = run(*rows, user=finance)
        assert report.ok, report.errors
        assert created(report) == {RECEIPTS: n, PAYMENTS: n, REFUNDS: n, REPAYMENTS: n}
        return len(queries)

    count(1)  # creates the account lock rows
    # Bulk inserts: SQLite splits them into batches by its parameter limit, never per row.
    assert count(40) - count(4) < 10


def test_progress_is_reported(finance):
    """In rows of the workbook: a writing import checks, then writes, each row, two steps."""
    calls = []
    rows = [receipt("1.00", doc=f"{i}号") for i in range(450)]
    run(rows, user=finance, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (100, 450) and calls[-1] == (450, 450)


def test_a_writing_import_reaches_the_total_only_once_written(finance, tmp_path):
    """The importer counted to twice the rows (checked, then written) and the runner capped it
    at the workbook's rows: the bar reached 100 % when the check ended, before any was written."""
    from imports.runner import run_import
    from tests.imports.conftest import write_workbook

    rows = [receipt(D("1.00"), doc=f"{i}号") for i in range(400)]
    path = write_workbook(
        tmp_path / "funds.xlsx", {RECEIPTS: rows, PAYMENTS: [], REFUNDS: []}, headers=SHEETS
    )
    seen = []

    def progress(done, total):
        seen.append((done, total, Receipt.objects.count()))

    report = run_import("funds", path, user=finance, dry_run=False, progress=progress)
    assert report.ok, report.errors
    assert created(report)[RECEIPTS] == 400
    done = [done for done, _total, _written in seen]
    assert done == sorted(done) and {total for _done, total, _written in seen} == {400}
    assert seen[-1][:2] == (400, 400)
    assert (200, 400, 0) in seen  # halfway: checked, nothing written yet
    assert all(written == 400 for done, total, written in seen if done == total), seen


# --- Template -----------------------------------------------------------------------------


def test_template_has_the_exact_headers_lists_and_instructions(finance):
    wb = load_workbook(BytesIO(template()))
    for sheet, headers in SHEETS.items():
        ws = wb[sheet]
        assert tuple(c.value for c in ws[1]) == headers
        assert ws.freeze_panes == "A2"
    lists = {
        (sheet, str(dv.sqref).split(":")[0]): dv.formula1
        for sheet in SHEETS
        for dv in wb[sheet].data_validations.dataValidation
        if dv.type == "list"
    }
    assert lists[(RECEIPTS, "B2")] == '"中央财政,省级财政,上级工会送温暖,工会经费,社会捐助,其他"'
    assert (
        lists[(PAYMENTS, "C2")] == '"生活救助,医疗救助,助学,送温暖,就业创业,小额借款,法律援助,其他"'
    )
    assert lists[(PAYMENTS, "D2")] == lists[(REFUNDS, "B2")] == lists[(RECEIPTS, "B2")]
    described = {(row[0], row[1]) for row in wb["说明"].iter_rows(values_only=True)}
    assert all(
        (sheet, header) in described for sheet, headers in SHEETS.items() for header in headers
    )
    # The blank template reads back as a workbook with nothing to import.
    report = import_bytes(template(), user=finance)
    assert report.ok and report.rows == 0


# --- Export -------------------------------------------------------------------------------


@pytest.fixture
def history(filed, receive, ask, approve, pay, finance, orgs, sources):
    """Money entered by hand and by import, a reversal, a formula-looking document number."""
    household = filed()
    receive("20000.00", on=date(2016, 1, 10))
    receive("5000.00", source="donation", on=date(2016, 2, 1), document_number="=1+1")
    wrong = receive("999.00", on=date(2016, 2, 2), document_number="错账")
    services.entry_reverse(user=finance, entry=wrong.entries.get(), reason="录入错误")
    request = ask(household, "1500.00", on=date(2016, 5, 1), kind="medical")
    approve(request)
    pay(request, on=date(2016, 5, 3))
    services.refund_record(
        user=finance,
        organisation=orgs["450102"],
        source=sources["donation"],
        amount=D("800.00"),
        refunded_on=date(2016, 12, 20),
        document_number="桂财行〔2016〕72号",
    )
    run([], [payment(household, "300.00", on=date(2016, 7, 1), kind="送温暖")], user=finance)
    return household


def test_the_export_imports_again_with_every_row_skipped(history, finance):
    content = funds_export(finance)
    rows = read_back(content)
    assert len(rows[RECEIPTS]) == 2  # the receipt reversed in full is left out
    assert len(rows[PAYMENTS]) == 2 and len(rows[REFUNDS]) == 1
    before = (written(), ledger())
    report = import_bytes(content, user=finance)
    assert report.ok, report.errors
    assert created(report) == {RECEIPTS: 0, PAYMENTS: 0, REFUNDS: 0, REPAYMENTS: 0}
    assert skipped(report) == {RECEIPTS: 2, PAYMENTS: 2, REFUNDS: 1, REPAYMENTS: 0}
    assert (written(), ledger()) == before


def test_the_export_neutralises_formulas(history, finance):
    ws = load_workbook(BytesIO(funds_export(finance)))[RECEIPTS]
    documents = [row[5] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert "'=1+1" in documents and "=1+1" not in documents


def test_the_export_imports_into_a_fresh_state_identically(
    filed, receive, ask, approve, pay, finance
):
    from django.db import transaction

    household = filed()

    class Undo(Exception):
        pass

    try:
        with transaction.atomic():
            receive("20000.00", on=date(2016, 1, 10))
            request = ask(household, "1500.00", on=date(2016, 5, 1), kind="medical")
            approve(request)
            pay(request, on=date(2016, 5, 3))
            loan = ask(household, "2000.00", on=date(2016, 6, 1), kind="small_loan")
            approve(loan)
            pay(loan, on=date(2016, 6, 2))
            services.repayment_record(
                user=finance, request=loan, amount=D("500.00"), repaid_on=date(2016, 8, 1)
            )
            run(
                [],
                [
                    payment(household, "300.00", on=date(2016, 7, 1)),
                    payment(household, "1000.00", on=date(2016, 7, 2), kind="小额借款"),
                ],
                [refund("100.00")],
                [repayment(household, "1000.00", on=date(2016, 10, 1), loan=date(2016, 7, 2))],
                user=finance,
            )
            original = ledger()
            content = funds_export(finance)
            raise Undo
    except Undo:
        pass
    assert LedgerEntry.objects.count() == 0
    report = import_bytes(content, user=finance)
    assert report.ok, report.errors
    assert created(report) == {RECEIPTS: 1, PAYMENTS: 4, REFUNDS: 1, REPAYMENTS: 2}
    assert ledger() == original
    # Each repayment on its own loan: the one repaid in full, the other with 1,500 still owed.
    owed = {
        loan.amount - selectors.loan_repaid(loan)
        for loan in AssistanceRequest.objects.filter(assistance_type__code="small_loan")
    }
    assert owed == {D("0.00"), D("1500.00")}


def test_the_export_is_scoped(history, users):
    rows = read_back(funds_export(users["finance_450103"]))
    assert all(not data for data in rows.values())


def test_export_view_permissions_and_access_log(history, client, login):
    url = reverse("funds:export")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login("clerk_450102")
    assert client.get(url).status_code == 403
    login("finance_450102")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="funds-450102-')
    assert read_back(response.content)[PAYMENTS]
    log = AccessLog.objects.get()
    assert (log.action, log.user.username) == (AccessLog.Action.EXPORT, "finance_450102")
    login("admin_450000")
    assert client.get(url).status_code == 200


# --- Two imports at once (PostgreSQL) -----------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_imports_of_the_same_rows_at_once_write_one_copy(filed, users):
    household = filed()
    finance = users["finance_450102"]
    rows = (
        [receipt(), receipt("500.00", source="工会经费")],
        [payment(household), payment(household, "200.00", on=date(2016, 4, 2))],
        [refund()],
    )
    barrier = threading.Barrier(2)
    reports = [None, None]

    def worker(index):
        try:
            barrier.wait()
            reports[index] = run(*rows, user=finance)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(report is not None for report in reports)
    assert sorted(sum(created(r).values()) for r in reports) == [0, 5]
    assert (Receipt.objects.count(), Refund.objects.count()) == (2, 1)
    assert AssistanceRequest.objects.filter(is_imported=True).count() == 2
    assert LedgerEntry.objects.count() == 5


def test_the_export_reports_progress_and_goes_through_the_workbook_reader(
    history, finance, tmp_path
):
    from funds.importing import export_funds
    from imports.runner import run_import

    calls = []
    content = export_funds(user=finance, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5, 5)
    path = tmp_path / "funds.xlsx"
    path.write_bytes(content)
    report = run_import("funds", path, user=finance, dry_run=True)
    assert report.ok, report.errors
    assert skipped(report) == {RECEIPTS: 2, PAYMENTS: 2, REFUNDS: 1, REPAYMENTS: 0}


def test_the_admin_tells_imported_rows_from_those_entered_on_the_pages(
    receive, filed, finance, login
):
    receive("500.00", document_number="桂财行〔2016〕9号")  # on the receipt page
    household = filed()
    assert run([receipt(doc="桂财行〔2016〕7号")], [payment(household)], user=finance).ok
    client = login("finance_450102")
    url = reverse("admin:funds_receipt_changelist")
    imported = client.get(url, {"imported": "yes"}).content.decode()
    by_hand = client.get(url, {"imported": "no"}).content.decode()
    assert "〔2016〕7号" in imported and "〔2016〕9号" not in imported
    assert "〔2016〕9号" in by_hand and "〔2016〕7号" not in by_hand
    requests = reverse("admin:funds_assistancerequest_changelist")
    page = client.get(requests, {"is_imported__exact": "1"}).content.decode()
    assert household.file_number in page
    assert (
        household.file_number
        not in client.get(requests, {"is_imported__exact": "0"}).content.decode()
    )
