"""The DOMAIN.md fund example through the annual summary (issue 6): the JSON of
`annual_summary` carries the statement's figures, amounts as strings in yuan."""

import json
from decimal import Decimal
from io import StringIO

from django.core.management import call_command

from tests.funds.test_worked_example import example  # noqa: F401 - the fixture


def test_the_fund_example_in_the_summary_json(example):  # noqa: F811
    out = StringIO()
    call_command(
        "annual_summary",
        "--org",
        "450102",
        "--years",
        "2017-2019",
        "--cutoff",
        "2019-09-30",
        stdout=out,
    )
    years = json.loads(out.getvalue())["years"]
    funds_2017 = years["2017"]["funds"]
    assert funds_2017["total"]["closing"] == "0.00"  # 2017: everything received was used
    assert funds_2017["by_source"]["central"]["received"] == "141000.00"
    assert years["2018"]["funds"]["by_source"]["regional"]["refunded"] == "96000.00"
    assert years["2019"]["funds"]["by_source"]["regional"]["closing"] == "70340.00"
    assert years["2019"]["funds"]["by_source"]["union"]["closing"] == "0.00"  # listed, zero
    paid = sum(Decimal(years[y]["funds"]["total"]["paid"]) for y in ("2017", "2018", "2019"))
    assert paid == Decimal("828833.00")  # 82.88 万元 over the three years
    assert years["2019"]["funds"]["by_assistance_type"]["festival"]["payments"] == 1
