"""The 批量申请帮扶 page: the form, its preview (nothing written), the confirmation (the
requests, then the list of those awaiting approval), a second click, pasted numbers out of
scope, and the preview in English."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funds.models import AssistanceRequest, AssistanceStandard
from orgs.models import Organisation

D = Decimal
YEAR = timezone.localdate().year
URL = reverse("funds:request_batch")


@pytest.fixture
def county(filed, receive, standard):
    receive("100000.00", on=date(YEAR, 1, 2))
    standard("festival", year=YEAR, amount_cap=D("1000.00"), times_per_year=1)
    return [filed(worker_name="张一"), filed(worker_name="张二", bank_account="")]


def form_data(types, sources, **fields):
    return {
        "assistance_type": types["festival"].pk,
        "tier": "general",
        "source": sources["central"].pk,
        "amount": "",
        "requested_on": timezone.localdate().isoformat(),
        "reason": f"{YEAR}年春节送温暖",
        "organisation": "",
        "category": "",
        "cause": "",
        "status": "",
        "file_numbers": "",
        "preview_key": "",
        "action": "preview",
        **fields,
    }


def preview_key(response) -> str:
    return re.search(r'name="preview_key" value="([0-9a-f]{64})"', response.content.decode())[1]


def test_the_lists_link_to_the_batch_page(login, county):
    page = login("clerk_450102").get(reverse("funds:request_list")).content.decode()
    assert f'href="{URL}"' in page
    assert login("clerk_450102").get(URL).status_code == 200


def test_the_preview_writes_nothing_and_says_why_a_file_is_skipped(login, county, types, sources):
    ready, no_account = county
    response = login("clerk_450102").post(URL, form_data(types, sources))
    assert response.status_code == 200
    page = response.content.decode()
    assert AssistanceRequest.objects.count() == 0
    preview = response.context["preview"]
    assert [row.household for row in preview.creatable] == [ready]
    assert "跳过：档案未登记本人银行账号" in page
    assert "确认提交 1 笔申请（合计 1,000.00 元）" in page
    assert no_account.file_number in page


def test_the_preview_lists_the_skipped_first(login, county, types, sources):
    """Among hundreds of files that pass, the few skipped (what a clerk reads and fixes) were
    scattered in file-number order; they now come first."""
    ready, no_account = county
    assert ready.file_number < no_account.file_number
    response = login("clerk_450102").post(URL, form_data(types, sources))
    rows = response.content.decode().split('class="data batch-rows"')[1]
    assert rows.index(no_account.file_number) < rows.index(ready.file_number)


def test_the_page_opens_on_the_preview_and_confirms_under_its_totals(login, county, types, sources):
    """The preview under the long form was out of sight after 预览 (the page opened at the top,
    unchanged but for a new button), and its confirmation button stood above it, in the form."""
    page = login("clerk_450102").post(URL, form_data(types, sources)).content.decode()
    assert re.search(r'<h2 id="batch-preview" tabindex="-1" autofocus>', page)
    preview = page.index('id="batch-preview"')
    button = page.index('value="confirm"')
    assert page.index("合计金额（元）", preview) < button < page.index("batch-rows")
    assert re.search(r'<button[^>]*form="batch-form"[^>]*value="confirm"', page)
    assert 'id="batch-form"' in page


def test_confirm_creates_them_and_a_second_click_creates_nothing(
    login, county, types, sources, users
):
    ready, _no_account = county
    client = login("clerk_450102")
    previewed = client.post(URL, form_data(types, sources))
    confirm = form_data(types, sources, action="confirm", preview_key=preview_key(previewed))

    response = client.post(URL, confirm, follow=True)

    [request] = AssistanceRequest.objects.all()
    assert request.household == ready and request.requested_by == users["clerk_450102"]
    assert response.redirect_chain[-1][0] == reverse("funds:request_list") + "?state=requested"
    page = response.content.decode()
    assert "已提交 1 笔送温暖申请，合计 1,000.00 元，等待审批。" in page
    assert reverse("funds:request_detail", args=[request.pk]) in page

    again = client.post(URL, confirm)  # the same form sent again (a double click, Back)
    assert again.status_code == 200
    assert AssistanceRequest.objects.count() == 1
    page = again.content.decode()
    # In the preview the page opens on, not in the messages at its top.
    assert page.index('id="batch-preview"') < page.index("预览后情况有变化，未创建任何申请")
    assert "请勿重复提交" in page
    assert 'value="confirm"' not in page  # nothing left to confirm


def test_pasted_numbers_out_of_scope_are_line_errors(login, county, filed, types, sources):
    ready, _no_account = county
    theirs = filed(org="450103")
    pasted = f"{ready.file_number}\n{theirs.file_number}"
    response = login("clerk_450102").post(URL, form_data(types, sources, file_numbers=pasted))
    page = response.content.decode()
    assert f"第2行：没有档案编号为 {theirs.file_number} 的档案" in page
    assert theirs.worker_name not in page
    assert 'value="confirm"' not in page


def test_a_refused_form_names_its_field(login, county, types, sources):
    response = login("clerk_450102").post(URL, form_data(types, sources, reason=" "))
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert "preview" not in response.context


def test_the_preview_in_english(login, county, types, sources, settings, users):
    client = login("clerk_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(URL, form_data(types, sources))
    page = response.content.decode()
    assert "Skipped: " in page and "bank account" in page
    assert "Submit 1 request (1,000.00 yuan in all)" in page
    # No interface Chinese: only data typed in Chinese (names, the reason, organisations, user)
    data = [h.worker_name for h in county] + [f"{YEAR}年春节送温暖", "简体中文"]
    data += [o.name for o in Organisation.objects.all()] + [users["clerk_450102"].full_name]
    for text in sorted(data, key=len, reverse=True):
        page = page.replace(text, "")
    assert re.findall(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+", page) == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_preview_is_accessible(login, county, filed, types, sources, settings, language):
    """The crawl of tests/test_accessibility.py sees the empty form only: the preview, with
    its tables and line errors, is held to the same checks here."""
    from tests.test_accessibility import problems_of

    ready, _no_account = county
    client = login("clerk_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pasted = f"{ready.file_number}\nNOSUCH-1"
    response = client.post(URL, form_data(types, sources, file_numbers=pasted))
    assert response.context["preview"].errors
    assert problems_of(response.content.decode(), language, signed_in=True) == []


def test_the_page_asks_before_a_household_gets_the_type_twice_a_year(
    login, county, ask, types, sources
):
    AssistanceStandard.objects.filter(year=YEAR).update(times_per_year=None)  # no yearly limit
    ready, _no_account = county
    ask(ready, "600.00", kind="festival", on=date(YEAR, 1, 5))
    client = login("clerk_450102")
    page = client.post(URL, form_data(types, sources)).content.decode()
    assert "本年已有送温暖申请" in page and 'name="repeat"' in page
    page = client.post(URL, form_data(types, sources, repeat="on")).content.decode()
    assert "本年已有送温暖申请" not in page


@pytest.fixture
def schooling_round(filed, receive, standard, add_students):
    """The 金秋助学 round: a file with two university students, one with none."""
    receive("100000.00", on=date(YEAR, 1, 2))
    standard(
        "schooling",
        year=YEAR,
        tier="college",
        amount_cap=D("5000.00"),
        times_per_year=1,
        scope="person",
    )
    students = filed(worker_name="王大")
    add_students(students, "王一", "王二")
    return [students, filed(worker_name="李大")]


def schooling_data(types, sources, **fields):
    fields = {"tier": "college", **fields}
    return form_data(types, sources, assistance_type=types["schooling"].pk, **fields)


def test_the_preview_shows_a_row_per_student_under_the_household(
    login, schooling_round, types, sources
):
    students, none = schooling_round
    client = login("clerk_450102")
    response = client.post(URL, schooling_data(types, sources, reason="金秋助学"))
    page = response.content.decode()
    assert "受助成员" in page
    # the household's cells span its members' rows, each member a row of its own
    body = page.split('class="data batch-rows"')[1]
    household = body.index(students.file_number)
    assert 'rowspan="2"' in body[body.rindex("<tr", 0, household) : household]
    assert household < body.index("王一") < body.index("王二")
    assert "跳过：档案中没有就学阶段为大学（专科、本科）的成员。" in page
    assert "2 笔" in page and "（1 户）" in page
    assert "确认提交 2 笔申请（合计 10,000.00 元）" in page

    confirm = schooling_data(
        types, sources, reason="金秋助学", action="confirm", preview_key=preview_key(response)
    )
    client.post(URL, confirm)
    assert sorted(r.beneficiary_name for r in AssistanceRequest.objects.all()) == ["王一", "王二"]


def test_the_balance_shows_what_pending_requests_claim(login, county, filed, ask, types, sources):
    ask(filed(), "99500.00", kind="living", on=date(YEAR, 1, 5))  # waiting for approval
    page = login("clerk_450102").post(URL, form_data(types, sources)).content.decode()
    balances = page.split("资金来源可用余额")[1].split("</table>")[0]
    assert "待审批申请（元）" in balances and "全部批准后余额（元）" in balances
    # 100,000 available, 99,500 pending, 2,000 for the two files with a bank account
    assert "99,500.00" in balances and "-1,500.00" in balances
    assert "连同待审批的申请超出可用余额" in balances
    assert 'value="confirm"' in page  # a warning: the batch may still be requested


def test_the_per_person_preview_in_english(login, schooling_round, types, sources, settings, users):
    client = login("clerk_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(URL, schooling_data(types, sources, reason="金秋助学"))
    page = response.content.decode()
    assert "Beneficiary member" in page and "2 requests" in page and "(1 household)" in page
    assert "No member of the file is at school" in page
    data = [h.worker_name for h in schooling_round] + ["王一", "王二", "金秋助学", "简体中文"]
    data += [o.name for o in Organisation.objects.all()] + [users["clerk_450102"].full_name]
    for text in sorted(data, key=len, reverse=True):
        page = page.replace(text, "")
    assert re.findall(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+", page) == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_per_person_preview_is_accessible(
    login, schooling_round, types, sources, settings, language
):
    from tests.test_accessibility import problems_of

    client = login("clerk_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(URL, schooling_data(types, sources, reason="金秋助学"))
    assert response.context["preview"].per_person
    assert problems_of(response.content.decode(), language, signed_in=True) == []


@pytest.fixture
def stages_round(filed, receive, standard, add_students):
    """金秋助学 across stages: a 高中 and a 大学 tier; a file with a pupil, a senior and a
    university student."""
    receive("100000.00", on=date(YEAR, 1, 2))
    for tier, cap in (("senior", "2000.00"), ("college", "5000.00")):
        standard("schooling", year=YEAR, tier=tier, amount_cap=D(cap), scope="person")
    household = filed(worker_name="陈大")
    add_students(household, "陈小", stage="primary")
    add_students(household, "陈高", stage="senior")
    add_students(household, "陈一")
    return household


def test_the_batch_matches_each_students_tier_to_their_stage(login, stages_round, types, sources):
    client = login("clerk_450102")
    choices = client.get(URL).context["form"].fields["tier"].choices
    assert choices[:2] == [("general", "一般"), ("by_stage", "自动按就学阶段匹配档次")]
    data = schooling_data(types, sources, tier="by_stage", reason="金秋助学")
    response = client.post(URL, data)
    page = response.content.decode()
    totals = page.split("按档次合计")[1].split("</table>")[0]
    assert "高中、中职" in totals and "2,000.00" in totals and "5,000.00" in totals
    body = page.split('class="data batch-rows"')[1]
    # each member's row names their tier
    assert re.search(r"<td>陈高</td>\s*<td>高中、中职</td>", body)
    assert re.search(r"<td>陈一</td>\s*<td>大学（专科、本科）</td>", body)
    assert "跳过：陈小 的就学阶段为小学" in page
    assert "确认提交 2 笔申请（合计 7,000.00 元）" in page

    client.post(URL, {**data, "action": "confirm", "preview_key": preview_key(response)})
    assert sorted(AssistanceRequest.objects.values_list("beneficiary_name", "tier")) == [
        ("陈一", "college"),
        ("陈高", "senior"),
    ]


def test_the_by_stage_option_needs_tiers_by_stage(login, county):
    choices = login("clerk_450102").get(URL).context["form"].fields["tier"].choices
    assert "by_stage" not in [value for value, _label in choices]


def test_the_by_stage_preview_in_english(login, stages_round, types, sources, settings, users):
    client = login("clerk_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = schooling_data(types, sources, tier="by_stage", reason="金秋助学")
    page = client.post(URL, data).content.decode()
    assert "Each student's tier by their school stage" in page and "Totals per tier" in page
    data = ["陈大", "陈小", "陈高", "陈一", "金秋助学", "简体中文", users["clerk_450102"].full_name]
    data += [o.name for o in Organisation.objects.all()]
    for text in sorted(data, key=len, reverse=True):
        page = page.replace(text, "")
    assert re.findall(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+", page) == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_by_stage_preview_is_accessible(
    login, stages_round, types, sources, settings, language
):
    from tests.test_accessibility import problems_of

    client = login("clerk_450102")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    data = schooling_data(types, sources, tier="by_stage", reason="金秋助学")
    response = client.post(URL, data)
    assert response.context["preview"].by_stage
    assert problems_of(response.content.decode(), language, signed_in=True) == []
