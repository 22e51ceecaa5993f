"""Quick entry at the counter in headless Chromium, keyboard only: two visits of the same
worker; the second shows the first as an earlier case while the name is typed."""

import time

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
