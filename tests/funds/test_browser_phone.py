"""The funds pages on a phone (390 px) in a real browser."""

import pytest

pytestmark = pytest.mark.browser


def test_buttons_in_tables_keep_their_label_on_one_line(browser_login, receive):
    """The ledger's and the receipts' narrow last column broke the finance's 冲销 (reverse)
    button into one character a line."""
    receive("10000.00")
    page = browser_login("finance_450102")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/funds/ledger/", "/funds/receipts/"):
        page.goto(page.base_url + path)
        buttons = page.locator("table.data .button")
        assert buttons.count() >= 1, path
        for button in buttons.all():
            lines = button.evaluate(
                """(button) => {
                  const range = document.createRange();
                  range.selectNodeContents(button);
                  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
                }"""
            )
            assert lines == 1, (path, button.inner_text())


def test_a_request_page_fits_a_phone_in_english(browser_login, filed, ask, receive):
    """Its facts' labels take at most half the width on a phone; the file number beside them,
    kept on one line (an earlier system's, imported as it was), still widens its column rather
    than running past the card's padding (the demo's DEMO-450102-0000031 ran past the screen)."""
    receive("10000.00")
    request = ask(filed(file_number="XNQ-2019-KN-000123"), "500.00")
    page = browser_login("finance_450102")
    page.set_viewport_size({"width": 390, "height": 844})
    page.select_option("#language-select", "en")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    page.goto(page.base_url + f"/funds/requests/{request.pk}/")
    facts = page.locator("dl.facts").first
    assert "XNQ-2019-KN-000123" in facts.inner_text()
    assert facts.evaluate("(list) => list.scrollWidth <= list.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
