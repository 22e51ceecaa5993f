"""Writes of the service centre. Views, the admin and the demo call these; none re-implements
a rule. Each checks permission, scope and state first and runs in one transaction."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.scoping import user_can_reach
from services.models import (
    ATTENDEE_TWICE_MESSAGE,
    Case,
    CaseEvent,
    JobReferral,
    LegalAidCase,
    TrainingAttendee,
    TrainingCourse,
)
from services.selectors import case_handlers, household_for_case

CASE_CLOSED_MESSAGE = _("该案件已办结，不能修改；如需修改请先重新打开。")
CASE_NOT_CLOSED_MESSAGE = _("只有已办结的案件才能重新打开。")
WINDOW_RETIRED_MESSAGE = _("窗口“%(window)s”已停用，不能用于新的登记。")
OUTCOME_REQUIRED_MESSAGE = _("办结案件须填写办理结果。")
REFERRED_TO_REQUIRED_MESSAGE = _("转办须填写转办单位。")
REOPEN_REASON_REQUIRED_MESSAGE = _("重新打开须填写原因。")
FOLLOW_UP_NOTE_REQUIRED_MESSAGE = _("请填写跟进情况。")
NEXT_FOLLOW_UP_PAST_MESSAGE = _("下次跟进日期不能早于今天。")
FOLLOW_UP_PAST_MESSAGE = _("跟进日期不能早于今天。")
OUT_OF_SCOPE_MESSAGE = _("该组织不在您的管辖范围内。")
ATTENDEE_SAME_NAME_AND_PHONE_MESSAGE = _("该职工已是本培训班的学员（姓名和联系电话相同）。")
COURSE_END_AFTER_CERTIFICATES_MESSAGE = _("已有学员登记取得证书，结束日期不能晚于今天。")
REFERRAL_CASE_ELSEWHERE_MESSAGE = _(
    "来源案件由“%(case_organisation)s”受理，不在所选受理组织的辖区内：请选择该组织或其上级组织。"
)
HANDLER_OUT_OF_SCOPE_MESSAGE = _("经办人须为本辖区内、受理组织或其上级组织中可办理案件的工作人员。")


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _require_scope(user, organisation) -> None:
    if not user_can_reach(user, organisation):
        raise PermissionDenied(OUT_OF_SCOPE_MESSAGE)


def _locked_case(case: Case) -> Case:
    """The case as stored, locked for the rest of the transaction."""
    return Case.objects.select_for_update().get(pk=case.pk)


def _check_case_fields(*, user, case: Case, previous: Case | None) -> None:
    case.full_clean()
    _require_scope(user, case.organisation)
    if not case.window.is_active and (previous is None or previous.window_id != case.window_id):
        raise ValidationError({"window": WINDOW_RETIRED_MESSAGE % {"window": case.window}})
    _check_handler(user=user, case=case, previous=previous)
    # An edit sets the next follow-up as 记录跟进 does: not in the past, where the case would
    # be overdue at once. (A case typed in later may be logged with a date already past.)
    follow_up_moved = previous is not None and case.follow_up_on != previous.follow_up_on
    if follow_up_moved and case.follow_up_on and case.follow_up_on < timezone.localdate():
        raise ValidationError({"follow_up_on": FOLLOW_UP_PAST_MESSAGE})


def _check_handler(*, user, case: Case, previous: Case | None) -> None:
    """The handler must open and work the case (selectors.case_handlers). Checked when the
    handler or the case's organisation changes: a handler the editor did not choose, say the
    region's user who logged the case, does not block a county clerk's edit."""
    if (
        previous is not None
        and previous.handler_id == case.handler_id
        and previous.organisation_id == case.organisation_id
    ):
        return
    # A case moved with its handler: the editor did not choose them, so they need not be
    # within the editor's reach; they must still open the case where it goes.
    chooser = user if previous is None or previous.handler_id != case.handler_id else None
    candidates = case_handlers(user=chooser, organisation=case.organisation)
    if not candidates.filter(pk=case.handler_id).exists():
        raise ValidationError({"handler": HANDLER_OUT_OF_SCOPE_MESSAGE})


def _link_household(*, case: Case, previous: Case | None) -> None:
    """Link the open household file with the worker's ID number in the case organisation's
    subtree, never one its staff cannot see, whoever saves the case. A link already made stays
    (the file may have closed since) while the ID number is the same and the file still lies in
    the case organisation's subtree (the case may have moved)."""
    if not case.worker_id_hash:
        # A file linked by case_link_household stays while there is still no number to match.
        if (
            previous is None
            or previous.worker_id_hash
            or not _in_subtree(case.household, case.organisation)
        ):
            case.household = None
        return
    match = household_for_case(organisation=case.organisation, id_number=case.worker_id_number)
    if match is not None:
        case.household = match
    elif (
        previous is None
        or case.worker_id_hash != previous.worker_id_hash
        or not _in_subtree(case.household, case.organisation)
    ):
        case.household = None


