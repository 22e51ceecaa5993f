"""Fixtures for the service centre: the windows, valid ID numbers and a case factory that goes
through the service, as the counter does."""

import importlib
from datetime import date, datetime

import pytest
from django.utils import timezone

from services.models import Case, Window
from services.services import case_create
from services.validators import id_check_char

_sequence = iter(range(1, 1000))


def id_number(area: str = "450102", born: date = date(1980, 5, 17), sequence: int | None = None):
    """A valid 18-character resident ID number."""
    first17 = f"{area}{born:%Y%m%d}{(sequence or next(_sequence)) % 1000:03d}"
    return first17 + id_check_char(first17)


def at(*args) -> datetime:
    """An aware local datetime: at(2025, 3, 1, 9, 30)."""
    return datetime(*args, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def windows(db):
    """The six default windows. Migration 0002 creates them, but a transactional test (the
    browser tests) empties every table when it ends, so put them back when they are missing."""
    migration = importlib.import_module("services.migrations.0002_default_windows")
    for code, name, order in migration.DEFAULT_WINDOWS:
        Window.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    return {window.code: window for window in Window.objects.all()}


@pytest.fixture
def make_case(users, orgs, windows):
    """make_case(worker_name="王芳", window="legal_aid") logs a case as clerk_450102."""

    def _make(*, by="clerk_450102", org="450102", window="petition", close_now=False, **fields):
        user = users[by]
        fields.setdefault("worker_name", "王芳")
        fields.setdefault("matter", "咨询")
        fields.setdefault("channel", Case.Channel.VISIT)
        case = Case(
            organisation=orgs[org],
            window=windows[window],
            handler=fields.pop("handler", user),
            **fields,
        )
        return case_create(user=user, case=case, close_now=close_now)

    return _make
