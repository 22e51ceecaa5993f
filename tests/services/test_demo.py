"""The demo records: realistic, valid through the services, and seeded only once."""

import datetime as dt
import io

import pytest
from django.utils import timezone

from services.demo import CASES_PER_COUNTY, seed_records
from services.models import Case, LegalAidCase, TrainingAttendee

pytestmark = pytest.mark.django_db


def test_demo_records_are_seeded_once_per_county(orgs, windows):
    out = io.StringIO()
    seed_records(orgs=orgs, households=5, seed=7, stdout=out)
    assert Case.objects.count() == 2 * CASES_PER_COUNTY
    assert Case.objects.filter(organisation=orgs["450103"]).count() == CASES_PER_COUNTY
    assert TrainingAttendee.objects.count() == 24
    assert all(legal.wages_recovered >= 0 for legal in LegalAidCase.objects.all())
    assert "兴宁区总工会" in out.getvalue()
    seed_records(orgs=orgs, households=5, seed=7, stdout=io.StringIO())
    assert Case.objects.count() == 2 * CASES_PER_COUNTY


def test_demo_cases_arrive_in_office_hours(orgs, windows):
    seed_records(orgs=orgs, households=5, seed=7, stdout=io.StringIO())
    now = timezone.now()
    for received in Case.objects.values_list("received_at", flat=True):
        assert received <= now
        assert dt.time(8, 30) <= timezone.localtime(received).time() <= dt.time(17, 30)


def test_demo_case_steps_happen_when_the_case_does(orgs, windows):
    """Logged when received, referred within days of it (the file's timeline showed every
    demo case logged at the moment the demo was seeded)."""
    from services.models import CaseEvent

    seed_records(orgs=orgs, households=5, seed=7, stdout=io.StringIO())
    for event in CaseEvent.objects.select_related("case"):
        assert event.at >= event.case.received_at, event.action
        if event.action == CaseEvent.Action.LOGGED:
            assert event.at == event.case.received_at
    assert CaseEvent.objects.filter(action=CaseEvent.Action.REFERRED).exists()
