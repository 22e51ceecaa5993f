"""The funds pages take ID numbers without putting them, or what the request form holds, in a
URL (orgs/idsearch.py): the request list's box and the 申请帮扶 file search are posted and
answered with the list by the number's keyed hash `idh`, the box shows the masked number; the
request form's standard panel is posted with the form."""

import pytest
from django.urls import reverse
from django.utils import timezone

from funds.views import RequestListView
from orgs.pii import keyed_hash, mask
from tests.households.conftest import new_id
from tests.id_search import assert_number_in_no_url, csrf_checked_search, urls_of

REQUESTS = reverse("funds:request_list")
PICK = reverse("funds:household_pick")


def listed(response) -> list:
    return sorted(response.context["object_list"], key=lambda request: request.pk)


@pytest.fixture
def files(filed, ask):
    """Two files of county 450102 with a request each (张小明's with two), and one of 450103."""
    zhang = filed()
    li = filed(worker_name="李大海")
    other = filed(worker_name="外县", org="450103")
    return {
        "zhang": zhang,
        "li": li,
        "other": other,
        "zhang_requests": [ask(zhang, "500.00", kind="living"), ask(zhang, "800.00")],
        "li_requests": [ask(li, "300.00")],
        "other_requests": [ask(other, "200.00")],
    }


def spouse(household):
    return household.members.exclude(relation="self").get()


# --- The request list ---------------------------------------------------------------------------


def test_a_workers_or_a_members_number_finds_the_files_requests_by_its_hash(login, files):
    client = login("clerk_450102")
    for number in (files["zhang"].id_number, spouse(files["zhang"]).id_number):
        response = client.post(REQUESTS, {"q": f" {number[:6]} {number[6:]} "}, follow=True)
        assert listed(response) == files["zhang_requests"]
        assert response.redirect_chain == [(f"{REQUESTS}?idh={keyed_hash(number)}", 303)]
        assert_number_in_no_url(response, number)
        page = response.content.decode()
        assert number not in page
        assert f'value="{mask(number)}"' in page  # the box shows what was searched
        assert f'name="idh" value="{keyed_hash(number)}"' in page


def test_the_list_form_is_posted_with_the_csrf_token(users, files):
    number = files["li"].id_number
    response = csrf_checked_search(
        users["supervisor_450102"], REQUESTS, number, form_id='<form method="post" class="toolbar'
    )
    assert listed(response) == files["li_requests"]
    assert_number_in_no_url(response, number)


def test_an_unknown_or_another_countys_number_finds_nothing(login, files):
    client = login("clerk_450102")
    unknown = new_id(1990)
    response = client.post(REQUESTS, {"q": unknown}, follow=True)
    assert listed(response) == []
    assert f'value="{mask(unknown)}"' in response.content.decode()
    assert_number_in_no_url(response, unknown)
    number = files["other"].id_number
    assert listed(client.post(REQUESTS, {"q": number}, follow=True)) == []  # out of scope
    response = login("clerk_450103").post(REQUESTS, {"q": number}, follow=True)
    assert listed(response) == files["other_requests"]


def test_an_id_number_in_an_old_address_is_redirected(login, files):
    number = files["zhang"].id_number
    response = login("clerk_450102").get(REQUESTS, {"q": number, "state": "requested"}, follow=True)
    key = keyed_hash(number)
    assert response.redirect_chain == [(f"{REQUESTS}?state=requested&idh={key}", 303)]
    assert listed(response) == files["zhang_requests"]
    assert_number_in_no_url(response, number)


def test_paging_and_filters_keep_the_hash(login, files, monkeypatch):
    monkeypatch.setattr(RequestListView, "paginate_by", 1)
    client = login("clerk_450102")
    number = files["zhang"].id_number
    key = keyed_hash(number)
    response = client.post(REQUESTS, {"q": number}, follow=True)
    assert response.context["page_obj"].has_next
    next_links = [url for url in urls_of(response) if "page=2" in url]
    assert next_links and all(f"idh={key}" in url for url in next_links)
    second = client.get(REQUESTS + next_links[0])
    assert [*response.context["object_list"], *second.context["object_list"]] == sorted(
        files["zhang_requests"], key=lambda r: (r.requested_on, r.pk), reverse=True
    )
    # A filter changed beside the box, which still shows the masked number: the hash stays.
    living = files["zhang_requests"][0].assistance_type.code
    form = {"q": mask(number), "idh": key, "assistance_type": living, "page": "2"}
    response = client.post(REQUESTS, form, follow=True)
    assert response.redirect_chain == [(f"{REQUESTS}?idh={key}&assistance_type={living}", 303)]
    assert listed(response) == files["zhang_requests"][:1]
    # Another text typed over it: a text search, the hash gone.
    response = client.post(REQUESTS, {"q": "李", "idh": key}, follow=True)
    assert response.redirect_chain == [(f"{REQUESTS}?q=%E6%9D%8E", 303)]
    assert listed(response) == files["li_requests"]


@pytest.mark.parametrize("value", ["", "nonsense", "g" * 64, "A" * 64, "0" * 65, "' OR 1=1 --"])
def test_a_bogus_hash_matches_nothing(login, files, value):
    response = login("clerk_450102").get(REQUESTS, {"idh": value})
    assert response.status_code == 200
    assert listed(response) == []


