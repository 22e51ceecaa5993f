"""The migrations that start the field history of holidays and dibao lines give every row
entered before one record of its values, so that its first change shows what it replaced."""

from datetime import date
from decimal import Decimal

import pytest

BEFORE = [
    ("orgs", "0009_eligibility_multiple_follows_scheme"),
    ("households", "0026_notice_working_days"),
]
AFTER = [("orgs", "0010_holiday_history"), ("households", "0027_dibao_history")]


# Serialized rollback: the flush after a transactional test would drop the seeded reference rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rows_entered_before_have_their_values_as_a_first_record(migrator):
    executor = migrator
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Organisation = old.get_model("orgs", "Organisation")
    county = Organisation.objects.create(code="45", name="县", level="county", path="/45/")
    holiday = old.get_model("orgs", "Holiday").objects.create(
        date=date(2026, 3, 3), name="三月三", organisation_id=county.pk
    )
    line = old.get_model("households", "DibaoStandard").objects.create(
        organisation_id=county.pk, year=2026, monthly_amount=Decimal("980.00")
    )

    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    holidays = new.get_model("orgs", "HistoricalHoliday").objects.filter(id=holiday.pk)
    assert [(h.history_type, h.name, h.organisation_id) for h in holidays] == [
        ("+", "三月三", county.pk)
    ]
    lines = new.get_model("households", "HistoricalDibaoStandard").objects.filter(id=line.pk)
    assert [(h.history_type, h.monthly_amount, h.history_user_id) for h in lines] == [
        ("+", Decimal("980.00"), None)
    ]
