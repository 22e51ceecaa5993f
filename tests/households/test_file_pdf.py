"""The household file form (打印档案表): the PDF the paper archive keeps, real text in the
embedded CJK font, ID and bank numbers masked unless the reader ticks 显示完整身份证号和银行账号
and may see them, printed only by those who may open the file, every print logged (with whether
the numbers were printed in full), long tables repeating their header on every page, in both
languages."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from households import services
from households.file_pdf import render_file_pdf
from households.models import Member
from households.services import MemberData
from orgs.models import AccessLog
from orgs.pii import mask_phone
from tests.funds.conftest import (  # noqa: F401 - fixtures
    ACCOUNT,
    approve,
    ask,
    filed,
    pay,
    receive,
    sources,
    types,
)

from .conftest import kept_members, new_id
from .test_notice_pdf import pdffonts, pdftotext

PAID_ON = date(2016, 6, 1)


def pages(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    return [page for page in pdftotext(pdf).split("\f") if page.strip()]


@pytest.fixture
def household(filed, receive, ask, approve, pay, users):  # noqa: F811
    """On file since 2016 with a bank account, a phone, a document, a survey and two payments
    of 2016 and one of 2017, plus one request not paid (which the form leaves out)."""
    household = filed(
        worker_name="韦建华",
        phone="13812345678",
        employer="南宁糖厂",
        responsible_staff=users["supervisor_450102"],
        responsible_chair="黄主席",
    )
    services.document_upload(
        user=users["clerk_450102"],
        household=household,
        kind="income_proof",
        upload=SimpleUploadedFile("收入证明.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    )
    receive("50000.00")
    receive("50000.00", on=date(2017, 1, 10), document_number="桂财行〔2017〕1号")
    for amount, day in (("500.00", PAID_ON), ("800.00", date(2016, 9, 1))):
        pay(approve(ask(household, amount, kind="living", on=day)))
    pay(approve(ask(household, "1200.00", kind="medical", on=date(2017, 3, 1))))
    ask(household, "333.00", kind="other", on=date(2017, 4, 1))  # requested, never paid
    household.refresh_from_db()
    return household


def url(household, *, full=False) -> str:
    address = reverse("households:file_pdf", args=[household.pk])
    return f"{address}?full_numbers=on" if full else address


def test_the_clerk_prints_the_whole_file_in_chinese(household, login, users):
    client = login("clerk_450102")
    response = client.get(url(household))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert household.file_number in response["Content-Disposition"]
    text = pdftotext(response.content)
    for expected in (
        "困难职工家庭档案表",
        "兴宁区总工会",  # organisation
        household.file_number,
        "2016-03-01",  # filing date
        "在档",  # status
        "增量",  # origin
        "韦建华",
        "南宁糖厂",
        "李芳",  # a member
        "配偶",
        "因病",  # primary cause
        "深度困难",  # category
        "符合建档条件",  # the verdict, with its reason
        "不高于当地低保标准",
        "÷ 12 ÷ 家庭人口 2 人",  # how the per-capita income was computed
        "收入证明",  # a document's kind, and its name
        "收入证明.pdf",
        "审批建档",  # the steps, with who took them
        "历史档案导入",
        str(users["clerk_450102"]),  # who approved the back-dated history
        str(users["supervisor_450102"]),  # the first responsible person
        "黄主席",  # the second
        "公示期 2016-02-05",
        "生活救助",  # the assistance paid, by year, with its source
        "中央财政",
        "2016-06-01",
        "1,300.00",  # 2016's total
        "1,200.00",
        "2,500.00",  # all of it
        "申请人签字",
        "基层工会意见",
        "县总工会审核意见",
        "打印人",
        "第 1 页",
    ):
        assert expected in text, expected
    assert "333.00" not in text  # the request not paid was not received
    # Numbers masked unless asked for (test_numbers_in_full_only_when_asked_and_allowed); the
    # phone as the file page shows it to the clerk.
    assert household.id_masked in text and household.id_number not in text
    assert household.bank_account_masked in text and ACCOUNT not in text
    spouse = household.members.get(relation=Member.Relation.SPOUSE)
    assert spouse.id_masked in text and spouse.id_number not in text
    assert "13812345678" in text


def test_every_glyph_is_in_the_embedded_cjk_font(household, login):
    pdf = login("clerk_450102").get(url(household)).content
    fonts = pdffonts(pdf)
    assert fonts
    for columns in fonts:
        assert "Noto-Sans-CJK" in columns[0], columns
        assert (columns[-5], columns[-4], columns[-3]) == ("yes", "yes", "yes"), columns
    text = pdftotext(pdf)
    assert "\ufffd" not in text  # no glyph that could not be mapped back to text
    assert re.search(r"[\u4e00-\u9fff]{6}", text)


@pytest.mark.parametrize(
    "username, may",
    [
        ("clerk_450102", True),
        ("supervisor_450102", True),
        ("finance_450102", True),
        ("viewer_450100", False),
        ("admin_450102", False),
    ],
)
@pytest.mark.parametrize("asked", [False, True])
def test_numbers_in_full_only_when_asked_and_allowed(household, login, username, may, asked):
    """Masked by default, as the roster; the tick box asks for them in full, and the server
    prints them so only for the roles that may reveal them (a role without the right that
    passes the parameter gets them masked, not an error)."""
    response = login(username).get(url(household, full=asked))
    assert response.status_code == 200
    text = pdftotext(response.content)
    full = asked and may
    spouse = household.members.get(relation=Member.Relation.SPOUSE)
    for number, masked in (
        (household.id_number, household.id_masked),
        (ACCOUNT, household.bank_account_masked),
        (spouse.id_number, spouse.id_masked),
    ):
        assert (number in text) is full, (username, asked, number)
        assert (masked in text) is not full, (username, asked, masked)
    # The phone as the file page shows it to them, asked or not.
    assert ("13812345678" in text) is may
    assert (mask_phone("13812345678") in text) is not may
    [log] = AccessLog.objects.filter(action=AccessLog.Action.PRINT)
    assert ("完整号码" in log.detail) is full


@pytest.mark.parametrize("value", ["on", "1", "true", "yes"])
def test_the_tick_reads_as_the_rosters(household, login, value):
    address = f"{url(household)}?full_numbers={value}"
    text = pdftotext(login("clerk_450102").get(address).content)
    assert household.id_number in text


@pytest.mark.parametrize("value", ["", "0", "false", "False"])
def test_an_unticked_box_prints_masked(household, login, value):
    address = f"{url(household)}?full_numbers={value}"
    text = pdftotext(login("clerk_450102").get(address).content)
    assert household.id_number not in text and household.id_masked in text


def test_render_file_pdf_enforces_the_right_itself(household, users):
    """The renderer, not only the view: full=True is no way round the role."""
    assert household.id_number not in pdftotext(render_file_pdf(household, users["clerk_450102"]))
    clerk = pdftotext(render_file_pdf(household, users["clerk_450102"], full=True))
    assert household.id_number in clerk and ACCOUNT in clerk
    viewer = pdftotext(render_file_pdf(household, users["viewer_450100"], full=True))
    assert household.id_number not in viewer and household.id_masked in viewer


def test_sections_follow_what_the_reader_may_read(household, login):
    """Finance reads the file and its money, not its documents nor its steps (as on the file
    page); the city's viewer reads all of them but the numbers."""
    finance = pdftotext(login("finance_450102").get(url(household)).content)
    assert "生活救助" in finance
    assert "收入证明.pdf" not in finance and "办理过程" not in finance
    viewer = pdftotext(login("viewer_450100").get(url(household)).content)
    assert "收入证明.pdf" in viewer and "办理过程" in viewer


