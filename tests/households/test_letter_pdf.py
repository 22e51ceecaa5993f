"""The letter to the household (告知书) when its file closes or its application is refused:
the decision, its date and recorded reason, that it may apply again, a receipt to keep; in
Chinese whoever prints it; for the staff who handle files; every print logged."""

import pytest
from django.urls import reverse
from django.utils import timezone

from households import services
from orgs.models import AccessLog

from .test_notice_pdf import pdffonts, pdftotext


def long_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def flat(pdf: bytes) -> str:
    return "".join(pdftotext(pdf).split())


@pytest.fixture
def closed(make_household, walk, users):
    """close("exited" | "deregistered", reason=…): a file of 450102 put on file, then closed
    through a clerk's request and the supervisor's approval, today (it was filed today)."""

    def _close(kind, reason, **extra):
        household = walk(make_household(worker_name="韦建华"), "on_file")
        on = timezone.localdate()
        closure = services.closure_request(
            user=users["clerk_450102"],
            household=household,
            kind=kind,
            effective_date=on,
            reason=reason,
            **extra,
        )
        services.closure_decide(
            user=users["supervisor_450102"], closure=closure, approve=True, note="同意"
        )
        household.refresh_from_db()
        return household

    return _close


def letter_of(client, household):
    return client.get(reverse("households:letter_pdf", args=[household.pk]))


def test_an_exit_letter_says_when_why_and_that_the_household_may_apply_again(closed, login, users):
    household = closed("exited", "家庭月人均收入连续六个月高于低保标准")
    response = letter_of(login("clerk_450102"), household)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = flat(response.content)
    closed_on = household.current_period.closed_on
    for expected in (
        "困难职工家庭脱困告知书",
        "韦建华同志及家属",
        household.file_number,
        f"于{long_date(closed_on)}脱困撤档",
        "脱困依据：家庭月人均收入连续六个月高于低保标准",
        "可向所在基层工会或兴宁区总工会重新申请建档",
        "兴宁区总工会（盖章）",
        long_date(timezone.localdate()),
        "回执",
        "本人已收到《困难职工家庭脱困告知书》",
    ):
        assert expected in text, expected
    assert household.id_number not in text  # no personal number on a letter
    fonts = pdffonts(response.content)  # every glyph in the embedded, subset CJK font
    assert fonts and all(
        "Noto-Sans-CJK-SC" in row[0] and row[-5:-3] == ["yes", "yes"] for row in fonts
    )


def test_a_deregistration_letter_names_the_reason(closed, login):
    household = closed("deregistered", "迁往外省", deregistration_reason="moved")
    text = flat(letter_of(login("supervisor_450102"), household).content)
    assert "困难职工家庭档案注销告知书" in text
    assert "注销原因：迁出，迁往外省。" in text
    assert "同意" not in text  # the supervisor's note is the union's own, not the household's


def test_a_refused_application_is_told_why(make_household, walk, login, users):
    household = walk(make_household(worker_name="韦建华"), "applied")
    services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="reject",
        reason="家庭人均收入高于低保标准的两倍",
    )
    household.refresh_from_db()
    text = flat(letter_of(login("clerk_450102"), household).content)
    applied = household.current_period.applied_on
    assert "困难职工家庭建档申请结果告知书" in text
    assert f"您于{long_date(applied)}提出的困难职工家庭建档申请" in text
    assert "决定不予建档" in text and "不予建档原因：家庭人均收入高于低保标准的两倍" in text


def test_the_letter_is_chinese_for_an_english_reader(closed, login, users):
    household = closed("exited", "收入稳定")
    client = login("clerk_450102")
    client.post(reverse("set_language"), {"language": "en"})
    text = flat(letter_of(client, household).content)
    assert "困难职工家庭脱困告知书" in text and "重新申请建档" in text


def test_every_print_is_in_the_access_log(closed, login, users):
    household = closed("exited", "收入稳定")
    letter_of(login("clerk_450102"), household)
    entry = AccessLog.objects.get(action=AccessLog.Action.PRINT)
    assert entry.user == users["clerk_450102"]
    assert entry.target == f"households.Household:{household.pk}"
    assert "告知书" in entry.detail and household.file_number in entry.detail


def test_only_a_closed_or_refused_file_has_a_letter(make_household, walk, login):
    on_file = walk(make_household(), "on_file")
    client = login("clerk_450102")
    assert letter_of(client, on_file).status_code == 404
    page = client.get(reverse("households:detail", args=[on_file.pk])).content.decode()
    assert "打印告知书" not in page
    assert not AccessLog.objects.filter(action=AccessLog.Action.PRINT).exists()


@pytest.mark.parametrize(
    ("username", "status", "linked"),
    [
        ("clerk_450102", 200, True),
        ("supervisor_450102", 200, True),
        ("finance_450102", 403, False),  # reads files for payments, writes no letters
        ("viewer_450100", 403, False),  # an upper level reads, the county writes
        ("clerk_450103", 404, False),  # another county's file
    ],
)
def test_the_file_page_offers_the_letter_to_who_may_print_it(
    closed, login, username, status, linked
):
    household = closed("exited", "收入稳定")
    client = login(username)
    assert letter_of(client, household).status_code == status
    page = client.get(reverse("households:detail", args=[household.pk]))
    if page.status_code == 200:
        assert ("打印告知书" in page.content.decode()) is linked


def test_english_calls_it_a_letter_not_a_notice(closed, login):
    """English reads 公示 as "public notice" (a file "On notice", "Print notice sheet"): the
    letter to the household is called a letter, on the file page and in the file's name."""
    household = closed("exited", "收入稳定")
    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert "Print the letter to the household" in page
    assert "notice to the household" not in page
    disposition = letter_of(client, household)["Content-Disposition"]
    assert disposition == f'attachment; filename="letter-to-household-{household.file_number}.pdf"'
    # The access log says it in words.
    assert AccessLog.objects.get(action=AccessLog.Action.PRINT).detail == (
        f"{household.file_number} letter to the household"
    )
