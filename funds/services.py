"""Every write of the funds app. Views, admin actions, imports and commands call these; none
re-implements a rule. Each service checks permission and scope first, then state, writes in one
transaction and leaves a trace (ledger entries, approvals, field history).

Money (ARCHITECTURE decision 2): services that move or commit money lock the (organisation,
source) `FundAccount` row with select_for_update and re-sum the ledger inside the transaction,
so concurrent approvals and payments can never take a balance below zero. Approved but unpaid
requests are committed: available = balance − committed."""

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from funds import selectors
from funds.facts import RequestFacts, closed_year_of, transition_on
from funds.models import (
    ZERO,
    Approval,
    AssistanceRequest,
    AssistanceType,
    ClosedYear,
    EntryKind,
    FundAccount,
    FundSource,
    LedgerEntry,
    LineResult,
    PaymentBatch,
    PaymentBatchLine,
    Receipt,
    Refund,
    Repayment,
    RequestState,
    Tier,
    Verification,
    VerificationSample,
)
from funds.standards import check_request, check_student_stage, check_tier, tier_withdrawn
from households.models import SUPPORTED_STATUSES, Household, Member, Status
from imports.xlsx import FIRST_DATE
from orgs.models import Organisation
from orgs.money import CENT, MAX_AMOUNT, yuan_text
from orgs.pii import mask
from orgs.scoping import user_can_reach

MAX_SAMPLE_SIZE = 500
# The code of request_build's hint to give a reason for exceeding the standard (a batch,
# which has no such field, says instead to request that household on its own).
NEEDS_EXCEPTION_REASON = "needs_exception_reason"
# The first year of money on record (receipts, closed years, payment dates): the year of the
# first date the workbooks take (imports.xlsx.FIRST_DATE), so the two cannot drift apart.
FIRST_YEAR = FIRST_DATE.year


def check_permission(user, perm: str, organisation: Organisation | None = None) -> None:
    """The user holds `perm` and, when given, reaches `organisation` (their subtree): every
    funds service and the batch requests (funds.batches) ask this first."""
    if not user.has_perm(perm):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    if organisation is not None and not user_can_reach(user, organisation):
        raise PermissionDenied(_("该记录不在您的管辖范围内。"))


def check_amount(value, *, field: str = "amount") -> Decimal:
    """A positive sum of yuan with at most two decimals (分); never a float."""
    if value is None or value == "":
        raise ValidationError({field: _("请填写金额。")})
    if isinstance(value, float):
        raise ValidationError({field: _("金额格式不正确。")})
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({field: _("金额格式不正确。")}) from None
    if not amount.is_finite():
        raise ValidationError({field: _("金额格式不正确。")})
    if amount <= 0:
        raise ValidationError({field: _("金额必须大于零。")})
    if amount > MAX_AMOUNT:  # before quantize, which cannot hold 1e309 (InvalidOperation)
        raise ValidationError({field: _("金额过大。")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: _("金额最多保留两位小数（到分）。")})
    return amount.quantize(CENT)


def check_date(day: date | None, *, field: str) -> date:
    """A date of money on record: given, not after today, not before FIRST_YEAR."""
    if day is None:
        raise ValidationError({field: _("请填写日期。")})
    if day > timezone.localdate():
        raise ValidationError({field: _("日期不能晚于今天。")})
    if day.year < FIRST_YEAR:
        raise ValidationError({field: _("日期不能早于%(year)d年1月1日。") % {"year": FIRST_YEAR}})
    return day


def _check_open_year(
    organisation: Organisation, day: date, *, field: str, facts: RequestFacts | None = None
) -> None:
    closed = (facts or RequestFacts()).closed_year(organisation, day)
    if closed is not None:
        raise ValidationError(
            {
                field: _("%(year)d年度已由%(org)s结账，不能登记日期在该年度的款项。")
                % {"year": day.year, "org": closed.organisation.name}
            }
        )


def _lock_account(organisation: Organisation, source: FundSource) -> FundAccount:
    """Take the (organisation, source) lock row; concurrent movers of the same money wait."""
    account, _created = FundAccount.objects.get_or_create(organisation=organisation, source=source)
    return FundAccount.objects.select_for_update(of=("self",)).get(pk=account.pk)


def _write_entry(**fields) -> LedgerEntry:
    fields["year"] = fields["entry_date"].year
    return LedgerEntry.objects.create(**fields)


def _available_error(*, source, balance, committed, amount, action) -> ValidationError:
    return ValidationError(
        {
            "amount": _(
                "%(source)s可用余额不足：余额 %(balance)s 元，已批准待发放 %(committed)s 元，"
                "可用 %(available)s 元，不能%(action)s %(amount)s 元。"
            )
            % {
                "source": str(source),
                "balance": yuan_text(balance),
                "committed": yuan_text(committed),
                "available": yuan_text(balance - committed),
                "action": action,
                "amount": yuan_text(amount),
            }
        }
    )


def _check_covered(
    *, organisation: Organisation, source: FundSource, amount: Decimal, day: date, action: str
) -> None:
    """Money taken out on `day` must not overdraw its source on that date nor on any later date
    (the rule of the funds import). Call with the account locked."""
    lowest, on = selectors.lowest_balance_from(organisation=organisation, source=source, day=day)
    if amount > lowest:
        raise ValidationError(
            {
                "amount": _(
                    "%(source)s在 %(date)s 的余额为 %(balance)s 元，"
                    "不足以%(action)s %(amount)s 元。"
                )
                % {
                    "source": str(source),
                    "date": on.isoformat(),
                    "balance": yuan_text(lowest),
                    "action": action,
                    "amount": yuan_text(amount),
                }
            }
        )


def household_status_on(household: Household, day: date) -> str:
    """The file's status on a date, from its transitions ("" before it existed)."""
    return RequestFacts().status_on(household, day)


def _status_label(status: str) -> str:
    return Status(status).label if status in Status.values else _("未建档")


def _check_supported_on(
    household: Household, day: date, *, field: str, action: str, facts: RequestFacts | None = None
) -> None:
    """先建档、后帮扶: money goes only to a file on file or relieved on that day."""
    status = (facts or RequestFacts()).status_on(household, day)
    if status not in SUPPORTED_STATUSES:
        raise ValidationError(
            {
                field: _(
                    "档案 %(number)s 在 %(date)s 的状态为“%(status)s”，不是在档或解困，"
                    "不能%(action)s（先建档、后帮扶）。"
                )
                % {
                    "number": household.file_number,
                    "date": day.isoformat(),
                    "status": _status_label(status),
                    "action": action,
                }
            }
        )


