"""The filing journey in a real browser, through the pages only: a clerk enters a file with a
member, uploads its documents, submits it, records the home survey, completes the review and
starts the public notice; after the notice has run a supervisor approves it and the file is on
file (在档)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from households.idnumbers import make_id_number
from households.models import DibaoStandard, Household
from tests.households.conftest import age_file

pytestmark = pytest.mark.browser


def test_clerk_files_and_supervisor_approves(browser_login, live_users):
    from orgs.models import Organisation

    today = timezone.localdate()
    DibaoStandard.objects.create(
        organisation=Organisation.objects.get(code="450000"),
        year=today.year,
        monthly_amount=Decimal("1000.00"),
    )
    worker_id = make_id_number("450102", date(1978, 5, 20), 317)
    spouse_id = make_id_number("450102", date(1980, 8, 2), 428)

    page = browser_login("clerk_450102")
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The list, then a new file with the worker and the spouse.
    page.get_by_role("link", name="困难职工档案").first.click()
    expect(page.locator("#list-total")).to_have_text("共 0 户", timeout=10_000)  # fetched after
    page.get_by_role("link", name="新建档案").click()
    # autofocus: applied once the page has loaded, which a busy machine may delay
    expect(page.locator("#id_worker_name")).to_be_focused(timeout=10_000)
    page.fill("#id_worker_name", "韦小宝")
    page.fill("#id_id_number", worker_id)
    page.fill("#id_members-0-monthly_income", "600")
    page.click("#add-member")
    page.select_option('select[name="members-1-relation"]', "spouse")
    page.fill('input[name="members-1-name"]', "李芳")
    page.fill('input[name="members-1-id_number"]', spouse_id)
    page.fill('input[name="members-1-monthly_income"]', "300")
    page.select_option("#id_primary_cause", label="因病")
    # The live check answers while typing: (600 + 300) ÷ 2 = 450 yuan, under the 1,000 line.
    # The answer to an earlier keystroke (the worker alone, 600 yuan) is also "ok", so wait
    # for the figure of the whole household rather than for the verdict.
    expect(page.locator("#preview")).to_contain_text("450.00", timeout=10_000)
    expect(page.locator("#preview .verdict-summary.ok")).to_be_visible()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/households/*/")
    assert "草稿" in page.locator("h1").inner_text()
    detail_url = page.url

    # Submitted without its documents, the file is refused naming what it lacks; its page
    # lists them (材料清单), and the clerk uploads each.
    expect(page.locator("#documents .checklist .missing")).to_have_count(5)
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text(
        "证明材料不全，请先上传：身份证复印件、户口簿复印件"
    )
    page.goto(detail_url)
    for kind in ("id_copy", "hukou", "income_proof", "bank_card", "diagnosis"):
        page.select_option("#id_kind", kind)
        if kind == "diagnosis":
            page.fill("#id_issued_on", (today - timedelta(days=20)).isoformat())
        scan = {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 scan"}
        page.set_input_files("#id_file", files=[scan])
        page.get_by_role("button", name="上传", exact=True).click()
        page.wait_for_url(detail_url + "#documents")
    expect(page.locator("#documents .checklist .missing")).to_have_count(0)

    page.get_by_role("button", name="提交申请").click()
    page.wait_for_load_state()
    assert "已申请" in page.locator("h1").inner_text()

    # No survey yet: the survey is the step offered first (the review would be refused).
    survey = page.locator("section.actions .primary")
    expect(survey).to_have_text("登记入户调查")
    survey.click()
    page.fill("#id_findings", "妻子患慢性病，家中无其他收入来源。")
    page.get_by_role("button", name="登记入户调查").click()
    page.wait_for_url(detail_url)  # the top: the message and the next step
    assert "妻子患慢性病" in page.locator("#surveys").inner_text()
    expect(page.locator("section.actions .primary")).to_have_text("完成审核（入户调查）")

    page.get_by_role("button", name="完成审核（入户调查）").click()
    page.wait_for_load_state()
    assert "已审核" in page.locator("h1").inner_text()

    page.get_by_role("link", name="开始公示").click()
    page.wait_for_url("**/households/notices/new/**")
    assert page.get_by_label("韦小宝").is_checked()  # this file is preselected
    # A notice cannot start before the review (today): dated back, it would skip its days.
    page.fill("#id_starts_on", (today - timedelta(days=30)).isoformat())
    page.fill("#id_objection_contact", "兴宁区总工会 0771-12351")
    page.get_by_role("button", name="开始公示").click()
    expect(page.locator(".field.has-error")).to_contain_text("公示开始日期不能早于")
    page.fill("#id_starts_on", today.isoformat())
    page.get_by_role("button", name="开始公示").click()
    page.wait_for_url(detail_url)
    assert "公示中" in page.locator("h1").inner_text()

    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/**")

    # Thirty days pass and the notice has run: the supervisor approves.
    age_file(Household.objects.get(worker_name="韦小宝"), 30)
    page = browser_login("supervisor_450102")
    page.goto(detail_url)
    approve = page.locator('form[data-action="approve"]')
    approve.locator("textarea").fill("经审核符合建档条件，同意建档。")
    approve.get_by_role("button", name="审批建档").click()
    page.wait_for_load_state()
    assert "在档" in page.locator("h1").inner_text()
    assert "审批建档" in page.locator("#timeline").inner_text()
    assert problems == []

    household = Household.objects.get(worker_name="韦小宝")
    assert household.status == "on_file"
    assert household.members.count() == 2
    assert household.surveys.count() == 1


def test_the_english_file_form_fits_a_laptop_screen(browser_login, live_users, make_household):
    """At 1366 px in English the edit page stays as wide as the screen: the live assessment's
    long labels once pushed its figures (and the page) 80 px past the edge. The members table
    fits its box too: its one-line English headings once made it scroll sideways by 240 px."""
    household = make_household()
    page = browser_login("clerk_450102")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.select_option("#language-select", "en")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    for path in (f"/households/{household.pk}/edit/", "/households/new/", "/households/"):
        page.goto(page.base_url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path
        if path != "/households/":
            members = page.locator("#members-table").locator("..")  # its scroll box
            assert members.evaluate("box => box.scrollWidth <= box.clientWidth"), path


def test_the_migrant_worker_answers_show_when_the_box_is_ticked(browser_login, live_users):
    """Union membership and labour relation are asked of a migrant worker: shown while 农民工 is
    ticked (household_form.js), hidden otherwise; an answer refused stays shown."""
    page = browser_login("clerk_450102")
    page.goto(page.base_url + "/households/new/")
    answers = [page.locator("#id_is_union_member"), page.locator("#id_labour_relation_since")]
    for answer in answers:
        expect(answer).to_be_hidden()
    page.check("#id_is_migrant_worker")
    for answer in answers:
        expect(answer).to_be_visible()
    page.uncheck("#id_is_migrant_worker")
    for answer in answers:
        expect(answer).to_be_hidden()
    page.check("#id_is_migrant_worker")
    page.fill("#id_worker_name", "韦小宝")
    page.fill("#id_id_number", make_id_number("450102", date(1978, 5, 20), 317))
    page.select_option("#id_primary_cause", label="因病")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    expect(page.locator(".field.has-error #id_is_union_member")).to_be_visible()
    expect(page.locator("#id_is_migrant_worker")).to_be_checked()
