"""The staff pages on a phone (390 px) in English, whose labels and choices are the longest: form
controls stay inside their cards."""

import pytest

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
