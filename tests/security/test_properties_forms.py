"""Property-based tests of what users type: the ID-number validator, the money parser, and every
form of the project fed hostile data through the page that uses it.

For every form the pages post (found by importing each app's forms and admin modules, so a new
form fails `test_every_form_is_driven` until it is added to DRIVERS), hypothesis sends huge
strings, control characters, NUL bytes, unusual unicode, negative and enormous numbers, formula
text and SQL-ish text, and checks that the answer is never a 500, that a rejected submission
writes nothing, and that every rejection names a real field (or __all__) with a message. The
import row parser (imports/cells.py) has its own properties in tests/imports."""

import inspect
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funds.services import MAX_AMOUNT, check_amount
from households.idnumbers import check_char, validate_id_number

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PAGE_EXAMPLES = settings(FAST, max_examples=12)

# --- Hostile input --------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "abc\x00def",
    "\r\n\t\x0b\x0c\x1b[31m",
    "=CMD()",
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "'; DROP TABLE households_household; --",
    "1 OR 1=1",
    "<script>alert(1)</script>",
    "\u202egnp.exe",
    "\ufeff",
    "𠀀𪚥😀",
    "１２３４５",
    "Ⅻ",
    "A" * 100_000,
    "9" * 40,
    "-1",
    "-0.001",
    "0.001",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "0x10",
    "1,000.00",
    "99999999999999999999.99",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "2026-13-01T25:61",
    "on",
    "true",
    "None",
    "[]",
    "{}",
]

hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
)


# --- The ID-number validator ---------------------------------------------------------------------


@FAST
@given(st.one_of(st.text(max_size=30), st.sampled_from(NASTY), st.from_regex(r"\A\d{17}[\dXx]\Z")))
def test_the_id_validator_only_ever_raises_validation_error(value):
    try:
        number = validate_id_number(value)
    except ValidationError as error:
        assert error.messages and all(error.messages)
    else:
        assert len(number) == 18 and check_char(number[:17]) == number[17]


@FAST
@given(
    area=st.from_regex(r"\A[1-8][0-9]{5}\Z"),  # ASCII: \d would take ٠ and other scripts' digits
    born=st.dates(min_value=date(1900, 1, 1), max_value=timezone.localdate()),
    sequence=st.integers(min_value=0, max_value=999),
    spaces=st.booleans(),
)
def test_valid_id_numbers_pass(area, born, sequence, spaces):
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    number = first17 + check_char(first17)
    typed = f" {number[:6]} {number[6:14]} {number[14:].lower()} " if spaces else number
    assert validate_id_number(typed) == number
    wrong = first17 + next(c for c in "0123456789X" if c != number[17])
    with pytest.raises(ValidationError):
        validate_id_number(wrong)


APPS = ["orgs", "households", "funds", "services", "reports", "imports"]


def project_forms() -> list[type[forms.BaseForm]]:
    """The form classes defined in the apps' forms and admin modules."""
    found = []
    for app in APPS:
        for module_name in (f"{app}.forms", f"{app}.admin"):
            try:
                module = import_module(module_name)
            except ModuleNotFoundError:
                continue
            for _name, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, forms.BaseForm) and obj.__module__ == module_name:
                    found.append(obj)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__name__}")


# --- Money ----------------------------------------------------------------------------------------

money_input = st.one_of(
    hostile_text,
    st.none(),
    st.floats(allow_nan=True),
    st.integers(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2),
)


@FAST
@given(money_input)
def test_check_amount_returns_cents_or_names_the_field(value):
    try:
        amount = check_amount(value, field="amount")
    except ValidationError as error:
        assert set(error.message_dict) == {"amount"}
    else:
        assert isinstance(amount, Decimal)
        assert Decimal("0.01") <= amount <= MAX_AMOUNT
        assert amount == amount.quantize(Decimal("0.01"))
        assert not isinstance(value, float)


@FAST
@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2))
def test_check_amount_accepts_every_sum_of_cents(amount):
    assert check_amount(str(amount)) == amount
    assert check_amount(amount) == amount


def decimal_fields():
    """Every DecimalField of the project's forms, by form and field name."""
    found = []
    for form_class in project_forms():
        for name, form_field in form_class.base_fields.items():
            if isinstance(form_field, forms.DecimalField):
                found.append(pytest.param(form_field, id=f"{form_class.__name__}.{name}"))
    return found


@pytest.mark.parametrize("form_field", decimal_fields())
@FAST
@given(value=hostile_text)
def test_form_decimal_fields_clean_or_refuse(form_field, value):
    try:
        cleaned = form_field.clean(value)
    except ValidationError as error:
        assert error.messages
    else:
        assert cleaned is None or (isinstance(cleaned, Decimal) and cleaned.is_finite())


