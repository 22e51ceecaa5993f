"""Fixtures for household files: a dibao line, a file factory, and a helper that walks a file
through the lifecycle the way staff do."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from households import selectors, services
from households.idnumbers import make_id_number
from households.models import (
    Cause,
    DibaoStandard,
    Document,
    FilingPeriod,
    Household,
    Objection,
    PublicNotice,
    Survey,
    Transition,
)
from households.services import MemberData
from tests.conftest import on_day

LINE = Decimal("1000.00")


@pytest.fixture
def dibao(orgs):
    """A dibao line of 1,000 yuan a month for the whole region, last year to next year."""
    year = timezone.localdate().year
    for y in (year - 1, year, year + 1):
        DibaoStandard.objects.create(organisation=orgs["450000"], year=y, monthly_amount=LINE)
    return LINE


_sequence = iter(range(1, 10_000))

# A migrant worker who meets the filing condition: a union member in work since 2015.
MIGRANT = {
    "is_migrant_worker": True,
    "is_union_member": True,
    "labour_relation_since": date(2015, 3, 1),
}


MEMBER_FIELDS = (
    "relation",
    "name",
    "id_number",
    "health",
    "disability",
    "employment",
    "school_stage",
    "monthly_income",
)


def kept_members(household) -> list[MemberData]:
    """The file's members as they are, for a household_update that changes something else."""
    return [
        MemberData(pk=member.pk, **{name: getattr(member, name) for name in MEMBER_FIELDS})
        for member in household.members.order_by("pk")
    ]


def new_id(year=1980):
    return make_id_number("450102", date(year, 3, 15), next(_sequence))


def attach_documents(household, user) -> None:
    """Upload what the file lacks of its required documents (selectors.documents_missing, a
    diagnosis issued today), as a clerk does before submitting it."""
    for item in selectors.documents_missing(household):
        services.document_upload(
            user=user,
            household=household,
            kind=item.kind,
            upload=SimpleUploadedFile(f"{item.kind}.pdf", b"%PDF-1.4 " + item.kind.encode()),
            issued_on=timezone.localdate() if item.kind == Document.Kind.DIAGNOSIS else None,
        )


@pytest.fixture
def make_household(users, orgs, dibao):
    """make_household(…) enters a draft file with its required documents (documents=False:
    none)."""

    def _make(
        *,
        by="clerk_450102",
        org="450102",
        worker_income="600.00",
        members=None,
        primary="illness",
        id_number=None,
        documents=True,
        **fields,
    ):
        household = Household(
            organisation=orgs[org],
            worker_name=fields.pop("worker_name", "张小明"),
            id_number=id_number or new_id(),
            primary_cause=Cause.objects.get(code=primary),
            **fields,
        )
        if members is None:
            members = [MemberData(relation="spouse", name="李芳", id_number=new_id(1982))]
        worker = MemberData(relation="self", name="", monthly_income=Decimal(worker_income))
        household = services.household_create(
            user=users[by], household=household, members=[worker, *members]
        )
        if documents:
            attach_documents(household, users[by])
        return household

    return _make


def write_survey(household, day, *, above, period=None) -> Survey:
    """A survey row written by hand: above the line (1,200 a head) or below it (500), of the
    current filing period or `period`; also what survey_record refuses (a date ahead, an old
    period). Follow it with keep_exit_run."""
    return Survey.objects.create(
        household=household,
        period=period or household.current_period,
        surveyed_on=day,
        surveyors="王",
        findings="入户",
        per_capita_income=Decimal("1200.00") if above else Decimal("500.00"),
        dibao_line=LINE,
        is_above_line=above,
        recorded_by=household.created_by,
    )


def keep_exit_run(household) -> Household:
    """After writing surveys or a period by hand: what the services do when they change the
    file's run above the dibao line (recompute and save `above_line_since`)."""
    fresh = Household.objects.get(pk=household.pk)
    services.recompute_exit_run(fresh)
    fresh.save(update_fields=["above_line_since"])
    return fresh


