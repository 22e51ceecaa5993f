"""Statistics on a hand-built set of cases where every number is known."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orgs.models import Organisation
from services.models import (
    Case,
    JobReferral,
    LegalAidCase,
    TrainingAttendee,
    TrainingCourse,
)
from services.selectors import case_statistics, service_centre_summaries, service_centre_summary
from services.services import attendee_save, case_close, legal_aid_save, referral_save
from tests.services.conftest import at, id_number

pytestmark = pytest.mark.django_db

YEAR_2025 = {"date_from": date(2025, 1, 1), "date_to": date(2025, 12, 31)}


@pytest.fixture
def centre(make_case, users, orgs, windows):
    """Seven cases in 2025 (six in 450102 and its base union, one in 450103), two outside it,
    legal aid, referrals and courses; see the expectations in each test."""
    clerk, clerk_03 = users["clerk_450102"], users["clerk_450103"]

    def case(when, window, channel, *, org="450102", closed_after=None, legal=None):
        by = "clerk_450103" if org.startswith("450103") else "clerk_450102"
        made = make_case(by=by, org=org, window=window, channel=channel, received_at=when)
        user = clerk_03 if by == "clerk_450103" else clerk
        if legal:
            wages, migrant = legal
            legal_aid_save(
                user=user,
                legal_aid=LegalAidCase(
                    case=made,
                    dispute_type="wage_arrears",
                    wages_recovered=Decimal(wages),
                    is_migrant_worker=migrant,
                ),
            )
        if closed_after is not None:
            case_close(user=user, case=made, outcome="已办结")
            Case.objects.filter(pk=made.pk).update(closed_at=when + closed_after)
        return made

    case(at(2025, 1, 1, 0, 0), "petition", "visit", closed_after=timedelta(days=3))
    case(at(2025, 1, 15, 10, 0), "petition", "call")
    case(at(2025, 2, 3, 9, 0), "legal_aid", "visit", closed_after=timedelta(days=20),
         legal=("12000.50", True))  # fmt: skip
    case(at(2025, 2, 10, 14, 0), "legal_aid", "hotline_12351", legal=("3000.00", False))
    case(at(2025, 3, 5, 8, 30), "hardship_aid", "letter", org="450102001",
         closed_after=timedelta(days=15))  # fmt: skip
    case(at(2025, 12, 31, 23, 59), "general_benefits", "online")
    case(at(2025, 6, 1, 10, 0), "legal_aid", "visit", org="450103",
         closed_after=timedelta(days=1), legal=("5000", True))  # fmt: skip
    case(at(2024, 12, 31, 23, 59), "petition", "visit", legal=("999", True))  # the year before
    case(at(2026, 1, 1, 0, 0), "petition", "visit")  # the year after

    windows["medical_mutual_aid"].is_active = False  # retired, no cases: not listed
    windows["medical_mutual_aid"].save()

    for org, day, result in [
        ("450102", date(2025, 3, 1), "placed"),
        ("450102", date(2025, 5, 1), "not_placed"),
        ("450102", date(2025, 7, 1), "pending"),
        ("450102", date(2024, 12, 31), "placed"),
        ("450103", date(2025, 8, 1), "placed"),
    ]:
        JobReferral.objects.create(
            organisation=orgs[org], worker_name="李强", employer="某厂", position="焊工",
            referred_on=day, result=result, created_by=clerk,
        )  # fmt: skip
    for org, starts, certified in [
        ("450102", date(2025, 4, 1), [True, True, False]),
        ("450102", date(2024, 11, 1), [True, True]),
        ("450103", date(2025, 9, 1), [True]),
    ]:
        course = TrainingCourse.objects.create(
            organisation=orgs[org], name="电工", starts_on=starts, ends_on=starts, created_by=clerk
        )
        for n, got in enumerate(certified):
            TrainingAttendee.objects.create(
                course=course, worker_name=f"学员{n}", certificate_obtained=got,
                certificate_name="电工证" if got else "",
            )  # fmt: skip


def test_summary_for_the_city_sums_both_counties(centre, users):
    summary = service_centre_summary(
        organisations_qs_or_user_scope=users["viewer_450100"], **YEAR_2025
    )
    assert summary["cases_by_window"] == {
        "petition": 2,
        "hardship_aid": 1,
        "legal_aid": 3,
        "employment_training": 0,
        "general_benefits": 1,
    }
    assert summary["cases_by_channel"] == {
        "letter": 1,
        "call": 1,
        "hotline_12351": 1,
        "visit": 3,
        "online": 1,
    }
    assert summary["cases_total"] == 7
    assert summary["legal_aid"] == {
        "cases": 3,
        "wages_recovered": Decimal("20000.50"),
        "wages_recovered_migrant": Decimal("17000.50"),
    }
    assert summary["job_referrals"] == {"referred": 4, "placed": 2}
    assert (summary["trainees"], summary["certificates"]) == (4, 3)


def test_referrals_and_placements_count_people(users, orgs):
    """The report says 职业介绍（人） and 成功就业（人）: a worker referred three times (and placed
    twice) is one person referred and one placed. A worker is known by the ID number, else by
    name and phone; by a name alone, each referral is taken for another person."""
    clerk, number = users["clerk_450102"], id_number()

    def refer(name, result="pending", **worker):
        JobReferral.objects.create(
            organisation=orgs["450102"], worker_name=name, employer="某厂", position="焊工",
            referred_on=date(2025, 5, 1), result=result, created_by=clerk, **worker,
        )  # fmt: skip

    refer("王芳", "placed", worker_id_number=number)
    refer("王芳", "placed", worker_id_number=number)
    refer("王芳", "not_placed", worker_id_number=number)
    refer("赵敏", "placed", worker_phone="13800000001")
    refer("赵敏", worker_phone="13800000001")
    refer("赵敏", worker_phone="13800000002")  # another phone: another 赵敏
    refer("李强")
    refer("李强")
    summary = service_centre_summary(organisations_qs_or_user_scope=orgs["450102"], **YEAR_2025)
    assert summary["job_referrals"] == {"referred": 5, "placed": 2}


def test_a_past_periods_wages_and_placements_stay_when_edited_later(make_case, users, orgs):
    """The 2025 report counted a legal-aid case's wages and a referral's result as they are
    now: sent up in January, it said otherwise in June once they were edited. Entered with the
    case or referral (here typed in today), they count on its date; changed later, on the day
    of the change: the increase, and the placement, count this year."""
    clerk, this_year = users["clerk_450102"], timezone.localdate().year
    case = make_case(window="legal_aid", received_at=at(2025, 11, 3, 9, 0))
    legal_aid = legal_aid_save(
        user=clerk,
        legal_aid=LegalAidCase(
            case=case, dispute_type="wage_arrears", wages_recovered=Decimal("3000.00"),
            is_migrant_worker=True,
        ),
    )  # fmt: skip
    referral = JobReferral.objects.create(
        organisation=orgs["450102"], worker_name="李强", worker_phone="13800000001",
        employer="某厂", position="焊工", referred_on=date(2025, 12, 20), created_by=clerk,
    )  # fmt: skip
    year_2025 = service_centre_summary(organisations_qs_or_user_scope=orgs["450102"], **YEAR_2025)
    assert year_2025["legal_aid"] == {
        "cases": 1,
        "wages_recovered": Decimal("3000.00"),
        "wages_recovered_migrant": Decimal("3000.00"),
    }
    assert year_2025["job_referrals"] == {"referred": 1, "placed": 0}

    legal_aid.wages_recovered = Decimal("4500.00")  # the rest recovered and recorded today
    legal_aid_save(user=clerk, legal_aid=legal_aid)
    referral.result = JobReferral.Result.PLACED  # the worker started in January
    referral_save(user=clerk, referral=referral)
    assert (
        service_centre_summary(organisations_qs_or_user_scope=orgs["450102"], **YEAR_2025)
        == year_2025
    )
    now = service_centre_summary(
        organisations_qs_or_user_scope=orgs["450102"],
        date_from=date(this_year, 1, 1),
        date_to=timezone.localdate(),
    )
    assert now["legal_aid"] == {
        "cases": 0,
        "wages_recovered": Decimal("1500.00"),
        "wages_recovered_migrant": Decimal("1500.00"),
    }
    assert now["job_referrals"] == {"referred": 0, "placed": 1}
    # Both years in one period: the wages as they are now, the person placed once.
    both = service_centre_summary(
        organisations_qs_or_user_scope=orgs["450102"],
        date_from=date(2025, 1, 1),
        date_to=timezone.localdate(),
    )
    assert both["legal_aid"]["wages_recovered"] == Decimal("4500.00")
    assert both["job_referrals"] == {"referred": 1, "placed": 1}


def test_summary_for_a_county_user_and_for_organisation_querysets(centre, users, orgs):
    county = service_centre_summary(
        organisations_qs_or_user_scope=users["clerk_450102"], **YEAR_2025
    )
    assert county["cases_total"] == 6
    assert county["legal_aid"] == {
        "cases": 2,
        "wages_recovered": Decimal("15000.50"),
        "wages_recovered_migrant": Decimal("12000.50"),
    }
    assert county["job_referrals"] == {"referred": 3, "placed": 1}
    assert (county["trainees"], county["certificates"]) == (3, 2)
    # An organisation stands for its subtree; a queryset for exactly its organisations.
    subtree = service_centre_summary(organisations_qs_or_user_scope=orgs["450102"], **YEAR_2025)
    assert subtree["cases_total"] == 6
    only_county = service_centre_summary(
        organisations_qs_or_user_scope=Organisation.objects.filter(code="450102"), **YEAR_2025
    )
    assert only_county["cases_total"] == 5  # without the base union's case
    other = service_centre_summary(
        organisations_qs_or_user_scope=Organisation.objects.filter(code="450103"), **YEAR_2025
    )
    assert other["cases_by_window"]["legal_aid"] == 1 and other["cases_total"] == 1
    assert other["legal_aid"]["wages_recovered_migrant"] == Decimal("5000.00")


def test_summary_of_an_empty_period_has_every_active_window_and_zero_money(centre, users):
    summary = service_centre_summary(
        organisations_qs_or_user_scope=users["viewer_450100"],
        date_from=date(2020, 1, 1),
        date_to=date(2020, 12, 31),
    )
    assert set(summary["cases_by_window"]) == {
        "petition", "hardship_aid", "legal_aid", "employment_training", "general_benefits"
    }  # fmt: skip
    assert set(summary["cases_by_window"].values()) == {0}
    assert summary["legal_aid"]["wages_recovered"] == Decimal("0.00")


def test_case_statistics_by_window_channel_month_and_closing_time(centre, users):
    stats = case_statistics(scope=users["viewer_450100"], year=2025, within_days=15)
    assert stats["window_channel"] == {
        ("petition", "visit"): 1,
        ("petition", "call"): 1,
        ("legal_aid", "visit"): 2,
        ("legal_aid", "hotline_12351"): 1,
        ("hardship_aid", "letter"): 1,
        ("general_benefits", "online"): 1,
    }
    # Months follow local time: 00:00 on 1 January and 23:59 on 31 December stay in 2025.
    assert stats["month_window"] == {
        (1, "petition"): 2,
        (2, "legal_aid"): 2,
        (3, "hardship_aid"): 1,
        (6, "legal_aid"): 1,
        (12, "general_benefits"): 1,
    }
    assert stats["month_channel"][(2, "visit")] == 1
    assert stats["month_channel"][(2, "hotline_12351")] == 1
    assert (stats["closed"], stats["closed_within"]) == (4, 3)  # 3, 15 and 1 days; not 20
    assert (
        case_statistics(scope=users["viewer_450100"], year=2025, within_days=20)["closed_within"]
        == 4
    )


def test_a_case_closed_on_the_spot_counts_as_closed_when_received(make_case, users):
    """当场办结 of a counter visit typed in 20 days later: closed when the worker came, so
    within 15 days (it read "closed after 20 days"). Its event says when that was recorded."""
    received = timezone.now() - timedelta(days=20)
    case = make_case(received_at=received, outcome="当场答复", close_now=True)
    case.refresh_from_db()
    assert case.closed_at == case.received_at
    event = case.events.get(action="closed")
    assert (event.from_status, event.to_status, event.actor) == (
        "open",
        "closed",
        users["clerk_450102"],
    )
    assert event.at > received + timedelta(days=19)
    stats = case_statistics(
        scope=users["clerk_450102"], year=timezone.localtime(received).year, within_days=15
    )
    assert (stats["closed"], stats["closed_within"]) == (1, 1)


def test_the_summary_takes_a_fixed_number_of_queries(centre, users, django_assert_num_queries):
    viewer = users["viewer_450100"]
    with django_assert_num_queries(6):
        service_centre_summary(organisations_qs_or_user_scope=viewer, **YEAR_2025)


def test_statistics_page_and_json(centre, login):
    client = login("viewer_450100")
    response = client.get("/services/statistics/", {"year": 2025, "days": 15})
    assert response.status_code == 200
    page = response.content.decode()
    assert "追回拖欠工资 20,000.50 元，其中农民工 17,000.50 元" in page
    assert "已办结 4 件，其中 15 天内办结 3 件" in page
    # Certificates are people certified in the year, not a part of the attendances above;
    # placements, people placed in the year, not a part of those referred (a referral of
    # December placed in January counts in each year once).
    assert "培训学员（人次），当年取得证书 3 人" in page
    assert "当年已上岗 2 人" in page
    rows = {row["label"]: row for row in response.context["window_rows"]}
    assert rows["法律援助"]["total"] == 3 and "医疗互助保障" not in rows
    assert response.context["month_rows"][1]["total"] == 2  # February

    data = client.get(
        "/services/statistics/", {"year": 2025, "organisation": "450103", "format": "json"}
    ).json()
    assert data["cases_total"] == 1
    assert data["legal_aid"]["wages_recovered"] == "5000.00"
    assert data["job_referrals"] == {"referred": 1, "placed": 1}


def test_statistics_of_a_year_to_come_show_this_year(login, users):
    this_year = timezone.localdate().year
    response = login("viewer_450100").get("/services/statistics/", {"year": this_year + 1})
    assert response.status_code == 200 and response.context["year"] == this_year


def test_statistics_of_another_county_answer_404(centre, login):
    response = login("clerk_450102").get("/services/statistics/", {"organisation": "450103"})
    assert response.status_code == 404


def test_statistics_read_an_organisation_code_whatever_the_case(centre, login, orgs):
    Organisation.objects.create(
        code="450103A01", name="甲公司工会", level="base", parent=orgs["450103"]
    )
    client = login("viewer_450100")
    response = client.get("/services/statistics/", {"year": 2025, "organisation": "450103a01"})
    assert response.status_code == 200 and response.context["scope_org"].code == "450103A01"


def test_certificates_count_people_in_the_period_they_were_obtained(users, orgs):
    """其中取得证书 N 人 counted certificate rows by the course's start date: a course of
    December ending in January put its certificates in the year before, and a certificate
    recorded a year after its course in the course's year. They count people, in the period
    the certificate was obtained: entered with the attendee, when the course ended; ticked
    later, on the day it was recorded."""
    clerk, this_year = users["clerk_450102"], timezone.localdate().year
    today, number = timezone.localdate(), id_number()

    def course(starts, ends):
        return TrainingCourse.objects.create(
            organisation=orgs["450102"], name="电工", starts_on=starts, ends_on=ends,
            created_by=clerk,
        )  # fmt: skip

    def attend(course, name="王芳", certified=True, **worker):
        return attendee_save(
            user=clerk,
            attendee=TrainingAttendee(
                course=course, worker_name=name, certificate_obtained=certified,
                certificate_name="电工证" if certified else "", **worker,
            ),
        )  # fmt: skip

    # Started in December 2025, ended in January: trained in 2025, certified in January.
    winter = course(date(2025, 12, 15), date(this_year, 1, 10))
    attend(winter, worker_id_number=number)
    attend(winter, "赵敏", worker_phone="13800000001")
    # The same worker certified again in another course this year: still one person.
    attend(course(date(this_year, 1, 12), date(this_year, 1, 20)), worker_id_number=number)
    # A 2025 course whose certificate is ticked only now: obtained this year as recorded.
    late = attend(course(date(2025, 5, 1), date(2025, 5, 31)), "李强", certified=False)
    year_2025 = service_centre_summary(organisations_qs_or_user_scope=orgs["450102"], **YEAR_2025)
    assert (year_2025["trainees"], year_2025["certificates"]) == (3, 0)

    late.certificate_obtained, late.certificate_name = True, "电工证"
    attendee_save(user=clerk, attendee=late)
    assert (
        service_centre_summary(organisations_qs_or_user_scope=orgs["450102"], **YEAR_2025)
        == year_2025
    )
    now = service_centre_summary(
        organisations_qs_or_user_scope=orgs["450102"],
        date_from=date(this_year, 1, 1),
        date_to=today,
    )
    assert (now["trainees"], now["certificates"]) == (1, 3)  # 王芳, 赵敏, 李强


def test_a_correction_downwards_or_a_migrant_flag_switched_keeps_the_figures_consistent(
    make_case, users, orgs
):
    """Wages counted as the increase made a correction downwards a negative amount in the year
    of the correction, and the migrant workers' share, counted apart, could exceed the total: a
    flag switched on counted the case's earlier wages as this year's migrant wages against a
    total of nothing. A record counts what it gained in the period, never less than nothing,
    and the migrant share is that gain for the migrant workers' records."""
    clerk, this_year = users["clerk_450102"], timezone.localdate().year

    def legal_aid(day, wages, migrant=False):
        return legal_aid_save(
            user=clerk,
            legal_aid=LegalAidCase(
                case=make_case(window="legal_aid", received_at=at(2025, 11, day, 9, 0)),
                dispute_type="wage_arrears", wages_recovered=Decimal(wages),
                is_migrant_worker=migrant,
            ),
        )  # fmt: skip

    def this_years():
        return service_centre_summary(
            organisations_qs_or_user_scope=orgs["450102"],
            date_from=date(this_year, 1, 1),
            date_to=timezone.localdate(),
        )["legal_aid"]

    overstated = legal_aid(3, "4500.00", migrant=True)
    switched = legal_aid(4, "3000.00")
    raised = legal_aid(5, "1000.00")
    year_2025 = service_centre_summary(organisations_qs_or_user_scope=orgs["450102"], **YEAR_2025)
    assert year_2025["legal_aid"] == {
        "cases": 3,
        "wages_recovered": Decimal("8500.00"),
        "wages_recovered_migrant": Decimal("4500.00"),
    }

    overstated.wages_recovered = Decimal("3000.00")  # 4,500 was a typing error
    legal_aid_save(user=clerk, legal_aid=overstated)
    switched.is_migrant_worker = True  # the worker turns out to be a migrant worker
    legal_aid_save(user=clerk, legal_aid=switched)
    assert this_years() == {
        "cases": 0,
        "wages_recovered": Decimal("0.00"),
        "wages_recovered_migrant": Decimal("0.00"),
    }
    raised.wages_recovered, raised.is_migrant_worker = Decimal("1800.00"), True
    legal_aid_save(user=clerk, legal_aid=raised)
    assert this_years() == {
        "cases": 0,
        "wages_recovered": Decimal("800.00"),
        "wages_recovered_migrant": Decimal("800.00"),
    }
    assert (
        service_centre_summary(organisations_qs_or_user_scope=orgs["450102"], **YEAR_2025)
        == year_2025
    )


def test_the_summaries_side_by_side_are_each_units_own(centre, orgs, django_assert_num_queries):
    """The annual summary reads its child organisations' figures grouped in one go: each is
    what the summary of that child alone says, in the same six queries."""
    units = [orgs["450102"], orgs["450103"]]
    with django_assert_num_queries(6):
        side_by_side = service_centre_summaries(units=units, **YEAR_2025)
    assert side_by_side == {
        unit.pk: service_centre_summary(organisations_qs_or_user_scope=unit, **YEAR_2025)
        for unit in units
    }
    cases = [side_by_side[unit.pk]["cases_total"] for unit in units]
    assert cases == [6, 1]
