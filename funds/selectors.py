"""Reads of the funds app: balances, lists, who may decide a request, a household's
assistance, and the fund statement.

Balances are sums of ledger entries; nothing stores a balance. `fund_statement` is the one
place that turns the ledger into the statement of DOMAIN.md ("Funds"); the reports app calls
it for any organisation subtree and period."""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from funds.models import (
    ACTIVE_STATES,
    COMMITTED_STATES,
    ZERO,
    Approval,
    AssistanceRequest,
    AssistanceType,
    EntryKind,
    FundSource,
    LedgerEntry,
    LineResult,
    PaymentBatchLine,
    RequestState,
    SecondApprover,
    Verification,
)
from households import selectors as household_selectors
from households.models import SUPPORTED_STATUSES, Household
from orgs.models import Organisation
from orgs.money import CENT, MONEY

MONEY_FIELD = DecimalField(**MONEY)
ZERO_VALUE = Value(ZERO, output_field=MONEY_FIELD)
WAN = Decimal("10000")


def cents(value) -> Decimal:
    """An aggregate as exact yuan and fen. PostgreSQL sums numerics exactly; SQLite sums them as
    floating point (0.01 may come back as 0.00999999999999979), so every sum is re-quantized."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def total(expression, **filters):
    """Coalesce(Sum(expression, filter=Q(**filters)), 0.00) as a money aggregate."""
    condition = Q(**filters) if filters else None
    return Coalesce(Sum(expression, filter=condition), ZERO_VALUE, output_field=MONEY_FIELD)


def to_wanyuan(amount: Decimal, places: int = 4) -> Decimal:
    """Yuan → 万元, rounded half up, to the yuan by default (DOMAIN.md writes 27.0873 万元):
    828833.00 → 82.8833; 105.00 stays 0.0105 rather than 0.01."""
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(amount) / WAN).quantize(quantum, rounding=ROUND_HALF_UP)


# --- Balances ----------------------------------------------------------------------------------


def balance(*, organisation: Organisation, source: FundSource) -> Decimal:
    """Received − paid − refunded (+ repaid) of one (organisation, source), all dates."""
    return cents(
        LedgerEntry.objects.filter(organisation=organisation, source=source).aggregate(
            value=total("amount")
        )["value"]
    )


def lowest_balance_from(
    *, organisation: Organisation, source: FundSource, day: date
) -> tuple[Decimal, date]:
    """The lowest balance of one (organisation, source) at the end of `day` or of any later day
    with entries, and the day it falls on. A movement dated `day` may take out at most this
    much: it must not overdraw its source on its date nor on any later date (the rule the funds
    import applies to its rows, funds.importing `_check_balances`). Two queries."""
    entries = LedgerEntry.objects.filter(organisation=organisation, source=source)
    balance = cents(entries.filter(entry_date__lte=day).aggregate(value=total("amount"))["value"])
    lowest, lowest_on = balance, day
    later = (
        entries.filter(entry_date__gt=day)
        .values("entry_date")
        .annotate(value=total("amount"))
        .order_by("entry_date")
    )
    for row in later:
        balance += cents(row["value"])
        if balance < lowest:
            lowest, lowest_on = balance, row["entry_date"]
    return lowest, lowest_on


def committed(*, organisation: Organisation, source: FundSource) -> Decimal:
    """Approved but not yet paid: money promised against the balance."""
    return cents(
        AssistanceRequest.objects.filter(
            organisation=organisation, source=source, state__in=COMMITTED_STATES
        ).aggregate(value=total("amount"))["value"]
    )


@dataclass
class SourcePosition:
    balance: Decimal
    committed: Decimal  # approved, not yet paid
    pending: Decimal  # requested, awaiting a decision: committed once approved

    @property
    def available(self) -> Decimal:
        """What an approval checks against (balance − committed)."""
        return self.balance - self.committed


def source_positions(*, organisations, source: FundSource) -> dict[int, SourcePosition]:
    """Of one source, per organisation (its own account, as `balance` and `committed`): the
    balance, what approved requests commit and what requests awaiting a decision claim. Two
    queries, however many organisations."""
    keys = [organisation.pk for organisation in organisations]
    sums = dict(
        LedgerEntry.objects.filter(organisation__in=keys, source=source)
        .values("organisation")
        .annotate(value=total("amount"))
        .order_by()
        .values_list("organisation", "value")
    )
    claims = {
        row["organisation"]: row
        for row in AssistanceRequest.objects.filter(
            organisation__in=keys,
            source=source,
            state__in=[*COMMITTED_STATES, RequestState.REQUESTED],
        )
        .values("organisation")
        .annotate(
            committed=total("amount", state__in=COMMITTED_STATES),
            pending=total("amount", state=RequestState.REQUESTED),
        )
        .order_by()
    }
    return {
        key: SourcePosition(
            balance=cents(sums.get(key)),
            committed=cents(claims.get(key, {}).get("committed")),
            pending=cents(claims.get(key, {}).get("pending")),
        )
        for key in keys
    }


@dataclass
class AccountBalance:
    organisation: Organisation
    source: FundSource
    balance: Decimal
    committed: Decimal

    @property
    def available(self) -> Decimal:
        return self.balance - self.committed


def account_balances(*, organisations: QuerySet[Organisation]) -> list[AccountBalance]:
    """Balance, committed and available of every (organisation, source) that has money or
    commitments, for the given organisations. Three queries."""
    sums = {
        (row["organisation"], row["source"]): cents(row["value"])
        for row in LedgerEntry.objects.filter(organisation__in=organisations)
        .values("organisation", "source")
        .annotate(value=total("amount"))
        .order_by()
    }
    promised = {
        (row["organisation"], row["source"]): cents(row["value"])
        for row in AssistanceRequest.objects.filter(
            organisation__in=organisations, state__in=COMMITTED_STATES
        )
        .values("organisation", "source")
        .annotate(value=total("amount"))
        .order_by()
    }
    keys = set(sums) | set(promised)
    orgs = Organisation.objects.in_bulk({key[0] for key in keys})
    sources = FundSource.objects.in_bulk({key[1] for key in keys})
    rows = [
        AccountBalance(
            organisation=orgs[org_pk],
            source=sources[source_pk],
            balance=sums.get((org_pk, source_pk), ZERO),
            committed=promised.get((org_pk, source_pk), ZERO),
        )
        for org_pk, source_pk in keys
    ]
    rows.sort(key=lambda row: (row.organisation.path, row.source.sort, row.source.code))
    return rows


# --- Lists ---------------------------------------------------------------------------------


def request_list(*, user) -> QuerySet[AssistanceRequest]:
    return AssistanceRequest.objects.visible_to(user).select_related(
        "household", "organisation", "assistance_type", "source"
    )


def requests_by_id_hash(
    queryset: QuerySet[AssistanceRequest], key: str
) -> QuerySet[AssistanceRequest]:
    """The requests of the files whose worker or a member has the ID number of this keyed hash
    (the files as the file list finds them: households.selectors.search_id_hash)."""
    files = household_selectors.search_id_hash(Household.objects.all(), key)
    return queryset.filter(household__in=files.values("pk"))


def household_assistance(*, household, year: int) -> dict:
    """What the household has asked for and received in a year, shown before a new request."""
    requests = list(
        AssistanceRequest.objects.filter(household=household, year=year)
        .select_related("assistance_type", "source")
        .order_by("requested_on", "id")
    )
    active = [r for r in requests if r.state in ACTIVE_STATES]
    paid = [r for r in requests if r.state == RequestState.PAID]
    return {
        "year": year,
        "requests": requests,
        "active_total": sum((r.amount for r in active), ZERO),
        "paid_total": sum((r.amount for r in paid), ZERO),
        "types": sorted({str(r.assistance_type) for r in active}),
    }


# --- Who may decide a request ----------------------------------------------------------------

APPROVE_PERMISSION = "funds.approve_assistancerequest"


@dataclass(frozen=True)
class DecisionRule:
    """One condition of deciding a request. `allows` is a Q over requests (it may use the
    aliases of `_with_decision_facts`), or True/False when it depends on the user alone;
    `refusal(request)` is the error that tells the user why when a request fails it."""

    allows: Q | bool
    refusal: Callable[[AssistanceRequest], Exception]


def decision_rules(user) -> list[DecisionRule]:
    """Who may decide (approve or reject alike) a request now, in the order a refusal names
    them: the permission; the request in the user's subtree (`visible_to`, checked before these
    rules); still awaiting a decision; not its requester; not the approver of its first level;
    and at level 2 whoever the standard names: another supervisor, the upper-level union (an
    organisation above the request's), or the province/region. A superuser may give level 2
    anywhere.

    The only statement of the rule: `awaiting_approval` (the work list, the 审批 button) keeps
    the requests that pass them all; `decision_level` (and so `services.check_decidable`, which
    the approve and reject services enforce) raises the refusal of the first one it fails."""
    own = getattr(user, "organisation", None)
    second_level = Q(at_second_level=True)
    parent_may = user.is_superuser or (
        ~Q(organisation=own) if own is not None else False  # in the subtree, so above it
    )
    region_may = user.is_superuser or (own is not None and own.level == Organisation.Level.REGION)
    return [
        DecisionRule(
            user.has_perm(APPROVE_PERMISSION),
            lambda request: PermissionDenied(_("您没有执行此操作的权限。")),
        ),
        DecisionRule(
            Q(state=RequestState.REQUESTED),
            lambda request: ValidationError(
                _("该申请当前状态为“%(state)s”，不能审批。")
                % {"state": request.get_state_display()}
            ),
        ),
        DecisionRule(
            ~Q(requested_by=user.pk),
            lambda request: ValidationError(_("不能审批自己提出的申请。")),
        ),
        DecisionRule(
            Q(approved_by_user=False),
            lambda request: ValidationError(
                _("您已审批过该申请，第二级审批须由另一名审批人进行。")
            ),
        ),
        DecisionRule(
            _either(~(second_level & Q(second_approver=SecondApprover.PARENT)), parent_may),
            lambda request: ValidationError(_("该申请的第二级审批须由上级工会的审批人进行。")),
        ),
        DecisionRule(
            _either(~(second_level & Q(second_approver=SecondApprover.REGION)), region_may),
            lambda request: ValidationError(
                _("该申请的第二级审批须由省/自治区总工会的审批人进行。")
            ),
        ),
    ]


def _either(condition: Q, user_may: Q | bool) -> Q | bool:
    """`condition` or `user_may`, where `user_may` may be a plain True/False."""
    if user_may is True:
        return True
    if user_may is False:
        return condition
    return condition | user_may


def _with_decision_facts(queryset: QuerySet[AssistanceRequest], user) -> QuerySet:
    """The facts the rules read besides the request's own fields: whether its first level is
    approved (so a decision now is at level 2; a request needs at most two) and whether
    `user` gave that approval."""
    approvals = Approval.objects.filter(request=OuterRef("pk"), decision=Approval.Decision.APPROVE)
    return queryset.alias(
        at_second_level=Exists(approvals),
        approved_by_user=Exists(approvals.filter(approver=user.pk)),
    )


def awaiting_approval(*, user) -> QuerySet[AssistanceRequest]:
    """Requests `user` may decide now (`decision_rules`), in their subtree, oldest first: the
    supervisor's work list and the 审批 button of a request. Empty without the permission."""
    queryset = _with_decision_facts(request_list(user=user), user)
    for rule in decision_rules(user):
        if rule.allows is False:
            return queryset.none()
        if rule.allows is not True:
            queryset = queryset.filter(rule.allows)
    return queryset.order_by("requested_on", "id")


def decision_level(*, user, request: AssistanceRequest) -> int:
    """The level at which `user` decides `request` now; else raises the refusal of the first of
    `decision_rules` it fails (a request outside the user's subtree: PermissionDenied, after the
    permission). Reads the request's row, not the object: one query, none without the
    permission."""
    rules = decision_rules(user)
    row = None
    for index, rule in enumerate(rules):
        if isinstance(rule.allows, Q):
            row = row or _decision_verdicts(user, request, rules)
            if row[f"rule_{index}"]:
                continue
        elif rule.allows:
            continue
        raise rule.refusal(request)
    row = row or _decision_verdicts(user, request, rules)
    return 2 if row["second_level"] else 1


def _decision_verdicts(user, request: AssistanceRequest, rules: list[DecisionRule]) -> dict:
    """Whether `request` passes each rule given as a Q (`rule_<index>`) and whether a decision
    now is at level 2, in one query. Outside the user's subtree: PermissionDenied."""
    verdicts = {
        f"rule_{index}": ExpressionWrapper(rule.allows, output_field=BooleanField())
        for index, rule in enumerate(rules)
        if isinstance(rule.allows, Q)
    }
    verdicts["second_level"] = ExpressionWrapper(
        Q(at_second_level=True), output_field=BooleanField()
    )
    row = (
        _with_decision_facts(AssistanceRequest.objects.visible_to(user), user)
        .filter(pk=request.pk)
        .values(**verdicts)
        .first()
    )
    if row is None:
        raise PermissionDenied(_("该记录不在您的管辖范围内。"))
    return row


def approved_unpaid(*, user) -> QuerySet[AssistanceRequest]:
    return request_list(user=user).filter(state=RequestState.APPROVED)


def failed_payments(*, user) -> QuerySet[AssistanceRequest]:
    return failed_to_correct(request_list(user=user))


def failed_to_correct(queryset: QuerySet[AssistanceRequest]) -> QuerySet[AssistanceRequest]:
    """Failed payments a corrected account can still get paid: of files on file or relieved.
    Those of files exited or deregistered since no bank file takes, whatever the account: they
    are found under 待核查 · 未发放但档案不在档 instead, not counted here too."""
    return queryset.filter(state=RequestState.FAILED, household__status__in=SUPPORTED_STATUSES)


def unpaid_of_closed_files(queryset: QuerySet[AssistanceRequest]) -> QuerySet[AssistanceRequest]:
    """Money still reserved for files exited or deregistered since, which no bank file takes
    (AssistanceRequest.unpaid_file_closed): not those in a bank file waiting for its return."""
    return (
        queryset.filter(state__in=COMMITTED_STATES)
        .exclude(household__status__in=SUPPORTED_STATUSES)
        .exclude(batch_lines__result=LineResult.PENDING)
    )


def open_requests(household) -> QuerySet[AssistanceRequest]:
    """A file's requests not yet settled (awaiting a decision, approved unpaid, failed at the
    bank), oldest first: what a supervisor deciding its exit should know of."""
    return (
        AssistanceRequest.objects.filter(
            household=household,
            state__in=(RequestState.REQUESTED, RequestState.APPROVED, RequestState.FAILED),
        )
        .select_related("assistance_type")
        .order_by("requested_on", "pk")
    )


def loan_repaid(request) -> Decimal:
    """What has come back of a small loan: its repayment entries in the ledger (the money as
    booked), for the repayment service's check and the loan's page alike."""
    return cents(
        LedgerEntry.objects.filter(request=request, kind=EntryKind.REPAYMENT).aggregate(
            value=Sum("amount")
        )["value"]
    )


def pending_batch_line(request: AssistanceRequest) -> PaymentBatchLine | None:
    return (
        PaymentBatchLine.objects.filter(request=request, result="pending")
        .select_related("batch")
        .first()
    )


def verifications_due(*, user) -> QuerySet[Verification]:
    # A payment reversed since the draw waits for nothing until it is paid again.
    return Verification.objects.visible_to(user).filter(
        outcome="pending", request__state=RequestState.PAID
    )


def discrepancies(*, user) -> QuerySet[Verification]:
    return (
        Verification.objects.visible_to(user)
        .discrepancies()
        .select_related(
            "sample__organisation",
            "request__household",
            "request__assistance_type",
            "resolved_by",
        )
        .order_by("resolved_at", "-checked_on", "id")
    )


# --- The fund statement ----------------------------------------------------------------------

LINES = ("opening", "received", "paid", "refunded", "repaid", "closing")


def statement_period(
    *,
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    cutoff: date | None = None,
) -> tuple[date, date]:
    """The first and last day of a statement: the year (or start to end), ended early by the
    cut-off. A cut-off before the period starts is refused: it would leave no day to report."""
    if year is not None:
        start, end = date(year, 1, 1), date(year, 12, 31)
    if start is None or end is None:
        raise ValueError("fund_statement needs a year or both start and end")
    if cutoff is not None and cutoff < start:
        raise ValidationError(
            {
                "cutoff": _("截止日期 %(cutoff)s 早于统计期开始日期 %(start)s。")
                % {"cutoff": cutoff.isoformat(), "start": start.isoformat()}
            }
        )
    if cutoff is not None and cutoff < end:
        end = cutoff
    return start, end


def fund_statement(
    *,
    organisations: QuerySet[Organisation],
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    cutoff: date | None = None,
) -> dict:
    """The fund statement (资金收支情况) of DOMAIN.md "Funds", summed over `organisations`.

    Arguments (keyword-only):
      organisations -- a queryset of organisations: one (`filter(pk=…)`) or a subtree
                       (`Organisation.objects.subtree(org)`); its entries are summed.
      year          -- a calendar year; or give `start` and `end` (dates, both included).
      cutoff        -- optional reporting date: entries dated after it are left out (e.g. a
                       report "to 30 Sept 2019").

    Returns a dict of Decimals in yuan (two decimals):
      {"start": date, "end": date,
       "sources": [{"source": FundSource, "code", "name",
                    "opening", "received", "paid", "refunded", "repaid", "closing"}, …],
       "totals": {"opening", "received", "paid", "refunded", "repaid", "closing"},
       "types": [{"type": AssistanceType, "code", "name",
                  "households": int, "payments": int, "amount": Decimal}, …],
       "types_total": {"households": int, "payments": int, "amount": Decimal}}

    opening = all entries before `start`; received/paid/refunded/repaid = entries of that kind
    dated in the period, net of reversals dated in the period; closing = opening + received −
    paid − refunded + repaid (= the sum of all entries up to the end). Sources with no entry
    up to the end are left out. Per type: `amount` = payments in the period net of reversals in
    the period (= the "paid" line); `households` and `payments` count the payments made in the
    period that were not reversed by the end. A reversal dated later lowers that later period's
    amount, not its counts, so a reported (or closed) period never changes afterwards. Two
    aggregate queries.
    """
    start, end = statement_period(year=year, start=start, end=end, cutoff=cutoff)
    entries = LedgerEntry.objects.filter(organisation__in=organisations)
    return _statements(entries, start=start, end=end)[None]


def _statements(entries, *, start: date, end: date, unit=None, keys=()) -> dict:
    """The statement (see fund_statement) of `entries` for each value of `unit`, an expression
    that tells which column an entry belongs to (None: one statement), keyed by it; every key
    of `keys`, and None, is there, an empty statement where no entry falls. The same few
    queries whatever the number of columns."""
    entries = entries.filter(entry_date__lte=end)
    group = []
    if unit is not None:
        entries, group = entries.annotate(unit=unit), ["unit"]
    in_period = {"entry_date__gte": start}
    rows = (
        entries.values(*group, "source")
        .annotate(
            opening=total("amount", entry_date__lt=start),
            received=total("amount", kind=EntryKind.RECEIPT, **in_period),
            paid_signed=total("amount", kind=EntryKind.PAYMENT, **in_period),
            refunded_signed=total("amount", kind=EntryKind.REFUND, **in_period),
            repaid=total("amount", kind=EntryKind.REPAYMENT, **in_period),
            closing=total("amount"),
        )
        .order_by()
    )
    sources = FundSource.objects.in_bulk()
    lines = {key: [] for key in [*keys, None]}
    for row in rows:
        source = sources[row["source"]]
        lines.setdefault(row.get("unit"), []).append(
            {
                "source": source,
                "code": source.code,
                "name": source.name,
                "opening": cents(row["opening"]),
                "received": cents(row["received"]),
                "paid": -cents(row["paid_signed"]),
                "refunded": -cents(row["refunded_signed"]),
                "repaid": cents(row["repaid"]),
                "closing": cents(row["closing"]),
            }
        )

    # A payment of the period counts unless reversed by the end; reversals never count.
    counted = Q(reverses__isnull=True) & (
        Q(reversed_by__isnull=True) | Q(reversed_by__entry_date__gt=end)
    )
    payments = (
        entries.filter(kind=EntryKind.PAYMENT, **in_period)
        .values(*group, "request__assistance_type")
        .annotate(
            amount_signed=total("amount"),
            households=Count("request__household", distinct=True, filter=counted),
            payments=Count("id", filter=counted),
        )
        .order_by()
    )
    types = AssistanceType.objects.in_bulk()
    type_lines = {key: [] for key in lines}
    for row in payments:
        kind = types[row["request__assistance_type"]]
        type_lines.setdefault(row.get("unit"), []).append(
            {
                "type": kind,
                "code": kind.code,
                "name": kind.name,
                "households": row["households"],
                "payments": row["payments"],
                "amount": -cents(row["amount_signed"]),
            }
        )
    households = {}
    if any(type_lines.values()):
        counted_payments = entries.filter(counted, kind=EntryKind.PAYMENT, **in_period)
        per_household = Count("request__household", distinct=True)
        if group:
            rows = counted_payments.values(*group).annotate(n=per_household).order_by()
            households = {row["unit"]: row["n"] for row in rows}
        else:
            households = {None: counted_payments.aggregate(n=per_household)["n"]}
    return {
        key: _statement(start, end, lines[key], type_lines.get(key, []), households.get(key, 0))
        for key in lines
    }


def _statement(start: date, end: date, lines: list, type_lines: list, households: int) -> dict:
    lines.sort(key=lambda line: (line["source"].sort, line["code"]))
    type_lines.sort(key=lambda line: (line["type"].sort, line["code"]))
    return {
        "start": start,
        "end": end,
        "sources": lines,
        "totals": {key: sum((line[key] for line in lines), ZERO) for key in LINES},
        "types": type_lines,
        "types_total": {
            "households": households,
            "payments": sum(line["payments"] for line in type_lines),
            "amount": sum((line["amount"] for line in type_lines), ZERO),
        },
    }


def statement_units(organisation: Organisation) -> list[Organisation]:
    """The organisations an upper-level union compares side by side: its counties (or, below a
    county, its direct children)."""
    below = Organisation.objects.subtree(organisation).exclude(pk=organisation.pk)
    if organisation.level in (Organisation.Level.REGION, Organisation.Level.CITY):
        units = list(below.filter(level=Organisation.Level.COUNTY))
        if units:
            return units
    return list(below.filter(parent=organisation))


def fund_statement_side_by_side(
    *,
    organisation: Organisation,
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    cutoff: date | None = None,
) -> dict:
    """The statement of `organisation`'s whole subtree ("total"), and of each unit below it
    (its counties, see `statement_units`) side by side; entries booked above the units (e.g. at
    the city itself) form the "own" column. Same period arguments as `fund_statement`.

    Returns {"total": statement, "columns": [(Organisation | None, statement), …]} where None
    labels the "own" column (present only when it has entries)."""
    subtree = Organisation.objects.subtree(organisation)
    units = statement_units(organisation)
    period = {"year": year, "start": start, "end": end, "cutoff": cutoff}
    first, last = statement_period(**period)
    # Each entry goes to the unit whose subtree holds it (None: "own"), summed in one go.
    statements = _statements(
        LedgerEntry.objects.filter(organisation__in=subtree),
        start=first,
        end=last,
        unit=_unit_of(units),
        keys=[u.pk for u in units],
    )
    columns = [(u, statements[u.pk]) for u in units]
    if statements[None]["sources"]:
        columns.insert(0, (None, statements[None]))
    return {"total": fund_statement(organisations=subtree, **period), "columns": columns}


def fund_statements_of_units(
    *,
    units: list[Organisation],
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    cutoff: date | None = None,
) -> dict[int, dict]:
    """`fund_statement` of each unit's subtree (units side by side, none inside another: an
    organisation's children), keyed by the unit's id: the same few queries whatever their
    number. Same period arguments as `fund_statement`."""
    first, last = statement_period(year=year, start=start, end=end, cutoff=cutoff)
    if not units:
        return {}
    within = reduce(operator.or_, (Q(organisation__path__startswith=u.path) for u in units))
    statements = _statements(
        LedgerEntry.objects.filter(within),
        start=first,
        end=last,
        unit=_unit_of(units),
        keys=[u.pk for u in units],
    )
    return {u.pk: statements[u.pk] for u in units}


def _unit_of(units: list[Organisation]) -> Case:
    """Which of `units` (none inside another) holds a ledger entry's organisation; None:
    none of them."""
    return Case(
        *(When(organisation__path__startswith=u.path, then=Value(u.pk)) for u in units),
        default=Value(None),
        output_field=IntegerField(),
    )
