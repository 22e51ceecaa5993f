"""The admin's search box keeps ID numbers out of URLs: it is posted (templates/admin/
search_form.html), and the changelist answers with a redirect to the list by `q`, or by the
number's keyed hash `idh` (config/admin.py, orgs/idsearch.py); the box then shows the masked
number. Actions and list_editable still post to the changelist as before."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from orgs.idsearch import NOT_SEARCHABLE
from orgs.models import Holiday, User
from orgs.pii import keyed_hash, mask
from services.models import JobReferral, LegalAidCase
from tests.households.conftest import dibao, make_household, new_id  # noqa: F401
from tests.id_search import assert_number_in_no_url, csrf_checked_search, urls_of
from tests.services.conftest import id_number, make_case, windows  # noqa: F401

HOUSEHOLDS = reverse("admin:households_household_changelist")
REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def search(client, url, text, **fields):
    return client.post(url, {"q": text, **fields}, follow=True)


def results(response) -> list:
    return list(response.context["cl"].result_list)


def searchbar(response) -> str:
    return re.search(
        r'<input [^>]*name="q" value="([^"]*)" id="searchbar"', response.content.decode()
    )[1]


@pytest.fixture
def files(make_household):  # noqa: F811
    first = make_household()
    second = make_household(worker_name="李大海", id_number=new_id(1971))
    return first, second, second.members.exclude(relation="self").get()


def test_a_workers_and_a_members_number_find_the_file_by_hash(login, files):
    first, second, member = files
    client = login("supervisor_450102")
    for number, masked, expected in [
        (first.id_number, first.id_masked, [first]),
        (member.id_number, member.id_masked, [second]),
    ]:
        response = search(client, HOUSEHOLDS, number.lower())
        assert results(response) == expected
        assert response.redirect_chain == [(f"{HOUSEHOLDS}?idh={keyed_hash(number)}", 303)]
        assert_number_in_no_url(response, number)
        assert number not in response.content.decode()
        assert searchbar(response) == masked


def test_the_search_form_is_posted_with_the_csrf_token(users, files):
    first, _second, _member = files
    form_id = '<form id="changelist-search" method="post"'
    response = csrf_checked_search(
        users["supervisor_450102"], HOUSEHOLDS, first.id_number, form_id=form_id
    )
    assert results(response) == [first]
    assert_number_in_no_url(response, first.id_number)


def test_names_and_file_numbers_still_go_by_the_text(login, files):
    first, second, _member = files
    client = login("supervisor_450102")
    response = search(client, HOUSEHOLDS, "李大")
    assert results(response) == [second]
    assert response.redirect_chain == [(f"{HOUSEHOLDS}?q=%E6%9D%8E%E5%A4%A7", 303)]
    assert searchbar(response) == "李大"
    assert results(client.get(HOUSEHOLDS, {"q": first.file_number})) == [first]  # a plain GET


def test_an_id_number_in_an_old_address_is_redirected_to_its_hash(login, files):
    first, _second, _member = files
    response = login("supervisor_450102").get(
        HOUSEHOLDS, {"q": first.id_number, "status__exact": "draft"}, follow=True
    )
    key = keyed_hash(first.id_number)
    assert response.redirect_chain == [(f"{HOUSEHOLDS}?status__exact=draft&idh={key}", 303)]
    assert results(response) == [first]
    assert_number_in_no_url(response, first.id_number)


def test_sorting_filters_and_pages_keep_the_hash(login, files):
    first, _second, _member = files
    client = login("supervisor_450102")
    key = keyed_hash(first.id_number)
    search(client, HOUSEHOLDS, first.id_number)
    response = client.get(HOUSEHOLDS, {"idh": key})
    assert response.context["cl"].get_query_string({"p": 2}) == f"?idh={key}&p=2"
    # Sort headers, filters, facets; only "show all" (`?`) leaves the search.
    links = [url for url in urls_of(response) if url.startswith("?") and url != "?"]
    assert any("o=1" in url for url in links) and any("status__exact=" in url for url in links)
    assert all(f"idh={key}" in url for url in links)
    # The box still shows the masked number (and the form the hash): searching again keeps it,
    # with a filter chosen meanwhile.
    page = response.content.decode()
    assert f'<input type="hidden" name="idh" value="{key}">' in page
    response = search(client, HOUSEHOLDS, first.id_masked, idh=key, status__exact="draft")
    assert response.redirect_chain == [(f"{HOUSEHOLDS}?idh={key}&status__exact=draft", 303)]
    assert results(response) == [first]


@pytest.mark.parametrize("value", ["", "nonsense", "F" * 64, "0" * 65])
def test_a_bogus_hash_matches_nothing(login, files, value):
    response = login("supervisor_450102").get(HOUSEHOLDS, {"idh": value})
    assert response.status_code == 200
    assert results(response) == []


def test_the_service_centres_records_are_found_by_the_workers_number(
    login,
    make_case,  # noqa: F811
    orgs,
    users,
):
    number = id_number()
    case = make_case(worker_name="王芳", worker_id_number=number, window="legal_aid")
    make_case(worker_name="王芳")  # the same name without the number
    legal = LegalAidCase.objects.create(case=case, dispute_type="wage_arrears")
    referral = JobReferral(
        organisation=orgs["450102"],
        worker_name="王芳",
        worker_id_number=number,
        employer="某厂",
        position="焊工",
        created_by=users["clerk_450102"],
    )
    referral.normalise_worker()
    referral.save()
    client = login("supervisor_450102")
    for model, expected in [(type(case), case), (LegalAidCase, legal), (JobReferral, referral)]:
        response = search(client, changelist(model), number)
        assert results(response) == [expected], model
        assert_number_in_no_url(response, number)
        assert searchbar(response) == mask(number)


def test_a_list_without_id_numbers_says_so_and_finds_nothing(login, files):
    first, _second, _member = files
    url = reverse("admin:orgs_organisation_changelist")
    response = search(login("admin_450102"), url, first.id_number)
    assert results(response) == []
    assert str(NOT_SEARCHABLE) in [str(m) for m in response.context["messages"]]
    assert_number_in_no_url(response, first.id_number)


def test_a_search_post_needs_the_view_permission(login, files):
    """finance staff do not see closure requests: the posted search is refused as the list is,
    and nothing is kept for it."""
    first, _second, _member = files
    client = login("finance_450102")
    url = reverse("admin:households_closurerequest_changelist")
    assert client.post(url, {"q": first.id_number}).status_code == 403
    assert client.get(url, {"q": first.id_number}).status_code == 403
    assert "id_searches" not in client.session


@pytest.fixture
def root(client, db):
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_every_admin_answers_a_hash_without_a_500(root, model, model_admin):
    url = changelist(model)
    for value in ("nonsense", keyed_hash(new_id())):
        response = root.get(url, {"idh": value})
        assert response.status_code == 200, value
        assert response.context["cl"].result_count == 0, value


def test_actions_and_list_editable_still_post_to_the_changelist(root, orgs):
    holiday = Holiday.objects.create(date="2030-10-01", name="国庆节")
    url = changelist(Holiday)
    # An action chosen with a search text in the post: Django's confirmation page, no redirect.
    response = root.post(
        url, {"action": "delete_selected", "_selected_action": [holiday.pk], "index": 0, "q": "x"}
    )
    assert response.status_code == 200
    assert "admin/delete_selected_confirmation.html" in response.template_name
    # list_editable's save (the windows' names and order) is Django's too.
    response = root.post(reverse("admin:services_window_changelist"), {"_save": "1", "q": ""})
    assert response.status_code != 303