# --- Every form, through its page -----------------------------------------------------------------


@dataclass(frozen=True)
class Driver:
    """How a form reaches the database: the page that posts it (URL name and the dataset
    records in it), who posts, and the extra fields the page needs to pick the form."""

    url: str
    args: tuple = ()
    user: str = "clerk_450102"
    method: str = "post"
    context: str = "form"  # the context name of the bound form on a refusal
    files: tuple = ()  # file fields
    extra: dict = field(default_factory=dict)  # fixed fields (admin action and confirmation)
    prefix: str = ""
    direct: bool = False  # no page: the form's own is_valid() (an export starts a whole job)


ACTION = {"_selected_action": "{pk}"}
DRIVERS = {
    # households
    "households.forms.HouseholdForm": Driver("households:create"),
    "households.forms.MemberForm": Driver("households:create", context="formset"),
    "households.forms.TransitionForm": Driver(
        "households:transition",
        ("notice", "reject"),
        user="supervisor_450102",
        prefix="step-reject",
    ),
    "households.forms.NoticeStartForm": Driver("households:notice_start"),
    "households.forms.ClosureRequestForm": Driver("households:closure_request", ("on_file",)),
    "households.forms.ClosureDecisionForm": Driver(
        "households:closure_decide", ("closure",), user="supervisor_450102"
    ),
    "households.forms.ObjectionForm": Driver("households:objection_create", ("notice",)),
    "households.forms.ObjectionResolveForm": Driver(
        "households:objection_resolve", ("objection",), user="supervisor_450102"
    ),
    "households.forms.SurveyForm": Driver("households:survey", ("on_file",)),
    "households.forms.DocumentUploadForm": Driver(
        "households:document_upload", ("draft",), files=("file",)
    ),
    "households.forms.SpotCheckDrawForm": Driver(
        "households:spotcheck_list", user="supervisor_450102"
    ),
    "households.forms.SpotCheckForm": Driver("households:spotcheck_record", ("spotcheck_item",)),
    "households.forms.LateEntryFilterForm": Driver(
        "households:late_entries", user="supervisor_450102", method="get"
    ),
    "households.admin.ReasonForm": Driver(
        "admin:households_household_changelist",
        user="supervisor_450102",
        extra={"action": "approve_applications", "post": "yes", "_selected_action": "notice"},
    ),
    "households.admin.DibaoStandardForm": Driver(
        "admin:households_dibaostandard_add", user="admin_450102", context="adminform"
    ),
    # funds
    "funds.forms.ReceiptForm": Driver("funds:receipt_create", user="finance_450102"),
    "funds.forms.RefundForm": Driver("funds:refund_create", user="finance_450102"),
    "funds.forms.ReverseForm": Driver("funds:entry_reverse", ("entry",), user="finance_450102"),
    "funds.forms.YearCloseForm": Driver("funds:year_close", user="admin_450102"),
    "funds.forms.RequestForm": Driver("funds:request_create", ("money",)),
    "funds.forms.RequestBatchForm": Driver("funds:request_batch"),
    "funds.forms.DecisionForm": Driver("funds:request_decide", ("new",), user="supervisor_450102"),
    "funds.forms.ConfirmForm": Driver("funds:request_retry", ("new",)),
    "funds.forms.ReasonForm": Driver("funds:request_cancel", ("new",)),
    "funds.forms.PayForm": Driver("funds:request_pay", ("waiting",), user="finance_450102"),
    "funds.forms.RepaymentForm": Driver("funds:repayment_create", ("paid",), user="finance_450102"),
    "funds.forms.BatchForm": Driver("funds:batch_list", user="finance_450102"),
    "funds.forms.ReturnFileForm": Driver(
        "funds:batch_detail", ("batch",), user="finance_450102", files=("file",)
    ),
    "funds.forms.SampleForm": Driver("funds:sample_list", user="finance_450102"),
    "funds.forms.VerificationForm": Driver(
        "funds:verification_record", ("item",), user="finance_450102"
    ),
    "funds.forms.FollowUpForm": Driver(
        "funds:verification_resolve", ("item",), user="finance_450102"
    ),
    "funds.forms.StatementForm": Driver("funds:statement", user="viewer_450100", method="get"),
    "funds.forms.HouseholdSearchForm": Driver("funds:household_pick", method="get"),
    "funds.admin.ClosedYearForm": Driver(
        "admin:funds_closedyear_add", user="admin_450102", context="adminform"
    ),
    "funds.admin.DecisionForm": Driver(
        "admin:funds_assistancerequest_changelist",
        user="supervisor_450102",
        extra={"action": "approve_selected", "confirm": "yes", "_selected_action": "new"},
    ),
    "orgs.admin.OrganisationForm": Driver(
        "admin:orgs_organisation_change", ("base_union",), user="admin_450102", context="adminform"
    ),
    "orgs.admin.UserChangeForm": Driver(
        "admin:orgs_user_change", ("spare_user",), user="admin_450102", context="adminform"
    ),
    "orgs.admin.AdminPasswordChangeForm": Driver(
        "admin:auth_user_password_change", ("spare_user",), user="admin_450102"
    ),
    # service centre
    "services.forms.CaseForm": Driver("services:case_update", ("case",)),
    "services.forms.QuickCaseForm": Driver("services:case_create"),
    "services.forms.CloseCaseForm": Driver("services:case_close", ("case",)),
    "services.forms.ReferCaseForm": Driver("services:case_refer", ("case",)),
    "services.forms.ReopenCaseForm": Driver("services:case_reopen", ("case",)),
    "services.forms.FollowUpForm": Driver("services:case_follow_up", ("case",)),
    "services.forms.LegalAidForm": Driver("services:legal_aid_edit", ("case",)),
    "services.forms.JobReferralForm": Driver("services:referral_create"),
    "services.forms.TrainingCourseForm": Driver("services:course_create"),
    "services.forms.TrainingAttendeeForm": Driver("services:attendee_create", ("course",)),
    # reports (query strings)
    "reports.forms.SummaryForm": Driver("reports:summary", user="viewer_450100", method="get"),
    "reports.forms.RosterForm": Driver("reports:roster", user="viewer_450100", method="get"),
    # imports
    "imports.forms.UploadForm": Driver("imports:upload", ("households",), files=("file",)),
    "imports.forms.ExportForm": Driver("imports:export", direct=True),
}