# --- Receipts, refunds, reversals, closed years ----------------------------------------------


@transaction.atomic
def receipt_record(
    *,
    user,
    organisation: Organisation,
    source: FundSource,
    year: int,
    amount,
    received_on: date,
    document_number: str,
    note: str = "",
) -> Receipt:
    """拨入: money received from a source for a year, with its document number (文号)."""
    check_permission(user, "funds.add_receipt", organisation)
    amount = check_amount(amount)
    received_on = check_date(received_on, field="received_on")
    document_number = (document_number or "").strip()
    if not document_number:
        raise ValidationError({"document_number": _("请填写拨款文号（如：桂财行〔2018〕72号）。")})
    if year is None or not FIRST_YEAR <= int(year) <= received_on.year + 1:
        raise ValidationError({"year": _("资金年度应在1990年至到账次年之间。")})
    _check_open_year(organisation, received_on, field="received_on")
    _lock_account(organisation, source)
    _refuse_repeat(
        Receipt.objects.filter(received_on=received_on),
        organisation=organisation,
        source=source,
        amount=amount,
        document_number=document_number,
    )
    receipt = Receipt.objects.create(
        organisation=organisation,
        source=source,
        year=int(year),
        amount=amount,
        received_on=received_on,
        document_number=document_number,
        note=(note or "").strip(),
        created_by=user,
    )
    _write_entry(
        organisation=organisation,
        source=source,
        kind=EntryKind.RECEIPT,
        amount=amount,
        entry_date=received_on,
        receipt=receipt,
        reason=document_number,
        created_by=user,
    )
    return receipt


def _refuse_repeat(same_day, *, organisation, source, amount, document_number):
    """The same receipt or refund entered again (a form sent twice) is refused while the first
    stands; called under the account's lock, so two at once cannot both pass."""
    if (
        same_day.filter(
            organisation=organisation,
            source=source,
            amount=amount,
            document_number=document_number,
        )
        .exclude(entries__reverses__isnull=False)
        .exists()
    ):
        raise ValidationError(
            {"document_number": _("同一文号、同一日期、同一金额的款项已经登记过，请勿重复登记。")}
        )


@transaction.atomic
def refund_record(
    *,
    user,
    organisation: Organisation,
    source: FundSource,
    amount,
    refunded_on: date,
    document_number: str,
    note: str = "",
) -> Refund:
    """退回财政: unspent money returned under a recall notice; never more than is available."""
    check_permission(user, "funds.add_refund", organisation)
    amount = check_amount(amount)
    refunded_on = check_date(refunded_on, field="refunded_on")
    document_number = (document_number or "").strip()
    if not document_number:
        raise ValidationError({"document_number": _("请填写收回通知文号。")})
    _check_open_year(organisation, refunded_on, field="refunded_on")
    _lock_account(organisation, source)
    _refuse_repeat(
        Refund.objects.filter(refunded_on=refunded_on),
        organisation=organisation,
        source=source,
        amount=amount,
        document_number=document_number,
    )
    balance = selectors.balance(organisation=organisation, source=source)
    committed = selectors.committed(organisation=organisation, source=source)
    if amount > balance - committed:
        raise _available_error(
            source=source,
            balance=balance,
            committed=committed,
            amount=amount,
            action=pgettext("money moved, as a verb", "退回"),
        )
    _check_covered(
        organisation=organisation,
        source=source,
        amount=amount,
        day=refunded_on,
        action=pgettext("money moved, as a noun", "退回"),
    )
    refund = Refund.objects.create(
        organisation=organisation,
        source=source,
        amount=amount,
        refunded_on=refunded_on,
        document_number=document_number,
        note=(note or "").strip(),
        created_by=user,
    )
    _write_entry(
        organisation=organisation,
        source=source,
        kind=EntryKind.REFUND,
        amount=-amount,
        entry_date=refunded_on,
        refund=refund,
        reason=document_number,
        created_by=user,
    )
    return refund


@transaction.atomic
def entry_reverse(
    *, user, entry: LedgerEntry, reason: str, entry_date: date | None = None
) -> LedgerEntry:
    """冲销: a mistake is corrected by an entry of the opposite sign, never by editing."""
    check_permission(user, "funds.reverse_ledgerentry", entry.organisation)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写冲销原因。")})
    entry_date = check_date(entry_date or timezone.localdate(), field="entry_date")
    _lock_account(entry.organisation, entry.source)
    entry = LedgerEntry.objects.select_related("request").get(pk=entry.pk)
    if entry.is_reversal:
        raise ValidationError(_("冲销分录不能再冲销；如有错误，请重新登记正确的款项。"))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("该分录已冲销，不能重复冲销。"))
    if entry_date < entry.entry_date:
        raise ValidationError({"entry_date": _("冲销日期不能早于原分录日期。")})
    _check_open_year(entry.organisation, entry_date, field="entry_date")
    amount = -entry.amount
    if amount < 0:  # taking money back out: never below what is available
        balance = selectors.balance(organisation=entry.organisation, source=entry.source)
        committed = selectors.committed(organisation=entry.organisation, source=entry.source)
        if -amount > balance - committed:
            raise _available_error(
                source=entry.source,
                balance=balance,
                committed=committed,
                amount=-amount,
                action=pgettext("money moved, as a verb", "冲销"),
            )
        _check_covered(
            organisation=entry.organisation,
            source=entry.source,
            amount=-amount,
            day=entry_date,
            action=pgettext("money moved, as a noun", "冲销"),
        )
    request = None
    if entry.kind == EntryKind.PAYMENT:
        request = AssistanceRequest.objects.select_for_update(of=("self",)).get(pk=entry.request_id)
        if request.state != RequestState.PAID:
            raise ValidationError(_("该申请当前不是已发放状态，不能冲销其发放。"))
        # Only a repayment that stands blocks: one reversed (booked in error) no longer does.
        live_repayments = LedgerEntry.objects.filter(
            request=request,
            kind=EntryKind.REPAYMENT,
            reverses__isnull=True,
            reversed_by__isnull=True,
        )
        if live_repayments.exists():
            raise ValidationError(_("该借款已有还款记录，不能冲销其发放。"))
    reversal = _write_entry(
        organisation=entry.organisation,
        source=entry.source,
        kind=entry.kind,
        amount=amount,
        entry_date=entry_date,
        receipt=entry.receipt,
        refund=entry.refund,
        request=entry.request,
        repayment=entry.repayment,
        reverses=entry,
        reason=reason[:200],
        created_by=user,
    )
    if request is not None:
        # The money is back in the fund and the approval stands: pay again or cancel. Nothing
        # on the request says it was paid any more (a new payment copies the file's account as
        # it is then); the reversing entry keeps who reversed it, when and why, and the payment
        # entry and the request's history what was paid to whom. For a file closed since, the
        # approval stands too (a booking may be corrected with the payment's true date), the
        # request is marked and listed for review (unpaid_file_closed) and no bank file takes it.
        request.state = RequestState.APPROVED
        request.paid_on = None
        request.bank_reference = ""
        request.paid_worker_name = ""
        request.paid_bank_name = ""
        request.paid_bank_account = ""
        request.paid_bank_account_masked = ""
        request.paid_by = None
        if request.paid_to_closed_file:
            # Its flag, the last warning (added with the payment), asks to review a payment
            # that is no more: settled by this reversal, though still on record.
            request.settled_warnings = [
                *request.settled_warnings,
                {"warning": len(request.warnings) - 1, "reversal": reversal.pk},
            ]
        request.paid_to_closed_file = False
        request.save(
            update_fields=[
                "state",
                "paid_on",
                "bank_reference",
                "paid_worker_name",
                "paid_bank_name",
                "paid_bank_account",
                "paid_bank_account_masked",
                "paid_by",
                "paid_to_closed_file",
                "settled_warnings",
            ]
        )
    return reversal


