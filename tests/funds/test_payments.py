"""Payments: once only, to an open file, by someone other than the requester and approvers;
bank batch files out (read back with openpyxl) and return files in, all or nothing; loans."""

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from funds import bankfiles, selectors, services
from funds.models import (
    EntryKind,
    LedgerEntry,
    PaymentBatch,
    PaymentBatchLine,
    Repayment,
    RequestState,
)
from funds.timeline import timeline_entries
from households import services as household_services
from households.models import Household

D = Decimal
TODAY = timezone.localdate  # read when used: a run may cross midnight in Asia/Shanghai
YEAR = timezone.localdate().year


def snapshot():
    return (
        LedgerEntry.objects.count(),
        list(selectors.AssistanceRequest.objects.order_by("pk").values_list("state", flat=True)),
        list(PaymentBatchLine.objects.order_by("pk").values_list("result", flat=True)),
    )


def refuse(call, message, field=None):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        call()
    messages = exc.value.message_dict[field] if field else exc.value.messages
    assert any(message in text for text in messages), messages
    assert snapshot() == before
    return exc.value


@pytest.fixture
def approved(filed, receive, ask, approve):
    """Three approved requests of 1,000, 2,000 and 3,000 for three households."""
    receive("10000.00", on=date(YEAR, 1, 2))
    names = ["张小明", "王大力", "刘芳芳"]
    return [
        approve(ask(filed(worker_name=name), f"{(index + 1) * 1000}.00"))
        for index, name in enumerate(names)
    ]


# --- Paying one request ------------------------------------------------------------------


def test_payment_copies_name_and_account_from_the_file(approved, pay, orgs, sources):
    request = approved[0]
    entry = pay(request, on=TODAY(), reference="ICBC-20260101-1")
    assert (entry.kind, entry.amount, entry.request) == (EntryKind.PAYMENT, D("-1000.00"), request)
    assert request.state == RequestState.PAID
    assert (request.paid_worker_name, request.paid_bank_account) == (
        "张小明",
        "6222020200112233445",
    )
    assert request.paid_bank_account_masked == "622202*********3445"
    assert request.bank_reference == "ICBC-20260101-1"
    assert selectors.balance(organisation=orgs["450102"], source=sources["central"]) == D("9000.00")


def test_a_payment_is_never_marked_paid_twice(approved, pay):
    pay(approved[0])
    refuse(lambda: pay(approved[0]), "不能重复发放")


def test_only_approved_requests_are_paid(filed, receive, ask, pay):
    receive("1000.00", on=date(YEAR, 1, 2))
    request = ask(filed(), "100.00")
    refuse(lambda: pay(request), "只有已批准待发放的申请可以发放")


def test_no_payment_to_a_closed_file(approved, pay, users):
    household = approved[0].household
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="deregister",
        reason="迁出本市",
        deregistration_reason="moved",
        effective_date=TODAY(),
    )
    refuse(lambda: pay(approved[0], on=TODAY()), "不是在档或解困", "paid_on")


def test_segregation_of_duties_at_payment(approved, pay, users, add_user):
    both = users["supervisor_450102"]
    both.groups.add(users["finance_450102"].groups.get())
    both = type(both).objects.get(pk=both.pk)  # fresh permission cache
    refuse(
        lambda: services.payment_mark_paid(
            user=both, request=approved[0], paid_on=TODAY(), bank_reference="B"
        ),
        "不能为自己申请或审批的帮扶登记发放",
    )
    for username in ("clerk_450102", "viewer_450000", "finance_450103"):
        with pytest.raises(PermissionDenied):
            pay(approved[0], by=username)


def test_payment_date_and_reference_rules(approved, pay, users):
    request = approved[0]
    refuse(lambda: pay(request, on=TODAY() + timedelta(days=1)), "不能晚于今天", "paid_on")
    refuse(lambda: pay(request, on=request.requested_on - timedelta(days=1)), "早于申请日期")
    refuse(lambda: pay(request, reference=" "), "银行流水号", "bank_reference")


def test_a_payment_is_not_dated_before_its_approval(filed, receive, ask, approve, pay):
    receive("1000.00", on=date(2019, 1, 2))
    request = approve(ask(filed(), "500.00", on=date(2019, 3, 1)), on=date(2019, 6, 1))
    refuse(lambda: pay(request, on=date(2019, 5, 31)), "不能早于审批日期 2019-06-01", "paid_on")
    pay(request, on=date(2019, 6, 1))
    assert request.state == RequestState.PAID


