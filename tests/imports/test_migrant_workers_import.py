"""A migrant worker's file imported without the union answers, which the import's columns do
not carry: left as it was on file; as an application, approved once they are given
(households.services.migrant_worker_errors)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from households import services
from households.models import Household, Status
from tests.households.conftest import kept_members
from tests.households.test_pages_forms import edit_data
from tests.imports.conftest import application_row, household_row

pytestmark = pytest.mark.django_db


def test_a_file_imported_on_file_is_left_as_it_was(workbook, run, login, orgs, users):
    """The import's columns carry neither answer: a migrant worker's file imported on file
    keeps them empty, and an edit of it asks for neither."""
    report = run(workbook([household_row(**{"是否农民工": "是"})]))
    assert not report.errors
    household = Household.objects.get(file_number="XN-0001")
    assert household.status == Status.ON_FILE and household.is_migrant_worker
    assert (household.is_union_member, household.labour_relation_since) == (None, None)

    client = login("clerk_450102")
    page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert "未填写" in page and "不符合农民工建档条件" not in page
    data = edit_data(
        orgs,
        household,
        is_migrant_worker="on",
        base_union="",
        phone="13900000000",
        change_reason="电话变更",
    )
    response = client.post(reverse("households:edit", args=[household.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    household.refresh_from_db()
    assert household.phone == "13900000000" and household.is_migrant_worker
    assert household.is_union_member is None


def test_an_application_imported_without_the_answers_is_approved_once_they_are_given(
    workbook, run, walk, users
):
    run(workbook([application_row(**{"是否农民工": "是"})]), user="clerk_450102")
    household = walk(Household.objects.get(file_number="XN-0001"), "notice")
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(
            user=users["supervisor_450102"], household=household, action="approve", reason="同意"
        )
    assert set(exc.value.message_dict) == {"is_union_member", "labour_relation_since"}

    household.is_union_member = True
    household.labour_relation_since = date(2015, 3, 1)
    services.household_update(
        user=users["clerk_450102"],
        household=household,
        members=kept_members(household),
        reason="补充工会会员及劳动关系信息",
    )
    services.transition_apply(
        user=users["supervisor_450102"], household=household, action="approve", reason="同意"
    )
    household.refresh_from_db()
    assert household.status == Status.ON_FILE