def _in_subtree(household, organisation) -> bool:
    """The file is of the organisation or below it, or of a base union there (a county's file
    started from a base union's case, case_link_household)."""
    if household is None:
        return False
    unions = [household.organisation, household.base_union]
    return any(union is not None and union.path.startswith(organisation.path) for union in unions)


def _event(*, case: Case, user, action: str, from_status: str, note: str = "") -> None:
    CaseEvent.objects.create(
        case=case,
        action=action,
        from_status=from_status,
        to_status=case.status,
        actor=user,
        note=note,
    )


@transaction.atomic
def case_create(*, user, case: Case, close_now: bool = False) -> Case:
    """Log a letter, call or visit (DOMAIN.md "The service centre"); a case answered at the
    counter may be closed at once."""
    _require(user, "services.add_case")
    case.normalise_worker()
    case.status = Case.Status.OPEN
    case.closed_at = None
    case.created_by = user
    _check_case_fields(user=user, case=case, previous=None)
    _link_household(case=case, previous=None)
    case.save()
    _event(case=case, user=user, action=CaseEvent.Action.LOGGED, from_status="")
    if close_now:
        # 当场办结: answered at the counter when the worker came, however much later the
        # case is typed in; its event still says when the closing was recorded, and by whom.
        _close(user=user, case=case, outcome=case.outcome, closed_at=case.received_at)
    return case


# case_update's follow_up_shown when the caller showed no follow-up date (the date is taken as
# given).
NOT_SHOWN = object()


@transaction.atomic
def case_update(*, user, case: Case, follow_up_shown=NOT_SHOWN) -> Case:
    """Change what was logged; a closed case must be reopened first (issue 5, "Bad input").
    `follow_up_shown`: the follow-up date the edit form showed. Left as shown, the date stays
    as stored: a follow-up recorded since the form was opened set the next date (or none), and
    the form's stale one must not put its date back."""
    _require(user, "services.change_case")
    previous = _locked_case(case)
    if follow_up_shown is not NOT_SHOWN and case.follow_up_on == follow_up_shown:
        case.follow_up_on = previous.follow_up_on
    _require_scope(user, previous.organisation)
    if previous.is_closed:
        raise ValidationError(CASE_CLOSED_MESSAGE, code="case_closed")
    # State moves only through close / refer / reopen.
    case.status, case.closed_at, case.referred_to = (
        previous.status,
        previous.closed_at,
        previous.referred_to,
    )
    case.created_by_id = previous.created_by_id
    case.normalise_worker()
    _check_case_fields(user=user, case=case, previous=previous)
    _link_household(case=case, previous=previous)
    case.save()
    return case


CASE_ALREADY_LINKED_MESSAGE = _("该案件已关联困难职工档案 %(number)s。")
LINK_OUT_OF_REACH_MESSAGE = _(
    "案件由“%(organisation)s”受理：档案的建档单位或所在基层工会须为该组织或其下级组织。"
)


@transaction.atomic
def case_link_household(*, user, case: Case, household) -> Case:
    """为其建档 (DOMAIN.md "随时发现随时建档"): link the file started from a case to it, with an
    event saying who and when. A closed case takes the link too: the worker was answered at the
    counter and filed afterwards; what was logged does not change."""
    from households.models import Household

    _require(user, "services.change_case")
    current = _locked_case(case)
    _require_scope(user, current.organisation)
    if not Household.objects.visible_to(user).filter(pk=household.pk).exists():
        raise PermissionDenied
    if current.household_id is not None:
        if current.household_id == household.pk:
            return current
        number = Household.objects.filter(pk=current.household_id).values_list(
            "file_number", flat=True
        )[0]
        raise ValidationError(CASE_ALREADY_LINKED_MESSAGE % {"number": number}, code="linked")
    if not _in_subtree(household, current.organisation):
        raise ValidationError(
            {"base_union": LINK_OUT_OF_REACH_MESSAGE % {"organisation": current.organisation.name}}
        )
    current.household = household
    current.save(update_fields=["household"])
    _event(
        case=current,
        user=user,
        action=CaseEvent.Action.LINKED,
        from_status=current.status,
        note=household.file_number,
    )
    case.household = household
    return current


