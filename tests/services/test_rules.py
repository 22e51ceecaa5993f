"""The case log's rules and every bad input of issue 5: refused with a clear message, and
nothing written."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from orgs.models import User
from services.forms import LegalAidForm, QuickCaseForm
from services.models import (
    Case,
    CaseEvent,
    JobReferral,
    LegalAidCase,
    TrainingAttendee,
    TrainingCourse,
)
from services.services import (
    attendee_save,
    case_close,
    case_follow_up,
    case_refer,
    case_reopen,
    case_update,
    course_save,
    legal_aid_save,
    referral_save,
)
from services.validators import validate_resident_id_number
from tests.services.conftest import at, id_number

pytestmark = pytest.mark.django_db


# --- The six windows ----------------------------------------------------------------------


def test_the_six_default_windows_with_stable_codes(windows):
    assert {code: w.name for code, w in windows.items()} == {
        "petition": "信访接待",
        "hardship_aid": "困难职工帮扶",
        "medical_mutual_aid": "医疗互助保障",
        "legal_aid": "法律援助",
        "employment_training": "职业介绍和培训",
        "general_benefits": "普惠服务",
    }
    assert all(w.is_active for w in windows.values())


def test_a_renamed_or_retired_window_keeps_its_cases(make_case, windows):
    case = make_case(window="petition")
    window = windows["petition"]
    window.name = "信访接待窗口"
    window.is_active = False
    window.save()
    case.refresh_from_db()
    assert case.window.name == "信访接待窗口"
    assert case.window.code == "petition"
    # The migration's rows have no history, but the windows fixture may have put them back
    # (after a browser test emptied the tables), which wrote a "+" row first.
    change = window.history.order_by("-history_date", "-history_id").first()
    assert (change.history_type, change.name, change.is_active) == ("~", "信访接待窗口", False)


# --- ID numbers ---------------------------------------------------------------------------


def test_resident_id_number_check_digit():
    validate_resident_id_number("11010519491231002X")  # the standard's own example
    validate_resident_id_number("11010519491231002x")  # clerks type a small x
    with pytest.raises(ValidationError, match="校验位错误"):
        validate_resident_id_number("110105194912310021")
    with pytest.raises(ValidationError, match="应为18位"):
        validate_resident_id_number("11010519491231")
    with pytest.raises(ValidationError, match="出生日期无效"):
        validate_resident_id_number("110105194913310020")


def test_a_first_generation_number_is_taken_in_its_18_character_form():
    """GB 11643-1999 converts a 15-digit number: the year gets its century, the number its
    check character. Old records and the earlier systems' files hold such numbers."""
    from households.idnumbers import id_hash, normalise, upgraded, validate_id_number

    assert upgraded("110105491231002") == "11010519491231002X"  # the standard's example
    assert validate_id_number(" 110105 491231 002 ") == "11010519491231002X"
    assert id_hash("110105491231002") == id_hash("11010519491231002X")  # finds the same person
    with pytest.raises(ValidationError, match="出生日期无效"):
        validate_id_number("110105491331002")  # month 13
    for other in ("1101054912310021", "11010549123100X"):  # 16 digits; 15 with an X
        assert normalise(other) == other
        with pytest.raises(ValidationError):
            validate_id_number(other)


