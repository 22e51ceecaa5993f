"""Receipts, refunds, reversals and closed years: every refusal names its rule and writes
nothing; the ledger is append-only and balances are sums of entries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from funds import selectors, services
from funds.models import (
    AppendOnlyError,
    ClosedYear,
    EntryKind,
    LedgerEntry,
    Receipt,
    Refund,
    RequestState,
)

D = Decimal


def counts():
    return (Receipt.objects.count(), Refund.objects.count(), LedgerEntry.objects.count())


def refuse(call, message, field=None):
    """Run a service that must refuse; assert its message and that nothing was written."""
    before = counts()
    with pytest.raises(ValidationError) as exc:
        call()
    error = exc.value
    messages = error.message_dict[field] if field else error.messages
    assert any(message in text for text in messages), messages
    assert counts() == before
    return error


# --- Receipts -------------------------------------------------------------------------------


def test_a_receipt_writes_one_positive_entry(receive, orgs, sources):
    receipt = receive("141000.00", on=date(2017, 1, 5), document_number="桂财行〔2016〕180号")
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.receipt, entry.year) == (
        EntryKind.RECEIPT,
        D("141000.00"),
        receipt,
        2017,
    )
    assert receipt.document_number == "桂财行〔2016〕180号"
    assert selectors.balance(organisation=orgs["450102"], source=sources["central"]) == D(
        "141000.00"
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "金额必须大于零"),
        ("0.00", "金额必须大于零"),
        ("-100.00", "金额必须大于零"),
        ("100.001", "最多保留两位小数"),
        ("abc", "金额格式不正确"),
        ("", "请填写金额"),
        ("1000000000000.00", "金额过大"),
    ],
)
def test_receipt_bad_amounts_are_refused(users, orgs, sources, amount, message):
    refuse(
        lambda: services.receipt_record(
            user=users["finance_450102"],
            organisation=orgs["450102"],
            source=sources["central"],
            year=2017,
            amount=amount,
            received_on=date(2017, 1, 5),
            document_number="桂财行〔2016〕180号",
        ),
        message,
        "amount",
    )


def test_a_float_amount_is_refused(users, orgs, sources):
    refuse(
        lambda: services.receipt_record(
            user=users["finance_450102"],
            organisation=orgs["450102"],
            source=sources["central"],
            year=2017,
            amount=0.1,
            received_on=date(2017, 1, 5),
            document_number="x",
        ),
        "金额格式不正确",
        "amount",
    )


def test_receipt_without_document_number_is_refused(users, orgs, sources):
    refuse(
        lambda: services.receipt_record(
            user=users["finance_450102"],
            organisation=orgs["450102"],
            source=sources["central"],
            year=2017,
            amount=D("100.00"),
            received_on=date(2017, 1, 5),
            document_number="   ",
        ),
        "请填写拨款文号",
        "document_number",
    )


def test_receipt_in_the_future_or_odd_year_is_refused(users, orgs, sources):
    common = {
        "user": users["finance_450102"],
        "organisation": orgs["450102"],
        "source": sources["central"],
        "amount": D("100.00"),
        "document_number": "x",
    }
    tomorrow = timezone.localdate() + timedelta(days=1)
    refuse(
        lambda: services.receipt_record(**common, year=tomorrow.year, received_on=tomorrow),
        "不能晚于今天",
        "received_on",
    )
    refuse(
        lambda: services.receipt_record(**common, year=1980, received_on=date(2017, 1, 5)),
        "资金年度",
        "year",
    )


@pytest.mark.parametrize("username", ["clerk_450102", "supervisor_450102", "viewer_450000"])
def test_only_finance_records_receipts(users, orgs, sources, username):
    with pytest.raises(PermissionDenied):
        services.receipt_record(
            user=users[username],
            organisation=orgs["450102"],
            source=sources["central"],
            year=2017,
            amount=D("100.00"),
            received_on=date(2017, 1, 5),
            document_number="x",
        )
    assert counts() == (0, 0, 0)


def test_finance_of_another_county_cannot_record_here(users, orgs, sources):
    with pytest.raises(PermissionDenied):
        services.receipt_record(
            user=users["finance_450103"],
            organisation=orgs["450102"],
            source=sources["central"],
            year=2017,
            amount=D("100.00"),
            received_on=date(2017, 1, 5),
            document_number="x",
        )


# --- Refunds ------------------------------------------------------------------------------


def refund(users, orgs, sources, amount, *, on=date(2018, 12, 20), source="regional"):
    return services.refund_record(
        user=users["finance_450102"],
        organisation=orgs["450102"],
        source=sources[source],
        amount=D(amount),
        refunded_on=on,
        document_number="桂财行〔2018〕72号",
    )


def test_a_refund_writes_a_negative_entry(receive, users, orgs, sources):
    receive("96000.00", source="regional", on=date(2018, 4, 1))
    made = refund(users, orgs, sources, "96000.00")
    entry = LedgerEntry.objects.get(refund=made)
    assert (entry.kind, entry.amount) == (EntryKind.REFUND, D("-96000.00"))
    assert selectors.balance(organisation=orgs["450102"], source=sources["regional"]) == D("0.00")


def test_a_refund_larger_than_the_balance_is_refused(receive, users, orgs, sources):
    receive("96000.00", source="regional", on=date(2018, 4, 1))
    refuse(lambda: refund(users, orgs, sources, "96000.01"), "可用余额不足", "amount")
    # another source's money does not count
    receive("5000.00", source="central", on=date(2018, 4, 1))
    refuse(lambda: refund(users, orgs, sources, "1.00", source="union"), "可用余额不足", "amount")


def test_a_refund_may_not_take_committed_money(receive, filed, ask, approve, users, orgs, sources):
    receive("1000.00", on=date(2018, 4, 1))
    approve(ask(filed(), "800.00", on=date(2018, 5, 1)))
    error = refuse(
        lambda: refund(users, orgs, sources, "300.00", source="central"), "可用余额不足", "amount"
    )
    assert "已批准待发放 800.00 元" in error.message_dict["amount"][0]
    refund(users, orgs, sources, "200.00", source="central")


def test_a_back_dated_refund_may_not_overdraw_its_own_date(receive, users, orgs, sources):
    """1,000 received in December cannot have been refunded in June of the year before: the
    statement of that year would close at −1,000."""
    receive("1000.00", source="donation", on=date(2018, 12, 1), document_number="捐〔2018〕1号")
    error = refuse(
        lambda: refund(users, orgs, sources, "1000.00", source="donation", on=date(2017, 6, 1)),
        "社会捐助在 2017-06-01 的余额为 0.00 元，不足以退回 1,000.00 元",
        "amount",
    )
    assert set(error.message_dict) == {"amount"}
    refund(users, orgs, sources, "1000.00", source="donation", on=date(2018, 12, 1))
    statement = selectors.fund_statement(
        organisations=orgs["450102"].__class__.objects.filter(pk=orgs["450102"].pk), year=2018
    )
    assert statement["totals"]["closing"] == D("0.00")


def test_a_back_dated_refund_may_not_overdraw_a_later_date(
    receive, filed, ask, approve, pay, users, orgs, sources
):
    """Enough money on the refund's date, but a payment after it would then have had none."""
    receive("1000.00", on=date(2017, 1, 5))
    pay(approve(ask(filed(), "800.00", on=date(2017, 3, 1))), on=date(2017, 3, 1))
    receive("1000.00", on=date(2017, 6, 1), document_number="桂财行〔2017〕9号")
    assert selectors.balance(organisation=orgs["450102"], source=sources["central"]) == D("1200.00")
    refuse(
        lambda: refund(users, orgs, sources, "1000.00", source="central", on=date(2017, 2, 1)),
        "在 2017-03-01 的余额为 200.00 元",
        "amount",
    )
    refund(users, orgs, sources, "200.00", source="central", on=date(2017, 2, 1))
    refuse(
        lambda: refund(users, orgs, sources, "0.01", source="central", on=date(2017, 2, 1)),
        "在 2017-03-01 的余额为 0.00 元",
        "amount",
    )
    refund(users, orgs, sources, "1000.00", source="central", on=date(2017, 6, 1))


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1989, 12, 31)])
def test_money_dated_before_1990_is_refused(receive, users, orgs, sources, day):
    receive("1000.00", source="donation", on=date(2018, 12, 1), document_number="捐〔2018〕1号")
    refuse(
        lambda: refund(users, orgs, sources, "1.00", source="donation", on=day),
        "日期不能早于1990年1月1日",
        "refunded_on",
    )


