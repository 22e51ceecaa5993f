"""Cases link to the open household file with the same ID number in the case organisation's
subtree, the case page shows the link only to those who may see the file, and the household
timeline finds them."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from households import services as household_services
from households.models import Cause, DibaoStandard, Household
from households.services import MemberData
from services.models import Case
from services.selectors import cases_for_household
from services.services import case_update
from tests.services.conftest import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(users, orgs):
    year = timezone.localdate().year
    DibaoStandard.objects.create(
        organisation=orgs["450000"], year=year, monthly_amount=Decimal("1000.00")
    )
    file = Household(
        organisation=orgs["450102"],
        worker_name="黄秀英",
        id_number=id_number(born=timezone.localdate().replace(year=1975, month=6, day=1)),
        primary_cause=Cause.objects.get(code="illness"),
        is_migrant_worker=True,
        is_union_member=True,
        labour_relation_since=date(2015, 3, 1),
    )
    worker = MemberData(relation="self", name="", monthly_income=Decimal("600.00"))
    return household_services.household_create(
        user=users["clerk_450102"], household=file, members=[worker]
    )


def test_a_case_with_the_workers_id_number_links_to_the_file(make_case, household):
    case = make_case(worker_name="黄秀英", worker_id_number=household.id_number)
    assert case.household == household
    assert list(household.service_cases.all()) == [case]


def test_no_link_without_a_matching_id_or_outside_the_scope(make_case, household):
    assert make_case(worker_name="黄秀英").household is None  # the name alone is not enough
    assert make_case(worker_id_number=id_number()).household is None
    other_county = make_case(by="clerk_450103", org="450103", worker_id_number=household.id_number)
    assert other_county.household is None


def test_removing_the_id_number_unlinks(make_case, household, users):
    case = make_case(worker_id_number=household.id_number)
    case.worker_id_number = ""
    case_update(user=users["clerk_450102"], case=case)
    case.refresh_from_db()
    assert case.household is None


def test_household_timeline_selector(make_case, users, orgs, windows):
    number = id_number(born=timezone.localdate().replace(year=1975, month=6, day=1))
    before = make_case(worker_id_number=number, matter="建档前来访")  # no file yet
    assert before.household is None
    file = Household(
        organisation=orgs["450102"],
        worker_name="黄秀英",
        id_number=number,
        primary_cause=Cause.objects.get(code="illness"),
    )
    DibaoStandard.objects.create(
        organisation=orgs["450000"],
        year=timezone.localdate().year,
        monthly_amount=Decimal("1000.00"),
    )
    file = household_services.household_create(
        user=users["clerk_450102"],
        household=file,
        members=[MemberData(relation="self", name="", monthly_income=Decimal("600.00"))],
    )
    after = make_case(worker_id_number=number, matter="建档后来访")
    assert after.household == file
    make_case(worker_name="黄秀英", matter="同名不同人")
    timeline = cases_for_household(file, users["supervisor_450102"])
    assert [c.matter for c in timeline] == ["建档后来访", "建档前来访"]
    assert list(cases_for_household(file, users["clerk_450103"])) == []


@pytest.mark.parametrize("first_generation", [False, True])
def test_the_earlier_cases_hint_names_the_file(login, household, first_generation):
    number = household.id_number
    if first_generation:  # the 15 digits of the worker's old card
        number = number[:6] + number[8:17]
    response = login("clerk_450102").post("/services/earlier/", {"worker_id_number": number})
    assert f"该职工已建档：{household.file_number}" in response.content.decode()


def test_legal_aid_takes_the_migrant_flag_from_the_file(login, make_case, household):
    case = make_case(window="legal_aid", worker_id_number=household.id_number)
    form = login("clerk_450102").get(f"/services/cases/{case.pk}/legal-aid/").context["form"]
    assert form["is_migrant_worker"].value() is True


def test_a_link_by_id_number_under_another_name_is_flagged(login, make_case, household):
    """Linked on the ID number alone: a different name means one of the two was mistyped."""
    same = make_case(worker_name="黄秀英", worker_id_number=household.id_number)
    other = make_case(worker_name="黄秀云", worker_id_number=household.id_number)
    client = login("clerk_450102")
    assert "与登记的姓名不同" not in client.get(f"/services/cases/{same.pk}/").content.decode()
    page = client.get(f"/services/cases/{other.pk}/").content.decode()
    assert "档案的职工姓名为“黄秀英”，与登记的姓名不同" in page


@pytest.fixture
def other_county_file(users, orgs, household):
    """A file of county 450103 (青秀区): county 450102's staff cannot see it."""
    file = Household(
        organisation=orgs["450103"],
        worker_name="王伟建",
        id_number=id_number(born=timezone.localdate().replace(year=1970, month=2, day=3)),
        primary_cause=Cause.objects.get(code="illness"),
        is_migrant_worker=True,
        is_union_member=True,
        labour_relation_since=date(2015, 3, 1),
    )
    worker = MemberData(relation="self", name="", monthly_income=Decimal("600.00"))
    return household_services.household_create(
        user=users["clerk_450103"], household=file, members=[worker]
    )


def test_a_region_user_cannot_link_a_county_case_to_another_countys_file(
    login, make_case, users, other_county_file
):
    """The file must lie in the case organisation's subtree, not merely in the saver's."""
    case = make_case(
        by="admin_450000", org="450102", worker_name="张三", handler=users["clerk_450102"],
        worker_id_number=other_county_file.id_number,
    )  # fmt: skip
    assert case.household is None
    page = login("clerk_450102").get(f"/services/cases/{case.pk}/").content.decode()
    assert other_county_file.file_number not in page
    assert "王伟建" not in page