def test_id_number_is_stored_encrypted_with_a_search_hash_and_a_masked_copy(make_case):
    number = id_number()
    case = make_case(worker_id_number=number.lower())
    case.refresh_from_db()
    assert case.worker_id_number == number  # normalised, decrypted on read
    assert case.worker_id_hash and case.worker_id_hash != number
    assert case.worker_id_masked == number[:6] + "********" + number[-4:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT worker_id_number FROM services_case WHERE id = %s", [case.pk])
        (stored,) = cursor.fetchone()
    assert number not in stored  # the column holds a token


def test_an_invalid_id_number_is_refused(make_case):
    with pytest.raises(ValidationError) as error:
        make_case(worker_id_number="450102198005170011")
    assert "身份证号码校验位错误，请核对。" in error.value.message_dict["worker_id_number"]
    assert Case.objects.count() == 0


# --- Creating, closing, referring, reopening -----------------------------------------------


def test_logging_a_case_writes_the_case_and_its_first_event(make_case, users):
    case = make_case()
    assert case.status == Case.Status.OPEN
    assert case.created_by == users["clerk_450102"]
    assert list(case.events.values_list("action", "to_status")) == [("logged", "open")]


def test_close_refer_reopen_leave_events(make_case, users):
    clerk = users["clerk_450102"]
    case = make_case()
    case_refer(user=clerk, case=case, referred_to="区人社局")
    case_close(user=clerk, case=case, outcome="已解决")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closed_at is not None
    case_reopen(user=clerk, case=case, reason="职工再次反映")
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.closed_at is None
    events = list(case.events.values_list("action", "from_status", "to_status", "note"))
    assert events == [
        ("logged", "", "open", ""),
        ("referred", "open", "referred", "区人社局"),
        ("closed", "referred", "closed", "已解决"),
        ("reopened", "closed", "open", "职工再次反映"),
    ]


def test_closed_on_the_spot(make_case):
    case = make_case(outcome="当场答复", close_now=True)
    assert case.status == Case.Status.CLOSED
    assert case.events.count() == 2


def test_closing_needs_an_outcome(make_case, users):
    case = make_case()
    with pytest.raises(ValidationError) as error:
        case_close(user=users["clerk_450102"], case=case, outcome="  ")
    assert error.value.message_dict == {"outcome": ["办结案件须填写办理结果。"]}
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.events.count() == 1


def test_reopening_needs_a_closed_case_and_a_reason(make_case, users):
    clerk = users["clerk_450102"]
    case = make_case()
    with pytest.raises(ValidationError, match="只有已办结的案件才能重新打开"):
        case_reopen(user=clerk, case=case, reason="x")
    case_close(user=clerk, case=case, outcome="已答复")
    with pytest.raises(ValidationError, match="重新打开须填写原因"):
        case_reopen(user=clerk, case=case, reason="")
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED


def test_services_check_permission_and_scope(make_case, users):
    case = make_case()
    with pytest.raises(PermissionDenied):
        case_close(user=users["viewer_450100"], case=case, outcome="x")
    with pytest.raises(PermissionDenied):
        case_close(user=users["clerk_450103"], case=case, outcome="x")
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN


def test_a_follow_up_keeps_the_status_and_is_refused_out_of_scope(make_case, users):
    case = make_case()
    case_refer(user=users["clerk_450102"], case=case, referred_to="区人社局")
    next_on = timezone.localdate() + timedelta(days=7)
    case_follow_up(user=users["supervisor_450102"], case=case, note="已催办", next_on=next_on)
    event = case.events.last()
    assert (event.action, event.from_status, event.to_status, event.note) == (
        "followed_up",
        "referred",
        "referred",
        "已催办",
    )
    assert event.actor == users["supervisor_450102"]
    for username in ("viewer_450100", "clerk_450103", "finance_450102"):
        with pytest.raises(PermissionDenied):
            case_follow_up(user=users[username], case=case, note="x")
    assert case.events.count() == 3
    assert Case.objects.get(pk=case.pk).follow_up_on == next_on


def test_an_edit_does_not_move_the_follow_up_date_into_the_past(make_case, users):
    """记录跟进 refuses a past date; the edit form set one (the case overdue at once), and a
    form opened before a follow-up put its old, overdue date back on saving. A past date the
    case was logged with stays through edits of other fields."""
    clerk, today = users["clerk_450102"], timezone.localdate()
    case = make_case(
        received_at=timezone.now() - timedelta(days=10), follow_up_on=today - timedelta(days=5)
    )
    stale = Case.objects.get(pk=case.pk)  # the edit form, opened now
    stale.matter = "补充事由"
    case_update(user=clerk, case=stale)
    case_follow_up(user=clerk, case=case, note="电话回访", next_on=today + timedelta(days=7))
    stale.matter = "再次补充"
    with pytest.raises(ValidationError) as error:
        case_update(user=clerk, case=stale)  # saved after the follow-up, its old date with it
    assert error.value.message_dict == {"follow_up_on": ["跟进日期不能早于今天。"]}
    stored = Case.objects.get(pk=case.pk)
    assert (stored.matter, stored.follow_up_on) == ("补充事由", today + timedelta(days=7))
    stored.follow_up_on = today
    case_update(user=clerk, case=stored)


def test_a_stale_edit_form_keeps_a_later_follow_ups_date(make_case, users):
    """An edit form opened before a follow-up and saved after it put its old date back, a date
    still to come (or one after a follow-up that set none): the follow-up's next date was lost.
    Left as the form showed it, the date stays as stored; changed there, it is the editor's."""
    clerk, today = users["clerk_450102"], timezone.localdate()
    case = make_case(follow_up_on=today + timedelta(days=3))
    shown = today + timedelta(days=3)
    stale = Case.objects.get(pk=case.pk)  # the edit form, opened now
    case_follow_up(user=clerk, case=case, note="电话回访", next_on=today + timedelta(days=10))
    stale.matter = "补充事由"
    case_update(user=clerk, case=stale, follow_up_shown=shown)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.matter, stored.follow_up_on) == ("补充事由", today + timedelta(days=10))

    case_follow_up(user=clerk, case=case, note="已解决，不再跟进", next_on=None)
    stale.matter, stale.follow_up_on = "再次补充", shown  # another form opened before both
    case_update(user=clerk, case=stale, follow_up_shown=shown)
    assert Case.objects.get(pk=case.pk).follow_up_on is None

    stale.follow_up_on = today + timedelta(days=5)  # typed in the form: the editor's choice
    case_update(user=clerk, case=stale, follow_up_shown=shown)
    assert Case.objects.get(pk=case.pk).follow_up_on == today + timedelta(days=5)