def test_refund_without_document_number_is_refused(receive, users, orgs, sources):
    receive("100.00")
    refuse(
        lambda: services.refund_record(
            user=users["finance_450102"],
            organisation=orgs["450102"],
            source=sources["central"],
            amount=D("10.00"),
            refunded_on=date(2016, 2, 1),
            document_number="",
        ),
        "收回通知文号",
        "document_number",
    )


# --- Reversals and the append-only ledger ------------------------------------------------


def test_a_mistaken_receipt_is_reversed_never_edited(receive, users, orgs, sources):
    receipt = receive("10000.00", on=date(2017, 1, 5))
    entry = receipt.entries.get()
    reversal = services.entry_reverse(
        user=users["finance_450102"], entry=entry, reason="金额录错，应为1000元"
    )
    assert reversal.kind == EntryKind.RECEIPT
    assert reversal.amount == D("-10000.00")
    assert reversal.reverses == entry
    assert reversal.receipt == receipt
    assert selectors.balance(organisation=orgs["450102"], source=sources["central"]) == D("0.00")
    statement = selectors.fund_statement(
        organisations=orgs["450102"].__class__.objects.filter(pk=orgs["450102"].pk),
        start=date(2017, 1, 1),
        end=timezone.localdate(),
    )
    assert statement["totals"]["received"] == D("0.00")
    # once only, and a reversal is not itself reversed
    refuse(
        lambda: services.entry_reverse(user=users["finance_450102"], entry=entry, reason="再冲"),
        "已冲销",
    )
    refuse(
        lambda: services.entry_reverse(user=users["finance_450102"], entry=reversal, reason="x"),
        "冲销分录不能再冲销",
    )


