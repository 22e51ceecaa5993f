"""The supervisors' admin: scoped, read-only files, approve/reject actions that ask for a reason
and report every refusal of the services, and the reference tables."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from households import services
from households.models import (
    Category,
    Cause,
    ClosureRequest,
    DibaoStandard,
    Household,
    Member,
    Objection,
    PublicNotice,
    Status,
    Transition,
)
from orgs.models import AccessLog, User

from .conftest import MIGRANT, kept_members, new_id

TODAY = timezone.localdate


def url(name, *args):
    return reverse(f"admin:households_{name}", args=args)


def messages_of(response):
    """The messages shown on the page the action led to (post_action follows redirects)."""
    return [str(message) for message in response.context["messages"]]


def action_choices(response):
    form = response.context["action_form"]
    if form is None:
        return set()
    return {value for value, _label in form.fields["action"].choices if value}


@pytest.fixture
def on_notice(make_household, walk):
    """Two files whose notice (started 30 days ago) has run its course."""
    return [
        walk(make_household(worker_name="张小明"), "notice"),
        walk(make_household(worker_name="李大海", id_number=new_id(1970)), "notice"),
    ]


@pytest.fixture
def running_notice(make_household, walk, users):
    """A file whose notice started today: not yet due for approval."""
    running = walk(make_household(worker_name="王芳", id_number=new_id(1985)), "reviewed")
    services.notice_start(
        user=users["clerk_450102"],
        organisation=running.organisation,
        households=[running],
        starts_on=TODAY(),
        objection_contact="兴宁区总工会",
    )
    running.refresh_from_db()
    return running


def make_clerk_too(user):
    """A supervisor who also enters files (small unions): still may not approve their own."""
    user.groups.add(Group.objects.get(name="clerk"))
    return user


def post_action(client, changelist, action, objects, reason=None):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects]}
    if reason is None:
        data["index"] = 0  # the first step: the changelist's action bar
    else:
        data.update(post="yes", reason=reason)  # the confirmation page
    return client.post(changelist, data, follow=True)


# --- Permission matrix ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status", "actions"),
    [
        ("supervisor_450102", 200, {"approve_applications", "reject_applications"}),
        ("admin_450102", 200, set()),
        ("finance_450102", 200, set()),
        ("clerk_450102", 302, None),  # not admin-site staff: the admin's login page
        ("viewer_450100", 302, None),
        (None, 302, None),
    ],
)
def test_household_admin_by_role(login, make_household, username, status, actions):
    household = make_household()
    client = login(username)
    for target in (url("household_changelist"), url("household_change", household.pk)):
        response = client.get(target)
        assert response.status_code == status, (username, target)
        if status == 302:  # the admin's login page; anonymous users get the site's
            assert response["Location"].startswith((reverse("admin:login"), reverse("login")))
    if actions is not None:
        response = client.get(url("household_changelist"))
        assert action_choices(response) == actions


@pytest.mark.parametrize(
    ("username", "model", "status"),
    [
        ("supervisor_450102", "closurerequest", 200),
        ("supervisor_450102", "transition", 200),
        ("supervisor_450102", "publicnotice", 200),
        ("supervisor_450102", "objection", 200),
        ("supervisor_450102", "dibaostandard", 200),
        ("supervisor_450102", "cause", 200),
        ("admin_450102", "closurerequest", 200),
        ("admin_450102", "dibaostandard", 200),
        ("finance_450102", "closurerequest", 403),
        ("finance_450102", "transition", 403),
        ("finance_450102", "publicnotice", 403),
        ("finance_450102", "objection", 403),
        ("finance_450102", "dibaostandard", 403),
        ("clerk_450102", "closurerequest", 302),
    ],
)
def test_other_admin_lists_by_role(login, orgs, username, model, status):
    response = login(username).get(url(f"{model}_changelist"))
    assert response.status_code == status


def test_closure_actions_only_for_supervisors(login, orgs):
    supervisor = login("supervisor_450102").get(url("closurerequest_changelist"))
    assert action_choices(supervisor) == {"approve_closures", "reject_closures"}
    admin = login("admin_450102").get(url("closurerequest_changelist"))
    assert action_choices(admin) == set()


def test_another_countys_file_answers_404(login, make_household, walk):
    household = walk(make_household(), "notice")
    client = login("supervisor_450103")
    assert client.get(url("household_change", household.pk)).status_code == 404
    assert client.get(url("household_history", household.pk)).status_code == 404
    notice = household.current_period.notice
    assert client.get(url("publicnotice_change", notice.pk)).status_code == 404
    assert client.get(url("publicnotice_pdf", notice.pk)).status_code == 404
    transition = Transition.objects.filter(household=household).first()
    assert client.get(url("transition_change", transition.pk)).status_code == 404
    listed = client.get(url("household_changelist")).context["cl"].result_list
    assert household not in list(listed)


def test_upper_levels_see_the_counties_below(client, make_household):
    household = make_household()
    city = User.objects.create_user(
        "city_supervisor", organisation=household.organisation.parent, is_staff=True
    )
    city.groups.add(Group.objects.get(name="supervisor"))
    client.force_login(city)
    assert client.get(url("household_change", household.pk)).status_code == 200
    listed = client.get(url("household_changelist")).context["cl"].result_list
    assert list(listed) == [household]


# --- Read-only, no deletes --------------------------------------------------------------------


def test_household_change_view_is_read_only_and_shows_masked_numbers(login, make_household):
    household = make_household()
    client = login("supervisor_450102")
    response = client.get(url("household_change", household.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert household.id_masked in content
    assert household.id_number not in content
    member = household.members.exclude(relation="self").get()
    assert member.id_masked in content
    assert member.id_number not in content
    assert 'name="worker_name"' not in content  # no inputs: all read-only
    # Viewing a file is logged.
    log = AccessLog.objects.get(action=AccessLog.Action.VIEW_FILE)
    assert log.target == f"households.Household:{household.pk}"
    assert log.organisation == household.organisation

    response = client.post(url("household_change", household.pk), {"worker_name": "改名"})
    assert response.status_code == 403
    household.refresh_from_db()
    assert household.worker_name == "张小明"


@pytest.mark.parametrize(
    "model", ["household", "transition", "closurerequest", "publicnotice", "objection"]
)
@pytest.mark.parametrize("username", ["supervisor_450102", "admin_450102"])
def test_no_add_and_no_delete(login, make_household, walk, users, model, username):
    household = walk(make_household(), "notice")
    objection = services.objection_record(
        user=users["clerk_450102"],
        household=household,
        raised_by="邻居",
        raised_on=household.current_period.notice.ends_on,  # within the notice
        content="家中有车",
    )
    objects = {
        "household": household,
        "transition": Transition.objects.filter(household=household).first(),
        "publicnotice": household.current_period.notice,
        "objection": objection,
    }
    if model == "closurerequest":
        objects["closurerequest"] = ClosureRequest.objects.create(
            household=household,
            kind="exited",
            effective_date=TODAY(),
            reason="收入提高",
            requested_by=users["clerk_450102"],
        )
    obj = objects[model]
    client = login(username)
    counts = {m: m.objects.count() for m in (Household, Transition, PublicNotice, Objection)}
    assert client.get(url(f"{model}_delete", obj.pk)).status_code == 403
    assert client.post(url(f"{model}_delete", obj.pk), {"post": "yes"}).status_code == 403
    assert client.get(url(f"{model}_add")).status_code == 403
    assert client.post(url(f"{model}_change", obj.pk), {}).status_code == 403
    changelist = client.get(url(f"{model}_changelist"))
    assert "delete_selected" not in action_choices(changelist)
    assert counts == {m: m.objects.count() for m in counts}


def test_history_is_scoped_read_only_and_masked(login, make_household, users):
    household = make_household()
    old_number = household.id_number
    household.id_number = new_id(1966)
    household.bank_account = "6222020200112233445"
    members = [
        services.MemberData(relation="self", name="", monthly_income=Decimal("600.00")),
    ]
    services.household_update(user=users["clerk_450102"], household=household, members=members)
    client = login("supervisor_450102")
    response = client.get(url("household_history", household.pk))
    assert response.status_code == 200
    content = response.content.decode()
    for secret in (old_number, household.id_number, "6222020200112233445"):
        assert secret not in content
    record = household.history.order_by("history_id").first()
    version = url("household_simple_history", household.pk, record.history_id)
    response = client.get(version)
    assert response.status_code == 200
    assert old_number not in response.content.decode()
    # An earlier version shows the file like its page: the view is logged like it.
    viewed = AccessLog.objects.filter(action="view_file", detail="历史版本")
    assert [(log.user.username, log.target) for log in viewed] == [
        ("supervisor_450102", f"households.Household:{household.pk}")
    ]
    assert client.post(version, {"worker_name": "x"}).status_code == 403
    assert login("supervisor_450103").get(version).status_code == 404


def printed_dates(day) -> list[str]:
    """A date as a page may print it: the admin's 1980年3月15日, ISO and plain digits."""
    chinese = f"{day.year}年{day.month}月{day.day}日"
    return [day.strftime("%Y-%m-%d"), chinese, day.strftime("%Y%m%d")]


