"""The staff pages on a phone (390 px) in English, whose labels and choices are the longest: form
controls stay inside their cards, and file numbers and dates stay whole in the tables that
scroll sideways."""

import pytest

from tests.conftest import BROKEN

pytestmark = pytest.mark.browser

# Every form control whose right edge lies past the content box (inside the padding) of its card.
CONTROLS_PAST_THEIR_CARD = """() => [...document.querySelectorAll('.card select, .card input')]
  .filter((control) => control.type !== 'hidden')
  .filter((control) => !control.closest('.visually-hidden, .table-scroll'))
  .filter((control) => {
    const card = control.closest('.card');
    const padding = parseFloat(getComputedStyle(card).paddingRight);
    return control.getBoundingClientRect().right > card.getBoundingClientRect().right - padding + 1;
  })
  .map((control) => control.name)"""

FILE_NUMBER_OR_DATE = r"\d{6}-\d{4}-\d{5}|\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?"


def in_english_on_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.select_option("#language-select", "en")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    return page


def test_form_controls_stay_inside_their_cards(browser_login, make_household):
    """The list's filters (a select as wide as its longest English choice: the sort order, the
    standing lists) and the file's upload form (a one-column grid as wide as its widest select
    or file input) once ran past their card's padding, up to its border."""
    household = make_household()
    page = in_english_on_a_phone(browser_login("clerk_450102"))
    for path in ("/households/", f"/households/{household.pk}/"):
        page.goto(page.base_url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(CONTROLS_PAST_THEIR_CARD) == [], path


def test_file_numbers_and_dates_stay_whole(browser_login, live_users, make_household):
    """A table squeezed to a phone's width broke 450102-2026-00001 and 2026-12-07 15:31 after
    their hyphens, over two or three lines; their cells now keep them on one line (the table
    scrolls sideways in its box instead)."""
    from services.models import Case, Window
    from services.services import case_create

    clerk = live_users["clerk_450102"]
    household = make_household()
    case = Case(
        organisation=clerk.organisation,
        window=Window.objects.first(),
        handler=clerk,
        worker_name="吴海燕",
        matter="咨询劳动合同续签问题",
        channel=Case.Channel.VISIT,
    )
    case_create(user=clerk, case=case)
    page = in_english_on_a_phone(browser_login("clerk_450102"))
    for path in ("/households/", f"/households/{household.pk}/", "/services/"):
        page.goto(page.base_url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(BROKEN, FILE_NUMBER_OR_DATE) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_wrapped_buttons_keep_a_gap(browser_login, make_household):
    """On a phone the file's buttons wrap under its name: the last row touched the card below.
    The imports page's two buttons wrap onto two lines in English: they touched each other."""
    household = make_household()
    page = in_english_on_a_phone(browser_login("clerk_450102"))
    page.goto(page.base_url + f"/households/{household.pk}/")
    tools = page.locator(".page-head .head-tools").bounding_box()
    below = page.locator(".page-head + *").bounding_box()
    assert below["y"] - (tools["y"] + tools["height"]) >= 8
    page.goto(page.base_url + "/imports/")
    template, upload = (box.bounding_box() for box in page.locator(".card .button").all()[:2])
    assert upload["y"] > template["y"]  # wrapped
    assert upload["y"] - (template["y"] + template["height"]) >= 4


def test_facts_leave_their_values_half_the_width(browser_login, make_household):
    """The file's facts in English: their long labels ("Dibao line (yuan per person per
    month)") took all but 70 px of the panel, and the values wrapped a word a line."""
    household = make_household()
    page = in_english_on_a_phone(browser_login("clerk_450102"))
    page.goto(page.base_url + f"/households/{household.pk}/")
    shares = page.locator("dl.facts").evaluate_all(
        """(lists) => lists.map((list) => {
          const value = list.querySelector('dd').getBoundingClientRect().width;
          return value / list.getBoundingClientRect().width;
        })"""
    )
    assert len(shares) >= 2 and min(shares) >= 0.4, shares
