"""Upper-level unions read aggregates and masked lists, never another organisation's full numbers:
every door to a full ID or bank number is shut for the viewer, the exports it may take are
masked, and another city's viewer cannot even name county A's organisation. (The matrix already
searches every page a viewer may open for full numbers; these are the doors meant for them.)"""

import pytest
from django.urls import reverse
from django.utils import timezone

from households.models import Household
from orgs.models import AccessLog
from tests.security.test_matrix import body_text

pytestmark = pytest.mark.django_db
VIEWER = "viewer_450100"


def roster(client, *, org="450102", fmt="xlsx", full=False):
    query = {"org": org, "on": timezone.localdate().isoformat(), "format": fmt}
    if full:
        query["full_numbers"] = "on"
    return client.get(reverse("reports:roster"), query)


def test_the_roster_is_masked_for_the_viewer_and_full_numbers_are_refused(world):
    client = world["clients"](VIEWER)
    masked = roster(client)
    assert masked.status_code == 200
    text = body_text(masked)
    on_file = Household.objects.get(pk=world["on_file"])
    assert on_file.id_masked in text
    assert not [n for n in world["full_numbers"] if n in text]
    assert roster(client, full=True).status_code == 403
    assert roster(client, fmt="pdf", full=True).status_code == 403
    # the same request by a role that may see them does get them (the test can fail)
    full = roster(world["clients"]("supervisor_450102"), full=True)
    assert on_file.id_number in body_text(full)


@pytest.mark.parametrize(
    ("name", "method", "target"),
    [
        ("households:reveal", "post", "on_file"),  # 显示完整号码 of a file
        ("services:case_detail", "post", "case"),  # … of a case
        ("households:document_download", "get", "document"),  # a scan of an ID card
        ("funds:batch_download", "get", "batch"),  # the bank file: names, IDs, accounts
    ],
)
def test_every_door_to_full_numbers_is_shut_for_the_viewer(world, name, method, target):
    url = reverse(name, args=[world[target]])
    before = AccessLog.objects.count()
    response = getattr(world["clients"](VIEWER), method)(url)
    assert response.status_code == 403
    assert AccessLog.objects.count() == before  # nothing was shown, nothing to log


def test_exports_and_imports_are_not_for_the_viewer(world):
    client = world["clients"](VIEWER)
    assert client.get(reverse("imports:index")).status_code == 403
    for kind in ("households", "funds"):
        response = client.post(reverse("imports:export", args=[kind]), {"full": "on"})
        assert response.status_code == 403
    assert client.get(reverse("funds:export")).status_code == 403


def test_the_viewer_reads_aggregates(world):
    client = world["clients"](VIEWER)
    query = {"org": "450100", "years": str(timezone.localdate().year), "format": "json"}
    response = client.get(reverse("reports:summary"), query)
    assert response.status_code == 200
    assert response.json()["on_file"]["households"] >= 1
    assert not [n for n in world["full_numbers"] if n in response.content.decode()]


def test_another_citys_viewer_cannot_ask_for_county_a(world):
    client = world["clients"]("viewer_450200")
    assert roster(client).status_code == 404
    query = {"org": "450102", "years": "2026", "format": "json"}
    assert client.get(reverse("reports:summary"), query).status_code == 404


def test_a_viewer_cannot_guess_a_hidden_birth_date_by_searching(world, settings):
    """450110********001X leaves only the birth date hidden: searching the candidates one by one
    found the number in 266 searches. Each search by whoever sees numbers masked is logged, and
    past the hourly limit it finds nothing; a clerk's searches are neither limited nor logged."""
    from orgs.idsearch import SEARCHES_PER_HOUR

    on_file = Household.objects.get(pk=world["on_file"])
    wrong = on_file.id_number[:6] + "19000101" + on_file.id_number[14:]

    def found(client, number) -> bool:
        response = client.post(reverse("households:list"), {"q": number}, follow=True)
        return on_file.file_number in body_text(response)

    viewer = world["clients"](VIEWER)
    assert found(viewer, on_file.id_number)  # the search itself works for the viewer
    for _ in range(SEARCHES_PER_HOUR - 1):
        assert not found(viewer, wrong)
    assert not found(viewer, on_file.id_number)  # the 21st finds nothing, the right one too
    logged = AccessLog.objects.filter(action=AccessLog.Action.ID_SEARCH)
    assert logged.count() == SEARCHES_PER_HOUR
    assert {entry.detail for entry in logged} == {on_file.id_masked}
    clerk = world["clients"]("clerk_450102")
    assert all(found(clerk, on_file.id_number) for _ in range(SEARCHES_PER_HOUR + 1))
    assert logged.count() == SEARCHES_PER_HOUR


def test_a_phone_shown_masked_cannot_be_read_back_through_admin_lookups(world):
    """The admin list took ?phone__startswith=1361625 from an administrator who sees the phone
    masked: digit by digit, the whole number. No phone lookup at all for those."""
    household = Household.objects.get(pk=world["on_file"])
    url = reverse("admin:households_household_changelist")
    admin = world["clients"]("admin_450102")
    for lookup in ("phone__startswith", "phone__contains", "phone__gte", "phone__regex"):
        assert admin.get(url, {lookup: household.phone[:7]}).status_code == 400
    assert admin.get(url, {"phone": household.phone}).status_code == 400  # 10,000 guesses
    assert household.file_number in body_text(admin.get(url))
    supervisor = world["clients"]("supervisor_450102")  # sees the number in full anyway
    response = supervisor.get(url, {"phone__startswith": household.phone[:7]})
    assert household.file_number in body_text(response)