def test_admin_change_form_does_not_unmask_the_id_number_for_a_masked_role(
    login, make_household, users
):
    """450102********1234 hides exactly the 8 digits of the birth date, and the change form
    printed the date beside it (1980年3月15日) to the administrator, who sees numbers masked: the
    whole number could be read off the page. A supervisor, who sees full numbers, sees it."""
    household = make_household()
    assert not users["admin_450102"].has_perm("households.view_full_identifiers")
    change = url("household_change", household.pk)
    page = login("admin_450102").get(change).content.decode()
    assert household.id_masked in page
    assert not any(text in page for text in printed_dates(household.birth_date))
    page = login("supervisor_450102").get(change).content.decode()
    assert "1980年3月15日" in page


def test_the_admin_history_keeps_the_birth_date_from_a_masked_role(login, make_household, users):
    """An earlier version of the file showed its birth date beside the masked number, to the
    administrator as to a supervisor. (The history list shows no change of it: simple-history
    lists the fields a form could edit, and the date follows from the number.)"""
    household = make_household()
    born = household.birth_date
    household.id_number = new_id(1966)
    services.household_update(
        user=users["clerk_450102"], household=household, members=kept_members(household)
    )
    household.refresh_from_db()
    dates = printed_dates(born) + printed_dates(household.birth_date)
    first = household.history.order_by("history_id").first()
    pages = [url("household_history", household.pk)]
    pages.append(url("household_simple_history", household.pk, first.history_id))
    admin = login("admin_450102")
    for page in pages:
        response = admin.get(page)
        assert response.status_code == 200
        assert not any(text in response.content.decode() for text in dates), page
    assert "1980年3月15日" in login("supervisor_450102").get(pages[1]).content.decode()


