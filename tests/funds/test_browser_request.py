"""The request form in a real browser: the standard that applies, and what the household has used
of it this year, follow what the clerk picks and types (htmx), before anything is saved."""

from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_standard_panel_follows_the_form(browser_login, live_users, filed, standard):
    year = timezone.localdate().year
    standard(
        "living", year=year, amount_cap=Decimal("500.00"), second_approval_above=Decimal("300.00")
    )
    household = filed()
    page = browser_login("clerk_450102")
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(page.base_url + reverse("funds:request_create", args=[household.pk]))
    panel = page.locator("#request-standard")
    expect(panel).to_contain_text("选择帮扶项目后")

    page.select_option("#id_assistance_type", label="生活救助")
    expect(panel).to_contain_text("500.00 元")
    expect(panel).to_contain_text("超过 300.00 元须二级审批")
    page.fill("#id_amount", "600")
    page.press("#id_amount", "Tab")  # change fires when the field is left
    expect(panel).to_contain_text("超出标准：生活救助每次最高 500.00 元")
    expect(panel).to_contain_text("本次申请须二级审批")
    page.fill("#id_amount", "200")
    page.press("#id_amount", "Tab")
    expect(panel).not_to_contain_text("超出标准")
    assert problems == []


def test_the_panel_is_posted_and_the_reason_never_goes_in_a_url(
    browser_login, live_users, filed, standard
):
    """The panel is refreshed by hx-post with the form's CSRF token: the 申请理由, which may
    hold health details, and the other fields stay out of every URL the browser requests."""
    standard("living", year=timezone.localdate().year, amount_cap=Decimal("500.00"))
    household = filed()
    page = browser_login("clerk_450102")
    sent = []
    page.on("request", lambda request: sent.append((request.method, request.url)))
    page.goto(page.base_url + reverse("funds:request_create", args=[household.pk]))
    panel = page.locator("#request-standard")
    page.select_option("#id_assistance_type", label="生活救助")
    expect(panel).to_contain_text("500.00 元")
    reason = "患尿毒症每周透析"
    page.fill("#id_reason", reason)
    with page.expect_response(lambda r: "/standard/" in r.url and r.status == 200):
        page.press("#id_reason", "Tab")
    url = reverse("funds:request_standard", args=[household.pk])
    panel_requests = [method for method, address in sent if address.endswith(url)]
    assert panel_requests and set(panel_requests) == {"POST"}
    leaked = [address for _method, address in sent if reason in unquote(address)]
    assert not leaked and not any("assistance_type=" in address for _m, address in sent)


def test_the_panel_counts_the_chosen_member_of_a_per_person_standard(
    browser_login, live_users, filed, standard, add_students
):
    year = timezone.localdate().year
    standard("schooling", year=year, tier="college", times_per_year=1, scope="person")
    household = filed()
    add_students(household, "张一")
    page = browser_login("clerk_450102")
    page.goto(page.base_url + reverse("funds:request_create", args=[household.pk]))
    panel = page.locator("#request-standard")
    page.select_option("#id_assistance_type", label="助学")
    page.select_option("#id_tier", value="college")
    expect(panel).to_contain_text("每人每年最多 1 次；请选择受助成员")
    page.select_option("#id_beneficiary", label="张一（大学（专科、本科））")
    expect(panel).to_contain_text("每人每年最多 1 次，张一 本年已有 0 次")


def test_a_form_already_sent_is_not_sent_again(browser_login, live_users, filed):
    """An impatient second click while the server works would record the request twice: the
    page lets a form's first submit go and holds back those that follow for a few seconds.
    (The server refuses a repeated request as well: tests/funds/test_requests.py.)"""
    household = filed()
    page = browser_login("clerk_450102")
    page.goto(page.base_url + reverse("funds:request_create", args=[household.pk]))
    sent = page.evaluate(
        """() => {
            const form = document.querySelector("form[method=post]");
            const submit = () => {
                const event = new Event("submit", {bubbles: true, cancelable: true});
                form.dispatchEvent(event);
                return !event.defaultPrevented;
            };
            return [submit(), submit(), submit()];
        }"""
    )
    assert sent == [True, False, False]
