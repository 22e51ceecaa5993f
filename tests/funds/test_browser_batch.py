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


@pytest.fixture
def festival_round(live_users, filed, receive, standard, types, sources):
    """One file that passes, one skipped; returns the form's choices (any language)."""
    year = timezone.localdate().year
    receive("100000.00", on=date(year, 1, 2))
    standard("festival", year=year, amount_cap=Decimal("1000.00"), times_per_year=1)
    filed(worker_name="刘一")
    filed(worker_name="刘三", bank_account="")  # skipped: no bank account
    return {"type": str(types["festival"].pk), "source": str(sources["central"].pk)}


def fill_and_preview(page, choices, preview="预览"):
    page.goto(page.base_url + reverse("funds:request_batch"))
    page.select_option("#id_assistance_type", choices["type"])
    page.select_option("#id_source", choices["source"])
    page.fill("#id_reason", "春节送温暖")
    page.get_by_role("button", name=preview).click()
    page.wait_for_load_state()


def test_the_page_opens_on_the_preview(browser_login, festival_round):
    """The preview lay under a form taller than the screen: after 预览 the page opened at its
    top, unchanged but for a new button at the form's end, and the clerk saw no preview."""
    page = browser_login("clerk_450102")
    page.set_viewport_size({"width": 1366, "height": 900})
    fill_and_preview(page, festival_round)
    expect(page.locator("#batch-preview")).to_be_focused()  # autofocus: once loaded
    expect(page.locator("#batch-preview")).to_be_in_viewport()
    confirm = page.get_by_role("button", name="确认提交 1 笔申请（合计 1,000.00 元）")
    expect(confirm).to_be_in_viewport()
    confirm.click()
    page.wait_for_url(page.base_url + reverse("funds:request_list") + "?state=requested")
    assert AssistanceRequest.objects.count() == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_reasons_read_as_lines_on_a_phone(browser_login, festival_round, language):
    """On a phone the preview's table squeezed its last column to the width of its heading
    (结果): a reason ran one or two characters a line, each skipped row 700 px tall. The reason
    keeps a readable width now, the table scrolling sideways in its box, not the page."""
    page = browser_login("clerk_450102")
    page.set_viewport_size({"width": 390, "height": 844})
    if language == "en":
        page.select_option("#language-select", "en")
        page.click(".lang-switch button")
        page.wait_for_load_state()
    fill_and_preview(page, festival_round, "预览" if language == "zh-hans" else "Preview")
    reason = page.locator("table.batch-rows tbody tr", has_text="刘三").locator("td").last
    lines = reason.evaluate(
        """(cell) => {
          const range = document.createRange();
          range.selectNodeContents(cell);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        }"""
    )
    assert lines <= 4, reason.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_schooling_round_requests_each_student(
    browser_login, live_users, filed, receive, standard, add_students, types, sources
):
    """金秋助学: the preview lists each university student under their household, the
    confirmation requests one for each."""
    year = timezone.localdate().year
    receive("100000.00", on=date(year, 1, 2))
    standard(
        "schooling",
        year=year,
        tier="college",
        amount_cap=Decimal("5000.00"),
        times_per_year=1,
        scope="person",
    )
    household = filed(worker_name="黄大")
    add_students(household, "黄一", "黄二")
    filed(worker_name="林大")  # no student: skipped, saying why
    page = browser_login("clerk_450102")
    page.goto(page.base_url + reverse("funds:request_batch"))
    page.select_option("#id_assistance_type", str(types["schooling"].pk))
    page.select_option("#id_tier", "college")
    page.select_option("#id_source", str(sources["central"].pk))
    page.fill("#id_reason", f"{year}年金秋助学")
    page.get_by_role("button", name="预览").click()

    rows = page.locator("table.batch-rows tbody", has_text="黄大").locator("tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("黄一")
    expect(rows.nth(1)).to_contain_text("黄二")
    expect(page.locator("table.batch-rows")).to_contain_text("跳过：档案中没有就学阶段为")
    page.get_by_role("button", name="确认提交 2 笔申请（合计 10,000.00 元）").click()
    page.wait_for_url(page.base_url + reverse("funds:request_list") + "?state=requested")
    assert sorted(r.beneficiary_name for r in AssistanceRequest.objects.all()) == ["黄一", "黄二"]


def test_a_round_across_stages_takes_each_students_tier(
    browser_login, live_users, filed, receive, standard, add_students, types, sources
):
    """金秋助学 across school stages in one batch: each student under their stage's tier, a
    pupil (no tier for their stage) skipped saying why, the totals per tier above the rows."""
    year = timezone.localdate().year
    receive("100000.00", on=date(year, 1, 2))
    for tier, cap in (("senior", "2000.00"), ("college", "5000.00")):
        standard("schooling", year=year, tier=tier, amount_cap=Decimal(cap), scope="person")
    household = filed(worker_name="黄大")
    add_students(household, "黄小", stage="primary")
    add_students(household, "黄高", stage="senior")
    add_students(household, "黄一")
    page = browser_login("clerk_450102")
    page.goto(page.base_url + reverse("funds:request_batch"))
    page.select_option("#id_assistance_type", str(types["schooling"].pk))
    page.select_option("#id_tier", "by_stage")
    page.select_option("#id_source", str(sources["central"].pk))
    page.fill("#id_reason", f"{year}年金秋助学")
    page.get_by_role("button", name="预览").click()

    totals = page.locator("table", has_text="按档次合计")
    expect(totals.locator("tbody tr")).to_have_count(2)
    expect(totals.locator("tbody tr").nth(0)).to_contain_text("高中、中职")
    expect(totals.locator("tbody tr").nth(1)).to_contain_text("5,000.00")
    rows = page.locator("table.batch-rows tbody", has_text="黄大").locator("tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="黄小")).to_contain_text("跳过：黄小 的就学阶段为小学")
    expect(rows.filter(has_text="黄高")).to_contain_text("高中、中职")
    page.set_viewport_size({"width": 390, "height": 844})  # the wider table scrolls in its box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="确认提交 2 笔申请（合计 7,000.00 元）").click()
    page.wait_for_url(page.base_url + reverse("funds:request_list") + "?state=requested")
    assert sorted(AssistanceRequest.objects.values_list("beneficiary_name", "tier")) == [
        ("黄一", "college"),
        ("黄高", "senior"),
    ]