@pytest.mark.parametrize(
    ("lookup", "value"),
    [
        ("birth_date", "1980-03-15"),
        ("birth_date__gte", "1980-03-01"),
        ("birth_date__year", "1980"),
        ("birth_date__lt", "1980-04-01"),
    ],
)
def test_a_masked_role_cannot_filter_the_files_by_birth_date(login, make_household, lookup, value):
    """?birth_date=… found the date hidden by the mask one guess a request (a range, halved each
    time, faster), around the hourly limit on ID-number searches (orgs/idsearch.py): refused
    to whoever sees numbers masked, as a masked phone's lookups are."""
    household = make_household()
    changelist = url("household_changelist")
    admin = login("admin_450102")
    assert admin.get(changelist, {lookup: value}).status_code == 400
    assert household.file_number in admin.get(changelist).content.decode()
    # Nor through a file's closures (Django refuses a lookup across a relation anyway).
    closures = url("closurerequest_changelist")
    assert admin.get(closures, {"household__birth_date": value}).status_code == 400
    response = login("supervisor_450102").get(changelist, {lookup: value})
    assert household.file_number in response.content.decode()


def test_an_edit_that_leaves_the_income_alone_writes_one_history_row(make_household, users):
    """The income was saved again after every edit, a second history row that changed nothing
    (the admin's history listed each edit twice)."""
    household = make_household(members=[])
    worker = [services.MemberData(relation="self", name="", monthly_income=Decimal("600.00"))]
    before = household.history.count()
    household.phone = "13900000000"
    services.household_update(user=users["clerk_450102"], household=household, members=worker)
    assert household.history.count() == before + 1
    worker[0] = services.MemberData(relation="self", name="", monthly_income=Decimal("700.00"))
    services.household_update(user=users["clerk_450102"], household=household, members=worker)
    latest = household.history.order_by("-history_id").first()
    assert latest.monthly_income == Decimal("700.00")  # a changed income is still recorded


def test_one_history_row_per_change_with_the_income_it_leads_to(make_household, users):
    """A new file had three history rows (created, its period, its income) and an edit two:
    the admin's history listed the follow-up saves as changes of nothing."""
    household = make_household()
    [created] = household.history.all()
    assert created.history_type == "+"
    assert created.current_period_id == household.current_period_id
    assert created.monthly_income == household.monthly_income > 0
    people = kept_members(household)
    people[0] = services.MemberData(**{**vars(people[0]), "monthly_income": Decimal("900.00")})
    household.phone = "13911112222"
    services.household_update(user=users["clerk_450102"], household=household, members=people)
    edit = household.history.order_by("-history_id").first()
    assert household.history.count() == 2
    assert (edit.phone, edit.monthly_income) == ("13911112222", household.monthly_income)


def test_the_admin_history_shows_an_empty_category_as_empty(login, make_household, users):
    household = make_household()
    assert household.category_id is None
    household.category = Category.objects.get(code="deep")
    services.household_update(
        user=users["clerk_450102"], household=household, members=kept_members(household)
    )
    page = login("supervisor_450102").get(url("household_history", household.pk))
    page = page.content.decode()
    assert "（空）" in page and "pk=None" not in page


def test_history_shows_the_workers_phone_masked_to_readers(login, make_household, users):
    household = make_household(phone="13812345678")
    household.phone = "13912345679"
    members = [services.MemberData(relation="self", name="", monthly_income=Decimal("600.00"))]
    services.household_update(user=users["clerk_450102"], household=household, members=members)
    history = url("household_history", household.pk)
    page = login("admin_450102").get(history).content.decode()
    assert "138****5678" in page and "139****5679" in page
    assert "13812345678" not in page and "13912345679" not in page
    page = login("supervisor_450102").get(history).content.decode()
    assert "13812345678" in page and "13912345679" in page
    assert "修改内容" in page and ">Changes<" not in page  # simple-history's header, ours


# --- Search and list --------------------------------------------------------------------------


def test_search_by_exact_id_number(login, make_household):
    first = make_household()
    second = make_household(worker_name="李大海", id_number=new_id(1971))
    member = second.members.exclude(relation="self").get()
    client = login("supervisor_450102")

    def found(term):
        # The search box is posted and answered with a redirect (config/admin.py).
        response = client.post(url("household_changelist"), {"q": term}, follow=True)
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    assert found(first.id_number) == [first]
    assert found(first.id_number.lower()) == [first]
    # the same person's first-generation card: 15 digits, no century, no check digit
    assert found(first.id_number[:6] + first.id_number[8:17]) == [first]
    assert found(f" {first.id_number[:6]} {first.id_number[6:]} ") == [first]
    assert found(member.id_number) == [second]  # a member's number finds the file
    assert found(new_id(1990)) == []
    assert found(first.file_number[:10]) == [second, first]
    assert found(first.file_number) == [first]
    assert found("李大") == [second]
    help_text = str(client.get(url("household_changelist")).context["cl"].search_help_text)
    assert "完整的身份证号码（18位或15位旧号码）" in help_text