def test_a_base_union_case_does_not_link_its_countys_file(make_case, household):
    """A base union sees its own subtree: the county's file above it is not its to link."""
    case = make_case(org="450102001", worker_id_number=household.id_number)
    assert case.household is None


def test_moving_a_case_out_of_the_files_subtree_unlinks_it(make_case, household, users, orgs):
    case = make_case(worker_id_number=household.id_number)
    assert case.household == household
    case.organisation = orgs["450102001"]
    case_update(user=users["clerk_450102"], case=case)
    case.refresh_from_db()
    assert case.household is None


def test_a_link_the_reader_cannot_see_is_not_shown(login, make_case, other_county_file):
    """A link made before the rule (or by any other way) says nothing to a reader who cannot
    see the file: no number, no name, no migrant flag, no link; a reader who can still sees it."""
    case = make_case(
        window="legal_aid", worker_name="张三", worker_id_number=other_county_file.id_number
    )
    Case.objects.filter(pk=case.pk).update(household=other_county_file)
    client = login("clerk_450102")
    page = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert other_county_file.file_number not in page
    assert "王伟建" not in page
    assert f"/households/{other_county_file.pk}/" not in page
    form = client.get(f"/services/cases/{case.pk}/legal-aid/").context["form"]
    assert form["is_migrant_worker"].value() is False
    region = login("supervisor_450000").get(f"/services/cases/{case.pk}/").content.decode()
    assert other_county_file.file_number in region


def test_an_edit_by_county_staff_drops_a_link_outside_the_case_subtree(
    make_case, users, other_county_file
):
    case = make_case(worker_name="张三", worker_id_number=other_county_file.id_number)
    Case.objects.filter(pk=case.pk).update(household=other_county_file)
    case.refresh_from_db()
    case.matter = "再次来访"
    case_update(user=users["clerk_450102"], case=case)
    case.refresh_from_db()
    assert case.household is None


def test_the_file_page_timeline_shows_the_service_centres_steps(login, make_case, household, users):
    """The selector above was written for the file's timeline and never reached it: the file
    page showed the money paid but not the help given at the counter."""
    from services.services import case_close, case_refer

    case = make_case(window="legal_aid", worker_id_number=household.id_number, matter="工资被拖欠")
    case_refer(user=users["clerk_450102"], case=case, referred_to="劳动监察大队", note="转劳动监察")
    case_close(user=users["clerk_450102"], case=case, outcome="已追回工资")
    make_case(worker_name="黄秀英", matter="同名不同人")  # no ID number: not this worker

    page = login("supervisor_450102").get(f"/households/{household.pk}/").content.decode()
    timeline = page.split('id="timeline"')[1]
    for expected in ("服务中心登记", "工资被拖欠", "服务中心转办", "转劳动监察", "服务中心办结"):
        assert expected in timeline, expected
    assert f"/services/cases/{case.pk}/" in timeline
    assert "同名不同人" not in timeline
    # Newest first: the closing above the referral above the logging.
    assert (
        timeline.index("服务中心办结")
        < timeline.index("服务中心转办")
        < timeline.index("服务中心登记")
    )


def test_the_service_steps_follow_the_readers_scope_and_rights(make_case, household, users):
    from households.timeline import timeline_for

    make_case(worker_id_number=household.id_number, matter="求助")

    def services_entries(username):
        entries = timeline_for(household, users[username])
        return [entry for entry in entries if entry["app"] == "services"]

    assert services_entries("clerk_450102") and services_entries("viewer_450100")
    # The region's case staff see them too; another county's files are out of reach anyway.
    assert services_entries("supervisor_450000")
    # A case the reader cannot open is not on the file: a base union's clerk reads only its own.
    assert services_entries("clerk_450103") == []


def test_the_steps_read_as_done_in_english_and_the_closing_says_the_outcome(
    login, make_case, household, users
):
    """A case's history and the file's timeline tell what was done: in English the steps
    read Referred, Followed up, Closed, Reopened (the buttons' Refer, Close, Reopen are
    what to do), and the closing step says the outcome it recorded."""
    from services.services import case_close, case_follow_up, case_refer, case_reopen

    clerk = users["clerk_450102"]
    case = make_case(window="legal_aid", worker_id_number=household.id_number, matter="工资被拖欠")
    case_refer(user=clerk, case=case, referred_to="劳动监察大队", note="转劳动监察")
    case_follow_up(user=clerk, case=case, note="已电话回访")
    case_close(user=clerk, case=case, outcome="已追回工资")
    case_reopen(user=clerk, case=case, reason="工资又被拖欠")

    client = login("supervisor_450102")
    client.cookies["django_language"] = "en"
    timeline = client.get(f"/households/{household.pk}/").content.decode()
    timeline = timeline.split('id="timeline"')[1]
    history = client.get(f"/services/cases/{case.pk}/").content.decode()
    for done in ("Logged", "Referred", "Followed up", "Closed", "Reopened"):
        assert f"<strong>{done}</strong>" in history, done
        assert f"Service centre: {done} (Legal aid)" in timeline, done
    assert "已追回工资" in timeline.split("Service centre: Closed")[1].split("</li>")[0]
    assert ">Close</a>" in history  # the reopened case's button still says what to do
