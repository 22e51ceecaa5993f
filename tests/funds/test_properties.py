"""Property: for any sequence of receipts, approvals, payments, refunds, cancellations and
reversals, every balance equals the sum of its entries and is never negative, and approved but
unpaid money never exceeds it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funds import selectors, services
from funds.models import AssistanceRequest, LedgerEntry, RequestState
from orgs.models import Organisation

SOURCES = ["central", "regional"]
amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("3000.00"), places=2, allow_nan=False
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), amounts, st.sampled_from(SOURCES)),
        st.tuples(st.just("approve"), amounts, st.sampled_from(SOURCES)),
        st.tuples(st.just("pay"), st.integers(0, 5)),
        st.tuples(st.just("refund"), amounts, st.sampled_from(SOURCES)),
        st.tuples(st.just("cancel"), st.integers(0, 5)),
        st.tuples(st.just("reverse"), st.integers(0, 10)),
    ),
    max_size=10,
)


@pytest.fixture
def household(filed):
    """One file for every example; each example's own writes are rolled back."""
    return filed()


def check_balances(org, sources):
    """After every operation: balance = the sum of the entries, never negative, and never less
    than the money approved but unpaid."""
    amounts = {code: [] for code in sources}
    for code, amount in LedgerEntry.objects.filter(organisation=org).values_list(
        "source__code", "amount"
    ):
        amounts[code].append(amount)
    for code, source in sources.items():
        balance = selectors.balance(organisation=org, source=source)
        assert balance == sum(amounts[code], Decimal("0.00"))
        assert balance >= 0
        assert balance - selectors.committed(organisation=org, source=source) >= 0


def check_statement(org):
    """At the end: the statement's lines add up to the sum of all entries."""
    statement = selectors.fund_statement(
        organisations=Organisation.objects.filter(pk=org.pk),
        start=date(2000, 1, 1),
        end=timezone.localdate(),
    )
    every = LedgerEntry.objects.filter(organisation=org).values_list("amount", flat=True)
    totals = statement["totals"]
    assert totals["closing"] == sum(every, Decimal("0.00"))
    assert totals["closing"] == (
        totals["opening"]
        + totals["received"]
        - totals["paid"]
        - totals["refunded"]
        + totals["repaid"]
    )


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_balances_are_sums_of_entries_and_never_negative(ops, household, users, orgs, sources):
    org = orgs["450102"]
    clerk, supervisor, finance = (
        users["clerk_450102"],
        users["supervisor_450102"],
        users["finance_450102"],
    )
    used = {code: sources[code] for code in SOURCES}
    today = timezone.localdate()
    with transaction.atomic():
        for op in ops:
            try:
                if op[0] == "receive":
                    services.receipt_record(
                        user=finance,
                        organisation=org,
                        source=used[op[2]],
                        year=today.year,
                        amount=op[1],
                        received_on=today,
                        document_number="x",
                    )
                elif op[0] == "approve":
                    request = services.request_create(
                        user=clerk,
                        household=household,
                        assistance_type=selectors.AssistanceType.objects.get(code="other"),
                        source=used[op[2]],
                        amount=op[1],
                        reason="r",
                    )
                    services.request_approve(user=supervisor, request=request)
                elif op[0] == "pay":
                    waiting = list(AssistanceRequest.objects.filter(state=RequestState.APPROVED))
                    if waiting:
                        services.payment_mark_paid(
                            user=finance,
                            request=waiting[op[1] % len(waiting)],
                            paid_on=today,
                            bank_reference="b",
                        )
                elif op[0] == "refund":
                    services.refund_record(
                        user=finance,
                        organisation=org,
                        source=used[op[2]],
                        amount=op[1],
                        refunded_on=today,
                        document_number="x",
                    )
                elif op[0] == "cancel":
                    open_ = list(
                        AssistanceRequest.objects.filter(
                            state__in=[RequestState.REQUESTED, RequestState.APPROVED]
                        )
                    )
                    if open_:
                        services.request_cancel(
                            user=clerk, request=open_[op[1] % len(open_)], reason="r"
                        )
                elif op[0] == "reverse":
                    entries = list(LedgerEntry.objects.order_by("pk"))
                    if entries:
                        services.entry_reverse(
                            user=finance, entry=entries[op[1] % len(entries)], reason="r"
                        )
            except ValidationError:
                pass
            check_balances(org, used)
        check_statement(org)
        transaction.set_rollback(True)