# --- Bad input of issue 5 ------------------------------------------------------------------


def test_follow_up_before_the_case_date_is_refused(make_case):
    with pytest.raises(ValidationError) as error:
        make_case(received_at=at(2025, 3, 10, 9, 0), follow_up_on=at(2025, 3, 9, 9, 0).date())
    assert error.value.message_dict == {"follow_up_on": ["跟进日期不能早于登记日期。"]}
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0


def test_follow_up_on_the_case_date_is_fine(make_case):
    case = make_case(received_at=at(2025, 3, 10, 23, 30), follow_up_on=at(2025, 3, 10, 0, 0).date())
    assert case.pk


def test_negative_wages_recovered_are_refused_by_form_service_and_database(make_case, users):
    case = make_case(window="legal_aid")
    form = LegalAidForm(
        data={"dispute_type": "wage_arrears", "fees_waived": "0", "wages_recovered": "-1"},
        instance=LegalAidCase(case=case),
    )
    assert not form.is_valid()
    assert form.errors["wages_recovered"] == ["追回拖欠工资不能为负数。"]
    with pytest.raises(ValidationError) as error:
        legal_aid_save(
            user=users["clerk_450102"],
            legal_aid=LegalAidCase(
                case=case, dispute_type="wage_arrears", wages_recovered=Decimal("-0.01")
            ),
        )
    assert error.value.message_dict["wages_recovered"] == ["追回拖欠工资不能为负数。"]
    with pytest.raises(IntegrityError), transaction.atomic():
        LegalAidCase.objects.create(
            case=case, dispute_type="wage_arrears", wages_recovered=Decimal("-5")
        )
    assert LegalAidCase.objects.count() == 0


def test_an_unknown_window_is_refused(users):
    form = QuickCaseForm(
        data={
            "worker_name": "王芳",
            "matter": "咨询",
            "window": "no_such_window",
            "channel": "visit",
            "received_at": "2025-03-10T09:00",
            "handler": users["clerk_450102"].pk,
            "organisation": users["clerk_450102"].organisation_id,
        },
        user=users["clerk_450102"],
    )
    assert not form.is_valid()
    assert form.errors["window"] == ["请选择有效的窗口：所选窗口不存在或已停用。"]


def test_a_case_keeps_an_old_15_digit_number_in_its_18_character_form(users, windows, make_case):
    clerk = users["clerk_450102"]
    number = id_number()
    data = {
        "worker_name": "王芳",
        "worker_id_number": number[:6] + number[8:17],  # the old card's 15 digits
        "matter": "咨询",
        "window": "petition",
        "channel": "visit",
        "received_at": "2025-03-10T09:00",
        "handler": clerk.pk,
        "organisation": clerk.organisation_id,
    }
    form = QuickCaseForm(data=data, user=clerk)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["worker_id_number"] == number
    case = make_case(worker_id_number=data["worker_id_number"])
    assert (case.worker_id_number, case.worker_id_masked) == (
        number,
        number[:6] + "*" * 8 + number[-4:],
    )


def test_a_retired_window_is_refused_for_new_cases(make_case, windows):
    windows["general_benefits"].is_active = False
    windows["general_benefits"].save()
    with pytest.raises(ValidationError) as error:
        make_case(window="general_benefits")
    assert error.value.message_dict == {"window": ["窗口“普惠服务”已停用，不能用于新的登记。"]}
    assert Case.objects.count() == 0