def test_changelist_query_count_does_not_grow(
    login, make_household, django_assert_num_queries, orgs
):
    client = login("supervisor_450102")
    make_household()
    client.get(url("household_changelist"))  # warm caches (content types, sessions)
    with django_assert_num_queries(11):
        response = client.get(url("household_changelist"))
    assert response.status_code == 200
    for _index in range(4):
        make_household(id_number=new_id(1960))
    with django_assert_num_queries(11):
        response = client.get(url("household_changelist"))
    assert len(response.context["cl"].result_list) == 5


@pytest.mark.parametrize(
    ("name", "queries"), [("closurerequest_changelist", 8), ("transition_changelist", 8)]
)
def test_other_lists_query_counts_do_not_grow(
    login, make_household, walk, users, django_assert_num_queries, name, queries
):
    client = login("supervisor_450102")

    def add_file():
        household = walk(make_household(id_number=new_id(1962)), "on_file")
        services.closure_request(
            user=users["clerk_450102"],
            household=household,
            kind="exited",
            effective_date=TODAY(),
            reason="收入提高",
        )

    add_file()
    client.get(url(name))
    with django_assert_num_queries(queries):
        client.get(url(name))
    add_file()
    add_file()
    with django_assert_num_queries(queries):
        response = client.get(url(name))
    assert len(response.context["cl"].result_list) >= 3


def test_filters(login, make_household, walk, orgs):
    household = walk(make_household(**MIGRANT), "notice")
    make_household(org="450102")
    client = login("supervisor_450102")

    def listed(**params):
        response = client.get(url("household_changelist"), params)
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    assert listed(status__exact="notice") == [household]
    assert listed(is_migrant_worker__exact="1") == [household]
    assert len(listed(org=str(orgs["450102"].pk))) == 2
    assert listed(org=str(orgs["450103"].pk)) == []  # not visible: nothing, not everything
    assert len(listed(current_period__origin__exact="new")) == 2


# --- Approve and reject applications -----------------------------------------------------------


def test_bulk_approve_asks_for_a_reason_then_approves(login, on_notice):
    client = login("supervisor_450102")
    changelist = url("household_changelist")

    response = post_action(client, changelist, "approve_applications", on_notice)
    assert response.status_code == 200  # the confirmation page
    assert "households/admin/reason_confirmation.html" in [t.name for t in response.templates]
    for household in on_notice:
        assert household.file_number in response.content.decode()
        household.refresh_from_db()
        assert household.status == Status.NOTICE  # nothing happens before confirming

    response = post_action(client, changelist, "approve_applications", on_notice, "经审核符合条件")
    assert response.redirect_chain  # back to the changelist
    assert "已批准 2 户档案建档。" in messages_of(response)
    for household in on_notice:
        household.refresh_from_db()
        assert household.status == Status.ON_FILE
        transition = Transition.objects.get(household=household, action="approve")
        assert transition.reason == "经审核符合条件"
        assert transition.actor.username == "supervisor_450102"


def test_bulk_approve_reports_a_notice_still_running_and_approves_the_rest(
    login, running_notice, on_notice
):
    running = running_notice
    client = login("supervisor_450102")
    response = post_action(
        client, url("household_changelist"), "approve_applications", [running, on_notice[0]], "同意"
    )
    texts = messages_of(response)
    refusal = next(text for text in texts if running.file_number in text)
    assert "公示期至" in refusal and "期满后方可审批" in refusal
    assert "已批准 1 户档案建档。" in texts
    running.refresh_from_db()
    assert running.status == Status.NOTICE
    assert not Transition.objects.filter(household=running, action="approve").exists()
    on_notice[0].refresh_from_db()
    assert on_notice[0].status == Status.ON_FILE


def test_the_admin_index_opens_on_the_supervisors_approvals(
    login, make_household, walk, users, on_notice, running_notice
):
    """Supervisors decide files and closures in the admin, whose index listed only models."""
    services.closure_request(
        user=users["clerk_450102"],
        household=walk(make_household(id_number=new_id(1990)), "on_file"),
        kind="exited",
        effective_date=TODAY(),
        reason="人均收入连续6个月高于低保标准",
    )
    client = login("supervisor_450102")
    page = client.get(reverse("admin:index"))
    rows = {row["label"]: row for row in page.context["work_rows"]}
    assert rows["公示期满待审批建档"]["count"] == 2  # the running notice is not yet due
    assert rows["待审批的退出申请"]["count"] == 1
    assert "待我审批" in page.content.decode()
    listed = client.get(rows["公示期满待审批建档"]["url"]).context["cl"].result_list
    assert {household.pk for household in listed} == {household.pk for household in on_notice}
    closures = client.get(rows["待审批的退出申请"]["url"]).context["cl"].result_list
    assert len(closures) == 1
    # Another county's supervisor has nothing of these to decide.
    rows = login("supervisor_450103").get(reverse("admin:index")).context["work_rows"]
    assert {row["label"]: row["count"] for row in rows}["公示期满待审批建档"] == 0


