"""Quick entry at the counter in headless Chromium, keyboard only: two visits of the same
worker; the second shows the first as an earlier case while the name is typed."""

import time
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_quick_entry_keyboard_only(browser_login, windows):
    from services.models import Case

    page = browser_login("clerk_450102")
    page.goto(page.base_url + "/services/new/")
    started = time.monotonic()

    # Focus starts in the name field: type, Tab to phone, Tab over the optional ID number,
    # pick window 4 (法律援助) by its number, Tab to the matter and press Enter to save.
    expect(page.locator("#id_worker_name")).to_be_focused(timeout=10_000)
    page.keyboard.type("陈建国")
    page.keyboard.press("Tab")
    page.keyboard.type("13900000002")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_window"
    page.keyboard.press("4")
    page.keyboard.press("Tab")
    page.keyboard.type("被拖欠工资三个月")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".error-summary").count() == 0, page.locator("#case-form").inner_text()
    assert "已登记：陈建国，法律援助。" in page.locator(".messages").inner_text()
    assert time.monotonic() - started < 30

    # The next worker at the counter: an empty form, focus in the name, the window remembered.
    expect(page.locator("#id_worker_name")).to_be_focused(timeout=10_000)
    assert page.input_value("#id_worker_name") == ""
    assert page.input_value("#id_window") == "legal_aid"

    # The same worker comes back: while the name is typed, the earlier case shows.
    page.keyboard.type("陈建国")
    hint = page.locator("#earlier-cases")
    hint.get_by_text("以往记录 1 件").wait_for()
    assert "被拖欠工资三个月" in hint.inner_text()
    assert "姓名相同" in hint.inner_text()
    page.keyboard.press("Tab")
    page.keyboard.type("13900000002")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("工资已追回部分，咨询后续")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已登记：陈建国" in page.locator(".messages").inner_text()

    cases = list(Case.objects.order_by("pk").values_list("worker_name", "window__code", "channel"))
    assert cases == [("陈建国", "legal_aid", "visit"), ("陈建国", "legal_aid", "visit")]


def test_an_id_number_typed_at_the_counter_never_goes_in_a_url(browser_login, live_users, windows):
    """The hint is posted (hx-post, with the form's CSRF token) and the case list's box is
    posted and answered with the keyed hash: no request the browser sends has the number in its
    URL, and the box shows the masked number after the search."""
    from services.models import Case
    from services.services import case_create
    from tests.services.conftest import id_number

    number = id_number()
    clerk = live_users["clerk_450102"]
    case_create(
        user=clerk,
        case=Case(
            organisation=clerk.organisation,
            window=windows["petition"],
            handler=clerk,
            worker_name="陈建国",
            worker_id_number=number,
            matter="咨询社保",
        ),
    )
    page = browser_login("clerk_450102")
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(page.base_url + "/services/new/")
    page.locator("#id_worker_id_number").press_sequentially(number)
    hint = page.locator("#earlier-cases")
    hint.get_by_text("身份证号码相同").wait_for()
    assert "咨询社保" in hint.inner_text()

    page.goto(page.base_url + "/services/")
    page.fill("#id_q", number)
    with page.expect_navigation():
        page.press("#id_q", "Enter")
    assert "idh=" in page.url
    expect(page.locator("#id_q")).to_have_value(f"{number[:6]}********{number[-4:]}")
    assert "咨询社保" in page.locator("table.data").inner_text()
    leaked = [url for url in urls if number[:17] in unquote(url)]
    assert not leaked, leaked
