"""Browser-side hardening: the Content Security Policy on every page (no inline script, no
inline style, no eval, no framing), no inline script or event handler in any template or
rendered page (ours and the admin's), and the cookie, HSTS and isolation headers of production."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from households import services as household_services
from orgs.models import AccessLog
from services.models import Case, Window
from services.services import case_create
from tests.households.conftest import dibao, make_household, new_id, walk  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

EXPECTED_POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}

TAG = re.compile(r"<[a-zA-Z][^>]*>", re.S)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.I)


def policy_of(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


def inline_code(html: str, *, styles: bool = True) -> list[str]:
    """Inline scripts (a <script> without src that is not JSON data), on…= handlers and, with
    `styles`, style attributes: everything the policy would block."""
    found = []
    for tag in SCRIPT_TAG.findall(html):
        if "src=" not in tag and "application/json" not in tag:
            found.append(tag)
    for tag in TAG.findall(html):
        if HANDLER.search(tag) or (styles and STYLE_ATTR.search(tag)):
            found.append(tag[:200])
    if styles and re.search(r"<style\b", html, re.I):
        found.append("<style>")
    return found


def assert_hardened(response, *, styles=True):
    assert response.status_code == 200, response.status_code
    policy = policy_of(response)
    for directive, values in EXPECTED_POLICY.items():
        assert policy.get(directive) == values, (directive, policy.get(directive))
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Referrer-Policy"] == "same-origin"
    if response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        assert inline_code(html, styles=styles) == []


# --- Templates: nothing inline anywhere ---------------------------------------------------------


def project_templates():
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]:
        if ".venv" in folder.parts:
            continue
        yield from (path for path in folder.rglob("*.html") if "pdf" not in path.parts)


def test_no_template_has_inline_script_style_or_handlers():
    offenders = {}
    for path in project_templates():
        found = inline_code(path.read_text())
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}
    assert len(list(project_templates())) > 50  # the walk found the templates


def test_the_inline_checker_catches_what_the_policy_blocks():
    assert inline_code('<script>alert(1)</script><script src="/s.js"></script>') == ["<script>"]
    assert inline_code('<button onclick="x()">') and inline_code('<a hx-on:click="x()">')
    assert inline_code('<p style="color:red">') and inline_code("<style>p{}</style>")
    assert inline_code('<script type="application/json" id="d">{}</script>') == []
    assert inline_code("<p>only on weekdays; style matters</p>") == []


def test_htmx_is_configured_for_the_policy(login, users):
    html = login("clerk_450102").get("/").content.decode()
    assert (
        "includeIndicatorStyles&quot;: false" in html or '"includeIndicatorStyles": false' in html
    )
    assert '"allowEval": false' in html
    css = (ROOT / "static/css/bangfu.css").read_text()
    assert ".htmx-indicator" in css and ".htmx-request" in css


# --- Every kind of page, rendered ---------------------------------------------------------------


@pytest.fixture
def records(make_household, walk, users):  # noqa: F811
    household = make_household(bank_account="6222000011112222", bank_name="工行")
    on_file = walk(make_household(id_number=new_id(1970)), "on_file")
    document = household_services.document_upload(
        user=users["clerk_450102"],
        household=on_file,
        kind="income_proof",
        upload=SimpleUploadedFile("证明.pdf", PDF),
    )
    case = case_create(
        user=users["clerk_450102"],
        case=Case(
            organisation=users["clerk_450102"].organisation,
            window=Window.objects.get(code="legal_aid"),
            handler=users["clerk_450102"],
            worker_name="王芳",
            worker_id_number=new_id(1975),
            matter="欠薪",
        ),
    )
    AccessLog.objects.create(user=users["clerk_450102"], action="view_file", target="x")
    return {"draft": household, "on_file": on_file, "document": document, "case": case}


def staff_pages(r):
    draft, on_file, case = r["draft"].pk, r["on_file"].pk, r["case"].pk
    return {
        "clerk_450102": [
            "/",
            reverse("password_change"),
            reverse("households:list"),
            reverse("households:standing"),
            reverse("households:create"),
            reverse("households:detail", args=[draft]),
            reverse("households:detail", args=[on_file]),
            reverse("households:edit", args=[draft]),
            reverse("households:transition", args=[draft, "submit"]),
            reverse("households:survey", args=[on_file]),
            reverse("households:document_upload", args=[draft]),
            reverse("households:closure_request", args=[on_file]),
            reverse("households:notice_start"),
            reverse("funds:request_list"),
            reverse("funds:household_pick") + "?q=张",
            reverse("services:case_list"),
            reverse("services:case_create"),
            reverse("services:case_detail", args=[case]),
            reverse("services:case_update", args=[case]),
            reverse("services:legal_aid_list"),
            reverse("services:referral_list"),
            reverse("services:referral_create"),
            reverse("services:course_list"),
            reverse("services:statistics"),
            reverse("reports:summary"),
            reverse("reports:roster"),
        ],
        "finance_450102": [
            reverse("funds:index"),
            reverse("funds:receipt_list"),
            reverse("funds:receipt_create"),
            reverse("funds:refund_list"),
            reverse("funds:ledger"),
            reverse("funds:batch_list"),
            reverse("funds:sample_list"),
            reverse("funds:statement"),
            reverse("funds:closed_years"),
        ],
        "supervisor_450102": [reverse("funds:discrepancies")],
    }


def admin_pages(r):
    on_file, case = r["on_file"].pk, r["case"].pk
    return {
        "supervisor_450102": [
            reverse("admin:index"),
            reverse("admin:households_household_changelist"),
            reverse("admin:households_household_change", args=[on_file]),
            reverse("admin:households_household_history", args=[on_file]),
            reverse("admin:households_transition_changelist"),
            reverse("admin:funds_assistancerequest_changelist"),
            reverse("admin:services_case_changelist") + "?status__exact=open",
            reverse("admin:services_case_change", args=[case]),
            reverse("admin:services_case_history", args=[case]),
            reverse("admin:password_change"),
        ],
        "admin_450102": [
            reverse("admin:orgs_accesslog_changelist"),
            reverse("admin:orgs_user_add"),
            reverse("admin:orgs_user_changelist"),
            reverse("admin:orgs_holiday_add"),
            reverse("admin:axes_accessattempt_changelist"),
            reverse("admin:axes_accesslog_changelist"),
        ],
    }


def test_every_staff_page_has_the_policy_and_nothing_inline(client, users, records):
    for username, urls in staff_pages(records).items():
        client.force_login(users[username])
        for url in urls:
            response = client.get(url)
            if response.status_code == 302:  # e.g. a step not open for this file
                continue
            try:
                assert_hardened(response)
            except AssertionError as error:
                raise AssertionError(f"{username} {url}: {error}") from error


def test_htmx_fragments_and_the_reveal_page_too(client, users, records):
    client.force_login(users["clerk_450102"])
    url = reverse("households:reveal", args=[records["on_file"].pk])
    assert_hardened(client.post(url))
    assert_hardened(client.post(url, HTTP_HX_REQUEST="true"))
    earlier = reverse("services:earlier_cases")
    assert_hardened(client.post(earlier, {"worker_name": "王芳"}, HTTP_HX_REQUEST="true"))


def test_admin_pages_have_the_policy_and_no_inline_script(client, users, records):
    # The admin's own markup is Django's: scripts and handlers are what matter (Django 5 moved
    # its inline scripts out); a style attribute of a third-party template is only cosmetic.
    for username, urls in admin_pages(records).items():
        client.force_login(users[username])
        for url in urls:
            try:
                assert_hardened(client.get(url), styles=False)
            except AssertionError as error:
                raise AssertionError(f"{username} {url}: {error}") from error


def test_login_and_lockout_pages_are_covered_too(client, db):
    assert_hardened(client.get(reverse("login")))
    assert_hardened(client.get(reverse("admin:login")), styles=False)


def test_document_downloads_carry_the_policy_and_are_attachments(client, users, records):
    client.force_login(users["supervisor_450102"])
    response = client.get(reverse("households:document_download", args=[records["document"].pk]))
    b"".join(response.streaming_content)
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


# --- Production: cookies, HSTS, redirects ---------------------------------------------------------

PRODUCTION = {
    "DEBUG": False,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "ALLOWED_HOSTS": ["bangfu.example.org"],
}


@override_settings(**PRODUCTION)
def test_production_headers_and_cookies(client, users):
    https = {"HTTP_HOST": "bangfu.example.org", "HTTP_X_FORWARDED_PROTO": "https"}
    plain = client.get("/accounts/login/", HTTP_HOST="bangfu.example.org")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")

    page = client.get("/accounts/login/", **https)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page["X-Frame-Options"] == "DENY"
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"

    from orgs.demo import DEMO_PASSWORD

    response = client.post(
        "/accounts/login/", {"username": "clerk_450102", "password": DEMO_PASSWORD}, **https
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    expires_in = timedelta(seconds=int(session["max-age"]))
    assert timedelta(hours=1) <= expires_in <= timedelta(hours=12)


# --- In a real browser: the pages work under the policy and nothing is blocked --------------------


@pytest.mark.browser
def test_no_policy_violation_in_the_browser(browser_login, live_users, make_household):  # noqa: F811
    """Chromium reports every blocked inline script, style or eval as a console error and a
    securitypolicyviolation event; the household form's script and htmx must still work."""
    blocked = []
    page = browser_login("supervisor_450102")
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda error: blocked.append(str(error)))
    watch = (
        "window.__csp = window.__csp || [];"
        "document.addEventListener('securitypolicyviolation', e => window.__csp.push("
        "e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));"
    )
    page.add_init_script(watch)
    visited = []

    def visit(path):
        page.goto(page.base_url + path)
        page.wait_for_load_state("networkidle")
        visited.append((path, page.evaluate("window.__csp || []")))

    for path in ("/", "/households/", "/funds/", "/services/", "/reports/summary/", "/admin/"):
        visit(path)
    visit("/admin/households/household/")
    visit("/admin/orgs/user/")
    # django-simple-history's page: its one style attribute is allowed by its hash.
    visit(reverse("admin:households_household_history", args=[make_household().pk]))

    # The clerk's form: the member row script and the htmx live check, both from static files.
    page.context.clear_cookies()
    browser_login("clerk_450102")
    page.goto(page.base_url + "/households/new/")
    page.click("#add-member")
    assert page.locator('select[name="members-1-relation"]').count() == 1
    page.fill("#id_members-0-monthly_income", "600")
    page.locator("#preview").wait_for()
    page.wait_for_load_state("networkidle")
    visited.append(("/households/new/", page.evaluate("window.__csp || []")))
    visit("/services/new/")
    page.fill("#id_worker_name", "王")
    page.wait_for_load_state("networkidle")
    visited.append(("/services/new/ typed", page.evaluate("window.__csp || []")))

    assert [(path, found) for path, found in visited if found] == []
    assert blocked == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("reports:summary", "org"),
        ("reports:roster", "org"),
        ("services:statistics", "organisation"),
    ],
)
def test_a_nul_character_in_the_query_is_a_bad_request(login, url, param):
    """PostgreSQL refuses NUL in text: a lookup by such a parameter would end in a 500."""
    client = login("supervisor_450102")
    response = client.get(reverse(url), {param: "4501\x0002"})
    assert response.status_code == 400
    assert "无效字符" in response.content.decode()
    assert client.get(reverse(url), {"x\x00": "1"}).status_code == 400
    assert client.get(reverse(url), {param: "450102"}).status_code == 200