def check_year_closable(*, organisation: Organisation, year: int | None) -> int:
    """A year from 1990 that has ended, not yet closed by this organisation or one above it:
    a year's balance (结余) is carried over or refunded only once the year is over (DOMAIN.md,
    Funds), and a closed year takes no more entries, so the running year is never closed."""
    last = timezone.localdate().year - 1
    if year is None or not FIRST_YEAR <= int(year) <= last:
        raise ValidationError(
            {"year": _("只能结账已经结束的年度（%(last)d年及以前）。") % {"last": last}}
        )
    closed = closed_year_of(organisation, date(int(year), 1, 1))
    if closed is not None:
        raise ValidationError(
            {
                "year": _("%(year)d年度已由%(org)s结账。")
                % {"year": int(year), "org": closed.organisation.name}
            }
        )
    return int(year)


@transaction.atomic
def year_close(*, user, organisation: Organisation, year: int, note: str = "") -> ClosedYear:
    """Close a year after the annual report: no entry dated in it, here and below."""
    check_permission(user, "funds.add_closedyear", organisation)
    year = check_year_closable(organisation=organisation, year=year)
    return ClosedYear.objects.create(
        organisation=organisation, year=year, note=(note or "").strip(), closed_by=user
    )


# --- Assistance requests ------------------------------------------------------------------


@transaction.atomic
def request_create(
    *,
    user,
    household: Household,
    assistance_type: AssistanceType,
    source: FundSource,
    amount,
    reason: str,
    tier: str = Tier.GENERAL,
    beneficiary: Member | None = None,
    out_of_pocket=None,
    requested_on: date | None = None,
    exception_reason: str = "",
) -> AssistanceRequest:
    """帮扶申请 for a file on file or relieved (先建档、后帮扶、实名制), within the standards
    unless an exception is asked for (a supervisor then decides whether to override); under a
    standard that counts per person, for a named member of the household."""
    check_permission(user, "funds.add_assistancerequest", household.organisation)
    amount = check_amount(amount)
    requested_on = check_date(requested_on or timezone.localdate(), field="requested_on")
    errors = request_input_errors(
        assistance_type=assistance_type, source=source, reason=reason, tier=tier
    )
    if beneficiary is not None and beneficiary.household_id != household.pk:
        errors["beneficiary"] = [_("受助成员不是本户成员。")]
    if out_of_pocket not in (None, ""):
        out_of_pocket = check_amount(out_of_pocket, field="out_of_pocket")
    else:
        out_of_pocket = None
    for field, messages in request_household_errors(household).items():
        errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    # One request of a household at a time: the standards' counts below and the duplicate
    # check see every request saved before, also when two clerks (or two clicks) race.
    Household.objects.select_for_update().values_list("pk", flat=True).get(pk=household.pk)
    request = request_build(
        user=user,
        household=household,
        assistance_type=assistance_type,
        source=source,
        amount=amount,
        reason=reason,
        tier=tier,
        beneficiary=beneficiary,
        out_of_pocket=out_of_pocket,
        requested_on=requested_on,
        exception_reason=exception_reason,
        facts=RequestFacts(),  # read after the lock
    )
    request.save()
    return request


def request_input_errors(*, assistance_type, source, reason: str, tier: str) -> dict:
    """The request's own fields, whatever the household (a batch checks them once)."""
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = [_("请填写申请理由。")]
    if tier not in Tier.values:
        errors["tier"] = [_("细分标准不正确。")]
    if not assistance_type.is_active:
        errors["assistance_type"] = [_("该帮扶项目已停用。")]
    if not source.is_active:
        errors["source"] = [_("该资金来源已停用。")]
    return errors


def request_household_errors(household: Household) -> dict:
    """实名制: the money goes to the worker's own bank account, so the file must have one."""
    if not household.bank_account:
        return {
            "household": [
                _("档案未登记本人银行账号，请先在档案中补充（帮扶资金实名发放到本人账户）。")
            ]
        }
    return {}


