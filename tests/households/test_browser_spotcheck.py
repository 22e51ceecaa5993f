"""The yearly spot-check of files in a real browser: the supervisor draws it, a clerk records a
discrepancy, and the file's page shows it."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from households.models import Household, SpotCheck, SpotCheckSample, Status

pytestmark = pytest.mark.browser


def test_a_supervisor_draws_and_a_clerk_records(browser_login, live_users, make_household):
    files = [make_household(worker_name=f"抽查户{i}") for i in range(4)]
    Household.objects.filter(pk__in=[h.pk for h in files]).update(status=Status.ON_FILE)
    page = browser_login("supervisor_450102")
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(page.base_url + reverse("households:list"))
    page.get_by_role("link", name="年度档案抽查").click()
    expect(page.locator("h1")).to_have_text("年度档案抽查")
    page.fill("#id_share", "20")
    page.get_by_role("button", name="随机抽取").click()
    expect(page.locator("#form-errors")).to_contain_text("抽查比例")
    assert not SpotCheckSample.objects.exists()
    page.fill("#id_share", "50")
    page.get_by_role("button", name="随机抽取").click()
    expect(page.locator(".messages")).to_contain_text(
        "已从 4 份在档档案中随机抽取 2 份（50%）待核查。"
    )
    expect(page.locator("h1")).to_contain_text("兴宁区总工会")
    expect(page.get_by_text("已核查 0 / 2 份")).to_be_visible()
    expect(page.get_by_role("link", name="登记结果")).to_have_count(0)  # the clerks record

    page.get_by_role("button", name="退出").click()
    page = browser_login("clerk_450102")
    sample = SpotCheckSample.objects.get()
    page.goto(page.base_url + reverse("households:spotcheck_detail", args=[sample.pk]))
    page.get_by_role("link", name="登记结果").first.click()
    page.get_by_label("不属实或有出入").check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-errors")).to_contain_text("不属实或有出入的，请填写核查情况。")
    page.select_option("#id_action", label="更正档案")
    page.fill("#id_note", "家庭成员已就业，收入与档案不符")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("抽查结果已登记。")
    expect(page.get_by_text("已核查 1 / 2 份，不属实或有出入 1 份")).to_be_visible()
    expect(page.get_by_role("link", name="登记结果")).to_have_count(1)

    checked = SpotCheck.objects.get(outcome="discrepancy")
    assert checked.checked_by.username == "clerk_450102" and checked.action == "correct"
    page.get_by_role("link", name=checked.household.file_number).click()
    section = page.locator("#spot-checks")
    expect(section).to_contain_text("不属实或有出入")
    expect(section).to_contain_text("家庭成员已就业，收入与档案不符")
    assert problems == []
