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