@transaction.atomic
def case_close(*, user, case: Case, outcome: str) -> Case:
    """Close an open or referred case with its outcome, now."""
    return _close(user=user, case=case, outcome=outcome, closed_at=timezone.now())


def _close(*, user, case: Case, outcome: str, closed_at) -> Case:
    """Close the case as closed at `closed_at`; its event is dated when it is written."""
    _require(user, "services.change_case")
    current = _locked_case(case)
    _require_scope(user, current.organisation)
    if current.is_closed:
        raise ValidationError(CASE_CLOSED_MESSAGE, code="case_closed")
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError({"outcome": OUTCOME_REQUIRED_MESSAGE})
    from_status = current.status
    current.status = Case.Status.CLOSED
    current.closed_at = closed_at
    current.outcome = outcome
    current.save(update_fields=["status", "closed_at", "outcome"])
    # The event keeps the outcome it closed with: a case reopened and closed again has two.
    _event(
        case=current,
        user=user,
        action=CaseEvent.Action.CLOSED,
        from_status=from_status,
        note=outcome,
    )
    case.status, case.closed_at, case.outcome = current.status, current.closed_at, outcome
    return current


@transaction.atomic
def case_refer(*, user, case: Case, referred_to: str, note: str = "") -> Case:
    """Refer an unclosed case to another body (转办); it stays unclosed until closed here."""
    _require(user, "services.change_case")
    current = _locked_case(case)
    _require_scope(user, current.organisation)
    if current.is_closed:
        raise ValidationError(CASE_CLOSED_MESSAGE, code="case_closed")
    referred_to = (referred_to or "").strip()
    if not referred_to:
        raise ValidationError({"referred_to": REFERRED_TO_REQUIRED_MESSAGE})
    from_status = current.status
    current.status = Case.Status.REFERRED
    current.referred_to = referred_to
    current.save(update_fields=["status", "referred_to"])
    _event(
        case=current,
        user=user,
        action=CaseEvent.Action.REFERRED,
        from_status=from_status,
        note=f"{referred_to}\n{note}".strip(),
    )
    return current


@transaction.atomic
def case_reopen(*, user, case: Case, reason: str) -> Case:
    """Reopen a closed case, with the reason, so that it can be changed again."""
    _require(user, "services.change_case")
    current = _locked_case(case)
    _require_scope(user, current.organisation)
    if not current.is_closed:
        raise ValidationError(CASE_NOT_CLOSED_MESSAGE, code="case_not_closed")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REOPEN_REASON_REQUIRED_MESSAGE})
    current.status = Case.Status.OPEN
    current.closed_at = None
    current.save(update_fields=["status", "closed_at"])
    _event(
        case=current,
        user=user,
        action=CaseEvent.Action.REOPENED,
        from_status=Case.Status.CLOSED,
        note=reason,
    )
    return current


@transaction.atomic
def case_follow_up(*, user, case: Case, note: str, next_on=None) -> Case:
    """回访/跟进: record what was done on an unclosed case and when to follow up next (none:
    no further date, so the case leaves the overdue list until it is closed or given one)."""
    _require(user, "services.change_case")
    current = _locked_case(case)
    _require_scope(user, current.organisation)
    if current.is_closed:
        raise ValidationError(CASE_CLOSED_MESSAGE, code="case_closed")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": FOLLOW_UP_NOTE_REQUIRED_MESSAGE})
    if next_on is not None and next_on < timezone.localdate():
        raise ValidationError({"next_on": NEXT_FOLLOW_UP_PAST_MESSAGE})
    current.follow_up_on = next_on
    current.save(update_fields=["follow_up_on"])  # its history row shows the new date
    _event(
        case=current,
        user=user,
        action=CaseEvent.Action.FOLLOWED_UP,
        from_status=current.status,
        note=note,
    )
    return current


