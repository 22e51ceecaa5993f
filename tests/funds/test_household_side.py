"""The household side and "my work": the file's timeline shows its requests and payments; the
panels show what each role has to do; the demo standards seed idempotently."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from funds import demo, services, work
from funds.models import AssistanceRequest, AssistanceStandard, RequestState
from funds.timeline import timeline_entries

D = Decimal
YEAR = timezone.localdate().year


def test_the_timeline_shows_requests_approvals_and_payments(
    filed, receive, ask, approve, pay, users
):
    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed()
    paid = approve(ask(household, "800.00", kind="medical"), reason="同意")
    pay(paid, reference="ICBC-1")
    ask(household, "500.00", kind="living")
    entries = timeline_entries(household, users["clerk_450102"])
    kinds = sorted(entry["kind"] for entry in entries)
    assert kinds == [
        "assistance_approval",
        "assistance_payment",
        "assistance_request",
        "assistance_request",
    ]
    payment = next(e for e in entries if e["kind"] == "assistance_payment")
    assert payment["title"] == "发放医疗救助 800.00 元（中央财政）"
    assert "622202*********3445" in payment["detail"] and "ICBC-1" in payment["detail"]
    assert "6222020200112233445" not in payment["detail"]
    assert payment["url"] == f"/funds/requests/{paid.pk}/"
    assert all({"date", "kind", "title", "detail", "url"} <= set(e) for e in entries)
    # the other county and roles without the permission see nothing
    assert timeline_entries(household, users["clerk_450103"]) == []
    assert timeline_entries(household, users["admin_450102"]) == []


def test_the_timeline_keeps_a_reversed_payment_with_who_reversed_it_and_why(
    filed, receive, ask, approve, pay, users
):
    """The request shows a reversed payment no more; the file's trail keeps it: when, who and
    why it was reversed, and the payment's own date."""
    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed()
    request = approve(ask(household, "800.00", kind="medical"))
    entry = pay(request)
    services.entry_reverse(user=users["finance_450102"], entry=entry, reason="银行退回：户名不符")
    (reversed_,) = [
        e
        for e in timeline_entries(household, users["clerk_450102"])
        if e["kind"] == "assistance_payment_reversed"
    ]
    assert reversed_["title"] == f"医疗救助 800.00 元的发放（{entry.entry_date}）已冲销"
    assert (reversed_["date"], reversed_["detail"], reversed_["actor"]) == (
        timezone.localdate(),
        "银行退回：户名不符",
        str(users["finance_450102"]),
    )


def test_the_timeline_marks_a_reversed_loan_repayment_with_who_reversed_it_and_why(
    filed, receive, ask, approve, pay, users
):
    """A repayment booked in error and reversed stays on the file's trail, marked reversed, and
    the reversal says when, by whom and why, as a reversed payment does."""
    finance = users["finance_450102"]
    receive("10000.00", source="upper_union", on=date(YEAR, 1, 2))
    household = filed()
    loan = approve(ask(household, "5000.00", kind="small_loan", source="upper_union"))
    pay(loan)
    services.repayment_record(
        user=finance, request=loan, amount=D("500.00"), repaid_on=timezone.localdate()
    )
    wrong = services.repayment_record(
        user=finance, request=loan, amount=D("1000.00"), repaid_on=timezone.localdate()
    )
    services.entry_reverse(user=finance, entry=wrong.entries.get(), reason="重复登记")
    entries = timeline_entries(household, users["clerk_450102"])
    repayments = {
        e["title"]: e.get("flags", []) for e in entries if e["kind"] == "assistance_repayment"
    }
    assert repayments == {"归还借款 500.00 元": [], "归还借款 1,000.00 元": ["已冲销"]}
    (reversed_,) = [e for e in entries if e["kind"] == "assistance_repayment_reversed"]
    assert reversed_["title"] == f"归还借款 1,000.00 元（{wrong.repaid_on}）已冲销"
    assert (reversed_["date"], reversed_["detail"], reversed_["actor"]) == (
        timezone.localdate(),
        "重复登记",
        str(finance),
    )


def panels_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return {panel["title"]: panel for panel in work.panels(request)}