def test_a_closed_case_cannot_be_edited_without_reopening(make_case, users):
    clerk = users["clerk_450102"]
    case = make_case(matter="原事由")
    case_close(user=clerk, case=case, outcome="已答复")
    case.refresh_from_db()
    case.matter = "改过的事由"
    with pytest.raises(ValidationError) as error:
        case_update(user=clerk, case=case)
    assert error.value.messages == ["该案件已办结，不能修改；如需修改请先重新打开。"]
    assert Case.objects.get(pk=case.pk).matter == "原事由"
    # Legal aid details of a closed case are part of the case.
    with pytest.raises(ValidationError, match="请先重新打开"):
        legal_aid_save(user=clerk, legal_aid=LegalAidCase(case=case, dispute_type="other"))
    # After reopening, the change goes through.
    case_reopen(user=clerk, case=case, reason="补充事由")
    case.refresh_from_db()
    case.matter = "改过的事由"
    case_update(user=clerk, case=case)
    assert Case.objects.get(pk=case.pk).matter == "改过的事由"


def test_the_handler_can_open_the_case_they_handle(make_case, users, orgs):
    """A base union's clerk, within the county clerk's reach, cannot open a county-level case:
    they are not made its handler."""
    base_clerk = User.objects.create(username="clerk_450102001", organisation=orgs["450102001"])
    base_clerk.groups.add(Group.objects.get(name="clerk"))
    with pytest.raises(ValidationError) as error:
        make_case(by="clerk_450102", org="450102", handler=base_clerk)
    assert error.value.message_dict == {
        "handler": ["经办人须为本辖区内、受理组织或其上级组织中可办理案件的工作人员。"]
    }
    assert not Case.objects.exists()
    # Of the case's organisation or above it, they handle its base union's cases.
    assert make_case(org="450102001", handler=base_clerk).handler == base_clerk


def test_a_handler_who_cannot_follow_cases_up_is_refused(make_case, users):
    """Finance users read cases but do not change them: they cannot be a case's handler."""
    with pytest.raises(ValidationError) as error:
        make_case(handler=users["finance_450102"])
    assert set(error.value.message_dict) == {"handler"}
    case = make_case()
    case.handler = users["finance_450102"]
    with pytest.raises(ValidationError):
        case_update(user=users["clerk_450102"], case=case)
    assert Case.objects.get(pk=case.pk).handler == users["clerk_450102"]


def test_an_administrator_is_not_made_a_cases_handler(make_case, users):
    """Administrators hold services.change_case to correct records, not to work cases: the
    one who logs a case names a member of the centre's staff as its handler."""
    for by, handler in (("admin_450102", "admin_450102"), ("clerk_450102", "admin_450102")):
        with pytest.raises(ValidationError) as error:
            make_case(by=by, handler=users[handler])
        assert error.value.message_dict == {
            "handler": ["经办人须为本辖区内、受理组织或其上级组织中可办理案件的工作人员。"]
        }
    assert not Case.objects.exists()
    case = make_case(by="admin_450102", handler=users["clerk_450102"])
    case.handler = users["admin_450000"]
    with pytest.raises(ValidationError):
        case_update(user=users["admin_450000"], case=case)
    assert Case.objects.get(pk=case.pk).handler == users["clerk_450102"]


def test_an_unchanged_handler_does_not_block_the_countys_edit(make_case, users):
    """The region's supervisor handles a county's case the region's administrator logged: out
    of the county clerk's reach, yet the clerk's edit, which leaves the handler alone, goes
    through."""
    case = make_case(by="admin_450000", org="450102", handler=users["supervisor_450000"])
    case = Case.objects.get(pk=case.pk)
    case.matter = "补充事由"
    case_update(user=users["clerk_450102"], case=case)
    assert Case.objects.get(pk=case.pk).matter == "补充事由"


def test_a_case_moved_to_another_organisation_keeps_a_handler_who_can_open_it(
    make_case, users, orgs
):
    """Moving the case checks its unchanged handler against the new organisation."""
    case = make_case(by="admin_450000", org="450102", handler=users["clerk_450102"])
    case = Case.objects.get(pk=case.pk)
    case.organisation = orgs["450103"]
    with pytest.raises(ValidationError) as error:
        case_update(user=users["admin_450000"], case=case)
    assert set(error.value.message_dict) == {"handler"}
    case.organisation = orgs["450102001"]  # below the handler's county: they still open it
    case_update(user=users["admin_450000"], case=case)
    assert Case.objects.get(pk=case.pk).organisation == orgs["450102001"]