def test_a_back_dated_payment_may_not_overdraw_its_source(filed, receive, ask, approve, pay):
    """Approved in March, but the money only arrived in December: it cannot be paid in March."""
    receive("500.00", on=date(2019, 12, 5))
    request = approve(ask(filed(), "500.00", on=date(2019, 3, 1)))
    refuse(
        lambda: pay(request, on=date(2019, 3, 2)),
        "中央财政在 2019-03-02 的余额为 0.00 元，不足以发放 500.00 元",
        "amount",
    )
    pay(request, on=date(2019, 12, 5))
    assert request.state == RequestState.PAID


def test_failed_payment_goes_back_to_the_clerk(approved, users, pay, orgs, sources):
    request = approved[0]
    services.payment_mark_failed(user=users["finance_450102"], request=request, reason="户名不符")
    request.refresh_from_db()
    assert request.state == RequestState.FAILED
    assert request in selectors.failed_payments(user=users["clerk_450102"])
    # still committed: the money waits for the corrected account
    assert selectors.committed(organisation=orgs["450102"], source=sources["central"]) == D(
        "6000.00"
    )
    services.request_retry(user=users["clerk_450102"], request=request)
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    pay(request)


def test_a_failed_payment_records_who_when_and_why_and_keeps_them_once_paid(approved, users, pay):
    """A failure, by hand or from the bank's return file, is a state change of the payment like
    any other: who recorded it, when and why stay on the request, also after it is paid."""
    request = approved[0]
    finance = users["finance_450102"]
    services.payment_mark_failed(user=finance, request=request, reason="户名不符")
    request.refresh_from_db()
    assert (request.failed_by, request.failure_reason) == (finance, "户名不符")
    assert request.failed_at is not None
    services.request_retry(user=users["clerk_450102"], request=request)
    pay(request)
    assert (request.failed_by, request.failure_reason) == (finance, "户名不符")
    (failure,) = [
        entry
        for entry in timeline_entries(request.household, finance)
        if entry["kind"] == "assistance_payment_failed"
    ]
    assert (failure["actor"], failure["detail"]) == (str(finance), "户名不符")


def test_sending_a_failed_payment_again_records_who_and_when(approved, users, login):
    """A failed request sent back to approved (the account corrected) is a state change of the
    payment: who did it and when are on the request, its page and the file's timeline."""
    request = approved[0]
    clerk = users["clerk_450102"]
    services.payment_mark_failed(user=users["finance_450102"], request=request, reason="户名不符")
    services.request_retry(user=clerk, request=request)
    request.refresh_from_db()
    assert (request.state, request.retried_by) == (RequestState.APPROVED, clerk)
    assert timezone.localdate(request.retried_at) == TODAY()
    when = timezone.localtime(request.retried_at).strftime("%Y-%m-%d %H:%M")
    page = login("finance_450102").get(reverse("funds:request_detail", args=[request.pk]))
    assert f"{clerk} 于 {when} 确认账号已更正，重新列入待发放。" in page.content.decode()
    (retried,) = [
        entry
        for entry in timeline_entries(request.household, clerk)
        if entry["kind"] == "assistance_payment_retried"
    ]
    assert retried["title"] == "其他 1,000.00 元账号已更正，重新发放"
    assert (retried["date"], retried["actor"]) == (request.retried_at, str(clerk))


# --- Bank batch file out -------------------------------------------------------------------