def test_the_admin_index_lists_the_objections_to_decide(login, make_household, walk, users):
    """The my-work panel had 公示异议待处理, the admin index, where supervisors approve the files
    those objections hold back, did not; its count and its list agree, in the same scope."""
    clerk = users["clerk_450102"]

    def objected(household, outcome=None):
        objection = services.objection_record(
            user=clerk,
            household=household,
            raised_by="邻居",
            raised_on=household.current_period.notice.ends_on,
            content="家中有车",
        )
        if outcome:
            services.objection_resolve(
                user=users["supervisor2_450102"],
                objection=objection,
                outcome=outcome,
                finding="车已卖",
            )
        return household

    pending = [
        objected(walk(make_household(worker_name="有异议一"), "notice")),
        objected(walk(make_household(worker_name="有异议二", id_number=new_id(1975)), "notice")),
    ]
    walk(make_household(worker_name="无异议", id_number=new_id(1976)), "notice")
    objected(
        walk(make_household(worker_name="已处理", id_number=new_id(1977)), "notice"), "dismissed"
    )
    own = objected(walk(make_household(worker_name="本人录入", id_number=new_id(1978)), "notice"))
    Household.objects.filter(pk=own.pk).update(created_by=users["supervisor_450102"])

    client = login("supervisor_450102")
    rows = {row["label"]: row for row in client.get(reverse("admin:index")).context["work_rows"]}
    assert rows["公示异议待处理"]["count"] == 2  # not the one they entered: another decides it
    listed = client.get(rows["公示异议待处理"]["url"]).context["cl"].result_list
    assert {household.pk for household in listed} == {household.pk for household in pending}
    rows = login("supervisor_450103").get(reverse("admin:index")).context["work_rows"]
    assert {row["label"]: row["count"] for row in rows}["公示异议待处理"] == 0


def test_nobody_approves_their_own_file(login, make_household, walk, users):
    supervisor = make_clerk_too(users["supervisor_450102"])
    household = walk(make_household(by="supervisor_450102"), "notice", clerk="supervisor_450102")
    client = login("supervisor_450102")
    client.force_login(supervisor)
    response = post_action(
        client, url("household_changelist"), "approve_applications", [household], "同意"
    )
    assert messages_of(response) == [
        f"档案 {household.file_number}：不能审批自己录入或提交的档案。"
    ]
    household.refresh_from_db()
    assert household.status == Status.NOTICE
    assert not Transition.objects.filter(household=household, action="approve").exists()


def test_reject_requires_a_reason(login, on_notice):
    household = on_notice[0]
    client = login("supervisor_450102")
    for reason in ("", "   "):
        response = post_action(
            client, url("household_changelist"), "reject_applications", [household], reason
        )
        assert response.status_code == 200  # the form again, with the error
        assert "reason" in response.context["form"].errors
        household.refresh_from_db()
        assert household.status == Status.NOTICE
        assert not Transition.objects.filter(household=household, action="reject").exists()

    response = post_action(
        client, url("household_changelist"), "reject_applications", [household], "家有两套住房"
    )
    assert response.redirect_chain  # back to the changelist
    assert "已将 1 户档案设为不予建档。" in messages_of(response)
    household.refresh_from_db()
    assert household.status == Status.REJECTED
    assert Transition.objects.get(household=household, action="reject").reason == "家有两套住房"


def test_reject_refuses_a_file_on_file(login, make_household, walk):
    household = walk(make_household(), "on_file")
    response = post_action(
        login("supervisor_450102"),
        url("household_changelist"),
        "reject_applications",
        [household],
        "不符合",
    )
    assert messages_of(response) == [
        f"档案 {household.file_number}：档案当前状态为“在档”，不能执行“不予建档”。"
    ]
    household.refresh_from_db()
    assert household.status == Status.ON_FILE


@pytest.mark.parametrize("username", ["admin_450102", "finance_450102"])
def test_actions_cannot_be_forced_without_the_approve_permission(login, on_notice, username):
    response = post_action(
        login(username), url("household_changelist"), "approve_applications", on_notice, "同意"
    )
    # They have no actions at all: the POST just shows the list again.
    assert response.status_code == 200
    assert not any("已批准" in text for text in messages_of(response))
    for household in on_notice:
        household.refresh_from_db()
        assert household.status == Status.NOTICE


def test_actions_cannot_reach_another_countys_file(login, on_notice):
    response = post_action(
        login("supervisor_450103"),
        url("household_changelist"),
        "approve_applications",
        on_notice,
        "同意",
    )
    assert response.redirect_chain  # back to the changelist
    assert not any("已批准" in text for text in messages_of(response))
    for household in on_notice:
        household.refresh_from_db()
        assert household.status == Status.NOTICE


