"""The requests' admin finds a household's requests by the worker's or a member's ID number,
searched by its keyed hash: the number never stands in a URL (config/admin.py)."""

from django.urls import reverse

from orgs.pii import keyed_hash, mask
from tests.id_search import assert_number_in_no_url

REQUESTS = reverse("admin:funds_assistancerequest_changelist")


def test_a_workers_and_a_members_number_find_the_households_requests(login, filed, ask):
    household = filed()
    other = filed(worker_name="李大海")
    request = ask(household, "1000.00")
    ask(other, "500.00")
    member = household.members.exclude(relation="self").get()
    client = login("supervisor_450102")
    for number in (household.id_number, member.id_number):
        response = client.post(REQUESTS, {"q": number}, follow=True)
        assert list(response.context["cl"].result_list) == [request]
        assert response.redirect_chain == [(f"{REQUESTS}?idh={keyed_hash(number)}", 303)]
        assert_number_in_no_url(response, number)
        assert f'value="{mask(number)}" id="searchbar"' in response.content.decode()


def test_the_search_reads_the_requests_without_a_correlated_subquery(login, filed, ask):
    """Files first (two indexed look-ups, as the household list), then their requests: an OR
    with an EXISTS over the members made PostgreSQL read every request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    household = filed()
    ask(household, "1000.00")
    client = login("supervisor_450102")
    url = f"{REQUESTS}?idh={keyed_hash(household.id_number)}"
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    listed = [q["sql"] for q in queries if 'FROM "funds_assistancerequest"' in q["sql"]]
    assert listed and not any("EXISTS" in sql for sql in listed)