def test_batch_file_lists_approved_unpaid_with_a_control_total(approved, users, orgs, filed):
    sneaky = approved[2].household
    sneaky.bank_name = '=HYPERLINK("http://x")'
    sneaky.save(update_fields=["bank_name"])
    batch, skipped = services.batch_create(
        user=users["finance_450102"], organisation=orgs["450102"]
    )
    assert skipped == []
    assert (batch.line_count, batch.total) == (3, D("6000.00"))
    wb = load_workbook(BytesIO(bankfiles.batch_workbook(batch)))
    ws = wb["代发明细"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == bankfiles.BATCH_HEADER
    first = rows[1]
    household = approved[0].household
    assert first[1] == "张小明"
    assert first[2] == household.id_number  # the bank needs the full number
    assert first[3] == "6222020200112233445"
    assert ws.cell(row=2, column=4).data_type == "s"  # text, never a float
    assert D(str(first[5])) == D("1000.00")
    assert first[6] == f"{batch.number}-0001"
    assert rows[3][4] == '\'=HYPERLINK("http://x")'  # formula injection neutralised
    total = rows[-1]
    assert total[0] == "合计" and total[1] == "3笔" and D(str(total[5])) == D("6000.00")
    assert sum(D(str(row[5])) for row in rows[1:-1]) == D(str(total[5]))


def test_a_request_is_in_one_pending_batch_only(approved, users, orgs, pay):
    services.batch_create(user=users["finance_450102"], organisation=orgs["450102"])
    refuse(
        lambda: services.batch_create(user=users["finance_450102"], organisation=orgs["450102"]),
        "没有可以代发的已批准申请",
    )
    refuse(lambda: pay(approved[0]), "请以银行回盘结果登记")
    refuse(
        lambda: services.request_cancel(
            user=users["clerk_450102"], request=approved[0], reason="x"
        ),
        "待银行回盘",
    )
    # Marked failed by hand, the bank's "paid" could no longer be booked.
    refuse(
        lambda: services.payment_mark_failed(
            user=users["finance_450102"], request=approved[0], reason="账号错误"
        ),
        "请以银行回盘结果登记",
    )
    approved[0].refresh_from_db()
    assert approved[0].state == "approved"


def test_files_without_account_or_closed_are_left_out(approved, users, orgs):
    Household.objects.filter(pk=approved[0].household_id).update(bank_account="")
    batch, skipped = services.batch_create(
        user=users["finance_450102"], organisation=orgs["450102"]
    )
    assert batch.line_count == 2
    assert len(skipped) == 1 and "未登记银行账号" in skipped[0]


def test_batch_needs_finance_of_the_subtree(approved, users, orgs):
    for username in ("clerk_450102", "supervisor_450102", "finance_450103"):
        with pytest.raises(PermissionDenied):
            services.batch_create(user=users[username], organisation=orgs["450102"])
    assert PaymentBatch.objects.count() == 0


# --- Bank return file in ------------------------------------------------------------------


def return_file(rows, header=("业务参考号", "结果", "失败原因", "银行流水号")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buffer = BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(
        "return.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@pytest.fixture
def batch(approved, users, orgs):
    made, _ = services.batch_create(user=users["finance_450102"], organisation=orgs["450102"])
    return made


def reconcile(batch, users, rows, **kwargs):
    parsed = bankfiles.read_return_file(return_file(rows, **kwargs))
    return services.batch_reconcile(
        user=users["finance_450102"], batch=batch, rows=parsed, paid_on=TODAY(), file_name="r.xlsx"
    )


def test_return_file_marks_paid_and_failed(batch, users, approved):
    refs = list(batch.lines.order_by("id").values_list("reference", flat=True))
    counts = reconcile(
        batch,
        users,
        [
            (refs[0], "成功", "", "ICBC001"),
            (refs[1], "失败", "账号不存在", ""),
            (refs[2], "success", "", "ICBC003"),
        ],
    )
    assert counts == {"paid": 2, "failed": 1, "flagged": []}
    states = [r.state for r in selectors.AssistanceRequest.objects.order_by("pk")]
    assert states == [RequestState.PAID, RequestState.FAILED, RequestState.PAID]
    first = selectors.AssistanceRequest.objects.get(pk=approved[0].pk)
    assert first.bank_reference == "ICBC001"
    assert first.paid_on == TODAY()
    second = selectors.AssistanceRequest.objects.get(pk=approved[1].pk)
    assert second.failure_reason == "账号不存在"
    assert second.failed_by == users["finance_450102"] and second.failed_at is not None
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.RECONCILED
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 2
    # the same file again: never paid twice, nothing changes
    refuse(
        lambda: reconcile(batch, users, [(refs[0], "成功", "", "ICBC001")]),
        "不能重复发放",
    )


def test_the_import_is_all_or_nothing(batch, users):
    refs = list(batch.lines.order_by("id").values_list("reference", flat=True))
    error = refuse(
        lambda: reconcile(
            batch,
            users,
            [
                (refs[0], "成功", "", "ICBC001"),
                ("NO-SUCH-REF", "成功", "", "X"),
                (refs[1], "失败", "", ""),
                (refs[0], "成功", "", "ICBC001"),
            ],
        ),
        "第3行：业务参考号 NO-SUCH-REF 不属于批次",
    )
    assert "第4行：失败的须注明原因（如账号错误、户名不符）。" in error.messages
    assert f"第5行：业务参考号 {refs[0]} 重复。" in error.messages


def test_a_service_refusal_in_one_row_rolls_back_the_others(
    approved, filed, ask, approve, users, orgs, add_user
):
    """The fourth line's request was approved by the officer who imports the return file:
    its row is refused by the payment service and the three rows before it are not booked."""
    officer = add_user("supervisor2_450102", "450102", "supervisor")
    officer.groups.add(users["finance_450102"].groups.get())
    officer = type(officer).objects.get(pk=officer.pk)  # fresh permission cache
    approve(ask(filed(worker_name="陈一"), "500.00"), by="supervisor2_450102")
    made, _ = services.batch_create(user=users["finance_450102"], organisation=orgs["450102"])
    refs = list(made.lines.order_by("id").values_list("reference", flat=True))
    rows = bankfiles.read_return_file(return_file([(ref, "成功", "", ref) for ref in refs]))
    refuse(
        lambda: services.batch_reconcile(user=officer, batch=made, rows=rows, paid_on=TODAY()),
        "第5行：不能为自己申请或审批的帮扶登记发放",
    )
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 0


@pytest.fixture
def sent_days_ago(filed, receive, ask, approve, users, orgs):
    """sent_days_ago(5): one request of 1,000 asked and approved ten days ago, in a bank file
    made `days` ago."""

    def _sent(days):
        receive("10000.00", on=TODAY() - timedelta(days=20))
        asked_on = TODAY() - timedelta(days=10)
        request = approve(ask(filed(), "1000.00", on=asked_on))
        made, _ = services.batch_create(user=users["finance_450102"], organisation=orgs["450102"])
        sent = timezone.now() - timedelta(days=days)
        PaymentBatch.objects.filter(pk=made.pk).update(created_at=sent)
        made.refresh_from_db()
        return made, request

    return _sent


def test_a_file_exited_after_its_bank_file_was_sent_is_still_paid_by_the_bank(sent_days_ago, users):
    """The bank file was made while the file was on file: the bank's payment, made after the
    file was exited, is booked (the money has gone), on the day the bank paid."""
    made, request = sent_days_ago(5)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=TODAY() - timedelta(days=2),
    )
    ref = made.lines.get().reference
    counts = reconcile(made, users, [(ref, "成功", "", "ICBC001")])
    assert counts == {"paid": 1, "failed": 0, "flagged": []}
    request.refresh_from_db()
    assert (request.state, request.paid_on) == (RequestState.PAID, TODAY())


@pytest.mark.parametrize("days_before", [0, 2], ids=["exit-that-day", "exit-back-dated"])
def test_a_bank_payment_to_a_file_exited_by_the_day_its_bank_file_was_made_is_booked_and_flagged(
    sent_days_ago, users, login, days_before
):
    """An exit recorded after the export, effective on the day the bank file was made or
    back-dated before it: the bank paid, the money has left the account, so the payment is
    booked (never refused, which left the line pending and its request stuck) and flagged on
    the request and in the result for finance to follow up."""
    made, request = sent_days_ago(3)
    sent_on = timezone.localdate(made.created_at)
    exited_on = sent_on - timedelta(days=days_before)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=exited_on,
    )
    ref = made.lines.get().reference
    counts = reconcile(made, users, [(ref, "成功", "", "ICBC001")])
    flag = (
        f"银行已按代发批次 {made.number}（{sent_on} 生成）发放，但档案 "
        f"{request.household.file_number} 自 {exited_on} 起为“脱困”：已按回盘入账，请核查。"
    )
    assert counts == {"paid": 1, "failed": 0, "flagged": [f"第2行：{flag}"]}
    request.refresh_from_db()
    assert (request.state, request.paid_on) == (RequestState.PAID, TODAY())
    assert request.entries.get(kind=EntryKind.PAYMENT).amount == D("-1000.00")
    assert made.lines.get().result == "paid"
    assert request.warnings[-1] == flag
    page = login("finance_450102").get(reverse("funds:request_detail", args=[request.pk]))
    assert flag in page.content.decode()


def test_the_flag_of_a_reversed_bank_payment_to_a_closed_file_is_shown_settled_not_open(
    sent_days_ago, users, login
):
    """The flag asking to review a bank payment to a closed file stays on record, but once the
    payment is reversed the request's page shows it settled by the reversal (when, by whom),
    not as a warning still to act on."""
    made, request = sent_days_ago(3)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=timezone.localdate(made.created_at),
    )
    reconcile(made, users, [(made.lines.get().reference, "成功", "", "ICBC001")])
    request.refresh_from_db()
    flag = request.warnings[-1]
    client = login("finance_450102")
    url = reverse("funds:request_detail", args=[request.pk])
    assert f'<li class="message warning">{flag}</li>' in client.get(url).content.decode()
    services.entry_reverse(
        user=users["finance_450102"],
        entry=request.entries.get(kind=EntryKind.PAYMENT),
        reason="退回核查",
    )
    request.refresh_from_db()
    assert request.warnings[-1] == flag  # kept: what was said
    html = client.get(url).content.decode()
    assert f'<li class="message warning">{flag}</li>' not in html
    who = users["finance_450102"]
    settled = f"已了结：该发放已于 {TODAY():%Y-%m-%d} 冲销（{who}）。 {flag}"
    assert settled in html