def test_out_of_scope_and_anonymous_are_refused(household, login):
    assert login("clerk_450103").get(url(household)).status_code == 404
    assert login("supervisor_450103").get(url(household)).status_code == 404
    anonymous = login(None).get(url(household))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert not AccessLog.objects.filter(action=AccessLog.Action.PRINT).exists()


def test_every_print_is_in_the_access_log(household, login):
    login("clerk_450102").get(url(household, full=True))
    login("viewer_450100").get(url(household, full=True))  # asked, not allowed: masked
    login("clerk_450102").get(url(household))
    logs = AccessLog.objects.filter(action=AccessLog.Action.PRINT).order_by("id")
    assert [(log.user.username, log.target, log.organisation.code) for log in logs] == [
        ("clerk_450102", f"households.Household:{household.pk}", "450102"),
        ("viewer_450100", f"households.Household:{household.pk}", "450102"),
        ("clerk_450102", f"households.Household:{household.pk}", "450102"),
    ]
    # whether the numbers went out in full is said
    assert ["完整号码" in log.detail for log in logs] == [True, False, False]
    assert all(household.file_number in log.detail for log in logs)


def head_tools(client, household) -> str:
    page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    return page.split('class="head-tools')[1].split("</div>")[0]


def test_the_file_page_links_the_form_next_to_its_other_actions(household, login):
    """Who may see numbers in full prints from a small form with the roster's tick box (left
    unticked); the others get a plain link."""
    for username in ("clerk_450102", "supervisor_450102", "finance_450102"):
        tools = head_tools(login(username), household)
        form = tools.split("<form")[1].split("</form>")[0]
        assert 'method="get"' in form and f'action="{url(household)}"' in form, username
        assert re.search(r'<input type="checkbox" name="full_numbers"(?! checked)[^>]*>', form)
        assert "显示完整身份证号和银行账号" in form and "打印档案表" in form
    for username in ("viewer_450100", "admin_450102"):
        tools = head_tools(login(username), household)
        assert f'href="{url(household)}"' in tools and "打印档案表" in tools, username
        assert "full_numbers" not in tools and "显示完整身份证号和银行账号" not in tools