@transaction.atomic
def legal_aid_save(*, user, legal_aid: LegalAidCase) -> LegalAidCase:
    """Record the legal-aid details of a case (wages recovered ≥ 0); not on a closed case."""
    _require(user, "services.change_legalaidcase" if legal_aid.pk else "services.add_legalaidcase")
    case = _locked_case(legal_aid.case)
    _require_scope(user, case.organisation)
    if case.is_closed:
        raise ValidationError(CASE_CLOSED_MESSAGE, code="case_closed")
    legal_aid.full_clean()
    legal_aid.save()
    return legal_aid


@transaction.atomic
def referral_save(*, user, referral: JobReferral) -> JobReferral:
    """Record a job referral and its result (职业介绍)."""
    _require(user, "services.change_jobreferral" if referral.pk else "services.add_jobreferral")
    previous = JobReferral.objects.get(pk=referral.pk) if referral.pk else None
    if previous is not None:
        _require_scope(user, previous.organisation)
    else:
        referral.created_by = user
    _require_scope(user, referral.organisation)
    if referral.case_id:
        case = _locked_case(referral.case)
        _require_scope(user, case.organisation)
        # A closed case takes no new step (reopen it first); a referral already made from it
        # may still get its result.
        if case.is_closed and (previous is None or previous.case_id != case.pk):
            raise ValidationError(CASE_CLOSED_MESSAGE, code="case_closed")
        # The case lies in the referral organisation's subtree: a user above the counties
        # reaching both could count one county's referral from the other county's case.
        # Checked when either changes: a pair linked before this rule still takes its result.
        moved = previous is None or (previous.case_id, previous.organisation_id) != (
            referral.case_id,
            referral.organisation_id,
        )
        if moved and not case.organisation.path.startswith(referral.organisation.path):
            message = REFERRAL_CASE_ELSEWHERE_MESSAGE % {
                "case_organisation": case.organisation.name
            }
            raise ValidationError({"organisation": message})
    referral.normalise_worker()
    referral.full_clean()
    referral.save()
    return referral


@transaction.atomic
def course_save(*, user, course: TrainingCourse) -> TrainingCourse:
    """Record a training course (技能培训)."""
    _require(user, "services.change_trainingcourse" if course.pk else "services.add_trainingcourse")
    if course.pk:
        _require_scope(user, TrainingCourse.objects.get(pk=course.pk).organisation)
    else:
        course.created_by = user
    _require_scope(user, course.organisation)
    course.full_clean()
    # Certificates are recorded once the course has ended (TrainingAttendee.clean): it cannot
    # be moved to end later than today while attendees hold them.
    if course.pk and course.ends_on > timezone.localdate():
        if course.attendees.filter(certificate_obtained=True).exists():
            raise ValidationError({"ends_on": COURSE_END_AFTER_CERTIFICATES_MESSAGE})
    course.save()
    return course


@transaction.atomic
def attendee_save(*, user, attendee: TrainingAttendee) -> TrainingAttendee:
    """Record a course attendee and the certificate obtained, if any; a worker attends a
    course once (else they count as two trainees). The database knows them by their ID
    number (svc_attendee_once_per_course); without one, by the same name and phone."""
    _require(
        user,
        "services.change_trainingattendee" if attendee.pk else "services.add_trainingattendee",
    )
    _require_scope(user, attendee.course.organisation)
    previous = TrainingAttendee.objects.get(pk=attendee.pk) if attendee.pk else None
    attendee.normalise_worker()
    # The database decides on the ID number, below; its refusal goes on the ID field.
    attendee.full_clean(validate_constraints=False)
    # Without an ID number: the same name and phone (a name alone is not one person), checked
    # when either is typed, so that a pair entered before this rule can still be corrected.
    person = {"worker_name": attendee.worker_name, "worker_phone": attendee.worker_phone}
    typed = previous is None or any(getattr(previous, k) != v for k, v in person.items())
    if not attendee.worker_id_hash and attendee.worker_phone and typed:
        if attendee.course.attendees.filter(**person).exclude(pk=attendee.pk).exists():
            raise ValidationError({"worker_name": ATTENDEE_SAME_NAME_AND_PHONE_MESSAGE})
    try:
        with transaction.atomic():
            attendee.save()
    except IntegrityError:
        twice = attendee.course.attendees.filter(worker_id_hash=attendee.worker_id_hash)
        if not attendee.worker_id_hash or not twice.exclude(pk=attendee.pk).exists():
            raise
        raise ValidationError({"worker_id_number": ATTENDEE_TWICE_MESSAGE}) from None
    return attendee
