"""批量申请帮扶 in a real browser: the clerk filters the county's files, previews (one file is
skipped, saying why), confirms, and lands on the list of requests awaiting approval."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from funds.models import AssistanceRequest
from households.models import Category

pytestmark = pytest.mark.browser


def test_filter_preview_confirm_and_the_requests_are_listed(
    browser_login, live_users, filed, receive, standard
):
    year = timezone.localdate().year
    receive("100000.00", on=date(year, 1, 2))
    standard("festival", year=year, amount_cap=Decimal("1000.00"), times_per_year=1)
    deep = [filed(worker_name="刘一"), filed(worker_name="刘二")]
    filed(worker_name="刘三", bank_account="")
    filed(worker_name="陈四", category="relative")  # filtered out
    page = browser_login("clerk_450102")
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(page.base_url + reverse("funds:request_list"))
    page.get_by_role("link", name="批量申请").click()

    page.select_option("#id_assistance_type", label="送温暖")
    page.select_option("#id_source", label="中央财政")
    page.fill("#id_reason", f"{year}年春节送温暖")
    page.select_option("#id_category", label=str(Category.objects.get(code="deep")))
    page.get_by_role("button", name="预览").click()

    preview = page.locator("#batch-preview").locator("xpath=..")
    expect(preview).to_contain_text("刘一")
    expect(preview).to_contain_text("跳过：档案未登记本人银行账号")
    expect(preview).not_to_contain_text("陈四")
    assert AssistanceRequest.objects.count() == 0
    page.get_by_role("button", name="确认提交 2 笔申请（合计 2,000.00 元）").click()

    expect(page.locator(".messages, [role=status], body").first).to_contain_text(
        "已提交 2 笔送温暖申请，合计 2,000.00 元，等待审批。"
    )
    assert page.url.endswith(reverse("funds:request_list") + "?state=requested")
    for household in deep:
        expect(page.locator("table")).to_contain_text(household.worker_name)
    assert {r.household for r in AssistanceRequest.objects.all()} == set(deep)
    assert problems == []