def test_every_form_is_driven():
    found = {f"{c.__module__}.{c.__name__}" for c in project_forms()}
    assert found == set(DRIVERS), (
        f"forms without a driver: {sorted(found - set(DRIVERS))}; "
        f"drivers without a form: {sorted(set(DRIVERS) - found)}"
    )


# What a refused submission must not have written: the business tables and their history.
WATCHED = [
    "households_household",
    "households_historicalhousehold",
    "households_member",
    "households_historicalmember",
    "households_transition",
    "households_survey",
    "households_publicnotice",
    "households_objection",
    "households_closurerequest",
    "households_document",
    "households_dibaostandard",
    "households_spotchecksample",
    "funds_assistancerequest",
    "funds_historicalassistancerequest",
    "funds_approval",
    "funds_ledgerentry",
    "funds_receipt",
    "funds_refund",
    "funds_repayment",
    "funds_paymentbatch",
    "funds_verificationsample",
    "funds_closedyear",
    "services_case",
    "services_caseevent",
    "services_legalaidcase",
    "services_jobreferral",
    "services_trainingcourse",
    "services_trainingattendee",
    "imports_importjob",
]


def row_counts() -> tuple:
    """All the watched tables' row counts in one query."""
    tables = [t for t in WATCHED if t in connection.introspection.table_names()]
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


def bound_forms(response, driver):
    """The bound forms of a re-rendered page: the form, or every form of a formset."""
    context = response.context
    if context is None:
        return []
    found = context.get(driver.context)
    if found is None:
        return []
    if driver.context == "adminform":
        return [found.form]
    if isinstance(found, forms.BaseFormSet):
        return [found.management_form, *found.forms]
    return [found]


def field_names(world, driver):
    """The names the page's form posts (prefixes and per-member fields included)."""
    if driver.direct or driver.extra:
        return None
    response = send(world, driver, {}, method="get")
    names = []
    for form in bound_forms(response, driver):
        names += [form.add_prefix(name) for name in form.fields]
    context = response.context or {}
    formset = context.get("formset")
    if isinstance(formset, forms.BaseFormSet) and driver.context == "form":
        names += [formset.management_form.add_prefix(n) for n in formset.management_form.fields]
    return names


def send(world, driver, data, *, method=None):
    client = world["clients"](driver.user)
    args = [world.get(arg, arg) for arg in driver.args]
    url = reverse(driver.url, args=args)
    if (method or driver.method) == "get":
        return client.get(url, data)
    return client.post(url, data)


FORM_CLASSES = {f"{c.__module__}.{c.__name__}": c for c in project_forms()}


