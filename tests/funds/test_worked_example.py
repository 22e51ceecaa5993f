"""DOMAIN.md "Funds", the worked example [000], entered as receipts, payments and a refund
through the services; the statement must give the figures of the county's report."""

from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template

from funds import selectors, services
from orgs.models import Organisation

D = Decimal

RECEIPTS = [
    # received on, source, amount (yuan), document number
    (date(2017, 1, 5), "central", "141000.00", "桂财行〔2016〕180号"),
    (date(2017, 1, 5), "regional", "96000.00", "桂财行〔2016〕181号"),
    (date(2017, 1, 5), "other", "217900.00", "南财社〔2017〕3号"),
    (date(2018, 1, 10), "central", "270873.00", "桂财行〔2017〕201号"),
    (date(2018, 4, 1), "regional", "96000.00", "桂财行〔2018〕15号"),
    (date(2019, 1, 10), "upper_union", "36400.00", "桂工发〔2019〕2号"),
    (date(2019, 5, 1), "regional", "137000.00", "桂财行〔2019〕33号"),
]
PAYMENTS = [
    # paid on, source, assistance type, amount (yuan)
    (date(2017, 1, 20), "other", "festival", "117900.00"),
    (date(2017, 3, 1), "central", "living", "60000.00"),
    (date(2017, 6, 1), "central", "medical", "81000.00"),
    (date(2017, 9, 1), "regional", "schooling", "96000.00"),
    (date(2017, 11, 1), "other", "living", "100000.00"),
    (date(2018, 2, 1), "central", "festival", "100000.00"),
    (date(2018, 5, 1), "central", "medical", "160000.00"),
    (date(2019, 1, 25), "upper_union", "festival", "36400.00"),
    (date(2019, 3, 1), "central", "living", "10873.00"),
    (date(2019, 6, 1), "regional", "medical", "66660.00"),
    # after the report's cut-off (30 Sept 2019): must not count
    (date(2019, 10, 15), "regional", "living", "1000.00"),
]


@pytest.fixture
def example(filed, receive, ask, approve, pay, users, orgs, sources):
    households = [filed(worker_name=name) for name in ("张小明", "王大力", "刘芳芳")]
    for received_on, source, amount, number in RECEIPTS:
        receive(amount, source=source, on=received_on, document_number=number)
    for index, (paid_on, source, kind, amount) in enumerate(PAYMENTS):
        request = ask(households[index % 3], amount, kind=kind, source=source, on=paid_on)
        approve(request)
        pay(request, on=paid_on, reference=f"BANK-{index:04d}")
    services.refund_record(
        user=users["finance_450102"],
        organisation=orgs["450102"],
        source=sources["regional"],
        amount=D("96000.00"),
        refunded_on=date(2018, 12, 20),
        document_number="桂财行〔2018〕72号",
    )
    return Organisation.objects.filter(code="450102")


def by_source(statement):
    return {line["code"]: line for line in statement["sources"]}


def test_2017_everything_received_was_used(example):
    statement = selectors.fund_statement(organisations=example, year=2017)
    lines = by_source(statement)
    assert {code: line["received"] for code, line in lines.items()} == {
        "central": D("141000.00"),
        "regional": D("96000.00"),
        "other": D("217900.00"),
    }
    assert [
        selectors.to_wanyuan(lines[c]["received"]) for c in ("central", "regional", "other")
    ] == [
        D("14.10"),
        D("9.60"),
        D("21.79"),
    ]
    for line in lines.values():
        assert line["opening"] == line["closing"] == line["refunded"] == D("0.00")
        assert line["paid"] == line["received"]
    assert statement["totals"]["paid"] == D("454900.00")
    assert statement["totals"]["closing"] == D("0.00")