def test_the_file_page_offers_the_tick_in_english(household, login):
    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    tools = head_tools(client, household)
    assert "Print file form" in tools and "Show full ID and bank numbers" in tools


def test_the_admin_offers_the_form_on_the_change_page(household, login):
    client = login("supervisor_450102")
    change = client.get(reverse("admin:households_household_change", args=[household.pk]))
    pdf_url = reverse("admin:households_household_file_pdf", args=[household.pk])
    content = change.content.decode()
    assert f'href="{pdf_url}"' in content and f'href="{pdf_url}?full_numbers=on"' in content
    assert "打印档案表（完整号码）" in content
    masked = client.get(pdf_url)
    assert masked.status_code == 200 and masked["Content-Type"] == "application/pdf"
    assert household.id_number not in pdftotext(masked.content)
    assert household.id_number in pdftotext(client.get(f"{pdf_url}?full_numbers=on").content)
    logs = AccessLog.objects.filter(
        action=AccessLog.Action.PRINT, user__username="supervisor_450102"
    )
    assert ["完整号码" in log.detail for log in logs.order_by("id")] == [False, True]
    outsider = login("supervisor_450103")
    assert outsider.get(pdf_url).status_code == 404
    assert outsider.get(f"{pdf_url}?full_numbers=on").status_code == 404
    # The county's administrator does not see numbers in full: one link, and the other's
    # address prints masked all the same.
    admin = login("admin_450102")
    content = admin.get(reverse("admin:households_household_change", args=[household.pk]))
    assert f'href="{pdf_url}"' in content.content.decode()
    assert "full_numbers" not in content.content.decode()
    admin_text = pdftotext(admin.get(f"{pdf_url}?full_numbers=on").content)
    assert household.id_masked in admin_text and household.id_number not in admin_text


def test_a_long_file_repeats_its_table_headers(household, users, ask, approve, pay):  # noqa: F811
    members = kept_members(household) + [
        MemberData(
            relation="child",
            name=f"韦子{i}",
            id_number=new_id(2004),
            monthly_income=Decimal("0.00"),
        )
        for i in range(14)
    ]
    services.household_update(
        user=users["clerk_450102"],
        household=household,
        members=members,
        secondary_causes=[],
        reason="新增家庭成员",
    )
    for i in range(40):
        pay(approve(ask(household, f"{10 + i}.00", kind="festival", on=date(2018, 1, 2 + i % 20))))
    household.refresh_from_db()
    text = pages(render_file_pdf(household, users["clerk_450102"]))
    assert len(text) > 1
    # the assistance table runs over a page break: its header row is printed again
    header = re.compile(r"年度\s+帮扶项目\s+金额（元）\s+发放日期\s+资金来源")
    assert sum(bool(header.search(page)) for page in text) >= 2
    assert len(re.findall(header, "\n".join(text))) >= 2
    last = len(text)
    assert f"第 {last} 页，共 {last} 页" in text[-1]
    assert f"第 1 页，共 {last} 页" in text[0]


