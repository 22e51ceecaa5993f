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