def test_2018_regional_refunded_and_central_carried(example):
    lines = by_source(selectors.fund_statement(organisations=example, year=2018))
    regional = lines["regional"]
    assert (regional["opening"], regional["received"], regional["paid"]) == (
        D("0.00"),
        D("96000.00"),
        D("0.00"),
    )
    assert regional["refunded"] == D("96000.00")
    assert regional["closing"] == D("0.00")
    central = lines["central"]
    assert central["received"] == D("270873.00")
    assert selectors.to_wanyuan(central["received"], 4) == D("27.0873")
    assert central["closing"] == D("10873.00")  # the 1.0873 万元 used up in 2019
    assert lines["other"]["opening"] == lines["other"]["closing"] == D("0.00")


def test_2019_to_30_september(example):
    statement = selectors.fund_statement(organisations=example, year=2019, cutoff=date(2019, 9, 30))
    assert statement["end"] == date(2019, 9, 30)
    lines = by_source(statement)
    regional = lines["regional"]
    assert regional["opening"] == D("0.00")
    assert regional["received"] == D("137000.00")
    assert regional["paid"] == D("66660.00")
    assert regional["closing"] == D("70340.00")
    assert selectors.to_wanyuan(regional["closing"], 3) == D("7.034")
    warmth = lines["upper_union"]
    assert (warmth["received"], warmth["paid"], warmth["closing"]) == (
        D("36400.00"),
        D("36400.00"),
        D("0.00"),
    )
    central = lines["central"]
    assert (central["opening"], central["paid"], central["closing"]) == (
        D("10873.00"),
        D("10873.00"),
        D("0.00"),
    )


def test_paid_over_the_three_years(example):
    statement = selectors.fund_statement(
        organisations=example, start=date(2017, 1, 1), end=date(2019, 9, 30)
    )
    assert statement["totals"]["paid"] == D("828833.00")
    assert statement["types_total"]["amount"] == D("828833.00")
    assert statement["types_total"]["payments"] == 10
    assert statement["types_total"]["households"] == 3
    rendered = Template("{% load money %}{{ v|yuan }} {{ v|wanyuan }}").render(
        Context({"v": statement["totals"]["paid"]})
    )
    # DOMAIN.md's "82.88" to the yuan, as its 27.0873 and as the summary report shows it
    assert rendered == "828,833.00 82.8833"
    # the refund and the closing balance of the whole period
    assert statement["totals"]["refunded"] == D("96000.00")
    assert statement["totals"]["closing"] == D("70340.00")
    types = {line["code"]: line["amount"] for line in statement["types"]}
    assert types == {
        "living": D("170873.00"),
        "medical": D("307660.00"),
        "schooling": D("96000.00"),
        "festival": D("254300.00"),
    }


def test_the_region_sees_the_county_summed_and_side_by_side(example, orgs):
    region = Organisation.objects.subtree(orgs["450000"])
    total = selectors.fund_statement(organisations=region, year=2019, cutoff=date(2019, 9, 30))
    assert by_source(total)["regional"]["closing"] == D("70340.00")
    data = selectors.fund_statement_side_by_side(
        organisation=orgs["450000"], year=2019, cutoff=date(2019, 9, 30)
    )
    names = [unit.code if unit else None for unit, _ in data["columns"]]
    assert names == ["450102", "450103"]
    columns = dict(data["columns"])
    assert columns[orgs["450102"]]["totals"]["closing"] == D("70340.00")
    assert columns[orgs["450103"]]["sources"] == []
    assert data["total"]["totals"] == columns[orgs["450102"]]["totals"]


def test_the_units_statements_are_each_units_own(example, orgs, django_assert_num_queries):
    """The annual summary's children read their statements grouped in one go (five queries
    whatever their number): each is the statement of that child's subtree alone."""
    units = [orgs["450102"], orgs["450103"]]
    period = {"year": 2019, "cutoff": date(2019, 9, 30)}
    with django_assert_num_queries(5):
        statements = selectors.fund_statements_of_units(units=units, **period)
    assert statements == {
        unit.pk: selectors.fund_statement(
            organisations=Organisation.objects.subtree(unit), **period
        )
        for unit in units
    }
    assert statements[orgs["450102"].pk]["totals"]["closing"] == D("70340.00")