def test_the_form_is_printed_in_english_for_an_english_reader(household, login, users):
    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    text = pdftotext(client.get(url(household)).content)
    for expected in (
        "Hardship worker household file form",
        "File number",
        "Household members",
        "Spouse",
        "Eligible for filing",
        "÷ 12 ÷ 2 persons = 300.00 yuan",
        "Living aid",
        "Central government funds",
        "Signature of the applicant",
        "Review opinion",
        "Printed by",
        "Page 1 of",
        "韦建华",  # stored names as stored
    ):
        assert expected in text, expected
    # The only Chinese is what was stored: names, the employer, the bank, an uploaded file's
    # name, a reason typed in a step (a line break may split a name, so by character).
    stored = [household.organisation.name, household.worker_name, household.employer]
    stored += [household.bank_name, household.responsible_chair, "收入证明.pdf", "历史档案导入"]
    stored += [m.name for m in household.members.all()]
    stored += [str(users["clerk_450102"]), str(users["supervisor_450102"])]
    stored += [household.current_period.notice.title]  # the notice as it was posted
    chinese = set(re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", text))
    assert chinese <= set("".join(stored)), sorted(chinese - set("".join(stored)))


def test_a_reopened_file_prints_its_new_filing_period(household, users):
    """A closed file still prints (its paper original is kept ten years), with the steps and the
    assistance of its period; reopened (返困), it prints the new period's, not the old ones."""
    clerk, supervisor = users["clerk_450102"], users["supervisor_450102"]
    closure = services.closure_request(
        user=clerk,
        household=household,
        kind="deregistered",
        deregistration_reason="moved",
        effective_date=timezone.localdate(),
        reason="迁往外省",
    )
    services.closure_decide(user=supervisor, closure=closure, approve=True, note="同意")
    household.refresh_from_db()
    closed = pdftotext(render_file_pdf(household, clerk))
    assert "注销（退档）" in closed and "迁往外省" in closed and str(supervisor) in closed
    assert "生活救助" in closed and "2,500.00" in closed

    services.transition_apply(
        user=clerk, household=household, action="reopen", reason="再次因病致困"
    )
    household.refresh_from_db()
    text = pdftotext(render_file_pdf(household, clerk))
    assert "返困" in text and "第2次建档" in text
    assert "重新申请" in text and "再次因病致困" in text
    assert "审批建档" not in text and "迁往外省" not in text  # the earlier period's steps
    assert "生活救助" not in text and "本次建档以来尚未享受帮扶。" in text


def test_a_facts_row_never_splits_across_pages(household, users):
    """A label and its value stay on one page (the archive reads a page on its own), wherever
    the page break falls: the income and category rows are tried at several positions."""
    clerk = users["clerk_450102"]
    members = kept_members(household)
    for i in range(5):
        members.append(
            MemberData(
                relation="child",
                name=f"韦子{i}",
                id_number=new_id(2004),
                monthly_income=Decimal("0.00"),
            )
        )
        services.household_update(
            user=clerk, household=household, members=members, secondary_causes=[], reason="新增成员"
        )
        household.refresh_from_db()
        with translation.override("en"):
            text = pages(render_file_pdf(household, clerk))
        for label, value in (("How computed", " persons = "), ("Primary cause", "Illness")):
            assert [label in page for page in text] == [value in page for page in text], (i, label)


def test_the_notice_and_its_objections_are_on_the_form(walk, make_household, users):
    """The notice period and every objection raised during it, with how it was decided (the
    paper trail of 公示 that the approval rests on), to those who read objections on the file
    page; the notice dates to every reader."""
    household = walk(make_household(), "notice")
    notice = household.current_period.notice
    objection = services.objection_record(
        user=users["clerk_450102"],
        household=household,
        raised_by="邻居王某",
        raised_on=notice.ends_on,
        content="该户有两套住房",
    )
    services.objection_resolve(
        user=users["supervisor_450102"],
        objection=objection,
        outcome="dismissed",
        finding="只有一套住房",
    )
    walk(household, "on_file")
    household.refresh_from_db()
    period = f"{notice.starts_on.isoformat()} 至 {notice.ends_on.isoformat()}"
    text = pdftotext(render_file_pdf(household, users["clerk_450102"]))
    for expected in (
        "公示与异议",
        period,
        "邻居王某",
        "该户有两套住房",
        "异议不成立",
        "只有一套住房",
    ):
        assert expected in text, expected
    assert str(users["supervisor_450102"]) in text.split("公示与异议")[1]
    finance = pdftotext(render_file_pdf(household, users["finance_450102"]))
    assert period in finance and "邻居王某" not in finance
    with translation.override("en"):
        english = pdftotext(render_file_pdf(household, users["clerk_450102"]))
    assert "Public notice and objections" in english and "Dismissed" in english


def test_a_notice_without_objections_says_so(walk, make_household, users):
    household = walk(make_household(), "on_file")
    text = pdftotext(render_file_pdf(household, users["clerk_450102"]))
    assert "公示期间无异议。" in text.split("公示与异议")[1]


def test_a_closed_file_says_when_and_why_at_its_head(household, users):
    """Deregistered: the closing date at the head for every reader (as the filing date), and
    the reason with it for those who may read the file's steps."""
    closed_on = timezone.localdate() - timedelta(days=3)
    closure = services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="deregistered",
        deregistration_reason="moved",
        effective_date=closed_on,
        reason="迁往外省",
    )
    services.closure_decide(
        user=users["supervisor_450102"], closure=closure, approve=True, note="同意"
    )
    household.refresh_from_db()
    head = pdftotext(render_file_pdf(household, users["clerk_450102"])).split("基本信息")[0]
    for expected in ("注销", "关闭日期", closed_on.isoformat(), "关闭原因", "迁出", "迁往外省"):
        assert expected in head, expected
    finance = pdftotext(render_file_pdf(household, users["finance_450102"])).split("基本信息")[0]
    assert closed_on.isoformat() in finance and "迁往外省" not in finance
    with translation.override("en"):
        english = pdftotext(render_file_pdf(household, users["clerk_450102"]))
    assert "Closed on" in english and "Reason for" in english  # the label may wrap


