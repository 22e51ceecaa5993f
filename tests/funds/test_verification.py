"""Quarterly verification: a random sample of paid payments, confirmed with the household;
partial and missing receipts are listed as discrepancies until followed up."""

import random
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from funds import selectors, services
from funds.models import LedgerEntry, Verification, VerificationSample

D = Decimal


@pytest.fixture
def paid_2019(filed, receive, ask, approve, pay):
    """Twelve payments in 2019: eight in the first quarter, four in the second."""
    receive("100000.00", on=date(2019, 1, 2))
    household = filed()
    days = [date(2019, 1, 10 + i) for i in range(8)] + [date(2019, 4, 10 + i) for i in range(4)]
    requests = []
    for day in days:
        request = approve(ask(household, "100.00", on=day))
        pay(request, on=day)
        requests.append(request)
    return requests


def draw(users, orgs, **kwargs):
    params = {"year": 2019, "quarter": 1, "size": 5, **kwargs}
    return services.sample_draw(user=users["finance_450102"], organisation=orgs["450102"], **params)


def test_a_random_sample_of_the_quarter(paid_2019, users, orgs):
    sample = draw(users, orgs, rng=random.Random(7))
    assert (sample.size, sample.population) == (5, 8)
    chosen = list(sample.items.values_list("request__paid_on", flat=True))
    assert len(set(sample.items.values_list("request", flat=True))) == 5
    assert all(date(2019, 1, 1) <= day < date(2019, 4, 1) for day in chosen)
    assert all(item.outcome == "pending" for item in sample.items.all())
    other = draw(users, orgs, quarter=2, size=50)
    assert (other.size, other.population) == (4, 4)  # never more than were paid


def test_sampling_rules(paid_2019, users, orgs):
    draw(users, orgs)
    for kwargs, message in [
        ({}, "本季度已经抽样"),
        ({"quarter": 3}, "没有已发放的帮扶"),
        ({"quarter": 5}, "季度应为1至4"),
        ({"quarter": 2, "size": 0}, "抽查笔数应在1至500之间"),
        ({"year": timezone.localdate().year + 1}, "尚未开始"),
        # The quarter running today: drawn now, its later payments could never be drawn.
        (
            {
                "year": timezone.localdate().year,
                "quarter": (timezone.localdate().month - 1) // 3 + 1,
            },
            "尚未结束",
        ),
    ]:
        with pytest.raises(ValidationError) as exc:
            draw(users, orgs, **kwargs)
        assert any(message in m for m in exc.value.messages), (kwargs, exc.value.messages)
    assert VerificationSample.objects.count() == 1
    for username in ("clerk_450102", "supervisor_450102", "finance_450103"):
        with pytest.raises(PermissionDenied):
            services.sample_draw(
                user=users[username], organisation=orgs["450102"], year=2019, quarter=2, size=2
            )


def test_outcomes_and_discrepancies(paid_2019, users, orgs):
    sample = draw(users, orgs, size=3)
    full, partial, none = sample.items.order_by("id")
    finance = users["finance_450102"]
    today = timezone.localdate()
    services.verification_record(
        user=finance, item=full, outcome="full", method="survey", checked_on=today
    )
    with pytest.raises(ValidationError) as exc:
        services.verification_record(
            user=finance,
            item=partial,
            outcome="partial",
            method="phone",
            checked_on=today,
            amount_received=D("100.00"),
            note="少了",
        )
    assert "应小于发放金额" in exc.value.message_dict["amount_received"][0]
    with pytest.raises(ValidationError) as exc:
        services.verification_record(
            user=finance, item=none, outcome="none", method="phone", checked_on=today
        )
    assert "请填写核实情况" in exc.value.message_dict["note"][0]
    with pytest.raises(ValidationError):
        services.verification_record(
            user=finance,
            item=none,
            outcome="none",
            method="phone",
            checked_on=date(2018, 12, 31),
            note="x",
        )
    services.verification_record(
        user=finance,
        item=partial,
        outcome="partial",
        method="phone",
        checked_on=today,
        amount_received=D("60.00"),
        note="职工称只收到60元",
    )
    services.verification_record(
        user=finance,
        item=none,
        outcome="none",
        method="survey",
        checked_on=today,
        note="职工称未收到",
    )
    full.refresh_from_db()
    assert (full.outcome, full.amount_received) == ("full", D("100.00"))
    with pytest.raises(ValidationError) as exc:
        services.verification_record(
            user=finance, item=full, outcome="none", method="phone", checked_on=today, note="x"
        )
    assert "已核实" in exc.value.messages[0]
    found = list(selectors.discrepancies(user=users["viewer_450000"]))
    assert set(found) == {partial, none}
    assert list(selectors.discrepancies(user=users["finance_450103"])) == []
    with pytest.raises(ValidationError):
        services.verification_resolve(user=finance, item=full, follow_up="x")
    services.verification_resolve(user=finance, item=none, follow_up="银行查实已入账，职工误记")
    none.refresh_from_db()
    assert none.resolved_at is not None
    assert Verification.objects.discrepancies().count() == 2


def test_a_sampled_payment_reversed_since_the_draw_waits_for_no_check(
    paid_2019, users, orgs, login, pay
):
    """Finance reverses a payment booked by mistake after the quarter's sample took it: no money
    went out, so there is nothing to confirm with the household until it is paid again."""
    finance, today = users["finance_450102"], timezone.localdate()
    sample = draw(users, orgs, size=2)
    reversed_item, kept = sample.items.order_by("id")
    entry = LedgerEntry.objects.get(request=reversed_item.request, kind="payment")
    services.entry_reverse(user=finance, entry=entry, reason="误记")
    with pytest.raises(ValidationError, match="已在抽样后冲销"):
        services.verification_record(
            user=finance, item=reversed_item, outcome="full", method="phone", checked_on=today
        )
    assert list(selectors.verifications_due(user=finance)) == [kept]

    client = login("finance_450102")
    page = client.get(reverse("funds:sample_detail", args=[sample.pk])).content.decode()
    assert "已冲销，无需核实" in page
    assert reverse("funds:verification_record", args=[reversed_item.pk]) not in page
    response = client.post(
        reverse("funds:verification_record", args=[reversed_item.pk]),
        {"outcome": "full", "method": "phone", "checked_on": today.isoformat()},
    )
    assert response.status_code == 200  # the form again, with the reason
    assert "已在抽样后冲销" in response.content.decode()
    reversed_item.refresh_from_db()
    assert reversed_item.outcome == Verification.Outcome.PENDING

    # paid again: the payment is checked like any other
    pay(reversed_item.request, on=today, reference="BANK-0002")
    services.verification_record(
        user=finance, item=reversed_item, outcome="full", method="phone", checked_on=today
    )
