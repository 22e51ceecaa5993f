"""Personal identifiers out of logs and error reports: every handler in LOGGING masks ID numbers
and bank accounts (orgs/logging.py), and the views where they are typed or shown hide the POST
data and local variables from Django's error reports (mails to ADMINS, the debug page)."""

import io
import logging
from datetime import date

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter

from households import services as household_services
from households.idnumbers import make_id_number
from orgs.logging import MaskPersonalDataFilter, mask_text
from services import views as service_views
from tests.households.conftest import dibao  # noqa: F401

ID = make_id_number("450102", date(1978, 3, 15), 31)
MASKED = ID[:6] + "*" * 8 + ID[-4:]
ACCOUNT = "6222020200112233445"


def test_mask_text():
    assert mask_text(f"身份证 {ID} 账号 {ACCOUNT}") == (f"身份证 {MASKED} 账号 ***************3445")
    assert mask_text("45010219780315031X") == "450102********031X"
    assert mask_text("卡号 6222 0202 0011 2233 445") == "卡号 ***************3445"
    assert mask_text("电话13800138000，") == "电话138****8000，"
    assert mask_text("phone=19912345678") == "phone=199****5678"
    # Dates, amounts, short ids and counters stay readable (landlines and runs of 8 to 11
    # digits are masked: test_logging_numbers.py).
    kept = "2026-01-02 10:30:00 0771-12351 ¥12,345.67 id=12345 rows=1000000"
    assert mask_text(kept) == kept


def test_every_handler_masks(settings):
    handlers = settings.LOGGING["handlers"]
    assert all("mask_pii" in handler.get("filters", []) for handler in handlers.values())
    assert settings.LOGGING["filters"]["mask_pii"]["()"] == "orgs.logging.MaskPersonalDataFilter"
    # Django's own loggers use our handlers, not the defaults without the filter.
    assert settings.LOGGING["loggers"]["django"]["handlers"] == ["mail_admins"]
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["django.server"]


@pytest.fixture
def console():
    """What the configured console handler writes."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_log_line_with_an_id_number_is_masked(console):
    logging.getLogger("households.importing").warning("第3行 身份证 %s 账号 %s 重复", ID, ACCOUNT)
    written = console.getvalue()
    assert f"第3行 身份证 {MASKED} 账号 ***************3445 重复" in written
    assert ID not in written and ACCOUNT not in written


def test_a_traceback_with_an_id_number_is_masked(console):
    try:
        raise ValueError(f"bad number {ID}")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /households/")
    written = console.getvalue()
    assert f"ValueError: bad number {MASKED}" in written
    assert ID not in written


def test_the_development_server_request_line_is_masked():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /?q={ID} HTTP/1.1", 200, 5),
        None,
    )
    assert MaskPersonalDataFilter().filter(record) is True
    assert ID not in record.getMessage() and MASKED in record.getMessage()


# --- Error reports ------------------------------------------------------------------------------


def report_of(caplog) -> str:
    """The text Django would mail to ADMINS for the request that just failed."""
    [record] = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    return ExceptionReporter(record.request, *record.exc_info).get_traceback_text()


def test_the_error_report_filter_detects_numbers_when_nothing_hides_them():
    """The control: a request without the decorators does show its POST data."""
    request = RequestFactory().post("/x/", {"id_number": ID})
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        text = ExceptionReporter(
            request, type(error), error, error.__traceback__
        ).get_traceback_text()
    assert ID in text


def form_data(response, **typed) -> dict:
    """What the page's form would post untouched (its initial values), with `typed` on top."""
    data = {}
    forms = [response.context["form"]]
    formset = response.context.get("formset")
    if formset is not None:
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value
    data.update(typed)
    return data


def test_household_form_errors_do_not_report_the_numbers(
    client,
    users,
    dibao,  # noqa: F811
    monkeypatch,
    caplog,
):
    worker_id = make_id_number("450102", date(1978, 5, 20), 317)
    spouse_id = make_id_number("450102", date(1980, 8, 2), 428)

    def broken(**kwargs):
        assert kwargs["household"].id_number == worker_id  # in this frame's locals, decrypted
        raise RuntimeError("database went away")

    monkeypatch.setattr(household_services, "household_create", broken)
    client.force_login(users["clerk_450102"])
    client.raise_request_exception = False
    from households.models import Cause

    page = client.get(reverse("households:create"))
    data = form_data(
        page,
        worker_name="韦小宝",
        id_number=worker_id,
        bank_name="工行",
        bank_account=ACCOUNT,
        primary_cause=Cause.objects.get(code="illness").pk,
        **{"members-0-monthly_income": "600"},
    )
    # A second member, the spouse, as the "添加成员" row would post it.
    for key, value in list(data.items()):
        if key.startswith("members-0-"):
            data.setdefault(key.replace("members-0-", "members-1-"), value)
    data.update(
        {
            "members-TOTAL_FORMS": 2,
            "members-1-relation": "spouse",
            "members-1-name": "李芳",
            "members-1-id_number": spouse_id,
            "members-1-monthly_income": "300",
        }
    )
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(reverse("households:create"), data)
    assert response.status_code == 500, response.context and response.context["form"].errors
    text = report_of(caplog)
    assert "database went away" in text  # the report is there
    for secret in (worker_id, spouse_id, ACCOUNT):
        assert secret not in text


def test_quick_entry_errors_do_not_report_the_number(client, users, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(service_views, "case_create", broken)
    client.force_login(users["clerk_450102"])
    client.raise_request_exception = False
    page = client.get(reverse("services:case_create"))
    data = form_data(
        page, worker_name="王芳", worker_id_number=ID, window="legal_aid", matter="欠薪"
    )
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(reverse("services:case_create"), data)
    assert response.status_code == 500, response.content[:500]
    text = report_of(caplog)
    assert "database went away" in text and ID not in text