def test_an_open_file_has_no_closing_rows(household, users):
    head = pdftotext(render_file_pdf(household, users["clerk_450102"])).split("基本信息")[0]
    assert "关闭日期" not in head and "关闭原因" not in head


def test_member_names_are_not_broken_in_english(household, users):
    """The English headers are longer than the Chinese: a three-character name still stays on
    one line rather than breaking after its second character."""
    with translation.override("en"):
        text = pdftotext(render_file_pdf(household, users["clerk_450102"]))
    members = text.split("Household members")[1].split("Income")[0]
    for member in household.members.all():
        assert member.name in members, member.name


def test_a_survey_step_reads_as_one_survey_in_english(household, users):
    services.survey_record(
        user=users["clerk_450102"],
        household=household,
        surveyed_on=timezone.localdate(),
        surveyors="王录入员",
        findings="家中有重病患者",
        incomes={},
    )
    household.refresh_from_db()
    with translation.override("en"):
        text = pdftotext(render_file_pdf(household, users["clerk_450102"]))
    steps = text.split("Steps taken")[1].split("Assistance received")[0]
    assert re.search(r"Home survey\s+Verified monthly per-capita income", steps)
    assert "Home surveys" not in steps


def test_yes_and_no_are_capitalised_as_a_form_value_in_english(household, users):
    with translation.override("en"):
        text = pdftotext(render_file_pdf(household, users["clerk_450102"]))
    assert re.search(r"Migrant worker\s+(Yes|No)\s", text)
    assert re.search(r"Model worker\s+(Yes|No)\s", text)
