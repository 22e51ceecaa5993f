"""The admin in the staff pages' red (static/css/admin.css), readable in both of its themes: the
colours are read as the browser computes them, and each text is checked against its background
(WCAG contrast, at least 4.5:1)."""

import re

import pytest

pytestmark = pytest.mark.browser

# The text colour and the background colour of the first element matching each selector.
COLOURS = """(selectors) => selectors.map(([text, background]) => {
  const [ink, paper] = [text, background].map((selector) => document.querySelector(selector));
  if (!ink || !paper) throw new Error(`not on the page: ${text}, ${background}`);
  return [getComputedStyle(ink).color, getComputedStyle(paper).backgroundColor];
})"""


def luminance(colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", colour)[:3])

    def linear(channel):
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def read(page, pairs):
    return dict(zip(pairs, page.evaluate(COLOURS, [list(pair) for pair in pairs]), strict=True))


BUTTON = ".submit-row input[type=submit]:not(.default)"
SAVE_BUTTON = "input[type=submit].default"


@pytest.mark.parametrize(
    ("scheme", "chosen"), [("light", None), ("dark", None), ("light", "dark"), ("dark", "light")]
)
def test_the_admin_wears_the_staff_pages_red_and_stays_readable(browser_login, scheme, chosen):
    """The admin kept Django's blue header and buttons and its yellow site name (3.6:1 on the
    blue) beside the red staff pages. Its theme follows the system's (scheme) unless one is
    chosen with its toggle (kept in localStorage)."""
    page = browser_login("admin_450102")
    staff_red = page.evaluate(
        "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    page.emulate_media(color_scheme=scheme)
    page.goto(page.base_url + "/admin/orgs/user/")
    if chosen:
        page.evaluate("(theme) => localStorage.setItem('theme', theme)", chosen)
        page.reload()
        assert page.evaluate("document.documentElement.dataset.theme") == chosen
    colours = read(
        page,
        [
            ("#site-name a", "#header"),
            ("#user-tools", "#header"),
            ("div.breadcrumbs", "div.breadcrumbs"),
            ("div.breadcrumbs a", "div.breadcrumbs"),
            ("#changelist-filter h2", "#changelist-filter h2"),
            ("#changelist-filter li.selected a", "body"),
            ("#nav-sidebar caption a", "#nav-sidebar caption"),
            ("#nav-sidebar th[scope=row] a", "body"),
        ],
    )
    page.goto(page.base_url + "/admin/orgs/user/add/")
    page.wait_for_load_state("networkidle")  # no request left running into the teardown
    colours |= read(page, [(SAVE_BUTTON, SAVE_BUTTON), (BUTTON, BUTTON)])

    assert colours["#site-name a", "#header"][1] == staff_red
    assert colours[BUTTON, BUTTON][1] == staff_red
    ratios = {pair: round(contrast(*found), 2) for pair, found in colours.items()}
    assert {pair: ratio for pair, ratio in ratios.items() if ratio < 4.5} == {}