def request_build(
    *,
    user,
    household: Household,
    assistance_type: AssistanceType,
    source: FundSource,
    amount: Decimal,
    reason: str,
    tier: str,
    beneficiary: Member | None,
    out_of_pocket: Decimal | None,
    requested_on: date,
    exception_reason: str,
    facts: RequestFacts,
) -> AssistanceRequest:
    """The request as request_create saves it (not saved), after the rules that depend on the
    file and its year: no duplicate, on file that day, an open year, a tier of the standards,
    the standards themselves. Raises the first rule broken, in the user's language. Its
    `shown_warnings` are its warnings in the user's language (the stored ones are Chinese).
    Call with the household locked and `facts` read after the lock."""
    _refuse_duplicate(household, assistance_type, tier, beneficiary, amount, requested_on, facts)
    _check_supported_on(
        household,
        requested_on,
        field="requested_on",
        action=pgettext("money moved, as a verb", "申请帮扶"),
        facts=facts,
    )
    # A closed year's books are final: no request of that year either (it would count against
    # that year's standards and be paid from this year's money).
    _check_open_year(household.organisation, requested_on, field="requested_on", facts=facts)
    check_tier(
        household=household,
        assistance_type=assistance_type,
        tier=tier,
        year=requested_on.year,
        facts=facts,
    )
    check_student_stage(assistance_type=assistance_type, tier=tier, beneficiary=beneficiary)
    rules = partial(
        check_request,
        household=household,
        assistance_type=assistance_type,
        tier=tier,
        amount=amount,
        year=requested_on.year,
        out_of_pocket=out_of_pocket,
        beneficiary=beneficiary,
        facts=facts,
    )
    # The violations and warnings are stored on the request, so in the data language: every
    # reader sees the same words, whatever language the clerk who asked used.
    with translation.override("zh-hans"):
        check = rules()
    standard = check.standard
    if standard is not None and standard.cap_out_of_pocket and out_of_pocket is None:
        raise ValidationError(
            {"out_of_pocket": _("%(type)s须填写个人自付费用。") % {"type": assistance_type}}
        )
    if standard is not None and standard.per_person and beneficiary is None:
        raise ValidationError(
            {"beneficiary": _("%(type)s按人计算次数，请选择受助成员。") % {"type": assistance_type}}
        )
    exception_reason = (exception_reason or "").strip()
    if check.violations and not exception_reason:
        raise ValidationError(
            [
                *rules().violations,  # a refusal speaks the user's language
                ValidationError(
                    _("如确需突破标准，请填写申请突破标准的理由，由审批人决定。"),
                    code=NEEDS_EXCEPTION_REASON,
                ),
            ]
        )
    two_levels = _needs_second_approval(standard, amount)
    request = AssistanceRequest(
        household=household,
        organisation=household.organisation,
        assistance_type=assistance_type,
        tier=tier,
        beneficiary=beneficiary,
        beneficiary_name=beneficiary.name if beneficiary else "",
        beneficiary_id_hash=beneficiary.id_hash if beneficiary else "",
        source=source,
        amount=amount,
        out_of_pocket=out_of_pocket,
        reason=(reason or "").strip(),
        requested_on=requested_on,
        year=requested_on.year,
        approvals_required=2 if two_levels else 1,
        second_approver=standard.second_approver if two_levels else "",
        standard=standard,
        violations=check.violations,
        warnings=check.warnings,
        exception_reason=exception_reason if check.violations else "",
        requested_by=user,
    )
    request.shown_warnings = rules().warnings if check.warnings else []
    return request


def _refuse_duplicate(household, assistance_type, tier, beneficiary, amount, requested_on, facts):
    """The same request again (a form sent twice, a second clerk entering it too) is refused;
    a second grant of the same kind is asked for on another day or for another amount."""
    beneficiary_pk = beneficiary.pk if beneficiary is not None else None
    same = next(
        (
            row
            for row in facts.requests(household, requested_on.year)  # active ones, oldest first
            if row.assistance_type_id == assistance_type.pk
            and row.tier == tier
            and row.beneficiary_id == beneficiary_pk
            and row.amount == amount
            and row.requested_on == requested_on
        ),
        None,
    )
    if same is not None:
        raise ValidationError(
            _(
                "该户已有一笔相同的帮扶申请（第 %(number)s 号，%(date)s 申请，%(amount)s 元，"
                "%(state)s），请勿重复提交。"
            )
            % {
                "number": same.pk,
                "date": same.requested_on.isoformat(),
                "amount": yuan_text(same.amount),
                "state": same.get_state_display(),
            }
        )


def _needs_second_approval(standard, amount: Decimal) -> bool:
    return (
        standard is not None
        and standard.second_approval_above is not None
        and amount > standard.second_approval_above
    )


def check_decidable(*, user, request: AssistanceRequest) -> int:
    """Whether `user` may decide `request` now, approving or rejecting alike: the rule of
    `selectors.decision_rules` (the permission, the subtree, still awaiting a decision, not its
    requester, not its level-1 approver, level 2 by whoever the standard names), the same rule
    that fills the work list and shows the 审批 button. The decide page asks before it shows its
    form; the services ask again on the locked row. Returns the level; raises the reason."""
    return selectors.decision_level(user=user, request=request)


@transaction.atomic
def request_approve(
    *, user, request: AssistanceRequest, reason: str = "", override: bool = False
) -> AssistanceRequest:
    """审批: nobody approves their own request; a second approval above the standard's
    threshold; caps and frequencies re-checked (override only with a reason), the member's
    school stage too (no override); the final approval commits money and never beyond what is
    available."""
    check_permission(user, "funds.approve_assistancerequest", request.organisation)
    _lock_account(request.organisation, request.source)
    request = (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .select_related("household__organisation", "household__category", "assistance_type")
        .get(pk=request.pk)
    )
    level = check_decidable(user=user, request=request)
    household = request.household
    if household.status not in SUPPORTED_STATUSES:
        raise ValidationError(
            _("档案当前状态为“%(status)s”，不能批准帮扶，请不予批准。")
            % {"status": household.get_status_display()}
        )
    # The member's school stage may have been corrected in the file since the request: a tier
    # no longer theirs is refused as the request would be now, a fact of the file, no override.
    check_student_stage(
        assistance_type=request.assistance_type, tier=request.tier, beneficiary=request.beneficiary
    )
    reason = (reason or "").strip()
    check = check_request(
        household=household,
        assistance_type=request.assistance_type,
        tier=request.tier,
        amount=request.amount,
        year=request.year,
        out_of_pocket=request.out_of_pocket,
        beneficiary=request.beneficiary,
        exclude_pk=request.pk,
    )
    withdrawn = tier_withdrawn(
        household=household,
        assistance_type=request.assistance_type,
        tier=request.tier,
        year=request.year,
    )
    if withdrawn:
        check.violations.append(withdrawn)
    if check.violations and not override:
        raise ValidationError(
            [*check.violations, _("如确需突破标准，请选择“突破标准”并填写理由。")]
        )
    if check.violations and not reason:
        raise ValidationError({"reason": _("突破标准须填写理由。")})
    balance = selectors.balance(organisation=request.organisation, source=request.source)
    committed = selectors.committed(organisation=request.organisation, source=request.source)
    if request.amount > balance - committed:
        raise _available_error(
            source=request.source,
            balance=balance,
            committed=committed,
            amount=request.amount,
            action=pgettext("money moved, as a verb", "批准"),
        )
    if request.approvals_required == 1 and _needs_second_approval(check.standard, request.amount):
        # A standard set or lowered since the request asks for a second approval: it applies
        # as its caps do (re-checked above), so this approval is the first of two.
        request.approvals_required = 2
        request.second_approver = check.standard.second_approver
        request.save(update_fields=["approvals_required", "second_approver"])
    Approval.objects.create(
        request=request,
        level=level,
        decision=Approval.Decision.APPROVE,
        approver=user,
        approver_organisation=user.organisation,
        reason=reason,
        override=bool(check.violations),
    )
    if level >= request.approvals_required:
        request.state = RequestState.APPROVED
        request.decided_at = timezone.now()
        request.save(update_fields=["state", "decided_at"])
    return request


