"""The staff pages: the permission ladder for every page (anonymous → login, wrong role → 403,
other county → 404), forms that call the services and show their refusals, pinned query counts
on lists, the statement page and its Excel download, and the admin's bulk approval."""

import re
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from funds import services
from funds.models import (
    AssistanceRequest,
    ClosedYear,
    LedgerEntry,
    PaymentBatch,
    Receipt,
    RequestState,
    VerificationSample,
)
from households.models import DibaoStandard
from orgs.models import AccessLog
from tests.funds.conftest import sample_this_quarter

D = Decimal
TODAY = timezone.localdate  # read when used: a run may cross midnight in Asia/Shanghai
YEAR = timezone.localdate().year


@pytest.fixture
def world(filed, receive, ask, approve, pay, users, orgs):
    """One county's funds in every state a page shows."""
    receipt = receive("50000.00", on=date(YEAR, 1, 2))
    household = filed()
    new = ask(household, "500.00", kind="living")
    paid = approve(ask(household, "800.00", kind="medical"))
    pay(paid, on=TODAY())
    waiting = approve(ask(filed(worker_name="王大力"), "1000.00", kind="festival"))
    batch, _ = services.batch_create(user=users["finance_450102"], organisation=orgs["450102"])
    sample = sample_this_quarter(users["finance_450102"], orgs["450102"])
    return {
        "household": household,
        "new": new,
        "paid": paid,
        "waiting": waiting,
        "batch": batch,
        "sample": sample,
        "item": sample.items.get(),
        "entry": receipt.entries.get(),
    }


def pages(world):
    """(url name, args, who may open it: a role set)."""
    h, r = world["household"].pk, world["new"].pk
    ALL = {"clerk", "supervisor", "finance", "viewer"}
    MONEY = {"supervisor", "finance", "viewer", "admin"}
    return [
        ("funds:index", [], MONEY),
        ("funds:request_list", [], ALL),
        ("funds:household_pick", [], {"clerk"}),
        ("funds:request_create", [h], {"clerk"}),
        ("funds:household_year", [h], ALL),
        ("funds:request_standard", [h], {"clerk"}),
        ("funds:request_detail", [r], ALL),
        ("funds:request_decide", [r], {"supervisor"}),
        ("funds:request_cancel", [r], {"clerk", "supervisor", "finance"}),
        # retry: a request not failed goes back to its page, the refusal told (RETURNED)
        ("funds:request_retry", [r], {"clerk", "supervisor", "finance"}),
        ("funds:request_pay", [world["waiting"].pk], {"finance"}),
        ("funds:request_fail", [world["waiting"].pk], {"finance"}),
        ("funds:repayment_create", [world["paid"].pk], {"finance"}),
        ("funds:receipt_list", [], MONEY),
        ("funds:receipt_create", [], {"finance"}),
        ("funds:refund_list", [], MONEY),
        ("funds:refund_create", [], {"finance"}),
        ("funds:ledger", [], MONEY),
        ("funds:entry_reverse", [world["entry"].pk], {"finance"}),
        ("funds:closed_years", [], MONEY),
        ("funds:batch_list", [], {"supervisor", "finance", "viewer"}),
        ("funds:batch_detail", [world["batch"].pk], {"supervisor", "finance", "viewer"}),
        ("funds:batch_download", [world["batch"].pk], {"finance"}),
        ("funds:sample_list", [], {"supervisor", "finance", "viewer"}),
        ("funds:sample_detail", [world["sample"].pk], {"supervisor", "finance", "viewer"}),
        ("funds:verification_record", [world["item"].pk], {"finance"}),
        ("funds:verification_resolve", [world["item"].pk], {"finance"}),
        ("funds:discrepancies", [], {"supervisor", "finance", "viewer"}),
        ("funds:statement", [], MONEY),
        ("funds:statement_xlsx", [], MONEY),
    ]


ROLE_USERS = {
    "clerk": "clerk_450102",
    "supervisor": "supervisor_450102",
    "finance": "finance_450102",
    "viewer": "viewer_450000",
    "admin": "admin_450102",
}
OBJECT_PAGES = {
    "funds:request_create",
    "funds:household_year",
    "funds:request_standard",
    "funds:request_detail",
    "funds:request_decide",
    "funds:request_cancel",
    "funds:request_retry",
    "funds:request_pay",
    "funds:request_fail",
    "funds:repayment_create",
    "funds:entry_reverse",
    "funds:batch_detail",
    "funds:batch_download",
    "funds:sample_detail",
    "funds:verification_record",
    "funds:verification_resolve",
}


POSTED_PAGES = {"funds:request_standard"}  # htmx fragments posted with their form; GET is 405


def open_page(client, name, url):
    """GET the page; a fragment posted with its form is opened by an empty POST."""
    return client.post(url) if name in POSTED_PAGES else client.get(url)


RETURNED = {"funds:request_retry"}


def test_the_permission_ladder(world, client, login):
    for name, args, allowed in pages(world):
        url = reverse(name, args=args)
        login(None)
        response = open_page(client, name, url)
        assert response.status_code == 302 and "login" in response["Location"], name
        for role, username in ROLE_USERS.items():
            login(username)
            status = open_page(client, name, url).status_code
            ok = 302 if name in RETURNED else 200
            assert status == (ok if role in allowed else 403), (name, username, status)
        if name in OBJECT_PAGES:
            other = {"clerk": "clerk_450103", "supervisor": "supervisor_450103"}
            for role in allowed & {"clerk", "supervisor", "finance"}:
                login(other.get(role, f"{role}_450103"))
                assert open_page(client, name, url).status_code == 404, (name, role)


def test_posts_need_the_right_role_too(world, client, login):
    new = world["new"]
    login("clerk_450102")
    response = client.post(
        reverse("funds:request_decide", args=[new.pk]), {"decision": "approve", "reason": "同意"}
    )
    assert response.status_code == 403
    login("supervisor_450103")
    response = client.post(
        reverse("funds:request_decide", args=[new.pk]), {"decision": "approve", "reason": "同意"}
    )
    assert response.status_code == 404
    login("supervisor_450102")
    for name in ("funds:receipt_create", "funds:batch_list", "funds:sample_list"):
        assert client.post(reverse(name), {}).status_code == 403, name
    new.refresh_from_db()
    assert new.state == RequestState.REQUESTED


def test_another_county_sees_none_of_it(world, client, login):
    login("clerk_450103")
    response = client.get(reverse("funds:request_list"))
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []
    login("finance_450103")
    assert client.get(reverse("funds:index")).context["accounts"] == []
    assert list(client.get(reverse("funds:ledger")).context["object_list"]) == []


# --- Forms through the services ------------------------------------------------------------