def test_the_english_timeline_names_the_assistance_as_a_label(
    filed, receive, ask, approve, pay, users
):
    """ "Requested Living aid of …": an assistance type's name is a label, capitalised; the
    English lines put it after a colon instead of mid-sentence. Chinese reads as before."""
    from django.utils import translation

    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed()
    paid = approve(ask(household, "1000.00", kind="living"), reason="同意")
    pay(paid, reference="ICBC-1")
    failed = approve(ask(household, "800.00", kind="medical"), reason="同意")
    services.payment_mark_failed(user=users["finance_450102"], request=failed, reason="户名不符")
    with translation.override("en"):
        titles = {e["kind"]: e["title"] for e in timeline_entries(household, users["clerk_450102"])}
    assert titles["assistance_request"].startswith("Request: ")
    paid_title = "Paid: Living aid, 1,000.00 yuan (Central government funds)"
    assert titles["assistance_payment"] == paid_title
    assert titles["assistance_payment_failed"] == "Payment failed: Medical aid, 800.00 yuan"
    chinese = {e["kind"]: e["title"] for e in timeline_entries(household, users["clerk_450102"])}
    assert chinese["assistance_payment"] == "发放生活救助 1,000.00 元（中央财政）"


def test_my_work_panels(filed, receive, ask, approve, users, orgs):
    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed()
    ask(household, "100.00")
    failed = approve(ask(household, "200.00"))
    approve(ask(household, "300.00"))
    services.payment_mark_failed(user=users["finance_450102"], request=failed, reason="账号错误")
    supervisor = panels_for(users["supervisor_450102"])
    assert supervisor["待我审批的帮扶申请"]["count"] == 1
    finance = panels_for(users["finance_450102"])
    assert finance["已批准待发放"]["count"] == 1
    assert finance["已批准待发放"]["total"] == D("300.00")
    clerk = panels_for(users["clerk_450102"])
    assert clerk["发放失败、待更正账号"]["count"] == 1
    assert "待我审批的帮扶申请" not in clerk
    assert panels_for(users["supervisor_450103"]) == {}


def test_my_work_shows_the_approved_requests_of_closed_files_finance_cannot_pay(
    filed, receive, ask, approve, users, login
):
    """An approved request of a file exited since stays among the approved ones (its money
    reserved) but no bank file takes it: finance's row says how many and how much of its count
    and total are such requests, linking to the list of exactly those."""
    from django.urls import reverse

    from households import services as household_services

    receive("10000.00", on=date(YEAR, 1, 2))
    closed = approve(ask(filed(), "600.00"))
    approve(ask(filed(worker_name="王大力"), "300.00"))
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=closed.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=timezone.localdate(),
    )
    unpaid = panels_for(users["finance_450102"])["已批准待发放"]
    assert (unpaid["count"], unpaid["total"]) == (2, D("900.00"))
    assert (unpaid["closed"], unpaid["closed_total"]) == (1, D("600.00"))
    client = login("finance_450102")
    listed = client.get(reverse("funds:request_list") + "?state=approved")
    assert len(listed.context["object_list"]) == unpaid["count"]
    home = client.get("/").content.decode()
    link = reverse("funds:request_list") + "?state=approved&amp;review=unpaid_closed_file"
    assert link in home
    listed = client.get(
        reverse("funds:request_list"), {"state": "approved", "review": "unpaid_closed_file"}
    )
    assert [r.pk for r in listed.context["object_list"]] == [closed.pk]


def test_a_request_in_a_bank_file_is_not_listed_as_one_no_bank_file_takes(
    filed, receive, ask, approve, users, login
):
    """A request already sent in a bank file when its file was exited is the bank's to pay (its
    return file books it whatever the file's status, flagged) and cannot be cancelled until
    then: it is not counted, listed or marked among the requests of closed files that no bank
    file takes and that are to be cancelled (未发放但档案不在档)."""
    from django.urls import reverse

    from households import services as household_services

    receive("10000.00", on=date(YEAR, 1, 2))
    sent = approve(ask(filed(), "600.00"))
    services.batch_create(user=users["finance_450102"], organisation=sent.organisation)
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=sent.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=timezone.localdate(),
    )
    sent.refresh_from_db()
    assert not sent.unpaid_file_closed
    unpaid = panels_for(users["finance_450102"])["已批准待发放"]
    assert (unpaid["count"], unpaid["closed"]) == (1, 0)
    client = login("finance_450102")
    listed = client.get(reverse("funds:request_list"), {"review": "unpaid_closed_file"})
    assert list(listed.context["object_list"]) == []
    page = client.get(reverse("funds:request_detail", args=[sent.pk])).content.decode()
    assert "请取消申请" not in page