def test_a_reversal_needs_a_reason_and_the_right(receive, users):
    entry = receive("100.00").entries.get()
    refuse(
        lambda: services.entry_reverse(user=users["finance_450102"], entry=entry, reason=" "),
        "请填写冲销原因",
        "reason",
    )
    for username in ("clerk_450102", "supervisor_450102", "finance_450103"):
        with pytest.raises(PermissionDenied):
            services.entry_reverse(user=users[username], entry=entry, reason="x")
    assert LedgerEntry.objects.count() == 1


def test_reversing_a_receipt_cannot_take_money_already_spent(
    receive, filed, ask, approve, pay, users
):
    entry = receive("1000.00", on=date(2017, 1, 5)).entries.get()
    pay(approve(ask(filed(), "600.00", on=date(2017, 2, 1))), on=date(2017, 2, 2))
    refuse(
        lambda: services.entry_reverse(user=users["finance_450102"], entry=entry, reason="录错"),
        "可用余额不足",
        "amount",
    )


def test_reversing_a_receipt_may_not_overdraw_a_date_after_the_reversal(
    receive, filed, ask, approve, pay, users, orgs, sources
):
    first = receive("1000.00", on=date(2017, 1, 5)).entries.get()
    pay(approve(ask(filed(), "1000.00", on=date(2017, 2, 1))), on=date(2017, 2, 1))
    receive("1000.00", on=date(2017, 6, 1), document_number="桂财行〔2017〕9号")
    refuse(
        lambda: services.entry_reverse(
            user=users["finance_450102"], entry=first, reason="录错", entry_date=date(2017, 1, 20)
        ),
        "在 2017-02-01 的余额为 0.00 元",
        "amount",
    )
    services.entry_reverse(
        user=users["finance_450102"], entry=first, reason="录错", entry_date=date(2017, 6, 1)
    )
    assert selectors.balance(organisation=orgs["450102"], source=sources["central"]) == D("0.00")


def test_reversing_a_payment_returns_the_money_and_the_request_waits_again(
    receive, filed, ask, approve, pay, users, orgs, sources
):
    receive("1000.00", on=date(2017, 1, 5))
    request = approve(ask(filed(), "600.00", on=date(2017, 2, 1)))
    entry = pay(request, on=date(2017, 2, 2))
    services.entry_reverse(
        user=users["finance_450102"], entry=entry, reason="银行退回", entry_date=date(2017, 3, 1)
    )
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert selectors.balance(organisation=orgs["450102"], source=sources["central"]) == D("1000.00")
    pay(request, on=date(2017, 3, 2), reference="BANK-2")
    assert request.state == RequestState.PAID
    year = selectors.fund_statement(organisations=orgs["450102"].__class__.objects.all(), year=2017)
    assert year["totals"]["paid"] == D("600.00")
    assert year["types_total"]["payments"] == 1


