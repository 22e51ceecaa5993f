"""The balance under concurrency, on PostgreSQL with real threads and connections: twenty
supervisors approving at once against money for ten approve exactly ten."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from funds import selectors, services
from funds.models import AssistanceRequest, RequestState
from tests.conftest import run_at_once

D = Decimal
YEAR = timezone.localdate().year


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_approvals_against_money_for_ten(filed, receive, ask, users, orgs, sources):
    receive("10000.00", on=date(YEAR, 1, 2))
    # Twenty households: one household's same request twice would be refused as a repeat.
    requests = [ask(filed(), "1000.00") for _ in range(20)]
    supervisor = users["supervisor_450102"]
    outcomes = run_at_once(
        [
            lambda r=request: services.request_approve(user=supervisor, request=r)
            for request in requests
        ]
    )
    assert outcomes.count("ok") == 10, outcomes
    assert all(o == "ok" or "可用余额不足" in o for o in outcomes), outcomes
    assert AssistanceRequest.objects.filter(state=RequestState.APPROVED).count() == 10
    assert selectors.committed(organisation=orgs["450102"], source=sources["central"]) == D(
        "10000.00"
    )


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_approvals_payments_and_a_refund_racing_never_overdraw(
    filed, receive, ask, approve, users, orgs, sources
):
    receive("10000.00", on=date(YEAR, 1, 2))
    approved = [approve(ask(filed(), "1000.00")) for _ in range(4)]
    waiting = [ask(filed(), "1000.00") for _ in range(8)]
    finance, supervisor = users["finance_450102"], users["supervisor_450102"]
    today = timezone.localdate()
    jobs = [
        lambda r=r: services.payment_mark_paid(
            user=finance, request=r, paid_on=today, bank_reference=f"B{r.pk}"
        )
        for r in approved
    ]
    jobs += [lambda r=r: services.request_approve(user=supervisor, request=r) for r in waiting]
    jobs.append(
        lambda: services.refund_record(
            user=finance,
            organisation=orgs["450102"],
            source=sources["central"],
            amount=D("3000.00"),
            refunded_on=today,
            document_number="桂财行〔2026〕1号",
        )
    )
    outcomes = run_at_once(jobs)
    assert outcomes[:4] == ["ok"] * 4, outcomes  # paying approved money always succeeds
    balance = selectors.balance(organisation=orgs["450102"], source=sources["central"])
    committed = selectors.committed(organisation=orgs["450102"], source=sources["central"])
    assert balance >= 0 and balance - committed >= 0
    refunded = outcomes[-1] == "ok"
    approvals = outcomes[4:12].count("ok")
    assert approvals == (3 if refunded else 6), outcomes
    assert balance == D("6000.00") - (D("3000.00") if refunded else 0)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_back_dated_refunds_racing_never_overdraw_their_date(receive, users, orgs, sources):
    """Each refund alone fits on 1 February, and today's balance covers both: only the balance
    of that date, read under the account's lock, lets one of them through."""
    receive("1000.00", on=date(2019, 1, 2))
    receive("1000.00", on=date(2019, 6, 1), document_number="桂财行〔2019〕2号")
    finance = users["finance_450102"]
    jobs = [
        lambda n=n: services.refund_record(
            user=finance,
            organisation=orgs["450102"],
            source=sources["central"],
            amount=D("600.00"),
            refunded_on=date(2019, 2, 1),
            document_number=f"桂财行〔2019〕{n}号",
        )
        for n in (10, 11, 12, 13)
    ]
    outcomes = run_at_once(jobs)
    assert outcomes.count("ok") == 1, outcomes
    assert all(o == "ok" or "在 2019-02-01 的余额为 400.00 元" in o for o in outcomes), outcomes
    lowest, _day = selectors.lowest_balance_from(
        organisation=orgs["450102"], source=sources["central"], day=date(2019, 1, 2)
    )
    assert lowest == D("400.00")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_request_sent_twice_at_once_is_recorded_once(filed, receive, ask):
    """Two clicks, two requests at the same moment: the household's row lock lets the second
    see the first, which it then repeats."""
    receive("10000.00", on=date(YEAR, 1, 2))
    household = filed()
    outcomes = run_at_once([lambda: ask(household, "300.00") for _ in range(2)])
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    assert any("请勿重复提交" in o for o in outcomes), outcomes
    assert AssistanceRequest.objects.filter(household=household).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_paid_by_hand_meanwhile_is_never_also_put_in_a_bank_file(
    filed, receive, ask, approve, users, orgs
):
    """Finance marks a request paid while a colleague exports the bank file: the export waits
    for the request's row and leaves it out, or the bank would pay the worker a second time
    (and its return, "成功" for a paid request, could never be booked)."""
    import time

    from funds.models import PaymentBatchLine

    receive("10000.00", on=date(YEAR, 1, 2))
    request = approve(ask(filed(), "1000.00"))
    other = approve(ask(filed(), "500.00"))
    finance = users["finance_450102"]
    paid = threading.Event()
    outcomes = []

    def pay_by_hand():
        try:
            with transaction.atomic():
                services.payment_mark_paid(
                    user=finance,
                    request=request,
                    paid_on=timezone.localdate(),
                    bank_reference="HAND-1",
                )
                paid.set()
                time.sleep(1.5)  # the colleague's export starts meanwhile
            outcomes.append("paid")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(repr(error))
        finally:
            paid.set()
            connection.close()

    def export():
        try:
            paid.wait(10)
            batch, _skipped = services.batch_create(user=finance, organisation=orgs["450102"])
            outcomes.append(f"batch of {batch.line_count}")
        except Exception as error:  # noqa: BLE001
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=pay_by_hand), threading.Thread(target=export)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    request.refresh_from_db()
    assert request.state == RequestState.PAID
    assert sorted(outcomes) == ["batch of 1", "paid"], outcomes
    lines = PaymentBatchLine.objects.filter(result="pending")
    assert list(lines.values_list("request_id", flat=True)) == [other.pk]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_confirmed_twice_at_once_is_written_once(
    filed, receive, standard, users, types, sources
):
    """Two clicks on 确认提交 (or two tabs): the second waits for the first's locks on the
    households, then sees its requests as duplicates and writes nothing."""
    from funds import batches

    receive("10000.00", on=date(YEAR, 1, 2))
    standard("festival", year=YEAR, amount_cap=D("500.00"))  # no frequency: only the repeat rule
    households = [filed() for _ in range(3)]
    clerk = users["clerk_450102"]
    terms = batches.Terms(
        assistance_type=types["festival"], source=sources["central"], reason="春节送温暖"
    )
    selection = batches.Selection()
    key = batches.batch_preview(user=clerk, selection=selection, terms=terms).key

    def confirm():
        try:
            batches.batch_requests_create(
                user=clerk, selection=selection, terms=terms, preview_key=key
            )
        except batches.BatchChanged as changed:
            raise ValidationError(changed.preview.rows[0].reasons) from None

    outcomes = run_at_once([confirm, confirm])
    assert outcomes.count("ok") == 1, outcomes
    assert all(o == "ok" or "请勿重复提交" in o for o in outcomes), outcomes
    assert sorted(AssistanceRequest.objects.values_list("household_id", flat=True)) == sorted(
        h.pk for h in households
    )