@transaction.atomic
def request_reject(*, user, request: AssistanceRequest, reason: str) -> AssistanceRequest:
    """不批准, with a reason, by whoever may approve at that level (not the requester, not the
    first-level approver, the organisation the standard names for level 2)."""
    check_permission(user, "funds.approve_assistancerequest", request.organisation)
    request = (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=request.pk)
    )
    level = check_decidable(user=user, request=request)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("不批准须填写理由。")})
    Approval.objects.create(
        request=request,
        level=level,
        decision=Approval.Decision.REJECT,
        approver=user,
        approver_organisation=user.organisation,
        reason=reason,
    )
    request.state = RequestState.REJECTED
    request.decided_at = timezone.now()
    request.save(update_fields=["state", "decided_at"])
    return request


@transaction.atomic
def request_cancel(*, user, request: AssistanceRequest, reason: str) -> AssistanceRequest:
    """取消 a request not yet paid (its committed money is released)."""
    check_permission(user, "funds.change_assistancerequest", request.organisation)
    request = AssistanceRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    cancellable = (RequestState.REQUESTED, RequestState.APPROVED, RequestState.FAILED)
    if request.state not in cancellable:
        raise ValidationError(
            _("该申请当前状态为“%(state)s”，不能取消。") % {"state": request.get_state_display()}
        )
    line = selectors.pending_batch_line(request)
    if line is not None:
        raise ValidationError(
            _("该申请在代发批次 %(batch)s 中待银行回盘，回盘后才能取消。")
            % {"batch": line.batch.number}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写取消原因。")})
    request.state = RequestState.CANCELLED
    request.cancel_reason = reason[:200]
    request.cancelled_by = user
    request.cancelled_at = timezone.now()
    request.save(update_fields=["state", "cancel_reason", "cancelled_by", "cancelled_at"])
    return request


def requests_close_with_file(*, user, household: Household, effective_date: date, action) -> int:
    """A file exited or deregistered takes no more assistance: its requests still awaiting a
    decision are cancelled with it, by whoever closed the file (the closure is the authority, so
    no funds permission is asked), each with the reason on record and in the file's trail.
    Approved money is left to finance: it may still be paid for days before the closure, or be
    cancelled by a person. Called inside the closing transition's transaction; returns how many
    were cancelled."""
    with translation.override("zh-hans"):  # a record, in the records' language (as violations)
        reason = _("档案已于 %(date)s %(action)s，待审批的申请随之取消。") % {
            "date": effective_date.isoformat(),
            "action": action,
        }
    waiting = AssistanceRequest.objects.select_for_update(of=("self",)).filter(
        household=household, state=RequestState.REQUESTED
    )
    now = timezone.now()
    cancelled = 0
    for request in waiting:
        request.state = RequestState.CANCELLED
        request.cancel_reason = reason[:200]
        request.cancelled_by = user
        request.cancelled_at = now
        request.save(update_fields=["state", "cancel_reason", "cancelled_by", "cancelled_at"])
        cancelled += 1
    return cancelled


@transaction.atomic
def request_retry(*, user, request: AssistanceRequest) -> AssistanceRequest:
    """After a failed payment the clerk corrects the file's bank account; the approved request
    then waits for payment again (the approval and the committed money still stand). Who sent
    it again and when stay on the request, as the failure's who, when and why do."""
    check_permission(user, "funds.change_assistancerequest", request.organisation)
    request = (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .select_related("household")
        .get(pk=request.pk)
    )
    if request.state != RequestState.FAILED:
        raise ValidationError(_("只有发放失败的申请可以重新发放。"))
    if request.household.status not in SUPPORTED_STATUSES:
        # No bank file takes it again: it would only wait under 未发放但档案不在档.
        raise ValidationError(
            _("档案当前状态为“%(status)s”，不能重新发放；核实后请取消该申请。")
            % {"status": request.household.get_status_display()}
        )
    if not request.household.bank_account:
        raise ValidationError(_("档案仍未登记银行账号，请先在档案中更正。"))
    request.state = RequestState.APPROVED
    request.retried_at = timezone.now()
    request.retried_by = user
    request.save(update_fields=["state", "retried_at", "retried_by"])
    return request


# --- Payments ------------------------------------------------------------------------------


@transaction.atomic
def payment_mark_paid(
    *,
    user,
    request: AssistanceRequest,
    paid_on: date,
    bank_reference: str,
    line: PaymentBatchLine | None = None,
) -> LedgerEntry:
    """发放: an approved request is paid once, to the worker's own account as the file (or the
    bank file) had it, on a day the file is on file or relieved, from a balance that covers it.
    What the bank paid (`line`) is booked whatever the file's status, flagged for review when
    the file was closed on the day its bank file was made."""
    check_permission(user, "funds.pay_assistancerequest", request.organisation)
    _lock_account(request.organisation, request.source)
    request = (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .select_related("household", "source", "organisation")
        .get(pk=request.pk)
    )
    if request.state == RequestState.PAID:
        raise ValidationError(
            _("该笔帮扶已于 %(date)s 发放，不能重复发放。") % {"date": request.paid_on.isoformat()}
        )
    if request.state != RequestState.APPROVED:
        raise ValidationError(
            _("该申请当前状态为“%(state)s”，只有已批准待发放的申请可以发放。")
            % {"state": request.get_state_display()}
        )
    _check_batch_line(request, line)
    approvers = set(request.approvals.values_list("approver_id", flat=True))
    if user.pk == request.requested_by_id or user.pk in approvers:
        raise ValidationError(_("不能为自己申请或审批的帮扶登记发放。"))
    paid_on = check_date(paid_on, field="paid_on")
    if paid_on < request.requested_on:
        raise ValidationError({"paid_on": _("发放日期不能早于申请日期。")})
    approved_on = timezone.localdate(request.decided_at) if request.decided_at else None
    if approved_on is not None and paid_on < approved_on:
        raise ValidationError(
            {
                "paid_on": _("发放日期不能早于审批日期 %(date)s。")
                % {"date": approved_on.isoformat()}
            }
        )
    bank_reference = (bank_reference or "").strip() or (line.reference if line else "")
    if not bank_reference:
        raise ValidationError({"bank_reference": _("请填写银行流水号。")})
    _check_open_year(request.organisation, paid_on, field="paid_on")
    household = request.household
    # Money the bank paid has left the account: the books follow the bank and never refuse it
    # for the file's status. A file closed on or before the day its bank file was made (an exit
    # recorded after the export, of that very day or back-dated) is flagged on the request.
    if line is None:
        _check_supported_on(
            household, paid_on, field="paid_on", action=pgettext("money moved, as a verb", "发放")
        )
    payee = line if line is not None else household
    name, bank_name, account = payee.worker_name, payee.bank_name, payee.bank_account
    if not account:
        raise ValidationError(_("档案未登记银行账号，不能发放。"))
    balance = selectors.balance(organisation=request.organisation, source=request.source)
    if request.amount > balance:
        raise ValidationError(
            _("%(source)s余额 %(balance)s 元，不足以发放 %(amount)s 元。")
            % {
                "source": str(request.source),
                "balance": yuan_text(balance),
                "amount": yuan_text(request.amount),
            }
        )
    _check_covered(
        organisation=request.organisation,
        source=request.source,
        amount=request.amount,
        day=paid_on,
        action=pgettext("money moved, as a noun", "发放"),
    )
    entry = _write_entry(
        organisation=request.organisation,
        source=request.source,
        kind=EntryKind.PAYMENT,
        amount=-request.amount,
        entry_date=paid_on,
        request=request,
        reason=bank_reference[:200],
        created_by=user,
    )
    request.state = RequestState.PAID
    request.paid_on = paid_on
    request.bank_reference = bank_reference[:60]
    request.paid_worker_name = name
    request.paid_bank_name = bank_name
    request.paid_bank_account = account
    request.paid_bank_account_masked = mask(account)
    request.paid_by = user
    if line is not None:
        with translation.override("zh-hans"):  # stored, so in the records' language
            flag = _bank_paid_closed_file(household, line)
        if flag:
            request.warnings = [*request.warnings, flag]
            request.paid_to_closed_file = True
    # A failure before stays on record (who, when, why), as the file's timeline shows it.
    request.save(
        update_fields=[
            "state",
            "paid_on",
            "bank_reference",
            "paid_worker_name",
            "paid_bank_name",
            "paid_bank_account",
            "paid_bank_account_masked",
            "paid_by",
            "warnings",
            "paid_to_closed_file",
        ]
    )
    return entry


def _bank_paid_closed_file(household: Household, line: PaymentBatchLine) -> str:
    """Why a bank payment needs review ("" when none): its file was not on file or relieved on
    the day the bank file was made."""
    made_on = timezone.localdate(line.batch.created_at)
    transition = transition_on(household, made_on)
    status = transition.to_status if transition is not None else ""
    if status in SUPPORTED_STATUSES:
        return ""
    return _(
        "银行已按代发批次 %(batch)s（%(made)s 生成）发放，但档案 %(number)s 自 %(since)s 起"
        "为“%(status)s”：已按回盘入账，请核查。"
    ) % {
        "batch": line.batch.number,
        "made": made_on.isoformat(),
        "number": household.file_number,
        "since": (transition.effective_date if transition else made_on).isoformat(),
        "status": _status_label(status),
    }


def _check_batch_line(request: AssistanceRequest, line: PaymentBatchLine | None) -> None:
    """A request waiting in a bank batch is settled by the bank's return file only (its `line`),
    never by hand: paid or failed, the bank's result could otherwise no longer be booked."""
    pending = selectors.pending_batch_line(request)
    if line is None and pending is not None:
        raise ValidationError(
            _("该申请在代发批次 %(batch)s 中，请以银行回盘结果登记。")
            % {"batch": pending.batch.number}
        )
    if line is not None and (pending is None or pending.pk != line.pk):
        raise ValidationError(_("代发明细与申请不符或已回盘。"))


@transaction.atomic
def payment_mark_failed(
    *, user, request: AssistanceRequest, reason: str, line: PaymentBatchLine | None = None
) -> AssistanceRequest:
    """发放失败 (wrong account, name mismatch): back to the clerk to correct the file."""
    check_permission(user, "funds.pay_assistancerequest", request.organisation)
    request = AssistanceRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    if request.state != RequestState.APPROVED:
        raise ValidationError(
            _("该申请当前状态为“%(state)s”，不能登记发放失败。")
            % {"state": request.get_state_display()}
        )
    _check_batch_line(request, line)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写失败原因（如账号错误、户名不符）。")})
    request.state = RequestState.FAILED
    request.failure_reason = reason[:200]
    request.failed_at = timezone.now()
    request.failed_by = user
    request.save(update_fields=["state", "failure_reason", "failed_at", "failed_by"])
    return request


@transaction.atomic
def repayment_record(
    *, user, request: AssistanceRequest, amount, repaid_on: date, note: str = ""
) -> Repayment:
    """还款 of a small loan: money back into the source it was lent from."""
    check_permission(user, "funds.add_repayment", request.organisation)
    amount = check_amount(amount)
    repaid_on = check_date(repaid_on, field="repaid_on")
    _lock_account(request.organisation, request.source)
    request = (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .select_related("assistance_type", "organisation", "source")
        .get(pk=request.pk)
    )
    if not request.assistance_type.is_loan:
        raise ValidationError(_("只有借款类帮扶需要登记还款。"))
    if request.state != RequestState.PAID:
        raise ValidationError(_("借款尚未发放，不能登记还款。"))
    if repaid_on < request.paid_on:
        raise ValidationError({"repaid_on": _("还款日期不能早于借款发放日期。")})
    _check_open_year(request.organisation, repaid_on, field="repaid_on")
    repaid = selectors.loan_repaid(request)
    if repaid + amount > request.amount:
        raise ValidationError(
            {
                "amount": _("还款总额不能超过借款金额 %(loan)s 元（已还 %(repaid)s 元）。")
                % {"loan": yuan_text(request.amount), "repaid": yuan_text(repaid)}
            }
        )
    repayment = Repayment.objects.create(
        request=request,
        amount=amount,
        repaid_on=repaid_on,
        note=(note or "").strip(),
        created_by=user,
    )
    _write_entry(
        organisation=request.organisation,
        source=request.source,
        kind=EntryKind.REPAYMENT,
        amount=amount,
        entry_date=repaid_on,
        request=request,
        repayment=repayment,
        reason=(note or "").strip()[:200],
        created_by=user,
    )
    return repayment


# --- Bank batch payments ----------------------------------------------------------------------


def _batch_number(organisation: Organisation, today: date) -> str:
    prefix = f"{organisation.code}-{today:%Y%m%d}-"
    taken = PaymentBatch.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1:02d}"