def test_a_reversed_payment_leaves_the_request_unpaid_and_the_reversal_on_record(
    receive, filed, ask, approve, pay, users, login
):
    """After a reversal the request no longer names a payee nor who paid it (it waits to be
    paid again, to the account the file has then); the reversing entry keeps who reversed it,
    when and why, and the request's page says so."""
    receive("1000.00", on=date(2017, 1, 5))
    request = approve(ask(filed(), "600.00", on=date(2017, 2, 1)))
    entry = pay(request, on=date(2017, 2, 2))
    assert request.paid_by == users["finance_450102"] and request.paid_worker_name
    reversal = services.entry_reverse(
        user=users["finance_450102"], entry=entry, reason="银行退回", entry_date=date(2017, 3, 1)
    )
    request.refresh_from_db()
    payee = (
        request.paid_on,
        request.bank_reference,
        request.paid_worker_name,
        request.paid_bank_name,
        request.paid_bank_account,
        request.paid_bank_account_masked,
        request.paid_by,
    )
    assert payee == (None, "", "", "", "", "", None)
    assert (reversal.created_by, reversal.entry_date, reversal.reason) == (
        users["finance_450102"],
        date(2017, 3, 1),
        "银行退回",
    )
    assert reversal.created_at is not None
    page = login("finance_450102").get(reverse("funds:request_detail", args=[request.pk]))
    who = users["finance_450102"]
    assert f"2017-02-02 的发放已于 2017-03-01 冲销（{who}）：银行退回" in page.content.decode()


def test_a_reversal_in_a_later_year_lowers_that_year_amount_not_the_counts(
    receive, filed, ask, approve, pay, users, orgs
):
    """Per type, a payment counts in the period it was paid unless reversed by the period's end;
    a reversal dated later lowers that period's amount (as it does the "paid" line), not its
    counts: a year once reported keeps its figures."""
    receive("2000.00", on=date(2024, 1, 5))
    request = approve(ask(filed(), "500.00", on=date(2024, 6, 1)))
    entry = pay(request, on=date(2024, 6, 2))
    services.entry_reverse(
        user=users["finance_450102"], entry=entry, reason="银行退回", entry_date=date(2025, 1, 10)
    )
    pay(request, on=date(2025, 1, 20), reference="BANK-2")
    county = orgs["450102"].__class__.objects.filter(pk=orgs["450102"].pk)

    def figures(**period):
        statement = selectors.fund_statement(organisations=county, **period)
        (line,) = statement["types"]
        assert statement["types_total"]["amount"] == statement["totals"]["paid"]
        return line["households"], line["payments"], line["amount"]

    assert figures(year=2024) == (1, 1, D("500.00"))
    assert figures(year=2025) == (1, 1, D("0.00"))  # paid again, less the reversal
    assert figures(year=2025, cutoff=date(2025, 1, 15)) == (0, 0, D("-500.00"))
    both = {"start": date(2024, 1, 1), "end": date(2025, 12, 31)}
    assert figures(**both) == (1, 1, D("500.00"))  # the reversed payment is not counted


def test_a_cutoff_before_the_period_is_refused(orgs):
    county = orgs["450102"].__class__.objects.filter(pk=orgs["450102"].pk)
    with pytest.raises(ValidationError) as exc:
        selectors.fund_statement(organisations=county, year=2026, cutoff=date(2025, 12, 31))
    assert "早于统计期开始日期 2026-01-01" in exc.value.message_dict["cutoff"][0]


def test_a_reversal_cannot_be_dated_before_its_entry(receive, users):
    entry = receive("100.00", on=date(2017, 1, 5)).entries.get()
    refuse(
        lambda: services.entry_reverse(
            user=users["finance_450102"], entry=entry, reason="x", entry_date=date(2017, 1, 4)
        ),
        "不能早于原分录日期",
        "entry_date",
    )


def test_the_ledger_cannot_be_edited_or_deleted(receive):
    entry = receive("100.00").entries.get()
    entry.amount = D("1.00")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()
    # the database refuses too (a trigger), whatever the Python code does
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE funds_ledgerentry SET amount = 1 WHERE id = %s", [entry.pk])
    assert "append-only" in str(exc.value)
    entry.refresh_from_db()
    assert entry.amount == D("100.00")


def test_the_database_guards_the_sign_of_each_kind(receive, users, orgs, sources):
    receipt = receive("100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            organisation=orgs["450102"],
            source=sources["central"],
            kind=EntryKind.RECEIPT,
            amount=D("-5.00"),
            entry_date=date(2017, 1, 1),
            year=2017,
            receipt=receipt,
            created_by=users["finance_450102"],
        )


# --- Closed years ----------------------------------------------------------------------------