@pytest.mark.parametrize(
    "language, mark",
    [
        ("zh-hans", "代发时档案不在档，请核查"),
        ("en", "Not on file when the bank file was made: review"),
    ],
)
def test_the_file_timeline_marks_a_bank_payment_to_a_file_closed_when_its_bank_file_was_made(
    sent_days_ago, users, login, language, mark
):
    """The file's history shows which payment the bank made after the file had closed, in the
    reader's language; reversed, the payment (and its mark) leaves the request."""
    made, request = sent_days_ago(3)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=timezone.localdate(made.created_at),
    )
    reconcile(made, users, [(made.lines.get().reference, "成功", "", "ICBC001")])
    request.refresh_from_db()
    assert request.paid_to_closed_file
    client = login("finance_450102")
    client.cookies["django_language"] = language
    page = client.get(reverse("households:detail", args=[request.household.pk]))
    (payment,) = [e for e in page.context["timeline"] if e["kind"] == "assistance_payment"]
    assert payment["flags"] == [mark]
    assert f'<span class="tag">{mark}</span>' in page.content.decode()
    services.entry_reverse(
        user=users["finance_450102"],
        entry=request.entries.get(kind=EntryKind.PAYMENT),
        reason="退回核查",
    )
    request.refresh_from_db()
    assert not request.paid_to_closed_file


