"""Every write to a household file. Views, admin actions, commands and imports call these; none
re-implements a rule. Each service checks permission and state first, writes in one
transaction, and records who, when and why (Transition rows; field history via
django-simple-history)."""

import hashlib
import weakref
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Max, Min, Q, Value, When
from django.db.models.functions import Length
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from households import eligibility, idnumbers, selectors
from households.models import (
    AMEND,
    APPLICATION_STATUSES,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    SUPPORTED_STATUSES,
    VERIFIED_STATUSES,
    Category,
    ClosureRequest,
    DibaoStandard,
    Document,
    FilingPeriod,
    Household,
    IdentityClaim,
    Member,
    Objection,
    Origin,
    PublicNotice,
    Status,
    Survey,
    SurveyIncome,
    Transition,
    facts_of,
)
from households.workflow import STEPS
from orgs.calendar import add_months, add_working_days
from orgs.models import Organisation
from orgs.money import MAX_AMOUNT, yuan_text
from orgs.pii import mask, mask_numbers
from orgs.scoping import user_can_reach
from orgs.text import listing

MAX_SECONDARY_CAUSES = 3
# A diagnosis (二级以上公立医院诊断证明) proves an illness when issued within the last year [002]:
# checked at its upload, and again at the approval that relies on it (diagnosis_is_recent; the
# approvals queue leaves out the files it refuses: selectors.diagnoses_expired).
DIAGNOSIS_VALID_MONTHS = selectors.DIAGNOSIS_VALID_MONTHS
# How far ahead a notice may be scheduled: far enough for next week's board, not so far that a
# mistyped year leaves the file waiting (or overflows the working-day calendar).
NOTICE_MAX_DAYS_AHEAD = 30


def _require(user, perm: str, household: Household | None = None, organisation=None) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    org = organisation or (household.organisation if household else None)
    if org is not None and not user_can_reach(user, org):
        raise PermissionDenied(_("该档案不在您的管辖范围内。"))


# --- Income and eligibility ---------------------------------------------------------------


def income_of(
    household: Household, member_incomes: list[Decimal] | None = None, *, organisation=None
):
    """`organisation`: the file's, when already read with its ancestors (verdicts_for)."""
    if member_incomes is None:
        member_incomes = list(household.members.values_list("monthly_income", flat=True))
    return eligibility.compute_income(
        member_incomes=member_incomes,
        other_monthly=household.other_monthly_income,
        rigid_annual=household.rigid_spending_annual,
        rule=(organisation or household.organisation).setting("income_rule"),
    )


def verdict_for(household: Household, on: date | None = None) -> eligibility.Verdict:
    """The filing standard applied to the file as it stands (members saved)."""
    return _verdict(
        household,
        on or timezone.localdate(),
        organisation=household.organisation,
        members=list(household.members.values_list(*VERDICT_MEMBER_FIELDS)),
        causes=[household.primary_cause, *household.secondary_causes.all()],
    )


def verdicts_for(households: list[Household], on: date) -> dict[int, eligibility.Verdict]:
    """verdict_for of many files (a public notice's), by key, in a fixed number of queries
    whatever their number: their members' incomes, secondary causes, organisations (with
    their ancestors, for the settings) and dibao lines are each read once for all. The files
    come with their primary cause."""
    keys = [household.pk for household in households]
    members = {key: [] for key in keys}
    rows = Member.objects.filter(household_id__in=keys)
    for key, *row in rows.values_list("household_id", *VERDICT_MEMBER_FIELDS):
        members[key].append(row)
    secondary = {key: [] for key in keys}
    chosen = Household.secondary_causes.through.objects.filter(household_id__in=keys)
    for row in chosen.select_related("cause"):
        secondary[row.household_id].append(row.cause)
    organisations = Organisation.with_ancestors({h.organisation_id for h in households})
    lines = DibaoStandard.objects.in_force(list(organisations.values()), on.year)
    return {
        household.pk: _verdict(
            household,
            on,
            organisation=organisations[household.organisation_id],
            members=members[household.pk],
            causes=[household.primary_cause, *secondary[household.pk]],
            dibao_standard=lines[household.organisation_id],
        )
        for household in households
    }


# What a verdict reads of each member: the income, and whether the worker's own row is retired.
VERDICT_MEMBER_FIELDS = ("monthly_income", "relation", "employment")


def _verdict(
    household: Household,
    on: date,
    *,
    organisation,
    members: list,
    causes: list,
    dibao_standard=eligibility.LOOK_UP,
) -> eligibility.Verdict:
    """`members`: (income, relation, employment) of each member (VERDICT_MEMBER_FIELDS)."""
    return eligibility.assess(
        organisation=organisation,
        on=on,
        income=income_of(household, [row[0] for row in members], organisation=organisation),
        cause_codes={cause.code for cause in causes},
        special_cause=any(cause.is_special for cause in causes),
        accident_spending_annual=household.accident_spending_annual,
        exclusions=[name for name in eligibility.EXCLUSIONS if getattr(household, name)],
        worker_retired=(Member.Relation.SELF, Member.Employment.RETIRED)
        in {(relation, employment) for _income, relation, employment in members},
        dibao_standard=dibao_standard,
    )


def verdict_preview(
    *,
    organisation,
    member_incomes: list[Decimal],
    other_monthly: Decimal,
    rigid_annual: Decimal,
    causes,
    accident_spending_annual: Decimal,
    exclusions: list[str],
    worker_retired: bool = False,
    on: date | None = None,
) -> eligibility.Verdict:
    """The filing standard applied to unsaved data (the entry form's live check); no writes.
    `worker_retired`: the worker's row as typed says 退休 (a warning, eligibility.assess)."""
    causes = [cause for cause in causes if cause is not None]
    return eligibility.assess(
        organisation=organisation,
        on=on or timezone.localdate(),
        income=eligibility.compute_income(
            member_incomes=member_incomes,
            other_monthly=other_monthly,
            rigid_annual=rigid_annual,
            rule=organisation.setting("income_rule"),
        ),
        cause_codes={cause.code for cause in causes},
        special_cause=any(cause.is_special for cause in causes),
        accident_spending_annual=accident_spending_annual,
        exclusions=[name for name in exclusions if name in eligibility.EXCLUSIONS],
        worker_retired=worker_retired,
    )


def recompute_income(household: Household, *, same_edit: bool = False) -> None:
    """Cache size and income on the file. A total the money columns cannot hold is refused, not
    stored: reading it back would break every list and report that shows the file.
    `same_edit`: the file was just saved by the same change (created, edited): the income goes
    into that save's history row instead of a row of its own."""
    income = income_of(household)
    if income.monthly > MAX_AMOUNT:
        raise ValidationError(
            {
                "members": _(
                    "家庭月收入合计 %(total)s 元超过可记录的上限 %(max)s 元，请核对各项收入。"
                )
                % {"total": yuan_text(income.monthly), "max": yuan_text(MAX_AMOUNT)}
            }
        )
    cached = (household.household_size, household.monthly_income, household.per_capita_income)
    if cached == (income.size, income.monthly, income.per_capita):
        return  # a save would add a field-history row that changes nothing
    household.household_size = income.size
    household.monthly_income = income.monthly
    household.per_capita_income = income.per_capita
    fields = ["household_size", "monthly_income", "per_capita_income"]
    if same_edit:
        save_into_last_history(household, fields)
    else:
        household.save(update_fields=fields)


