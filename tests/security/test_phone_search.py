"""A phone shown masked (172****9563) is not recovered by searching: those who see phones masked
(the viewer, the administrator) do not search by it at all, in the staff lists and in the
admin's search box and query string (a part of it gave the hidden digits away one request at a
time; the whole number would, in 10,000 guesses); those who see phones in full (CSF) keep the
partial search. Role × list × what is typed, as the permission matrix states it, by hand."""

import pytest
from django.urls import reverse

from services.models import Case, JobReferral
from tests.security.matrix import CSF, ROLES, STAFF
from tests.security.world import IN_SCOPE

pytestmark = pytest.mark.django_db
PHONE = "17287009563"  # shown 172****9563 to those who see it masked
FULL_PHONES = CSF.split()


@pytest.fixture
def phoned(world):
    """The county A case and referral with a worker's phone (rolled back after each test)."""
    Case.objects.filter(pk=world["case"]).update(worker_phone=PHONE)
    JobReferral.objects.filter(pk=world["referral"]).update(worker_phone=PHONE)
    return world


def listed(response) -> set[int]:
    assert response.status_code == 200, response.status_code
    if "cl" in response.context:  # the admin's change list
        return {row.pk for row in response.context["cl"].result_list}
    return {row.pk for row in response.context["object_list"]}


STAFF_LISTS = [
    ("services:case_list", "case"),
    ("services:legal_aid_list", "legal"),
    ("services:referral_list", "referral"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "target"), STAFF_LISTS)
@pytest.mark.parametrize("typed", ["1728", "9563", "2870095", PHONE])
def test_staff_lists_search_a_phone_only_for_who_sees_it(phoned, role, name, target, typed):
    client = phoned["clients"](IN_SCOPE[role])
    found = phoned[target] in listed(client.get(reverse(name), {"q": typed}))
    assert found is (role in FULL_PHONES)


@pytest.mark.parametrize("role", ROLES)
def test_the_name_is_still_searched_by_a_part(phoned, role):
    client = phoned["clients"](IN_SCOPE[role])
    assert phoned["case"] in listed(client.get(reverse("services:case_list"), {"q": "王"}))


ADMIN_LISTS = [("/admin/services/case/", "case"), ("/admin/services/jobreferral/", "referral")]


@pytest.mark.parametrize("role", STAFF.split())
@pytest.mark.parametrize(("url", "target"), ADMIN_LISTS)
@pytest.mark.parametrize("typed", ["1728", "172870", PHONE])
def test_the_admin_searches_a_phone_only_for_who_sees_it(phoned, role, url, target, typed):
    client = phoned["clients"](IN_SCOPE[role])
    found = phoned[target] in listed(client.get(url, {"q": typed}))
    assert found is (role in FULL_PHONES)


@pytest.mark.parametrize("role", STAFF.split())
@pytest.mark.parametrize(("url", "target"), ADMIN_LISTS)
@pytest.mark.parametrize(
    ("lookup", "value"),
    [
        ("worker_phone__startswith", "1728"),
        ("worker_phone__contains", "7009"),
        ("worker_phone__regex", "^1728"),
        ("worker_phone__gt", "1728"),
        ("worker_phone", PHONE),
        ("worker_phone__exact", PHONE),
    ],
)
def test_the_admin_refuses_phone_lookups_to_masked_roles(phoned, role, url, target, lookup, value):
    response = phoned["clients"](IN_SCOPE[role]).get(url, {lookup: value})
    if role in FULL_PHONES:
        assert phoned[target] in listed(response)
    else:
        assert response.status_code == 400  # DisallowedModelAdminLookup


def test_other_admin_phone_lookups_are_refused_to_masked_roles(phoned):
    """The household file's phone, and the case's phone through the legal-aid details."""
    client = phoned["clients"](IN_SCOPE["admin"])
    assert client.get("/admin/households/household/", {"phone__startswith": "1"}).status_code == 400
    legal = client.get("/admin/services/legalaidcase/", {"case__worker_phone__startswith": "1728"})
    assert legal.status_code == 400
    supervisor = phoned["clients"](IN_SCOPE["supervisor"])
    assert (
        supervisor.get("/admin/households/household/", {"phone__startswith": "1"}).status_code
        == 200
    )


@pytest.mark.parametrize("role", STAFF.split())
def test_the_admin_search_help_says_what_a_masked_role_may_type(phoned, role):
    response = phoned["clients"](IN_SCOPE[role]).get("/admin/services/case/")
    offers_phone = "按姓名、电话、事由或组织查询" in response.content.decode()
    assert offers_phone is (role in FULL_PHONES)