def test_entries_dated_in_a_closed_year_are_refused(receive, users, orgs, sources):
    receive("1000.00", on=date(2017, 1, 5))
    services.year_close(user=users["admin_450000"], organisation=orgs["450000"], year=2017)
    refuse(lambda: receive("5.00", on=date(2017, 12, 31)), "2017年度已由广西壮族自治区总工会结账")
    refuse(
        lambda: services.refund_record(
            user=users["finance_450102"],
            organisation=orgs["450102"],
            source=sources["central"],
            amount=D("5.00"),
            refunded_on=date(2017, 6, 1),
            document_number="x",
        ),
        "结账",
        "refunded_on",
    )
    receive("5.00", on=date(2018, 1, 1))  # the next year is open


def test_a_reversal_is_booked_in_an_open_year(receive, users, orgs):
    entry = receive("1000.00", on=date(2017, 1, 5)).entries.get()
    services.year_close(user=users["admin_450102"], organisation=orgs["450102"], year=2017)
    refuse(
        lambda: services.entry_reverse(
            user=users["finance_450102"], entry=entry, reason="x", entry_date=date(2017, 12, 1)
        ),
        "结账",
        "entry_date",
    )
    services.entry_reverse(
        user=users["finance_450102"], entry=entry, reason="x", entry_date=date(2018, 1, 2)
    )


def test_requests_dated_in_a_closed_year_are_refused(receive, filed, ask, users, orgs):
    receive("1000.00", on=date(2017, 1, 5))
    household = filed()
    services.year_close(user=users["admin_450102"], organisation=orgs["450102"], year=2017)
    refuse(
        lambda: ask(household, "100.00", on=date(2017, 6, 1)),
        "2017年度已由兴宁区总工会结账",
        "requested_on",
    )
    assert ask(household, "100.00", on=date(2018, 1, 2)).year == 2018  # the next year is open


def test_payments_in_a_closed_year_are_refused(receive, filed, ask, approve, users, orgs):
    receive("1000.00", on=date(2017, 1, 5))
    request = approve(ask(filed(), "100.00", on=date(2017, 2, 1)))
    services.year_close(user=users["admin_450102"], organisation=orgs["450102"], year=2017)
    refuse(
        lambda: services.payment_mark_paid(
            user=users["finance_450102"],
            request=request,
            paid_on=date(2017, 2, 2),
            bank_reference="B1",
        ),
        "结账",
        "paid_on",
    )


def test_closing_a_year_needs_the_admin_and_happens_once(users, orgs):
    with pytest.raises(PermissionDenied):
        services.year_close(user=users["finance_450102"], organisation=orgs["450102"], year=2017)
    with pytest.raises(PermissionDenied):
        services.year_close(user=users["admin_450103"], organisation=orgs["450102"], year=2017)
    services.year_close(user=users["admin_450000"], organisation=orgs["450000"], year=2017)
    with pytest.raises(ValidationError) as exc:
        services.year_close(user=users["admin_450102"], organisation=orgs["450102"], year=2017)
    assert "已由广西壮族自治区总工会结账" in exc.value.message_dict["year"][0]
    with pytest.raises(ValidationError):
        services.year_close(
            user=users["admin_450102"],
            organisation=orgs["450102"],
            year=timezone.localdate().year + 1,
        )
    with pytest.raises(ValidationError) as exc:  # the running year: its balance is not final
        services.year_close(
            user=users["admin_450102"], organisation=orgs["450102"], year=timezone.localdate().year
        )
    assert "只能结账已经结束的年度" in exc.value.message_dict["year"][0]
    assert ClosedYear.objects.count() == 1


def test_the_same_receipt_or_refund_twice_is_refused(receive, users, orgs, sources):
    first = receive("5000.00", document_number="桂财行〔2016〕9号")
    refuse(lambda: receive("5000.00", document_number="桂财行〔2016〕9号"), "请勿重复登记")
    receive("5000.00", document_number="桂财行〔2016〕10号")  # another document is another receipt

    def give_back():
        return services.refund_record(
            user=users["finance_450102"],
            organisation=orgs["450102"],
            source=sources["central"],
            amount=Decimal("100.00"),
            refunded_on=date(2016, 3, 1),
            document_number="收回〔2016〕1号",
        )

    give_back()
    refuse(give_back, "请勿重复登记", "document_number")
    # Reversed, the first no longer stands: the right one is entered again.
    services.entry_reverse(
        user=users["finance_450102"], entry=first.entries.get(), reason="金额录错"
    )
    receive("5000.00", document_number="桂财行〔2016〕9号")