def recompute_exit_run(household: Household) -> None:
    """The first day of the file's unbroken run above the dibao line up to its latest survey of
    the current filing period (`Household.above_line_since`, the date the exit list compares;
    脱困 after six months [000]); the caller saves it. Called wherever the run changes: a survey
    recorded, a new filing period."""
    run = selectors.above_line_run(household.pk, household.current_period_id)
    household.above_line_since = run.aggregate(day=Min("surveyed_on"))["day"]


def save_into_last_history(household: Household, fields: list[str]) -> None:
    """Save `fields` as part of the change the file's latest history row records (one row per
    edit: the admin's history listed the follow-up saves as edits that changed nothing)."""
    household.skip_history_when_saving = True
    try:
        household.save(update_fields=fields)
    finally:
        del household.skip_history_when_saving
    latest = household.history.order_by("-history_id").values_list("history_id", flat=True)
    household.history.model.objects.filter(history_id=latest.first()).update(
        **{field: getattr(household, field) for field in fields}
    )


# --- Identity: validation, duplicates (精准识别) ---------------------------------------------


def set_identity(obj, number: str) -> None:
    """Store an ID number encrypted, with its search hash and masked copy."""
    number = idnumbers.normalise(number)
    obj.id_number = number
    obj.id_hash = idnumbers.id_hash(number) if number else ""
    obj.id_masked = mask(number) if number else ""


def duplicate_message(user, holder: Household) -> str:
    if user is not None and user_can_reach(user, holder.organisation):
        return _("此人已在档案 %(number)s（%(name)s，%(status)s）中，不能重复建档。") % {
            "number": holder.file_number,
            "name": holder.worker_name,
            "status": holder.get_status_display(),
        }
    return _("此人已在其他组织建档，不能重复建档。")


def check_no_earlier_file(*, user, household: Household) -> None:
    """A worker whose earlier file is closed (exited, deregistered, not approved) comes back by
    重新申请 on that file: it keeps one file per person, and the return counts as 返困 rather
    than as a new file. Only a file the user can reach is named (and reopened); a file
    elsewhere is another organisation's to reopen, so a new file here is not refused."""
    if not household.id_hash:
        return
    earlier = (
        Household.objects.filter(id_hash=household.id_hash, status__in=STEPS["reopen"].sources)
        .exclude(pk=household.pk)
        .select_related("organisation")
        .order_by("-status_changed_on", "-pk")
    )
    for file in earlier:
        if user_can_reach(user, file.organisation):
            raise ValidationError(
                {
                    "id_number": _(
                        "此人已有档案 %(number)s（%(name)s，%(status)s）。请在原档案中“重新申请”"
                        "（返困按原档案统计），不要新建档案。"
                    )
                    % {
                        "number": file.file_number,
                        "name": file.worker_name,
                        "status": file.get_status_display(),
                    }
                }
            )


def claim_identities(*, user, household: Household) -> None:
    """(Re)write the open file's ID claims; the unique key refuses anyone already on file."""
    IdentityClaim.objects.filter(household=household).delete()
    if household.status not in OPEN_STATUSES:
        return
    hashes = {household.id_hash}
    hashes.update(h for h in household.members.values_list("id_hash", flat=True) if h)
    for id_hash in sorted(hashes):
        try:
            with transaction.atomic():
                IdentityClaim.objects.create(id_hash=id_hash, household=household)
        except IntegrityError:
            holder = (
                IdentityClaim.objects.select_related("household__organisation")
                .get(id_hash=id_hash)
                .household
            )
            message = duplicate_message(user, holder)
            if id_hash == household.id_hash:
                raise ValidationError({"id_number": message}) from None
            # Say which member: the form lists several, each with an ID number.
            name = household.members.filter(id_hash=id_hash).values_list("name", flat=True)[0]
            message = _("家庭成员 %(name)s：%(error)s") % {"name": name, "error": message}
            raise ValidationError({"members": message}) from None


# --- Creating and editing the file -----------------------------------------------------------


@dataclass
class MemberData:
    relation: str
    name: str
    id_number: str = ""
    health: str = Member.Health.HEALTHY
    disability: str = Member.Disability.NONE
    employment: str = Member.Employment.EMPLOYED
    school_stage: str = Member.School.NONE
    monthly_income: Decimal = Decimal("0.00")
    pk: int | None = None


# The sequence of the numbers household_create gives, after the organisation's code and the
# year: five digits (00001 … 99999), then as many as it takes (100000 …).
FILE_SEQUENCE = "([0-9]{5}|[1-9][0-9]{5,})"


def _next_file_number(organisation, year: int) -> str:
    """One more than the organisation's highest number of the year. Imported files keep their
    earlier systems' numbers, any text: one that only starts like ours ("…-00007号", "…-0000123")
    is not counted; it cannot be a number of the sequence, so none given here is ever it. The
    numbers of the sequence are compared as numbers: by length, then text (as text, 100000
    sorts before 99999)."""
    prefix = f"{organisation.code}-{year}-"  # a code is letters and digits (Organisation.code)
    last = (
        Household.objects.filter(
            file_number__startswith=prefix, file_number__regex=f"^{prefix}{FILE_SEQUENCE}$"
        )
        .order_by(Length("file_number").desc(), "-file_number")
        .values_list("file_number", flat=True)
        .first()
    )
    sequence = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{sequence:05d}"


def _check_members(household: Household, members: list[MemberData]) -> None:
    errors = []
    seen: dict[str, str] = {household.id_hash: household.worker_name}
    selves = [m for m in members if m.relation == Member.Relation.SELF]
    if len(selves) > 1:
        errors.append(_("只能有一名成员的关系为“本人”。"))
    for index, member in enumerate(members, start=1):
        if member.monthly_income < 0:
            errors.append(_("第%(n)d名成员的月收入不能为负数。") % {"n": index})
        if member.relation == Member.Relation.SELF or not member.id_number:
            continue
        try:
            number = idnumbers.validate_id_number(member.id_number)
        except ValidationError as exc:
            errors.append(
                _("第%(n)d名成员（%(name)s）：%(error)s")
                % {"n": index, "name": member.name, "error": exc.messages[0]}
            )
            continue
        key = idnumbers.id_hash(number)
        if key in seen:
            errors.append(
                _("第%(n)d名成员（%(name)s）与%(other)s的身份证号码相同，成员重复。")
                % {"n": index, "name": member.name, "other": seen[key]}
            )
        seen[key] = member.name
    if errors:
        raise ValidationError({"members": errors})


