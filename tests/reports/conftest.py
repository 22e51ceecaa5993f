"""A hand-built history where every figure of the 2024 summary is known (see test_summary)."""

from datetime import date

import pytest

from households import services
from households.models import Category, Cause, Household, Origin, Status
from households.services import MemberData, record_transition
from tests.funds.conftest import (  # noqa: F401 - money in and out for the funds section
    approve,
    ask,
    dibao,
    filed,
    pay,
    receive,
    sources,
    types,
)
from tests.households.conftest import new_id


def build(user, org, steps, *, cause="illness", category=None, migrant=False):
    """steps: [(status, date, extra)], starting with ("applied", d). Writes the rows the
    transition service would (reports only read rows), with the dates given."""
    household = Household(
        organisation=org,
        worker_name="测试户",
        id_number=new_id(),
        primary_cause=Cause.objects.get(code=cause),
        category=Category.objects.get(code=category) if category else None,
        is_migrant_worker=migrant,
        # The migrant-worker filing condition, met (services.migrant_worker_errors).
        is_union_member=True if migrant else None,
        labour_relation_since=date(2015, 3, 1) if migrant else None,
    )
    first = steps[0][1]
    services.household_create(
        user=user,
        household=household,
        applied_on=first,
        members=[MemberData(relation="self", name="")],
    )
    period = household.current_period
    previous = household.status
    for status, when, *extra in steps:
        if status == "reopen":
            was_filed = period.filed_on is not None
            period = household.periods.create(
                number=period.number + 1,
                applied_on=when,
                origin=Origin.RELAPSED if was_filed else Origin.NEW,
            )
            status = Status.APPLIED
        record_transition(
            household=household,
            period=period,
            action=status,
            from_status=previous,
            to_status=status,
            effective_date=when,
            actor=user,
            deregistration_reason=extra[0] if extra else "",
        )
        if status == Status.ON_FILE:
            period.filed_on = when
            if when <= date(2023, 12, 31):
                period.origin = Origin.STOCK
        if status in (Status.EXITED, Status.DEREGISTERED):
            period.closed_on = when
        period.save()
        previous = status
    household.status = previous
    household.current_period = period
    household.save()
    return household


@pytest.fixture
def scenario(users, orgs):
    d = date
    a = (users["clerk_450102"], orgs["450102"])
    b = (users["clerk_450103"], orgs["450103"])
    region = orgs["450000"]
    region.stock_baseline_date = d(2023, 12, 31)
    region.save()
    return {
        "H1": build(*a, [("applied", d(2022, 4, 1)), ("on_file", d(2022, 5, 1))], category="deep"),
        "H2": build(
            *a,
            [("applied", d(2024, 2, 1)), ("on_file", d(2024, 3, 1)), ("relieved", d(2024, 6, 1))],
            category="deep",
        ),
        "H3": build(
            *a,
            [
                ("applied", d(2023, 1, 5)),
                ("on_file", d(2023, 2, 1)),
                ("relieved", d(2024, 4, 1)),
                ("exited", d(2024, 9, 1)),
            ],
        ),
        "H4": build(
            *a,
            [
                ("applied", d(2020, 12, 1)),
                ("on_file", d(2021, 1, 10)),
                ("exited", d(2022, 6, 1)),
                ("reopen", d(2024, 2, 1)),
                ("on_file", d(2024, 4, 15)),
            ],
        ),
        "H5": build(*a, [("applied", d(2024, 11, 20)), ("reviewed", d(2024, 11, 25))]),
        "H6": build(
            *a,
            [
                ("applied", d(2023, 5, 1)),
                ("on_file", d(2023, 6, 1)),
                ("deregistered", d(2024, 7, 1), "death"),
            ],
        ),
        "H7": build(*a, [("applied", d(2023, 12, 10)), ("on_file", d(2024, 1, 5))], migrant=True),
        "H8": build(*a, [("applied", d(2024, 12, 20)), ("on_file", d(2025, 1, 10))]),
        "H9": build(
            *b,
            [("applied", d(2019, 12, 1)), ("on_file", d(2020, 1, 1))],
            cause="disability",
            category="relative",
        ),
        "H10": build(
            *b, [("applied", d(2024, 7, 1)), ("on_file", d(2024, 8, 1)), ("exited", d(2025, 3, 1))]
        ),
    }