def check_form_with(world, name, data, files):
    driver = DRIVERS[name]
    form_class = FORM_CLASSES[name]
    if driver.direct:
        form = form_class(data)
        if not form.is_valid():
            assert set(form.errors) <= {*form.fields, "__all__"}
        return
    payload = dict(data)
    for key, value in driver.extra.items():
        payload[key] = world.get(value, value)
    for file_field in driver.files:
        content, file_name = files
        payload[driver.prefix + file_field] = SimpleUploadedFile(file_name, content)
    before = row_counts()
    response = send(world, driver, payload)
    assert response.status_code != 500
    # 404: a report asked for an organisation code outside the user's subtree; 303: a search
    # box given an ID number, sent to the list by its hash (orgs/idsearch.py)
    allowed = (200, 302, 303, 400, 404) if driver.method == "get" else (200, 302, 400)
    assert response.status_code in allowed, response.status_code
    if response.status_code in (303, 404):
        return
    if response.status_code == 302:
        return  # accepted: whatever it wrote, it wrote whole (the services are atomic)
    assert row_counts() == before, f"{name}: a refused submission wrote something"
    for form in bound_forms(response, driver):
        if not form.is_bound or form.is_valid():
            continue
        assert set(form.errors) <= {*form.fields, "__all__"}, form.errors
        for messages in form.errors.values():
            assert messages and all(str(m).strip() for m in messages)


file_upload = st.tuples(
    st.one_of(
        st.binary(max_size=300),
        st.sampled_from([b"%PDF-1.4\n", b"PK\x03\x04" + b"\x00" * 40, b"\x89PNG\r\n\x1a\n"]),
    ),
    st.one_of(
        st.sampled_from(["a.pdf", "../../etc/passwd", "x" * 300 + ".xlsx", "空.png"]),
        # names a client can send: Django refuses to build an upload without a base name
        st.text(min_size=1, max_size=20).filter(
            lambda s: "\x00" not in s and os.path.basename(s) not in {"", ".", ".."}
        ),
    ),  # fmt: skip
)


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_hostile_submissions(name, world, db):
    driver = DRIVERS[name]
    if driver.direct or driver.extra:
        names = list(FORM_CLASSES[name].base_fields)
        if driver.extra:
            names = [n for n in names if n not in driver.extra]
    else:
        names = field_names(world, driver)
        assert names or not FORM_CLASSES[name].base_fields, f"{name}: no form on the page"
        names = names or ["unexpected"]  # a confirmation with nothing to type: send junk

    # each field its own value, or every field the same one (a key too big for the database
    # in every select at once found a 500 that independent values hardly ever hit)
    values = st.one_of(
        st.lists(hostile_text, min_size=len(names), max_size=len(names)),
        hostile_text.map(lambda value: [value] * len(names)),
    )

    @PAGE_EXAMPLES
    @given(values=values, files=file_upload)
    def submit(values, files):
        data = dict(zip(names, values, strict=True))
        for file_field in driver.files:
            data.pop(driver.prefix + file_field, None)
        check_form_with(world, name, data, files)

    submit()


def test_the_drill_is_real(world, db):
    """A refusal is detected as one: a valid submission does get through (a receipt)."""
    driver = DRIVERS["funds.forms.ReceiptForm"]
    before = row_counts()
    response = send(
        world,
        driver,
        {
            "organisation": _county_a(),
            "source": world["source"],
            "year": timezone.localdate().year,
            "amount": "100.00",
            "received_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "document_number": "桂财〔2026〕9号",
            "note": "",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert row_counts() != before


def _county_a() -> int:
    from orgs.models import Organisation

    return Organisation.objects.get(code="450102").pk


# --- What the fuzzing found (regressions) ---------------------------------------------------------


def test_an_exponent_beyond_the_decimal_context_is_too_big_not_a_crash():
    # Decimal("1e309").quantize(…) raised InvalidOperation before the size was checked
    with pytest.raises(ValidationError) as refused:
        check_amount("1e309")
    assert refused.value.message_dict == {"amount": ["金额过大。"]}


@pytest.mark.parametrize(
    ("url", "field"),
    [("households:create", "secondary_causes"), ("households:notice_start", "households")],
)
def test_a_key_too_big_for_the_database_is_refused_on_the_field(world, db, url, field):
    # SQLite could not bind it in the IN (…) query: a 500 before the fix
    response = world["clients"]("clerk_450102").post(reverse(url), {field: ["9" * 40]})
    assert response.status_code == 200
    assert field in response.context["form"].errors


def test_a_forged_member_count_builds_no_thousand_forms(world, db):
    # Django's default limit is max_num + 1000 forms: seconds of work for one request
    response = world["clients"]("clerk_450102").post(
        reverse("households:create"),
        {"members-TOTAL_FORMS": "9" * 40, "members-INITIAL_FORMS": "0"},
    )
    formset = response.context["formset"]
    assert len(formset.forms) <= 21
    assert formset.non_form_errors()