def test_update_cannot_move_the_status(make_case, users):
    case = make_case()
    case.status = Case.Status.CLOSED
    case_update(user=users["clerk_450102"], case=case)
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.closed_at is None


def test_closed_at_goes_with_the_closed_status_in_the_database(make_case):
    case = make_case()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status="closed")
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status="lost")


def test_a_referral_is_not_dated_before_its_case(make_case, users, orgs):
    """A referral made from a case follows the visit that asked for it, as a follow-up does."""
    case = make_case(received_at=at(2025, 3, 10, 9, 0))
    referral = JobReferral(
        organisation=orgs["450102"],
        case=case,
        worker_name="王芳",
        employer="某厂",
        position="焊工",
        referred_on=date(2025, 3, 9),
    )
    with pytest.raises(ValidationError) as error:
        referral_save(user=users["clerk_450102"], referral=referral)
    assert error.value.message_dict == {"referred_on": ["介绍日期不能早于来源案件的登记日期。"]}
    assert not JobReferral.objects.exists()
    referral.referred_on = date(2025, 3, 10)  # the day of the visit
    assert referral_save(user=users["clerk_450102"], referral=referral).pk


def test_a_referral_links_only_a_case_of_its_own_organisations_subtree(make_case, users, orgs):
    """A user above the counties (the region's administrator) reaches both, yet a referral of
    青秀区 (450103) made from a 兴宁区 (450102) case counted one county's placement from the
    other's case."""
    case = make_case(org="450102001")
    referral = JobReferral(
        organisation=orgs["450103"],
        case=case,
        worker_name="王芳",
        employer="某厂",
        position="焊工",
    )
    with pytest.raises(ValidationError) as error:
        referral_save(user=users["admin_450000"], referral=referral)
    assert error.value.message_dict == {
        "organisation": [
            "来源案件由“兴宁区民生街道工会联合会”受理，不在所选受理组织的辖区内："
            "请选择该组织或其上级组织。"
        ]
    }
    assert not JobReferral.objects.exists()
    referral.organisation = orgs["450102"]  # the county above the base union's case
    referral = referral_save(user=users["admin_450000"], referral=referral)
    referral.organisation = orgs["450103"]  # nor is the referral moved away from its case
    with pytest.raises(ValidationError):
        referral_save(user=users["admin_450000"], referral=referral)
    assert JobReferral.objects.get().organisation == orgs["450102"]
    # A pair linked before the rule still takes its result.
    JobReferral.objects.filter(pk=referral.pk).update(organisation=orgs["450103"])
    referral = JobReferral.objects.get()
    referral.result = JobReferral.Result.PLACED
    referral_save(user=users["admin_450000"], referral=referral)
    assert JobReferral.objects.get().result == "placed"


def test_a_course_may_be_planned_ahead_but_not_dated_before_2000(users, orgs):
    clerk = users["clerk_450102"]
    with pytest.raises(ValidationError) as error:
        course_save(
            user=clerk,
            course=TrainingCourse(
                organisation=orgs["450102"],
                name="电工",
                starts_on=date(1999, 12, 20),
                ends_on=date(1999, 12, 31),
            ),
        )
    assert error.value.message_dict == {
        "starts_on": ["开始日期不能早于 2000 年。"],
        "ends_on": ["结束日期不能早于 2000 年。"],
    }
    assert not TrainingCourse.objects.exists()
    next_month = timezone.localdate() + timedelta(days=30)
    course = TrainingCourse(
        organisation=orgs["450102"], name="电工", starts_on=next_month, ends_on=next_month
    )
    assert course_save(user=clerk, course=course).pk


def test_course_dates_and_certificates(users, orgs):
    clerk = users["clerk_450102"]
    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        course_save(
            user=clerk,
            course=TrainingCourse(
                organisation=orgs["450102"],
                name="电工",
                starts_on=today,
                ends_on=today - timedelta(1),
            ),
        )
    assert error.value.message_dict == {"ends_on": ["结束日期不能早于开始日期。"]}
    course = course_save(
        user=clerk,
        course=TrainingCourse(
            organisation=orgs["450102"], name="电工", starts_on=today, ends_on=today
        ),
    )
    with pytest.raises(ValidationError) as error:
        attendee_save(
            user=clerk,
            attendee=TrainingAttendee(course=course, worker_name="李强", certificate_obtained=True),
        )
    assert error.value.message_dict == {"certificate_name": ["请填写所获证书名称。"]}
    assert TrainingAttendee.objects.count() == 0
    with pytest.raises(PermissionDenied):
        attendee_save(
            user=users["clerk_450103"], attendee=TrainingAttendee(course=course, worker_name="李强")
        )


