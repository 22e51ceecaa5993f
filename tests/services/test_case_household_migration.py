"""Links to household files outside the case organisation's subtree, made before a case could
only link within it, are cleared by migration 0006: the case stays, its history says why."""

from decimal import Decimal

import pytest
from django.utils import timezone

from households import services as household_services
from households.models import Cause, DibaoStandard, Household
from households.services import MemberData
from services.models import Case
from services.selectors import case_changes
from tests.services.conftest import id_number

BEFORE = [("services", "0005_reference_codes_unique_ci")]
AFTER = [("services", "0006_unlink_households_outside_case_org")]
REASON = "链接的档案不在本案组织范围内，已解除"


def file_of(users, orgs, county: str) -> Household:
    household = Household(
        organisation=orgs[county],
        worker_name="黄秀英",
        id_number=id_number(area=county),
        primary_cause=Cause.objects.get(code="illness"),
    )
    worker = MemberData(relation="self", name="", monthly_income=Decimal("600.00"))
    return household_services.household_create(
        user=users[f"clerk_{county}"], household=household, members=[worker]
    )


# Serialized rollback: the flush after a transactional test would drop the seeded reference rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_links_outside_the_case_organisations_subtree_are_cleared_on_record(
    users, orgs, make_case, migrator
):
    executor = migrator
    executor.migrate(BEFORE)  # the tables are the same: the current models write them
    DibaoStandard.objects.create(
        organisation=orgs["450000"],
        year=timezone.localdate().year,
        monthly_amount=Decimal("1000.00"),
    )
    xingning, qingxiu = file_of(users, orgs, "450102"), file_of(users, orgs, "450103")
    base = orgs["450102"].children.first()
    own = make_case(matter="本县档案")
    other_county = make_case(matter="邻县档案", worker_id_number=qingxiu.id_number)
    above = make_case(org=base.code, matter="上级的档案")
    region = make_case(matter="全区")
    Case.objects.filter(pk=region.pk).update(organisation=orgs["450000"])
    unlinked = make_case(matter="没有档案")
    links = {own: xingning, other_county: qingxiu, above: xingning, region: qingxiu}
    for case, household in links.items():  # as an older version linked them
        Case.objects.filter(pk=case.pk).update(household=household)
    history = {case.pk: case.history.count() for case in (*links, unlinked)}

    executor.loader.build_graph()
    executor.migrate(AFTER)

    linked = dict(Case.objects.values_list("pk", "household_id"))
    assert linked == {
        own.pk: xingning.pk,
        other_county.pk: None,
        above.pk: None,
        region.pk: qingxiu.pk,
        unlinked.pk: None,
    }
    for case in (own, region, unlinked):
        assert case.history.count() == history[case.pk]
    for case in (other_county, above):
        assert case.history.count() == history[case.pk] + 1
        latest = case.history.order_by("-history_id").first()
        assert (latest.history_type, latest.history_user_id) == ("~", None)
        assert latest.history_change_reason == REASON
        assert latest.household_id is None
        stored = Case.objects.get(pk=case.pk)
        assert (latest.matter, latest.status, latest.organisation_id) == (
            stored.matter,
            stored.status,
            stored.organisation_id,
        )
        assert latest.worker_id_number == stored.worker_id_number  # copied, still readable
        case_changes(stored)  # the case page's timeline reads it (the link is not shown)
    assert Case.objects.get(pk=other_county.pk).worker_id_number == qingxiu.id_number