def test_failed_payments_to_correct_leave_out_those_of_closed_files(
    filed, receive, ask, approve, users, login
):
    """A failed payment of a file exited since cannot be paid whatever account is corrected:
    it is not counted or listed among the failed payments to correct (the clerk's row, the
    funds index) but under 待核查 · 未发放但档案不在档, so each count matches its list."""
    from django.urls import reverse

    from households import services as household_services

    receive("10000.00", on=date(YEAR, 1, 2))
    closed = approve(ask(filed(), "600.00"))
    on_file = approve(ask(filed(worker_name="王大力"), "300.00"))
    for request in (closed, on_file):
        services.payment_mark_failed(
            user=users["finance_450102"], request=request, reason="账号错误"
        )
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=closed.household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=timezone.localdate(),
    )
    row = panels_for(users["clerk_450102"])["发放失败、待更正账号"]
    assert row["count"] == 1 and [r.pk for r in row["requests"]] == [on_file.pk]
    client = login("clerk_450102")
    link = reverse("funds:request_list") + "?state=failed&amp;correct=on"
    assert link in client.get("/").content.decode()
    listed = client.get(reverse("funds:request_list"), {"state": "failed", "correct": "on"})
    assert [r.pk for r in listed.context["object_list"]] == [on_file.pk]
    review = client.get(reverse("funds:request_list"), {"review": "unpaid_closed_file"})
    assert [r.pk for r in review.context["object_list"]] == [closed.pk]
    index = login("finance_450102").get(reverse("funds:index"))
    assert index.context["failed"] == 1
    assert link in index.content.decode()
    # Nor is it sent again: no bank file would take it (the page offers no retry either).
    retry = reverse("funds:request_retry", args=[closed.pk])
    assert (
        retry not in client.get(reverse("funds:request_detail", args=[closed.pk])).content.decode()
    )
    assert (
        retry.replace(str(closed.pk), str(on_file.pk))
        in client.get(reverse("funds:request_detail", args=[on_file.pk])).content.decode()
    )
    with pytest.raises(ValidationError, match="不能重新发放"):
        services.request_retry(user=users["clerk_450102"], request=closed)
    closed.refresh_from_db()
    assert closed.state == RequestState.FAILED and closed.retried_by is None


def test_the_home_page_shows_the_panels(filed, receive, ask, client, login):
    receive("10000.00", on=date(YEAR, 1, 2))
    ask(filed(), "100.00")
    login("supervisor_450102")
    text = client.get("/").content.decode()
    assert "待我审批的帮扶申请" in text


def test_demo_standards_are_idempotent(orgs):
    out = StringIO()
    demo.seed_reference(orgs=orgs, stdout=out)
    count = AssistanceStandard.objects.count()
    assert count == len(demo.DEFAULT_STANDARDS) * len(demo.standard_years())
    demo.seed_reference(orgs=orgs, stdout=out)
    assert AssistanceStandard.objects.count() == count
    living = AssistanceStandard.objects.get(
        organisation=orgs["450000"], year=YEAR, assistance_type__code="living"
    )
    assert (living.amount_cap, living.times_per_year) == (D("500.00"), 2)
    assert (living.annual_months_deep, living.annual_months_relative) == (D("12"), D("8"))