def test_action_messages_follow_the_users_language(client, users, on_notice):
    client.force_login(users["supervisor_450102"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    running = on_notice[1]
    notice = running.current_period.notice
    PublicNotice.objects.filter(pk=notice.pk).update(ends_on=TODAY())
    response = post_action(
        client, url("household_changelist"), "approve_applications", on_notice, "Agreed"
    )
    texts = messages_of(response)
    assert "Approved 1 file." in texts
    assert any(
        text.startswith(f"File {running.file_number}: The public notice runs until")
        for text in texts
    )


def test_a_refusal_of_several_reasons_reads_as_sentences_in_the_users_language(
    client, users, on_notice
):
    """A migrant worker's file missing both facts of the filing condition is refused for each:
    the message gives them one after the other, as sentences of the user's language (not
    joined by a Chinese semicolon after an English full stop)."""
    household = on_notice[0]
    Household.objects.filter(pk=household.pk).update(
        is_migrant_worker=True, is_union_member=None, labour_relation_since=None
    )
    client.force_login(users["supervisor_450102"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = post_action(
        client, url("household_changelist"), "approve_applications", [household], "Agreed"
    )
    assert messages_of(response) == [
        f"File {household.file_number}: A migrant worker’s file must give “Union member”. "
        "A migrant worker’s file must give “Labour relation since”."
    ]
    household.refresh_from_db()
    assert household.status == Status.NOTICE


# --- Closures -----------------------------------------------------------------------------------


@pytest.fixture
def closure(make_household, walk, users):
    household = walk(make_household(), "on_file")
    return services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="exited",
        effective_date=TODAY(),
        reason="人均收入连续6个月高于低保标准",
    )


def test_approve_closures(login, closure):
    client = login("supervisor_450102")
    changelist = url("closurerequest_changelist")
    response = post_action(client, changelist, "approve_closures", [closure])
    assert response.status_code == 200
    assert closure.household.file_number in response.content.decode()

    response = post_action(client, changelist, "approve_closures", [closure], "核实无误，同意脱困")
    assert "已批准 1 项退出申请。" in messages_of(response)
    closure.refresh_from_db()
    assert closure.state == ClosureRequest.State.APPROVED
    assert closure.decision_note == "核实无误，同意脱困"
    assert closure.decided_by.username == "supervisor_450102"
    closure.household.refresh_from_db()
    assert closure.household.status == Status.EXITED

    # Deciding again is refused by the service, and said so.
    response = post_action(client, changelist, "reject_closures", [closure], "再议")
    assert messages_of(response) == [f"档案 {closure.household.file_number}：该申请已审批。"]


def test_reject_closures_keeps_the_file(login, closure):
    client = login("supervisor_450102")
    response = post_action(
        client, url("closurerequest_changelist"), "reject_closures", [closure], ""
    )
    assert "reason" in response.context["form"].errors
    closure.refresh_from_db()
    assert closure.state == ClosureRequest.State.PENDING

    response = post_action(
        client, url("closurerequest_changelist"), "reject_closures", [closure], "仍有重病患者"
    )
    assert "已驳回 1 项退出申请。" in messages_of(response)
    closure.refresh_from_db()
    assert closure.state == ClosureRequest.State.REJECTED
    assert closure.decision_note == "仍有重病患者"
    closure.household.refresh_from_db()
    assert closure.household.status == Status.ON_FILE


def test_nobody_approves_their_own_closure(login, make_household, walk, users):
    supervisor = make_clerk_too(users["supervisor_450102"])
    household = walk(make_household(), "on_file")
    own = services.closure_request(
        user=supervisor,
        household=household,
        kind="relieved",
        effective_date=TODAY(),
        reason="重病，纳入兜底保障",
    )
    client = login("supervisor_450102")
    response = post_action(
        client, url("closurerequest_changelist"), "approve_closures", [own], "同意"
    )
    assert messages_of(response) == [f"档案 {household.file_number}：不能审批自己提出的申请。"]
    own.refresh_from_db()
    assert own.state == ClosureRequest.State.PENDING
    household.refresh_from_db()
    assert household.status == Status.ON_FILE


def test_pending_closures_are_listed_first(login, make_household, walk, users):
    decided_household = walk(make_household(), "on_file")
    decided = services.closure_request(
        user=users["clerk_450102"],
        household=decided_household,
        kind="exited",
        effective_date=TODAY(),
        reason="收入提高",
    )
    pending_household = walk(make_household(id_number=new_id(1961)), "on_file")
    pending = services.closure_request(
        user=users["clerk_450102"],
        household=pending_household,
        kind="exited",
        effective_date=TODAY(),
        reason="收入提高",
    )
    services.closure_decide(
        user=users["supervisor_450102"], closure=decided, approve=False, note="不同意"
    )
    ClosureRequest.objects.filter(pk=pending.pk).update(
        requested_at=timezone.now() - timedelta(days=3)
    )
    response = login("supervisor_450102").get(url("closurerequest_changelist"))
    assert list(response.context["cl"].result_list) == [pending, decided]


# --- Notices, transitions ----------------------------------------------------------------------


def test_notice_admin_lists_its_files_and_prints_the_sheet(login, on_notice):
    notice = on_notice[0].current_period.notice
    client = login("supervisor_450102")
    response = client.get(url("publicnotice_change", notice.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert on_notice[0].file_number in content
    assert url("publicnotice_pdf", notice.pk) in content  # the 打印公示单 object tool

    response = client.get(url("publicnotice_pdf", notice.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "attachment" in response["Content-Disposition"]
    log = AccessLog.objects.get(action=AccessLog.Action.PRINT)
    assert log.target == f"households.PublicNotice:{notice.pk}"
    assert log.organisation == notice.organisation
    assert log.user.username == "supervisor_450102"


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("admin_450102", 200),
        ("viewer_450100", 302),
        ("finance_450102", 403),
        ("clerk_450102", 302),
        ("supervisor_450103", 404),
        (None, 302),
    ],
)
def test_notice_pdf_permissions(login, on_notice, username, status):
    notice = on_notice[0].current_period.notice
    response = login(username).get(url("publicnotice_pdf", notice.pk))
    assert response.status_code == status
    assert AccessLog.objects.filter(action=AccessLog.Action.PRINT).exists() == (status == 200)


def test_notice_list_counts_files(login, on_notice):
    response = login("supervisor_450102").get(url("publicnotice_changelist"))
    assert response.status_code == 200
    notices = list(response.context["cl"].result_list)
    assert [notice.household_count for notice in notices] == [1, 1]


def test_transition_admin_search_and_filters(login, on_notice):
    household = on_notice[0]
    client = login("supervisor_450102")

    def listed(**params):
        response = client.get(url("transition_changelist"), params)
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    found = listed(q=household.file_number)
    assert {t.household_id for t in found} == {household.pk}
    assert [t.action for t in listed(q=household.file_number, action="start_notice")] == [
        "start_notice"
    ]
    assert {t.to_status for t in listed(to_status__exact="notice")} == {"notice"}
    assert listed(is_imported__exact="1") == []
    transition = found[0]
    response = client.get(url("transition_change", transition.pk))
    assert response.status_code == 200


def test_objection_admin_is_read_only(login, users, make_household, walk):
    household = walk(make_household(), "notice")
    objection = services.objection_record(
        user=users["clerk_450102"],
        household=household,
        raised_by="邻居",
        raised_on=household.current_period.notice.ends_on,  # within the notice
        content="家中有车",
    )
    client = login("supervisor_450102")
    response = client.get(url("objection_change", objection.pk))
    assert response.status_code == 200
    assert "家中有车" in response.content.decode()
    response = client.post(url("objection_change", objection.pk), {"outcome": "upheld"})
    assert response.status_code == 403
    objection.refresh_from_db()
    assert objection.outcome == Objection.Outcome.PENDING


# --- Reference data ----------------------------------------------------------------------------


def test_admin_keeps_the_dibao_lines_of_their_area(login, orgs, dibao):
    client = login("admin_450102")
    year = TODAY().year
    data = {"organisation": orgs["450102"].pk, "year": year, "monthly_amount": "980.00"}
    response = client.post(url("dibaostandard_add"), data)
    assert response.status_code == 302
    line = DibaoStandard.objects.get(organisation=orgs["450102"], year=year)
    assert line.monthly_amount == Decimal("980.00")

    # The same area and year again: said in words on the year field, nothing written.
    response = client.post(url("dibaostandard_add"), {**data, "monthly_amount": "990.00"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["year"] == [
        f"兴宁区总工会 {year}年的低保标准已经录入，请修改原有记录。"
    ]
    assert DibaoStandard.objects.filter(organisation=orgs["450102"], year=year).count() == 1

    # Another county is not theirs to set.
    response = client.post(url("dibaostandard_add"), {**data, "organisation": orgs["450103"].pk})
    assert response.status_code == 200
    assert "organisation" in response.context["adminform"].form.errors
    assert not DibaoStandard.objects.filter(organisation=orgs["450103"]).exists()

    # Editing keeps the row; no delete.
    response = client.post(
        url("dibaostandard_change", line.pk), {**data, "monthly_amount": "985.50"}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.monthly_amount == Decimal("985.50")
    assert client.get(url("dibaostandard_delete", line.pk)).status_code == 403


def test_a_dibao_lines_changes_keep_who_and_when(login, orgs, users):
    """Eligibility and the exit runs are computed against the line: each change is kept with
    who made it and the figure it replaced, on the line's history page (its county's)."""
    client = login("admin_450102")
    year = TODAY().year + 1
    data = {"organisation": orgs["450102"].pk, "year": year, "monthly_amount": "980.00"}
    assert client.post(url("dibaostandard_add"), data).status_code == 302
    line = DibaoStandard.objects.get(organisation=orgs["450102"], year=year)
    change = {**data, "monthly_amount": "1010.00", "note": "南府规〔2026〕3号"}
    assert client.post(url("dibaostandard_change", line.pk), change).status_code == 302
    versions = line.history.order_by("history_date")
    assert [(v.history_type, v.monthly_amount, v.history_user) for v in versions] == [
        ("+", Decimal("980.00"), users["admin_450102"]),
        ("~", Decimal("1010.00"), users["admin_450102"]),
    ]
    history = url("dibaostandard_history", line.pk)
    page = client.get(history).content.decode()
    assert "980.00" in page and "1,010.00" in page
    assert login("supervisor_450102").get(history).status_code == 200
    assert login("admin_450103").get(history).status_code == 404


def test_a_dibao_line_a_colleague_saved_meanwhile_is_said_on_the_form(login, orgs, monkeypatch):
    """Two administrators add the same area and year at once: neither form finds the other's
    line, and the later save meets the unique key (dibao_unique_org_year). The form says so on
    the year field, in words, instead of a server error, and nothing of it is written."""
    year = TODAY().year + 1
    clean = DibaoStandard.full_clean

    def colleague_saves_after_the_last_check(self, *args, **kwargs):
        clean(self, *args, **kwargs)
        if not kwargs and not DibaoStandard.objects.filter(year=year).exists():
            # dibao_standard_save's own check, its last before the insert: the colleague's line
            # is committed now (bulk_create: no save() of ours, no history of it)
            DibaoStandard.objects.bulk_create(
                [DibaoStandard(organisation=orgs["450102"], year=year, monthly_amount=970)]
            )

    monkeypatch.setattr(DibaoStandard, "full_clean", colleague_saves_after_the_last_check)
    client = login("admin_450102")
    data = {"organisation": orgs["450102"].pk, "year": year, "monthly_amount": "980.00"}
    response = client.post(url("dibaostandard_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["year"] == [
        f"兴宁区总工会 {year}年的低保标准已经录入，请修改原有记录。"
    ]
    assert not DibaoStandard.objects.filter(monthly_amount=Decimal("980.00")).exists()


def test_dibao_service_refuses_duplicates_and_other_areas(users, orgs, dibao):
    from django.core.exceptions import PermissionDenied, ValidationError

    year = TODAY().year
    with pytest.raises(ValidationError) as exc:
        services.dibao_standard_save(
            user=users["admin_450000"],
            standard=DibaoStandard(
                organisation=orgs["450000"], year=year, monthly_amount=Decimal("1.00")
            ),
        )
    assert exc.value.message_dict["year"] == [
        f"广西壮族自治区总工会 {year}年的低保标准已经录入，请修改原有记录。"
    ]
    with pytest.raises(PermissionDenied):
        services.dibao_standard_save(
            user=users["admin_450102"],
            standard=DibaoStandard(
                organisation=orgs["450103"], year=year, monthly_amount=Decimal("1.00")
            ),
        )
    with pytest.raises(PermissionDenied):
        services.dibao_standard_save(
            user=users["supervisor_450102"],
            standard=DibaoStandard(
                organisation=orgs["450102"], year=year, monthly_amount=Decimal("1.00")
            ),
        )
    assert DibaoStandard.objects.count() == 3


def test_supervisors_only_read_dibao_lines(login, orgs):
    client = login("supervisor_450102")
    assert client.get(url("dibaostandard_add")).status_code == 403


def test_cause_codes_are_fixed_names_editable_no_delete(login, orgs):
    cause = Cause.objects.get(code="illness")
    client = login("admin_450000")  # the shared tables are kept at the top of the tree
    response = client.post(
        url("cause_change", cause.pk),
        {
            "code": "sick",
            "name": "因病致困",
            "is_special": "on",
            "sort": cause.sort,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    cause.refresh_from_db()
    assert (cause.code, cause.name) == ("illness", "因病致困")
    assert client.get(url("cause_delete", cause.pk)).status_code == 403

    response = client.post(
        url("cause_add"), {"code": "housing", "name": "住房困难", "sort": 99, "is_active": "on"}
    )
    assert response.status_code == 302
    assert Cause.objects.filter(code="housing").exists()
    assert login("supervisor_450102").get(url("cause_add")).status_code == 403


def test_lists_never_decrypt(login, on_notice, monkeypatch):
    """Lists never decrypt: the admin defers the encrypted columns."""
    notice = on_notice[0].current_period.notice
    from orgs import pii

    calls = []
    real = pii.decrypt
    monkeypatch.setattr(pii, "decrypt", lambda token: calls.append(token) or real(token))
    client = login("supervisor_450102")
    for target in (
        url("household_changelist"),
        url("transition_changelist"),
        url("closurerequest_changelist"),
        url("objection_changelist"),
        url("publicnotice_changelist"),
        url("publicnotice_change", notice.pk),
    ):
        assert client.get(target).status_code == 200
    assert calls == []
    assert Member.objects.count() == 4


@pytest.mark.parametrize(
    ("year", "message"),
    [(0, "年度不能早于 2000 年。"), (1999, "年度不能早于 2000 年。"), (99999, "年度不能晚于")],
)
def test_a_dibao_year_out_of_range_is_refused(login, orgs, year, message):
    client = login("admin_450102")
    data = {"organisation": orgs["450102"].pk, "year": year, "monthly_amount": "980.00"}
    response = client.post(url("dibaostandard_add"), data)
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["year"][0]
    assert not DibaoStandard.objects.filter(organisation=orgs["450102"]).exists()


def test_a_dibao_line_is_kept_from_2000_to_the_year_after_next(users, orgs):
    from django.core.exceptions import ValidationError

    last = TODAY().year + 2
    for year in (2000, last):
        services.dibao_standard_save(
            user=users["admin_450102"],
            standard=DibaoStandard(
                organisation=orgs["450102"], year=year, monthly_amount=Decimal("800.00")
            ),
        )
    with pytest.raises(ValidationError) as exc:
        services.dibao_standard_save(
            user=users["admin_450102"],
            standard=DibaoStandard(
                organisation=orgs["450102"], year=last + 1, monthly_amount=Decimal("800.00")
            ),
        )
    assert exc.value.message_dict["year"] == [f"年度不能晚于 {last} 年。"]
    assert DibaoStandard.objects.filter(organisation=orgs["450102"]).count() == 2


def test_the_admins_autocompletion_answers_nobody(login, make_household):
    """Django answers /admin/autocomplete/ for any foreign key to a model with search fields:
    an ID number typed there reached the households' search without the hourly limit and the
    access log that guard the list's search box. No admin of the site offers autocompletion."""
    household = make_household()
    query = {
        "app_label": "households",
        "model_name": "member",
        "field_name": "household",
        "term": household.id_number,
    }
    for username in ("admin_450102", "supervisor_450102"):
        assert login(username).get(reverse("admin:autocomplete"), query).status_code == 403