def test_clerk_requests_and_sees_the_year_first(world, client, login, standard):
    standard("living", year=YEAR, amount_cap=D("500.00"))
    household = world["household"]
    login("clerk_450102")
    page = client.get(reverse("funds:request_create", args=[household.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"{YEAR}年已享受的帮扶" in text and "800.00" in text  # this year's medical aid
    assert "hx-get" in text and "<script>" not in text.replace("<script src", "")
    form = {
        "assistance_type": world["new"].assistance_type.pk,
        "tier": "general",
        "source": world["new"].source.pk,
        "amount": "600.00",
        "requested_on": TODAY().isoformat(),
        "reason": "生活困难",
    }
    refused = client.post(reverse("funds:request_create", args=[household.pk]), form)
    assert refused.status_code == 200
    assert "每次最高 500.00 元" in refused.content.decode()
    assert AssistanceRequest.objects.count() == 3
    response = client.post(
        reverse("funds:request_create", args=[household.pk]), {**form, "amount": "0.001"}
    )
    assert response.context["form"].errors["amount"]
    response = client.post(
        reverse("funds:request_create", args=[household.pk]), {**form, "amount": "400.00"}
    )
    created = AssistanceRequest.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == reverse("funds:request_detail", args=[created.pk])
    landed = client.get(response["Location"]).content.decode()
    assert created.warnings and landed.count(created.warnings[0]) == 1  # shown once, not twice
    fragment = client.get(
        reverse("funds:household_year", args=[household.pk]), {"requested_on": "2017-05-01"}
    )
    assert "2017年已享受的帮扶" in fragment.content.decode()


def test_the_form_shows_the_standard_and_the_years_use_as_the_clerk_types(
    world, client, login, standard
):
    standard(
        "living",
        year=YEAR,
        amount_cap=D("500.00"),
        times_per_year=2,
        second_approval_above=D("300.00"),
        note="桂工发〔2024〕1号",
    )
    household, living = world["household"], world["new"].assistance_type
    login("clerk_450102")
    page = client.get(reverse("funds:request_create", args=[household.pk])).content.decode()
    assert 'id="request-standard"' in page and "选择帮扶项目后" in page
    url = reverse("funds:request_standard", args=[household.pk])
    assert f'hx-post="{url}"' in page  # posted with the form, never in a URL
    typed = {"assistance_type": living.pk, "tier": "general", "requested_on": TODAY().isoformat()}
    text = client.post(url, {**typed, "amount": "600"}).content.decode()
    assert "依据：桂工发〔2024〕1号" in text
    assert "最多 2 次，本年已有 1 次" in text  # world["new"], asked this year
    assert "超过 300.00 元须二级审批" in text and "本次申请须二级审批" in text
    assert "超出标准：生活救助每次最高 500.00 元" in text  # check_request's own words
    assert "本年已有：医疗救助" in text  # the one-project rule warns
    text = client.post(url, {**typed, "amount": "200"}).content.decode()
    assert "超出标准" not in text and "本次申请须二级审批" not in text
    # What cannot be read yet is left out, never a server error.
    for odd in ({**typed, "amount": "abc"}, {"assistance_type": "²"}, {"tier": "nonsense"}):
        assert client.post(url, odd).status_code == 200
    text = client.post(url, {**typed, "requested_on": "2017-05-01"}).content.decode()
    assert "2017年的生活救助未设置帮扶标准" in text
    # A refused save shows the panel for what was typed.
    form = {**typed, "source": world["new"].source.pk, "amount": "600.00", "reason": "生活困难"}
    refused = client.post(reverse("funds:request_create", args=[household.pk]), form)
    assert "本次申请须二级审批" in refused.content.decode()


def test_the_panels_annual_cap_names_an_earlier_years_line(world, client, login, standard):
    """The 年度上限 of the panel, like check_request's violation, says when the line it is
    worked out from is an earlier year's still in force."""
    standard("living", year=YEAR, annual_months_deep=D("12"))
    household, living = world["household"], world["new"].assistance_type
    login("clerk_450102")
    url = reverse("funds:request_standard", args=[household.pk])
    typed = {"assistance_type": living.pk, "tier": "general", "requested_on": TODAY().isoformat()}
    earlier = f"比较所用的低保标准为广西壮族自治区总工会 {YEAR - 1} 年的标准"
    text = client.post(url, {**typed, "amount": "100"}).content.decode()
    assert "12,000.00 元（12 个月低保标准）" in text and earlier not in text
    DibaoStandard.objects.filter(year=YEAR).delete()
    text = client.post(url, {**typed, "amount": "100"}).content.decode()
    assert "12,000.00 元（12 个月低保标准）" in text and text.count(earlier) == 1
    text = client.post(url, {**typed, "amount": "20000"}).content.decode()
    assert "超出标准" in text and text.count(earlier) == 2  # the panel's and the violation's


def test_the_panel_shows_a_per_person_standard_for_the_chosen_member(
    world, client, login, standard, add_students, ask, filed, types
):
    standard("schooling", year=YEAR, tier="college", times_per_year=1, scope="person")
    household = world["household"]
    first, second = add_students(household, "张一", "张二")
    ask(household, "5000.00", kind="schooling", tier="college", beneficiary=first)
    stranger = filed(worker_name="王五").members.exclude(relation="self").get()
    login("clerk_450102")
    url = reverse("funds:request_standard", args=[household.pk])
    typed = {
        "assistance_type": types["schooling"].pk,
        "tier": "college",
        "requested_on": TODAY().isoformat(),
        "amount": "3000",
    }
    text = client.post(url, typed).content.decode()
    assert "每人每年最多 1 次；请选择受助成员" in text and "超出标准" not in text
    text = client.post(url, {**typed, "beneficiary": first.pk}).content.decode()
    assert "每人每年最多 1 次，张一 本年已有 1 次" in text
    assert "每人每年最多 1 次（" in text  # check_request's violation, per person
    text = client.post(url, {**typed, "beneficiary": second.pk}).content.decode()
    assert "每人每年最多 1 次，张二 本年已有 0 次" in text and "超出标准" not in text
    # another household's member, or nonsense, is no member of this one
    for odd in (stranger.pk, "²", "x"):
        text = client.post(url, {**typed, "beneficiary": odd}).content.decode()
        assert "请选择受助成员" in text and "王五" not in text and "李芳" not in text
    # a per-household standard says so
    standard("living", year=YEAR, times_per_year=2)
    living = {**typed, "assistance_type": types["living"].pk, "tier": "general"}
    assert "每户每年最多 2 次，本年已有 1 次" in client.post(url, living).content.decode()


def test_the_form_refuses_a_per_person_request_without_its_member(
    world, client, login, standard, add_students, types
):
    standard("schooling", year=YEAR, tier="college", times_per_year=1, scope="person")
    household = world["household"]
    (student,) = add_students(household, "张一")
    login("clerk_450102")
    url = reverse("funds:request_create", args=[household.pk])
    form = {
        "assistance_type": types["schooling"].pk,
        "tier": "college",
        "source": world["new"].source.pk,
        "amount": "3000.00",
        "requested_on": TODAY().isoformat(),
        "reason": "大学学费",
    }
    before = AssistanceRequest.objects.count()
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert refused.context["form"].errors["beneficiary"] == ["助学按人计算次数，请选择受助成员。"]
    assert AssistanceRequest.objects.count() == before
    assert client.post(url, {**form, "beneficiary": student.pk}).status_code == 302
    assert AssistanceRequest.objects.latest("pk").beneficiary == student


def test_the_form_lists_the_students_first_with_their_stage_and_refuses_another_stage(
    world, client, login, standard, add_students, types
):
    standard("schooling", year=YEAR, tier="college", amount_cap=D("5000.00"))
    household = world["household"]
    (pupil,) = add_students(household, "张小", stage="primary")
    (student,) = add_students(household, "张大")
    login("clerk_450102")
    url = reverse("funds:request_create", args=[household.pk])
    field = client.get(url).context["form"].fields["beneficiary"]
    labels = [label for _key, label in field.choices][1:]  # after the empty choice (全户)
    others = [m.name for m in household.members.exclude(pk__in=[pupil.pk, student.pk])]
    assert labels == ["张小（小学）", "张大（大学（专科、本科））", *others]
    form = {
        "assistance_type": types["schooling"].pk,
        "tier": "college",
        "source": world["new"].source.pk,
        "amount": "3000.00",
        "requested_on": TODAY().isoformat(),
        "reason": "大学学费",
        "beneficiary": pupil.pk,
    }
    # the panel says it as the member is chosen
    panel = reverse("funds:request_standard", args=[household.pk])
    assert "张小 在档案中的就学阶段为“小学”" in client.post(panel, form).content.decode()
    text = client.post(panel, {**form, "beneficiary": student.pk}).content.decode()
    assert "在档案中的就学阶段为" not in text
    before = AssistanceRequest.objects.count()
    refused = client.post(url, form)
    assert refused.status_code == 200
    [error] = refused.context["form"].errors["beneficiary"]
    assert error.startswith("张小 在档案中的就学阶段为“小学”")
    assert AssistanceRequest.objects.count() == before
    assert client.post(url, {**form, "beneficiary": student.pk}).status_code == 302


def test_the_form_offers_each_type_the_tiers_its_standards_define(world, client, login, standard):
    standard("schooling", year=YEAR, tier="senior", amount_cap=D("3000.00"))
    standard("schooling", year=YEAR, tier="college", amount_cap=D("5000.00"))
    standard("medical", year=YEAR - 1, tier="terminal", amount_cap=D("5000.00"))
    login("clerk_450102")
    response = client.get(reverse("funds:request_create", args=[world["household"].pk]))
    choices = response.context["form"].fields["tier"].choices
    assert choices == [
        ("general", "一般"),
        ("医疗救助", [("terminal", "癌症或重病绝症")]),
        ("助学", [("senior", "高中、中职"), ("college", "大学（专科、本科）")]),
    ]
    assert '<optgroup label="助学">' in response.content.decode()


def test_supervisor_decides_on_the_staff_page(world, client, login):
    login("supervisor_450102")
    url = reverse("funds:request_decide", args=[world["new"].pk])
    response = client.post(url, {"decision": "reject", "reason": ""})
    assert response.context["form"].errors["reason"] == ["不批准须填写理由。"]
    response = client.post(url, {"decision": "approve", "reason": "同意"})
    assert response.status_code == 302
    world["new"].refresh_from_db()
    assert world["new"].state == RequestState.APPROVED


def test_a_first_level_approval_says_whose_approval_comes_next(
    world, client, login, ask, standard, add_user
):
    standard("living", year=YEAR, second_approval_above=D("1000.00"), second_approver="parent")
    add_user("supervisor_450100", "450100", "supervisor")
    request = ask(world["household"], "2000.00", kind="living")
    login("supervisor_450102")
    decide = reverse("funds:request_decide", args=[request.pk])
    response = client.post(decide, {"decision": "approve", "reason": "同意"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "第一级审批已通过，等待第二级审批：上级工会（南宁市总工会）。"
    ]
    login("supervisor_450100")
    response = client.post(decide, {"decision": "approve", "reason": "同意"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["已批准。"]


@pytest.fixture
def level_two(world, ask, approve, standard, add_user):
    """A request the county supervisor approved at level 1, whose level 2 is reserved for the
    upper-level union (450100, which has a supervisor)."""
    standard("living", year=YEAR, second_approval_above=D("1000.00"), second_approver="parent")
    add_user("supervisor_450100", "450100", "supervisor")
    return approve(ask(world["household"], "2000.00", kind="living"))


def test_only_who_may_decide_sees_the_button_and_may_reject(client, login, level_two):
    """A level-2 decision reserved for the upper-level union: the county supervisor who gave
    level 1 neither sees the button nor rejects by posting the form."""
    request = level_two
    detail = reverse("funds:request_detail", args=[request.pk])
    decide = reverse("funds:request_decide", args=[request.pk])
    login("supervisor_450102")
    assert decide not in client.get(detail).content.decode()
    response = client.post(decide, {"decision": "reject", "reason": "不同意"})
    assert response.status_code == 200
    assert "另一名审批人" in response.content.decode()
    request.refresh_from_db()
    assert request.state == RequestState.REQUESTED
    login("supervisor_450100")
    assert decide in client.get(detail).content.decode()
    assert client.post(decide, {"decision": "reject", "reason": "不同意"}).status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED


def test_the_decision_form_opens_only_for_who_may_decide(
    world, client, login, ask, add_user, level_two
):
    """The level-1 approver of a request whose level 2 is the upper union's, its requester, and
    anyone once it is decided go back to the request with the service's reason, no form."""
    request = level_two
    detail = reverse("funds:request_detail", args=[request.pk])
    decide = reverse("funds:request_decide", args=[request.pk])
    login("supervisor_450102")
    response = client.get(decide)
    assert (response.status_code, response.url) == (302, detail)
    shown = [str(message) for message in client.get(detail).context["messages"]]
    assert shown == ["您已审批过该申请，第二级审批须由另一名审批人进行。"]
    paid = reverse("funds:request_decide", args=[world["paid"].pk])
    response = client.get(paid, follow=True)
    assert response.redirect_chain == [
        (reverse("funds:request_detail", args=[world["paid"].pk]), 302)
    ]
    assert [str(m) for m in response.context["messages"]] == [
        "该申请当前状态为“已发放”，不能审批。"
    ]
    # a supervisor who is also a clerk, on their own request
    add_user("supervisor2_450102", "450102", "supervisor").groups.add(
        Group.objects.get(name="clerk")
    )
    own = ask(world["household"], "300.00", kind="festival", by="supervisor2_450102")
    login("supervisor2_450102")
    response = client.get(reverse("funds:request_decide", args=[own.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == ["不能审批自己提出的申请。"]
    login("supervisor_450100")
    response = client.get(decide)
    assert response.status_code == 200
    assert "form" in response.context
    request.refresh_from_db()
    own.refresh_from_db()
    assert request.state == own.state == RequestState.REQUESTED


def test_the_overview_counts_what_awaits_a_decision(world, client, login, level_two):
    """A supervisor counts what they may decide now (not the level 2 reserved for the upper
    union); finance, who decides nothing, counts every request awaiting a decision."""
    index = reverse("funds:index")
    assert login("supervisor_450102").get(index).context["awaiting"] == 1
    assert login("supervisor_450100").get(index).context["awaiting"] == 2
    assert login("finance_450102").get(index).context["awaiting"] == 2


def test_the_awaiting_count_links_to_the_requests_it_counts(client, login, users, level_two):
    """The card and the "my work" panel link to a list of as many requests as they count: a
    county supervisor's list leaves out the level 2 the city decides."""
    from django.test import RequestFactory

    from funds import work

    for user, count in [("supervisor_450102", 1), ("supervisor_450100", 2), ("finance_450102", 2)]:
        browser = login(user)
        index = browser.get(reverse("funds:index"))
        assert index.context["awaiting"] == count
        listed = browser.get(f"{reverse('funds:request_list')}?{index.context['awaiting_query']}")
        assert listed.context["paginator"].count == count, user
    request = RequestFactory().get("/")
    request.user = users["supervisor_450102"]
    (panel,) = [row for row in work.panels(request) if row["title"] == "待我审批的帮扶申请"]
    listed = login("supervisor_450102").get(f"{reverse(panel['link'])}?{panel['query']}")
    assert panel["count"] == listed.context["paginator"].count == 1


@pytest.mark.parametrize("typed", ["²", "²026-01-01", "99999", "abcd"])
def test_odd_digits_in_the_year_are_not_a_server_error(world, client, login, typed):
    household = world["household"]
    login("clerk_450102")
    url = reverse("funds:household_year", args=[household.pk])
    for params in ({"year": typed}, {"requested_on": typed}):
        assert client.get(url, params).status_code == 200
    form = {
        "assistance_type": world["new"].assistance_type.pk,
        "tier": "general",
        "source": world["new"].source.pk,
        "amount": "100.00",
        "requested_on": typed,
        "reason": "生活困难",
    }
    response = client.post(reverse("funds:request_create", args=[household.pk]), form)
    assert response.status_code == 200
    assert response.context["form"].errors["requested_on"]


def test_finance_records_receipt_and_refund(world, client, login, orgs, sources):
    login("finance_450102")
    form = {
        "organisation": orgs["450102"].pk,
        "source": sources["regional"].pk,
        "year": YEAR,
        "amount": "96000.00",
        "received_on": TODAY().isoformat(),
        "document_number": "",
    }
    page = client.get(reverse("funds:receipt_create")).content.decode()
    assert re.search(r'<input[^>]*name="document_number"[^>]*required', page)  # marked so
    response = client.post(reverse("funds:receipt_create"), form)
    assert "请填写" in str(response.context["form"].errors["document_number"])
    assert Receipt.objects.count() == 1
    response = client.post(
        reverse("funds:receipt_create"), {**form, "document_number": "桂财行〔2018〕15号"}
    )
    assert response.status_code == 302
    refund = {
        "organisation": orgs["450102"].pk,
        "source": sources["regional"].pk,
        "amount": "96000.01",
        "refunded_on": TODAY().isoformat(),
        "document_number": "桂财行〔2018〕72号",
    }
    response = client.post(reverse("funds:refund_create"), refund)
    assert "可用余额不足" in str(response.context["form"].errors["amount"])
    response = client.post(reverse("funds:refund_create"), {**refund, "amount": "96000.00"})
    assert response.status_code == 302
    # another county's organisation is not a choice
    response = client.post(
        reverse("funds:receipt_create"),
        {**form, "organisation": orgs["450103"].pk, "document_number": "x"},
    )
    assert "organisation" in response.context["form"].errors


def test_finance_reverses_an_entry(world, client, login):
    login("finance_450102")
    url = reverse("funds:entry_reverse", args=[world["entry"].pk])
    response = client.post(url, {"entry_date": TODAY().isoformat(), "reason": "重复登记"})
    assert "可用余额不足" in response.content.decode()  # the money is spent and committed
    assert LedgerEntry.objects.filter(reverses__isnull=False).count() == 0


@pytest.mark.parametrize("name", ["funds:receipt_list", "funds:refund_list"])
def test_a_reversed_record_shows_no_reverse_button(world, client, login, users, orgs, name):
    finance, source = users["finance_450102"], world["paid"].source
    common = {"user": finance, "organisation": orgs["450102"], "source": source}
    if name == "funds:receipt_list":
        record = services.receipt_record(
            **common, year=YEAR, amount=D("100.00"), received_on=TODAY(), document_number="捐1号"
        )
    else:
        record = services.refund_record(
            **common, amount=D("100.00"), refunded_on=TODAY(), document_number="桂财行〔2026〕72号"
        )
    entry = record.entries.get()
    url = reverse("funds:entry_reverse", args=[entry.pk])
    login("finance_450102")
    assert url in client.get(reverse(name)).content.decode()
    services.entry_reverse(user=finance, entry=entry, reason="重复登记")
    text = client.get(reverse(name)).content.decode()
    assert "已冲销" in text
    assert url not in text


def test_batch_download_is_logged_and_the_return_imported(world, client, login):
    batch = world["batch"]
    login("finance_450102")
    response = client.get(reverse("funds:batch_download", args=[batch.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content))["代发明细"]
    assert sheet.cell(row=2, column=2).value == "王大力"
    assert AccessLog.objects.filter(
        action="export", target=f"funds.PaymentBatch:{batch.pk}"
    ).exists()
    line = batch.lines.get()
    wb = Workbook()
    wb.active.append(["业务参考号", "结果", "失败原因"])
    wb.active.append([line.reference, "失败", "户名不符"])
    buffer = BytesIO()
    wb.save(buffer)
    buffer.name = "return.xlsx"
    buffer.seek(0)
    response = client.post(
        reverse("funds:batch_detail", args=[batch.pk]),
        {"file": buffer, "paid_on": TODAY().isoformat()},
    )
    assert response.status_code == 302
    world["waiting"].refresh_from_db()
    assert world["waiting"].state == RequestState.FAILED
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.RECONCILED
    login("clerk_450102")
    response = client.post(reverse("funds:request_retry", args=[world["waiting"].pk]), {})
    assert response.status_code == 302
    world["waiting"].refresh_from_db()
    assert world["waiting"].state == RequestState.APPROVED


def test_verification_recorded_and_discrepancy_followed_up(world, client, login):
    item = world["item"]
    login("finance_450102")
    url = reverse("funds:verification_record", args=[item.pk])
    response = client.post(
        url,
        {
            "outcome": "partial",
            "method": "phone",
            "checked_on": TODAY().isoformat(),
            "note": "只收到一半",
        },
    )
    assert "amount_received" in response.context["form"].errors
    response = client.post(
        url,
        {
            "outcome": "partial",
            "method": "phone",
            "checked_on": TODAY().isoformat(),
            "amount_received": "400.00",
            "note": "只收到一半",
        },
    )
    assert response.status_code == 302
    listed = client.get(reverse("funds:discrepancies"))
    assert list(listed.context["object_list"]) == [item]
    response = client.post(
        reverse("funds:verification_resolve", args=[item.pk]), {"follow_up": "已追回并补发"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.resolved_at is not None


def test_statement_page_and_excel(world, client, login):
    login("viewer_450000")
    response = client.get(reverse("funds:statement"), {"year": YEAR})
    assert response.status_code == 200
    statement = response.context["statement"]
    assert statement["totals"]["received"] == D("50000.00")
    assert statement["totals"]["paid"] == D("800.00")
    text = response.content.decode()
    assert "49,200.00" in text and "4.9200" in text  # closing in 元 and 万元 (to the yuan)
    assert [unit.code for unit, _ in response.context["side"]["columns"]] == ["450102", "450103"]
    xlsx = client.get(reverse("funds:statement_xlsx"), {"year": YEAR})
    wb = load_workbook(BytesIO(xlsx.content))
    ws = wb.worksheets[0]
    values = [[cell for cell in row] for row in ws.iter_rows(values_only=True)]
    central = next(row for row in values if row[0] == "中央财政")
    assert [D(str(v)) for v in central[1:7]] == [
        D("0"),
        D("50000"),
        D("800"),
        D("0"),
        D("0"),
        D("49200"),
    ]
    assert D(str(central[12])) == D("4.92")
    row = next(row for row in ws.iter_rows() if row[0].value == "中央财政")
    assert row[12].number_format == "#,##0.0000"
    assert len(wb.worksheets) == 2  # the side-by-side sheet of the region
    login("viewer_450000")
    other = client.get(reverse("funds:statement"), {"year": YEAR, "organisation": 999999})
    assert other.context["statement"] is None


def side_by_side_table(html: str) -> list[list[str]]:
    """The cells of the statement's 所属单位对比 table, row by row (header, units, total)."""
    table = html.split("所属单位对比", 1)[1].split("</table>", 1)[0]
    return [
        [cell.strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_the_units_side_by_side_add_up_when_a_loan_was_repaid(
    world, client, login, receive, filed, ask, approve, pay, users
):
    receive("10000.00", source="upper_union", on=date(YEAR, 1, 2))
    loan = approve(
        ask(filed(worker_name="李小红"), "5000.00", kind="small_loan", source="upper_union")
    )
    pay(loan)
    services.repayment_record(
        user=users["finance_450102"], request=loan, amount=D("3000.00"), repaid_on=TODAY()
    )
    login("viewer_450000")
    response = client.get(reverse("funds:statement"), {"year": YEAR})
    header, *rows = side_by_side_table(response.content.decode())
    assert header[1:7] == ["期初结余", "本期拨入", "本期发放", "退回财政", "借款归还", "期末结余"]
    assert [row[5] for row in rows] == ["3,000.00", "0.00", "3,000.00"]  # 450102, 450103, total
    for row in rows:
        opening, received, paid, refunded, repaid, closing = (
            D(cell.replace(",", "")) for cell in row[1:7]
        )
        assert opening + received - paid - refunded + repaid == closing, row
    # the Excel download's side-by-side sheet has the line too
    xlsx = client.get(reverse("funds:statement_xlsx"), {"year": YEAR})
    sheet = load_workbook(BytesIO(xlsx.content)).worksheets[1]
    repaid = next(
        row for row in sheet.iter_rows(values_only=True) if row[:2] == ("借款归还", "合计")
    )
    assert [D(str(value)) for value in repaid[2:5]] == [D("3000"), D("0"), D("3000")]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"year": YEAR + 1}, "year", "年尚未开始"),
        (
            {"year": YEAR, "cutoff": (TODAY() + timedelta(days=1)).isoformat()},
            "cutoff",
            "不能晚于今天",
        ),
        (
            {"year": YEAR - 1, "cutoff": date(YEAR, 1, 5).isoformat()},
            "cutoff",
            "晚于统计期结束日期",
        ),
    ],
)
def test_a_statement_of_days_to_come_or_a_cutoff_past_the_year_is_refused(
    world, client, login, query, field, message
):
    """The reports page refuses these; the statement did not say a word (a future year showed
    zeros, a cut-off after the year was silently ignored)."""
    login("viewer_450000")
    response = client.get(reverse("funds:statement"), query)
    assert response.context["statement"] is None
    assert message in response.context["form"].errors[field][0]


def test_a_cutoff_before_the_year_starts_is_a_form_error(world, client, login):
    login("viewer_450000")
    response = client.get(
        reverse("funds:statement"), {"year": YEAR, "cutoff": date(YEAR - 1, 12, 31).isoformat()}
    )
    assert response.context["statement"] is None
    assert "早于统计期开始日期" in response.context["form"].errors["cutoff"][0]
    assert f"{YEAR}-01-01 至" not in response.content.decode()
    first_day = date(YEAR, 1, 1).isoformat()
    response = client.get(reverse("funds:statement"), {"year": YEAR, "cutoff": first_day})
    assert (response.context["statement"]["start"], response.context["statement"]["end"]) == (
        date(YEAR, 1, 1),
        date(YEAR, 1, 1),
    )


def test_the_quarters_are_offered_in_the_reader_language(world, client, login):
    client = login("finance_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override(settings.LANGUAGE_CODE):  # the thread's language back after
        html = client.get(reverse("funds:sample_list")).content.decode()
    assert re.search(r'<option value="1"[^>]*>Quarter 1</option>', html)
    assert "第1季度" not in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("funds:sample_list")).content.decode()
    assert re.search(r'<option value="1"[^>]*>第1季度</option>', html)


def test_a_follow_up_records_who_did_it(world, client, login, users):
    item = world["item"]
    finance = users["finance_450102"]
    services.verification_record(
        user=finance, item=item, outcome="none", method="phone", checked_on=TODAY(), note="未收到"
    )
    login("finance_450102")
    response = client.post(
        reverse("funds:verification_resolve", args=[item.pk]), {"follow_up": "银行查实已入账"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.resolved_by == finance
    login("viewer_450000")
    html = client.get(reverse("funds:discrepancies")).content.decode()
    assert "银行查实已入账" in html and str(finance) in html


def test_closing_a_year_shows_a_confirmation_first(world, client, login, orgs):
    """The closed years' form asks (GET) for the confirmation, which names the year, the
    organisation and what closing means and writes nothing; its POST closes the year."""
    login("admin_450102")
    page = client.get(reverse("funds:closed_years")).content.decode()
    assert f'action="{reverse("funds:year_close")}"' in page and 'method="get"' in page
    ask = {"organisation": orgs["450102"].pk, "year": 2017, "note": "年报已报出"}
    response = client.get(reverse("funds:year_close"), ask)
    body = response.content.decode()
    assert response.status_code == 200
    assert "结账：兴宁区总工会 2017 年度" in body
    assert "兴宁区总工会及其下级组织不能再登记日期在 2017 年度的款项" in body
    assert "结账不能撤销" in body and "说明：年报已报出" in body
    assert 'method="post"' in body and f'href="{reverse("funds:closed_years")}"' in body  # 取消
    assert not ClosedYear.objects.exists()
    response = client.post(reverse("funds:year_close"), ask, follow=True)
    assert response.redirect_chain == [(reverse("funds:closed_years"), 302)]
    assert "兴宁区总工会 2017年度已结账。" in response.content.decode()
    closed = ClosedYear.objects.get()
    assert (closed.organisation, closed.year, closed.note) == (orgs["450102"], 2017, "年报已报出")
    # asked again: refused on the closed years' page, at the first step already
    response = client.get(reverse("funds:year_close"), ask)
    assert "已由兴宁区总工会结账" in response.content.decode()
    assert response.templates[0].name == "funds/closed_years.html"


@pytest.mark.parametrize("username", ["finance_450102", "viewer_450100"])
def test_only_administrators_close_a_year(world, client, login, orgs, username):
    login(username)
    ask = {"organisation": orgs["450102"].pk, "year": 2017}
    assert client.get(reverse("funds:year_close"), ask).status_code == 403
    assert client.post(reverse("funds:year_close"), ask).status_code == 403
    assert client.post(reverse("funds:closed_years"), ask).status_code == 405  # no close here
    assert not ClosedYear.objects.exists()


def test_the_running_year_is_not_closed(world, client, login, orgs):
    """Its balance is carried over or refunded only once it is over (DOMAIN.md, Funds), and a
    closed year would take no receipt or payment for the rest of it."""
    this_year = timezone.localdate().year
    login("admin_450102")
    for send in (client.get, client.post):
        response = send(
            reverse("funds:year_close"), {"organisation": orgs["450102"].pk, "year": this_year}
        )
        assert response.status_code == 200
        assert f"只能结账已经结束的年度（{this_year - 1}年及以前）" in response.content.decode()
    assert not ClosedYear.objects.exists()
    response = client.post(
        reverse("funds:year_close"), {"organisation": orgs["450102"].pk, "year": this_year - 1}
    )
    assert response.status_code == 302
    assert ClosedYear.objects.get().year == this_year - 1


# --- Pinned query counts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "queries"),
    [("funds:request_list", 12), ("funds:ledger", 10), ("funds:receipt_list", 9)],
)
def test_lists_do_not_grow_queries_with_rows(
    world, client, login, ask, receive, name, queries, django_assert_num_queries
):
    login("supervisor_450102")
    client.get(reverse(name))  # warm caches (content types, sessions)
    with django_assert_num_queries(queries):
        client.get(reverse(name))
    for index in range(5):
        receive("10.00", on=date(YEAR, 1, 3), document_number=f"n{index}")
        ask(world["household"], f"1{index}.00")
    with django_assert_num_queries(queries):
        client.get(reverse(name))


# --- The admin: supervisors approve in bulk, with a reason ------------------------------------


def test_admin_lists_print_money_as_the_pages_do(world, client, login):
    """15,000.00, not 15000.00; the column still sorts by the amount."""
    login("finance_450102")
    receipts = client.get(reverse("admin:funds_receipt_changelist")).content.decode()
    assert '<td class="field-amount">50,000.00</td>' in receipts
    assert "50000.00" not in receipts
    login("supervisor_450102")
    url = reverse("admin:funds_assistancerequest_changelist")
    page = client.get(url)
    amounts = [
        cell.split(">", 1)[1] for cell in page.content.decode().split('<td class="field-amount')[1:]
    ]
    assert sorted(a.split("<", 1)[0] for a in amounts) == ["1,000.00", "500.00", "800.00"]
    ascending = client.get(url, {"o": "4"}).context["cl"].result_list  # the amount column
    assert [r.amount for r in ascending] == sorted(r.amount for r in ascending)


def test_admin_bulk_approval_with_a_reason(world, client, login, ask, add_user):
    second = ask(world["household"], "300.00")
    mine = ask(world["household"], "200.00", by="clerk_450102")
    login("supervisor_450102")
    url = reverse("admin:funds_assistancerequest_changelist")
    assert client.get(url).status_code == 200
    ids = [world["new"].pk, second.pk, mine.pk]
    page = client.post(url, {"action": "approve_selected", "_selected_action": ids})
    assert page.status_code == 200 and "审批意见" in page.content.decode()
    response = client.post(
        url,
        {"action": "approve_selected", "_selected_action": ids, "confirm": "yes", "reason": "同意"},
        follow=True,
    )
    assert "已批准 3 件。" in response.content.decode()
    assert set(AssistanceRequest.objects.filter(pk__in=ids).values_list("state", flat=True)) == {
        RequestState.APPROVED
    }
    login("supervisor_450103")
    assert (
        client.get(reverse("admin:funds_assistancerequest_change", args=[second.pk])).status_code
        == 404
    )


def test_the_admin_lists_the_requests_awaiting_my_decision(world, client, login):
    """The admin index opens on the supervisor's approvals; its row links to this filter (the
    approved and the paid requests of the county are not in it)."""
    login("supervisor_450102")
    rows = client.get(reverse("admin:index")).context["work_rows"]
    row = next(row for row in rows if row["label"] == "待我审批的帮扶申请")
    assert row["count"] == 1 and row["url"].endswith("?awaiting=1")
    listed = client.get(row["url"]).context["cl"].result_list
    assert [request.pk for request in listed] == [world["new"].pk]
    login("finance_450102")  # no approvals to make: no row, no filter choice
    page = client.get(reverse("admin:index"))
    assert page.context["work_rows"] == [] and "待我审批" not in page.content.decode()


def test_admin_bulk_reject_needs_a_reason_and_skips_own(world, client, login, add_user, users):
    login("supervisor_450102")
    url = reverse("admin:funds_assistancerequest_changelist")
    response = client.post(
        url,
        {
            "action": "reject_selected",
            "_selected_action": [world["new"].pk],
            "confirm": "yes",
            "reason": "",
        },
        follow=True,
    )
    # The form again with its error (it went back to the list), without 突破标准 (nothing to
    # override in a refusal) and with a way back.
    page = response.content.decode()
    assert response.context["form"].errors == {"reason": ["这个字段是必填项。"]}
    assert 'name="override"' not in page and "返回，不执行" in page
    world["new"].refresh_from_db()
    assert world["new"].state == RequestState.REQUESTED
    approve = client.post(
        url, {"action": "approve_selected", "_selected_action": [world["new"].pk]}
    )
    assert 'name="override"' in approve.content.decode()


def test_an_admin_approval_above_the_standard_comes_back_to_its_form(
    filed, receive, ask, standard, client, login
):
    """Without 突破标准 the supervisor gets the same form again with why (it went back to the
    list, the selection lost); ticking it with a reason then approves."""
    receive("10000.00", on=date(YEAR, 1, 2))
    standard("living", year=YEAR, amount_cap=D("500.00"))
    request = ask(
        filed(), "800.00", kind="living", exception_reason="重病住院", on=date(YEAR, 1, 5)
    )
    login("supervisor_450102")
    url = reverse("admin:funds_assistancerequest_changelist")
    data = {"action": "approve_selected", "_selected_action": [request.pk], "confirm": "yes"}
    response = client.post(url, {**data, "reason": "同意"})
    page = response.content.decode()
    assert response.status_code == 200 and "没有审批任何申请" in page
    assert "超出标准：生活救助每次最高 500.00 元" in page and "如确需突破标准" in page
    assert "。；" not in page and 'name="override"' in page
    request.refresh_from_db()
    assert request.state == RequestState.REQUESTED
    response = client.post(url, {**data, "reason": "重病，同意突破", "override": "on"}, follow=True)
    assert "已批准 1 件。" in response.content.decode()
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_an_admin_refusal_names_the_file_in_the_readers_punctuation(
    filed, receive, ask, standard, client, login
):
    """ "450102-…-00001 张小明：Above the standard…" had a Chinese colon on English pages."""
    receive("10000.00", on=date(YEAR, 1, 2))
    standard("living", year=YEAR, amount_cap=D("500.00"))
    request = ask(filed(), "800.00", kind="living", exception_reason="ill", on=date(YEAR, 1, 5))
    login("supervisor_450102")
    client.cookies["django_language"] = "en"
    url = reverse("admin:funds_assistancerequest_changelist")
    data = {"action": "approve_selected", "_selected_action": [request.pk], "confirm": "yes"}
    page = client.post(url, {**data, "reason": "agreed"}).content.decode()
    refusal = page.split('class="errorlist nonfield">')[1].split("</ul>")[0]
    assert f"{request.household}: Above the standard" in refusal and "：" not in refusal


def test_clerks_and_finance_cannot_decide_in_the_admin(world, client, login):
    login("finance_450102")
    url = reverse("admin:funds_assistancerequest_changelist")
    response = client.get(url)
    assert response.status_code == 200
    assert "approve_selected" not in response.content.decode()
    assert VerificationSample.objects.count() == 1


def test_admin_history_is_scoped(world, client, login):
    url = reverse("admin:funds_assistancerequest_history", args=[world["new"].pk])
    login("supervisor_450102")
    assert client.get(url).status_code == 200
    login("supervisor_450103")
    assert client.get(url).status_code == 404


def test_admin_edits_whether_a_standard_counts_per_person(client, login, standard, orgs, types):
    row = standard("schooling", year=YEAR, org="450102", tier="college", times_per_year=1)
    login("admin_450102")
    url = reverse("admin:funds_assistancestandard_change", args=[row.pk])
    page = client.get(url).content.decode()
    assert 'name="scope"' in page and "年度上限始终按户计算" in page
    fields = {
        "organisation": orgs["450102"].pk,
        "year": YEAR,
        "assistance_type": types["schooling"].pk,
        "tier": "college",
        "times_per_year": 1,
        "scope": "person",
        "one_project_rule": "warn",
        "second_approver": "same",
    }
    response = client.post(url, fields)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row.refresh_from_db()
    assert row.scope == "person" and row.per_person
    assert row.history.latest().scope == "person"
    changelist = client.get(reverse("admin:funds_assistancestandard_changelist")).content.decode()
    assert "每人" in changelist
    assert client.post(url, {**fields, "scope": "student"}).status_code == 200  # not a choice
    row.refresh_from_db()
    assert row.scope == "person"


@pytest.mark.parametrize(
    ("year", "message"),
    [
        (10000, "只能结账已经结束的年度"),
        (0, "只能结账已经结束的年度"),
    ],
)
def test_admin_refuses_a_year_out_of_range_without_a_server_error(
    world, client, login, orgs, year, message
):
    login("admin_450102")
    response = client.post(
        reverse("admin:funds_closedyear_add"), {"organisation": orgs["450102"].pk, "year": year}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ClosedYear.objects.exists()


def test_the_statement_shows_wanyuan_to_the_yuan(world, client, login):
    """105 yuan is 0.0105 万元, not 0.01 (nor a 10-yuan refund 0.00): four decimals, as the
    summary report and DOMAIN.md's 27.0873 万元."""
    from funds.templatetags.money import wanyuan

    assert wanyuan(D("105.00")) == "0.0105" and wanyuan(D("10.00")) == "0.0010"
    assert wanyuan(D("828833.00")) == "82.8833"


def test_the_balance_table_names_failed_payments_among_the_money_kept(
    client, login, users, filed, receive, ask, approve
):
    """A failed payment keeps its money reserved: the column says 已批准未发放 (approved and
    waiting, or failed and waiting for a corrected account), not 已批准待发放, which the tile
    above counts without the failed ones."""
    from funds import services

    receive("1000.00", on=date(YEAR, 1, 2))
    request = approve(ask(filed(), "300.00"))
    services.payment_mark_failed(user=users["finance_450102"], request=request, reason="户名不符")
    login("finance_450102")
    response = client.get(reverse("funds:index"))
    text = response.content.decode()
    assert "已批准未发放（元）" in text and "发放失败待更正" in text
    [account] = response.context["accounts"]
    assert (account.committed, account.balance - account.committed) == (D("300.00"), D("700.00"))
    assert response.context["unpaid"] == 0


def test_a_loan_page_says_what_is_left_to_repay(
    client, login, receive, filed, ask, approve, pay, users
):
    """Each repayment shows once (its ledger entry), the page says what is still owed, and a
    loan repaid in full offers no 登记还款."""
    receive("10000.00", source="upper_union", on=date(YEAR, 1, 2))
    loan = approve(ask(filed(), "5000.00", kind="small_loan", source="upper_union"))
    pay(loan)
    services.repayment_record(
        user=users["finance_450102"], request=loan, amount=D("3000.00"), repaid_on=TODAY()
    )
    login("finance_450102")
    url = reverse("funds:request_detail", args=[loan.pk])
    repay = reverse("funds:repayment_create", args=[loan.pk])
    text = client.get(url).content.decode()
    assert "借款 5,000.00 元，已还 3,000.00 元，未还 2,000.00 元。" in text and repay in text
    assert text.count("3,000.00</td>") == 1
    services.repayment_record(
        user=users["finance_450102"], request=loan, amount=D("2000.00"), repaid_on=TODAY()
    )
    text = client.get(url).content.decode()
    assert "未还 0.00 元" in text and repay not in text


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_no_page_links_its_reader_to_a_page_they_may_not_open(world, client, role):
    """Every link on the main pages of each role opens for that role (a card counting requests
    linked an administrator to "access denied", a roster button a finance clerk)."""
    import re

    from orgs.models import User

    client.force_login(User.objects.get(username=ROLE_USERS[role]))
    h, r = world["household"].pk, world["new"].pk
    starts = ["/", "/households/", f"/households/{h}/", "/funds/", f"/funds/requests/{r}/"]
    starts += ["/funds/ledger/", "/services/", "/reports/summary/"]
    links = set()
    for start in starts:
        response = client.get(start)
        if response.status_code != 200:
            continue  # a page this role has no business on (the matrix checks those)
        for href in re.findall(r'href="(/[^"#]*)"', response.content.decode()):
            href = href.replace("&amp;", "&")
            if not re.search(r"^/(static|admin|accounts/logout)|\.pdf|format=|download", href):
                links.add(href)
    assert len(links) > 5
    refused = [link for link in sorted(links) if client.get(link).status_code == 403]
    assert refused == []


def test_an_action_page_for_a_request_in_another_state_goes_back_to_it(world, client, login):
    """Paying a cancelled or paid request, or failing a paid one: told at once, not after the
    form is filled."""
    login("finance_450102")
    paid = world["paid"]
    for name in ("funds:request_pay", "funds:request_fail", "funds:request_retry"):
        response = client.get(reverse(name, args=[paid.pk]), follow=True)
        assert response.redirect_chain == [(reverse("funds:request_detail", args=[paid.pk]), 302)]
        assert "该申请当前状态为“已发放”，不能" in response.content.decode()
    page = client.get(reverse("funds:request_pay", args=[world["waiting"].pk]))
    assert page.status_code == 200 and "form" in page.context


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("100.001", "金额最多保留两位小数（到分）。"),
        ("1e20", "金额过大。"),
        ("abc", "金额格式不正确。"),
    ],
)
def test_a_bad_amount_gets_the_words_of_the_money_checks(
    world, client, login, orgs, amount, message
):
    login("finance_450102")
    form = {
        "organisation": orgs["450102"].pk,
        "source": world["paid"].source.pk,
        "year": YEAR,
        "amount": amount,
        "received_on": TODAY().isoformat(),
        "document_number": "桂财行〔2026〕1号",
    }
    response = client.post(reverse("funds:receipt_create"), form)
    assert response.context["form"].errors["amount"] == [message]


def test_english_money_refusals_and_reversals_read_as_english(world, client, login, users, orgs):
    finance, source = users["finance_450102"], world["paid"].source
    receipt = services.receipt_record(
        user=finance,
        organisation=orgs["450102"],
        source=source,
        year=YEAR,
        amount=D("100.00"),
        received_on=TODAY(),
        document_number="捐2号",
    )
    services.entry_reverse(user=finance, entry=receipt.entries.get(), reason="录错")
    login("finance_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    ledger = client.get(reverse("funds:ledger")).content.decode()
    assert "Receipt (reversal)" in ledger and "（" not in ledger
    refund = {
        "organisation": orgs["450102"].pk,
        "source": source.pk,
        "amount": "99999999.00",
        "refunded_on": TODAY().isoformat(),
        "document_number": "R-1",
    }
    error = str(client.post(reverse("funds:refund_create"), refund).context["form"].errors)
    assert "cannot refund 99,999,999.00 yuan" in error
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "（冲销）" in client.get(reverse("funds:ledger")).content.decode()


def test_admin_closes_a_year_after_a_confirmation(world, client, login, orgs):
    """As Django confirms a deletion: the add form leads to a confirmation (GET) stating the
    year, the organisation and what closing means, writing nothing; its POST closes."""
    login("admin_450102")
    add = reverse("admin:funds_closedyear_add")
    ask = {"organisation": orgs["450102"].pk, "year": 2017, "note": "年报已报出"}
    response = client.post(add, ask)
    close = reverse("admin:funds_closedyear_close")
    assert response.status_code == 302 and response.url.startswith(f"{close}?")
    assert not ClosedYear.objects.exists()
    page = client.get(response.url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "结账：兴宁区总工会 2017 年度" in body
    assert "兴宁区总工会及其下级组织不能再登记日期在 2017 年度的款项" in body
    assert "结账不能撤销" in body and "说明：年报已报出" in body
    assert 'method="post"' in body and f'href="{add}"' in body  # 返回，不执行
    assert not ClosedYear.objects.exists()
    response = client.post(close, ask, follow=True)
    changelist = reverse("admin:funds_closedyear_changelist")
    assert response.redirect_chain == [(changelist, 302)]
    assert "兴宁区总工会 2017年度已结账。" in response.content.decode()
    closed = ClosedYear.objects.get()
    assert (closed.year, closed.note, closed.closed_by.username) == (
        2017,
        "年报已报出",
        "admin_450102",
    )
    # the same year again: back to the add form with why, nothing written
    response = client.post(close, ask, follow=True)
    assert response.redirect_chain == [(add, 302)]
    assert "已由兴宁区总工会结账" in response.content.decode()
    assert ClosedYear.objects.count() == 1


@pytest.mark.parametrize(("username", "status"), [("finance_450102", 403), ("admin_450103", 302)])
def test_only_an_administrator_of_the_organisation_closes_its_year_in_the_admin(
    world, client, login, orgs, username, status
):
    login(username)
    close = reverse("admin:funds_closedyear_close")
    ask = {"organisation": orgs["450102"].pk, "year": 2017}
    for response in (client.get(close, ask), client.post(close, ask)):
        # another county's administrator: the organisation is not among its choices
        assert response.status_code == status
        assert status == 403 or response.url == reverse("admin:funds_closedyear_add")
    assert not ClosedYear.objects.exists()


def test_the_chinese_admin_of_a_request_shows_no_english(filed, receive, ask, client, login):
    """A version's page named the app "Funds" and its list "Historical 帮扶申请"
    (django-simple-history); the request's page showed its search key as "Beneficiary id hash"."""
    receive("10000.00", on=date(YEAR, 1, 2))
    request = ask(filed(), "300.00", kind="living", on=date(YEAR, 1, 5))
    login("supervisor_450102")
    change = client.get(reverse("admin:funds_assistancerequest_change", args=[request.pk]))
    assert "Beneficiary" not in change.content.decode()
    version = request.history.latest().history_id
    url = reverse("admin:funds_assistancerequest_simple_history", args=[request.pk, version])
    crumbs = client.get(url).content.decode().split('class="breadcrumbs">')[1].split("</div>")[0]
    assert "帮扶资金" in crumbs and "帮扶申请" in crumbs
    assert "Funds" not in crumbs and "Historical" not in crumbs
