"""The staff shell in a real browser: login, role navigation, language switch, tablet width."""

import pytest

pytestmark = pytest.mark.browser


def test_login_navigation_and_language(browser_login):
    page = browser_login("clerk_450102")
    assert page.locator("h1").inner_text() == "我的工作"
    assert "兴宁区总工会" in page.locator(".site-header").inner_text()
    assert page.locator("a", has_text="审核后台").count() == 0  # clerks do not use the admin
    page.select_option("#language-select", "en")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "My work"


def test_wrong_password_message(page):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "clerk_450102")
    page.fill("#id_password", "wrong")
    page.press("#id_password", "Enter")
    assert "正确的" in page.locator(".error-summary").inner_text()


def test_supervisor_sees_admin_link_and_page_fits_a_tablet(browser_login):
    page = browser_login("supervisor_450103")
    assert page.locator("a", has_text="审核后台").count() == 1
    page.set_viewport_size({"width": 768, "height": 1024})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768  # no horizontal scrolling on a tablet


def test_pages_fit_a_phone_screen(browser_login):
    """At 390 px no page is wider than the screen: wide tables scroll inside themselves (the
    member table once pushed the whole new-file form to 870 px, through its fieldset and the
    visually hidden labels that escaped an unpositioned scroll box)."""
    page = browser_login("clerk_450102")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/households/new/", "/households/", "/services/", "/funds/requests/"):
        page.goto(page.base_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_card_headings_start_at_the_cards_padding(browser_login):
    """The imports' (and service cases') cards once had an h2's top margin above their heading,
    twice the space of the other apps' cards: the rule lived in two apps' stylesheets only."""
    page = browser_login("clerk_450102")
    page.goto(page.base_url + "/imports/")
    offsets = page.locator(".card > h2:first-child").evaluate_all(
        "(headings) => headings.map((h) => h.getBoundingClientRect().top"
        " - h.parentElement.getBoundingClientRect().top)"
    )
    assert offsets and all(offset <= 18 for offset in offsets), offsets  # 16 px padding, border


def test_the_menu_takes_its_own_rows_on_a_phone(browser_login):
    """Beside the brand, the Chinese menu was a column of four rows at 390 px: the header took a
    quarter of the screen. It now starts under the brand, at the header's left edge."""
    page = browser_login("finance_450102")
    page.set_viewport_size({"width": 390, "height": 844})
    brand = page.locator(".brand").bounding_box()
    menu = page.locator(".main-nav").bounding_box()
    assert menu["y"] >= brand["y"] + brand["height"]
    assert menu["x"] <= brand["x"]


def test_the_english_menu_stays_on_one_row_beside_a_long_name(browser_login):
    """At 1366 px in English the region viewer's long name and role squeezed the menu into three
    rows beside them, Reports alone on the last: the name now goes to a row of its own."""
    page = browser_login("viewer_450000")
    page.select_option("#language-select", "en")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    page.set_viewport_size({"width": 1366, "height": 768})
    tops = page.locator(".main-nav a").evaluate_all(
        "(links) => links.map((link) => Math.round(link.getBoundingClientRect().top))"
    )
    assert len(tops) >= 5 and len(set(tops)) == 1, tops