def _save_members(household: Household, members: list[MemberData]) -> None:
    """Write the member rows; the worker is always the member with relation 本人."""
    existing = {m.pk: m for m in household.members.all()}
    keep: set[int] = set()
    self_data = next((m for m in members if m.relation == Member.Relation.SELF), None)
    others = [m for m in members if m.relation != Member.Relation.SELF]
    self_row = next((m for m in existing.values() if m.relation == Member.Relation.SELF), None)
    rows = [(self_row, self_data or MemberData(relation="self", name=""), True)]
    # Each saved row is written once: a member that names the worker's row, or a row another
    # member already took (a forged or doubled post), is a new row, never an overwrite.
    taken = {self_row.pk} if self_row else set()
    for data in others:
        row = existing.get(data.pk) if data.pk not in taken else None
        if row is not None:
            taken.add(row.pk)
        rows.append((row, data, False))
    for row, data, is_self in rows:
        if row is None:
            row = Member(household=household)
        elif is_self and self_data is None:
            keep.add(row.pk)
            row.name = household.worker_name
            set_identity(row, household.id_number)
            row.save()
            continue
        row.relation = data.relation
        for attr in ("health", "disability", "employment", "school_stage", "monthly_income"):
            setattr(row, attr, getattr(data, attr))
        if is_self:
            row.name = household.worker_name
            set_identity(row, household.id_number)
        else:
            row.name = data.name
            set_identity(row, data.id_number)
        row.full_clean(exclude=["household"])
        row.save()
        keep.add(row.pk)
    for pk, row in existing.items():
        if pk not in keep:
            row.delete()  # the deletion stays in the member's history


def _note_secondary_causes(household: Household, causes) -> None:
    """The causes' codes on the file itself, so that the field history records their changes
    (Household.secondary_cause_codes)."""
    household.secondary_cause_codes = ",".join(sorted(cause.code for cause in causes or ()))


RESPONSIBLE_STAFF_MESSAGE = _(
    "第一帮扶责任人须为建档单位或其上级工会的在用账号工作人员，不能是基层工会或其他县（区）的人员。"
)


def _responsible_staff_errors(*, user, household: Household, previous) -> list[str]:
    """The first responsible person is staff of the file's county union or above it
    (selectors.responsible_staff_candidates). `previous`: the saved file's (organisation,
    responsible person), None for a new file. Checked when either changes: an edit of other
    facts is not blocked by a person named long ago (since deactivated, say); a file moved to
    another county must name one of that county."""
    staff_id = household.responsible_staff_id
    current = (household.organisation_id, staff_id)
    if not staff_id or not household.organisation_id or current == previous:
        return []
    # A file moved with its person: the editor did not choose them, so they need not be within
    # the editor's reach; they must still be staff where the file goes.
    chooser = user if previous is None or previous[1] != staff_id else None
    candidates = selectors.responsible_staff_candidates(
        user=chooser, organisation=household.organisation
    )
    return [] if candidates.filter(pk=staff_id).exists() else [RESPONSIBLE_STAFF_MESSAGE]


def migrant_worker_errors(household: Household, applied_on: date | None = None) -> dict:
    """The migrant-worker filing condition (eligibility.migrant_worker_errors) of a file not yet
    on file, at the application date of its current filing period (or `applied_on`, a new
    file's). A file on file was decided when it was filed (an imported one, on the rules of its
    earlier system): nothing to check."""
    if not household.is_migrant_worker:
        return {}
    if applied_on is None:
        if household.status not in APPLICATION_STATUSES:
            return {}
        applied_on = household.current_period.applied_on
    return eligibility.migrant_worker_errors(
        is_union_member=household.is_union_member,
        labour_relation_since=household.labour_relation_since,
        applied_on=applied_on,
    )


def category_errors(household: Household, previous_category_id=None) -> list[str]:
    """A category of the scheme the file's organisation uses (eligibility.scheme_categories:
    one of the 2015 scheme too on a file filed before 2021). The category already on the file
    (`previous_category_id`) stays: an edit of other facts does not have to change it."""
    category_id = household.category_id
    if category_id is None or category_id == previous_category_id:
        return []
    period = household.current_period if household.current_period_id else None
    fits = eligibility.scheme_categories(
        household.organisation.setting("category_scheme"), period.filed_on if period else None
    )
    if Category.objects.filter(fits, pk=category_id).exists():
        return []
    return [_("请选择建档单位所用困难类别标准中的类别。")]