@transaction.atomic
def batch_create(
    *, user, organisation: Organisation, source: FundSource | None = None
) -> tuple[PaymentBatch, list[str]]:
    """代发文件: the organisation's approved, unpaid requests not yet in a bank file, with the
    name, ID and account as the file has them now. Returns the batch and what was left out."""
    check_permission(user, "funds.pay_assistancerequest", organisation)
    # The requests are locked (in key order) until the lines are written: one being paid by hand
    # or cancelled meanwhile is waited for and left out when it is no longer approved (PostgreSQL
    # reads a locked row again once its holder commits), so the bank never pays it twice.
    candidates = (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .filter(organisation=organisation, state=RequestState.APPROVED)
        .exclude(batch_lines__result=LineResult.PENDING)
        .select_related("household")
        .order_by("id")
    )
    if source is not None:
        candidates = candidates.filter(source=source)
    skipped: list[str] = []
    chosen = []
    for request in candidates:
        household = request.household
        if not household.bank_account:
            skipped.append(
                _("%(number)s %(name)s：档案未登记银行账号。")
                % {"number": household.file_number, "name": household.worker_name}
            )
        elif household.status not in SUPPORTED_STATUSES:
            skipped.append(
                _("%(number)s %(name)s：档案当前状态为“%(status)s”。")
                % {
                    "number": household.file_number,
                    "name": household.worker_name,
                    "status": household.get_status_display(),
                }
            )
        else:
            chosen.append(request)
    if not chosen:
        raise ValidationError(_("没有可以代发的已批准申请。"))
    today = timezone.localdate()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                batch = PaymentBatch.objects.create(
                    organisation=organisation,
                    source=source,
                    number=_batch_number(organisation, today),
                    created_by=user,
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five colleagues exporting in the same instant
        raise ValidationError(_("批次号冲突，请重试。"))
    lines = []
    for index, request in enumerate(chosen, start=1):
        household = request.household
        lines.append(
            PaymentBatchLine(
                batch=batch,
                request=request,
                reference=f"{batch.number}-{index:04d}",
                worker_name=household.worker_name,
                id_number=household.id_number,
                id_masked=household.id_masked,
                bank_name=household.bank_name,
                bank_account=household.bank_account,
                bank_account_masked=household.bank_account_masked or mask(household.bank_account),
                amount=request.amount,
            )
        )
    try:
        with transaction.atomic():
            PaymentBatchLine.objects.bulk_create(lines)
    except IntegrityError:
        raise ValidationError(_("部分申请已被同时生成的另一批次包含，请刷新后重试。")) from None
    batch.line_count = len(lines)
    batch.total = sum((line.amount for line in lines), ZERO)
    batch.save(update_fields=["line_count", "total"])
    return batch, skipped


@dataclass
class ReturnRow:
    """One row of the bank's return file (see funds/bankfiles.py for the format)."""

    row: int
    reference: str
    result: str  # LineResult.PAID or LineResult.FAILED
    reason: str = ""
    bank_reference: str = ""
    amount: Decimal | None = None
    paid_on: date | None = None


def _row_error(row: int, message: str) -> str:
    return _("第%(row)d行：%(message)s") % {"row": row, "message": message}


@transaction.atomic
def batch_reconcile(
    *, user, batch: PaymentBatch, rows: list[ReturnRow], paid_on: date, file_name: str = ""
) -> dict:
    """回盘: the bank's results mark each line paid or failed. All or nothing: any bad row and
    nothing is written. A line already settled is never settled again. Returns the counts of
    paid and failed lines and the rows `flagged` for review (a payment to a closed file)."""
    check_permission(user, "funds.pay_assistancerequest", batch.organisation)
    batch = PaymentBatch.objects.select_for_update(of=("self",)).get(pk=batch.pk)
    paid_on = check_date(paid_on, field="paid_on")
    lines = {line.reference: line for line in batch.lines.select_related("request")}
    errors: list[str] = []
    seen: set[str] = set()
    if not rows:
        raise ValidationError(_("回盘文件中没有数据行。"))
    # The bank settles a line only once it has the file: no result dated before it was made.
    sent_on = timezone.localdate(batch.created_at)
    if paid_on < sent_on and any(row.paid_on is None for row in rows):
        raise ValidationError(
            {
                "paid_on": _("发放日期 %(date)s 早于代发批次 %(batch)s 的生成日期 %(sent)s。")
                % {"date": paid_on.isoformat(), "batch": batch.number, "sent": sent_on.isoformat()}
            }
        )
    for row in rows:
        line = lines.get(row.reference)
        if row.paid_on is not None and row.paid_on < sent_on:
            errors.append(
                _row_error(
                    row.row,
                    _("日期 %(date)s 早于代发批次 %(batch)s 的生成日期 %(sent)s。")
                    % {
                        "date": row.paid_on.isoformat(),
                        "batch": batch.number,
                        "sent": sent_on.isoformat(),
                    },
                )
            )
        elif not row.reference:
            errors.append(_row_error(row.row, _("缺少业务参考号。")))
        elif line is None:
            errors.append(
                _row_error(
                    row.row,
                    _("业务参考号 %(ref)s 不属于批次 %(batch)s。")
                    % {"ref": row.reference, "batch": batch.number},
                )
            )
        elif row.reference in seen:
            errors.append(
                _row_error(row.row, _("业务参考号 %(ref)s 重复。") % {"ref": row.reference})
            )
        elif line.result == LineResult.PAID:
            errors.append(
                _row_error(
                    row.row,
                    _("%(ref)s 已登记为发放成功，不能重复发放。") % {"ref": row.reference},
                )
            )
        elif line.result == LineResult.FAILED:
            errors.append(
                _row_error(row.row, _("%(ref)s 已登记为发放失败。") % {"ref": row.reference})
            )
        elif row.result not in (LineResult.PAID, LineResult.FAILED):
            errors.append(_row_error(row.row, _("结果应为“成功”或“失败”。")))
        elif row.result == LineResult.FAILED and not row.reason.strip():
            errors.append(_row_error(row.row, _("失败的须注明原因（如账号错误、户名不符）。")))
        elif row.amount is not None and row.amount != line.amount:
            errors.append(
                _row_error(
                    row.row,
                    _("金额 %(got)s 与代发金额 %(sent)s 不符。")
                    % {"got": yuan_text(row.amount), "sent": yuan_text(line.amount)},
                )
            )
        seen.add(row.reference)
    if errors:
        raise ValidationError(errors)
    counts = {"paid": 0, "failed": 0, "flagged": []}
    for row in rows:
        line = lines[row.reference]
        try:
            if row.result == LineResult.PAID:
                payment_mark_paid(
                    user=user,
                    request=line.request,
                    paid_on=row.paid_on or paid_on,
                    bank_reference=row.bank_reference or line.reference,
                    line=line,
                )
                flag = _bank_paid_closed_file(line.request.household, line)
                if flag:
                    counts["flagged"].append(_row_error(row.row, flag))
            else:
                payment_mark_failed(user=user, request=line.request, reason=row.reason, line=line)
        except ValidationError as error:
            errors.extend(_row_error(row.row, message) for message in error.messages)
            continue
        line.result = row.result
        line.bank_reference = row.bank_reference[:60]
        line.failure_reason = row.reason.strip()[:200] if row.result == LineResult.FAILED else ""
        line.save(update_fields=["result", "bank_reference", "failure_reason"])
        counts[row.result] += 1
    if errors:
        raise ValidationError(errors)  # rolls back every row of this file
    if not batch.lines.filter(result=LineResult.PENDING).exists():
        batch.state = PaymentBatch.State.RECONCILED
    batch.reconciled_by = user
    batch.reconciled_at = timezone.now()
    batch.return_file_name = (file_name or "")[:200]
    batch.save(update_fields=["state", "reconciled_by", "reconciled_at", "return_file_name"])
    return counts


# --- Payment verification -------------------------------------------------------------------


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first_month = 3 * (quarter - 1) + 1
    start = date(year, first_month, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, first_month + 3, 1)
    return start, end  # end is exclusive


@transaction.atomic
def sample_draw(
    *,
    user,
    organisation: Organisation,
    year: int,
    quarter: int,
    size: int,
    rng: random.Random | None = None,
) -> VerificationSample:
    """抽查: a random sample of the quarter's paid payments (here and below), to be confirmed
    with the household at its next home survey or by phone."""
    check_permission(user, "funds.add_verificationsample", organisation)
    if quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": _("季度应为1至4。")})
    if size is None or not 1 <= int(size) <= MAX_SAMPLE_SIZE:
        raise ValidationError(
            {"size": _("抽查笔数应在1至%(max)d之间。") % {"max": MAX_SAMPLE_SIZE}}
        )
    start, end = quarter_bounds(int(year), quarter)
    if start > timezone.localdate():
        raise ValidationError({"quarter": _("该季度尚未开始。")})
    if end > timezone.localdate():
        # One sample per quarter: drawn early, the rest of its payments could never be drawn.
        raise ValidationError({"quarter": _("该季度尚未结束，季度结束后才能抽样。")})
    if VerificationSample.objects.filter(
        organisation=organisation, year=year, quarter=quarter
    ).exists():
        raise ValidationError({"quarter": _("本季度已经抽样。")})
    population = list(
        AssistanceRequest.objects.filter(
            organisation__path__startswith=organisation.path,
            state=RequestState.PAID,
            paid_on__gte=start,
            paid_on__lt=end,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not population:
        raise ValidationError(_("该季度没有已发放的帮扶，无需抽查。"))
    rng = rng or random.SystemRandom()
    chosen = sorted(rng.sample(population, min(int(size), len(population))))
    sample = VerificationSample.objects.create(
        organisation=organisation,
        year=year,
        quarter=quarter,
        size=len(chosen),
        population=len(population),
        drawn_by=user,
    )
    Verification.objects.bulk_create(
        [Verification(sample=sample, request_id=request_id) for request_id in chosen]
    )
    return sample


@transaction.atomic
def verification_record(
    *,
    user,
    item: Verification,
    outcome: str,
    method: str,
    checked_on: date,
    amount_received=None,
    note: str = "",
) -> Verification:
    """核实结果: received in full, partly or not at all; the last two are discrepancies."""
    check_permission(user, "funds.change_verification", item.sample.organisation)
    item = (
        Verification.objects.select_for_update(of=("self",))
        .select_related("request")
        .get(pk=item.pk)
    )
    if item.outcome != Verification.Outcome.PENDING:
        raise ValidationError(_("该笔已核实。"))
    if not item.request.is_paid:  # reversed since the draw: no money went out to check
        raise ValidationError(_("该笔发放已在抽样后冲销，现未发放，无需核实。"))
    if outcome not in ("full", "partial", "none"):
        raise ValidationError({"outcome": _("请选择核实结果。")})
    if method not in Verification.Method.values:
        raise ValidationError({"method": _("请选择核实方式。")})
    checked_on = check_date(checked_on, field="checked_on")
    if checked_on < item.request.paid_on:
        raise ValidationError({"checked_on": _("核实日期不能早于发放日期。")})
    paid = item.request.amount
    if outcome == "partial":
        received = check_amount(amount_received, field="amount_received")
        if received >= paid:
            raise ValidationError(
                {
                    "amount_received": _("部分收到的金额应小于发放金额 %(amount)s 元。")
                    % {"amount": yuan_text(paid)}
                }
            )
    else:
        received = paid if outcome == "full" else ZERO
    note = (note or "").strip()
    if outcome != "full" and not note:
        raise ValidationError({"note": _("未全额收到的，请填写核实情况。")})
    item.outcome = outcome
    item.method = method
    item.checked_on = checked_on
    item.amount_received = received
    item.checked_by = user
    item.note = note
    item.save(
        update_fields=["outcome", "method", "checked_on", "amount_received", "checked_by", "note"]
    )
    return item


@transaction.atomic
def verification_resolve(*, user, item: Verification, follow_up: str) -> Verification:
    """A discrepancy followed up: what was done about it, when and by whom."""
    check_permission(user, "funds.change_verification", item.sample.organisation)
    item = Verification.objects.select_for_update(of=("self",)).get(pk=item.pk)
    if not item.is_discrepancy:
        raise ValidationError(_("只有未全额收到的核查需要跟进处理。"))
    if item.resolved_at is not None:
        raise ValidationError(_("该问题已处理完毕。"))
    follow_up = (follow_up or "").strip()
    if not follow_up:
        raise ValidationError({"follow_up": _("请填写跟进处理情况。")})
    item.follow_up = follow_up
    item.resolved_at = timezone.now()
    item.resolved_by = user
    item.save(update_fields=["follow_up", "resolved_at", "resolved_by"])
    return item