def test_demo_records_go_through_the_services(filed, orgs, users):
    households = [filed(worker_name=name) for name in ("张小明", "王大力", "刘芳芳", "陈小红")]
    out = StringIO()
    demo.seed_reference(orgs=orgs, stdout=out)
    demo.seed_records(orgs=orgs, households=1, seed=1, stdout=out)
    assert "skipped" not in out.getvalue()
    assert all(
        household.assistance_requests.filter(reason="春节送温暖") for household in households
    )
    assert AssistanceRequest.objects.filter(state=RequestState.PAID).exists()
    # Requests left for each supervisor of the demo to decide: the county's first level, a
    # second supervisor of the county, the city.
    waiting = AssistanceRequest.objects.filter(state=RequestState.REQUESTED).order_by("pk")
    assert [(r.assistance_type.code, r.approvals.count()) for r in waiting] == [
        ("living", 0),
        ("living", 0),
        ("medical", 1),
        ("small_loan", 1),
    ]
    assert [r.waiting_for for r in waiting[2:]] == [
        "第二级审批：本级另一名审批人",
        "第二级审批：上级工会（南宁市总工会）",
    ]
    demo.seed_records(orgs=orgs, households=1, seed=1, stdout=out)
    assert "already exist" in out.getvalue()


def test_deciding_an_exit_shows_what_becomes_of_the_files_requests(
    filed, receive, ask, approve, users, login
):
    """The supervisor sees before approving which requests go with the file (cancelled) and
    which stay (approved money), on the staff page and in the admin's confirmation; a relief
    shows none, since the file stays on file."""
    from django.urls import reverse

    from households import services as household_services
    from tests.households.test_admin import post_action

    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed()
    ask(household, "150.00", kind="living", on=date(YEAR, 1, 5))
    approve(ask(household, "250.00", kind="medical", on=date(YEAR, 1, 5)))
    clerk = users["clerk_450102"]
    exit_request = household_services.closure_request(
        user=clerk,
        household=household,
        kind="exited",
        effective_date=timezone.localdate(),
        reason="人均收入连续6个月高于低保标准",
    )
    client = login("supervisor_450102")
    page = client.get(reverse("households:closure_decide", args=[exit_request.pk]))
    text = page.content.decode()
    assert "该档案尚未办结的帮扶申请" in text
    assert "批准后，待审批的 1 项申请随档案关闭自动取消。" in text
    rows = page.context["waiting_requests"], page.context["kept_requests"]
    assert [[(r.assistance_type.code, r.amount) for r in group] for group in rows] == [
        [("living", D("150.00"))],
        [("medical", D("250.00"))],
    ]
    changelist = reverse("admin:households_closurerequest_changelist")
    confirmation = post_action(client, changelist, "approve_closures", [exit_request])
    assert (
        "；批准后，待审批的 1 项帮扶申请随之取消；已批准未发放的 1 项款项保留，由财务发放或取消"
        in confirmation.content.decode()
    )
    post_action(client, changelist, "approve_closures", [exit_request], "核实无误，同意脱困")
    states = dict(
        AssistanceRequest.objects.filter(household=household).values_list(
            "assistance_type__code", "state"
        )
    )
    assert states == {"living": RequestState.CANCELLED, "medical": RequestState.APPROVED}


def test_deciding_a_relief_lists_no_requests(filed, receive, ask, users, login):
    from django.urls import reverse

    from households import services as household_services

    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed()
    ask(household, "150.00", kind="living", on=date(YEAR, 1, 5))
    relief = household_services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="relieved",
        effective_date=timezone.localdate(),
        reason="患重病，暂不能脱困",
    )
    page = login("supervisor_450102").get(reverse("households:closure_decide", args=[relief.pk]))
    assert page.status_code == 200
    assert "该档案尚未办结的帮扶申请" not in page.content.decode()


def test_the_file_page_shows_what_its_exit_does_to_the_requests(filed, receive, ask, users, login):
    """The file page's own decision box (where 我的工作 leads) says it too, not only the
    decision page."""
    from django.urls import reverse

    from households import services as household_services

    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed()
    ask(household, "150.00", kind="living", on=date(YEAR, 1, 5))
    household_services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="deregistered",
        deregistration_reason="moved",
        effective_date=timezone.localdate(),
        reason="迁出本市",
    )
    url = reverse("households:detail", args=[household.pk])
    page = login("supervisor_450102").get(url).content.decode()
    box = page[page.index('id="closure"') :]
    assert box.index("批准后，待审批的 1 项申请随档案关闭自动取消。") < box.index('name="decision"')
    clerk_page = login("clerk_450102").get(url).content.decode()  # no decision, no notice
    assert "随档案关闭自动取消" not in clerk_page