@pytest.mark.parametrize(
    "username, found",
    [("finance_450102", True), ("viewer_450100", True), ("finance_450103", False)],
)
def test_finance_finds_the_bank_payments_to_closed_files_of_its_subtree(
    sent_days_ago, filed, ask, approve, pay, users, login, username, found
):
    """The request list (and the admin's) filters the payments the bank made to a file not on
    file when its bank file was made, for review later; each user sees those of their subtree."""
    made, request = sent_days_ago(3)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=timezone.localdate(made.created_at),
    )
    reconcile(made, users, [(made.lines.get().reference, "成功", "", "ICBC001")])
    other = approve(ask(filed(worker_name="王大力"), "500.00"))
    pay(other)  # to a file on file
    client = login(username)
    page = client.get(reverse("funds:request_list"), {"review": "paid_to_closed_file"})
    assert [r.pk for r in page.context["object_list"]] == ([request.pk] if found else [])
    everything = client.get(reverse("funds:request_list"))
    assert {r.pk for r in everything.context["object_list"]} == (
        {request.pk, other.pk} if found else set()
    )
    if users[username].is_staff:
        admin = client.get(
            reverse("admin:funds_assistancerequest_changelist"), {"paid_to_closed_file__exact": "1"}
        )
        assert [r.pk for r in admin.context["cl"].result_list] == ([request.pk] if found else [])


def test_a_reversed_payment_of_a_file_closed_since_is_found_marked_and_kept_out_of_bank_files(
    receive, filed, ask, approve, pay, users, orgs, sources, login
):
    """A payment reversed after its file was exited waits to be paid again, but the file no
    longer takes payments made now: finance finds it (待核查) and sees why on its page, the bank
    file leaves it out, and its money stays reserved until it is paid (dated while the file was
    on file, a booking corrected) or cancelled. A file still on file is paid again as usual."""
    finance = users["finance_450102"]
    receive("2000.00", on=TODAY() - timedelta(days=30))
    closed = approve(ask(filed(), "600.00"))
    on_file = approve(ask(filed(worker_name="王大力"), "500.00"))
    entries = [pay(closed), pay(on_file)]
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=closed.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=TODAY(),
    )
    for entry in entries:
        services.entry_reverse(user=finance, entry=entry, reason="银行退回")
    account = {"organisation": orgs["450102"], "source": sources["central"]}
    assert selectors.balance(**account) == Decimal("2000.00")
    assert selectors.committed(**account) == Decimal("1100.00")
    client = login("finance_450102")
    page = client.get(reverse("funds:request_list"), {"review": "unpaid_closed_file"})
    assert [r.pk for r in page.context["object_list"]] == [closed.pk]
    assert "档案不在档" in page.content.decode()
    detail = client.get(reverse("funds:request_detail", args=[closed.pk])).content.decode()
    assert "档案当前为“脱困”" in detail
    other = client.get(reverse("funds:request_detail", args=[on_file.pk])).content.decode()
    assert "档案当前为" not in other
    batch, skipped = services.batch_create(user=finance, organisation=orgs["450102"])
    assert [line.request_id for line in batch.lines.all()] == [on_file.pk]
    assert len(skipped) == 1 and closed.household.file_number in skipped[0]
    with pytest.raises(ValidationError):
        pay(closed, reference="BANK-2")
    services.request_cancel(user=finance, request=closed, reason="档案已脱困，不再发放")
    assert selectors.committed(**account) == Decimal("500.00")
    assert selectors.balance(**account) == Decimal("2000.00")