def test_names_and_file_numbers_still_go_by_the_text(login, files):
    client = login("clerk_450102")
    response = client.post(REQUESTS, {"q": "李大"}, follow=True)
    assert response.redirect_chain == [(f"{REQUESTS}?q=%E6%9D%8E%E5%A4%A7", 303)]
    assert listed(response) == files["li_requests"]
    file_number = files["zhang"].file_number
    response = client.post(REQUESTS, {"q": file_number}, follow=True)
    assert listed(response) == files["zhang_requests"]
    assert listed(client.get(REQUESTS, {"q": "张小"})) == files["zhang_requests"]


def test_searching_is_no_write_for_the_report_replica(login, files):
    from reports.routing import LAST_WRITE_KEY

    client = login("clerk_450102")
    client.post(REQUESTS, {"q": files["zhang"].id_number})
    client.post(PICK, {"q": files["zhang"].id_number})
    assert LAST_WRITE_KEY not in client.session


# --- The 申请帮扶 file search -----------------------------------------------------------------


def found(response) -> list:
    return response.context["households"]


def test_the_pick_finds_the_file_by_a_workers_or_a_members_number(login, files):
    client = login("clerk_450102")
    for number in (files["li"].id_number, spouse(files["li"]).id_number):
        response = client.post(PICK, {"q": number}, follow=True)
        assert found(response) == [files["li"]]
        assert response.redirect_chain == [(f"{PICK}?idh={keyed_hash(number)}", 303)]
        assert_number_in_no_url(response, number)
        page = response.content.decode()
        assert number not in page and f'value="{mask(number)}"' in page
        assert reverse("funds:request_create", args=[files["li"].pk]) in page


def test_the_pick_form_is_posted_with_the_csrf_token(users, files):
    number = files["zhang"].id_number
    response = csrf_checked_search(
        users["clerk_450102"], PICK, number, form_id='<form method="post" class="toolbar'
    )
    assert found(response) == [files["zhang"]]
    assert_number_in_no_url(response, number)


def test_the_pick_finds_no_file_out_of_scope_or_not_supported(login, files, make_household):
    client = login("clerk_450102")
    for number in (files["other"].id_number, new_id(1990)):
        response = client.post(PICK, {"q": number}, follow=True)
        assert found(response) == []
        assert "没有找到在档或解困的档案" in response.content.decode()
        assert_number_in_no_url(response, number)
    draft = make_household(worker_name="草稿")  # not on file: no assistance before filing
    assert found(client.post(PICK, {"q": draft.id_number}, follow=True)) == []


def test_the_pick_by_an_old_address_a_bogus_hash_and_by_text(login, files):
    client = login("clerk_450102")
    number = files["zhang"].id_number
    response = client.get(PICK, {"q": number}, follow=True)
    assert response.redirect_chain == [(f"{PICK}?idh={keyed_hash(number)}", 303)]
    assert found(response) == [files["zhang"]]
    for value in ("", "nonsense", "0" * 64):
        response = client.get(PICK, {"idh": value})
        assert found(response) == []
        assert "没有找到在档或解困的档案" in response.content.decode()
    response = client.post(PICK, {"q": "李大"}, follow=True)
    assert response.redirect_chain == [(f"{PICK}?q=%E6%9D%8E%E5%A4%A7", 303)]
    assert found(response) == [files["li"]]
    assert found(client.get(PICK, {"q": files["zhang"].file_number})) == [files["zhang"]]
    assert found(client.get(PICK)) is None  # nothing searched yet: no table
    assert "没有找到" not in client.get(PICK).content.decode()


# --- The request form's standard panel ----------------------------------------------------------


def test_the_panel_is_posted_with_the_form_and_refused_by_get(login, files, types):
    household = files["zhang"]
    client = login("clerk_450102")
    url = reverse("funds:request_standard", args=[household.pk])
    page = client.get(reverse("funds:request_create", args=[household.pk])).content.decode()
    form = page[page.index('<form method="post" class="card"') :]
    form_tag = form[: form.index(">")]
    assert f'hx-post="{url}"' in form_tag and "hx-get" not in form_tag
    assert "hx-params" not in form_tag  # the CSRF token goes with it
    assert 'name="csrfmiddlewaretoken"' in form
    typed = {
        "assistance_type": types["living"].pk,
        "requested_on": timezone.localdate().isoformat(),
        "reason": "患尿毒症，每周透析三次",
    }
    response = client.post(url, typed, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["panel"]["assistance_type"] == types["living"]
    refused = client.get(url, typed)
    assert refused.status_code == 405
    assert "panel" not in (refused.context or {})


def test_the_panel_is_no_write_for_the_report_replica(login, files, types):
    from reports.routing import LAST_WRITE_KEY

    client = login("clerk_450102")
    url = reverse("funds:request_standard", args=[files["zhang"].pk])
    assert client.post(url, {"assistance_type": types["living"].pk}).status_code == 200
    assert LAST_WRITE_KEY not in client.session


def test_the_panel_takes_the_csrf_token_of_the_form(users, files, types):
    from django.test import Client

    household = files["zhang"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["clerk_450102"])
    url = reverse("funds:request_standard", args=[household.pk])
    assert client.post(url, {"assistance_type": types["living"].pk}).status_code == 403
    page = client.get(reverse("funds:request_create", args=[household.pk])).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        url, {"csrfmiddlewaretoken": token, "assistance_type": types["living"].pk}
    )
    assert response.status_code == 200
