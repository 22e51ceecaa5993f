"""Reads of household files: the staff list, the search box, "my work" and the standing lists of
the national system (files unchanged for a year, surveys due and overdue, exit candidates).
Every function starts from `visible_to(user)`; none loops over households in Python."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from households.models import (
    AMEND,
    OPEN_STATUSES,
    SUPPORTED_STATUSES,
    ClosureRequest,
    Document,
    Household,
    Member,
    Objection,
    PublicNotice,
    Status,
    Survey,
    Transition,
)
from orgs import idsearch
from orgs.calendar import add_months, add_working_days
from orgs.models import Organisation, User

EXIT_RUN_MONTHS = 6  # above the dibao line for six consecutive months → may exit (脱困)
UNCHANGED_DAYS = 365
NOTICE_ENDING_WORKING_DAYS = 5
SURVEY_DUE_DAYS = 30
RECENT_REJECTIONS_DAYS = 30
# A diagnosis proves an illness for a year [002] (services.diagnosis_is_recent).
DIAGNOSIS_VALID_MONTHS = 12
# The steps whose actor entered or submitted a filing (services._entered_or_submitted_by): a
# reopened filing (重新申请) goes straight to applied with no submit.
SUBMITTING_ACTIONS = ("create", "submit", "reopen")
APPROVE_PERMISSION = "households.approve_household"


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def responsible_staff_candidates(*, user=None, organisation=None) -> QuerySet[User]:
    """Who may be a file's first responsible person (第一帮扶责任人), a county-union staff
    member (DOMAIN.md): an active user of a union above the base unions; given who names them,
    one within that user's reach; given the file's organisation, one of that organisation or
    above it, never of another county. The form offers those of the user, not knowing the
    organisation yet; the services check both."""
    levels = [level for level in Organisation.Level.values if level != Organisation.Level.BASE]
    found = User.objects.filter(is_active=True, organisation__level__in=levels)
    if user is not None:
        found = found.filter(pk__in=User.objects.visible_to(user).values("pk"))
    if organisation is not None:
        found = found.filter(organisation__in=organisation.ancestors_and_self)
    return found


def household_list(*, user) -> QuerySet[Household]:
    """The files the user may see, with what a list row shows."""
    return (
        Household.objects.visible_to(user)
        .select_related("organisation", "base_union", "primary_cause", "category")
        # Lists never decrypt: the masked copy is shown, the encrypted columns stay unread.
        .defer("id_number", "bank_account")
    )


def search(queryset: QuerySet[Household], q: str) -> QuerySet[Household]:
    """One box: a full ID number matches exactly (the worker's or a member's, by keyed hash);
    anything else is a prefix of the file number or of the worker's name. Prefixes only: the
    table holds millions of rows and `LIKE 'x%'` can use an index where `'%x%'` cannot.
    (The list's box never passes an ID number here: the list searches its hash, `idh`.)"""
    q = (q or "").strip()
    if not q:
        return queryset
    if number := idsearch.id_number_in(q):
        return search_id_hash(queryset, idsearch.search_hash(number))
    return queryset.filter(Q(file_number__startswith=q) | Q(worker_name__startswith=q))


def search_id_hash(queryset: QuerySet[Household], key: str) -> QuerySet[Household]:
    """The files whose worker or a member has the ID number of this keyed hash."""
    # Two indexed look-ups; an OR with a subquery would make PostgreSQL scan every file.
    members_of = list(
        Member.objects.filter(id_hash=key).values_list("household_id", flat=True)[:100]
    )
    return queryset.filter(Q(id_hash=key) | Q(pk__in=members_of))


# --- Standing lists ------------------------------------------------------------------------
# Each takes the files in the user's scope, or `base`: the household list narrows its own
# queryset with a standing list's conditions (one scan; as `pk__in` a subquery of its own, the
# never-assisted list of 100,000 files took 3 s instead of 1 ms on PostgreSQL).


def _files(user, base=None):
    return Household.objects.visible_to(user) if base is None else base


def surveys_due(user, within_days: int = SURVEY_DUE_DAYS, *, today: date | None = None, base=None):
    """Files on file or relieved whose next home survey falls within the next `within_days`."""
    today = today or timezone.localdate()
    return _files(user, base).filter(
        status__in=SUPPORTED_STATUSES,
        next_survey_due__gte=today,
        next_survey_due__lte=today + timedelta(days=within_days),
    )


def surveys_overdue(user, *, today: date | None = None, base=None):
    """Files on file or relieved whose home survey (twice a year [000]) is past due."""
    today = today or timezone.localdate()
    return _files(user, base).filter(status__in=SUPPORTED_STATUSES, next_survey_due__lt=today)


def unchanged_for_a_year(user, *, today: date | None = None, base=None):
    """Open files nobody has touched for a year: due for the yearly clean-up [DOMAIN 6]."""
    today = today or timezone.localdate()
    cutoff = _start_of(today - timedelta(days=UNCHANGED_DAYS))
    return _files(user, base).filter(status__in=OPEN_STATUSES, updated_at__lt=cutoff)


def never_assisted(user, *, base=None):
    """Files on file or relieved that have received no payment in their current filing period
    (先建档、后帮扶: a filed household should be helped). Payments are the funds app's paid
    assistance requests; one asked for before the file was reopened (返困) helped the hardship
    of an earlier period, not this one (a request is dated on a day the file is supported, so
    after the period's application)."""
    from funds.models import AssistanceRequest, RequestState

    paid = AssistanceRequest.objects.filter(
        household=OuterRef("pk"),
        state=RequestState.PAID,
        requested_on__gte=OuterRef("current_period__applied_on"),
    )
    return _files(user, base).filter(status__in=SUPPORTED_STATUSES).filter(~Exists(paid))


def _day_number(field: str):
    """A date column as the number yyyymmdd (20210315), comparable across years in SQL."""
    return ExtractYear(field) * 10000 + ExtractMonth(field) * 100 + ExtractDay(field)


def _breaks_migrant_rule() -> Q:
    """A migrant worker (农民工) whose union membership or labour relation is not recorded, or
    breaks the filing rule (eligibility.migrant_worker_errors: a union member a year into the
    labour relation on the application date of the current filing), as a query. The year ends
    as add_months counts it: the anniversary as yyyymmdd (29 February's on the 28th), after
    the application date's."""
    since = "labour_relation_since"
    anniversary = (
        _day_number(since)
        + 10000
        - Case(When(**{f"{since}__month": 2, f"{since}__day": 29}, then=Value(1)), default=0)
    )
    return Q(is_migrant_worker=True) & (
        Q(is_union_member__isnull=True)
        | Q(is_union_member=False)
        | Q(labour_relation_since__isnull=True)
        | Q(GreaterThan(anniversary, _day_number("current_period__applied_on")))
    )


def migrant_membership_unverified(user, *, base=None):
    """Files under notice, on file or relieved of migrant workers (农民工) whose union membership
    or labour relation is not recorded, or breaks the filing rule (_breaks_migrant_rule): files
    imported under notice or on file, whose workbook carries neither, or entered before they
    were asked for. For the supervisors to follow up (农民工会员资格待核实); one under notice
    the approval refuses (services.migrant_worker_errors), so it waits here, not among the
    approvals, until its facts are corrected or it is rejected."""
    return _files(user, base).filter(
        _breaks_migrant_rule(), status__in=(Status.NOTICE, *SUPPORTED_STATUSES)
    )


def requests_at_closure(household) -> tuple[list, list]:
    """The file's unsettled assistance requests, shown to a supervisor deciding its exit or
    deregistration, as (cancelled with it, kept): those awaiting a decision are cancelled with
    the closure (funds.services.requests_close_with_file); approved or failed ones stay for
    finance to pay (for days before the closure) or cancel."""
    from funds.models import RequestState
    from funds.selectors import open_requests

    waiting, kept = [], []
    for request in open_requests(household):
        (waiting if request.state == RequestState.REQUESTED else kept).append(request)
    return waiting, kept


def exit_candidates(user, *, today: date | None = None, base=None):
    """Files on file or relieved whose home surveys of the current filing period show the
    per-capita income above the dibao line without a break for at least six months, up to and
    including the latest survey (脱困: above the line for six consecutive months [000]).

    The run's first day is kept on the file (`Household.above_line_since`, see
    `above_line_run`), so this is a range on one indexed column, not an aggregate per file."""
    today = today or timezone.localdate()
    cutoff = add_months(today, -EXIT_RUN_MONTHS)
    return _files(user, base).filter(status__in=SUPPORTED_STATUSES, above_line_since__lte=cutoff)


def qualifies_for_exit(household, on: date) -> bool:
    """The file's surveys show it above the dibao line for six months by `on` (as
    exit_candidates lists it): an exit without that is the supervisor's call against them."""
    since = household.above_line_since
    return since is not None and since <= add_months(on, -EXIT_RUN_MONTHS)


def above_line_run(household=None, period=None, *, survey_model=None) -> QuerySet:
    """The surveys of the run above the dibao line that ends at the file's latest survey of its
    current filing period: above the line, and no survey of that period below it on the same day
    or later. The earliest of them is `Household.above_line_since`; none, when the latest survey
    is below the line (a below-line survey the same day as an above-line one breaks the run).

    Without `household` and `period`, a subquery correlated with a Household row (its pk and
    current period); the migration that added the column passes its historical Survey model."""
    surveys = (survey_model or Survey)._default_manager
    breaks = surveys.filter(
        household_id=OuterRef("household_id"),
        period_id=OuterRef("period_id"),
        is_above_line=False,
        surveyed_on__gte=OuterRef("surveyed_on"),
    )
    return surveys.filter(
        household_id=OuterRef("pk") if household is None else household,
        period_id=OuterRef("current_period_id") if period is None else period,
        is_above_line=True,
    ).exclude(Exists(breaks))


def above_line_since(*, survey_model=None) -> Subquery:
    """`Household.above_line_since` of each file, for an UPDATE of many files at once."""
    run = above_line_run(survey_model=survey_model)
    return Subquery(run.order_by("surveyed_on").values("surveyed_on")[:1])


# --- Queues of "my work" ---------------------------------------------------------------------


def drafts(user, *, base=None):
    return _files(user, base).filter(status=Status.DRAFT)


def applications_to_review(user, *, base=None):
    """Submitted files waiting for the home survey and review (申请 → 审核)."""
    return _files(user, base).filter(status=Status.APPLIED)


def notices_ending(user, *, today: date | None = None, organisation=None, base=None):
    """Files under notice whose notice ends within the next five working days. Read from the
    notices' end (the index `notice_ends`) to their files: most files under notice are past
    their end, waiting for approval."""
    today = today or timezone.localdate()
    org = organisation or getattr(user, "organisation", None)
    until = add_working_days(today, NOTICE_ENDING_WORKING_DAYS, org)
    return _files(user, base).filter(
        status=Status.NOTICE,
        current_period__notice__ends_on__gte=today,
        current_period__notice__ends_on__lte=until,
    )


def _pending_objections():
    return Objection.objects.filter(
        period=OuterRef("current_period"), outcome=Objection.Outcome.PENDING
    )


def _not_their_own(user, files):
    """For a user who approves, the files they did not enter or submit: the approval and the
    objections' decision refuse them (segregation of duties), another supervisor takes them."""
    if not user.has_perm(APPROVE_PERMISSION):
        return files
    theirs = Transition.objects.filter(
        period=OuterRef("current_period"), action__in=SUBMITTING_ACTIONS, actor=user
    )
    return files.exclude(created_by=user).exclude(Exists(theirs))


def closing_step(household: Household) -> Transition | None:
    """The step that put the file in its current (closed) status in its current period: the
    latest such step, not a later fact change (AMEND) dated after it."""
    return (
        household.transitions.filter(period=household.current_period, to_status=household.status)
        .exclude(action=AMEND)
        .order_by("-effective_date", "-id")
        .first()
    )


def period_documents(household) -> QuerySet:
    """The documents in force of the file's current filing: since its reopening (重新申请),
    when it is a refiling; an earlier filing's documents are that filing's record."""
    reopened = (
        Transition.objects.filter(period_id=household.current_period_id, action="reopen")
        .values_list("created_at", flat=True)
        .first()
    )
    documents = household.documents.filter(is_active=True)
    return documents if reopened is None else documents.filter(uploaded_at__gte=reopened)


def _diagnosis_expired(today: date) -> Q:
    """The latest diagnosis in force of the file's current filing (period_documents) was
    issued more than a year before `today` (services.diagnosis_is_recent, as a query): the
    approval refuses it until a newer one."""
    reopened_since = Transition.objects.filter(
        period=OuterRef("household__current_period"),
        action="reopen",
        created_at__gt=OuterRef("uploaded_at"),
    )
    diagnoses = Document.objects.filter(
        household=OuterRef("pk"), kind=Document.Kind.DIAGNOSIS, is_active=True
    ).exclude(Exists(reopened_since))
    cutoff = add_months(today, -DIAGNOSIS_VALID_MONTHS)
    return Q(Exists(diagnoses)) & ~Q(Exists(diagnoses.filter(issued_on__gte=cutoff)))


# --- The documents a file must hold (证明材料) -------------------------------------------------

# [002] 七、困难员工需提供的相关资料: copies of the worker's ID card and hukou, income proofs
# (工资收入证明) of the worker and the family members' employers, the worker's bank card, and,
# where illness is a cause (primary or secondary), a grade-2 or higher public hospital's
# diagnosis within a year. One income-proof kind holds every employer's proof: the rule asks
# for at least one, the clerk uploads one per employer.
REQUIRED_DOCUMENTS = (
    Document.Kind.ID_COPY,
    Document.Kind.HUKOU,
    Document.Kind.INCOME_PROOF,
    Document.Kind.BANK_CARD,
)
ILLNESS_CAUSE = "illness"


@dataclass(frozen=True)
class ChecklistItem:
    kind: str
    label: str
    present: bool
    count: int = 0  # the documents in force of this kind (a diagnosis: those within the year)
    stale_on: date | None = None  # a diagnosis there is, but issued more than a year ago


def required_documents(cause_codes) -> list[str]:
    """The kinds a file with these causes (codes, primary and secondary) must hold."""
    kinds = list(REQUIRED_DOCUMENTS)
    if ILLNESS_CAUSE in cause_codes:
        kinds.append(Document.Kind.DIAGNOSIS)
    return kinds


def documents_checklist(household, on: date | None = None) -> list[ChecklistItem]:
    """The 材料 checklist of the file's current filing (period_documents), each required kind
    present or missing on `on` (today): what submission, review and approval refuse to go on
    without (services.documents_missing_error), and what the file's page shows."""
    on = on or timezone.localdate()
    codes = {household.primary_cause.code if household.primary_cause_id else ""}
    codes.update(household.secondary_causes.values_list("code", flat=True))
    cutoff = add_months(on, -DIAGNOSIS_VALID_MONTHS)
    counts, latest = {}, None
    for kind, issued_on in period_documents(household).values_list("kind", "issued_on"):
        if kind == Document.Kind.DIAGNOSIS:
            latest = max(filter(None, (latest, issued_on)), default=None)
            if issued_on is None or issued_on < cutoff:
                continue  # proves no illness today (an upload before dates were asked for)
        counts[kind] = counts.get(kind, 0) + 1
    items = []
    for kind in required_documents(codes):
        count = counts.get(kind, 0)
        stale = latest if kind == Document.Kind.DIAGNOSIS and not count else None
        items.append(ChecklistItem(kind, Document.Kind(kind).label, bool(count), count, stale))
    return items


def documents_missing(household, on: date | None = None) -> list[ChecklistItem]:
    return [item for item in documents_checklist(household, on) if not item.present]


def _documents_lacking(today: date) -> Q:
    """documents_missing as a query: a file lacking a required kind in its current filing (an
    illness-caused one, a diagnosis issued within the year before `today`)."""
    reopened_since = Transition.objects.filter(
        period=OuterRef("household__current_period"),
        action="reopen",
        created_at__gt=OuterRef("uploaded_at"),
    )
    documents = Document.objects.filter(household=OuterRef("pk"), is_active=True).exclude(
        Exists(reopened_since)
    )
    lacking = Q()
    for kind in REQUIRED_DOCUMENTS:
        lacking |= ~Q(Exists(documents.filter(kind=kind)))
    ill = Q(primary_cause__code=ILLNESS_CAUSE) | Q(
        Exists(
            Household.secondary_causes.through.objects.filter(
                household_id=OuterRef("pk"), cause__code=ILLNESS_CAUSE
            )
        )
    )
    cutoff = add_months(today, -DIAGNOSIS_VALID_MONTHS)
    recent = documents.filter(kind=Document.Kind.DIAGNOSIS, issued_on__gte=cutoff)
    return lacking | (ill & ~Q(Exists(recent)))


def documents_incomplete(user, *, today: date | None = None, base=None):
    """Files applied for, reviewed or under notice that lack a required document (材料不全):
    their next step (review, approval) is refused until the clerk uploads it."""
    today = today or timezone.localdate()
    return _files(user, base).filter(
        _documents_lacking(today),
        status__in=(Status.APPLIED, Status.REVIEWED, Status.NOTICE),
    )


def approvals_waiting(user, *, today: date | None = None, base=None):
    """Files the supervisor may approve now, as services._check_approval decides: under a
    notice that has ended (PublicNotice.has_run, as a query), with no objection pending
    (objections_pending lists those), no diagnosis expired (diagnoses_expired lists those), no
    migrant worker breaking the filing rule (migrant_membership_unverified lists those), no
    required document missing (documents_incomplete lists those), and not entered or submitted
    by the supervisor."""
    today = today or timezone.localdate()
    files = _files(user, base).filter(
        status=Status.NOTICE, current_period__notice__ends_on__lt=today
    )
    files = files.exclude(Exists(_pending_objections())).exclude(_diagnosis_expired(today))
    files = files.exclude(_breaks_migrant_rule()).exclude(_documents_lacking(today))
    return _not_their_own(user, files)


def diagnoses_expired(user, *, today: date | None = None, base=None):
    """Files under notice whose latest diagnosis is more than a year old: the approval refuses
    them until the clerk uploads one issued within the year."""
    today = today or timezone.localdate()
    return _files(user, base).filter(_diagnosis_expired(today), status=Status.NOTICE)


def objections_pending(user, *, base=None):
    """Files under notice with an objection to decide before they may be approved [DOMAIN
    lifecycle 3]; for a supervisor, those whose objections they may decide."""
    files = _files(user, base).filter(status=Status.NOTICE).filter(Exists(_pending_objections()))
    return _not_their_own(user, files)


def closure_pending(user, *, base=None):
    """Files with a relief, exit or deregistration request waiting for a supervisor."""
    pending = ClosureRequest.objects.filter(
        household=OuterRef("pk"), state=ClosureRequest.State.PENDING
    )
    return _files(user, base).filter(Exists(pending))


def pending_closures(user):
    return (
        ClosureRequest.objects.visible_to(user)
        .filter(state=ClosureRequest.State.PENDING)
        .select_related("household", "requested_by")
        .order_by("requested_at", "pk")
    )


def rejected_closures(user, *, today: date | None = None):
    """Closure requests rejected in the last month, for the clerk to follow up."""
    today = today or timezone.localdate()
    since = _start_of(today - timedelta(days=RECENT_REJECTIONS_DAYS))
    return (
        ClosureRequest.objects.visible_to(user)
        .filter(state=ClosureRequest.State.REJECTED, decided_at__gte=since)
        .select_related("household", "decided_by")
        .order_by("-decided_at", "-pk")
    )


def status_counts(user) -> dict[str, int]:
    """{status: number of files} in the user's scope, in one grouped query."""
    rows = (
        Household.objects.visible_to(user).order_by().values_list("status").annotate(n=Count("id"))
    )
    return dict(rows)


def last_objection_contact(user, organisation) -> str:
    """The objection contact of the organisation's latest notice, to prefill the next one."""
    return (
        PublicNotice.objects.visible_to(user)
        .filter(organisation=organisation)
        .order_by("-starts_on", "-id")
        .values_list("objection_contact", flat=True)
        .first()
        or ""
    )


# The standing lists by key: used by the list filter, "my work" and the standing lists page.
STANDING_LISTS = {
    "drafts": drafts,
    "to_review": applications_to_review,
    "notice_ending": notices_ending,
    "approvals": approvals_waiting,
    "objections": objections_pending,
    "diagnoses_expired": diagnoses_expired,
    "documents_incomplete": documents_incomplete,
    "closure_pending": closure_pending,
    "survey_due": surveys_due,
    "survey_overdue": surveys_overdue,
    "unchanged": unchanged_for_a_year,
    "never_assisted": never_assisted,
    "exit_candidates": exit_candidates,
    "migrant_unverified": migrant_membership_unverified,
}