def test_a_bank_payment_to_a_file_on_file_when_its_bank_file_was_made_is_not_marked(
    sent_days_ago, users
):
    made, request = sent_days_ago(5)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=TODAY() - timedelta(days=2),
    )
    reconcile(made, users, [(made.lines.get().reference, "成功", "", "ICBC001")])
    request.refresh_from_db()
    assert (request.state, request.paid_to_closed_file) == (RequestState.PAID, False)
    (payment,) = [
        entry
        for entry in timeline_entries(request.household, users["finance_450102"])
        if entry["kind"] == "assistance_payment"
    ]
    assert payment["flags"] == []


@pytest.mark.parametrize(
    "language, flagged",
    [
        (
            "zh-hans",
            "第2行：银行已按代发批次 {batch}（{made} 生成）发放，但档案 {number} 自 {made} 起"
            "为“脱困”：已按回盘入账，请核查。",
        ),
        (
            "en",
            "Row 2: The bank paid it in batch {batch} (made on {made}), but file {number} has "
            "been “Exited” since {made}: booked as the return file says, please review.",
        ),
    ],
)
def test_the_return_file_page_warns_of_each_payment_to_a_file_closed_when_its_bank_file_was_made(
    sent_days_ago, users, login, language, flagged
):
    """Uploaded on the batch's page, the import says which rows were paid to a file not on file
    when the bank file was made, as a warning in the reader's language beside its counts."""
    made, request = sent_days_ago(3)
    sent_on = timezone.localdate(made.created_at)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=sent_on,
    )
    ref = made.lines.get().reference
    client = login("finance_450102")
    client.cookies["django_language"] = language
    response = client.post(
        reverse("funds:batch_detail", args=[made.pk]),
        {"file": return_file([(ref, "成功", "", "ICBC001")]), "paid_on": TODAY().isoformat()},
        follow=True,
    )
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    flagged = flagged.format(batch=made.number, made=sent_on, number=request.household.file_number)
    assert shown[1:] == [("warning", flagged)]
    assert shown[0][0] == "success"
    assert flagged in response.content.decode()


def test_a_bank_failure_of_a_file_exited_the_day_its_bank_file_was_made_can_be_cancelled(
    sent_days_ago, users
):
    """The failed return of such a line is booked too; the request then leaves the bank file
    and is cancelled with a reason (it is not sent again: the file is closed)."""
    made, request = sent_days_ago(3)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=timezone.localdate(made.created_at),
    )
    ref = made.lines.get().reference
    counts = reconcile(made, users, [(ref, "失败", "账户已销户", "")])
    assert counts == {"paid": 0, "failed": 1, "flagged": []}
    request.refresh_from_db()
    assert request.state == RequestState.FAILED
    services.request_cancel(user=users["clerk_450102"], request=request, reason="档案已退出")
    request.refresh_from_db()
    assert (request.state, request.cancelled_by) == (RequestState.CANCELLED, users["clerk_450102"])
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


def test_a_return_dated_before_its_bank_file_was_made_is_refused_naming_the_row(
    sent_days_ago, users
):
    made, _request = sent_days_ago(3)
    ref = made.lines.get().reference
    sent_on = timezone.localdate(made.created_at)
    before = sent_on - timedelta(days=1)
    header = ("业务参考号", "结果", "失败原因", "银行流水号", "交易日期")
    error = refuse(
        lambda: reconcile(made, users, [(ref, "成功", "", "ICBC001", before)], header=header),
        "第2行：",
    )
    assert error.messages == [
        f"第2行：日期 {before} 早于代发批次 {made.number} 的生成日期 {sent_on}。"
    ]
    # The date on the form stands for the rows that have none.
    rows = bankfiles.read_return_file(return_file([(ref, "成功", "", "ICBC001")]))
    error = refuse(
        lambda: services.batch_reconcile(
            user=users["finance_450102"], batch=made, rows=rows, paid_on=before
        ),
        f"发放日期 {before} 早于代发批次 {made.number} 的生成日期 {sent_on}。",
        field="paid_on",
    )
    counts = reconcile(made, users, [(ref, "成功", "", "ICBC001", sent_on)], header=header)
    assert counts == {"paid": 1, "failed": 0, "flagged": []}


