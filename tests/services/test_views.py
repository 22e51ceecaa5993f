"""The staff pages: permission matrix (anonymous → login, role → allowed or 403, other county →
404), quick entry, the earlier-cases hint, closed cases, "my work" and a pinned query count."""

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from orgs.models import AccessLog, User
from services.models import Case, JobReferral, LegalAidCase, TrainingAttendee, TrainingCourse
from services.services import case_close, case_update
from tests.services.conftest import id_number

pytestmark = pytest.mark.django_db

ROLES = ["clerk_450102", "supervisor_450102", "finance_450102", "admin_450102", "viewer_450100"]


@pytest.fixture
def case(make_case):
    return make_case(worker_name="王芳", worker_phone="13800000001", window="legal_aid")


@pytest.fixture
def course(users, orgs):
    today = timezone.localdate()
    return TrainingCourse.objects.create(
        organisation=orgs["450102"],
        name="电工",
        starts_on=today,
        ends_on=today,
        created_by=users["clerk_450102"],
    )


def urls(case, course):
    return {
        "case_list": "/services/",
        "case_create": "/services/new/",
        "earlier_cases": "/services/earlier/",  # posted: see `open_page`
        "case_detail": f"/services/cases/{case.pk}/",
        "case_update": f"/services/cases/{case.pk}/edit/",
        "case_close": f"/services/cases/{case.pk}/close/",
        "case_refer": f"/services/cases/{case.pk}/refer/",
        "case_follow_up": f"/services/cases/{case.pk}/follow-up/",
        "legal_aid_edit": f"/services/cases/{case.pk}/legal-aid/",
        "legal_aid_list": "/services/legal-aid/",
        "referral_list": "/services/referrals/",
        "referral_create": "/services/referrals/new/",
        "course_list": "/services/trainings/",
        "course_create": "/services/trainings/new/",
        "course_detail": f"/services/trainings/{course.pk}/",
        "course_update": f"/services/trainings/{course.pk}/edit/",
        "attendee_create": f"/services/trainings/{course.pk}/attendees/new/",
        "statistics": "/services/statistics/",
    }


READ_ONLY = {
    "case_list",
    "case_detail",
    "legal_aid_list",
    "referral_list",
    "course_list",
    "course_detail",
    "statistics",
}
ADD = {"case_create", "legal_aid_edit", "referral_create", "course_create", "attendee_create"}
# The earlier-cases hint serves the entry and edit forms: for those who enter or change cases.
CHANGE = {
    "earlier_cases",
    "case_update",
    "case_close",
    "case_refer",
    "case_follow_up",
    "course_update",
}
ALL_PAGES = sorted(READ_ONLY | ADD | CHANGE)

# Which roles may open each kind of page (GET); the others get 403.
ALLOWED = {
    "clerk_450102": READ_ONLY | ADD | CHANGE,
    "supervisor_450102": READ_ONLY | CHANGE,
    "finance_450102": READ_ONLY,
    "admin_450102": READ_ONLY | ADD | CHANGE,
    "viewer_450100": READ_ONLY,
}


def open_page(client, page, url):
    """GET the page; the earlier-cases hint is posted by the entry form (htmx)."""
    if page == "earlier_cases":
        return client.post(url, {"worker_name": "王芳"})
    return client.get(url)


@pytest.mark.parametrize("page", ALL_PAGES)
def test_anonymous_is_sent_to_login(client, case, course, page):
    response = open_page(client, page, urls(case, course)[page])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("page", ALL_PAGES)
@pytest.mark.parametrize("username", ROLES)
def test_permission_matrix(login, case, course, page, username):
    response = open_page(login(username), page, urls(case, course)[page])
    expected = 200 if page in ALLOWED[username] else 403
    assert response.status_code == expected, (page, username)


def test_a_user_without_a_role_gets_403(client, orgs, case, course):
    nobody = User.objects.create_user("nobody", organisation=orgs["450102"])
    client.force_login(nobody)
    for page in ("case_list", "case_detail", "statistics"):
        assert client.get(urls(case, course)[page]).status_code == 403


OBJECT_PAGES = [
    "case_detail",
    "case_update",
    "case_close",
    "case_refer",
    "case_follow_up",
    "legal_aid_edit",
    "course_detail",
    "course_update",
    "attendee_create",
]


