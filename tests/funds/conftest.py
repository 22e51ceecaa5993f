"""Fixtures for the funds tests: reference rows, files on file since a given date, money in an
account, and requests walked to approved or paid through the real services."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from funds import services
from funds.models import (
    Approval,
    AssistanceRequest,
    AssistanceStandard,
    AssistanceType,
    FundSource,
)
from households import services as household_services
from households.models import Category, Cause, Household
from households.services import MemberData
from orgs.models import User
from tests.conftest import on_day
from tests.households.conftest import (  # noqa: F401
    dibao,
    kept_members,
    make_household,
    new_id,
    walk,
)

ACCOUNT = "6222020200112233445"
BANK = "中国工商银行南宁分行"
FILED_ON = date(2016, 3, 1)


@pytest.fixture
def sources(db):
    return {source.code: source for source in FundSource.objects.all()}


@pytest.fixture
def types(db):
    return {kind.code: kind for kind in AssistanceType.objects.all()}


@pytest.fixture
def add_user(orgs, users):
    """add_user("clerk2_450102", "450102", "clerk") creates another staff user (or returns the
    demo user of that name, such as supervisor2_450102, with the role added)."""

    def _add(username, org_code, role):
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": username,
                "organisation": orgs[org_code],
                "is_staff": role != "clerk",
            },
        )
        assert user.organisation == orgs[org_code]
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
        return user

    return _add


def file_back_dated(clerk, household, on) -> None:
    """Submit, review, notice and approve a draft so that it is on file from `on` (imported,
    back-dated transitions: the checks of today's filings do not apply to history)."""
    for action, days in (("submit", 35), ("review", 30)):
        household_services.transition_apply(
            user=clerk,
            household=household,
            action=action,
            effective_date=on - timedelta(days=days),
            imported=True,
        )
    with on_day(on - timedelta(days=25)):  # posted then
        household_services.notice_start(
            user=clerk,
            organisation=household.organisation,
            households=[household],
            starts_on=on - timedelta(days=25),
            objection_contact="0771-12351",
        )
    household_services.transition_apply(
        user=clerk,
        household=household,
        action="approve",
        effective_date=on,
        reason="历史档案导入",
        imported=True,
    )


@pytest.fixture
def filed(users, orgs, dibao):  # noqa: F811
    """filed(on=date(2016, 3, 1)) files a household (with a bank account) that is on file from
    `on` to today, through the household services (imported, back-dated transitions)."""

    def _filed(*, on=FILED_ON, org="450102", clerk=None, category="deep", **fields):
        clerk = users[clerk or f"clerk_{org}"]
        household = Household(
            organisation=orgs[org],
            worker_name=fields.pop("worker_name", "张小明"),
            id_number=fields.pop("id_number", None) or new_id(),
            primary_cause=Cause.objects.get(code="illness"),
            category=Category.objects.get(code=category) if category else None,
            bank_name=fields.pop("bank_name", BANK),
            bank_account=fields.pop("bank_account", ACCOUNT),
            **fields,
        )
        members = [
            MemberData(relation="self", name="", monthly_income=Decimal("600.00")),
            MemberData(relation="spouse", name="李芳", id_number=new_id(1982)),
        ]
        household_services.household_create(
            user=clerk, household=household, members=members, applied_on=on - timedelta(days=40)
        )
        file_back_dated(clerk, household, on)
        household.refresh_from_db()
        return household

    return _filed


@pytest.fixture
def receive(users, orgs, sources):
    """receive("10000.00") records a receipt (central source, county 450102 by default)."""

    def _receive(
        amount,
        *,
        source="central",
        org="450102",
        on=date(2016, 1, 10),
        year=None,
        document_number="桂财行〔2016〕1号",
        by=None,
    ):
        return services.receipt_record(
            user=users[by or f"finance_{org}"],
            organisation=orgs[org],
            source=sources[source],
            year=year or on.year,
            amount=Decimal(amount),
            received_on=on,
            document_number=document_number,
        )

    return _receive


@pytest.fixture
def ask(users, types, sources):
    """ask(household, "1000.00") files a request as the household's clerk."""

    def _ask(household, amount, *, kind="other", source="central", on=None, by=None, **extra):
        return services.request_create(
            user=users[by or f"clerk_{household.organisation.code}"],
            household=household,
            assistance_type=types[kind],
            source=sources[source],
            amount=Decimal(amount),
            reason=extra.pop("reason", "因病致困，申请帮扶"),
            requested_on=on,
            **extra,
        )

    return _ask


@pytest.fixture
def approve(users):
    """approve(request) approves as the county's supervisor. The approval is dated `on` (by
    default the request's date), as when a paper history is entered: a payment may not be
    dated before the approval of its request."""

    def _approve(request, *, by=None, on=None, **extra):
        by = by or f"supervisor_{request.organisation.code}"
        request = services.request_approve(user=users[by], request=request, **extra)
        day = on or request.requested_on
        if day != timezone.localdate():
            moment = timezone.make_aware(datetime.combine(day, time(12)))
            Approval.objects.filter(request=request, approver=users[by]).update(decided_at=moment)
            if request.decided_at is not None:
                AssistanceRequest.objects.filter(pk=request.pk).update(decided_at=moment)
                request.decided_at = moment
        return request

    return _approve


@pytest.fixture
def pay(users):
    def _pay(request, *, on=None, by=None, reference="BANK-0001"):
        by = by or f"finance_{request.organisation.code}"
        entry = services.payment_mark_paid(
            user=users[by],
            request=request,
            paid_on=on or request.requested_on,
            bank_reference=reference,
        )
        request.refresh_from_db()
        return entry

    return _pay


@pytest.fixture
def standard(orgs, types):
    """standard("living", year=2026, amount_cap="500.00", …) for the region."""

    def _standard(kind, *, year, org="450000", **fields):
        return AssistanceStandard.objects.create(
            organisation=orgs[org], year=year, assistance_type=types[kind], **fields
        )

    return _standard


@pytest.fixture
def add_students(users):
    """add_students(household, "张一", "张二") adds children at university to the file, through
    the household service, and returns their member rows (助学 per student)."""

    def _add(household, *names, stage="college"):
        kept = kept_members(household)
        added = [
            MemberData(
                relation="child",
                name=name,
                id_number=new_id(2004),
                employment="student",
                school_stage=stage,
            )
            for name in names
        ]
        household_services.household_update(
            user=users[f"clerk_{household.organisation.code}"],
            household=household,
            members=kept + added,
            secondary_causes=list(household.secondary_causes.all()),
            reason="入户核实新增家庭成员",
        )
        return [household.members.get(name=name) for name in names]

    return _add


def sample_this_quarter(user, organisation, size=5):
    """A verification sample of the running quarter, drawn as on the first day of the next
    (a quarter is sampled once it has ended): the payments a test made today are in it."""
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    _start, next_quarter = services.quarter_bounds(today.year, quarter)
    with on_day(next_quarter):
        return services.sample_draw(
            user=user, organisation=organisation, year=today.year, quarter=quarter, size=size
        )