def test_amount_column_must_match(batch, users):
    ref = batch.lines.order_by("id").values_list("reference", flat=True)[0]
    refuse(
        lambda: reconcile(
            batch,
            users,
            [(ref, "成功", "", "A", 999)],
            header=("参考号", "结果", "原因", "流水号", "金额"),
        ),
        "与代发金额 1,000.00 不符",
    )


def test_an_amount_out_of_range_is_refused_quoting_the_cell_shortened(batch, users):
    """A bank file's amount beyond what a money column holds is refused when the file is read,
    and the message quotes the cell, shortened: 1e9999999 once made a 13 MB error page."""
    refs = list(batch.lines.order_by("id").values_list("reference", flat=True))
    file = return_file(
        [
            (refs[0], "成功", "", "A", "1e9999999"),
            (refs[1], "成功", "", "B", "9" * 100),
            (refs[2], "成功", "", "C", 1e300),
            ("X", "成功", "", "D", "abc" * 50),
        ],
        header=("业务参考号", "结果", "失败原因", "银行流水号", "金额"),
    )
    with pytest.raises(ValidationError) as exc:
        bankfiles.read_return_file(file)
    assert exc.value.message_dict["file"] == [
        "第2行：金额“1e9999999”过大。",
        f"第3行：金额“{'9' * 39}…”过大。",
        "第4行：金额“1e+300”过大。",
        f"第5行：金额“{'abc' * 13}…”不是数字。",
    ]


def test_unreadable_return_files(batch, users):
    with pytest.raises(ValidationError) as exc:
        bankfiles.read_return_file(SimpleUploadedFile("x.xlsx", b"not a workbook"))
    assert "无法读取回盘文件" in exc.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as exc:
        bankfiles.read_return_file(return_file([("a", "成功")], header=("姓名", "结果")))
    assert "缺少以下列：“业务参考号”" in exc.value.message_dict["file"][0]


def test_a_return_file_with_a_damaged_sheet_is_refused_on_the_form(batch, login):
    """A read-only workbook parses its sheet only when the rows are read: a truncated sheet got
    past the opening and failed there (error 500)."""
    import zipfile

    good, damaged = BytesIO(return_file([("x", "成功")]).read()), BytesIO()
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    client = login("finance_450102")
    client.raise_request_exception = False
    response = client.post(
        reverse("funds:batch_detail", args=[batch.pk]),
        {"file": SimpleUploadedFile("r.xlsx", damaged.getvalue()), "paid_on": TODAY().isoformat()},
    )
    assert response.status_code == 200
    assert "无法读取回盘文件" in response.content.decode()


def test_our_own_file_returned_with_results_appended(batch, users):
    """The bank may send our file back with 结果 and 失败原因 columns added."""
    wb = load_workbook(BytesIO(bankfiles.batch_workbook(batch)))
    ws = wb["代发明细"]
    ws.cell(row=1, column=9, value="结果")
    ws.cell(row=1, column=10, value="失败原因")
    for row in range(2, ws.max_row):
        ws.cell(row=row, column=9, value="成功")
    buffer = BytesIO()
    wb.save(buffer)
    rows = bankfiles.read_return_file(SimpleUploadedFile("back.xlsx", buffer.getvalue()))
    assert len(rows) == 3 and all(row.amount is not None for row in rows)
    counts = services.batch_reconcile(
        user=users["finance_450102"], batch=batch, rows=rows, paid_on=TODAY()
    )
    assert counts == {"paid": 3, "failed": 0, "flagged": []}


# --- Small loans ------------------------------------------------------------------------------


def test_a_small_loan_is_repaid_into_its_source(
    filed, receive, ask, approve, pay, users, orgs, sources
):
    receive("10000.00", source="upper_union", on=date(YEAR, 1, 2))
    loan = approve(ask(filed(), "5000.00", kind="small_loan", source="upper_union"))
    pay(loan)
    repayment = services.repayment_record(
        user=users["finance_450102"], request=loan, amount=D("3000.00"), repaid_on=TODAY()
    )
    assert repayment.entries.get().amount == D("3000.00")
    assert selectors.balance(organisation=orgs["450102"], source=sources["upper_union"]) == D(
        "8000.00"
    )
    with pytest.raises(ValidationError) as exc:
        services.repayment_record(
            user=users["finance_450102"], request=loan, amount=D("2000.01"), repaid_on=TODAY()
        )
    assert "不能超过借款金额" in exc.value.message_dict["amount"][0]
    assert Repayment.objects.count() == 1
    statement = selectors.fund_statement(
        organisations=orgs["450102"].__class__.objects.filter(pk=orgs["450102"].pk), year=YEAR
    )
    assert statement["totals"]["repaid"] == D("3000.00")
    assert statement["totals"]["closing"] == D("8000.00")


