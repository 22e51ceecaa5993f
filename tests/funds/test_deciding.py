"""Who may decide a request: the work list (and the 审批 button, which reads it) and the rule
the approve and reject services enforce must name the same people, for every kind of request
in every state. Both read `selectors.decision_rules`; this matrix catches them drifting apart."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from funds import selectors, services
from orgs.models import User

D = Decimal
YEAR = timezone.localdate().year

# the standard's second approver → the type whose standard names it (above 1,000 yuan)
TYPES = {"same": "festival", "parent": "living", "region": "medical"}

# who, in the matrix → username (added by `cast` where the demo has none)
CAST = {
    "requester": "clerk_supervisor_450102",  # a clerk who is also a supervisor
    "level_one": "supervisor_450102",  # gives level 1 of every two-level request below
    "peer": "supervisor2_450102",  # another supervisor of the same county
    "parent": "supervisor_450100",  # the city, the county's upper-level union
    "region": "supervisor_450000",
    "sibling": "supervisor_450103",  # the other county: outside the subtree
    "viewer": "viewer_450000",  # in the subtree, without the permission
    "superuser": "root",
}
ANY_LEVEL_ONE = {"level_one", "peer", "parent", "region", "superuser"}

# (second approver or None for one level, how far the request went, who may decide it now)
CASES = [
    (None, "requested", ANY_LEVEL_ONE),
    (None, "approved", set()),
    (None, "rejected", set()),
    (None, "cancelled", set()),
    ("same", "requested", ANY_LEVEL_ONE),
    ("same", "level_one", {"peer", "parent", "region", "superuser"}),
    ("same", "approved", set()),
    ("parent", "requested", ANY_LEVEL_ONE),
    ("parent", "level_one", {"parent", "region", "superuser"}),
    ("parent", "approved", set()),
    ("parent", "rejected", set()),
    ("region", "requested", ANY_LEVEL_ONE),
    ("region", "level_one", {"region", "superuser"}),
    ("region", "rejected", set()),
]


@pytest.fixture
def cast(users, add_user):
    add_user("clerk_supervisor_450102", "450102", "clerk").groups.add(
        Group.objects.get(name="supervisor")
    )
    add_user("supervisor2_450102", "450102", "supervisor")
    add_user("supervisor_450100", "450100", "supervisor")
    add_user("supervisor_450000", "450000", "supervisor")
    users["root"] = User.objects.create(username="root", is_superuser=True, is_staff=True)
    return {who: users[username] for who, username in CAST.items()}


def walk_request(second_approver, stage, *, household, ask, approve, standard, cast):
    """A request of the requester, taken to `stage` by the county's supervisor at level 1 and
    by whom the standard names at level 2."""
    if second_approver is None:
        request = ask(household, "500.00", by=CAST["requester"])
    else:
        kind = TYPES[second_approver]
        standard(
            kind, year=YEAR, second_approval_above=D("1000.00"), second_approver=second_approver
        )
        request = ask(household, "2000.00", kind=kind, by=CAST["requester"])
        assert request.approvals_required == 2
    second = {"same": "peer", "parent": "parent", "region": "region"}.get(second_approver)
    if stage in ("level_one", "approved") or (second and stage == "rejected"):
        request = approve(request, by=CAST["level_one"])
    if stage == "approved" and second:
        request = approve(request, by=CAST[second])
    if stage == "rejected":
        decider = cast[second or "level_one"]
        services.request_reject(user=decider, request=request, reason="不符合条件")
    if stage == "cancelled":
        services.request_cancel(user=cast["level_one"], request=request, reason="重复申请")
    request.refresh_from_db()
    assert request.state == {"level_one": "requested"}.get(stage, stage)
    return request


@pytest.mark.parametrize(("second_approver", "stage", "deciders"), CASES)
def test_the_work_list_and_the_services_agree_on_who_decides(
    filed, receive, ask, approve, standard, cast, second_approver, stage, deciders
):
    receive("100000.00", on=date(YEAR, 1, 2))
    household = filed()
    request = walk_request(
        second_approver,
        stage,
        household=household,
        ask=ask,
        approve=approve,
        standard=standard,
        cast=cast,
    )
    drift, may = [], set()
    for who, user in cast.items():
        listed = request in selectors.awaiting_approval(user=user)
        try:
            services.check_decidable(user=user, request=request)
        except (ValidationError, PermissionDenied) as refusal:
            reason = "; ".join(getattr(refusal, "messages", [str(refusal)]))
        else:
            reason = None
            may.add(who)
        if listed != (reason is None):
            drift.append(f"{who}: in the work list {listed}, refusal {reason!r}")
    assert drift == []
    assert may == deciders


def test_a_refusal_says_why(filed, receive, ask, approve, standard, cast):
    """The rule names the first condition a request fails, in the rules' order."""
    receive("100000.00", on=date(YEAR, 1, 2))
    request = walk_request(
        "parent",
        "level_one",
        household=filed(),
        ask=ask,
        approve=approve,
        standard=standard,
        cast=cast,
    )
    reasons = {}
    for who in ("viewer", "sibling", "requester", "level_one", "peer"):
        with pytest.raises((ValidationError, PermissionDenied)) as refusal:
            services.check_decidable(user=cast[who], request=request)
        reasons[who] = getattr(refusal.value, "messages", [str(refusal.value)])
    assert reasons == {
        "viewer": ["您没有执行此操作的权限。"],
        "sibling": ["该记录不在您的管辖范围内。"],
        "requester": ["不能审批自己提出的申请。"],
        "level_one": ["您已审批过该申请，第二级审批须由另一名审批人进行。"],
        "peer": ["该申请的第二级审批须由上级工会的审批人进行。"],
    }
    assert services.check_decidable(user=cast["parent"], request=request) == 2


def test_the_rule_reads_the_row_in_one_query(filed, receive, ask, cast, django_assert_num_queries):
    receive("100000.00", on=date(YEAR, 1, 2))
    request = ask(filed(), "500.00", by=CAST["requester"])
    cast["level_one"].has_perm("funds.approve_assistancerequest")  # load the permissions
    cast["viewer"].has_perm("funds.approve_assistancerequest")
    with django_assert_num_queries(1):
        assert services.check_decidable(user=cast["level_one"], request=request) == 1
    with django_assert_num_queries(0), pytest.raises(PermissionDenied):
        services.check_decidable(user=cast["viewer"], request=request)
    with django_assert_num_queries(0):
        assert list(selectors.awaiting_approval(user=cast["viewer"])) == []