@pytest.mark.parametrize("page", OBJECT_PAGES)
def test_another_countys_records_answer_404(login, case, course, page):
    client = login("clerk_450103")
    assert client.get(urls(case, course)[page]).status_code == 404
    if page not in READ_ONLY:
        assert client.post(urls(case, course)[page], {"outcome": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


def test_the_city_viewer_sees_both_counties_and_changes_neither(login, make_case, case):
    other = make_case(by="clerk_450103", org="450103")
    client = login("viewer_450100")
    for each in (case, other):
        assert client.get(f"/services/cases/{each.pk}/").status_code == 200
        assert client.get(f"/services/cases/{each.pk}/edit/").status_code == 403
        assert client.post(f"/services/cases/{each.pk}/close/", {"outcome": "x"}).status_code == 403
    listed = client.get("/services/").context["object_list"]
    assert {c.pk for c in listed} == {case.pk, other.pk}
    assert Case.objects.filter(status=Case.Status.CLOSED).count() == 0


def test_lists_only_show_the_users_subtree(login, make_case, case):
    make_case(by="clerk_450103", org="450103", worker_name="青秀职工")
    listed = login("clerk_450102").get("/services/").context["object_list"]
    assert [c.worker_name for c in listed] == ["王芳"]


# --- Quick entry -----------------------------------------------------------------------------


def quick_entry(**overrides):
    data = {
        "worker_name": "陈建国",
        "worker_phone": "13900000002",
        "worker_id_number": "",
        "matter": "咨询困难职工建档",
        "window": "hardship_aid",
        "channel": "visit",
        "outcome": "",
        "follow_up_on": "",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    return {**data, **overrides}


class SubmittedForms(HTMLParser):
    """What a browser sends for each form of a page left as it is: inputs and textareas as
    filled in, checked boxes, and each select's selected option (the first when none is)."""

    def __init__(self):
        super().__init__()
        self.forms, self.select, self.textarea = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({})
        if not self.forms:
            return
        data, name = self.forms[-1], attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                data[name] = attrs.get("value", "on" if "checked" in attrs else "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select:
            if self.select not in data or "selected" in attrs:
                data[self.select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            data[name] = ""

    def handle_data(self, data):
        if self.textarea:
            self.forms[-1][self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def submitted(page, *, with_field: str) -> dict:
    """The data the page's form holding `with_field` sends when submitted unchanged."""
    parser = SubmittedForms()
    parser.feed(page.content.decode())
    return next(data for data in parser.forms if with_field in data)


def test_quick_entry_defaults(login, users, make_case):
    make_case(window="legal_aid")  # the clerk's last case
    form = login("clerk_450102").get("/services/new/").context["form"]
    assert form["channel"].value() == "visit"
    assert form["handler"].value() == users["clerk_450102"].pk
    assert form["organisation"].value() == users["clerk_450102"].organisation_id
    assert form["window"].value() == "legal_aid"
    assert "autofocus" in form.fields["worker_name"].widget.attrs
    assert form.fields["window"].label_from_instance(form.fields["window"].queryset[0]) == (
        "1. 信访接待"
    )


@pytest.mark.parametrize(
    ("received_at", "message"),
    [
        ("0001-01-01T00:00", "登记时间不能早于 2000 年"),
        ("2099-01-01T10:00", "登记时间不能晚于现在"),
    ],
)
def test_a_case_is_not_received_in_another_age(login, users, windows, received_at, message):
    client = login("clerk_450102")
    data = quick_entry(
        received_at=received_at,
        handler=users["clerk_450102"].pk,
        organisation=users["clerk_450102"].organisation_id,
    )
    response = client.post("/services/new/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_filter_out_of_range_is_a_form_error(login, make_case, day):
    make_case()
    response = login("clerk_450102").get("/services/", {"received_min": day})
    assert response.status_code == 200
    assert "日期应在 1949-10-01 至 2100-12-31 之间" in response.content.decode()
    other_lists = {
        "/services/legal-aid/": "received_min",
        "/services/referrals/": "referred_on_min",
        "/services/trainings/": "starts_on_min",
    }
    for url, parameter in other_lists.items():
        assert login("clerk_450102").get(url, {parameter: day}).status_code == 200


def test_quick_entry_saves_and_offers_an_empty_form(login, users, windows):
    client = login("clerk_450102")
    data = quick_entry(
        handler=users["clerk_450102"].pk, organisation=users["clerk_450102"].organisation_id
    )
    response = client.post("/services/new/", data)
    assert response.status_code == 302 and response["Location"] == "/services/new/"
    case = Case.objects.get()
    assert (case.worker_name, case.window.code, case.channel, case.status) == (
        "陈建国",
        "hardship_aid",
        "visit",
        "open",
    )
    assert case.created_by == users["clerk_450102"]
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages and messages[0].startswith("已登记：陈建国，困难职工帮扶。")
    page = client.get("/services/new/")
    assert not page.context["form"]["worker_name"].value()
    assert page.context["form"]["window"].value() == "hardship_aid"


def test_quick_entry_closed_on_the_spot_needs_an_outcome(login, users, windows):
    client = login("clerk_450102")
    base = {
        "handler": users["clerk_450102"].pk,
        "organisation": users["clerk_450102"].organisation_id,
    }
    response = client.post("/services/new/", quick_entry(close_now="on", **base))
    assert response.status_code == 200
    assert response.context["form"].errors["outcome"] == ["办结案件须填写办理结果。"]
    assert Case.objects.count() == 0
    client.post("/services/new/", quick_entry(close_now="on", outcome="已当场答复", **base))
    assert Case.objects.get().status == Case.Status.CLOSED


def test_quick_entry_bad_input_shows_messages_and_writes_nothing(login, users, windows):
    client = login("clerk_450102")
    base = {
        "handler": users["clerk_450102"].pk,
        "organisation": users["clerk_450102"].organisation_id,
    }
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        "/services/new/",
        quick_entry(follow_up_on=yesterday, window="no_such_window", **base),
    )
    errors = response.context["form"].errors
    assert errors["window"] == ["请选择有效的窗口：所选窗口不存在或已停用。"]
    response = client.post("/services/new/", quick_entry(follow_up_on=yesterday, **base))
    assert response.context["form"].errors["follow_up_on"] == ["跟进日期不能早于登记日期。"]
    assert "跟进日期不能早于登记日期。" in response.content.decode()
    assert Case.objects.count() == 0


def test_quick_entry_refuses_another_countys_organisation_and_handler(login, users, orgs, windows):
    client = login("clerk_450102")
    response = client.post(
        "/services/new/",
        quick_entry(handler=users["clerk_450103"].pk, organisation=orgs["450103"].pk),
    )
    errors = response.context["form"].errors
    assert set(errors) == {"handler", "organisation"}
    assert Case.objects.count() == 0


def test_a_region_user_cannot_make_another_countys_clerk_the_handler(login, users, orgs, windows):
    """The handler must open the case: 青秀区's clerk cannot see a 兴宁区 case (they would get
    404 on "their" case), though the region's administrator, who logs it, reaches both."""
    response = login("admin_450000").post(
        "/services/new/",
        quick_entry(handler=users["clerk_450103"].pk, organisation=orgs["450102"].pk),
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "handler": ["经办人须为本辖区内、受理组织或其上级组织中可办理案件的工作人员。"]
    }
    assert not Case.objects.exists()


def test_the_handler_list_offers_only_who_can_follow_cases_up(login, users):
    """Finance and read-only users do not hold services.change_case: they cannot work a
    case, so they are not offered as its handler; nor is anyone out of the clerk's reach.
    Administrators hold it to correct records, but work no cases: not offered either, not
    even to themselves."""
    choices = login("admin_450000").get("/services/new/").context["form"].fields["handler"]
    offered = {user.username for user in choices.queryset}
    assert {"clerk_450102", "clerk_450103", "supervisor_450100"} <= offered
    assert not offered & {"finance_450102", "viewer_450100", "viewer_450000"}
    assert not offered & {"admin_450000", "admin_450102", "admin_450103"}
    choices = login("clerk_450102").get("/services/new/").context["form"].fields["handler"]
    assert {user.username for user in choices.queryset} == {
        "clerk_450102",
        "supervisor_450102",
        "supervisor2_450102",
    }


# --- Earlier cases -----------------------------------------------------------------------------


def test_earlier_cases_match_on_name_phone_or_id(login, make_case):
    number = id_number()
    make_case(worker_name="王芳", worker_phone="13800000001", matter="第一次来访")
    make_case(worker_name="王芳芳", worker_id_number=number, matter="第二次来访")
    make_case(by="clerk_450103", org="450103", worker_name="王芳", matter="青秀区来访")
    client = login("clerk_450102")
    by_name = client.post("/services/earlier/", {"worker_name": "王芳"})
    assert by_name.context["earlier"]["total"] == 1  # not the other county's
    assert "第一次来访" in by_name.content.decode() and "姓名相同" in by_name.content.decode()
    by_phone = client.post("/services/earlier/", {"worker_phone": "138 0000 0001"})
    assert [c.matter for c in by_phone.context["earlier"]["cases"]] == ["第一次来访"]
    by_id = client.post("/services/earlier/", {"worker_id_number": number.lower()})
    assert [c.matter for c in by_id.context["earlier"]["cases"]] == ["第二次来访"]
    assert "身份证号码相同" in by_id.content.decode()
    nothing = client.post("/services/earlier/", {"worker_name": "王"})
    assert not nothing.context["earlier"]["searched"]


def test_the_earlier_cases_hint_matches_only_the_name_for_who_sees_numbers_masked(login, make_case):
    """An administrator enters cases but sees phones and ID numbers masked: answered by the
    cases a typed phone or ID number matches, the hint gave their hidden digits away."""
    number = id_number()
    make_case(worker_name="王芳", worker_phone="13800000001", worker_id_number=number)
    typed = [{"worker_phone": "13800000001"}, {"worker_id_number": number}]

    def found(client, data) -> int:
        return client.post("/services/earlier/", data).context["earlier"]["total"]

    admin = login("admin_450102")
    assert [found(admin, data) for data in typed] == [0, 0]
    assert found(admin, {"worker_name": "王芳"}) == 1
    clerk = login("clerk_450102")  # sees the numbers: matched on them
    assert [found(clerk, data) for data in typed] == [1, 1]


def test_the_counter_form_after_an_error_does_not_match_phones_for_a_masked_reader(
    login, make_case, users
):
    """The counter form, refused, shows the earlier cases of what was typed: it matched them on
    the typed phone and ID number for every user, so an administrator posting an unnamed form
    with a guessed phone read "电话相同" and found the hidden digits a post at a time. It now
    matches as the hint does (name only for who sees numbers masked)."""
    number = id_number()
    make_case(worker_name="王芳", worker_phone="13900000002", worker_id_number=number)
    typed = [{"worker_phone": "13900000002"}, {"worker_phone": "", "worker_id_number": number}]

    def found(username, data) -> list[list[str]]:
        data = quick_entry(worker_name="", handler=users[username].pk, **data)
        response = login(username).post(reverse("services:case_create"), data)
        assert response.status_code == 200  # refused: no name
        return [case.matches for case in response.context["earlier"]["cases"]]

    assert [found("admin_450102", data) for data in typed] == [[], []]
    # Who sees the numbers is still shown the worker's earlier cases by them.
    assert [found("clerk_450102", data) for data in typed] == [[["phone"]], [["id"]]]


@pytest.mark.parametrize("odd", ["²", "99999999999999999999", "x"])
def test_the_earlier_cases_hint_and_the_referral_form_ignore_a_case_that_is_no_key(
    login, make_case, odd
):
    """ "²" passes str.isdigit(), not int(): the case to leave out, or to start from, is none."""
    make_case(worker_name="王芳")
    client = login("clerk_450102")
    client.raise_request_exception = False
    hint = client.post("/services/earlier/", {"worker_name": "王芳", "exclude": odd})
    assert hint.status_code == 200 and hint.context["earlier"]["total"] == 1
    assert client.get("/services/referrals/new/", {"case": odd}).status_code == 200


def test_the_earlier_cases_hint_is_posted_never_a_get(login, make_case):
    """The hint gets the typed ID number: by POST only, so it never stands in a URL (access
    logs, history). A GET is refused rather than answered."""
    number = id_number()
    make_case(worker_name="王芳", worker_id_number=number)
    client = login("clerk_450102")
    response = client.get("/services/earlier/", {"worker_id_number": number})
    assert response.status_code == 405
    assert "earlier" not in (response.context or {})


def test_the_earlier_cases_hint_is_no_write_for_the_report_replica(login, make_case):
    """Typing at the counter posts the hint every few keystrokes: it reads, so it neither marks
    the user as having just written (reports.routing) nor saves the session for it."""
    from reports.routing import LAST_WRITE_KEY

    client = login("clerk_450102")
    client.post("/services/earlier/", {"worker_name": "王芳"})
    assert LAST_WRITE_KEY not in client.session


def test_quick_entry_page_wires_the_hint_with_htmx_and_no_inline_script(login, windows):
    page = login("clerk_450102").get("/services/new/").content.decode()
    # Posted inside the entry form, whose CSRF token htmx sends with it; never hx-get.
    assert 'hx-post="/services/earlier/"' in page and "hx-get=" not in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "htmx" in page and "<script>" not in page and " onclick=" not in page


# --- Detail, closed cases, legal aid -----------------------------------------------------------


def test_editing_a_closed_case_is_refused_until_reopened(login, users, case):
    case_close(user=users["clerk_450102"], case=case, outcome="已答复")
    client = login("clerk_450102")
    response = client.get(f"/services/cases/{case.pk}/edit/")
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "该案件已办结，不能修改；如需修改请先重新打开。"
    ]
    data = quick_entry(
        matter="改动", handler=users["clerk_450102"].pk, organisation=case.organisation_id
    )
    response = client.post(f"/services/cases/{case.pk}/edit/", data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "该案件已办结，不能修改；如需修改请先重新打开。"
    ]
    assert Case.objects.get(pk=case.pk).matter == "咨询"
    response = client.post(f"/services/cases/{case.pk}/reopen/", {"reason": "补充材料"})
    assert response.status_code == 302
    client.post(f"/services/cases/{case.pk}/edit/", data)
    assert Case.objects.get(pk=case.pk).matter == "改动"


def test_saving_the_edit_page_as_it_is_keeps_the_cases_window(login, make_case):
    """The window field is keyed by code: the page showed no window selected, so the browser
    sent the first one (信访接待) and saving any edit moved the case there."""
    case = make_case(window="legal_aid", follow_up_on=timezone.localdate())
    client = login("clerk_450102")
    page = client.get(f"/services/cases/{case.pk}/edit/")
    assert '<option value="legal_aid" selected>' in page.content.decode()
    data = submitted(page, with_field="window")
    assert data["window"] == "legal_aid"
    response = client.post(f"/services/cases/{case.pk}/edit/", {**data, "matter": "补充"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.matter, case.window.code) == ("补充", "legal_aid")


def test_an_edit_page_opened_before_a_follow_up_keeps_its_date(login, users, make_case):
    """The page opened before 记录跟进 and saved after it sent its old follow-up date back."""
    today = timezone.localdate()
    case = make_case(follow_up_on=today + timedelta(days=3))
    client = login("clerk_450102")
    data = submitted(client.get(f"/services/cases/{case.pk}/edit/"), with_field="window")
    assert data["follow_up_on_shown"] == (today + timedelta(days=3)).isoformat()
    later = (today + timedelta(days=10)).isoformat()
    follow_up = {"note": "电话回访", "next_on": later}
    assert client.post(f"/services/cases/{case.pk}/follow-up/", follow_up).status_code == 302
    response = client.post(f"/services/cases/{case.pk}/edit/", {**data, "matter": "补充"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.matter, case.follow_up_on.isoformat()) == ("补充", later)


def test_the_workers_phone_is_masked_to_readers_of_the_case(login, users, case):
    """Upper-level unions and administrators read cases: the worker's phone was shown to them
    in full, on the page, in the list and in the record of its change."""
    case.worker_phone = "13900000002"
    case_update(user=users["clerk_450102"], case=case)
    for username, full in (
        ("viewer_450100", False),
        ("admin_450102", False),
        ("clerk_450102", True),
    ):
        client = login(username)
        for url in (f"/services/cases/{case.pk}/", reverse("services:case_list")):
            page = client.get(url).content.decode()
            assert ("13900000002" in page) is full, (username, url)
            assert ("139****0002" in page) is not full, (username, url)
        page = client.get(f"/services/cases/{case.pk}/").content.decode()
        assert ("13800000001" in page) is full  # the old number in the record of the change


def test_the_admin_masks_the_workers_phone_to_readers_too(login, users, case, course):
    """The staff pages masked the phone for administrators; the admin showed it in full on
    cases, their history, job referrals and training attendees."""
    case.worker_phone = "13900000002"
    case_update(user=users["clerk_450102"], case=case)
    TrainingAttendee.objects.create(course=course, worker_name="李强", worker_phone="15775220321")
    pages = [
        reverse("admin:services_case_change", args=[case.pk]),
        reverse("admin:services_case_history", args=[case.pk]),
        reverse("admin:services_trainingcourse_change", args=[course.pk]),
    ]
    for username, full in (("admin_450102", False), ("supervisor_450102", True)):
        client = login(username)
        page = "".join(client.get(url).content.decode() for url in pages)
        for number, masked in (
            ("13900000002", "139****0002"),
            ("13800000001", "138****0001"),  # the old number, in the history
            ("15775220321", "157****0321"),
        ):
            assert (number in page) is full, (username, number)
            assert (masked in page) is not full, (username, masked)


def test_a_reopened_case_shows_its_earlier_outcome_as_such(login, users, case):
    """Reopened, the case page still said 办理结果：已答复 as if it were done."""
    case_close(user=users["clerk_450102"], case=case, outcome="已答复")
    client = login("clerk_450102")
    page = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert "<dt>办理结果</dt><dd>已答复" in page and "上次办结时的结果" not in page
    client.post(f"/services/cases/{case.pk}/reopen/", {"reason": "补充材料"})
    page = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert "<dt>上次办结时的结果</dt><dd>已答复" in page and "<dt>办理结果</dt>" not in page


def test_close_refer_through_the_pages(login, case):
    client = login("clerk_450102")
    response = client.post(f"/services/cases/{case.pk}/close/", {"outcome": ""})
    assert response.context["form"].errors["outcome"]
    client.post(f"/services/cases/{case.pk}/refer/", {"referred_to": "区人社局"})
    assert Case.objects.get(pk=case.pk).status == Case.Status.REFERRED
    client.post(f"/services/cases/{case.pk}/close/", {"outcome": "已解决"})
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED


def test_legal_aid_page_refuses_negative_wages(login, case):
    client = login("clerk_450102")
    data = {"dispute_type": "wage_arrears", "fees_waived": "0", "wages_recovered": "-100"}
    response = client.post(f"/services/cases/{case.pk}/legal-aid/", data)
    assert "追回拖欠工资不能为负数。" in response.content.decode()
    assert LegalAidCase.objects.count() == 0
    data["wages_recovered"] = "8000.00"
    assert client.post(f"/services/cases/{case.pk}/legal-aid/", data).status_code == 302
    assert str(LegalAidCase.objects.get().wages_recovered) == "8000.00"


def test_full_id_number_is_masked_and_revealing_it_is_logged(login, make_case):
    number = id_number()
    case = make_case(worker_id_number=number)
    url = f"/services/cases/{case.pk}/"
    viewer = login("viewer_450100")
    assert number[:6] + "********" in viewer.get(url).content.decode()
    assert viewer.post(url).status_code == 403
    assert AccessLog.objects.count() == 0
    clerk = login("clerk_450102")
    assert number not in clerk.get(url).content.decode()
    assert number in clerk.post(url).content.decode()
    log = AccessLog.objects.get()
    assert (log.action, log.target) == ("reveal", f"services.Case:{case.pk}")
    assert login("clerk_450103").post(url).status_code == 404


# --- Referrals and trainings -------------------------------------------------------------------


def referral_of(case, **fields) -> dict:
    """The referral form of a worker placed from `case`, as the page sends it."""
    return {
        "worker_name": "王芳",
        "employer": "某物流公司",
        "position": "仓管员",
        "referred_on": timezone.localdate().isoformat(),
        "result": "placed",
        "organisation": case.organisation_id,
        "case": case.pk,
        **fields,
    }


def test_referral_from_a_case_takes_over_the_worker(login, case):
    client = login("clerk_450102")
    form = client.get("/services/referrals/new/", {"case": case.pk}).context["form"]
    assert form["worker_name"].value() == "王芳"
    data = referral_of(case, worker_phone="13800000001")
    assert client.post("/services/referrals/new/", data).status_code == 302
    referral = JobReferral.objects.get()
    assert referral.case == case and referral.result == "placed"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (timedelta(days=1), "介绍日期不能晚于今天。"),
        ("1990-06-01", "介绍日期不能早于 2000 年。"),
    ],
)
def test_a_referral_is_not_dated_in_the_future_or_before_2000(login, case, day, message):
    client = login("clerk_450102")
    if isinstance(day, timedelta):
        day = (timezone.localdate() + day).isoformat()
    response = client.post("/services/referrals/new/", referral_of(case, referred_on=day))
    assert response.context["form"].errors == {"referred_on": [message]}
    assert not JobReferral.objects.exists()


def test_a_closed_case_takes_no_new_referral_but_its_referrals_keep_their_result(
    login, case, users
):
    client = login("clerk_450102")
    assert client.post("/services/referrals/new/", referral_of(case)).status_code == 302
    referral = JobReferral.objects.get()
    case_close(user=users["clerk_450102"], case=case, outcome="已介绍上岗")
    assert "referrals/new/?case=" not in client.get(f"/services/cases/{case.pk}/").content.decode()
    response = client.post("/services/referrals/new/", referral_of(case))
    assert "该案件已办结" in response.content.decode()
    assert JobReferral.objects.count() == 1
    data = referral_of(case, result="not_placed")
    response = client.post(f"/services/referrals/{referral.pk}/edit/", data)
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.result == "not_placed"


def test_a_referral_form_showing_a_full_id_number_is_logged(login, make_case):
    """The clerk's referral form carries the worker's full ID number (from the case it starts
    from, or its own): a view of personal data, logged as the case page logs it."""
    from orgs.models import AccessLog

    number = id_number()
    case = make_case(worker_id_number=number)
    client = login("clerk_450102")
    page = client.get("/services/referrals/new/", {"case": case.pk})
    assert page.context["form"]["worker_id_number"].value() == number
    log = AccessLog.objects.get()
    assert (log.action, log.detail) == ("reveal", "referral")
    assert log.target == f"services.Case:{case.pk}"
    assert client.post("/services/referrals/new/", referral_of(case)).status_code == 302
    referral = JobReferral.objects.get()
    client.get(f"/services/referrals/{referral.pk}/edit/")
    assert AccessLog.objects.latest("pk").target == f"services.JobReferral:{referral.pk}"
    client.get("/services/referrals/new/")  # no case, no number: nothing to log
    assert AccessLog.objects.count() == 2


def test_referral_and_attendee_forms_keep_a_stored_id_hidden(login, make_case, course):
    """admin_450102 changes referrals and attendees but may not see full ID numbers: the forms
    never carry a stored number, and a referral started from a case still takes it over."""
    number = id_number()
    case = make_case(worker_id_number=number)
    client = login("admin_450102")
    page = client.get("/services/referrals/new/", {"case": case.pk})
    assert not page.context["form"]["worker_id_number"].value()
    assert number not in page.content.decode()
    data = referral_of(case)
    assert client.post("/services/referrals/new/", data).status_code == 302
    referral = JobReferral.objects.get()
    assert referral.worker_id_number == number
    page = client.get(f"/services/referrals/{referral.pk}/edit/")
    assert "worker_id_number" not in page.context["form"].fields
    assert number not in page.content.decode()
    assert client.post(f"/services/referrals/{referral.pk}/edit/", data).status_code == 302
    referral.refresh_from_db()
    assert referral.worker_id_number == number

    attendee = TrainingAttendee.objects.create(
        course=course, worker_name="李强", worker_id_number=number
    )
    page = client.get(f"/services/attendees/{attendee.pk}/edit/")
    assert page.status_code == 200 and number not in page.content.decode()
    clerk_page = login("clerk_450102").get(f"/services/attendees/{attendee.pk}/edit/")
    assert number in clerk_page.content.decode()


def test_a_referral_from_a_case_does_not_show_a_masked_reader_the_full_phone(login, make_case):
    """admin_450102 adds and changes referrals but sees phones masked: the form started from a
    case put the case's full phone in its box. Its box is now empty with the masked number
    shown, and the referral still takes the case's phone over; so do the referral's own edit
    form and a training attendee's."""
    case = make_case(worker_phone="13900000002")
    url = f"/services/referrals/new/?case={case.pk}"
    client = login("admin_450102")
    page = client.get(url)
    assert "13900000002" not in page.content.decode()
    assert "139****0002" in page.content.decode()
    data = {**submitted(page, with_field="employer"), **referral_of(case)}
    assert data["worker_phone"] == ""
    assert client.post(url, data).status_code == 302  # the page posts back to its own URL
    referral = JobReferral.objects.get()
    assert referral.worker_phone == "13900000002"
    edit = f"/services/referrals/{referral.pk}/edit/"
    page = client.get(edit)
    assert "13900000002" not in page.content.decode()
    data = {**submitted(page, with_field="employer"), "position": "司机"}
    assert client.post(edit, data).status_code == 302
    referral.refresh_from_db()
    assert (referral.position, referral.worker_phone) == ("司机", "13900000002")
    # A clerk works the file: the forms hold the full phone.
    clerk = login("clerk_450102")
    assert clerk.get(url).context["form"]["worker_phone"].value() == "13900000002"
    assert clerk.get(edit).context["form"]["worker_phone"].value() == "13900000002"


def test_a_training_attendees_form_does_not_show_a_masked_reader_the_full_phone(login, course):
    attendee = TrainingAttendee.objects.create(
        course=course, worker_name="李强", worker_phone="13900000002"
    )
    url = f"/services/attendees/{attendee.pk}/edit/"
    client = login("admin_450102")
    page = client.get(url)
    assert "13900000002" not in page.content.decode()
    assert "139****0002" in page.content.decode()
    certificate = {"certificate_obtained": "on", "certificate_name": "电工证"}
    data = {**submitted(page, with_field="worker_name"), **certificate}
    assert client.post(url, data).status_code == 302
    attendee.refresh_from_db()
    assert (attendee.certificate_name, attendee.worker_phone) == ("电工证", "13900000002")
    clerk_form = login("clerk_450102").get(url).context["form"]
    assert clerk_form["worker_phone"].value() == "13900000002"


def test_course_and_attendees(login, course):
    client = login("clerk_450102")
    response = client.post(
        f"/services/trainings/{course.pk}/attendees/new/",
        {"worker_name": "李强", "certificate_obtained": "on", "certificate_name": ""},
    )
    assert "请填写所获证书名称。" in response.content.decode()
    client.post(
        f"/services/trainings/{course.pk}/attendees/new/",
        {"worker_name": "李强", "certificate_obtained": "on", "certificate_name": "电工证"},
    )
    attendee = TrainingAttendee.objects.get()
    assert attendee.certificate_name == "电工证"
    listed = client.get("/services/trainings/").context["object_list"]
    assert (listed[0].attendee_count, listed[0].certificate_count) == (1, 1)


def test_a_certificate_before_the_course_ends_is_refused_at_its_field(login, course):
    course.ends_on = timezone.localdate() + timedelta(days=2)
    course.save()
    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    response = client.post(
        f"/services/trainings/{course.pk}/attendees/new/",
        {"worker_name": "李强", "certificate_obtained": "on", "certificate_name": "电工证"},
    )
    errors = response.context["form"].errors
    assert list(errors) == ["certificate_obtained"]
    assert errors["certificate_obtained"] == [
        f"The course ends on {course.ends_on.isoformat()}: “Certificate obtained” cannot be"
        " recorded before then, the attendee has not completed it yet."
    ]
    assert not course.attendees.exists()


def test_a_worker_added_twice_to_a_course_is_refused_at_the_id_field(login, course):
    client = login("clerk_450102")
    data = {"worker_name": "李强", "worker_id_number": id_number()}
    url = f"/services/trainings/{course.pk}/attendees/new/"
    assert client.post(url, data).status_code == 302
    response = client.post(url, data)
    assert response.context["form"].errors == {
        "worker_id_number": ["该职工已是本培训班的学员（身份证号码相同）。"]
    }
    assert course.attendees.count() == 1


def deactivate(organisation):
    type(organisation).objects.filter(pk=organisation.pk).update(is_active=False)


def test_a_case_of_a_deactivated_base_union_is_edited_in_place(login, make_case, users, orgs):
    """A deactivated organisation takes no new records; a record already there keeps it (as a
    retired window keeps its cases): its case is edited without being moved elsewhere."""
    case = make_case(org="450102001")
    deactivate(orgs["450102001"])
    client = login("clerk_450102")
    data = quick_entry(
        matter="补充事由",
        received_at=timezone.localtime(case.received_at).strftime("%Y-%m-%dT%H:%M"),
        handler=users["clerk_450102"].pk,
        organisation=orgs["450102001"].pk,
    )
    response = client.post(f"/services/cases/{case.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    case.refresh_from_db()
    assert (case.matter, case.organisation.code) == ("补充事由", "450102001")
    # No new case goes there.
    response = client.post("/services/new/", data)
    assert set(response.context["form"].errors) == {"organisation"}
    assert Case.objects.count() == 1


def test_a_referral_and_a_course_of_a_deactivated_base_union_are_edited_in_place(
    login, users, orgs
):
    base = orgs["450102001"]
    referral = JobReferral.objects.create(
        organisation=base,
        worker_name="李强",
        employer="某厂",
        position="焊工",
        referred_on=timezone.localdate(),
        created_by=users["clerk_450102"],
    )
    today = timezone.localdate().isoformat()
    course = TrainingCourse.objects.create(
        organisation=base,
        name="电工",
        starts_on=today,
        ends_on=today,
        created_by=users["clerk_450102"],
    )
    deactivate(base)
    client = login("clerk_450102")
    data = {
        "worker_name": "李强",
        "employer": "某厂",
        "position": "焊工",
        "referred_on": today,
        "result": "placed",
        "organisation": base.pk,
    }
    response = client.post(f"/services/referrals/{referral.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    assert JobReferral.objects.get(pk=referral.pk).result == "placed"
    response = client.post("/services/referrals/new/", data)
    assert set(response.context["form"].errors) == {"organisation"}
    course_data = {"name": "高级电工", "starts_on": today, "ends_on": today}
    course_data["organisation"] = base.pk
    response = client.post(f"/services/trainings/{course.pk}/edit/", course_data)
    assert response.status_code == 302, response.context["form"].errors
    assert TrainingCourse.objects.get(pk=course.pk).name == "高级电工"
    response = client.post("/services/trainings/new/", course_data)
    assert set(response.context["form"].errors) == {"organisation"}
    assert (JobReferral.objects.count(), TrainingCourse.objects.count()) == (1, 1)


# --- My work and the list's query count ---------------------------------------------------------


def test_overdue_follow_ups_appear_in_my_work(login, make_case):
    now = timezone.now()
    make_case(
        worker_name="逾期职工",
        received_at=now - timedelta(days=10),
        follow_up_on=(now - timedelta(days=5)).date(),
    )
    make_case(worker_name="未到期职工", follow_up_on=(now + timedelta(days=5)).date())
    home = login("clerk_450102").get("/").content.decode()
    assert "服务案件跟进逾期" in home and "逾期职工" in home and "未到期职工" not in home
    assert "逾期职工" in login("supervisor_450102").get("/").content.decode()
    assert "服务案件跟进逾期" not in login("clerk_450103").get("/").content.decode()
    assert "服务案件跟进逾期" not in login("viewer_450100").get("/").content.decode()
    overdue = login("clerk_450102").get("/services/", {"overdue": "true"}).context["object_list"]
    assert [c.worker_name for c in overdue] == ["逾期职工"]


@pytest.mark.parametrize(("username", "expected"), [("clerk_450102", 1), ("supervisor_450102", 2)])
def test_my_works_overdue_link_lists_the_cases_it_counts(
    login, make_case, users, username, expected
):
    """A clerk's panel counts the cases they handle, a supervisor's every case in scope: the
    panel's link lists the same cases."""
    now = timezone.now()
    for by in ("clerk_450102", "supervisor_450102"):
        make_case(
            by="clerk_450102",
            handler=users[by],
            worker_name=f"{by}的职工",
            received_at=now - timedelta(days=10),
            follow_up_on=(now - timedelta(days=5)).date(),
        )
    client = login(username)
    home = client.get("/")
    panel = next(p for p in home.context["work_panels"] if "跟进逾期" in p["title"])
    link = re.search(r'<a href="(/services/\?[^"]*)">[^<]*全部逾期案件', home.content.decode())
    listed = client.get(html.unescape(link.group(1)))
    assert panel["count"] == listed.context["paginator"].count == expected
    client.cookies["django_language"] = "en"
    text = " ".join(client.get("/").content.decode().split())
    if expected == 1:
        assert "1</span> of your unclosed cases is past its follow-up date" in text
    else:
        assert "2</span> unclosed cases are past their follow-up date" in text


def test_case_list_filters(login, make_case, users):
    make_case(worker_name="甲", window="petition", channel="call")
    make_case(worker_name="乙", window="legal_aid", channel="visit")
    make_case(
        worker_name="丙",
        by="admin_450102",
        handler=users["supervisor_450102"],
        window="legal_aid",
        channel="letter",
    )
    client = login("clerk_450102")

    def names(**params):
        return sorted(
            c.worker_name for c in client.get("/services/", params).context["object_list"]
        )

    assert names(window="legal_aid") == ["丙", "乙"]
    assert names(channel="call") == ["甲"]
    assert names(handler=users["supervisor_450102"].pk) == ["丙"]
    assert names(status="open") == ["丙", "乙", "甲"]
    today = timezone.localdate().isoformat()
    assert len(names(received_after=today, received_before=today)) == 3
    assert names(q="乙") == ["乙"]
    assert names(window="no_such_window") == []


def test_case_list_query_count_does_not_grow_with_rows(login, make_case, django_assert_num_queries):
    client = login("clerk_450102")
    make_case()
    with django_assert_num_queries(11):
        client.get("/services/")
    for n in range(15):
        make_case(worker_name=f"职工{n}", window="legal_aid" if n % 2 else "petition")
    with django_assert_num_queries(11):
        response = client.get("/services/")
    assert len(response.context["object_list"]) == 16


def test_pages_in_english(login, case):
    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    page = client.get("/services/new/").content.decode()
    assert "Quick entry" in page and "Service centre" in page
    detail = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert "Legal aid" in detail and "Open" in detail
    assert "法律援助" not in detail  # the window's seeded name, in English too
    # "共 N 件" counts cases here and requests in funds: one Chinese text, two English ones.
    assert "1 case" in client.get("/services/").content.decode()


def test_editing_without_the_right_to_full_numbers_keeps_the_id_hidden(login, make_case, users):
    number = id_number()
    case = make_case(worker_id_number=number)
    client = login("admin_450102")  # changes cases, but may not see full ID numbers
    page = client.get(f"/services/cases/{case.pk}/edit/")
    assert "worker_id_number" not in page.context["form"].fields
    assert number not in page.content.decode()
    data = quick_entry(
        matter="补充", handler=users["clerk_450102"].pk, organisation=case.organisation_id
    )
    assert client.post(f"/services/cases/{case.pk}/edit/", data).status_code == 302
    case.refresh_from_db()
    assert (case.matter, case.worker_id_number) == ("补充", number)
    assert AccessLog.objects.count() == 0
    login("clerk_450102").get(f"/services/cases/{case.pk}/edit/")
    assert AccessLog.objects.get().detail == "edit"


def test_the_case_edit_form_does_not_show_a_masked_reader_the_full_phone(login, make_case):
    """admin_450102 changes cases but sees phones masked: the edit form put the full phone in
    its box. The box is now empty with the masked number shown; saved as it is, the stored
    phone stays (not the mask, not nothing); a phone typed in replaces it."""
    case = make_case(worker_phone="13900000002")
    url = f"/services/cases/{case.pk}/edit/"
    client = login("admin_450102")
    page = client.get(url)
    assert "13900000002" not in page.content.decode()
    assert "139****0002" in page.content.decode()
    data = submitted(page, with_field="window")
    assert data["worker_phone"] == ""
    assert client.post(url, {**data, "matter": "补充"}).status_code == 302
    case.refresh_from_db()
    assert (case.matter, case.worker_phone) == ("补充", "13900000002")
    assert client.post(url, {**data, "worker_phone": "13700000003"}).status_code == 302
    case.refresh_from_db()
    assert case.worker_phone == "13700000003"
    # A clerk works the file: the box holds the full phone, and clearing it clears it.
    clerk = login("clerk_450102")
    page = clerk.get(url)
    assert page.context["form"]["worker_phone"].value() == "13700000003"
    assert (
        clerk.post(url, {**submitted(page, with_field="window"), "worker_phone": ""}).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.worker_phone == ""


def test_the_case_page_lists_field_edits_with_who_and_old_and_new(login, make_case, users):
    old_number, new_number = id_number(), id_number()
    case = make_case(worker_id_number=old_number, matter="欠薪")
    client = login("clerk_450102")
    detail = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert "登记后未修改" in detail
    data = quick_entry(
        matter="欠薪三个月",
        worker_id_number=new_number,
        handler=users["clerk_450102"].pk,
        organisation=case.organisation_id,
    )
    assert client.post(f"/services/cases/{case.pk}/edit/", data).status_code == 302
    detail = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert "事由：欠薪 → 欠薪三个月" in detail
    assert users["clerk_450102"].get_full_name() in detail or "clerk_450102" in detail
    assert new_number[-4:] in detail and new_number not in detail  # masked, never in full
    assert old_number not in detail


def test_a_follow_up_through_the_page_takes_the_case_off_the_overdue_list(login, make_case):
    """记录跟进: what was done and the next date, in the case's record; a case followed up
    with a later date is no longer overdue, one without a date is not either."""
    now = timezone.now()
    case = make_case(
        worker_name="逾期职工",
        received_at=now - timedelta(days=10),
        follow_up_on=(now - timedelta(days=5)).date(),
    )
    client = login("clerk_450102")
    detail = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert f"/services/cases/{case.pk}/follow-up/" in detail
    url = f"/services/cases/{case.pk}/follow-up/"
    response = client.post(url, {"note": " ", "next_on": ""})
    assert response.context["form"].errors["note"]
    yesterday = (now - timedelta(days=1)).date()
    response = client.post(url, {"note": "电话回访", "next_on": yesterday.isoformat()})
    assert "下次跟进日期不能早于今天。" in response.content.decode()
    assert case.events.count() == 1
    later = (now + timedelta(days=14)).date()
    response = client.post(url, {"note": "电话回访，单位答应月底补发", "next_on": later})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.follow_up_on == later and case.status == Case.Status.OPEN
    assert "逾期职工" not in client.get("/").content.decode()
    detail = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert "电话回访，单位答应月底补发" in detail
    assert f"跟进日期：{case.received_at.date() + timedelta(days=5)} → {later}" in detail
    client.post(url, {"note": "已补发，待职工确认", "next_on": ""})
    case.refresh_from_db()
    assert case.follow_up_on is None and case.status == Case.Status.OPEN
    assert list(case.events.values_list("action", flat=True)) == [
        "logged",
        "followed_up",
        "followed_up",
    ]


def test_a_closed_case_has_no_follow_up(login, case, users):
    case_close(user=users["clerk_450102"], case=case, outcome="已答复")
    client = login("clerk_450102")
    assert "follow-up" not in client.get(f"/services/cases/{case.pk}/").content.decode()
    response = client.post(f"/services/cases/{case.pk}/follow-up/", {"note": "回访"})
    assert "该案件已办结" in response.content.decode()
    assert not case.events.filter(action="followed_up").exists()


def test_legal_aid_details_and_their_edits_are_in_the_case_record(login, case):
    client = login("clerk_450102")
    data = {"dispute_type": "wage_arrears", "fees_waived": "0", "wages_recovered": "0"}
    client.post(f"/services/cases/{case.pk}/legal-aid/", {**data, "lawyer": "莫律师"})
    detail = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert "纠纷类型：— → 拖欠工资" in detail and "承办律师：— → 莫律师" in detail
    assert "减免费用（元）：" not in detail  # a default left as it was is no edit
    data.update(lawyer="莫律师", wages_recovered="8000.00", fees_waived="1500")
    client.post(f"/services/cases/{case.pk}/legal-aid/", data)
    detail = client.get(f"/services/cases/{case.pk}/").content.decode()
    assert "追回拖欠工资（元）：0.00 → 8,000.00" in detail  # amounts as every page prints them
    assert "<dd>1,500.00</dd>" in detail and "1500.00" not in detail
    assert detail.index("0.00 → 8,000.00") < detail.index("— → 莫律师")  # newest first