def test_a_loan_is_reversed_once_its_repayments_are_reversed(
    filed, receive, ask, approve, pay, users
):
    """Only a live repayment keeps a loan's payment from being reversed: one reversed itself
    (booked in error) no longer does."""
    finance = users["finance_450102"]
    receive("10000.00", source="upper_union", on=date(YEAR, 1, 2))
    loan = approve(ask(filed(), "5000.00", kind="small_loan", source="upper_union"))
    payment = pay(loan)
    repayment = services.repayment_record(
        user=finance, request=loan, amount=D("1000.00"), repaid_on=TODAY()
    )
    refuse(
        lambda: services.entry_reverse(user=finance, entry=payment, reason="借款发放有误"),
        "该借款已有还款记录",
    )
    services.entry_reverse(user=finance, entry=repayment.entries.get(), reason="还款登记有误")
    services.entry_reverse(user=finance, entry=payment, reason="借款发放有误")
    loan.refresh_from_db()
    assert loan.state == RequestState.APPROVED


def test_only_loans_are_repaid(approved, pay, users):
    pay(approved[0])
    with pytest.raises(ValidationError) as exc:
        services.repayment_record(
            user=users["finance_450102"], request=approved[0], amount=D("1.00"), repaid_on=TODAY()
        )
    assert "只有借款类帮扶" in exc.value.messages[0]


# --- Masked payee accounts ---------------------------------------------------------------


def test_the_migration_masks_the_short_payee_accounts_stored_before_again(
    approved, pay, users, orgs
):
    """A payment and a bank file line keep a masked copy of the account they were paid to: an
    account of 11 to 17 digits masked as its first 6 and last 4 (622202**3456) is masked again
    as orgs.pii.mask does now, in the payment's history too."""
    from importlib import import_module

    from django.apps import apps

    from funds.models import AssistanceRequest
    from orgs.pii import mask

    short, old = "622202123456", "622202**3456"
    for request in approved:
        Household.objects.filter(pk=request.household_id).update(
            bank_account=short, bank_account_masked=mask(short)
        )
    pay(approved[0])
    services.batch_create(user=users["finance_450102"], organisation=orgs["450102"])
    paid = AssistanceRequest.objects.filter(pk=approved[0].pk)
    lines = PaymentBatchLine.objects.all()
    assert paid.get().paid_bank_account_masked == "62******3456" == mask(short)
    assert [line.bank_account_masked for line in lines] == ["62******3456"] * 2
    paid.update(paid_bank_account_masked=old)  # as they were stored before
    history = AssistanceRequest.history.filter(id=approved[0].pk).exclude(
        paid_bank_account_masked=""
    )
    history.update(paid_bank_account_masked=old)
    lines.update(bank_account_masked=old)
    import_module("funds.migrations.0010_short_bank_accounts_masked").remask_accounts(apps, None)
    assert paid.get().paid_bank_account_masked == mask(short)
    assert set(history.values_list("paid_bank_account_masked", flat=True)) == {mask(short)}
    assert set(lines.values_list("bank_account_masked", flat=True)) == {mask(short)}


def test_the_migration_marks_the_bank_payments_to_closed_files_booked_before(
    sent_days_ago, users, approved
):
    """Booked before the mark existed, such a payment is found by the warning it left."""
    from importlib import import_module

    from django.apps import apps

    from funds.models import AssistanceRequest

    made, request = sent_days_ago(3)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=request.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=timezone.localdate(made.created_at),
    )
    refs = made.lines.values_list("reference", flat=True)
    assert reconcile(made, users, [(ref, "成功", "", ref) for ref in refs])["paid"] == 4
    AssistanceRequest.objects.update(paid_to_closed_file=False)  # as they were stored before
    import_module("funds.migrations.0014_request_paid_to_closed_file").mark(apps, None)
    marked = AssistanceRequest.objects.filter(paid_to_closed_file=True)
    assert list(marked.values_list("pk", flat=True)) == [request.pk]