WALK_APPLIED_DAYS_AGO = 50


def age_file(household, days):
    """Move every date of a file `days` back, as if all of it had happened then: the pages and
    services date a step today, and a notice may not start before the step that precedes it,
    so a test of what follows a notice that has run lets that time pass. The notice ends after
    its working days from the new start. (A notice of several files moves with each of them:
    use it on single-file notices.)"""
    delta = timedelta(days=days)

    def shift(queryset, *fields):
        for row in queryset:
            moved = {f: getattr(row, f) - delta for f in fields if getattr(row, f) is not None}
            type(row).objects.filter(pk=row.pk).update(**moved)

    periods = FilingPeriod.objects.filter(household=household)
    household_dates = ("status_changed_on", "last_survey_on", "next_survey_due", "above_line_since")
    shift(Household.objects.filter(pk=household.pk), *household_dates)
    notices = PublicNotice.objects.filter(periods__in=periods).distinct()
    shift(notices, "starts_on")
    # Read again (shift evaluated the queryset before moving the starts): working days, not
    # calendar days, as notice_start counts them.
    for notice in notices.all():
        organisations = services.notice_organisations(notice)
        notice.working_days, notice.ends_on = services.notice_length(
            organisations, notice.starts_on
        )
        notice.save(update_fields=["working_days", "ends_on"])
    shift(periods, "applied_on", "filed_on", "closed_on")
    shift(
        Transition.objects.filter(household=household), "effective_date", "valid_until", "filed_on"
    )
    shift(Survey.objects.filter(household=household), "surveyed_on")
    shift(Objection.objects.filter(household=household), "raised_on")
    household.refresh_from_db()


def walk_file(users, household, target, *, clerk="clerk_450102", supervisor="supervisor_450102"):
    """Draft (entered 50 days ago) → applied (45) → surveyed (40) and reviewed (35) → notice
    (30 days ago) → on file today, through the real steps; from wherever the file stands (an
    application already submitted, or reopened, goes on with the survey)."""
    order = ["applied", "reviewed", "notice", "on_file"]
    today = timezone.localdate()
    household.refresh_from_db()  # the services change their own copy
    entered = household.current_period.applied_on
    if entered > today - timedelta(days=WALK_APPLIED_DAYS_AGO):
        age_file(household, (entered - today).days + WALK_APPLIED_DAYS_AGO)
    done = order.index(household.status) + 1 if household.status in order else 0
    for step in order[done : order.index(target) + 1]:
        household.refresh_from_db()
        if step in ("applied", "reviewed", "on_file"):
            # The steps that check the documents: a refiling starts without any.
            attach_documents(household, users[clerk])
        if step == "applied":
            services.transition_apply(
                user=users[clerk],
                household=household,
                action="submit",
                effective_date=today - timedelta(days=45),
            )
        elif step == "reviewed":
            services.survey_record(
                user=users[clerk],
                household=household,
                surveyed_on=today - timedelta(days=40),
                surveyors="王录入员",
                findings="家中有重病患者",
                incomes={},
            )
            services.transition_apply(
                user=users[clerk],
                household=household,
                action="review",
                effective_date=today - timedelta(days=35),
            )
        elif step == "notice":
            with on_day(today - timedelta(days=30)):  # posted then
                services.notice_start(
                    user=users[clerk],
                    organisation=household.organisation,
                    households=[household],
                    starts_on=today - timedelta(days=30),
                    objection_contact="兴宁区总工会 0771-12351",
                )
        elif step == "on_file":
            services.transition_apply(
                user=users[supervisor],
                household=household,
                action="approve",
                reason="经审核符合条件",
            )
    household.refresh_from_db()
    return household


@pytest.fixture
def walk(users):
    """walk(household, "on_file") moves a file through the real steps, clerk and supervisor."""

    def _walk(household, target, **roles):
        return walk_file(users, household, target, **roles)

    return _walk
