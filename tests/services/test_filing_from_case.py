"""为其建档 (DOMAIN.md "随时发现随时建档"): a service-centre case whose worker has no household file
offers to start one. The entry form takes the worker's name, ID number and phone from the case
(read on the server, in the user's scope), and the saved file is linked to the case, with an
event saying who and when; a worker who already has a file in scope is sent to it (已有档案)."""

import pytest
from django.urls import reverse

from households.models import Household
from orgs.models import AccessLog
from services.models import Case, CaseEvent
from services.services import case_update
from tests.households.conftest import dibao, make_household, new_id  # noqa: F401 - fixtures
from tests.households.test_pages_forms import form_data

pytestmark = pytest.mark.django_db

CREATE = reverse("households:create")
OFFER = "为其建档"


def start_url(case) -> str:
    return f"{CREATE}?case={case.pk}"


def case_page(client, case) -> str:
    return client.get(reverse("services:case_detail", args=[case.pk])).content.decode()


def test_a_case_without_a_file_offers_to_start_one_to_who_may(make_case, login):
    case = make_case(worker_name="韦小宝", worker_phone="13912345678", worker_id_number=new_id())
    page = case_page(login("clerk_450102"), case)
    assert OFFER in page
    assert f'href="{start_url(case)}"' in page
    # A supervisor reads cases but does not start files.
    assert OFFER not in case_page(login("supervisor_450102"), case)


def test_the_entry_form_is_filled_from_the_case_and_logged(make_case, login, orgs, dibao):  # noqa: F811
    number = new_id()
    case = make_case(
        org="450102001", worker_name="韦小宝", worker_phone="13912345678", worker_id_number=number
    )
    response = login("clerk_450102").get(start_url(case))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["worker_name"].value() == "韦小宝"
    assert form["phone"].value() == "13912345678"
    assert form["id_number"].value() == number
    # The case's base union is the file's; the county (the clerk's) files it.
    assert form["base_union"].value() == orgs["450102001"].pk
    assert form["organisation"].value() == orgs["450102"].pk
    assert AccessLog.objects.filter(
        action=AccessLog.Action.REVEAL, target=f"services.Case:{case.pk}", detail="filing"
    ).exists()


def test_another_countys_case_is_not_found(make_case, login, dibao):  # noqa: F811
    case = make_case(worker_id_number=new_id())
    client = login("clerk_450103")
    assert client.get(start_url(case)).status_code == 404
    assert client.post(start_url(case), {}).status_code == 404
    assert login("clerk_450102").get(f"{CREATE}?case=x").status_code == 404


def test_saving_links_the_case_with_who_and_when(make_case, login, orgs, users, dibao):  # noqa: F811
    case = make_case(org="450102001", worker_name="韦小宝", worker_phone="13912345678")
    data = form_data(orgs, worker_name="韦小宝", phone="13912345678")
    response = login("clerk_450102").post(start_url(case), data)
    household = Household.objects.get()
    assert response["Location"] == reverse("households:detail", args=[household.pk])
    case.refresh_from_db()
    assert case.household == household
    event = case.events.get(action=CaseEvent.Action.LINKED)
    assert event.actor == users["clerk_450102"]
    assert event.note == household.file_number
    assert event.from_status == event.to_status == Case.Status.OPEN
    # The case page now shows the file and offers no second one.
    page = case_page(login("clerk_450102"), case)
    assert household.file_number in page and OFFER not in page
    # An edit of the case (still without an ID number) keeps the link.
    case_update(user=users["clerk_450102"], case=case)
    case.refresh_from_db()
    assert case.household == household


def test_a_file_outside_the_cases_organisation_is_refused_and_nothing_saved(
    make_case,
    login,
    orgs,
    dibao,  # noqa: F811
):
    case = make_case(org="450102001", worker_name="韦小宝")
    data = form_data(orgs, worker_name="韦小宝", base_union=orgs["450102002"].pk)
    response = login("clerk_450102").post(start_url(case), data)
    assert response.status_code == 200
    assert "base_union" in response.context["form"].errors
    assert not Household.objects.exists()
    case.refresh_from_db()
    assert case.household is None
    assert not case.events.filter(action=CaseEvent.Action.LINKED).exists()


def test_a_worker_with_a_file_in_scope_is_sent_to_it(make_case, make_household, login, orgs):  # noqa: F811
    household = make_household(worker_name="韦小宝")
    # Logged before the file existed: not linked, yet the worker has a file now.
    case = make_case(worker_name="韦小宝", worker_id_number=new_id())
    Case.objects.filter(pk=case.pk).update(
        worker_id_number=household.id_number, worker_id_hash="", worker_id_masked=""
    )
    case.refresh_from_db()
    page = case_page(login("clerk_450102"), case)
    assert "已有档案" in page and OFFER not in page
    assert reverse("households:detail", args=[household.pk]) in page
    client = login("clerk_450102")
    response = client.get(start_url(case))
    assert response["Location"] == reverse("households:detail", args=[household.pk])
    response = client.post(start_url(case), form_data(orgs, id_number=household.id_number))
    assert response["Location"] == reverse("households:detail", args=[household.pk])
    assert Household.objects.count() == 1
    # Another county's file of the same person is not theirs to open: the offer stands.
    other = make_case(by="clerk_450103", org="450103", worker_id_number=household.id_number)
    assert OFFER in case_page(login("clerk_450103"), other)


def test_the_english_case_page_names_the_one_file(make_case, login):
    """The case's row for its worker's file names one file (the menu's Household files is the
    list of them all)."""
    case = make_case(worker_name="韦小宝", worker_id_number=new_id())
    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    page = case_page(client, case)
    assert "<dt>Household file</dt>" in page
    assert "<dt>Household files</dt>" not in page