def _validate_household(
    household: Household,
    secondary_causes,
    *,
    user,
    previous=None,
    previous_category_id=None,
    applied_on=None,
) -> None:
    """The file's own facts; `previous` as for _responsible_staff_errors, `previous_category_id`
    as for category_errors; `applied_on`: a new file's application date."""
    errors = dict(migrant_worker_errors(household, applied_on))
    if household.organisation_id and (problems := category_errors(household, previous_category_id)):
        errors["category"] = problems
    since = household.labour_relation_since
    if since is not None and since > timezone.localdate():
        errors.setdefault("labour_relation_since", []).append(
            _("%(column)s不能晚于今天。") % {"column": _("劳动关系起始日期")}
        )
    try:
        number = idnumbers.validate_id_number(household.id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.messages
    else:
        set_identity(household, number)
        household.birth_date = idnumbers.birth_date(number)
        if not household.sex:
            household.sex = idnumbers.sex_of(number)
    secondary = list(secondary_causes or [])
    if len(secondary) > MAX_SECONDARY_CAUSES:
        errors["secondary_causes"] = [_("次要致困原因最多选择3项。")]
    elif household.primary_cause_id and household.primary_cause_id in {c.pk for c in secondary}:
        errors["secondary_causes"] = [_("次要致困原因不能与主要致困原因相同。")]
    if household.base_union_id and not household.base_union.path.startswith(
        household.organisation.path
    ):
        errors["base_union"] = [_("基层工会必须是建档单位的下级组织。")]
    staff_errors = _responsible_staff_errors(user=user, household=household, previous=previous)
    if staff_errors:
        errors["responsible_staff"] = staff_errors
    if household.bank_account:
        household.bank_account = idnumbers.compact(household.bank_account)
        account = household.bank_account
        if not (account.isascii() and account.isdigit()) or not 8 <= len(account) <= 30:
            errors["bank_account"] = [_("银行账号应为8至30位数字。")]
    household.bank_account_masked = mask(household.bank_account) if household.bank_account else ""
    try:
        # Sex and birth date follow from a valid ID number; don't report them twice.
        derived = ["sex"] if "id_number" in errors else []
        household.full_clean(
            exclude=["created_by", "file_number", "id_hash", "id_masked", "birth_date", *derived]
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def household_create(
    *,
    user,
    household: Household,
    members: list[MemberData],
    secondary_causes=(),
    applied_on: date | None = None,
) -> Household:
    """Start a file in draft (申请 begins when the clerk submits it)."""
    _require(user, "households.add_household", household=household)
    today = applied_on or timezone.localdate()
    _validate_household(household, secondary_causes, user=user, applied_on=today)
    _check_members(household, members)
    check_no_earlier_file(user=user, household=household)
    _note_secondary_causes(household, secondary_causes)
    household.created_by = user
    household.status = Status.DRAFT
    household.status_changed_on = today
    for _attempt in range(5):
        household.file_number = household.file_number or _next_file_number(
            household.organisation, today.year
        )
        try:
            with transaction.atomic():
                household.save()
            break
        except IntegrityError:
            if Household.objects.filter(file_number=household.file_number).exists():
                household.file_number = ""  # a colleague took the number: take the next
                continue
            raise
    else:  # every number tried was taken meanwhile: the file was not saved
        raise ValidationError(_("未能为档案分配编号（编号均已被占用），请重新保存。"))
    household.secondary_causes.set(secondary_causes)
    period = FilingPeriod.objects.create(
        household=household, number=1, origin=Origin.NEW, applied_on=today
    )
    household.current_period = period
    save_into_last_history(household, ["current_period"])
    _save_members(household, members)
    claim_identities(user=user, household=household)
    recompute_income(household, same_edit=True)
    record_transition(
        household=household,
        period=period,
        action="create",
        from_status="",
        to_status=Status.DRAFT,
        effective_date=today,
        actor=user,
    )
    return household


CHANGE_REASON_REQUIRED = _("修改在档（含解困）档案须填写修改原因。")
# What the edit form writes (households.forms.HouseholdForm, and the columns derived from the
# ID and bank numbers); the rest belongs to the workflow, the surveys and the income cache.
EDITED_COLUMNS = {
    *("organisation_id", "base_union_id", "worker_name", "sex", "phone", "employer"),
    *("is_migrant_worker", "is_union_member", "labour_relation_since", "is_model_worker"),
    *("address", "bank_name", "other_monthly_income"),
    *("rigid_spending_annual", "accident_spending_annual", "primary_cause_id", "category_id"),
    *("owns_multiple_homes", "owns_business", "children_private_school", "uses_vehicles"),
    *("responsible_staff_id", "responsible_chair", "responsible_chair_phone"),
    *("id_number", "id_hash", "id_masked", "birth_date", "bank_account", "bank_account_masked"),
    *("secondary_cause_codes", "updated_at"),
}
NOT_EDITED_COLUMNS = [
    field.attname
    for field in Household._meta.concrete_fields
    if field.attname not in EDITED_COLUMNS and not field.primary_key
]


@transaction.atomic
def household_update(
    *,
    user,
    household: Household,
    members: list[MemberData],
    secondary_causes=(),
    reason: str = "",
) -> Household:
    """Edit a file: people, incomes, causes. A closed file is changed only by reopening it. A
    file whose facts were verified (reviewed, on notice, on file or relieved) is changed with a
    reason, which its field history keeps beside who, when and what (the application's own
    edits need none)."""
    _require(user, "households.change_household", household=household)
    # The form's copy was loaded before this request's checks: what the edit does not write
    # (status, survey dates, cached income…) is read again under the row lock, so a step or a
    # survey saved meanwhile is neither checked against stale values nor overwritten.
    household.refresh_from_db(
        from_queryset=Household.objects.select_for_update(), fields=NOT_EDITED_COLUMNS
    )
    if household.status not in OPEN_STATUSES:
        raise ValidationError(_("档案已关闭，如需修改请先重新申请。"))
    reason = (reason or "").strip()
    if household.status in VERIFIED_STATUSES and not reason:
        raise ValidationError({"change_reason": CHANGE_REASON_REQUIRED})
    stored_id_hash, *previous, stored_category_id = Household.objects.values_list(
        "id_hash", "organisation_id", "responsible_staff_id", "category_id"
    ).get(pk=household.pk)
    _validate_household(
        household,
        secondary_causes,
        user=user,
        previous=tuple(previous),
        previous_category_id=stored_category_id,
    )
    _check_members(household, members)
    if household.id_hash != stored_id_hash:
        # Given another person's number, the file would be their second one, which
        # household_create refuses (their return would count as new, not as 返困). Only on a
        # change: a file beside a closed one its clerk could not reach stays editable by a
        # user who reaches both.
        check_no_earlier_file(user=user, household=household)
    _note_secondary_causes(household, secondary_causes)
    household._history_user = user  # who, on the field history and a fact change (date_facts)
    household._change_reason = Truncator(reason).chars(100)  # why: history_change_reason
    household.save()
    household.secondary_causes.set(secondary_causes)
    _save_members(household, members)
    claim_identities(user=user, household=household)
    recompute_income(household, same_edit=True)
    return household


# --- Transitions -------------------------------------------------------------------------------


def record_transition(*, household: Household, **fields) -> Transition:
    """Append a transition and close the validity of the one before it (see Transition). A
    step dated before a fact change (an AMEND row, dated the day of the change: so only a step
    dated before today) takes its place: the new status holds the file's present facts from
    its own date."""
    day = fields["effective_date"]
    if day < timezone.localdate():
        later = Transition.objects.filter(household=household, action=AMEND, effective_date__gt=day)
        if later.delete()[0]:
            latest = household.transitions.order_by("-effective_date", "-id").first()
            Transition.objects.filter(pk=latest.pk).update(valid_until=None)
    Transition.objects.filter(household=household, valid_until__isnull=True).update(valid_until=day)
    return Transition.objects.create(
        household=household, **fields, **facts_of(household, fields["period"])
    )


def last_step_on(household: Household) -> date | None:
    """The day of the file's latest step (a fact change is no step: date_facts)."""
    return (
        household.transitions.exclude(action=AMEND)
        .order_by("-effective_date")
        .values_list("effective_date", flat=True)
        .first()
    )


def _check_typed_day(household: Household, day: date, *, field: str, label: str) -> None:
    """A date typed about the file (an objection, a survey) lies between the application of its
    current filing period and today."""
    if day > timezone.localdate():
        raise ValidationError({field: _("%(column)s不能晚于今天。") % {"column": label}})
    applied_on = household.current_period.applied_on
    if day < applied_on:
        raise ValidationError(
            {
                field: _("%(field)s不能早于档案的申请日期 %(date)s。")
                % {"field": label, "date": applied_on}
            }
        )


def _period_has_survey(household: Household) -> bool:
    return Survey.objects.filter(period=household.current_period).exists()


def _entered_or_submitted_by(household: Household, period) -> set[int]:
    """Who entered the file or submitted this filing: segregation of duties keeps them from
    approving it and from deciding its objections. A reopened filing (重新申请) goes straight
    to applied with no submit: its reopening is its application."""
    submitters = set(
        Transition.objects.filter(
            period=period, action__in=selectors.SUBMITTING_ACTIONS
        ).values_list("actor_id", flat=True)
    )
    return submitters | {household.created_by_id}


def check_documents(household: Household) -> None:
    """The required documents (selectors.documents_checklist) are on file today, else refused
    naming each kind that is missing [002 七]."""
    if missing := selectors.documents_missing(household):
        raise ValidationError(
            _("证明材料不全，请先上传：%(kinds)s。")
            % {"kinds": listing(_missing_label(item) for item in missing)}
        )


def _missing_label(item) -> str:
    if item.kind == Document.Kind.DIAGNOSIS:
        return _("%(kind)s（一年以内开具）") % {"kind": item.label}
    return str(item.label)


def _check_approval(user, household: Household, verdict_reason: str, against: bool) -> None:
    period = household.current_period
    if user.pk in _entered_or_submitted_by(household, period):
        raise ValidationError(_("不能审批自己录入或提交的档案。"))
    notice = period.notice
    if notice is None:
        raise ValidationError(_("档案尚未公示，不能审批。"))
    if not notice.has_run():
        raise ValidationError(
            _("公示期至 %(end)s 结束（至少 %(days)d 个工作日），期满后方可审批。")
            % {"end": notice.ends_on, "days": notice.working_days}
        )
    if Objection.objects.filter(period=period, outcome=Objection.Outcome.PENDING).exists():
        raise ValidationError(_("公示期间的异议尚未全部处理完毕，不能审批。"))
    # The filing's diagnoses were within a year when uploaded; the approval relies on them now.
    issued = selectors.period_documents(household).filter(kind=Document.Kind.DIAGNOSIS)
    latest = issued.aggregate(day=Max("issued_on"))["day"]
    if latest is not None and not diagnosis_is_recent(latest, timezone.localdate()):
        raise ValidationError(
            _("档案的诊断证明开具于 %(date)s，已超过一年，请上传一年以内开具的诊断证明后再审批。")
            % {"date": latest}
        )
    check_documents(household)
    if Objection.objects.filter(period=period, outcome=Objection.Outcome.UPHELD).exists() and (
        not verdict_reason
    ):
        raise ValidationError({"reason": _("有成立的异议，审批建档须填写理由。")})
    if against and not verdict_reason:
        raise ValidationError({"reason": _("认定结果为不符合条件，审批建档须填写理由。")})


@transaction.atomic
def transition_apply(
    *,
    user,
    household: Household,
    action: str,
    reason: str = "",
    effective_date: date | None = None,
    deregistration_reason: str = "",
    notice: PublicNotice | None = None,
    imported: bool = False,
) -> Transition:
    """Move a file along the lifecycle table (households/workflow.py); record who, when, why."""
    step = STEPS.get(action)
    if step is None:
        raise ValidationError(_("未知的操作。"))
    if not imported:
        _require(user, step.permission, household=household)
    household = Household.objects.select_for_update().get(pk=household.pk)
    if household.status not in step.sources:
        raise ValidationError(
            _("档案当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": household.get_status_display(), "action": step.label}
        )
    reason = (reason or "").strip()
    if step.needs_reason and not reason:
        raise ValidationError({"reason": _("请填写理由。")})
    today = timezone.localdate()
    effective = effective_date or today
    period = household.current_period
    if not imported and effective > today:
        raise ValidationError({"effective_date": _("生效日期不能晚于今天。")})
    if period.filed_on and step.target in (Status.EXITED, Status.DEREGISTERED, Status.RELIEVED):
        if effective < period.filed_on:
            raise ValidationError(
                {
                    "effective_date": _("退出日期不能早于建档日期 %(date)s。")
                    % {"date": period.filed_on}
                }
            )
    if action == "start_notice":
        if notice is None:
            raise ValidationError(_("请选择公示批次。"))
        effective = notice.starts_on
    latest = last_step_on(household)
    if latest and effective < latest:
        if action == "start_notice":
            # Else a notice dated back skips its working days and the file is approved at once.
            raise ValidationError(
                {
                    "starts_on": _("公示开始日期不能早于档案 %(number)s 的上一步（%(date)s）。")
                    % {"number": household.file_number, "date": latest}
                }
            )
        raise ValidationError(
            {"effective_date": _("生效日期不能早于上一次状态变更（%(date)s）。") % {"date": latest}}
        )
    if action == "start_notice":
        # A notice may be scheduled up to a month ahead: the step, the decision to post it, is
        # dated when recorded, so that the file can still be rejected or withdrawn before the
        # posting starts (a later step may not be dated before it); the working days that count
        # are the notice's own (PublicNotice.starts_on … ends_on, has_run).
        effective = min(effective, today)
    against = False
    if action == "exit" and not imported:
        # 脱困 is six months above the dibao line; the supervisor may still decide, on record.
        against = not selectors.qualifies_for_exit(household, effective)
    if action == "review" and not imported and not _period_has_survey(household):
        raise ValidationError(_("请先登记入户调查，再完成审核。"))
    if action in ("submit", "review") and not imported:
        # The clerk says the file is complete when submitting it (a refiling, reopened without
        # documents, when reviewing it); the approval checks again (_check_approval). An
        # imported step is an earlier system's record, not checked again.
        check_documents(household)
    if action == "start_notice":
        period.notice = notice
        period.save(update_fields=["notice"])
    if action == "approve" and not imported:
        verdict = verdict_for(household, today)
        against = verdict.eligible is not True
        _check_approval(user, household, reason, against)
        if household.category_id is None and verdict.category_code:
            # Filed without a category, the file would be missing from every count by
            # category: it takes the one the assessment suggests (shown on its page).
            household.category = Category.objects.filter(code=verdict.category_code).first()
    if action in ("submit", "approve") and not imported:
        # The migrant-worker condition is no advice a supervisor may overrule: refused, naming
        # the fields to complete or correct (an application imported or entered before they
        # were asked for lacks them).
        if errors := migrant_worker_errors(household):
            raise ValidationError(errors)
    if action == "deregister" and not deregistration_reason:
        raise ValidationError({"deregistration_reason": _("请选择注销原因。")})

    if action == "reopen":
        period = _open_new_period(household, effective)
    elif step.target == Status.ON_FILE:
        period.filed_on = effective
        baseline = household.organisation.setting("stock_baseline_date")
        if period.origin == Origin.NEW and effective <= baseline:
            period.origin = Origin.STOCK
        period.save(update_fields=["filed_on", "origin"])
    elif step.target in CLOSED_STATUSES:
        period.closed_on = effective
        period.save(update_fields=["closed_on"])

    transition = record_transition(
        household=household,
        period=period,
        action=action,
        from_status=household.status,
        to_status=step.target,
        effective_date=effective,
        reason=reason,
        deregistration_reason=deregistration_reason if action == "deregister" else "",
        against_verdict=against,
        is_imported=imported,
        actor=user,
    )
    household.status = step.target
    household.status_changed_on = effective
    if period.pk != household.current_period_id:
        household.current_period = period
        recompute_exit_run(household)  # the new period's surveys (none yet) make the run
    if step.target == Status.ON_FILE:
        # Twice a year counts from the last visit (the review's home survey), not the approval.
        since = household.last_survey_on or effective
        household.next_survey_due = _next_survey_due(household, since)
    elif step.target in CLOSED_STATUSES:
        household.next_survey_due = None  # nobody visits a closed file; refiling sets it again
    # The field history names who and why also where no request supplies them (imports run
    # in background jobs, commands).
    household._history_user = user
    household._change_reason = Truncator(reason).chars(100)  # the history's column holds 100
    household.save(
        update_fields=[
            "status",
            "status_changed_on",
            "current_period",
            "above_line_since",
            "next_survey_due",
            "category",
            "updated_at",
        ]
    )
    claim_identities(user=user, household=household)
    if step.target in (Status.EXITED, Status.DEREGISTERED):
        # The funds app builds on this one, hence the import here.
        from funds.services import requests_close_with_file

        requests_close_with_file(
            user=user, household=household, effective_date=effective, action=step.label
        )
    return transition


def _open_new_period(household: Household, applied_on: date) -> FilingPeriod:
    """Reopening: a new filing period; relapsed (返困) when an earlier period was on file."""
    previous = household.current_period
    was_on_file = household.periods.filter(filed_on__isnull=False).exists()
    return FilingPeriod.objects.create(
        household=household,
        number=previous.number + 1,
        origin=Origin.RELAPSED if was_on_file else Origin.NEW,
        applied_on=applied_on,
    )


def _next_survey_due(household: Household, since: date) -> date:
    months = household.organisation.setting("survey_interval_months")
    return add_months(since, months)


# --- Public notice and objections ---------------------------------------------------------

# How long a notice runs is one rule, notice_length: notice_start posts by it and
# notices_follow_calendar keeps the notices still running to it; has_run reads the end it gives.
# - Every organisation concerned counts: the one posting the notice and each of its files' own.
#   A city union posting a county's files runs at least the county's minimum, over the county's
#   holidays too: the stricter rule of the place where the household lives.
# - Its working days are fixed when it is posted and only ever raised: a minimum raised while it
#   runs lengthens it (the public keeps the longer time to object that the county now asks
#   for), a minimum lowered does not shorten it (the public was told its end). A notice that
#   has ended is not reopened: its files may be approved.
# - Its end only moves later (a holiday entered while it runs), never earlier.


def notice_length(
    organisations: list[Organisation], starts_on: date, *, at_least: int = 0
) -> tuple[int, date]:
    """(working days, last day) of a notice starting on `starts_on` that concerns these
    organisations: the longest of their minimums (and `at_least`, the notice's own so far),
    counted on each one's calendar, the latest end."""
    days = max(at_least, *(org.setting("notice_min_working_days") for org in organisations))
    return days, max(add_working_days(starts_on, days, org) for org in organisations)


def notice_organisations(notice: PublicNotice, households=None) -> list[Organisation]:
    """The organisation posting the notice and its files' organisations, with their ancestors
    (their settings and holidays)."""
    if households is None:
        households = Household.objects.filter(periods__notice=notice).only("organisation_id")
    keys = {household.organisation_id for household in households}
    return list(Organisation.with_ancestors({notice.organisation_id, *keys}).values())


@transaction.atomic
def notice_start(
    *,
    user,
    organisation,
    households: list[Household],
    starts_on: date,
    objection_contact: str,
    title: str = "",
) -> PublicNotice:
    """Post reviewed files for at least the minimum working days (default 5) [002]."""
    _require(user, "households.change_household", organisation=organisation)
    if not households:
        raise ValidationError(_("请至少选择一户已审核的档案。"))
    if not objection_contact.strip():
        raise ValidationError({"objection_contact": _("请填写异议受理方式。")})
    if starts_on < timezone.localdate():
        # Dated back, a notice could "end" the day it is entered and the file be approved
        # minutes later: it is posted from the day it is recorded, or a later one.
        raise ValidationError({"starts_on": _("公示开始日期不能早于今天：公示自登记之日起张贴。")})
    latest_start = timezone.localdate() + timedelta(days=NOTICE_MAX_DAYS_AHEAD)
    if starts_on > latest_start:
        raise ValidationError(
            {
                "starts_on": _("公示开始日期不能晚于 %(date)s（今天起%(days)d天内）。")
                % {"date": latest_start, "days": NOTICE_MAX_DAYS_AHEAD}
            }
        )
    # (Its earliest start is each file's previous step: transition_apply checks it.)
    if not title:
        with translation.override("zh-hans"):  # stored data, printed on the Chinese notice
            title = _("%(org)s困难职工建档公示") % {"org": organisation.name}
    for household in households:
        if not organisation.contains(household.organisation):
            raise ValidationError(_("档案 %(n)s 不属于本单位。") % {"n": household.file_number})
    notice = PublicNotice(
        organisation=organisation,
        title=title,
        starts_on=starts_on,
        objection_contact=objection_contact.strip(),
        created_by=user,
    )
    notice.working_days, notice.ends_on = notice_length(
        notice_organisations(notice, households), starts_on
    )
    notice.save()
    for household in households:
        transition_apply(user=user, household=household, action="start_notice", notice=notice)
    return notice


@transaction.atomic
def notices_follow_calendar(*, user, organisation: Organisation | None) -> list[PublicNotice]:
    """A holiday entered (or moved) or a minimum of working days raised for `organisation`'s
    subtree, or nationwide when None: each notice not yet ended that concerns it (posted there,
    or of a file there) runs to the day notice_length now gives. Only later, never earlier: its
    end was posted, and the public may object until then. The change is logged on the notice
    (who, when, why: its admin history). Returns the notices moved."""
    notices = PublicNotice.objects.filter(ends_on__gte=timezone.localdate())
    if organisation is not None:
        concerned = PublicNotice.objects.filter(
            Q(organisation__path__startswith=organisation.path)
            | Q(periods__household__organisation__path__startswith=organisation.path)
        )
        notices = notices.filter(pk__in=concerned.values("pk"))
    moved = []
    for notice in notices.select_for_update():
        days, end = notice_length(
            notice_organisations(notice), notice.starts_on, at_least=notice.working_days
        )
        if end <= notice.ends_on:
            continue
        with translation.override("zh-hans"):  # stored data, as the notice's own title
            if days > notice.working_days:
                why = _(
                    "公示最少工作日调整为 %(days)d 个：公示结束日期由 %(old)s 顺延至 %(new)s。"
                ) % {"days": days, "old": notice.ends_on, "new": end}
            else:
                why = _("节假日调整：公示结束日期由 %(old)s 顺延至 %(new)s。") % {
                    "old": notice.ends_on,
                    "new": end,
                }
        notice.working_days, notice.ends_on = days, end
        notice.save(update_fields=["working_days", "ends_on"])
        LogEntry.objects.log_actions(
            user.pk, [notice], CHANGE, change_message=why, single_object=True
        )
        moved.append(notice)
    return moved


@transaction.atomic
def objection_record(
    *, user, household: Household, raised_by: str, raised_on: date, content: str
) -> Objection:
    _require(user, "households.change_household", household=household)
    if household.status != Status.NOTICE:
        raise ValidationError(_("只有公示中的档案可以登记异议。"))
    _check_typed_day(household, raised_on, field="raised_on", label=_("提出日期"))
    notice = household.current_period.notice
    if notice is not None and raised_on < notice.starts_on:
        raise ValidationError(
            {"raised_on": _("提出日期不能早于公示开始日期 %(date)s。") % {"date": notice.starts_on}}
        )
    if notice is not None and raised_on > notice.ends_on:
        # An objection is raised during the notice (异议 of the 公示 [002]): one dated after it
        # ended would reopen a notice that has run, or record a late complaint as its objection.
        raise ValidationError(
            {"raised_on": _("提出日期不能晚于公示结束日期 %(date)s。") % {"date": notice.ends_on}}
        )
    objection = Objection(
        household=household,
        period=household.current_period,
        raised_by=raised_by,
        raised_on=raised_on,
        content=content,
        recorded_by=user,
    )
    objection.full_clean()
    objection.save()
    return objection


@transaction.atomic
def objection_resolve(*, user, objection: Objection, outcome: str, finding: str) -> Objection:
    """An objection is decided by whoever may approve the file, never by whoever entered or
    submitted it (the approval's segregation of duties: a dismissed objection clears the way
    to approval)."""
    _require(user, "households.approve_household", household=objection.household)
    # Under a lock of the file, as its approval takes it: two supervisors deciding at once (or
    # one deciding while another approves) see each other's decision, not the page they read.
    Household.objects.select_for_update().only("pk").get(pk=objection.household_id)
    objection.refresh_from_db(from_queryset=Objection.objects.select_for_update())
    if user.pk in _entered_or_submitted_by(objection.household, objection.period):
        raise ValidationError(_("不能处理自己录入或提交的档案的公示异议。"))
    if objection.outcome != Objection.Outcome.PENDING:
        raise ValidationError(_("该异议已处理。"))
    if outcome not in (Objection.Outcome.UPHELD, Objection.Outcome.DISMISSED):
        raise ValidationError({"outcome": _("请选择处理结果。")})
    if not finding.strip():
        raise ValidationError({"finding": _("请填写核查情况。")})
    objection.outcome = outcome
    objection.finding = finding.strip()
    objection.resolved_by = user
    objection.resolved_at = timezone.now()
    objection.save(update_fields=["outcome", "finding", "resolved_by", "resolved_at"])
    return objection


# --- Home surveys ------------------------------------------------------------------------------


@transaction.atomic
def survey_record(
    *,
    user,
    household: Household,
    surveyed_on: date,
    surveyors: str,
    findings: str,
    incomes: dict[int, Decimal],
) -> Survey:
    """入户调查: verified incomes update the members and the file's per-capita income."""
    _require(user, "households.change_household", household=household)
    # One at a time per file (as steps and edits): the latest survey's dates are cached on it.
    household.refresh_from_db(from_queryset=Household.objects.select_for_update())
    if household.status not in (Status.APPLIED, *SUPPORTED_STATUSES):
        raise ValidationError(
            _("档案当前状态为“%(status)s”，不能登记入户调查。")
            % {"status": household.get_status_display()}
        )
    _check_typed_day(household, surveyed_on, field="surveyed_on", label=_("调查日期"))
    if household.last_survey_on and surveyed_on < household.last_survey_on:
        # Its incomes would replace those verified at the later survey.
        raise ValidationError(
            {
                "surveyed_on": _("调查日期不能早于最近一次入户调查（%(date)s）。")
                % {"date": household.last_survey_on}
            }
        )
    members = {m.pk: m for m in household.members.all()}
    unknown = set(incomes) - set(members)
    if unknown:
        raise ValidationError(_("核实收入中有不属于本户的成员。"))
    for pk, amount in incomes.items():
        if amount < 0:
            raise ValidationError(
                {"incomes": _("%(name)s的月收入不能为负数。") % {"name": members[pk].name}}
            )
    for pk, amount in incomes.items():
        members[pk].monthly_income = amount
        members[pk].save(update_fields=["monthly_income"])
    recompute_income(household)
    household.refresh_from_db()
    line = DibaoStandard.objects.line_for(household.organisation, surveyed_on.year)
    survey = Survey.objects.create(
        household=household,
        period=household.current_period,
        surveyed_on=surveyed_on,
        surveyors=surveyors,
        findings=findings,
        per_capita_income=household.per_capita_income,
        dibao_line=line,
        is_above_line=line is not None and household.per_capita_income > line,
        recorded_by=user,
    )
    SurveyIncome.objects.bulk_create(
        [
            SurveyIncome(survey=survey, member=members[pk], monthly_income=v)
            for pk, v in incomes.items()
        ]
    )
    latest = household.surveys.order_by("-surveyed_on").values_list("surveyed_on", flat=True)[0]
    household.last_survey_on = latest
    household.next_survey_due = _next_survey_due(household, latest)
    recompute_exit_run(household)
    household.save(
        update_fields=["last_survey_on", "next_survey_due", "above_line_since", "updated_at"]
    )
    return survey


# --- Closures: relief, exit, deregistration ---------------------------------------------------


@transaction.atomic
def closure_request(
    *,
    user,
    household: Household,
    kind: str,
    effective_date: date,
    reason: str,
    deregistration_reason: str = "",
) -> ClosureRequest:
    """A clerk proposes relief, exit or deregistration; a supervisor decides."""
    _require(user, "households.change_household", household=household)
    action = {"relieved": "relieve", "exited": "exit", "deregistered": "deregister"}.get(kind)
    if action is None:
        raise ValidationError({"kind": _("请选择退出类型。")})
    step = STEPS[action]
    if household.status not in step.sources:
        raise ValidationError(
            _("档案当前状态为“%(status)s”，不能申请“%(action)s”。")
            % {"status": household.get_status_display(), "action": step.label}
        )
    if household.closures.filter(state=ClosureRequest.State.PENDING).exists():
        raise ValidationError(_("该档案已有待审批的退出申请。"))
    if kind == "deregistered" and not deregistration_reason:
        raise ValidationError({"deregistration_reason": _("请选择注销原因。")})
    filed_on = household.current_period.filed_on
    if filed_on and effective_date < filed_on:
        raise ValidationError(
            {"effective_date": _("退出日期不能早于建档日期 %(date)s。") % {"date": filed_on}}
        )
    latest = last_step_on(household)
    if latest and effective_date < latest:
        # The approval would refuse it (transition_apply): said now, to the clerk who asks.
        raise ValidationError(
            {"effective_date": _("生效日期不能早于上一次状态变更（%(date)s）。") % {"date": latest}}
        )
    if effective_date > timezone.localdate():
        raise ValidationError({"effective_date": _("生效日期不能晚于今天。")})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写情况说明。")})
    return ClosureRequest.objects.create(
        household=household,
        kind=kind,
        effective_date=effective_date,
        reason=reason.strip(),
        deregistration_reason=deregistration_reason if kind == "deregistered" else "",
        requested_by=user,
    )


@transaction.atomic
def closure_decide(*, user, closure: ClosureRequest, approve: bool, note: str) -> ClosureRequest:
    _require(user, "households.approve_household", household=closure.household)
    closure = ClosureRequest.objects.select_for_update().get(pk=closure.pk)
    if closure.state != ClosureRequest.State.PENDING:
        raise ValidationError(_("该申请已审批。"))
    if closure.requested_by_id == user.pk:
        raise ValidationError(_("不能审批自己提出的申请。"))
    if not note.strip():
        raise ValidationError({"note": _("请填写审批意见。")})
    if approve:
        transition_apply(
            user=user,
            household=closure.household,
            action={"relieved": "relieve", "exited": "exit", "deregistered": "deregister"}[
                closure.kind
            ],
            reason=f"{closure.reason}\n{note.strip()}",
            effective_date=closure.effective_date,
            deregistration_reason=closure.deregistration_reason,
        )
    closure.state = ClosureRequest.State.APPROVED if approve else ClosureRequest.State.REJECTED
    closure.decided_by = user
    closure.decided_at = timezone.now()
    closure.decision_note = note.strip()
    closure.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    return closure


# --- Documents ---------------------------------------------------------------------------------

# Size limit: settings.DOCUMENT_MAX_BYTES. Type: checked by content, not by the name the browser
# sent, and served only by DocumentDownloadView (attachment, nosniff).
SIGNATURES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def diagnosis_is_recent(issued_on: date, on: date) -> bool:
    """Issued within the year before `on` (DIAGNOSIS_VALID_MONTHS)."""
    return issued_on >= add_months(on, -DIAGNOSIS_VALID_MONTHS)


def _remove_unless_committed(storage, name: str) -> None:
    """Remove the stored file `name` unless the current transaction commits: its row is then
    gone, and the file (an ID scan, a diagnosis) would stay in storage with no record of it.
    Django has no rollback hook, but drops the on_commit callbacks of a transaction, or of a
    savepoint, that rolls back: the callback registered here removes the file when it is
    dropped without having run. Committed, it marks the file kept before it is dropped."""
    committed = []
    callback = partial(committed.append, True)  # only run_on_commit holds it
    weakref.finalize(callback, _remove_if_not, storage, name, committed)
    transaction.on_commit(callback)


def _remove_if_not(storage, name: str, committed: list) -> None:
    if not committed:
        storage.delete(name)


def sniff(head: bytes) -> tuple[str, str] | None:
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


@transaction.atomic
def document_upload(
    *, user, household: Household, kind: str, upload, issued_on: date | None = None
) -> Document:
    _require(user, "households.change_household", household=household)
    if household.status not in OPEN_STATUSES:
        raise ValidationError(_("档案已关闭，不能上传材料。"))
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size > limit:
        message = _("文件不能超过%(mb)dMB。") % {"mb": limit // (1024 * 1024)}
        raise ValidationError({"file": message})
    head = upload.read(16)
    upload.seek(0)
    detected = sniff(head)
    if detected is None:
        raise ValidationError({"file": _("只能上传PDF、JPEG或PNG文件。")})
    if issued_on is not None and issued_on > timezone.localdate():
        message = _("%(column)s不能晚于今天。") % {"column": _("开具日期")}
        raise ValidationError({"issued_on": message})
    if kind == Document.Kind.DIAGNOSIS:
        if issued_on is None:
            raise ValidationError({"issued_on": _("诊断证明须填写开具日期。")})
        if not diagnosis_is_recent(issued_on, timezone.localdate()):
            raise ValidationError({"issued_on": _("诊断证明须为一年以内开具。")})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        household=household,
        kind=kind,
        original_name=mask_numbers(upload.name[:200]),  # a name may hold an ID number
        content_type=detected[0],
        size=upload.size,
        sha256=digest.hexdigest(),
        issued_on=issued_on,
        uploaded_by=user,
    )
    document.file.save(f"{kind}.{detected[1]}", upload, save=False)
    # The name storage gave this file alone (a second copy of the same scan gets its own).
    _remove_unless_committed(document.file.storage, document.file.name)
    document.full_clean()
    document.save()
    return document


@transaction.atomic
def document_withdraw(*, user, document: Document, reason: str) -> Document:
    """作废 a document of an open file, with the reason: it stays in the file (and its trail,
    with who, when and why), no longer counted as valid proof."""
    _require(user, "households.change_household", household=document.household)
    document = Document.objects.select_for_update().select_related("household").get(pk=document.pk)
    if document.household.status not in OPEN_STATUSES:
        raise ValidationError(_("档案已关闭，不能作废材料。"))
    if not document.is_active:
        raise ValidationError(_("该材料已作废。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写作废原因。")})
    document.is_active = False
    document.withdrawn_by = user
    document.withdrawn_at = timezone.now()
    document.withdraw_reason = reason[:200]
    document.save(update_fields=["is_active", "withdrawn_by", "withdrawn_at", "withdraw_reason"])
    return document


# --- Reference data: dibao lines ---------------------------------------------------------------


def dibao_duplicate_message(*, organisation, year: int | None, exclude_pk=None) -> str | None:
    """One dibao line per area and year (constraint dibao_unique_org_year), said in words."""
    if organisation is None or year is None:
        return None
    taken = DibaoStandard.objects.filter(organisation=organisation, year=year)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if not taken.exists():
        return None
    return _("%(org)s %(year)d年的低保标准已经录入，请修改原有记录。") % {
        "org": organisation.name,
        "year": year,
    }


@transaction.atomic
def dibao_standard_save(*, user, standard: DibaoStandard) -> DibaoStandard:
    """Record an area's monthly dibao line for a year, one per area and year [002]."""
    perm = "households.change_dibaostandard" if standard.pk else "households.add_dibaostandard"
    _require(user, perm, organisation=standard.organisation)
    if standard.pk:
        previous = DibaoStandard.objects.select_related("organisation").get(pk=standard.pk)
        _require(user, perm, organisation=previous.organisation)
    message = dibao_duplicate_message(
        organisation=standard.organisation, year=standard.year, exclude_pk=standard.pk
    )
    if message:
        raise ValidationError({"year": message})
    standard.full_clean()
    waiting = _surveys_waiting_for(standard)  # before the save: what they were compared with
    try:
        with transaction.atomic():
            standard.save()
    except IntegrityError:  # a colleague saved the same area and year a moment ago
        message = dibao_duplicate_message(organisation=standard.organisation, year=standard.year)
        raise ValidationError({"year": message}) from None
    _fill_survey_lines(standard, waiting)
    return standard


def _surveys_waiting_for(standard: DibaoStandard):
    """The surveys of the line's year and area that were compared with no line of their year:
    with none at all, or with an earlier year's still in force (DibaoStandard.objects.in_force)
    where their file's area had no line of the year yet."""
    surveys = Survey.objects.filter(
        surveyed_on__year=standard.year,
        household__organisation__path__startswith=standard.organisation.path,
    )
    organisations = Organisation.objects.filter(pk__in=surveys.values("household__organisation"))
    in_force = DibaoStandard.objects.in_force(list(organisations), standard.year)
    earlier = [key for key, row in in_force.items() if row is None or row.year < standard.year]
    return surveys.filter(Q(dibao_line__isnull=True) | Q(household__organisation__in=earlier))


def _fill_survey_lines(standard: DibaoStandard, waiting) -> None:
    """Surveys recorded before their year's line was entered (in January, before it is
    published) compared with none, or with last year's line: they take the year's line now,
    and their files' runs above it (the exit list) are worked out again. A survey that had a
    line of its year keeps the one it was compared with."""
    organisations = Organisation.objects.filter(pk__in=waiting.values("household__organisation"))
    lines = DibaoStandard.objects.lines_for(list(organisations), standard.year)
    households = set(waiting.values_list("household_id", flat=True))
    for organisation_id, line in lines.items():
        if line is not None:
            waiting.filter(household__organisation_id=organisation_id).update(
                dibao_line=line,
                is_above_line=Case(
                    When(per_capita_income__gt=line, then=Value(True)), default=Value(False)
                ),
            )
    Household.objects.filter(pk__in=households).update(
        above_line_since=selectors.above_line_since()
    )
