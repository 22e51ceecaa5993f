"""The 职工 box of the service centre's lists and the quick-entry hint take ID numbers without
putting them in a URL (orgs/idsearch.py): the box is posted, the list's address carries the
keyed hash `idh`, and the box shows the masked number."""

from datetime import date

import pytest

from orgs.pii import keyed_hash, mask
from services.models import JobReferral, LegalAidCase
from tests.id_search import assert_number_in_no_url, urls_of
from tests.services.conftest import id_number

pytestmark = pytest.mark.django_db

CASES, LEGAL_AID, REFERRALS = "/services/", "/services/legal-aid/", "/services/referrals/"


def names(response) -> list[str]:
    listed = response.context["object_list"]
    return sorted(
        row.case.worker_name if isinstance(row, LegalAidCase) else row.worker_name for row in listed
    )


@pytest.fixture
def people(make_case, users, orgs):
    """Three workers with cases (one with a legal-aid record, one referred to a job) in county
    450102, and one in county 450103."""
    numbers = {"王芳": id_number(), "李强": id_number(), "外县": id_number(area="450103")}
    wang = make_case(worker_name="王芳", worker_id_number=numbers["王芳"], window="legal_aid")
    make_case(worker_name="王芳", worker_id_number=numbers["王芳"], matter="再次来访")
    make_case(worker_name="李强", worker_id_number=numbers["李强"].lower())
    make_case(worker_name="无证件")
    make_case(worker_name="外县", worker_id_number=numbers["外县"], by="clerk_450103", org="450103")
    LegalAidCase.objects.create(case=wang, dispute_type="wage_arrears")
    for name in ("王芳", "李强"):
        referral = JobReferral(
            organisation=orgs["450102"],
            worker_name=name,
            worker_id_number=numbers[name],
            employer="某厂",
            position="焊工",
            created_by=users["clerk_450102"],
        )
        referral.normalise_worker()
        referral.save()
    return numbers


@pytest.mark.parametrize(
    ("url", "expected"),
    [(CASES, ["王芳", "王芳"]), (LEGAL_AID, ["王芳"]), (REFERRALS, ["王芳"])],
)
def test_an_id_number_typed_in_the_box_is_searched_by_its_hash(login, people, url, expected):
    number = people["王芳"]
    response = login("clerk_450102").post(url, {"q": f" {number[:6]} {number[6:]} "}, follow=True)
    assert names(response) == expected
    assert response.redirect_chain == [(f"{url}?idh={keyed_hash(number)}", 303)]
    assert_number_in_no_url(response, number)
    page = response.content.decode()
    assert number not in page
    assert f'value="{mask(number)}"' in page  # the box shows what was searched


def test_the_filter_form_is_posted_only_where_the_box_takes_id_numbers(login, people):
    client = login("clerk_450102")
    for url in (CASES, LEGAL_AID, REFERRALS):
        page = client.get(url).content.decode()
        assert '<form method="post" class="toolbar filters card"' in page
        assert 'name="csrfmiddlewaretoken"' in page
    courses = client.get("/services/trainings/").content.decode()
    assert '<form method="get" class="toolbar filters card"' in courses  # names only


def test_a_lower_case_x_and_another_countys_number(login, people):
    client = login("clerk_450102")
    response = client.post(CASES, {"q": people["李强"].lower()}, follow=True)
    assert names(response) == ["李强"]
    response = client.post(CASES, {"q": people["外县"]}, follow=True)
    assert names(response) == []  # not in the clerk's scope
    response = login("clerk_450103").post(CASES, {"q": people["外县"]}, follow=True)
    assert names(response) == ["外县"]  # in that county's


def test_an_unknown_number_finds_nothing_and_shows_its_mask(login, people):
    number = id_number(born=date(1990, 1, 1))
    response = login("clerk_450102").post(CASES, {"q": number}, follow=True)
    assert names(response) == []
    assert f'value="{mask(number)}"' in response.content.decode()
    assert_number_in_no_url(response, number)


def test_an_id_number_in_an_old_address_is_redirected(login, people):
    number = people["王芳"]
    response = login("clerk_450102").get(CASES, {"q": number, "channel": "visit"}, follow=True)
    assert names(response) == ["王芳", "王芳"]
    assert response.redirect_chain == [(f"{CASES}?channel=visit&idh={keyed_hash(number)}", 303)]
    assert_number_in_no_url(response, number)


def test_paging_and_filters_keep_the_hash(login, make_case, people):
    number = people["王芳"]
    for n in range(55):  # more than a page (50) of the same worker
        make_case(worker_name="王芳", worker_id_number=number, matter=f"第{n}次")
    client = login("clerk_450102")
    response = client.post(CASES, {"q": number}, follow=True)
    key = keyed_hash(number)
    assert response.context["page_obj"].has_next
    next_links = [url for url in urls_of(response) if "page=2" in url]
    assert next_links and all(f"idh={key}" in url for url in next_links)
    second = client.get(CASES + next_links[0])
    assert len(second.context["object_list"]) == 57 - 50
    # A filter changed below the box, which still shows the masked number: the hash stays.
    response = client.post(CASES, {"q": mask(number), "idh": key, "status": "open"}, follow=True)
    assert response.redirect_chain == [(f"{CASES}?idh={key}&status=open", 303)]
    assert {c.worker_name for c in response.context["object_list"]} == {"王芳"}


@pytest.mark.parametrize("value", ["", "nonsense", "G" * 64, "0" * 65])
def test_a_bogus_hash_matches_nothing(login, people, value):
    for url in (CASES, LEGAL_AID, REFERRALS):
        response = login("clerk_450102").get(url, {"idh": value})
        assert response.status_code == 200
        assert names(response) == []


def test_names_and_phones_still_go_by_the_text(login, people):
    client = login("clerk_450102")
    assert names(client.get(CASES, {"q": "李"})) == ["李强"]
    response = client.post(CASES, {"q": "王芳"}, follow=True)
    assert response.redirect_chain == [(f"{CASES}?q=%E7%8E%8B%E8%8A%B3", 303)]
    assert names(response) == ["王芳", "王芳"]


# --- The quick-entry hint ---------------------------------------------------------------------


def test_the_hint_finds_earlier_cases_by_a_posted_id_number(login, people):
    response = login("clerk_450102").post(
        "/services/earlier/", {"worker_id_number": people["王芳"]}, HTTP_HX_REQUEST="true"
    )
    assert response.context["earlier"]["total"] == 2
    assert "身份证号码相同" in response.content.decode()
    assert people["王芳"] not in response.content.decode()
