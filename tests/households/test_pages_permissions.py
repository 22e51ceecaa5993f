"""Every households URL by role: anonymous → login, wrong role → 403, another county → 404."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, get_resolver, reverse
from django.utils import timezone

from households import services
from households.models import ClosureRequest, Document, Household, Objection
from households.spotchecks import spotcheck_draw

PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

ROLES = [
    "clerk_450102",
    "supervisor_450102",
    "finance_450102",
    "viewer_450100",
    "admin_450102",
    "clerk_450103",
]
CLERK = {"clerk_450102", "clerk_450103"}
SUPERVISOR = {"supervisor_450102", "supervisor_450103"}
EVERYONE = set(ROLES)
FULL_NUMBERS = {"clerk_450102", "clerk_450103", "supervisor_450102", "finance_450102"}
DOCUMENTS = {"clerk_450102", "clerk_450103", "supervisor_450102"}

# name → (method, who may use it, whether it is about one 450102 record)
MATRIX = {
    "list": ("get", EVERYONE, False),
    "list_total": ("get", EVERYONE, False),
    "standing": ("get", EVERYONE, False),
    "create": ("get", CLERK, False),
    "preview": ("post", CLERK, False),
    "notice_start": ("get", CLERK, False),
    "notice_pdf": ("get", EVERYONE - {"finance_450102"}, True),
    "detail": ("get", EVERYONE, True),
    "file_pdf": ("get", EVERYONE, True),  # 打印档案表: whoever opens the file
    "letter_pdf": ("get", CLERK | SUPERVISOR, True),  # 告知书: the staff who handle files
    "edit": ("get", CLERK, True),
    "reveal": ("post", FULL_NUMBERS, True),
    "transition:submit": ("get", CLERK, True),
    "transition:approve": ("get", SUPERVISOR, True),
    "survey": ("get", CLERK, True),
    "closure_request": ("get", CLERK, True),
    "objection_create": ("get", CLERK, True),
    "document_upload": ("get", CLERK, True),
    "closure_decide": ("get", SUPERVISOR, True),
    "objection_resolve": ("get", SUPERVISOR, True),
    "document_download": ("get", DOCUMENTS, True),
    "document_withdraw": ("get", CLERK, True),
    # the yearly spot-check: read by who reads files, drawn by supervisors, recorded by clerks
    "spotcheck_list": ("get", EVERYONE - {"finance_450102"}, False),
    "spotcheck_detail": ("get", EVERYONE - {"finance_450102"}, True),
    "spotcheck_record": ("get", CLERK, True),
    # 逾期录入: the supervisor's list of changes recorded late, of their own subtree
    "late_entries": ("get", SUPERVISOR, False),
}
GET_ONLY = {
    "standing",
    "detail",
    "file_pdf",
    "letter_pdf",
    "document_download",
    "notice_pdf",
    "list_total",
    "spotcheck_detail",
}
SEARCHES = {"list"}  # its search form is posted (an ID number stays out of URLs): reads only


@pytest.fixture
def records(make_household, walk, users):
    """A draft, a file under notice with an objection, a file on file with a pending closure
    request and a document; all of county 450102."""
    clerk = users["clerk_450102"]
    draft = make_household()
    noticed = walk(make_household(), "notice")
    objection = services.objection_record(
        user=clerk,
        household=noticed,
        raised_by="邻居",
        raised_on=noticed.current_period.notice.ends_on,  # within the notice
        content="有两套住房",
    )
    on_file = walk(make_household(), "on_file")
    closure = services.closure_request(
        user=clerk,
        household=on_file,
        kind="exited",
        effective_date=timezone.localdate(),
        reason="收入已稳定",
    )
    document = services.document_upload(
        user=clerk,
        household=on_file,
        kind="income_proof",
        upload=SimpleUploadedFile("收入证明.pdf", PDF, content_type="application/pdf"),
    )
    refused = walk(make_household(), "applied")
    services.transition_apply(
        user=users["supervisor_450102"], household=refused, action="reject", reason="收入高于标准"
    )
    spotcheck = spotcheck_draw(
        user=users["supervisor_450102"],
        organisation=on_file.organisation,
        year=timezone.localdate().year,
        share=100,
    )
    return {
        "spotcheck": spotcheck,
        "spotcheck_item": spotcheck.items.get(),
        "draft": draft,
        "notice": noticed,
        "on_file": on_file,
        "refused": refused,
        "objection": objection,
        "closure": closure,
        "document": document,
        "documents": Document.objects.count(),
    }


def url_for(name: str, records) -> str:
    pk = {
        "detail": records["on_file"].pk,
        "file_pdf": records["on_file"].pk,
        "letter_pdf": records["refused"].pk,
        "edit": records["draft"].pk,
        "reveal": records["on_file"].pk,
        "survey": records["on_file"].pk,
        "closure_request": records["on_file"].pk,
        "objection_create": records["notice"].pk,
        "document_upload": records["draft"].pk,
        "closure_decide": records["closure"].pk,
        "objection_resolve": records["objection"].pk,
        "document_download": records["document"].pk,
        "document_withdraw": records["document"].pk,
        "notice_pdf": records["notice"].current_period.notice_id,
        "spotcheck_detail": records["spotcheck"].pk,
        "spotcheck_record": records["spotcheck_item"].pk,
    }
    if name.startswith("transition:"):
        action = name.split(":")[1]
        household = records["draft"] if action == "submit" else records["notice"]
        return reverse("households:transition", args=[household.pk, action])
    if name in pk:
        return reverse(f"households:{name}", args=[pk[name]])
    return reverse(f"households:{name}")


def test_the_matrix_covers_every_households_url():
    names = {
        name.split(":", 1)[1]
        for name in _all_names(get_resolver())
        if name.startswith("households:")
    }
    assert names == {name.split(":")[0] for name in MATRIX}


def _all_names(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}"
        else:
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _all_names(pattern, ns)


@pytest.mark.parametrize("name", list(MATRIX))
def test_anonymous_is_sent_to_login(client, records, name):
    method, _allowed, _scoped = MATRIX[name]
    response = getattr(client, method)(url_for(name, records))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def expected_status(name: str, username: str) -> int:
    _method, allowed, scoped = MATRIX[name]
    if username not in allowed:
        return 403
    if scoped and username.endswith("450103"):
        return 404  # another county's record is simply not found
    return 200


@pytest.mark.parametrize("name", list(MATRIX))
def test_roles_and_scope(login, records, name):
    method = MATRIX[name][0]
    url = url_for(name, records)
    actual = {}
    for username in ROLES:
        response = getattr(login(username), method)(url)
        if response.streaming:  # read a download to the end, so the test client closes it
            b"".join(response.streaming_content)
        actual[username] = response.status_code
    assert actual == {username: expected_status(name, username) for username in ROLES}


@pytest.mark.parametrize("name", [n for n in MATRIX if n not in GET_ONLY | SEARCHES])
def test_the_city_viewer_may_not_post_anything(login, records, name):
    client = login("viewer_450100")
    response = client.post(url_for(name, records), {"reason": "x", "note": "x"})
    assert response.status_code == 403
    assert not Objection.objects.exclude(pk=records["objection"].pk).exists()
    assert ClosureRequest.objects.get().state == "pending"
    # None withdrawn, none added (the files hold their required documents besides).
    assert not Document.objects.filter(is_active=False).exists()
    assert Document.objects.count() == records["documents"]


@pytest.mark.parametrize("name", sorted(GET_ONLY))
def test_read_only_pages_do_not_accept_posts(login, records, name):
    response = login("clerk_450102").post(url_for(name, records))
    assert response.status_code == 405


@pytest.mark.parametrize("username", ROLES)
def test_a_posted_search_only_redirects_to_the_list(login, records, username):
    before = Household.objects.values_list("pk", "status", "updated_at").order_by("pk")
    before = list(before)
    response = login(username).post(url_for("list", records), {"q": "张", "status": "draft"})
    assert response.status_code == 303
    assert response["Location"] == url_for("list", records) + "?q=%E5%BC%A0&status=draft"
    after = Household.objects.values_list("pk", "status", "updated_at").order_by("pk")
    assert list(after) == before


def test_the_city_viewer_reads_the_county_files(login, records):
    client = login("viewer_450100")
    response = client.get(reverse("households:list"))
    assert records["on_file"].file_number in response.content.decode()
    response = client.get(reverse("households:detail", args=[records["on_file"].pk]))
    page = response.content.decode()
    assert records["on_file"].id_masked in page
    assert records["on_file"].id_number not in page
    assert "显示完整号码" not in page  # no reveal button, and the view refuses anyway


@pytest.mark.parametrize(
    ("username", "full"),
    [("viewer_450100", False), ("clerk_450102", True), ("supervisor_450102", True)],
)
def test_the_workers_phone_is_masked_to_readers_of_the_file(login, records, username, full):
    """Upper-level unions read files for their statistics: the worker's phone number was shown
    to them in full, while the export masks it for the same role."""
    household = records["on_file"]
    household.phone = "13812345678"
    household.save(update_fields=["phone"])
    page = login(username).get(reverse("households:detail", args=[household.pk]))
    page = page.content.decode()
    assert ("13812345678" in page) is full  # nor in the trail's record of the change
    assert ("138****5678" in page) is not full


@pytest.mark.parametrize(
    ("username", "full"),
    [
        ("viewer_450100", False),
        ("admin_450102", False),
        ("clerk_450102", True),
        ("supervisor_450102", True),
    ],
)
def test_the_birth_date_is_shown_only_to_those_who_see_full_numbers(login, records, username, full):
    """The masked number (450102********1234) hides exactly the birth date, and the file's page
    printed the date beside it to readers who see numbers masked: the whole number."""
    household = records["on_file"]
    page = login(username).get(reverse("households:detail", args=[household.pk]))
    page = page.content.decode()
    assert household.id_masked in page
    assert (household.birth_date.strftime("%Y-%m-%d") in page) is full


def test_the_workers_phone_is_masked_to_the_administrator_in_the_admin(login, records):
    household = records["on_file"]
    household.phone = "13812345678"
    household.save(update_fields=["phone"])
    url = reverse("admin:households_household_change", args=[household.pk])
    page = login("admin_450102").get(url).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    page = login("supervisor_450102").get(url).content.decode()
    assert "13812345678" in page