def test_a_certificate_is_recorded_only_once_the_course_has_ended(users, orgs):
    """A certificate is obtained on completing the course: one recorded while the course runs
    (or before it starts) counted in the year's certificates for a course not yet finished."""
    clerk, today = users["clerk_450102"], timezone.localdate()
    course = course_save(
        user=clerk,
        course=TrainingCourse(
            organisation=orgs["450102"],
            name="电工",
            starts_on=today - timedelta(days=3),
            ends_on=today + timedelta(days=4),
        ),
    )
    attendee = TrainingAttendee(
        course=course, worker_name="李强", certificate_obtained=True, certificate_name="电工证"
    )
    with pytest.raises(ValidationError) as error:
        attendee_save(user=clerk, attendee=attendee)
    ends_on = (today + timedelta(days=4)).isoformat()
    assert error.value.message_dict == {
        "certificate_obtained": [f"培训班 {ends_on} 结束，结束前不能登记“取得证书”：学员尚未结业。"]
    }
    assert not TrainingAttendee.objects.exists()
    attendee.certificate_obtained, attendee.certificate_name = False, ""
    attendee = attendee_save(user=clerk, attendee=attendee)  # attending is recorded at once
    # On its last day the course has ended: the certificate is recorded.
    course.ends_on = today
    course_save(user=clerk, course=course)
    attendee.certificate_obtained, attendee.certificate_name = True, "电工证"
    attendee_save(user=clerk, attendee=attendee)
    # Nor is the course moved to end later while attendees hold certificates.
    course.ends_on = today + timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        course_save(user=clerk, course=course)
    assert error.value.message_dict == {"ends_on": ["已有学员登记取得证书，结束日期不能晚于今天。"]}
    assert TrainingCourse.objects.get(pk=course.pk).ends_on == today


def test_the_same_worker_is_not_added_twice_to_one_course(users, orgs):
    """Entered twice, a worker counted as two trainees in the yearly summary. The database
    refuses a second attendee of the course with the same ID number (its hash), and the
    service says so at the ID field; another course takes them."""
    clerk = users["clerk_450102"]
    today = timezone.localdate()
    course, other = (
        TrainingCourse.objects.create(
            organisation=orgs["450102"], name=name, starts_on=today, ends_on=today, created_by=clerk
        )
        for name in ("电工", "焊工")
    )
    number = id_number()
    first = attendee_save(
        user=clerk,
        attendee=TrainingAttendee(course=course, worker_name="李强", worker_id_number=number),
    )
    fifteen_digits = number[:6] + number[8:17]  # the same number on the old card
    with pytest.raises(ValidationError) as error:
        attendee_save(
            user=clerk,
            attendee=TrainingAttendee(
                course=course, worker_name="李强", worker_id_number=fifteen_digits
            ),
        )
    assert error.value.message_dict == {
        "worker_id_number": ["该职工已是本培训班的学员（身份证号码相同）。"]
    }
    assert course.attendees.count() == 1
    first.certificate_obtained, first.certificate_name = True, "电工证"
    attendee_save(user=clerk, attendee=first)  # changing the one entry is no second one
    attendee_save(
        user=clerk,
        attendee=TrainingAttendee(course=other, worker_name="李强", worker_id_number=number),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingAttendee.objects.create(course=course, worker_name="李强", worker_id_number=number)


def test_without_an_id_number_the_same_name_and_phone_is_the_same_worker(users, orgs):
    """Two workers of one name may attend a course; with the same phone too, it is the same
    worker entered again."""
    clerk = users["clerk_450102"]
    today = timezone.localdate()
    course = TrainingCourse.objects.create(
        organisation=orgs["450102"], name="电工", starts_on=today, ends_on=today, created_by=clerk
    )

    def add(**worker):
        return attendee_save(
            user=clerk, attendee=TrainingAttendee(course=course, worker_name="王芳", **worker)
        )

    add(worker_phone="13800000001")
    add(worker_phone="13800000002")  # another 王芳
    add()  # nor is a name alone one person
    add()
    with pytest.raises(ValidationError) as error:
        add(worker_phone="138 0000 0001")
    assert error.value.message_dict == {
        "worker_name": ["该职工已是本培训班的学员（姓名和联系电话相同）。"]
    }
    assert course.attendees.count() == 4
