"""The request form in a real browser: the standard that applies, and what the household has used
of it this year, follow what the clerk picks and types (htmx), before anything is saved."""

from decimal import Decimal

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
